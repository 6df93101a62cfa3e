"""The import baseline: a plain single-process loop that reads every ticket file and parses its
frontmatter with PyYAML's C loader, and nothing else (no validation, no ledger).

    python scripts/benches/yaml_baseline.py FOLDER

Prints the number of files and of frontmatter blocks parsed, so the bench can check the work was done.
"""

from __future__ import annotations

import os
import sys

import yaml


def parse_all(folder: str) -> tuple[int, int]:
    """(files read, frontmatter blocks parsed) for every `.md` file under `folder`."""
    files = parsed = 0
    for top, _dirs, names in os.walk(folder):
        for name in names:
            if not name.endswith(".md"):
                continue
            with open(os.path.join(top, name), encoding="utf-8") as handle:
                text = handle.read()
            files += 1
            if not text.startswith("---"):
                continue
            end = text.find("\n---", 3)
            if end < 0:
                continue
            yaml.load(text[3:end], Loader=yaml.CSafeLoader)
            parsed += 1
    return files, parsed


if __name__ == "__main__":
    files, parsed = parse_all(sys.argv[1])
    print(f"{files} {parsed}")

"""docs/formats.md and docs/configuration.md say what the code does: tables checked against it."""

from __future__ import annotations

import re

import pytest

from taskdist.config import SECTIONS, EffortConfig, LedgerConfig, LimitsConfig, SkillsConfig, WeightsConfig
from taskdist.tickets import normalize as nz
from tests.conftest import ROOT

FlatSection = EffortConfig | WeightsConfig | LimitsConfig | LedgerConfig

FORMATS = (ROOT / "docs/formats.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")


def table_row(text: str, first_cell: str) -> str:
    match = re.search(rf"^\| {re.escape(first_cell)} \|(.*)\|$", text, re.MULTILINE)
    assert match, f"no table row for {first_cell}"
    return match.group(1)


def test_status_table_lists_every_spelling_the_code_knows() -> None:
    for word, status in nz._STATUS_WORDS.items():
        row = table_row(FORMATS, f"`{status.value}`")
        assert re.search(rf"(?<![\w']){re.escape(word)}(?![\w'])", row), f"{word} missing from the {status} row"


def test_priority_table_lists_every_label_the_code_knows() -> None:
    for word, priority in nz._PRIORITY_WORDS.items():
        row = table_row(FORMATS, f"`{priority.value}`").lower()
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", row), f"{word} missing from the {priority} row"


@pytest.mark.parametrize(
    ("section", "cls"),
    [("effort", EffortConfig), ("weights", WeightsConfig), ("limits", LimitsConfig), ("ledger", LedgerConfig)],
)
def test_configuration_documents_each_key_with_its_default(section: str, cls: type[FlatSection]) -> None:
    default = cls()
    for name in cls._fields:
        row = table_row(CONFIGURATION, f"`{section}.{name}`")
        value = getattr(default, name)
        shown = {f"{value:g}", f"{value:.1f}", f"{value:.2f}", str(value)}
        assert any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", row) for v in shown), (section, name, row)


def test_configuration_documents_the_skills_section_and_names_every_section() -> None:
    for name in SkillsConfig._fields:
        table_row(CONFIGURATION, f"`skills.{name}`")
    for tag, targets in SkillsConfig().map.items():
        assert f"{tag}: {targets[0]}" in CONFIGURATION
    for section in SECTIONS:
        # A new section gets a row in the "Later sections" table of docs/configuration.md.
        assert f"`{section}`" in CONFIGURATION, f"docs/configuration.md does not list the `{section}` section"

"""`json.dumps(text)` for one string, without importing the `json` package.

Importing `json` loads its decoder, and the decoder loads `re` (with `enum`): about 4.5 ms, close to
a tenth of a re-import that finds nothing to do. Such a re-import writes JSON (its `--format json`
report) but reads none, so the modules on its path quote strings with json's own C function, from
`_json`, the accelerator module `json.encoder` takes it from; they import `json` only inside the
functions that decode or encode whole documents.
"""

from __future__ import annotations

try:
    from _json import encode_basestring_ascii as quote_ascii
except ImportError:  # an interpreter without json's C accelerator: json's pure-Python version
    from json.encoder import encode_basestring_ascii as quote_ascii

__all__ = ["quote_ascii"]

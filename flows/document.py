"""Load the flow document schema and produce the canonical form of a document.

The schema lives in a JSON file rather than in Python so that other tools (the editor, API
clients, documentation) can use exactly the schema the server enforces.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).parent / "schema" / "flow-document.schema.json"


@lru_cache(maxsize=1)
def document_schema() -> dict:
    """Return the flow document JSON Schema (draft 2020-12)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def document_validator() -> Draft202012Validator:
    """Return the validator for whole documents, built once per process."""
    return Draft202012Validator(document_schema())


def canonical_json(document: object) -> str:
    """Serialise `document` with sorted keys and no whitespace.

    Two documents that differ only in key order or formatting serialise identically, so the
    app can tell a no-op save from a real change (and not publish a new version for it).
    Raises ValueError for values JSON cannot represent (NaN, infinity); validate() reports
    those as problems first.
    """
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

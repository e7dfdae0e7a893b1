"""Hold the identifier patterns shared by the document schema, node schemas and messages.

One place for each regular expression keeps the JSON Schema file, the node config schemas and
the human-readable hints in error messages from drifting apart (a test checks the schema file).
"""

from __future__ import annotations

NODE_OR_EDGE_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
TRIGGER_KEY = r"^[a-zA-Z0-9_-]{1,64}$"
INPUT_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
BRANCH_PORT = r"^[a-z][a-z0-9_]{0,31}$"

# Completes the sentence "<field> ..." when a value does not match the pattern.
HINTS: dict[str, str] = {
    NODE_OR_EDGE_ID: "must start with a letter and contain only letters, digits, '-' and '_' "
                     "(at most 64 characters)",
    TRIGGER_KEY: "must be 1 to 64 letters, digits, '-' or '_'",
    INPUT_NAME: "must start with a letter or '_' and contain only letters, digits and '_' "
                "(at most 64 characters)",
    BRANCH_PORT: "must start with a lowercase letter and contain only lowercase letters, digits "
                 "and '_' (at most 32 characters)",
}

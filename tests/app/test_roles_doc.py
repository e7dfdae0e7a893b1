"""docs/roles.md's table is the enforced one: the test reads it and compares it with app.permissions.

Why: the table people read and the one every route checks must not drift; a change to either
fails here until both say the same.
"""

from __future__ import annotations

import re

from app.models import Role, Scope
from app.permissions import KEY_PERMISSIONS, PERMISSION_WORDS, ROLE_PERMISSIONS, Permission
from tests.conftest import ROOT

COLUMNS = ["What you can do", "Viewer", "Editor", "Owner", "API key (by scope)"]


def _table() -> list[list[str]]:
    lines = [line.strip() for line in (ROOT / "docs" / "roles.md").read_text().splitlines()]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    assert rows[0] == COLUMNS, rows[0]
    assert set("".join(rows[1])) <= set("-: "), "the second line separates the header"
    return rows[2:]


def test_the_documented_role_table_is_the_enforced_one():
    by_words = {words: permission for permission, words in PERMISSION_WORDS.items()}
    documented = {role: set() for role in Role}
    seen = []
    for what, *answers in _table():
        assert what in by_words, f"'{what}' is not one of PERMISSION_WORDS"
        permission = by_words[what]
        seen.append(permission)
        for role, answer in zip((Role.VIEWER, Role.EDITOR, Role.OWNER), answers):
            assert answer in ("Yes", "No"), answer
            if answer == "Yes":
                documented[role].add(permission)
    assert sorted(seen) == sorted(Permission), "each permission is one row, once"
    assert documented == {role: set(allowed) for role, allowed in ROLE_PERMISSIONS.items()}


def test_the_api_key_column_names_real_scopes_for_what_keys_may_do():
    by_words = {words: permission for permission, words in PERMISSION_WORDS.items()}
    for what, *_, key_column in _table():
        permission = by_words[what]
        if permission not in KEY_PERMISSIONS:
            assert key_column == "No", (what, key_column)
            continue
        scopes = re.findall(r"`([^`]+)`", key_column)
        assert scopes, f"name the scope(s) that let a key {what.lower()}"
        assert {Scope(scope) for scope in scopes}  # each is a real scope value


def test_the_readme_links_the_roles_page():
    assert "(docs/roles.md)" in (ROOT / "README.md").read_text()

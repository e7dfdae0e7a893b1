"""Field-by-field comparison of two documents: paths, titles, lists that grow, unknown node types."""

from __future__ import annotations

import copy

from app.services.versions.version_compare import compare_documents
from tests.app.flowdocs import greeting_flow


def _node(document: dict, node_id: str) -> dict:
    return next(n for n in document["nodes"] if n["id"] == node_id)


def test_a_list_that_grows_lists_each_new_item_with_its_position():
    after = copy.deepcopy(greeting_flow())
    _node(after, "start")["config"]["inputs"].append({"name": "mood", "type": "string"})
    changed = compare_documents(greeting_flow(), after)["changed"]
    assert [c["node_id"] for c in changed] == ["start"]
    (field,) = changed[0]["fields"]
    assert field["path"] == "config.inputs[3]" and field["before"] is None
    assert field["after"] == {"name": "mood", "type": "string"}
    assert field["title"] == "Input 4"  # as the start node's form names the fourth input


def test_a_value_that_changes_kind_is_one_field_and_a_removed_key_has_no_after():
    after = copy.deepcopy(greeting_flow())
    _node(after, "greet")["config"]["template"] = {"oops": True}
    del _node(after, "api")["name"]
    fields = {c["node_id"]: c["fields"] for c in compare_documents(greeting_flow(), after)["changed"]}
    assert fields["greet"] == [{"path": "config.template", "title": fields["greet"][0]["title"],
                                "before": greeting_flow()["nodes"][3]["config"]["template"], "after": {"oops": True}}]
    assert fields["api"] == [{"path": "name", "title": "Name", "before": "REST", "after": None}]


def test_a_node_of_an_unknown_type_still_compares_with_plain_paths():
    before = {"nodes": [{"id": "x", "type": "mystery", "config": {"a": 1}}], "edges": []}
    after = {"nodes": [{"id": "x", "type": "mystery", "config": {"a": 2}}], "edges": []}
    diff = compare_documents(before, after)
    assert diff["changed"][0]["name"] == "mystery"
    assert diff["changed"][0]["fields"] == [{"path": "config.a", "title": "Settings › a", "before": 1, "after": 2}]


def test_malformed_documents_compare_without_raising():
    odd = {"nodes": ["not a node", {"id": "a", "type": "reply"}], "edges": [None, {"source": "a"}]}
    diff = compare_documents(None, odd)
    assert [n["node_id"] for n in diff["added"]] == ["a"] and len(diff["edges_added"]) == 1
    assert compare_documents(odd, odd)["changed"] == []

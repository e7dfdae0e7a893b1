"""The version history's summary of what changed between two documents."""

from __future__ import annotations

import copy

from app.services.versions.version_diff import diff_versions
from tests.app.flowdocs import greeting_flow, with_reply_text, without_node


def test_first_version_adds_every_node():
    diff = diff_versions(None, greeting_flow())
    assert len(diff.added) == 7 and diff.edges_added == 6
    assert diff.describe().startswith("7 nodes added")


def test_changed_removed_and_moved_nodes_are_told_apart():
    before = greeting_flow()
    after = without_node(with_reply_text(before, "new text"), "manual")
    after["nodes"][1]["position"] = {"x": 999, "y": 999}  # start only moved
    diff = diff_versions(before, after)
    assert diff.changed == ["reply"] and diff.removed == ["manual"] and diff.moved == ["start"]
    assert diff.edges_removed == 1
    assert diff.describe() == "1 node removed (Run now); 1 node changed (Answer); connections +0 −1"


def test_only_moving_nodes_says_so():
    after = copy.deepcopy(greeting_flow())
    after["nodes"][0]["position"] = {"x": 5, "y": 5}
    assert diff_versions(greeting_flow(), after).describe() == "1 node moved"

"""Build small flow documents for the engine tests."""

from __future__ import annotations


def chain(*nodes: dict) -> dict:
    """Return a flow whose nodes run one after the other, each node's "out" port to the next one's "in"."""
    return {"schema_version": 1, "name": "t", "nodes": list(nodes), "edges": [
        {"id": f"e{index}", "source": source["id"], "source_port": "out", "target": target["id"], "target_port": "in"}
        for index, (source, target) in enumerate(zip(nodes, nodes[1:]), start=1)]}

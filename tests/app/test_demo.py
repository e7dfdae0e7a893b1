"""The demo workspace publishes every example flow, though the examples name credentials it lacks."""

from __future__ import annotations

import json

from app.demo import EXAMPLES, PLACEHOLDER_SECRET, bootstrap_demo


def test_every_example_is_published_with_placeholder_credentials_it_names(app):
    from app.extensions import db
    from app.models import Flow
    from app.services.workspaces import credentials

    with app.app_context():
        lines = bootstrap_demo(app)
        db.session.commit()
        names = {json.loads(path.read_text())["name"] for path in EXAMPLES.glob("*.json")}
        published = {flow.name: flow.latest_version for flow in db.session.execute(db.select(Flow)).scalars()}
        assert {name: published.get(name) for name in names} == {name: 1 for name in names}
        made = {c.name for c in credentials.list_credentials(db.session.execute(db.select(Flow)).scalars().first()
                                                             .workspace_id)}
        assert {"openai", "status-api"} <= made
        assert any("placeholder" in line and "openai" in line for line in lines)
        assert credentials.resolver(db.session.execute(db.select(Flow)).scalars().first().workspace_id)(
            "openai")["value"] == PLACEHOLDER_SECRET

        again = bootstrap_demo(app)  # a second start creates nothing new
        assert not any("placeholder" in line for line in again)

"""The CLI commands automation relies on, run as real `flask --app wsgi …` processes."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.app.flowdocs import greeting_flow
from tests.conftest import ROOT


def flask(stack, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_user_key_and_flow_import_work_together(app, stack, client, tmp_path):
    created = flask(stack, "create-user", "Ana@Example.com", "--password", "s3cret-pass", "--workspace", "Ops")
    assert "Created user ana@example.com" in created.stdout
    key = flask(stack, "create-api-key", "--workspace", "Ops", "--name", "ci").stdout.strip().splitlines()[-1]
    assert key.startswith("sbk_")

    path = tmp_path / "flow.json"
    path.write_text(json.dumps(greeting_flow()))
    imported = flask(stack, "import-flow", str(path), "--workspace", "Ops").stdout.strip().splitlines()
    flow_id = imported[-1]
    assert any("secret (shown only now): sbt_" in line for line in imported)

    response = client.get(f"/api/v1/flows/{flow_id}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert {t["key"] for t in response.json["triggers"] if t["key"]} == {"hello"}


def test_cli_errors_are_clear_and_change_nothing(app, stack, tmp_path):
    missing = flask(stack, "create-api-key", "--workspace", "Nope", "--name", "x", check=False)
    assert missing.returncode != 0 and "No workspace named 'Nope'" in missing.stderr
    short = flask(stack, "create-user", "a@b.c", "--password", "short", "--workspace", "W", check=False)
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    flask(stack, "create-user", "a@b.c", "--password", "long enough", "--workspace", "W")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [{"id": "x", "type": "warp_drive"}], "edges": []}))
    refused = flask(stack, "import-flow", str(bad), "--workspace", "W", check=False)
    assert refused.returncode != 0 and "not imported" in refused.stderr and "x:" in refused.stderr

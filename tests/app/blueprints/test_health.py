"""Probes: /healthz says the process is up; /readyz says whether the database and Redis answer."""

from __future__ import annotations


def test_healthz_and_readyz_when_everything_is_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_unreachable(stack, monkeypatch):
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from app import create_app

    response = create_app({"TESTING": True}, instance_path=str(stack.instance_path)).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("unavailable")


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json
    assert response.json["request_id"]


def test_database_down_is_503_json_on_triggers_and_in_readyz(stack, monkeypatch):
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://switchboard@127.0.0.1:1/nothing")  # nothing listens there
    from app import create_app

    client = create_app({"TESTING": True}, instance_path=str(stack.instance_path)).test_client()
    response = client.post("/hooks/abc/some-key", json={"user_message": "x"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("unavailable")
    assert ready.json["checks"]["redis"] == "ok"
    assert client.get("/healthz").status_code == 200


def test_the_favicon_is_served_and_every_page_links_it(client, auth):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    page = client.get("/flows").get_data(as_text=True)
    svg = page.split('<link rel="icon" href="')[1].split('"')[0]
    assert client.get(svg).status_code == 200 and client.get(svg).mimetype == "image/svg+xml"
    assert client.get("/login").status_code == 200 and 'rel="icon"' in client.get("/login").get_data(as_text=True)

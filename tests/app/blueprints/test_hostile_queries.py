"""Query strings a client crafted: the runs lists (API and page) and the triggers list answer a
400 that names the parameter and says what to send, never a 500 and never a silent default."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.app.runsetup import Flows, bearer

# Text that str.isdigit() or int() takes for a number although it is not 0-9 (see app.digits).
NOT_ASCII_NUMBERS = ["²", "¹²", "١", "𝟏", "１", "+5", "1_0", " 5x", "9" * 40]


@pytest.fixture
def flow(client, api_key):
    flows = Flows(client, api_key)
    made = flows.publish()
    flows.call(made, "hello")
    return made


def _get(client, api_key, path: str, name: str, value: str):
    return client.get(f"{path}?{name}={quote(value)}", headers=bearer(api_key))


def _refused(response, field: str, code: str = "invalid_filter") -> str:
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:300])
    error = response.json["error"]
    assert error["code"] == code and error["details"][0]["field"] == field, error
    assert field in error["message"]
    return error["message"]


@pytest.mark.parametrize("name", ["take", "limit", "version"])
@pytest.mark.parametrize("value", NOT_ASCII_NUMBERS)
def test_run_lists_take_only_ascii_digits_as_numbers(client, api_key, flow, name, value):
    for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
        message = _refused(_get(client, api_key, path, name, value), name)
        assert "whole number" in message


def test_the_runs_page_explains_a_number_that_is_not_one(client, auth):
    for name in ("take", "limit", "version"):
        page = client.get(f"/runs?{name}={quote('²')}")
        assert page.status_code == 400
        assert f"{name} must be a whole number" in page.get_data(as_text=True)

"""Query strings a client crafted: the runs lists (API and page) and the triggers list answer a
400 that names the parameter and says what to send, never a 500 and never a silent default."""

from __future__ import annotations

import base64
import re
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


# The cases of a class run in one test (one flow published, not one per value): the suite runs
# every app test on SQLite and PostgreSQL, and a database per case cost minutes of CI.
@pytest.mark.parametrize("name", ["take", "limit", "version"])
def test_run_lists_take_only_ascii_digits_as_numbers(client, api_key, flow, name):
    for value in NOT_ASCII_NUMBERS:
        for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
            message = _refused(_get(client, api_key, path, name, value), name)
            assert "whole number" in message, value


def test_the_runs_page_explains_a_number_that_is_not_one(client, auth):
    for name in ("take", "limit", "version"):
        page = client.get(f"/runs?{name}={quote('²')}")
        assert page.status_code == 400
        assert f"{name} must be a whole number" in page.get_data(as_text=True)


# since/until whose UTC moment is outside years 1-9999: Python cannot convert them (OverflowError).
OUT_OF_RANGE_TIMES = [("since", "0001-01-01T00:00+01:00"), ("since", "0001-01-01T00:59:59+01:00"),
                      ("until", "9999-12-31T23:59-01:00"), ("until", "9999-12-31T23:00:00-23:59"),
                      ("since", "0001-01-01T00:00 01:00")]  # a "+" the query string turned into a space


def test_times_outside_the_calendar_in_utc_are_refused(client, api_key, flow):
    for name, value in OUT_OF_RANGE_TIMES:
        for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
            message = _refused(_get(client, api_key, path, name, value), name)
            assert "between years 1 and 9999" in message, value


def test_the_runs_page_explains_a_time_outside_the_calendar(client, auth):
    for name, value in OUT_OF_RANGE_TIMES:
        page = client.get(f"/runs?{name}={quote(value)}")
        assert page.status_code == 400 and f"{name} must fall between years 1 and 9999" in page.get_data(as_text=True)


def test_the_calendars_own_ends_still_work_and_page_on(client, auth, api_key, flow):
    Flows(client, api_key).call(flow, "again")
    for query in ("since=0001-01-01T00:00Z", "until=9999-12-31T23:59:59Z", "since=0001-01-01T01:00%2B01:00"):
        answer = client.get(f"/api/v1/runs?{query}", headers=bearer(api_key))
        assert answer.status_code == 200 and len(answer.json["runs"]) == 2, (query, answer.json)
    page = client.get("/runs?since=0001-01-01T00:00&take=1").get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)" rel="next">', page).group(1).replace("&amp;", "&")
    assert "since=0001-01-01T00:00:00" in older  # year 1 written so that it reads back
    assert client.get(older).status_code == 200


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Cursors the server never gave out. The first ones are the old unsigned formats filled by hand:
# each of these reached the query and was a 500 (OverflowError, a naive datetime, a lone
# surrogate the database cannot encode, RecursionError), or listed from wherever it said.
HAND_MADE_CURSORS = [
    _b64("0001-01-01T00:00:00+01:00|abc"), _b64("2026-01-01|abc"), _b64("2026-01-01T00:00:00+00:00|" + "a" * 32),
    _b64('["0001-01-01T00:00:00+01:00","x"]'), _b64('["2026-01-01",null]'),
    _b64('["2026-01-01T00:00:00+00:00","\\ud800"]'), _b64("[" * 1500), _b64('["2026-01-01T00:00:00+00:00","' + "a" * 32 + '"]'),
    "not-a-cursor", "é", "A" * 5000, "W10.bad-signature",
]


def _real_cursor(client, api_key, path: str) -> str:
    cursor = client.get(f"{path}?take=1", headers=bearer(api_key)).json["next_cursor"]
    assert cursor, "the list needs a second page for this test"
    return cursor


def test_a_runs_cursor_the_server_did_not_give_out_is_refused(client, api_key, flow):
    Flows(client, api_key).call(flow, "again")
    for cursor in HAND_MADE_CURSORS:
        for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
            answer = _get(client, api_key, path, "cursor", cursor)
            assert "not one this server gave out" in _refused(answer, "cursor"), cursor


def test_a_triggers_cursor_the_server_did_not_give_out_is_refused(client, api_key, flow):
    for cursor in HAND_MADE_CURSORS:
        answer = _get(client, api_key, "/api/v1/triggers", "cursor", cursor)
        assert "pass next_cursor from the previous page" in _refused(answer, "cursor", "invalid_cursor"), cursor


def test_the_runs_page_explains_a_hand_made_cursor(client, auth):
    for cursor in HAND_MADE_CURSORS[:7]:
        page = client.get(f"/runs?cursor={quote(cursor)}")
        assert page.status_code == 400 and "cursor is not one this server gave out" in page.get_data(as_text=True)


def test_a_real_cursor_works_only_unchanged_and_on_its_own_list(client, api_key, flow):
    Flows(client, api_key).call(flow, "again")
    runs, triggers = _real_cursor(client, api_key, "/api/v1/runs"), _real_cursor(client, api_key, "/api/v1/triggers")
    assert _get(client, api_key, "/api/v1/runs", "cursor", runs).status_code == 200
    assert _get(client, api_key, "/api/v1/triggers", "cursor", triggers).status_code == 200
    _refused(_get(client, api_key, "/api/v1/runs", "cursor", triggers), "cursor")
    _refused(_get(client, api_key, "/api/v1/triggers", "cursor", runs), "cursor", "invalid_cursor")
    edited = runs[:5] + ("A" if runs[5] != "A" else "B") + runs[6:]
    _refused(_get(client, api_key, "/api/v1/runs", "cursor", edited), "cursor")


def test_the_triggers_list_names_a_take_it_cannot_use(client, api_key, flow):
    for value in NOT_ASCII_NUMBERS + ["abc", "0", "101", "-1", "2.5"]:
        message = _refused(_get(client, api_key, "/api/v1/triggers", "take", value), "take", "invalid_take")
        assert "whole number from 1 to 100" in message, value


def test_an_empty_take_is_the_default_on_both_lists(client, api_key, flow):
    assert len(client.get("/api/v1/triggers?take=", headers=bearer(api_key)).json["triggers"]) == 2
    assert client.get("/api/v1/runs?take=", headers=bearer(api_key)).status_code == 200


def test_the_triggers_list_refuses_a_repeated_parameter(client, api_key, flow):
    for query in ["take=1&take=2", "order=asc&order=desc", "flow_id=a&flow_id=b", "cursor=a&cursor=b"]:
        answer = client.get(f"/api/v1/triggers?{query}", headers=bearer(api_key))
        assert "given 2 times" in _refused(answer, query.split("=")[0]), query


def test_a_repeated_status_lists_runs_in_any_of_them(app, client, api_key, flow):
    from app.models import RunStatus
    from tests.app.runsetup import attach

    failed = Flows(client, api_key).call(flow, "this one fails")["run_id"]
    attach(app, failed, status=RunStatus.FAILED)
    for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
        def ids(query):
            answer = client.get(f"{path}?{query}", headers=bearer(api_key))
            assert answer.status_code == 200, answer.json
            return [run["id"] for run in answer.json["runs"]]
        both = ids("status=succeeded,failed")
        assert len(both) == 2 and ids("status=succeeded&status=failed") == both == ids("status=failed&status=succeeded")
        assert ids("status=failed&status=") == [failed] == ids("status=failed&status=canceled")
        _refused(client.get(f"{path}?status=failed&status=done", headers=bearer(api_key)), "status")


def test_the_run_lists_refuse_any_other_repeated_filter(client, api_key, auth, flow):
    for query in ["take=1&take=2", "limit=1&limit=1", "version=1&version=2", "trigger=a&trigger=b",
                  "since=2026-01-01&since=2026-02-01", "order=asc&order=asc", "cursor=a&cursor=b", "out_id=a&out_id=b"]:
        name = query.split("=")[0]
        for path in ("/api/v1/runs", f"/api/v1/flows/{flow['id']}/runs"):
            assert "given 2 times" in _refused(client.get(f"{path}?{query}", headers=bearer(api_key)), name), query
        page = client.get(f"/runs?{query}")
        assert page.status_code == 400 and f"Give {name} once" in page.get_data(as_text=True), query


def test_a_repeated_flow_on_one_flows_runs_is_refused(client, api_key, flow):
    answer = client.get(f"/api/v1/flows/{flow['id']}/runs?flow={flow['id']}&flow=other", headers=bearer(api_key))
    _refused(answer, "flow")

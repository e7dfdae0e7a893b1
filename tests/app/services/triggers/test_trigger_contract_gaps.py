"""Smaller contract gaps (issue 16 item 7): names in answers, unknown filters, conversation addresses."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.app.flowdocs import greeting_flow
from tests.app.runsetup import Flows, conversation_of, expire_session, stranger_flows
from tests.app.trigger_helpers import bearer


@pytest.fixture
def flows_api(client, api_key):
    return Flows(client, api_key)


def test_fetch_and_list_answer_with_the_triggers_name(client, api_key, flows_api):
    flow = flows_api.publish()
    listed = client.get(f"/api/v1/triggers?flow_id={flow['id']}", headers=bearer(api_key)).json["triggers"]
    assert {t["node_id"]: t["name"] for t in listed} == {"api": "REST", "manual": "Run now"}
    rest = next(t for t in listed if t["node_id"] == "api")
    assert client.get(f"/api/v1/triggers/{rest['id']}", headers=bearer(api_key)).json["name"] == "REST"
    renamed = client.patch(f"/api/v1/triggers/{rest['id']}", json={"name": "Orders webhook"}, headers=bearer(api_key))
    assert renamed.status_code == 200 and renamed.json["trigger"]["name"] == "Orders webhook"
    assert client.get(f"/api/v1/triggers/{rest['id']}", headers=bearer(api_key)).json["name"] == "Orders webhook"
    created = client.post("/api/v1/triggers", json={"flow_id": flow["id"], "config": {"key": "unnamed"}},
                          headers=bearer(api_key)).json["trigger"]
    assert created["name"] == "REST API"  # an unnamed node goes by its type's title, as on the canvas


@pytest.mark.parametrize("query", ["blueprintId=abc", "flowId=x", "status=active", "take=5&limit=5"])
def test_an_unknown_trigger_list_filter_is_a_400_naming_it(client, api_key, flows_api, query):
    flows_api.publish()
    answer = client.get(f"/api/v1/triggers?{query}", headers=bearer(api_key))
    assert answer.status_code == 400, answer.json
    name = [part.split("=")[0] for part in query.split("&") if part.split("=")[0] != "take"][0]
    assert answer.json["error"]["code"] == "invalid_filter" and f"'{name}'" in answer.json["error"]["message"]
    assert [d["field"] for d in answer.json["error"]["details"]] == [name]


@pytest.mark.parametrize("path", ["/runs?bogus=1", "/runs?status=failed&blueprintId=x", "/flows/FLOW/runs?bogus=1"])
def test_an_unknown_runs_page_filter_is_said_plainly_with_a_400(client, auth, flows_api, path):
    flow = flows_api.publish()
    flows_api.call(flow, "hello")
    page = client.get(path.replace("FLOW", flow["id"]))
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    name = "blueprintId" if "blueprintId" in path else "bogus"
    assert re.search(rf'role="alert" data-filter-error="{name}">Unknown parameter &#39;{name}&#39;', text), text
    assert "<table class=\"grid runs\">" not in text  # no unfiltered list that looks filtered


def test_a_conversation_page_is_found_by_the_session_id_the_caller_knows(app, client, auth, flows_api):
    flow = flows_api.publish()
    first = flows_api.call(flow, "hi, I am Ada", sessionId="chat/ada 1")["run_id"]
    flows_api.call(flow, "again", sessionId="chat/ada 1")
    page = client.get("/conversations/chat/ada 1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "hi, I am Ada" in text and "again" in text and "Session <code>chat/ada 1</code>" in text
    internal = conversation_of(app, first)
    assert client.get(f"/conversations/{internal}").status_code == 200  # old links keep working
    listing = client.get("/conversations").get_data(as_text=True)
    assert re.search(r'href="/conversations/chat/ada%201\?trigger=\w+&amp;generation=1"', listing), listing
    assert client.get("/conversations/nobody").status_code == 404


def test_a_session_id_used_with_two_triggers_or_twice_is_never_guessed(app, client, auth, flows_api):
    one = flows_api.publish()
    other = flows_api.publish(greeting_flow(key="other", name="Other"))
    first = flows_api.call(one, "to one", sessionId="shared")["run_id"]
    flows_api.call(other, "to other", sessionId="shared")
    choose = client.get("/conversations/shared")
    assert choose.status_code == 300
    listing = choose.get_data(as_text=True)
    assert "Other · REST" in listing and "<code>api</code>" not in listing  # trigger names, not node ids
    links = re.findall(r'href="(/conversations/shared\?trigger=\w+&amp;generation=1)"', choose.get_data(as_text=True))
    assert len(links) == 2
    pages = [client.get(link.replace("&amp;", "&")).get_data(as_text=True) for link in links]
    assert sorted("to one" in p for p in pages) == [False, True]

    expire_session(app, conversation_of(app, first))  # the same id later starts conversation #2
    flows_api.call(one, "to one, later", sessionId="shared")
    pinned = re.sub(r"&amp;generation=1", "", next(link for link, p in zip(links, pages) if "to one" in p))
    latest = client.get(pinned.replace("&amp;", "&")).get_data(as_text=True)
    assert "to one, later" in latest and "to one<" not in latest and "data-generations" in latest
    earlier = client.get(pinned.replace("&amp;", "&") + "&generation=1").get_data(as_text=True)
    assert "to one<" in earlier and "to one, later" not in earlier
    for not_a_number in ("١", "²", "abc", "-1", "9" * 40):  # "١" read as 1 and "abc" as the latest before
        refused = client.get(pinned.replace("&amp;", "&") + f"&generation={quote(not_a_number)}")
        assert refused.status_code == 400 and "generation must be a conversation number" in refused.get_data(as_text=True)


def test_another_workspaces_session_id_is_not_found(app, client, auth, make_account, flows_api):
    theirs = stranger_flows(app, client, make_account)
    flow = theirs.publish()
    theirs.call(flow, "private", sessionId="their-chat")
    trigger_of_theirs = flow["triggers"][0]["id"]
    assert client.get("/conversations/their-chat").status_code == 404
    assert client.get(f"/conversations/their-chat?trigger={trigger_of_theirs}").status_code == 404

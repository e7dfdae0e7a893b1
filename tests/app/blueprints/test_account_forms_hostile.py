"""Hostile input on the login and profile forms: always a clear 4xx (or a normal answer), never a 500.

Huge strings, bytes that are not UTF-8 (how a lone surrogate arrives: a browser cannot encode one,
a script sends its bytes), a missing CSRF token, a JSON or text body where a form belongs, a body
over the size limit and a form with thousands of fields.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import User
from tests.app.login_steps import log_in, signed_in
from tests.conftest import csrf_from

PROFILE_FORMS = ["/settings/profile/name", "/settings/profile/password", "/settings/profile/sign-out-everywhere",
                 "/logout"]
# The three spellings of a lone surrogate (U+D800) in a form body: its UTF-8-like bytes raw, the same
# percent-encoded, and inside a multipart part.
SURROGATE_BYTES = b"a\xed\xa0\x80b"
SURROGATE_ESCAPED = b"a%ED%A0%80b"


def _signed_in_client(client, account):
    assert log_in(client, account.email, account.password).status_code == 302
    return csrf_from(client.get("/settings/profile").get_data(as_text=True))


def _multipart(fields: dict[str, bytes]) -> bytes:
    parts = [b"--x\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (name.encode(), value)
             for name, value in fields.items()]
    return b"".join(parts) + b"--x--\r\n"


@pytest.mark.parametrize("path", ["/login"] + PROFILE_FORMS)
def test_no_csrf_token_and_wrong_content_types_are_refused_with_400(client, make_account, path):
    account = make_account()
    if path != "/login":
        _signed_in_client(client, account)
    answers = [
        client.post(path, data={"email": account.email, "password": account.password, "name": "x"}),
        client.post(path, json={"email": account.email, "password": account.password, "name": "x"}),
        client.post(path, data=b"email=x&password=y", content_type="text/plain"),
        client.post(path, data=b"\x00\xff" * 10, content_type="application/octet-stream"),
    ]
    for response in answers:
        assert response.status_code == 400, (path, response.status_code)
        assert "CSRF" in response.get_data(as_text=True)
    if path != "/login":
        assert signed_in(client)  # nothing was done


def test_huge_and_odd_strings_on_the_login_form(client, make_account):
    account = make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    huge = "x" * 200_000
    for data in ({"email": huge, "password": "p"}, {"email": account.email, "password": huge},
                 {"email": " ", "password": "p"}, {"email": account.email, "password": ""}):
        response = client.post("/login", data={**data, "csrf_token": token})
        assert response.status_code == 400, data.keys()
        assert "field-error" in response.get_data(as_text=True)
    too_big = client.post("/login", data={"email": "x" * 2_000_000, "password": "p", "csrf_token": token})
    assert too_big.status_code == 413
    wide = "&".join(f"f{n}=1" for n in range(5000)) + f"&csrf_token={token}"
    assert client.post("/login", data=wide, content_type="application/x-www-form-urlencoded").status_code in (400, 413)


@pytest.mark.parametrize("body,content_type", [
    (b"email=%s&password=%s&csrf_token=" % (SURROGATE_BYTES, SURROGATE_BYTES), "application/x-www-form-urlencoded"),
    (b"email=%s&password=%s&csrf_token=" % (SURROGATE_ESCAPED, SURROGATE_ESCAPED), "application/x-www-form-urlencoded"),
    (None, "multipart/form-data; boundary=x"),
], ids=["raw-bytes", "percent-escaped", "multipart"])
def test_a_lone_surrogate_on_the_login_form_is_a_wrong_login_not_a_crash(client, make_account, body, content_type):
    make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True)).encode()
    if body is None:
        body = _multipart({"email": SURROGATE_BYTES, "password": SURROGATE_BYTES, "csrf_token": token})
    else:
        body += token
    response = client.post("/login", data=body, content_type=content_type)
    page = response.get_data(as_text=True)
    if content_type.startswith("multipart/"):  # the part is read as text with the bytes replaced
        assert response.status_code == 401 and "Wrong email or password." in page
    else:  # Werkzeug would drop the fields, CSRF token included: say what is wrong instead
        assert response.status_code == 400 and "not valid text (UTF-8)" in page and "CSRF token" not in page


@pytest.mark.parametrize("encoding", ["raw-bytes", "percent-escaped", "multipart"])
def test_a_lone_surrogate_in_the_profile_forms_never_saves_unreadable_text(app, client, make_account, encoding):
    account = make_account()
    token = _signed_in_client(client, account).encode()
    value = SURROGATE_ESCAPED if encoding == "percent-escaped" else SURROGATE_BYTES
    forms = {"/settings/profile/name": {"name": value},
             "/settings/profile/password": {"current_password": account.password.encode(),
                                            "new_password": value * 4, "repeat_password": value * 4}}
    for path, fields in forms.items():
        fields = {**fields, "csrf_token": token}
        if encoding == "multipart":
            response = client.post(path, data=_multipart(fields), content_type="multipart/form-data; boundary=x")
        else:
            body = b"&".join(b"%s=%s" % (name.encode(), v) for name, v in fields.items())
            response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (302, 400), (path, response.status_code)
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == account.email)).scalar_one()
        assert "\ufffd" not in user.name and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in user.name)
    assert signed_in(client)


def test_profile_fields_say_what_to_fix(app, client, make_account):
    account = make_account()
    token = _signed_in_client(client, account)

    def post(path, **data):
        return client.post(path, data={**data, "csrf_token": token})

    cases = [
        (post("/settings/profile/name", name="n" * 201), "A name can be at most 200 characters"),
        (post("/settings/profile/name", name="x\x07y"), "characters that are not text"),
        (post("/settings/profile/password", current_password="", new_password="a" * 12, repeat_password="a" * 12),
         "Type your current password."),
        (post("/settings/profile/password", current_password="not mine at all", new_password="a" * 12,
              repeat_password="a" * 12), "That is not your current password."),
        (post("/settings/profile/password", current_password="x" * 100_000, new_password="a" * 12,
              repeat_password="a" * 12), "That is not your current password."),
        (post("/settings/profile/password", current_password=account.password, new_password="short",
              repeat_password="short"), "at least 10 characters"),
        (post("/settings/profile/password", current_password=account.password, new_password="p" * 100_000,
              repeat_password="p" * 100_000), "at most 200 characters"),
        (post("/settings/profile/password", current_password=account.password, new_password="a" * 12,
              repeat_password="b" * 12), "The two new passwords differ"),
    ]
    for response, words in cases:
        assert response.status_code == 400
        assert words in response.get_data(as_text=True)
    assert signed_in(client)
    assert log_in(app.test_client(), account.email, account.password).status_code == 302  # password unchanged


def test_profile_pages_need_a_login(client, make_account):
    make_account()  # with no user at all, /login leads to the first-start page instead
    assert "/login" in client.get("/settings/profile").headers["Location"]
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/settings/profile/name", data={"name": "Mallory", "csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_nul_character_in_a_form_is_refused_in_words_on_a_page(client, make_account):
    make_account()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data=b"email=a%00b@example.com&password=x&csrf_token=" + token.encode(),
                           content_type="application/x-www-form-urlencoded")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Text must not contain the NUL character." in page

"""Passwords are hashed by PASSWORD_HASH_METHOD: strong by default, and a hash of another method still verifies.

Why this file exists: the test stack sets a cheap method (tests/conftest.py) so that the many
tests that make users and log in stay fast; these tests prove what production gets without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from app.config import ConfigError, Settings, replace_settings
from tests.app.login_steps import log_in, signed_in
from tests.conftest import TEST_PASSWORD_HASH_METHOD

ENV = {"SECRET_KEY": "s", "CREDENTIALS_KEY": "vB5rEDCD9TFCiwY36pZ5Z2zyI1T5XpLwACGJE2EYZH0="}


def _method(password_hash: str) -> list[str]:
    return password_hash.split("$", 1)[0].split(":")


def test_the_default_is_werkzeugs_scrypt_at_full_cost(app, make_account):
    from app.extensions import db
    from app.models import User
    from app.services.workspaces.login import dummy_hash

    default = Settings.from_env(Path("/nonexistent"), env=ENV).password_hash_method
    assert default == "scrypt"
    replace_settings(app, password_hash_method=default)
    make_account(email="strong@example.com")

    with app.app_context():
        stored = db.session.execute(db.select(User).where(User.email == "strong@example.com")).scalar_one()
        kind, n, r, p = _method(stored.password_hash)
        assert kind == "scrypt" and int(n) >= 2 ** 15 and int(r) >= 8 and int(p) >= 1
        assert _method(dummy_hash()) == _method(stored.password_hash)  # unknown emails cost the same
        assert stored.check_password("correct horse") and not stored.check_password("wrong horse")


def test_the_test_stack_hashes_cheaply_and_says_so_in_every_hash(app, make_account):
    from app.extensions import db
    from app.models import User
    from app.services.workspaces.login import dummy_hash

    make_account(email="cheap@example.com")

    with app.app_context():
        stored = db.session.execute(db.select(User).where(User.email == "cheap@example.com")).scalar_one()
        assert ":".join(_method(stored.password_hash)) == TEST_PASSWORD_HASH_METHOD
        assert ":".join(_method(dummy_hash())) == TEST_PASSWORD_HASH_METHOD


@pytest.mark.parametrize("old_method", ["scrypt", "pbkdf2:sha256:260000"])  # werkzeug 3's default; 2.x's pbkdf2
def test_a_hash_of_another_method_still_logs_in(app, client, make_account, old_method):
    """Changing the setting re-hashes nobody: a stored hash names its own method and is checked by it."""
    from app.extensions import db
    from app.models import User

    account = make_account(email="old@example.com", password="old but good")
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "old@example.com")).scalar_one()
        user.password_hash = generate_password_hash("old but good", old_method)
        db.session.commit()

    assert log_in(client, account.email, "wrong").status_code == 401
    assert log_in(client, account.email, "old but good").status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize(("value", "says"), [
    ("bcrypt", "must be a scrypt or pbkdf2 method"),
    ("plain", "must be a scrypt or pbkdf2 method"),
    ("scrypt:32768:8", "scrypt takes three whole numbers N:r:p"),
    ("scrypt:1000:8:1", "scrypt's N must be a power of two"),
    ("scrypt:16:1:1", "cannot hash passwords here"),  # well-formed, but OpenSSL refuses its memory
    ("pbkdf2:sha256:0", "pbkdf2 takes a hash name and a number of iterations"),
    ("pbkdf2:sha256:many", "pbkdf2 takes a hash name and a number of iterations"),
    ("pbkdf2:no-such-digest:1000", "cannot hash passwords here"),
    # Costs that would make every login (and the start's trial hash) take seconds or hang.
    ("pbkdf2:sha256:999999999999", "at most 10000000 iterations"),
    ("pbkdf2:sha256:" + "9" * 5000, "at most 10000000 iterations"),  # past Python's 4,300-digit limit
    ("scrypt:1048576:8:64", "N x r x p may be at most"),
    ("scrypt:" + str(2 ** 80) + ":8:1", "N x r x p may be at most"),
    ("scrypt:\udcff:8:1", "scrypt takes three whole numbers N:r:p"),  # a byte the environment could not decode
    ("pbkdf2:sha256:\u0663", "pbkdf2 takes a hash name and a number of iterations"),  # a digit, but not ASCII
])
def test_a_method_werkzeug_cannot_use_fails_at_start(value, says):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(Path("/nonexistent"), env={**ENV, "PASSWORD_HASH_METHOD": value})
    assert "PASSWORD_HASH_METHOD" in str(error.value) and says in str(error.value)
    assert len(str(error.value)) < 400  # the value is quoted shortened, whatever its length


@pytest.mark.parametrize("value", ["scrypt", "scrypt:65536:8:1", "pbkdf2:sha256:1000", "pbkdf2:sha512:210000"])
def test_methods_werkzeug_supports_are_accepted(value):
    assert Settings.from_env(Path("/nonexistent"), env={**ENV, "PASSWORD_HASH_METHOD": value}).password_hash_method == value

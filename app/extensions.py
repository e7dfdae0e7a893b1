"""Create the Flask extensions unbound; `create_app` binds them with `init_app`.

Why unbound: importing the package must do no I/O and open no connection (avoid the
import-time connections that make other codebases hard to test and to fork).
"""

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Objects keep their loaded values after a commit instead of reloading on next access: views
# commit and then answer from what they just wrote, and the worker's hot path saves a query per
# commit. Code that must see another process's writes refreshes explicitly (db.session.refresh).
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING), session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()

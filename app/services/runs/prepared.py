"""Execute the worker's hottest statements as SQL compiled once, with parameters prepared by us.

Why: a run of pure nodes writes its steps and its final status in one transaction, and for those
two statements SQLAlchemy's per-execution work (the ORM's execute, the compiled-statement cache
lookup, building an execution context, constructing and processing every parameter of every
row) cost more than the database did. A `Prepared` statement is compiled once per dialect;
each execution only runs the column types' own bind processors (the same ones SQLAlchemy would
run, so values are stored exactly as before) over the given values and hands the driver the
SQL text (`Connection.exec_driver_sql`): still SQLAlchemy's connection, transaction, events and
error translation, on SQLite and PostgreSQL alike.

One processor is replaced by an equivalent faster one: an aware datetime for a `UTCDateTime`
column on SQLite becomes its UTC text in one `isoformat` call, the exact text SQLAlchemy's
DATETIME storage format writes (tests/app/services/runs/test_prepared.py compares them), where
SQLAlchemy's two processors took several times as long; a run writes ten such values.

Only for statements whose parameters are all plain values (no expanding IN lists), built once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from app.extensions import db
from app.models.types import UTCDateTime

# SQLAlchemy's SQLite DATETIME storage format, which `_sqlite_utc_text` writes with one call.
SQLITE_DATETIME_FORMAT = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"


class Prepared:
    """One Core statement, compiled once per dialect, executed with given values for `keys`."""

    def __init__(self, statement: Any, keys: Sequence[str], many: bool = False):
        self.statement, self.keys, self.many = statement, tuple(keys), many
        self._compiled: dict[str, tuple] = {}

    def execute(self, params: dict | list[dict]) -> Any:
        """Execute in the session's transaction (flushing pending ORM changes first, as it would)."""
        session = db.session()
        session.flush()
        connection = session.connection()
        sql, order, processors, plain, constants = self._for(connection.dialect)
        if self.many:
            prepared = [self._values(row, order, processors, plain, constants) for row in params]
        else:
            prepared = self._values(params, order, processors, plain, constants)
        return connection.exec_driver_sql(sql, prepared)

    @staticmethod
    def _values(params: dict, order: tuple | None, processors: dict[str, Callable], plain: tuple,
                constants: dict) -> Any:
        values = dict(constants)
        for key, process in processors.items():
            values[key] = process(params[key])
        for key in plain:
            values[key] = params[key]
        return values if order is None else tuple(values[key] for key in order)

    def _for(self, dialect: Any) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Any) -> tuple:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys), for_executemany=self.many)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a Prepared statement takes plain parameters only (no expanding IN lists)")
        if compiled.escaped_bind_names:
            raise ValueError("a Prepared statement's parameter names must need no escaping")
        processors, plain, constants = {}, [], {}
        for bind, name in compiled.bind_names.items():
            process = _processor(bind.type, dialect)
            if name in self.keys:
                if process is None:
                    plain.append(name)
                else:
                    processors[name] = process
            elif bind.callable is None and not bind.required:
                value = bind.effective_value  # a literal of the statement, e.g. a status it compares to
                constants[name] = process(value) if process is not None else value
            else:
                raise ValueError(f"no value for the parameter {name!r} of a Prepared statement")
        order = tuple(compiled.positiontup) if compiled.positional else None
        return compiled.string, order, processors, tuple(plain), constants


def _processor(type_: Any, dialect: Any) -> Callable | None:
    """The bind processor of `type_` on `dialect` (see the module docstring for the one replaced)."""
    implementation = type_.dialect_impl(dialect)
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite" \
            and getattr(implementation.impl, "_storage_format", None) == SQLITE_DATETIME_FORMAT:
        return _sqlite_utc_text
    return implementation.bind_processor(dialect)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLite stores it: naive UTC text with microseconds (`UTCDateTime` on SQLite)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use aware UTC datetimes")
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

"""Execute the worker's hottest statements as SQL compiled once, with parameters prepared by us.

Why: a run of pure nodes writes its steps and its final status in one transaction, and for those
two statements SQLAlchemy's per-execution work (the ORM's execute, the compiled-statement cache
lookup, building an execution context, constructing and processing every parameter of every
row) cost more than the database did. A `Prepared` statement is compiled once per dialect;
each execution only runs the column types' own bind processors (the same ones SQLAlchemy would
run, so values are stored exactly as before) over the given values and hands the driver the
SQL text (`Connection.exec_driver_sql`): still SQLAlchemy's connection, transaction, events and
error translation, on SQLite and PostgreSQL alike.

Only for statements whose parameters are all plain values (no expanding IN lists), built once.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from app.extensions import db


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
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
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

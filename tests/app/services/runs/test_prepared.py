"""The worker's prepared statements send the driver exactly what SQLAlchemy would have sent.

`Prepared` compiles a statement once and runs the column types' processors itself (with one
faster equivalent for UTC datetimes on SQLite), so these tests compare its SQL and values with
SQLAlchemy's own compilation and processing, on both dialects, for the two statements it serves.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from app.models import RunStatus, RunStep, StepStatus
from app.services.runs import lifecycle
from app.services.runs.prepared import Prepared
from app.worker import execution

DIALECTS = [PGDialect_psycopg(), SQLiteDialect_pysqlite()]
MOMENTS = [
    datetime(2026, 11, 30, 22, 30, 1, 123456, tzinfo=timezone.utc),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),  # no microseconds: still written with six digits
    datetime(2026, 6, 1, 1, 0, 0, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # another offset
    datetime(5, 1, 1, tzinfo=timezone.utc),  # a year with fewer than four digits
]


def _step(moment: datetime, seq: int) -> dict:
    return {"run_id": "r1", "seq": seq, "attempt": 1, "node_id": "n", "node_type": "template",
            "status": StepStatus.SUCCEEDED, "input": {"a": [1, "é", None]}, "output": None, "port": "out",
            "error": None, "started_at": moment, "finished_at": moment + timedelta(microseconds=1)}


def _finish(moment: datetime) -> dict:
    return {"status": RunStatus.SUCCEEDED, "output": {"text": "x"}, "error": None, "error_node_id": None,
            "finished_at": moment, "run_id": "r1", "now": moment, "token": "t", "started": moment,
            "read_attempts": 0, "deadline": moment + timedelta(seconds=5), "expires": moment}


def _sqlalchemys(statement, params: dict, dialect, keys, many: bool):
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
    raw = compiled.construct_params(params)
    values = {key: compiled._bind_processors[key](value) if key in compiled._bind_processors else value
              for key, value in raw.items()}
    return compiled.string, tuple(values[key] for key in compiled.positiontup) if compiled.positional else values


def _ours(prepared: Prepared, params: dict, dialect):
    sql, order, processors, plain, constants = prepared._for(dialect)
    return sql, prepared._values(params, order, processors, plain, constants)


def _shown(sent: tuple) -> tuple:
    """Compare by repr: psycopg's Jsonb wrappers have no equality of their own."""
    sql, values = sent
    return sql, repr(values if isinstance(values, tuple) else sorted(values.items()))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_steps_and_final_status_are_sent_as_sqlalchemy_would(dialect, moment):
    step = _step(moment, 1)
    finish = _finish(moment)

    assert _shown(_ours(execution._INSERT_STEPS, step, dialect)) == \
        _shown(_sqlalchemys(RunStep.__table__.insert(), step, dialect, execution._STEP_KEYS, many=True))
    assert _shown(_ours(lifecycle._TAKE_FINISHED_PREPARED, finish, dialect)) == _shown(
        _sqlalchemys(lifecycle._TAKE_FINISHED, finish, dialect, lifecycle._TAKE_FINISHED_PREPARED.keys, many=False))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_a_naive_datetime_is_refused_as_before(dialect):
    with pytest.raises(ValueError, match="naive datetime"):
        _ours(execution._INSERT_STEPS, _step(datetime(2026, 1, 1), 1), dialect)

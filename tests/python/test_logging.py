"""The core's log records reach Python's ``logging`` (logger ``qovery_redeploy``), token-free."""

from __future__ import annotations

import logging
import threading

import pytest

import qovery_redeploy as qr

from conftest import Mock


def test_records_reach_python_logging(client: qr.Client, mock: Mock,
                                      caplog: pytest.LogCaptureFixture) -> None:
    db = mock.database()
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    client.database_status(db)
    records = [r for r in caplog.records if r.name == "qovery_redeploy"]
    assert any(f"GET /database/{db}/status -> 200" in r.getMessage() and
               r.levelno == logging.DEBUG for r in records), [r.getMessage() for r in records]


def test_retries_are_warnings_and_no_record_has_the_token(mock: Mock,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "http", "code": 503,
                     "detail": f"overloaded, token {mock.token}"})
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    with qr.Client(mock.token, mock.url, max_retries=1) as c:
        # From a worker thread too: records are emitted from wherever the call runs.
        t = threading.Thread(target=c.database_status, args=(db,))
        t.start()
        t.join(30)
        with pytest.raises(qr.AuthenticationError):
            qr.Client("wrong-" + mock.token, mock.url).database_status(db)
    messages = [r.getMessage() for r in caplog.records if r.name == "qovery_redeploy"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("retrying" in r.getMessage() for r in warnings), messages
    assert any("-> 401" in m for m in messages), messages
    for m in messages:
        assert mock.token not in m


def test_level_changes_apply_at_once(client: qr.Client, mock: Mock,
                                     caplog: pytest.LogCaptureFixture) -> None:
    db = mock.database()
    caplog.set_level(logging.WARNING, logger="qovery_redeploy")
    client.database_status(db)
    assert not [r for r in caplog.records if r.name == "qovery_redeploy"]
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    client.database_status(db)
    assert [r for r in caplog.records if r.name == "qovery_redeploy"]

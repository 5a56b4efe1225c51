"""Every exception class, provoked for real against qovery-mock (or a closed port)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from typing import Any, Callable

import pytest

import qovery_redeploy as qr

from conftest import Mock

PROVOKED: set[type] = set()


def check(error: BaseException, cls: type[qr.QoveryError], mock: Mock,
          http_status: int | None = None) -> None:
    """Common checks: exact class, kind, HTTP status, one line, no token anywhere."""
    assert type(error) is cls, f"{type(error).__name__}: {error}"
    assert isinstance(error, qr.QoveryError)
    assert error.kind == cls.kind
    assert error.http_status == http_status
    text = str(error)
    assert text and "\n" not in text
    for shown in (text, repr(error), repr(error.detail), repr(error.args)):
        assert mock.token not in shown
    PROVOKED.add(cls)


def raises(cls: type, call: Callable[[], Any]) -> Any:
    with pytest.raises(cls) as info:
        call()
    return info.value


def test_invalid_input(client: qr.Client, mock: Mock) -> None:
    e = raises(qr.InvalidInputError, lambda: client.redeploy_database("3c90c3cc/../x"))
    check(e, qr.InvalidInputError, mock)
    assert isinstance(e, ValueError)


def test_client_closed(mock: Mock) -> None:
    c = qr.Client(mock.token, mock.url)
    c.close()
    e = raises(qr.ClientClosedError, lambda: c.database_status(mock.database()))
    check(e, qr.ClientClosedError, mock)


def test_authentication_error(mock: Mock) -> None:
    db = mock.database()
    with qr.Client("some-other-token", mock.url) as c:
        e = raises(qr.AuthenticationError, lambda: c.redeploy_database(db))
    check(e, qr.AuthenticationError, mock, 401)
    assert e.detail == "Access token is missing or invalid"
    assert mock.requests(db)["redeploy"] == 1  # a definite answer: not retried


def test_server_echoing_the_token_is_redacted(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "http", "code": 401,
                     "detail": f"token {mock.token} is not valid"})
    e = raises(qr.AuthenticationError, lambda: client.database_status(db))
    check(e, qr.AuthenticationError, mock, 401)
    assert e.detail == "token [REDACTED] is not valid"


def test_permission_denied(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "redeploy", "kind": "http", "code": 403, "detail": "Forbidden"})
    e = raises(qr.PermissionDeniedError, lambda: client.redeploy_database(db))
    check(e, qr.PermissionDeniedError, mock, 403)
    assert e.detail == "Forbidden"


def test_not_found(client: qr.Client, mock: Mock) -> None:
    unknown = str(uuid.uuid4())
    e = raises(qr.NotFoundError, lambda: client.redeploy_database(unknown))
    check(e, qr.NotFoundError, mock, 404)
    assert e.detail == f"Database {unknown} not found"


def test_conflict_409_and_400_in_progress(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "redeploy", "kind": "http", "code": 409, "detail": "DeploymentConflict"},
                {"on": "redeploy", "kind": "http", "code": 400,
                 "detail": "ActionAlreadyInProgress: an action is in progress"})
    e = raises(qr.ConflictError, lambda: client.redeploy_database(db))
    check(e, qr.ConflictError, mock, 409)
    e = raises(qr.ConflictError, lambda: client.redeploy_database(db))
    check(e, qr.ConflictError, mock, 400)
    assert e.detail is not None and "in progress" in e.detail


def test_rate_limited_carries_retry_after(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "redeploy", "kind": "rate_limit", "retry_after": "7"})
    e = raises(qr.RateLimitedError, lambda: client.redeploy_database(db))
    check(e, qr.RateLimitedError, mock, 429)
    assert e.retry_after == 7.0 and e.detail == "Too many requests"


def test_server_error_after_retries(mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "http", "code": 500, "times": 2})
    with qr.Client(mock.token, mock.url, max_retries=1) as c:
        e = raises(qr.ServerError, lambda: c.database_status(db))
    check(e, qr.ServerError, mock, 500)
    assert mock.requests(db)["status"] == 2  # first try + one retry
    with qr.Client(mock.token, mock.url, max_retries=1) as c:
        mock.faults(db, {"on": "status", "kind": "http", "code": 502})
        assert c.database_status(db).state == "DEPLOYED"  # a retry got through


def test_http_error_for_redirects(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "redirect", "code": 302,
                     "location": "http://127.0.0.1:9/elsewhere"})
    e = raises(qr.HttpError, lambda: client.database_status(db))
    check(e, qr.HttpError, mock, 302)
    assert "never follows redirects" in str(e)


def test_timeout(mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 3000})
    with qr.Client(mock.token, mock.url, timeout=0.3, max_retries=0) as c:
        start = time.monotonic()
        e = raises(qr.TimeoutError, lambda: c.database_status(db))
        took = time.monotonic() - start
    check(e, qr.TimeoutError, mock)
    assert issubclass(type(e), TimeoutError)
    assert took < 2.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_error(mock: Mock) -> None:
    with qr.Client(mock.token, f"http://127.0.0.1:{free_port()}", max_retries=0) as c:
        e = raises(qr.NetworkError, lambda: c.database_status(mock.database()))
    check(e, qr.NetworkError, mock)
    assert issubclass(type(e), ConnectionError)


def test_tls_error(mock: Mock) -> None:
    # https:// to the plain-HTTP mock: the handshake fails.
    with qr.Client(mock.token, mock.url.replace("http://", "https://"), max_retries=0) as c:
        e = raises(qr.TlsError, lambda: c.database_status(mock.database()))
    check(e, qr.TlsError, mock)


def test_decode_error(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "malformed_json"},
                {"on": "status", "kind": "truncated_body"})
    e = raises(qr.DecodeError, lambda: client.database_status(db))
    check(e, qr.DecodeError, mock, 200)
    e = raises(qr.DecodeError, lambda: client.database_status(db))
    check(e, qr.DecodeError, mock, 200)


def test_outcome_unknown(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "redeploy", "kind": "reset"})
    e = raises(qr.OutcomeUnknownError, lambda: client.redeploy_database(db))
    check(e, qr.OutcomeUnknownError, mock)
    assert mock.requests(db)["redeploy"] == 1  # never resent
    # ...and it was processed: the status shows the deployment it started.
    assert (client.database_status(db).deployment_requests_count or 0) >= 1


def test_deployment_failed_carries_the_final_status(client: qr.Client, mock: Mock) -> None:
    db = mock.database(outcome="DEPLOYMENT_ERROR", tick_ms=50)
    e = raises(qr.DeploymentFailedError,
               lambda: client.redeploy_and_wait(db, poll_interval=0.05, timeout=30))
    check(e, qr.DeploymentFailedError, mock)
    assert isinstance(e.status, qr.DeploymentStatus)
    assert e.status.state == "DEPLOYMENT_ERROR" and e.status.is_failure
    assert "DEPLOYMENT_ERROR" in str(e)


def test_wait_timeout_carries_the_last_status(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=60_000)
    start = time.monotonic()
    e = raises(qr.WaitTimeoutError,
               lambda: client.redeploy_and_wait(db, timeout=0.5, poll_interval=0.05))
    took = time.monotonic() - start
    check(e, qr.WaitTimeoutError, mock)
    assert issubclass(type(e), TimeoutError)
    assert e.status is not None and e.status.state == "QUEUED"
    assert 0.2 < took < 3.0  # the core makes its last poll up to 250 ms before the end


def test_cancelled_by_an_event(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=60_000)
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    start = time.monotonic()
    try:
        e = raises(qr.CancelledError,
                   lambda: client.redeploy_and_wait(db, poll_interval=0.05, cancel=stop))
    finally:
        timer.cancel()
    took = time.monotonic() - start
    check(e, qr.CancelledError, mock)
    assert e.status is not None and e.status.state == "QUEUED"
    assert took < 2.0
    # An event already set stops a call before it is sent.
    before = mock.requests(db)["status"]
    raises(qr.CancelledError, lambda: client.database_status(db, cancel=stop))
    assert mock.requests(db)["status"] == before


def test_all_classes_were_provoked() -> None:
    """Runs last in this module: every error class (one per core kind) was raised for real."""
    expected: set[type] = set()
    todo = [qr.QoveryError]
    while todo:
        for sub in todo.pop().__subclasses__():
            expected.add(sub)
            todo.append(sub)
    assert len(expected) == 17
    missing = {cls.__name__ for cls in expected} - {cls.__name__ for cls in PROVOKED}
    assert not missing, f"never provoked: {sorted(missing)}"

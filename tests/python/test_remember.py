"""The remembered accepted redeploy, `e.accepted`, and the small API fixes
(`__exit__` returns None, `detail` of an invalid input, `TimeoutError` out of `__all__`)."""

from __future__ import annotations

import builtins
import threading
from typing import Any

import pytest

import qovery_redeploy as qr

from conftest import Mock


def test_wait_without_accepted_waits_for_the_remembered_redeploy(
    client: qr.Client, mock: Mock
) -> None:
    # The server keeps showing the previous deployment's DEPLOYED for 3 polls.
    db = mock.database(tick_ms=100, stale_polls=3)
    previous = client.database_status(db).deployment_request_id
    assert client.accepted_redeploy(db) is None
    accepted = client.redeploy_database(db)
    assert client.accepted_redeploy(db) == accepted
    final = client.wait_for_database(db, poll_interval=0.03, timeout=30)
    assert final.deployment_request_id == accepted.deployment_request_id != previous
    assert mock.requests(db)["status"] >= 1 + 3 + 1
    # Seen to end: forgotten.
    assert client.accepted_redeploy(db) is None


class Stop(Exception):
    pass


@pytest.mark.parametrize("raised", [Stop, KeyboardInterrupt])
def test_an_interrupted_redeploy_and_wait_keeps_the_accepted_status(
    client: qr.Client, mock: Mock, raised: type[BaseException]
) -> None:
    # The callback raising after the accepted status stands for a Ctrl-C in the wait (the
    # same path: the exception is stored and ends the wait).
    db = mock.database(tick_ms=200, stale_polls=2)

    def on_progress(status: qr.DeploymentStatus) -> None:
        raise raised("stop")

    with pytest.raises(raised) as info:
        client.redeploy_and_wait(db, poll_interval=0.03, timeout=30, on_progress=on_progress)
    accepted: Any = getattr(info.value, "accepted")
    assert isinstance(accepted, qr.DeploymentStatus)
    assert client.accepted_redeploy(db) == accepted
    # Resumed, without a second redeploy: waits through the stale DEPLOYED for that one.
    final = client.wait_for_database(db, poll_interval=0.03, timeout=30)
    assert final.deployment_request_id == accepted.deployment_request_id
    assert mock.requests(db)["redeploy"] == 1


def test_a_cancelled_redeploy_and_wait_error_carries_accepted(
    client: qr.Client, mock: Mock
) -> None:
    db = mock.database(tick_ms=2000)
    cancel = threading.Event()
    with pytest.raises(qr.CancelledError) as info:
        client.redeploy_and_wait(db, poll_interval=0.03, timeout=30,
                                 on_progress=lambda s: cancel.set(), cancel=cancel)
    assert info.value.accepted is not None
    assert info.value.accepted == client.accepted_redeploy(db)
    client.forget_accepted_redeploy(db)
    assert client.accepted_redeploy(db) is None
    # Errors raised before any redeploy have no accepted status.
    with pytest.raises(qr.InvalidInputError) as bad:
        client.redeploy_and_wait("nope")
    assert bad.value.accepted is None


def test_exit_returns_none(mock: Mock) -> None:
    c = qr.Client(token=mock.token, base_url=mock.url)
    assert c.__enter__() is c
    exit_ = getattr(c, "__exit__")  # (mypy knows it returns None and refuses to test it)
    assert exit_(None, None, None) is None
    assert c.closed


def test_invalid_input_detail_is_the_message(client: qr.Client) -> None:
    with pytest.raises(qr.InvalidInputError) as info:
        client.database_status("not-a-uuid")
    e = info.value
    assert e.kind == "invalid_input" and e.http_status is None
    assert e.detail is not None and e.detail == str(e) and "not-a-uuid" in e.detail
    # Errors raised by the bindings themselves (argument checks) too.
    with pytest.raises(qr.InvalidInputError) as info:
        client.wait_for_database("3c90c3cc-0d44-4b50-8888-8dd25736052a", timeout=-1)
    assert info.value.detail == str(info.value) and "timeout" in str(info.value)
    with pytest.raises(qr.InvalidInputError) as info:
        qr.Client(token="")
    assert info.value.detail == str(info.value)


def test_star_import_does_not_shadow_the_builtin_timeout_error() -> None:
    assert "TimeoutError" not in qr.__all__
    namespace: dict[str, Any] = {}
    exec("from qovery_redeploy import *", namespace)
    assert "TimeoutError" not in namespace and "AsyncClient" in namespace
    assert issubclass(qr.TimeoutError, builtins.TimeoutError)
    from qovery_redeploy import TimeoutError as QTimeout  # still importable by name

    assert QTimeout is qr.TimeoutError

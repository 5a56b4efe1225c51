"""os.fork() with a client in use: the parent makes a call (so the library's runtime thread
and a pooled connection exist), forks; the child's call on the inherited client and on a new
client succeed within a few seconds (alarm-bounded), and the parent's next call still works.
Over plain HTTP and over TLS."""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Callable

import pytest
import qovery_redeploy as qr

from conftest import Mock

CHILD_BOUND = 10  # seconds: alarm() in the child, and the parent's wait


def _in_child(body: Callable[[], None]) -> int:
    """Forks; the child runs ``body`` under alarm(CHILD_BOUND) and exits 0 if it returned.
    Returns the child's exit status (-signal if killed)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            signal.alarm(CHILD_BOUND)
            body()
            code = 0
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    deadline = time.monotonic() + CHILD_BOUND + 5
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"the child did not exit within {CHILD_BOUND + 5} s")


def _fork_roundtrip(make: Callable[[], qr.Client], db: str) -> None:
    with make() as c:
        c.database_status(db)  # the runtime and one pooled connection now exist
        timings: list[float] = []

        def child() -> None:
            t0 = time.monotonic()
            assert str(c.database_status(db).id) == db  # the inherited client
            with make() as fresh:  # and a brand-new one
                fresh.database_status(db)
                fresh.redeploy_database(db)
            timings.append(time.monotonic() - t0)
            assert timings[0] < 5, timings

        assert _in_child(child) == 0
        # The parent's client, its runtime and pooled connection are unharmed.
        c.database_status(db)
        c.database_status(db)


def test_fork_plain_http(mock: Mock) -> None:
    db = mock.database()
    _fork_roundtrip(lambda: qr.Client(mock.token, mock.url, max_retries=0, timeout=5.0), db)
    r = mock.requests(db)
    assert (r["redeploy"], r["status"]) == (1, 5)


def test_fork_tls(tls_mock: Mock) -> None:
    db = tls_mock.database()
    _fork_roundtrip(lambda: qr.Client(tls_mock.token, tls_mock.url, max_retries=0, timeout=5.0,
                                      ca_file=tls_mock.ca, proxy=False), db)
    assert tls_mock.counts(db) == (1, 5)


def test_fork_twice_and_from_a_child(mock: Mock) -> None:
    """A child of a child (runtime rebuilt twice) and a second fork of the same parent."""
    db = mock.database()
    with qr.Client(mock.token, mock.url, max_retries=0, timeout=5.0) as c:
        c.database_status(db)

        def child() -> None:
            c.database_status(db)
            assert _in_child(lambda: c.database_status(db) and None) == 0
            c.database_status(db)

        assert _in_child(child) == 0
        assert _in_child(lambda: c.database_status(db) and None) == 0
        c.database_status(db)
    assert mock.requests(db)["status"] == 6


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="POSIX only")
def test_fork_while_another_thread_is_in_a_call(mock: Mock) -> None:
    """Fork while a parent thread is blocked in a slow call: the child's own calls work."""
    import threading

    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 1500})
    with qr.Client(mock.token, mock.url, max_retries=0, timeout=5.0) as c:
        t = threading.Thread(target=c.database_status, args=(db,))
        t.start()
        time.sleep(0.3)
        other = mock.database()
        assert _in_child(lambda: c.database_status(other) and None) == 0
        t.join(timeout=10)
        assert not t.is_alive()
        c.database_status(other)

"""Ctrl-C (SIGINT delivered to the main thread, as the terminal does) and ``cancel=`` in the
middle of a request against the mock's slow faults: measured, and bounded.

The Python skin polls for signals every CANCEL_POLL (50 ms), attaching to the interpreter at
most about every two polls when other threads compete, so the bound for Ctrl-C is 100 ms plus
two polls; for an Event, 100 ms."""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable

import pytest
import qovery_redeploy as qr

from conftest import Mock, figures

POLL = 0.05
CTRL_C_BOUND = 0.100 + 2 * POLL
CANCEL_BOUND = 0.100


def _later(delay: float, action: Callable[[], None], at: list[float]) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        at.append(time.monotonic())
        action()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("fault", ["slow_headers", "slow_body"])
@pytest.mark.parametrize("call", ["status", "redeploy"])
def test_ctrl_c_mid_request(mock: Mock, fault: str, call: str) -> None:
    db = mock.database()
    mock.faults(db, {"on": call, "kind": fault, "delay_ms": 5000})
    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main
    at: list[float] = []
    with qr.Client(mock.token, mock.url, max_retries=2, timeout=20.0) as c:
        timer = _later(0.2, lambda: signal.pthread_kill(main, signal.SIGINT), at)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            if call == "status":
                c.database_status(db)
            else:
                c.redeploy_database(db)
            time.sleep(5)  # pragma: no cover - only if the call ignored the signal
        returned = time.monotonic()
        timer.join(timeout=5)
        latency = returned - at[0]
        figures(f"ctrl-c latency ({fault} on {call})", ms=latency * 1000)
        print(f"ctrl-c latency ({fault} on {call}): {latency * 1000:.1f} ms")
        assert returned - start >= 0.19
        assert latency < CTRL_C_BOUND, f"{latency * 1000:.1f} ms"
        # The client still works after the interrupted call.
        c.database_status(mock.database())
    redeploys, polls = mock.requests(db)["redeploy"], mock.requests(db)["status"]
    assert redeploys + polls == 1


@pytest.mark.parametrize("fault", ["slow_headers", "slow_body"])
def test_cancel_event_mid_request(mock: Mock, fault: str) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": fault, "delay_ms": 5000})
    event = threading.Event()
    at: list[float] = []
    with qr.Client(mock.token, mock.url, max_retries=2, timeout=20.0) as c:
        timer = _later(0.2, event.set, at)
        with pytest.raises(qr.CancelledError):
            c.database_status(db, cancel=event)
        returned = time.monotonic()
        timer.join(timeout=5)
    latency = returned - at[0]
    figures(f"cancel= latency ({fault})", ms=latency * 1000)
    print(f"cancel latency ({fault}, python Event): {latency * 1000:.1f} ms")
    assert latency < CANCEL_BOUND, f"{latency * 1000:.1f} ms"

"""The GIL is released during network waits, Ctrl-C interrupts, and fork() is survived.

Timing bounds are generous (a shared 2-core CI machine); the measured figures are printed
(``pytest -s``) so they can be quoted.
"""

from __future__ import annotations

import _thread
import multiprocessing
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

import qovery_redeploy as qr

from conftest import Mock, figures, python_env

SLOW_MS = 1000
THREADS = 8


def test_threads_run_in_parallel_on_one_client(mock: Mock) -> None:
    db = mock.database()
    with qr.Client(mock.token, mock.url, max_retries=0, timeout=10) as client:
        client.database_status(db)  # connect once; the timed calls below are all slow
        mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": SLOW_MS})
        start = time.monotonic()
        client.database_status(db)
        one = time.monotonic() - start

        mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": SLOW_MS,
                         "times": THREADS})
        barrier = threading.Barrier(THREADS + 1)
        results: list[Any] = [None] * THREADS
        ticks = 0
        done = threading.Event()

        def worker(i: int) -> None:
            barrier.wait()
            try:
                results[i] = client.database_status(db)
            except BaseException as e:  # reported below
                results[i] = e

        def ticker() -> None:
            # A pure-Python thread: it only runs while nobody holds the GIL for long.
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        tick_thread = threading.Thread(target=ticker)
        for t in threads:
            t.start()
        barrier.wait()
        start = time.monotonic()
        tick_thread.start()
        for t in threads:
            t.join(30)
        total = time.monotonic() - start
        done.set()
        tick_thread.join()

    assert all(isinstance(r, qr.DeploymentStatus) for r in results), results
    assert mock.view(db)["faults"] == []  # all eight were slowed down
    figures("GIL", one_call_s=one, eight_threads_s=total, ratio=total / one, ticker_ticks=ticks)
    assert one >= SLOW_MS / 1000 * 0.9
    assert total < 3 * one, f"8 concurrent calls took {total:.2f}s, one took {one:.2f}s"
    assert ticks >= 20, f"a Python thread ticked only {ticks} times during the calls"


def interrupt_after(delay: float) -> tuple[threading.Timer, list[float]]:
    sent: list[float] = []

    def fire() -> None:
        sent.append(time.monotonic())
        _thread.interrupt_main()  # what a SIGINT does to the main thread

    timer = threading.Timer(delay, fire)
    timer.start()
    return timer, sent


def test_ctrl_c_interrupts_a_wait(client: qr.Client, mock: Mock) -> None:
    # Delays off the 50 ms cancel-poll grid, so the figures show the real spread.
    latencies = []
    for delay in (0.31, 0.337, 0.363, 0.389, 0.415):
        db = mock.database(tick_ms=60_000)
        timer, sent = interrupt_after(delay)
        try:
            with pytest.raises(KeyboardInterrupt):
                client.redeploy_and_wait(db, poll_interval=3.0, timeout=60)
            caught = time.monotonic()
        finally:
            timer.cancel()
        latencies.append(caught - sent[0])
        polls = mock.requests(db)["status"]
        time.sleep(0.1)
        assert mock.requests(db)["status"] == polls  # nothing goes on in the background
        assert client.database_status(db).state == "QUEUED"  # interpreter and client fine
    figures("Ctrl-C during redeploy_and_wait (in process, 5 runs)",
            mean_ms=sum(latencies) / len(latencies) * 1000, max_ms=max(latencies) * 1000)
    assert max(latencies) < 0.5


def test_ctrl_c_interrupts_a_long_single_call(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 20_000})
    timer, sent = interrupt_after(0.523)
    try:
        with pytest.raises(KeyboardInterrupt):
            client.database_status(db)
        caught = time.monotonic()
    finally:
        timer.cancel()
    latency = caught - sent[0]
    figures("Ctrl-C during one slow call (in process)", latency_ms=latency * 1000)
    assert latency < 0.5
    assert client.database_status(db).state == "DEPLOYED"


CHILD = textwrap.dedent(
    """
    import sys, time
    import qovery_redeploy as qr
    client = qr.Client()
    client.database_status(sys.argv[1])
    print("ready", flush=True)
    try:
        client.redeploy_and_wait(sys.argv[1], poll_interval=3.0, timeout=60)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(42)
    print("not interrupted", flush=True)
    """
)


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return proc.stdout.readline().strip()


def test_sigint_to_a_python_process_waiting(mock: Mock) -> None:
    db = mock.database(tick_ms=60_000)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, db], env=python_env(mock),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert read_line(proc, 30) == "ready"
        time.sleep(0.527)  # well inside redeploy_and_wait, off the 50 ms poll grid
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = read_line(proc, 10)
        latency = time.monotonic() - sent
        code = proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read()
    figures("SIGINT to a waiting Python process", latency_ms=latency * 1000)
    assert line == "interrupted", err
    assert code == 42, err
    assert "panicked" not in err and "Fatal" not in err
    assert latency < 0.5


def test_client_survives_multiprocessing_fork(client: qr.Client, mock: Mock) -> None:
    ctx = multiprocessing.get_context("fork")
    db = mock.database(tick_ms=50)
    client.database_status(db)  # the parent now holds a pooled keep-alive connection
    queue: Any = ctx.Queue()

    def child() -> None:
        start = time.monotonic()
        status = client.database_status(db)
        first = time.monotonic() - start
        final = client.redeploy_and_wait(db, poll_interval=0.02, timeout=20)
        queue.put((status, final, first, os.getpid()))

    proc = ctx.Process(target=child)
    start = time.monotonic()
    proc.start()
    try:
        status, final, first, pid = queue.get(timeout=30)
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    took = time.monotonic() - start
    figures("fork (multiprocessing)", child_first_call_ms=first * 1000, child_total_s=took)
    assert proc.exitcode == 0
    assert pid != os.getpid()
    assert isinstance(status, qr.DeploymentStatus) and status.state == "DEPLOYED"
    assert final.is_success and final.deployment_request_id is not None
    # The parent's client still works, and sees the deployment the child made.
    after = client.database_status(db)
    assert after.deployment_request_id == final.deployment_request_id
    assert mock.requests(db)["redeploy"] == 1


def test_client_survives_os_fork(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    client.database_status(db)
    pid = os.fork()
    if pid == 0:  # child: report through the exit code only
        code = 3
        try:
            code = 0 if client.database_status(db).state == "DEPLOYED" else 1
        except BaseException:
            code = 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.01)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert client.database_status(db).state == "DEPLOYED"
    assert mock.requests(db)["status"] == 3

"""`AsyncClient` under a real event loop (`asyncio.run`): the loop keeps running during a
slow call, cancelling a task stops its request, 50 concurrent awaits share one client, and
the progress callback runs on the loop's thread."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time

import pytest

import qovery_redeploy as qr
from qovery_redeploy import _qovery_redeploy as native

from conftest import Mock, figures


def make(mock: Mock, **kw: float) -> qr.AsyncClient:
    return qr.AsyncClient(token=mock.token, base_url=mock.url, max_retries=0,
                          timeout=kw.get("timeout", 10.0))


async def in_flight_drops_to(n: int, within: float) -> float:
    """Seconds until the async client's blocking calls number `n` (fails after `within`)."""
    start = time.monotonic()
    while native._async_in_flight() > n:
        if time.monotonic() - start > within:
            raise AssertionError(f"{native._async_in_flight()} calls still running")
        await asyncio.sleep(0.002)
    return time.monotonic() - start


def test_methods_are_coroutine_functions() -> None:
    for name in ("redeploy_database", "database_status", "wait_for_database",
                 "redeploy_and_wait", "close", "__aenter__", "__aexit__"):
        assert inspect.iscoroutinefunction(getattr(qr.AsyncClient, name)), name


def test_the_loop_keeps_ticking_during_a_slow_call(mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 600})

    async def main() -> tuple[qr.DeploymentStatus, int, float]:
        ticks = 0
        stop = False

        async def ticker() -> None:
            nonlocal ticks
            while not stop:
                await asyncio.sleep(0.01)
                ticks += 1

        async with make(mock) as client:
            t = asyncio.create_task(ticker())
            start = time.monotonic()
            status = await client.database_status(db)
            took = time.monotonic() - start
            stop = True
            await t
        assert client.closed
        return status, ticks, took

    status, ticks, took = asyncio.run(main())
    assert status.state == "DEPLOYED"
    assert took >= 0.55
    # 10 ms ticks over 600 ms: a blocked loop would show about none.
    assert ticks >= 20, ticks
    figures("async slow call", seconds=took, loop_ticks=ticks)


def test_cancel_stops_the_request_within_100ms(mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 20_000})

    async def main() -> tuple[float, float]:
        async with make(mock, timeout=30.0) as client:
            before = native._async_in_flight()
            task = asyncio.create_task(client.database_status(db))
            await asyncio.sleep(0.3)  # the request is sent and waits for headers
            assert native._async_in_flight() == before + 1
            start = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            raised = time.monotonic() - start
            stopped = await in_flight_drops_to(before, within=2.0)
            return raised, stopped

    raised, stopped = asyncio.run(main())
    figures("async cancel", cancelled_error_s=raised, request_stopped_s=stopped)
    print(f"cancel: CancelledError after {raised * 1000:.1f} ms, request stopped after "
          f"{stopped * 1000:.1f} ms")
    assert stopped < 0.1, stopped


def test_wait_for_timeout_cancels_the_call(mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 20_000})

    async def main() -> float:
        async with make(mock, timeout=30.0) as client:
            before = native._async_in_flight()
            start = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.wait_for_database(db, poll_interval=0.05), 0.3)
            elapsed = time.monotonic() - start
            stopped = await in_flight_drops_to(before, within=2.0)
            assert stopped < 0.1, stopped
            return elapsed

    elapsed = asyncio.run(main())
    assert 0.28 <= elapsed < 1.0, elapsed


def test_fifty_concurrent_awaits_on_one_client(mock: Mock) -> None:
    dbs = [mock.database() for _ in range(50)]
    for db in dbs:
        mock.faults(db, {"on": "status", "kind": "slow_headers", "delay_ms": 300})

    async def main() -> tuple[list[qr.DeploymentStatus], float]:
        async with make(mock) as client:
            start = time.monotonic()
            got = await asyncio.gather(*(client.database_status(db) for db in dbs))
            return list(got), time.monotonic() - start

    got, took = asyncio.run(main())
    assert [str(s.id) for s in got] and all(s.state == "DEPLOYED" for s in got)
    # 50 x 300 ms one after the other would be 15 s.
    assert took < 5.0, took
    figures("async 50 concurrent", seconds=took)


def test_redeploy_and_wait_progress_runs_on_the_loop_thread(mock: Mock) -> None:
    db = mock.database(tick_ms=100)

    async def main() -> tuple[qr.DeploymentStatus, list[tuple[str, int, str | None]], int]:
        seen: list[tuple[str, int, str | None]] = []
        async with make(mock) as client:
            final = await client.redeploy_and_wait(
                db, poll_interval=0.02, timeout=30,
                on_progress=lambda s: seen.append((s.state, threading.get_ident(), s.belongs)))
        return final, seen, threading.get_ident()

    final, seen, loop_thread = asyncio.run(main())
    assert final.state == "DEPLOYED"
    assert seen[0][0] == "QUEUED" and seen[-1][0] == "DEPLOYED", seen
    assert {t for _, t, _ in seen} == {loop_thread}
    # The statuses of the deployment this call started, as the sync client says too.
    assert {b for _, _, b in seen} == {"ours"}, seen


def test_remembered_accepted_and_callback_exception(mock: Mock) -> None:
    db = mock.database(tick_ms=150, stale_polls=2)

    class Stop(Exception):
        pass

    def stop(status: qr.DeploymentStatus) -> None:
        raise Stop

    async def main() -> None:
        async with make(mock) as client:
            with pytest.raises(Stop) as info:
                await client.redeploy_and_wait(db, poll_interval=0.02, on_progress=stop)
            accepted = getattr(info.value, "accepted")
            assert accepted == client.accepted_redeploy(db) and accepted is not None
            final = await client.wait_for_database(db, poll_interval=0.02, timeout=30)
            assert final.deployment_request_id == accepted.deployment_request_id
            with pytest.raises(qr.NotFoundError):
                await client.database_status("3c90c3cc-0d44-4b50-8888-8dd25736052a")
            with pytest.raises(qr.InvalidInputError):
                await client.redeploy_database("nope")
        with pytest.raises(qr.ClientClosedError):
            await client.database_status(db)

    asyncio.run(main())
    assert mock.requests(db)["redeploy"] == 1

#!/usr/bin/env python3
"""Soak and memory tests of the Python package against qovery-mock.

    soak.py soak [--threads 16] [--calls 2000] [--fault-every 8] [--wait-every 25] [--max-seconds 600]
    soak.py rss  [--calls 20000] [--fault-every 4] [--max-growth-mib 5]

Env: QOVERY_MOCK_URL (a running qovery-mock), QOVERY_MOCK_TOKEN (a token it accepts).

``soak``: threads share ONE ``qovery_redeploy.Client``; one call in F gets a fault injected
just before it (same menu as tests/soak/soak.c). Every result is accounted for: each call
must return what its fault implies (a status for its own database, or the right exception
class and ``kind``, never showing the token), and the requests the mock counted per database
must equal what the calls imply. Bounded: a watchdog fails the run after --max-seconds.

``rss``: one thread, one call in F (default 4) with one of the faults that end in an error
or cost no retry (so no backoff sleep slows the loop: every exception path, at full speed),
plus plain redeploys and status polls; the resident set size is read after a warm-up (a tenth
of the calls, at least 500) and at the end, both after ``gc.collect()``; its growth must stay
under --max-growth-mib. Why 5 MiB: one call handles about 1.5 KB (request, 600-byte answer,
a DeploymentStatus or an exception); keeping even one answer per call alive would grow the
RSS by 12 MiB over 20,000 calls, while the allocator's own noise measured here is under
1 MiB. The samples in between and the slope (bytes per call) are printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mockctl import Control  # noqa: E402

import qovery_redeploy as qr  # noqa: E402

# (call, fault or None, expected kind ("ok" for success), POSTs, GETs it costs)
MENU: list[tuple[str, Optional[dict[str, Any]], str, int, int]] = [
    ("status", {"on": "status", "kind": "http", "code": 503}, "ok", 0, 2),
    ("status", {"on": "status", "kind": "reset"}, "ok", 0, 2),
    ("status", {"on": "status", "kind": "truncated_body"}, "ok", 0, 2),
    ("status", {"on": "status", "kind": "malformed_json"}, "decode", 0, 1),
    ("status", {"on": "status", "kind": "http", "code": 404}, "not_found", 0, 1),
    ("status", {"on": "status", "kind": "http", "code": 401}, "unauthorized", 0, 1),
    ("redeploy", {"on": "redeploy", "kind": "rate_limit", "retry_after": "0"}, "ok", 2, 0),
    ("redeploy", {"on": "redeploy", "kind": "http", "code": 409}, "conflict", 1, 0),
    ("redeploy", {"on": "redeploy", "kind": "reset"}, "outcome_unknown", 1, 0),
    ("redeploy", {"on": "redeploy", "kind": "http", "code": 502, "style": "html"}, "server", 1, 0),
    ("redeploy", {"on": "redeploy", "kind": "slow_headers", "delay_ms": 30}, "ok", 1, 0),
    # a 2xx redeploy whose body is over the cap was accepted: a status marked accepted_unreadable
    ("redeploy", {"on": "redeploy", "kind": "huge_body", "bytes": 2000000}, "accepted", 1, 0),
    ("wait", {"on": "status", "kind": "http", "code": 500, "times": 2}, "ok", 1, 3),
]
# The faults that cost no backoff sleep (no retry): every error path, at full speed.
FAST_MENU = [m for m in MENU if m[2] != "ok" or m[1] is not None and m[1]["kind"] == "slow_headers"]


@dataclass
class Worker:
    index: int
    db: str
    posts: int = 0
    gets: int = 0
    ok: int = 0
    expected_errors: int = 0
    unexpected: int = 0
    faults: int = 0
    latency_ms: list[float] = field(default_factory=list)
    keep_latencies: bool = True  # off for the RSS run: a float per call is memory growth too
    max_latency_ms: float = 0.0
    first_error: str = ""


def plan(index: int, i: int, fault_every: int, wait_every: int,
         menu: list[tuple[str, Optional[dict[str, Any]], str, int, int]] = MENU,
         ) -> tuple[str, Optional[dict[str, Any]], str, int, int]:
    if fault_every and i % fault_every == fault_every - 1:
        return menu[(index + i // fault_every) % len(menu)]
    if wait_every and i % wait_every == wait_every - 1:
        return ("wait", None, "ok", 1, 1)
    return ("redeploy", None, "ok", 1, 0) if i % 2 == 0 else ("status", None, "ok", 0, 1)


def one_call(client: qr.Client, mock: Any, w: Worker, i: int, token: str,
             fault_every: int, wait_every: int, menu: Any = MENU) -> None:
    call, fault, kind, posts, gets = plan(w.index, i, fault_every, wait_every, menu)
    if fault is not None:
        mock.control("POST", f"/databases/{w.db}/faults", fault)
        w.faults += 1
    started = time.monotonic()
    got, text = "ok", ""
    try:
        if call == "redeploy":
            s = client.redeploy_database(w.db)
        elif call == "status":
            s = client.database_status(w.db)
        else:
            s = client.redeploy_and_wait(w.db, timeout=20, poll_interval=0.01, settle_delay=20)
        if s.accepted_unreadable:
            got, right = "accepted", s.id is None
        else:
            right = str(s.id) == w.db and (call != "wait" or s.is_success)
    except qr.QoveryError as e:
        got, text = e.kind, f"{e} {e!r} {e.detail!r}"
        right = True
    took = (time.monotonic() - started) * 1000
    w.max_latency_ms = max(w.max_latency_ms, took)
    if w.keep_latencies:
        w.latency_ms.append(took)
    right = right and got == kind and token.lower() not in text.lower()
    if right:
        if got in ("ok", "accepted"):
            w.ok += 1
        else:
            w.expected_errors += 1
    else:
        w.unexpected += 1
        if not w.first_error:
            w.first_error = f"call {i} ({fault or 'no fault'}): expected {kind}, got {got}: {text}"
    w.posts += posts
    w.gets += gets


def connect() -> tuple[Control, str, qr.Client]:
    mock = Control.from_env()  # QOVERY_MOCK_URL, QOVERY_MOCK_TOKEN
    client = qr.Client(mock.token, mock.url, timeout=5.0, max_retries=2, deadline=30.0)
    return mock, mock.token, client


def new_worker(mock: Any, index: int) -> Worker:
    db = str(uuid.uuid4())
    mock.put_database(db, {"tick_ms": 0})
    return Worker(index, db)


def account(mock: Any, workers: list[Worker]) -> tuple[int, int, int]:
    """(POSTs, GETs) the mock counted, and how many databases differ from what was implied."""
    posts = gets = mismatches = 0
    for w in workers:
        p, g = mock.counts(w.db)
        posts, gets = posts + p, gets + g
        if (p, g) != (w.posts, w.gets):
            mismatches += 1
            print(f"thread {w.index}: the mock saw {p} POSTs / {g} GETs, the calls imply "
                  f"{w.posts} / {w.gets}", file=sys.stderr)
        if w.first_error:
            print(f"thread {w.index}: {w.first_error}", file=sys.stderr)
    return posts, gets, mismatches


def watchdog(seconds: float, done: threading.Event) -> None:
    if not done.wait(seconds):
        print(f"soak: HUNG: not finished within {seconds:.0f} s", file=sys.stderr, flush=True)
        os._exit(3)


def soak(args: argparse.Namespace) -> int:
    mock, token, client = connect()
    workers = [new_worker(mock, t) for t in range(args.threads)]
    done = threading.Event()
    threading.Thread(target=watchdog, args=(args.max_seconds, done), daemon=True).start()

    def run(w: Worker) -> None:
        for i in range(args.calls):
            one_call(client, mock, w, i, token, args.fault_every, args.wait_every)

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    done.set()
    client.close()
    posts, gets, mismatches = account(mock, workers)
    total = args.threads * args.calls
    ok = sum(w.ok for w in workers)
    errors = sum(w.expected_errors for w in workers)
    unexpected = sum(w.unexpected for w in workers)
    faults = sum(w.faults for w in workers)
    lat = sorted(x for w in workers for x in w.latency_ms)
    print(f"soak Python: {args.threads} threads x {args.calls} calls = {total} calls on one client, "
          f"{faults} with an injected fault ({100 * faults / total:.1f}%): {ok} ok, {errors} expected "
          f"errors, {unexpected} unexpected; mock counted {posts} POSTs + {gets} GETs, "
          f"{'MISMATCH' if mismatches else 'as implied by every call'}; latency p50 "
          f"{lat[len(lat) // 2]:.1f} ms, p99 {lat[len(lat) * 99 // 100]:.1f} ms, max {lat[-1]:.1f} ms; "
          f"{wall:.1f} s")
    return 0 if unexpected == 0 and mismatches == 0 and ok + errors == total else 1


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss(args: argparse.Namespace) -> int:
    mock, token, client = connect()
    w = new_worker(mock, 0)
    w.keep_latencies = False
    warmup = max(500, args.calls // 10)
    samples: list[tuple[int, int]] = []
    started = time.monotonic()
    for i in range(args.calls):
        one_call(client, mock, w, i, token, args.fault_every, 0, FAST_MENU)
        done = i + 1
        if done == warmup or (done > warmup and (done - warmup) % max(1, (args.calls - warmup) // 8) == 0) \
                or done == args.calls:
            gc.collect()
            samples.append((done, rss_bytes()))
    wall = time.monotonic() - started
    client.close()
    _, _, mismatches = account(mock, [w])
    base_calls, base = samples[0]
    end_calls, end = samples[-1]
    growth = end - base
    slope = growth / max(1, end_calls - base_calls)
    curve = " ".join(f"{c}:{b / 2**20:.1f}" for c, b in samples)
    bound = args.max_growth_mib * 2**20
    print(f"rss Python: {args.calls} calls ({w.faults} faulted, {w.ok} ok, {w.expected_errors} expected "
          f"errors, {w.unexpected} unexpected) on one client: RSS {base / 2**20:.1f} MiB after "
          f"{base_calls} warm-up calls, {end / 2**20:.1f} MiB after {end_calls}: growth "
          f"{growth / 2**20:+.2f} MiB ({slope:+.1f} bytes/call), bound {args.max_growth_mib} MiB; "
          f"slowest call {w.max_latency_ms:.0f} ms; {wall:.1f} s")
    print(f"rss samples (calls:MiB): {curve}")
    return 0 if growth < bound and w.unexpected == 0 and mismatches == 0 else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--threads", type=int, default=16)
    s.add_argument("--calls", type=int, default=2000)
    s.add_argument("--fault-every", type=int, default=8)
    s.add_argument("--wait-every", type=int, default=25)
    s.add_argument("--max-seconds", type=float, default=600)
    r = sub.add_parser("rss")
    r.add_argument("--calls", type=int, default=20000)
    r.add_argument("--fault-every", type=int, default=4)
    r.add_argument("--max-growth-mib", type=float, default=5.0)
    args = ap.parse_args()
    return soak(args) if args.mode == "soak" else rss(args)


if __name__ == "__main__":
    sys.exit(main())

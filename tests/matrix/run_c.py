#!/usr/bin/env python3
"""The fault matrix through the C ABI.

Sets up each case of cases.json (qovery-mock database and faults, raw TCP fault server or
closed port; see harness.py), has the matrix_c program make the call(s) through
libqovery_redeploy, and checks the results: error code (``qovery_code_name``, with
``invalid_argument`` read as the core's ``invalid_input``), HTTP status, time, requests the
server saw, and the token's absence from every message and detail.

    run_c.py --bin path/to/matrix_c [--mock-url URL] [-k SUBSTRING] [--verbose]

A C string cannot hold a NUL: inputs containing one are sent with 0xFF in its place (so they
are refused as non-UTF-8, still invalid_input); cases whose outcome differs in C because of
that carry ``expect_c``. Exit status 0 only if every case passed (known bugs excepted; a
known bug that passes is a failure, so the mark gets removed).
"""

from __future__ import annotations

import argparse
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

C_NAMES = {"invalid_argument": "invalid_input"}


def field(value: Optional[bytes]) -> str:
    if value is None:
        return "-"
    return "x" + value.replace(b"\x00", b"\xff").hex()


def text(value: str) -> Optional[str]:
    if value == "-":
        return None
    return bytes.fromhex(value[1:]).decode("utf-8", "replace")


class Driver:
    def __init__(self, binary: str) -> None:
        self.proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0)
        assert self.proc.stdout is not None
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buf = b""

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def readline(self, deadline: float) -> str:
        assert self.proc.stdout is not None
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(timeout=left):
                raise TimeoutError("matrix_c did not answer in time (hang?)")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            if not chunk:
                raise RuntimeError(f"matrix_c exited (status {self.proc.wait()})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def close(self) -> int:
        try:
            self.send("quit")
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        return self.proc.wait(timeout=60)


def run_case(driver: Driver, s: Any) -> list[harness.Outcome]:
    c, w = s.client, s.wait
    driver.send("\t".join([
        "case", s.call, field(s.base_url), field(s.token), field(s.database_id),
        field(s.user_agent), str(c["connect_timeout_ms"]), str(c["request_timeout_ms"]),
        str(c["deadline_ms"]), str(c["max_retries"]), str(w["timeout_ms"]),
        str(w["poll_interval_ms"]), str(w["settle_delay_ms"]), str(s.repeat), str(s.pause_ms)]))
    # Bounded: the case's own bound per call, plus slack for a loaded machine.
    deadline = time.monotonic() + s.repeat * (s.case["expect"]["max_ms"] / 1000 + 30)
    outcomes: list[harness.Outcome] = []
    while True:
        line = driver.readline(deadline)
        if line == "done":
            return outcomes
        f = line.split("\t")
        if f[0] != "result" or len(f) != 9:
            raise RuntimeError(f"unexpected line from matrix_c: {line[:200]!r}")
        code = C_NAMES.get(f[1], f[1])
        outcomes.append(harness.Outcome(
            kind=code, http_status=int(f[2]) or None, elapsed_ms=float(f[3]),
            message=text(f[4]) or "", detail=text(f[5]), state=text(f[6]),
            retry_after_ms=None if f[7] == "-" else int(f[7])))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the matrix_c executable")
    ap.add_argument("--mock-url", help="a running qovery-mock that accepts the matrix token")
    ap.add_argument("-k", dest="select", help="only the cases whose name contains this")
    ap.add_argument("--verbose", action="store_true", help="one line per case")
    args = ap.parse_args()

    doc = harness.load()
    token = doc["settings"]["token"]
    cases = [c for c in doc["cases"] if not args.select or args.select in c["name"]]
    mock = harness.Control(args.mock_url, token) if args.mock_url else harness.start_mock(doc)
    driver = Driver(args.bin)
    started = time.monotonic()
    passed: list[str] = []
    known: list[str] = []
    failed: list[str] = []
    texts = leaked_known = 0
    try:
        for case in cases:
            s = harness.setup(doc, case, mock)
            try:
                outcomes = run_case(driver, s)
                counts = s.counts()
                lines = s.request_lines()
            finally:
                s.close()
            problems = harness.check(doc, case, outcomes, counts, lines, "c")
            bug = harness.known_bug(case, "c")
            for o in outcomes:
                texts += len(o.texts())
                if problems and bug:
                    leaked_known += sum(harness.leaks(t, token) for t in o.texts())
            ms = sum(o.elapsed_ms for o in outcomes)
            if problems and bug:
                known.append(case["name"])
                print(f"KNOWN BUG {case['name']}: {bug}\n    " + "\n    ".join(problems), flush=True)
            elif problems:
                failed.append(case["name"])
                print(f"FAIL {case['name']}\n    " + "\n    ".join(problems), flush=True)
            elif bug:
                failed.append(case["name"])
                print(f"FAIL {case['name']}: marked known_bug ({bug}) but passes now: remove the mark",
                      flush=True)
            else:
                passed.append(case["name"])
                if args.verbose:
                    print(f"ok   {case['name']} ({outcomes[0].kind}, {ms:.0f} ms)", flush=True)
    finally:
        status = driver.close()
        if isinstance(mock, harness.Mock):
            mock.close()
    if status != 0:
        print(f"FAIL matrix_c exited with status {status} (a sanitizer report is above, if any)")
        failed.append("matrix_c exit status")
    took = time.monotonic() - started
    print(f"summary: matrix C: {len(cases)} cases, {len(passed)} passed, {len(known)} known bugs, "
          f"{len(failed)} failed; {texts} texts checked for the token, {leaked_known} with it (in "
          f"known-bug cases); {took:.1f} s")
    if known:
        print("known bugs (C): " + ", ".join(known))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

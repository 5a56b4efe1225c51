"""The fault matrix (tests/matrix/cases.json) through the Python package.

Each case runs against its own database on a qovery-mock started for this module (with the
matrix's token), a raw TCP fault server, or a closed port, and is checked for its error
kind, the requests the server saw (a redeploy POST is never sent twice by the client), the
time it took, and the token's absence from ``str()``/``repr()`` of the exception, its
``detail`` and every ``qovery_redeploy`` log record (DEBUG included). The rules are in
tests/matrix/harness.py, shared with the C driver; the Rust driver is core/tests/matrix.rs.

A case marked ``known_bug`` that fails is reported as XFAIL with the bug's description (and
printed); one that passes fails, so that the mark is removed once the bug is fixed.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

import qovery_redeploy as qr

from conftest import figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "matrix"))
harness: Any = importlib.import_module("harness")

DOC: dict[str, Any] = harness.load()
CASES: list[dict[str, Any]] = DOC["cases"]
TOKEN: str = DOC["settings"]["token"]

# Every text the matrix produced (messages, reprs, details, log lines), for the final sweep.
SEEN_TEXTS: list[tuple[str, str]] = []
RESULTS: dict[str, str] = {}


@pytest.fixture(scope="module")
def matrix_mock() -> Iterator[Any]:
    with harness.start_mock(DOC) as m:
        yield m


def _text(raw: bytes) -> str:
    """An input as Python holds it: non-UTF-8 bytes become surrogate escapes, as with
    ``os.fsdecode`` and ``sys.argv``."""
    return raw.decode("utf-8", "surrogateescape")


def _outcome(started: float, result: Any = None, error: Optional[BaseException] = None) -> Any:
    elapsed = (time.monotonic() - started) * 1000
    if error is None:
        # A redeploy answered 2xx with a body that could not be read: accepted.
        kind = "accepted" if result.accepted_unreadable else "ok"
        return harness.Outcome(kind=kind, elapsed_ms=elapsed, state=str(result.state),
                               debug=repr(result))
    if isinstance(error, qr.QoveryError):
        texts = [repr(a) for a in error.args]
        return harness.Outcome(
            kind=error.kind, elapsed_ms=elapsed, http_status=error.http_status,
            message=str(error), detail=error.detail, debug=" ".join([repr(error), *texts]),
            state=str(error.status.state) if error.status is not None else None,
            retry_after_ms=(round(error.retry_after * 1000)
                            if error.retry_after is not None else None))
    return harness.Outcome(kind=f"exception:{type(error).__name__}", elapsed_ms=elapsed,
                           message=str(error), debug=repr(error))


def _run(s: Any) -> list[Any]:
    """Builds the client and makes the case's call(s); one Outcome per call."""
    c, w = s.client, s.wait
    started = time.monotonic()
    try:
        client = qr.Client(
            token=_text(s.token), base_url=_text(s.base_url),
            timeout=c["request_timeout_ms"] / 1000, max_retries=c["max_retries"],
            user_agent=None if s.user_agent is None else _text(s.user_agent),
            connect_timeout=c["connect_timeout_ms"] / 1000, deadline=c["deadline_ms"] / 1000)
    except Exception as e:  # noqa: BLE001 - every failure is an outcome to check
        return [_outcome(started, error=e)]
    outcomes = []
    database_id = _text(s.database_id)
    with client:
        for i in range(s.repeat):
            if i:
                time.sleep(s.pause_ms / 1000)
            started = time.monotonic()
            try:
                if s.call == "redeploy":
                    result = client.redeploy_database(database_id)
                elif s.call == "status":
                    result = client.database_status(database_id)
                else:
                    result = client.redeploy_and_wait(
                        database_id, timeout=w["timeout_ms"] / 1000,
                        poll_interval=w["poll_interval_ms"] / 1000,
                        settle_delay=w["settle_delay_ms"] / 1000)
                outcomes.append(_outcome(started, result=result))
            except Exception as e:  # noqa: BLE001
                outcomes.append(_outcome(started, error=e))
    return outcomes


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], matrix_mock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    s = harness.setup(DOC, case, matrix_mock)
    try:
        outcomes = _run(s)
        counts = s.counts()
        lines = s.request_lines()
    finally:
        s.close()
    logs = [r.getMessage() for r in caplog.records if r.name.startswith("qovery_redeploy")]
    outcomes[-1].logs = logs
    for o in outcomes:
        SEEN_TEXTS.extend((case["name"], t) for t in o.texts())
    problems: list[str] = harness.check(DOC, case, outcomes, counts, lines, "python")
    bug: Optional[str] = harness.known_bug(case, "python")
    RESULTS[case["name"]] = "pass" if not problems else ("known_bug" if bug else "fail")
    if problems and bug:
        print(f"\nKNOWN BUG {case['name']}: {bug}\n  " + "\n  ".join(problems), file=sys.stderr)
        pytest.xfail(f"known bug: {bug} | {'; '.join(problems)}")
    if not problems and bug:
        pytest.fail(f"{case['name']} is marked known_bug ({bug}) but passes now: remove the mark")
    assert not problems, f"{case['name']}:\n  " + "\n  ".join(problems)


def test_zz_token_appears_in_no_text_of_the_matrix() -> None:
    """Runs after the cases: the sweep over everything they produced, and the figures."""
    if not RESULTS:
        pytest.skip("no matrix case ran (deselected)")
    leaked = [(n, t) for n, t in SEEN_TEXTS if harness.leaks(t, TOKEN)]
    unexpected = [(n, t) for n, t in leaked if RESULTS.get(n) != "known_bug"]
    figures("matrix python", cases=len(RESULTS),
            passed=sum(r == "pass" for r in RESULTS.values()),
            known_bugs=sum(r == "known_bug" for r in RESULTS.values()),
            failed=sum(r == "fail" for r in RESULTS.values()), texts_checked=len(SEEN_TEXTS),
            texts_with_token=len(leaked), in_known_bug_cases=len(leaked) - len(unexpected))
    assert not unexpected, f"{len(unexpected)} texts show the token, e.g. {unexpected[0]!r}"

"""End to end: a redeploy answered 2xx is accepted, whatever the body, through the
``qovery-redeploy`` command and a real HTTP server.

For each of ``CLI_SCHEMA_BODIES`` bodies (default 200) generated from the committed schema
(the strategies of test_schema_props.py: hypothesis-jsonschema, plus loose enums and extra
properties; each body written as ASCII-escaped or as UTF-8 JSON), qovery-mock gets a ``raw``
fault for the next redeploy: a ``202 Accepted`` with that body, byte for byte. The native CLI
(``qovery-redeploy --api-url <mock> --json <db>``, token in ``QOVERY_API_TOKEN``) must exit 0,
print the body as received on stdout and no warning. Then a few unreadable 202 answers (not
JSON, cut short, empty, JSON without a string ``state``...) must exit 0 too, with a
``warning:`` line on stderr. The mock must have seen exactly one redeploy POST per run.
The counts and the time are reported under "measured figures".
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CLI_BIN, Mock, figures
from test_schema_props import BODIES

N = int(os.environ.get("CLI_SCHEMA_BODIES", "200"))
WORKERS = 4
# The time bound of the whole test (measured: about 10 s for 200 bodies on a shared 2-core
# machine, debug build).
BOUND_S = float(os.environ.get("CLI_SCHEMA_BOUND_S", "30"))
_SCRUB = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
          "QOVERY_API_URL", "QOVERY_CA_BUNDLE")


def answer_202(body: bytes, content_length: int | None = None) -> str:
    """A raw HTTP answer: 202 with ``body``; ``content_length`` overrides the header (a
    larger one plus the FIN after the bytes is a body cut short)."""
    length = len(body) if content_length is None else content_length
    head = ("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n")
    return head + body.decode()


def redeploy(mock: Mock, db: str, raw: str) -> subprocess.CompletedProcess[str]:
    """Queues the raw answer for the next redeploy, then runs the CLI once."""
    mock.faults(db, {"on": "redeploy", "kind": "raw", "bytes": raw})
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["QOVERY_API_TOKEN"] = mock.token
    r = subprocess.run([str(CLI_BIN), "--api-url", mock.url, "--json", db], env=env,
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert mock.token not in r.stdout + r.stderr
    return r


# (name, the raw answer): each a 202 whose body is not a Status.
UNREADABLE: list[tuple[str, str]] = [
    ("empty", answer_202(b"")),
    ("not JSON (HTML)", answer_202(b"<html><body>Accepted</body></html>")),
    ("not JSON (text)", answer_202(b"accepted")),
    ("truncated JSON", answer_202(b'{"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "state": ')),
    ("cut short (Content-Length 400, 30 bytes, FIN)",
     answer_202(b'{"state": "QUEUED", "id": "3c90', content_length=400)),
    ("JSON without state", answer_202(b'{"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}')),
    ("state not a string", answer_202(b'{"state": 7}')),
    ("a JSON array", answer_202(b'[{"state": "QUEUED"}]')),
    ("a JSON string", answer_202(b'"QUEUED"')),
    ("null", answer_202(b"null")),
]


def check_accepted(r: subprocess.CompletedProcess[str], text: str) -> None:
    assert r.returncode == 0, (r.returncode, r.stderr, text)
    assert r.stdout == text + "\n", (r.stdout, text)
    assert "warning:" not in r.stderr, r.stderr


def test_cli_reports_every_spec_generated_202_accepted(mock: Mock) -> None:
    if not CLI_BIN.exists():
        raise RuntimeError(f"{CLI_BIN} is missing: run `cargo build -p qovery-redeploy-cli`")
    texts: list[str] = []
    t0 = time.monotonic()

    @settings(max_examples=N, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(BODIES, st.booleans())
    def generate(body: dict[str, Any], utf8: bool) -> None:
        text = json.dumps(body)
        if utf8:
            try:
                text = json.dumps(body, ensure_ascii=False)
                text.encode()
            except UnicodeEncodeError:  # a lone surrogate: only \u-escaped JSON can hold it
                text = json.dumps(body)
        texts.append(text)

    # Generating is the slow part (hypothesis-jsonschema, 30-60 bodies/s): all first, then
    # the CLI runs, WORKERS at a time, each worker on its own database (its own fault queue).
    generate()
    generated_s = time.monotonic() - t0
    t1 = time.monotonic()
    dbs = [mock.database() for _ in range(WORKERS)]

    def lane(i: int) -> int:
        done = 0
        for text in texts[i::WORKERS]:
            check_accepted(redeploy(mock, dbs[i], answer_202(text.encode())), text)
            done += 1
        return done

    with ThreadPoolExecutor(WORKERS) as pool:
        accepted = sum(pool.map(lane, range(WORKERS)))
    runs_s = time.monotonic() - t1

    t2 = time.monotonic()
    unreadable = 0
    for name, raw in UNREADABLE:
        r = redeploy(mock, dbs[0], raw)
        assert r.returncode == 0, (name, r.returncode, r.stderr)
        assert "qovery-redeploy: warning: the redeploy was accepted" in r.stderr, (name, r.stderr)
        sent = raw.split("\r\n\r\n", 1)[1]
        # stdout: what was received, newline-terminated (a cut-short body: what arrived).
        assert r.stdout.endswith("\n") and sent.startswith(r.stdout[:-1]), (name, r.stdout)
        if "cut short" not in name:
            assert r.stdout == sent + "\n", (name, r.stdout)
        unreadable += 1
    unreadable_s = time.monotonic() - t2
    total_s = time.monotonic() - t0

    figures("cli schema bodies (202 from qovery-mock raw faults)",
            spec_bodies=len(texts), accepted=accepted, generate_s=generated_s,
            cli_runs_s=runs_s, workers=WORKERS, unreadable_bodies=len(UNREADABLE),
            unreadable_accepted=unreadable, unreadable_s=unreadable_s, total_s=total_s)
    assert len(texts) >= N, f"only {len(texts)} bodies generated"
    assert accepted == len(texts)
    assert unreadable == len(UNREADABLE)
    # Never twice: one POST per run, and no status GET.
    posts = [mock.requests(db) for db in dbs]
    assert sum(p["redeploy"] for p in posts) == len(texts) + len(UNREADABLE), posts
    assert sum(p["status"] for p in posts) == 0
    assert total_s < BOUND_S, f"{total_s:.1f} s"

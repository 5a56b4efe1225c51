"""The fault matrix's Python side, shared by the C driver (run_c.py) and the Python driver
(tests/python/test_matrix.py): reads cases.json, expands its placeholders, runs qovery-mock
(through tests/mockctl.py) and the raw TCP fault servers, and checks one case's results
against its expectations.

Every socket is on 127.0.0.1 and every wait is bounded. The Rust driver
(core/tests/matrix.rs) implements the same rules; tests/matrix/README.md is their reference.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.json"

sys.path.insert(0, str(HERE.parent))
from mockctl import Control as Control, Mock as Mock  # noqa: E402  (qovery-mock: tests/mockctl.py)


def start_mock(doc: dict[str, Any]) -> Mock:
    """The matrix's qovery-mock: its token and ``settings.mock_args``, quiet."""
    return Mock.start("--quiet", *doc["settings"]["mock_args"], token=doc["settings"]["token"])


def load(path: Path = CASES) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    names = [c["name"] for c in doc["cases"]]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate case names in {path}: {sorted(dupes)}")
    return doc


# --------------------------------------------------------------------------------------------
# Placeholders

_PLACEHOLDER = re.compile(r"\$\{(REPEAT:(\d+):([^}]*)|HTTP_DATE:([+-]\d+)|[A-Z_]+)\}")


def expand(value: Any, ctx: dict[str, str]) -> Any:
    """Expands ``${...}`` in every string of a JSON value (see README.md)."""
    if isinstance(value, str):
        def one(m: re.Match[str]) -> str:
            if m.group(2) is not None:
                return m.group(3) * int(m.group(2))
            if m.group(4) is not None:
                return email.utils.formatdate(time.time() + int(m.group(4)), usegmt=True)
            name = m.group(1)
            if name not in ctx:
                raise KeyError(f"unknown placeholder ${{{name}}}")
            return ctx[name]
        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [expand(v, ctx) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, ctx) for k, v in value.items()}
    return value


def input_bytes(value: Any, ctx: dict[str, str]) -> bytes:
    """An input as bytes: a string (UTF-8 after expansion), ``{"hex": "..."}``, or a list of
    those, concatenated."""
    if isinstance(value, list):
        return b"".join(input_bytes(v, ctx) for v in value)
    if isinstance(value, dict):
        return bytes.fromhex(value["hex"])
    return str(expand(value, ctx)).encode("utf-8")


# --------------------------------------------------------------------------------------------
# Raw TCP fault server

def _status_body(state: str) -> bytes:
    return json.dumps({
        "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "state": state,
        "service_deployment_status": "OUT_OF_DATE", "is_part_last_deployment": True,
        "status_details": {"action": "DEPLOY", "status": "QUEUED", "sub_action": "NONE"},
        "deployment_request_id": "11111111-1111-4111-8111-111111111111",
        "deployment_requests_count": 1, "last_deployment_date": "2026-11-27T08:00:00Z",
    }).encode()


class RawServer:
    """A TCP server on 127.0.0.1 that misbehaves one way (``mode``) on every connection:

    * ``ok``: answers each request (202 to a POST, 200 to a GET) with a Status, keep-alive;
    * ``silent``: reads the request, then says nothing for ``hold_ms``;
    * ``accept_silent``: never reads, never answers, for ``hold_ms``;
    * ``reset_on_accept`` / ``close_on_accept``: RST / FIN as soon as accepted.

    It counts connections and the requests it read (by method) and keeps their request lines.
    """

    MODES = ("ok", "silent", "accept_silent", "reset_on_accept", "close_on_accept")

    def __init__(self, mode: str, hold_ms: int) -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown raw mode {mode!r}")
        self.mode, self.hold = mode, hold_ms / 1000
        self.lock = threading.Lock()
        self.connections = 0
        self.request_lines: list[str] = []
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            posts = sum(1 for r in self.request_lines if r.startswith("POST "))
            gets = sum(1 for r in self.request_lines if r.startswith("GET "))
            return posts, gets, self.connections

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.sock.close()

    def _accept(self) -> None:
        deadline = time.monotonic() + 300  # bounded: a server lives five minutes at most
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_head(self, conn: socket.socket) -> Optional[bytes]:
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head:
            try:
                chunk = conn.recv(4096)
            except OSError:
                return None
            if not chunk or len(head) > 65536:
                return None
            head += chunk
        with self.lock:
            self.request_lines.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
        return head

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.mode == "reset_on_accept":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if self.mode == "close_on_accept":
                return
            if self.mode == "accept_silent":
                self.stop.wait(self.hold)
                return
            if self.mode == "silent":
                if self._read_head(conn) is not None:
                    self.stop.wait(self.hold)
                return
            while not self.stop.is_set():  # ok
                head = self._read_head(conn)
                if head is None:
                    return
                post = head.startswith(b"POST ")
                body = _status_body("QUEUED" if post else "DEPLOYED")
                line = b"202 Accepted" if post else b"200 OK"
                conn.sendall(b"HTTP/1.1 " + line + b"\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        except OSError:
            pass
        finally:
            conn.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# --------------------------------------------------------------------------------------------
# One case: setup, then checks

@dataclass
class Setup:
    """What a driver needs to run one case."""
    case: dict[str, Any]
    ctx: dict[str, str]
    call: str
    database_id: bytes
    token: bytes
    base_url: bytes
    user_agent: Optional[bytes]
    client: dict[str, int]
    wait: dict[str, int]
    repeat: int
    pause_ms: int
    count_id: Optional[str] = None
    raw: Optional[RawServer] = None
    mock: Optional[Control] = None

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def counts(self) -> dict[str, int]:
        """What the server saw: posts, gets (and connections for a raw server)."""
        if self.raw is not None:
            posts, gets, conns = self.raw.counts()
            return {"posts": posts, "gets": gets, "connections": conns}
        if self.mock is not None and self.count_id is not None:
            posts, gets = self.mock.counts(self.count_id)
            return {"posts": posts, "gets": gets}
        return {}

    def request_lines(self) -> list[str]:
        if self.raw is None:
            return []
        with self.raw.lock:
            return list(self.raw.request_lines)


def setup(doc: dict[str, Any], case: dict[str, Any], mock: Control) -> Setup:
    settings = doc["settings"]
    token = settings["token"]
    server = case.get("server", "mock")
    db = str(uuid.uuid4())
    ctx = {
        "TOKEN": token,
        "TOKEN_LOWER": token.lower(),
        "MOCK_URL": mock.url,
        "MOCK_HTTPS_URL": mock.url.replace("http://", "https://", 1),
        "DB": db,
        "NEW_UUID": str(uuid.uuid4()),
    }
    raw = None
    if server == "mock":
        mock.put_database(db, expand(case.get("db_config", {}), ctx))
        if case.get("faults"):
            mock.faults(db, *expand(case["faults"], ctx))
        default_url = mock.url
    elif server == "raw":
        raw = RawServer(case["raw_mode"], int(settings["raw_hold_ms"]))
        default_url = raw.url
    elif server == "closed":
        default_url = closed_port_url()
    else:
        raise ValueError(f"{case['name']}: unknown server {server!r}")
    ctx["RAW_URL"] = raw.url if raw else "http://127.0.0.1:1"
    inputs = case.get("input", {})
    database_id = input_bytes(inputs.get("database_id", "${DB}"), ctx)
    count_id = None
    if server == "mock":
        try:
            count_id = str(uuid.UUID(database_id.decode()))
        except ValueError:
            count_id = db
    return Setup(
        case=case, ctx=ctx, call=case["call"],
        database_id=database_id,
        token=input_bytes(inputs.get("token", "${TOKEN}"), ctx),
        base_url=input_bytes(inputs.get("base_url", default_url), ctx),
        user_agent=input_bytes(inputs["user_agent"], ctx) if "user_agent" in inputs else None,
        client={**settings["client"], **case.get("client", {})},
        wait={**settings["wait"], **case.get("wait", {})},
        repeat=int(case.get("repeat", 1)), pause_ms=int(case.get("pause_ms", 0)),
        count_id=count_id, raw=raw, mock=mock if server == "mock" else None,
    )


@dataclass
class Outcome:
    """One call's result, in language-neutral terms."""
    kind: str                      # "ok", "accepted", a core kind name, or "exception:<Type>"
    elapsed_ms: float
    http_status: Optional[int] = None
    message: str = ""
    detail: Optional[str] = None
    debug: str = ""                # repr() / Debug; "" where the language has none
    state: Optional[str] = None
    retry_after_ms: Optional[int] = None
    logs: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Every text this call produced that a user might see, print or log (a successful
        status's repr is the server's data, not an error text, and is left out)."""
        debug = self.debug if self.kind not in ("ok", "accepted") else ""
        return [t for t in (self.message, debug, self.detail or "", *self.logs) if t]


def leaks(text: str, token: str) -> bool:
    """Whether `text` shows the token, in any letter case."""
    return token.lower() in text.lower()


def _in_range(got: int, want: Any) -> bool:
    if isinstance(want, list):
        return bool(want[0] <= got <= want[1])
    return bool(got == want)


def check(doc: dict[str, Any], case: dict[str, Any], outcomes: list[Outcome],
          counts: dict[str, int], request_lines: list[str], language: str) -> list[str]:
    """Every way `outcomes` (one per call) and `counts` differ from the case's expectations."""
    token = doc["settings"]["token"]
    e = expectation(case, language)
    bad: list[str] = []
    for i, o in enumerate(outcomes):
        at = f"call {i + 1}: " if len(outcomes) > 1 else ""
        got = (f"{o.kind} (state {o.state!r})" if o.kind in ("ok", "accepted")
               else f"{o.kind} ({o.message})")
        kinds = e["kind"] if isinstance(e["kind"], list) else [e["kind"]]
        if o.kind not in kinds:
            bad.append(f"{at}kind: expected {' or '.join(kinds)}, got {got}")
        if "http_status" in e and o.http_status != e["http_status"]:
            bad.append(f"{at}http_status: expected {e['http_status']}, got {o.http_status}")
        if "detail" in e and o.detail != e["detail"]:
            bad.append(f"{at}detail: expected {e['detail']!r}, got {o.detail!r}")
        if "detail_contains" in e and e["detail_contains"] not in (o.detail or ""):
            bad.append(f"{at}detail {o.detail!r} lacks {e['detail_contains']!r}")
        if "message_contains" in e and e["message_contains"] not in o.message:
            bad.append(f"{at}message {o.message!r} lacks {e['message_contains']!r}")
        if "state" in e and o.state != e["state"]:
            bad.append(f"{at}state: expected {e['state']}, got {o.state}")
        if "retry_after_ms" in e and o.retry_after_ms != e["retry_after_ms"]:
            bad.append(f"{at}retry_after_ms: expected {e['retry_after_ms']}, got {o.retry_after_ms}")
        if o.elapsed_ms > e["max_ms"]:
            bad.append(f"{at}took {o.elapsed_ms:.0f} ms, bound {e['max_ms']} ms")
        if "min_ms" in e and o.elapsed_ms < e["min_ms"]:
            bad.append(f"{at}took {o.elapsed_ms:.0f} ms, expected at least {e['min_ms']} ms")
        if "\n" in o.message or "\r" in o.message:
            bad.append(f"{at}the message is not one line: {o.message!r}")
        for text in o.texts():
            if leaks(text, token):
                bad.append(f"{at}TOKEN LEAK in {text!r}")
    for key in ("posts", "gets", "connections"):
        if key in e:
            if key not in counts:
                if e[key] not in (0, [0, 0]):
                    bad.append(f"{key}: expected {e[key]}, but nothing counts them here")
            elif not _in_range(counts[key], e[key]):
                bad.append(f"{key}: expected {e[key]}, the server saw {counts[key]}")
    if "request_path_prefix" in e:
        for line in request_lines:
            path = line.split(" ")[1] if " " in line else line
            if not path.startswith(e["request_path_prefix"]):
                bad.append(f"request {line!r} does not start with {e['request_path_prefix']!r}")
    return bad


def expectation(case: dict[str, Any], language: str) -> dict[str, Any]:
    """The case's expectations for a language: ``expect_c`` replaces ``expect`` for C."""
    if language == "c" and "expect_c" in case:
        return dict(case["expect_c"])
    return dict(case["expect"])


def known_bug(case: dict[str, Any], language: str) -> Optional[str]:
    """The case's known-bug note for this language (``"rust"``, ``"c"``, ``"python"``), if any."""
    kb = case.get("known_bug")
    if isinstance(kb, dict):
        value = kb.get(language)
        return str(value) if value else None
    return str(kb) if kb else None


Runner = Callable[[Setup], list[Outcome]]

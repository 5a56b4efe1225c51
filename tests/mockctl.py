#!/usr/bin/env python3
"""qovery-mock for every test and harness: start it, talk to its control API, stop it.

As a module (stdlib only)::

    import mockctl
    with mockctl.Mock.start("--tick-ms", "50", token="tok") as m:  # or tls=True
        db = m.database(tick_ms=0)
        m.faults(db, {"on": "status", "kind": "reset"})
        m.counts(db)                   # (redeploy POSTs, status GETs) it saw
    mockctl.Control(url, token)        # the control API of a mock someone else started

As a command, for scripts::

    python3 tests/mockctl.py run [--tls] [--api-env] [--prefix P] [--token T] [--log FILE] \
        [MOCK ARGS...] -- COMMAND...

starts the mock (``--port 0``, ``--exit-on-stdin-eof``), runs COMMAND with
``QOVERY_MOCK_URL``, ``QOVERY_MOCK_TOKEN`` (and with ``--tls`` ``QOVERY_MOCK_CA``) in its
environment (``--prefix P``: ``P_URL``... instead, so that runs nest, e.g. a plain and a TLS
mock for one command; ``--api-env``: also ``QOVERY_API_URL`` and ``QOVERY_API_TOKEN``, so that
any client talks to the mock), stops the mock and exits with COMMAND's status.

The binary is ``$QOVERY_MOCK_BIN``, else ``target/debug/qovery-mock``. The mock binds
127.0.0.1 only; its first stdout line is its URL, with ``--tls`` the second is its CA file.
Because its stdin is our pipe (``--exit-on-stdin-eof``), it exits when we do, even if we are
killed. Every wait here is bounded.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Optional, Sequence, TypeVar

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TOKEN = "qovery-mock-token"  # what the mock accepts when given no --token


def binary() -> Path:
    """The qovery-mock executable: ``$QOVERY_MOCK_BIN`` or the debug build."""
    return Path(os.environ.get("QOVERY_MOCK_BIN", REPO / "target" / "debug" / "qovery-mock"))


class ControlError(RuntimeError):
    """The control API answered with an HTTP error (a bug in the test that called it)."""


class Control:
    """The control API (``/_mock/...``, no auth) of a running qovery-mock at ``url``.

    Never goes through a proxy set in the environment (tests set ``HTTPS_PROXY``...); with
    ``ca_file`` (an https:// mock) it trusts that CA only."""

    def __init__(self, url: str, token: str = DEFAULT_TOKEN, ca_file: Optional[str] = None) -> None:
        self.url = url
        self.token = token
        self.ca_file = ca_file
        self.port = int(url.rsplit(":", 1)[1])
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if ca_file is not None:
            handlers.append(urllib.request.HTTPSHandler(
                context=ssl.create_default_context(cafile=ca_file)))
        self._opener = urllib.request.build_opener(*handlers)

    @property
    def ca(self) -> str:
        """The CA file of an https:// mock (``--tls``)."""
        if self.ca_file is None:
            raise ControlError(f"{self.url} is not a --tls mock: it has no CA file")
        return self.ca_file

    @classmethod
    def from_env(cls) -> Control:
        """The mock ``mockctl.py run`` started: ``QOVERY_MOCK_URL``, ``QOVERY_MOCK_TOKEN``,
        ``QOVERY_MOCK_CA``."""
        return cls(os.environ["QOVERY_MOCK_URL"], os.environ.get("QOVERY_MOCK_TOKEN", DEFAULT_TOKEN),
                   os.environ.get("QOVERY_MOCK_CA"))

    def control(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """One control call (``path`` after ``/_mock``); the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_mock" + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise ControlError(f"mock control {method} {path}: {e.code} {e.read()!r}") from e

    def healthy(self) -> bool:
        try:
            return bool(self.control("GET", "/health", timeout=2) == {"ok": True})
        except OSError:
            return False

    def reset(self) -> None:
        """Forgets every database, fault and count."""
        self.control("POST", "/reset")

    def put_database(self, db: str, config: Any) -> None:
        self.control("PUT", f"/databases/{db}", config)

    def database(self, **config: Any) -> str:
        """Registers a new database (fresh UUID) with this config; returns its id."""
        db = str(uuid.uuid4())
        self.put_database(db, config)
        return db

    def faults(self, db: str, *faults: Any) -> None:
        """Queues faults for ``db`` (each a mock fault, see mock/README.md)."""
        self.control("POST", f"/databases/{db}/faults", list(faults))

    def view(self, db: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", f"/databases/{db}")
        return result

    def requests(self, db: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", f"/databases/{db}/requests")
        return result

    def counts(self, db: str) -> tuple[int, int]:
        """(redeploy POSTs, status GETs) the mock saw for ``db``."""
        r = self.requests(db)
        return int(r["redeploy"]), int(r["status"])

    def tls_info(self) -> dict[str, str]:
        """With --tls: ``ca_file`` and the ``unknown_ca``/``wrong_host``/``expired`` URLs."""
        info: dict[str, str] = self.control("GET", "/tls")
        return info

    def fault_port(self, name: str) -> int:
        """The port of one of the TLS-fault listeners (``unknown_ca``, ...)."""
        url = self.tls_info()[name]
        if not url.startswith("https://127.0.0.1:"):
            raise ControlError(f"unexpected {name} listener URL {url!r}")
        return int(url.rsplit(":", 1)[1])


M = TypeVar("M", bound="Mock")


class Mock(Control):
    """A qovery-mock child process on 127.0.0.1 (ephemeral port) and its control API."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, token: str, ca_file: Optional[str],
                 tls_dir: Optional[Path], log: IO[bytes]) -> None:
        super().__init__(url, token, ca_file)
        self.proc = proc
        self._tls_dir = tls_dir
        self._log = log

    @classmethod
    def start(cls: type[M], *args: str, token: Optional[str] = None, tls: bool = False,
              exe: Optional[Path] = None, log: Optional[Path] = None,
              timeout: float = 30) -> M:
        """Starts ``qovery-mock --port 0 --exit-on-stdin-eof [--tls] [--token T] ARGS`` and
        waits (up to ``timeout`` s) for its URL (and CA) and its health. Its stderr goes to
        ``log`` if given (else to a temporary file, shown if it fails to start)."""
        exe = exe or binary()
        if not exe.exists():
            raise RuntimeError(f"{exe} is missing: cargo build -p qovery-mock")
        argv = [str(exe), "--port", "0", "--exit-on-stdin-eof"]
        if token is not None:
            argv += ["--token", token]
        tls_dir = None
        if tls:
            tls_dir = Path(tempfile.mkdtemp(prefix="qovery-mock-tls-"))
            argv += ["--tls", "--tls-dir", str(tls_dir)]
        err: IO[bytes] = open(log, "w+b") if log is not None else tempfile.TemporaryFile()
        proc = subprocess.Popen([*argv, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=err)
        try:
            lines = _read_lines(proc, 2 if tls else 1, time.monotonic() + timeout)
            scheme = "https" if tls else "http"
            if len(lines) < (2 if tls else 1) or not lines[0].startswith(f"{scheme}://127.0.0.1:"):
                raise RuntimeError(f"qovery-mock printed {lines!r}, not its URL{' and CA' if tls else ''}")
            m = cls(proc, lines[0], token or DEFAULT_TOKEN, lines[1] if tls else None, tls_dir, err)
            deadline = time.monotonic() + 10
            while not m.healthy():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("qovery-mock is not healthy")
                time.sleep(0.05)
            return m
        except BaseException as e:
            _stop(proc)
            err.seek(0)
            text = err.read().decode(errors="replace")
            err.close()
            if tls_dir is not None:
                shutil.rmtree(tls_dir, ignore_errors=True)
            if isinstance(e, RuntimeError):
                raise RuntimeError(f"{e} ({' '.join(argv)}); its stderr: {text[-4000:]!r}") from None
            raise

    def close(self) -> None:
        """Stops it (stdin closed, then killed if still there after 5 s); idempotent."""
        _stop(self.proc)
        self._log.close()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, t: Optional[type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def env(self, api: bool = False, prefix: str = "QOVERY_MOCK") -> dict[str, str]:
        """The variables ``run`` exports: PREFIX_URL, PREFIX_TOKEN, with --tls PREFIX_CA
        (``api``: also QOVERY_API_URL and QOVERY_API_TOKEN)."""
        env = {f"{prefix}_URL": self.url, f"{prefix}_TOKEN": self.token}
        if self.ca_file is not None:
            env[f"{prefix}_CA"] = self.ca_file
        if api:
            env.update(QOVERY_API_URL=self.url, QOVERY_API_TOKEN=self.token)
        return env


def _read_lines(proc: subprocess.Popen[bytes], n: int, deadline: float) -> list[str]:
    """Up to ``n`` lines from the child's stdout, before ``deadline`` or its end."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    raw = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while raw.count(b"\n") < n and time.monotonic() < deadline:
            if sel.select(timeout=max(0.0, deadline - time.monotonic())):
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                raw += chunk
    return raw.decode(errors="replace").splitlines()[:n]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None and proc.stdin is not None:
        try:
            proc.stdin.close()  # --exit-on-stdin-eof: it exits (and cleans up) by itself
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def main(argv: Sequence[str]) -> int:
    usage = ("usage: mockctl.py run [--tls] [--api-env] [--prefix P] [--token T] [--log FILE] "
             "[MOCK ARGS...] -- COMMAND...")
    if len(argv) < 1 or argv[0] != "run" or "--" not in argv:
        print(usage, file=sys.stderr)
        return 2
    sep = list(argv).index("--")
    opts, command = list(argv[1:sep]), list(argv[sep + 1:])
    if not command:
        print(usage, file=sys.stderr)
        return 2
    tls = api = False
    token: Optional[str] = None
    log: Optional[Path] = None
    prefix = "QOVERY_MOCK"
    mock_args: list[str] = []
    it = iter(opts)
    for a in it:
        if a == "--tls":
            tls = True
        elif a == "--api-env":
            api = True
        elif a == "--token":
            token = next(it)
        elif a == "--prefix":
            prefix = next(it)
        elif a == "--log":
            log = Path(next(it))
        else:
            mock_args.append(a)
    with Mock.start(*mock_args, token=token, tls=tls, log=log) as m:
        child = subprocess.Popen(command, env={**os.environ, **m.env(api, prefix)})
        # Forwarded, so that Ctrl-C or a kill of the script ends the command, then the mock.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda s, _f: child.send_signal(s))
        code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

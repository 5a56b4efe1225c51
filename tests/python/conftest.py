"""Fixtures: the real ``qovery-mock`` binary on loopback, one fresh database per test."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
MOCK_BIN = Path(os.environ.get("QOVERY_MOCK_BIN", REPO / "target" / "debug" / "qovery-mock"))
CLI_BIN = Path(os.environ.get("QOVERY_CLI_BIN", REPO / "target" / "debug" / "qovery-redeploy"))

# A distinctive token, so a test can prove it never shows up anywhere.
TOKEN = "py-s3cr3t-token-5f3a9c1e"


class Mock:
    """A running qovery-mock and its control API (``/_mock/``, no auth)."""

    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log
        self.token = TOKEN

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_mock" + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:  # pragma: no cover - a test bug
            raise AssertionError(f"mock control {method} {path}: {e.code} {e.read()!r}") from e

    def database(self, **config: Any) -> str:
        """Registers a new database (fresh UUID) with this config; returns its id."""
        db = str(uuid.uuid4())
        self._control("PUT", f"/databases/{db}", config)
        return db

    def faults(self, db: str, *faults: dict[str, Any]) -> None:
        self._control("POST", f"/databases/{db}/faults", list(faults))

    def requests(self, db: str) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", f"/databases/{db}/requests")
        return result

    def view(self, db: str) -> dict[str, Any]:
        result: dict[str, Any] = self._control("GET", f"/databases/{db}")
        return result


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """Starts ``qovery-mock`` on 127.0.0.1 (ephemeral port) and kills it at the end."""
    if not MOCK_BIN.exists():
        raise RuntimeError(f"{MOCK_BIN} is missing: run `cargo build -p qovery-mock` first")
    log = tmp_path_factory.mktemp("mock") / "qovery-mock.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [str(MOCK_BIN), "--host", "127.0.0.1", "--port", "0", "--token", TOKEN,
             "--tick-ms", "100"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            raise RuntimeError(f"qovery-mock printed no URL within 30 s; log: {log.read_text()}")
        url = proc.stdout.readline().decode().strip()
        sel.close()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"unexpected first line from qovery-mock: {url!r}; log: {log.read_text()}")
        m = Mock(url, proc, log)
        deadline = time.monotonic() + 10
        while True:
            try:
                if m._control("GET", "/health") == {"ok": True}:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("qovery-mock is not healthy")
            time.sleep(0.05)
        yield m
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def client(mock: Mock) -> Iterator[Any]:
    import qovery_redeploy as qr

    with qr.Client(token=mock.token, base_url=mock.url, max_retries=0, timeout=10.0) as c:
        yield c


def python_env(mock: Mock, **extra: str) -> dict[str, str]:
    """The environment for a child Python or CLI process talking to the mock."""
    env = dict(os.environ)
    env["QOVERY_API_TOKEN"] = mock.token
    env["QOVERY_API_URL"] = mock.url
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


FIGURES: list[str] = []


def figures(name: str, **values: float) -> None:
    """Records a measurement; all of them are printed at the end of the run."""
    shown = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in values.items())
    FIGURES.append(f"{name}: {shown}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("measured figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


# ---------------------------------------------------------------------------------------
# TLS, proxy and fork tests (test_tls.py, test_cli_tls.py, test_fork.py): qovery-mock --tls
# and tinyproxy, helpers in tls_support.py.

from tls_support import Tinyproxy, TlsMock  # noqa: E402


@pytest.fixture(scope="session")
def tls_mock() -> Iterator[TlsMock]:
    """``qovery-mock --tls`` on 127.0.0.1 (ephemeral port); ``ca_file`` is its CA."""
    if not MOCK_BIN.exists():
        raise RuntimeError(f"{MOCK_BIN} is missing: run `cargo build -p qovery-mock` first")
    m = TlsMock(MOCK_BIN, ["--any-database", "--tick-ms", "50"])
    try:
        yield m
    finally:
        m.close()


@pytest.fixture
def tinyproxy(tls_mock: TlsMock) -> Iterator[Tinyproxy]:
    """A fresh tinyproxy (empty log) allowing CONNECT to the TLS mock's port only."""
    p = Tinyproxy(tls_mock.port)
    try:
        yield p
    finally:
        p.close()

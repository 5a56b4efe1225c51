"""Helpers for the TLS / proxy / fork tests: ``qovery-mock --tls`` (control API over HTTPS,
trusting only its CA), a counting TCP forwarder, a real ``tinyproxy`` with a generated
configuration, a closed loopback port. Loopback only; every wait is bounded."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

TOKEN = "py-s3cr3t-token-5f3a9c1e"


class TlsMock:
    """A running ``qovery-mock --tls``: ``url`` (https://127.0.0.1:PORT), ``ca_file``."""

    def __init__(self, binary: Path, extra: list[str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qovery-py-mock-tls-"))
        self.log = self.dir / "mock.log"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [str(binary), "--tls", "--tls-dir", str(self.dir), "--port", "0",
                 "--token", TOKEN, *extra],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            )
        assert self.proc.stdout is not None
        # Raw reads on the pipe (no buffered readline): both lines usually come in one write.
        fd = self.proc.stdout.fileno()
        raw = b""
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while raw.count(b"\n") < 2 and time.monotonic() < deadline:
            if sel.select(timeout=max(0.0, deadline - time.monotonic())):
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                raw += chunk
        sel.close()
        lines = raw.decode().splitlines()
        if len(lines) < 2 or not lines[0].startswith("https://127.0.0.1:"):
            log = self.log.read_text()
            self.close()
            raise RuntimeError(f"qovery-mock --tls said {lines!r}; log: {log}")
        self.url = lines[0]
        self.ca_file = lines[1]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.token = TOKEN
        # Never through a proxy the test put in the environment (urllib reads HTTPS_PROXY).
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=self.ca_file)))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_mock" + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:  # pragma: no cover - a test bug
            raise AssertionError(f"mock control {method} {path}: {e.code} {e.read()!r}") from e

    def database(self, **config: Any) -> str:
        db = str(uuid.uuid4())
        self.control("PUT", f"/databases/{db}", config)
        return db

    def faults(self, db: str, *faults: dict[str, Any]) -> None:
        self.control("POST", f"/databases/{db}/faults", list(faults))

    def counts(self, db: str) -> tuple[int, int]:
        r: dict[str, Any] = self.control("GET", f"/databases/{db}/requests")
        return int(r["redeploy"]), int(r["status"])

    def tls_info(self) -> dict[str, str]:
        info: dict[str, str] = self.control("GET", "/tls")
        return info

    def fault_port(self, name: str) -> int:
        url = self.tls_info()[name]
        assert url.startswith("https://127.0.0.1:"), url
        return int(url.rsplit(":", 1)[1])


class Forwarder:
    """Relays every connection to 127.0.0.1:``target`` byte for byte and counts them (each
    TLS connection through it is one handshake attempt)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set() and time.monotonic() - started < 120:
            try:
                client, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    src.settimeout(60)
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
    return port


class Tinyproxy:
    """A real tinyproxy on 127.0.0.1 (ephemeral port), CONNECT allowed to ``connect_port``."""

    def __init__(self, connect_port: int) -> None:
        binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
        if not os.path.exists(binary):
            raise RuntimeError("tinyproxy is not installed: apt-get install -y tinyproxy "
                               "(scripts/test-python.sh does)")
        for _ in range(5):
            self.dir = Path(tempfile.mkdtemp(prefix="qovery-py-tinyproxy-"))
            self.port = dead_port()
            self.logfile = self.dir / "tinyproxy.log"
            conf = self.dir / "tinyproxy.conf"
            conf.write_text(
                f"Port {self.port}\nListen 127.0.0.1\nAllow 127.0.0.1\nConnectPort {connect_port}\n"
                f'LogFile "{self.logfile}"\nLogLevel Connect\nPidFile "{self.dir / "tp.pid"}"\n'
                "MaxClients 50\nTimeout 30\n")
            self.proc = subprocess.Popen([binary, "-d", "-c", str(conf)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    self.url = f"http://127.0.0.1:{self.port}"
                    return
                except OSError:
                    time.sleep(0.02)
            self.close()
        raise RuntimeError("tinyproxy did not start listening within 5 attempts")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.logfile.read_text()
        except OSError:
            return ""

    def requests(self) -> list[str]:
        return [line.split("): ", 1)[1] for line in self.log().splitlines()
                if "Request (" in line and "): " in line]

    def connects_to(self, port: int, at_least: int = 1) -> int:
        """CONNECTs to 127.0.0.1:port logged (waits up to 2 s for ``at_least``)."""
        deadline = time.monotonic() + 2
        while True:
            n = sum(1 for r in self.requests() if r.startswith(f"CONNECT 127.0.0.1:{port} "))
            if n >= at_least or time.monotonic() > deadline:
                return n
            time.sleep(0.02)

"""Helpers for the TLS / proxy / fork tests (``qovery-mock --tls`` itself is the ``tls_mock``
fixture, tests/mockctl.py): a counting TCP forwarder, a real ``tinyproxy`` with a generated
configuration, a closed loopback port. Loopback only; every wait is bounded."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


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

"""Fixtures: the real ``qovery-mock`` binary on loopback, one fresh database per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from mockctl import Mock as Mock  # noqa: E402  (qovery-mock and its control API: tests/mockctl.py)

CLI_BIN = Path(os.environ.get("QOVERY_CLI_BIN", REPO / "target" / "debug" / "qovery-redeploy"))

# A distinctive token, so a test can prove it never shows up anywhere.
TOKEN = "py-s3cr3t-token-5f3a9c1e"


@pytest.fixture(scope="session")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    """``qovery-mock`` on 127.0.0.1 (ephemeral port), stopped at the end; its log in a temp dir."""
    log = tmp_path_factory.mktemp("mock") / "qovery-mock.log"
    with Mock.start("--tick-ms", "100", token=TOKEN, log=log) as m:
        yield m


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

from tls_support import Tinyproxy  # noqa: E402


@pytest.fixture(scope="session")
def tls_mock() -> Iterator[Mock]:
    """``qovery-mock --tls`` on 127.0.0.1 (ephemeral port); ``ca_file`` is its CA."""
    with Mock.start("--any-database", "--tick-ms", "50", token=TOKEN, tls=True) as m:
        yield m


@pytest.fixture
def tinyproxy(tls_mock: Mock) -> Iterator[Tinyproxy]:
    """A fresh tinyproxy (empty log) allowing CONNECT to the TLS mock's port only."""
    p = Tinyproxy(tls_mock.port)
    try:
        yield p
    finally:
        p.close()

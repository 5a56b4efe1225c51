"""Real HTTPS end to end (qovery-mock --tls), TLS faults, CA bundles and a real HTTP proxy
(tinyproxy) through the Python package.

The mock's control API reports request counts, not connections: connections (= TLS
handshakes) are counted by a TCP forwarder in front of it, and CONNECT tunnels by the proxy's
log."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import qovery_redeploy as qr

from conftest import Mock
from tls_support import Forwarder, Tinyproxy, dead_port

SECRET = "s3cretpw"


def tls_client(m: Mock, url: str | None = None, **kw: object) -> qr.Client:
    args: dict[str, object] = {"max_retries": 0, "timeout": 10.0, "ca_file": m.ca_file,
                               "proxy": False}
    args.update(kw)
    return qr.Client(m.token, url or m.url, **args)  # type: ignore[arg-type]


# ---------------------------------------------------------------- HTTPS end to end


def test_https_redeploy_and_wait_reaches_deployed(tls_mock: Mock) -> None:
    db = tls_mock.database()
    seen: list[str] = []
    with tls_client(tls_mock) as c:
        final = c.redeploy_and_wait(db, apply_immediately=True, timeout=20, poll_interval=0.05,
                                    settle_delay=5, on_progress=lambda s: seen.append(s.state))
    assert final.state == "DEPLOYED"
    assert final.is_success
    redeploys, polls = tls_mock.counts(db)
    assert redeploys == 1 and polls >= 1
    assert "DEPLOYED" in seen


def test_https_keep_alive_one_tls_connection(tls_mock: Mock) -> None:
    db = tls_mock.database()
    fwd = Forwarder(tls_mock.port)
    try:
        with tls_client(tls_mock, fwd.url) as c:
            c.redeploy_database(db)
            c.database_status(db)
            c.database_status(db)
        assert tls_mock.counts(db) == (1, 2)
        assert fwd.connections == 1, "three calls on one client share one TLS connection"
    finally:
        fwd.close()


def test_https_without_the_ca_is_a_tls_error(tls_mock: Mock) -> None:
    db = tls_mock.database()
    with qr.Client(tls_mock.token, tls_mock.url, max_retries=2, proxy=False) as c:
        with pytest.raises(qr.TlsError) as info:
            c.database_status(db)
    assert info.value.kind == "tls"
    assert tls_mock.counts(db) == (0, 0)


@pytest.mark.parametrize("listener", ["unknown_ca", "wrong_host", "expired"])
def test_tls_faults_never_retried_never_sent(tls_mock: Mock, listener: str) -> None:
    db = tls_mock.database()
    fwd = Forwarder(tls_mock.fault_port(listener))
    try:
        with tls_client(tls_mock, fwd.url, max_retries=2) as c:
            with pytest.raises(qr.TlsError) as info:
                c.redeploy_database(db)
            assert info.value.kind == "tls"
            assert fwd.connections == 1
            with pytest.raises(qr.TlsError):
                c.database_status(db)
            assert fwd.connections == 2
        assert tls_mock.counts(db) == (0, 0)
    finally:
        fwd.close()


@pytest.mark.parametrize("content", [None, b"", b"garbage\x00\x01\n",
                                     b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"],
                         ids=["missing", "empty", "garbage", "bad-pem"])
def test_bad_ca_bundle_is_invalid_input(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bundle.pem"
    if content is not None:
        path.write_bytes(content)
    for value in (path, str(path)):
        with pytest.raises(qr.InvalidInputError) as info:
            qr.Client("tok", "https://127.0.0.1:9", ca_file=value, proxy=False)
        assert info.value.kind == "invalid_input"
        assert str(path) in str(info.value)


def test_ca_bundle_from_env(tls_mock: Mock, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = tls_mock.database()
    monkeypatch.setenv("QOVERY_CA_BUNDLE", tls_mock.ca)
    with qr.Client(tls_mock.token, tls_mock.url, max_retries=0, proxy=False) as c:
        c.database_status(db)
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    for bad in (str(empty), str(tmp_path / "missing.pem")):
        monkeypatch.setenv("QOVERY_CA_BUNDLE", bad)
        with pytest.raises(qr.InvalidInputError):
            qr.Client(tls_mock.token, tls_mock.url, proxy=False)
        monkeypatch.delenv("QOVERY_CA_BUNDLE")
        monkeypatch.setenv("SSL_CERT_FILE", bad)
        with pytest.raises(qr.InvalidInputError):
            qr.Client(tls_mock.token, tls_mock.url, proxy=False)
        monkeypatch.delenv("SSL_CERT_FILE")


# ---------------------------------------------------------------- a real proxy


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_explicit_proxy_tunnels(tls_mock: Mock, tinyproxy: Tinyproxy,
                                no_proxy_env: pytest.MonkeyPatch) -> None:
    db = tls_mock.database()
    with tls_client(tls_mock, proxy=tinyproxy.url) as c:
        c.redeploy_database(db)
        c.database_status(db)
    assert tls_mock.counts(db) == (1, 1)
    assert tinyproxy.connects_to(tls_mock.port) == 1, tinyproxy.log()
    assert all(r.startswith("CONNECT ") for r in tinyproxy.requests())


@pytest.mark.parametrize("var", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_env_proxy_tunnels(tls_mock: Mock, tinyproxy: Tinyproxy,
                           no_proxy_env: pytest.MonkeyPatch, var: str) -> None:
    no_proxy_env.setenv(var, tinyproxy.url)
    db = tls_mock.database()
    with tls_client(tls_mock, proxy=None) as c:
        c.database_status(db)
    assert tinyproxy.connects_to(tls_mock.port) == 1, tinyproxy.log()


def test_env_no_proxy_goes_direct(tls_mock: Mock, tinyproxy: Tinyproxy,
                                  no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", tinyproxy.url)
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    db = tls_mock.database()
    with tls_client(tls_mock, proxy=None) as c:
        c.database_status(db)
    time.sleep(0.2)
    assert tinyproxy.requests() == [], tinyproxy.log()


def test_proxy_false_ignores_env(tls_mock: Mock, no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead_port()}")
    with tls_client(tls_mock, proxy=False) as c:
        c.database_status(tls_mock.database())


def test_dead_proxy_is_a_retried_network_error(tls_mock: Mock, caplog: pytest.LogCaptureFixture,
                                               no_proxy_env: pytest.MonkeyPatch) -> None:
    db = tls_mock.database()
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    with tls_client(tls_mock, proxy=f"http://127.0.0.1:{dead_port()}", max_retries=2) as c:
        with pytest.raises(qr.NetworkError) as info:
            c.redeploy_database(db)
    assert type(info.value) is qr.NetworkError and info.value.kind == "network"
    attempts = [r for r in caplog.records if db in r.getMessage() and "-> failed:" in r.getMessage()]
    assert len(attempts) == 3, [r.getMessage() for r in caplog.records]
    assert tls_mock.counts(db) == (0, 0)


def test_plain_http_never_uses_a_proxy(mock: Mock, tinyproxy: Tinyproxy,
                                       no_proxy_env: pytest.MonkeyPatch) -> None:
    db = mock.database()
    # (conftest's control client is urllib, which reads these too: set them only around the calls)
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        no_proxy_env.setenv(var, tinyproxy.url)
    with qr.Client(mock.token, mock.url, max_retries=0) as c:
        c.database_status(db)
    with qr.Client(mock.token, mock.url, max_retries=0, proxy=tinyproxy.url) as c:
        c.database_status(db)
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        no_proxy_env.delenv(var)
    assert mock.requests(db)["status"] == 2
    time.sleep(0.2)
    assert tinyproxy.requests() == [], tinyproxy.log()


def test_proxy_credentials_never_show(tls_mock: Mock, caplog: pytest.LogCaptureFixture,
                                      no_proxy_env: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG, logger="qovery_redeploy")
    url = f"http://user:{SECRET}@127.0.0.1:{dead_port()}"
    with tls_client(tls_mock, proxy=url, max_retries=1) as c:
        assert SECRET not in repr(c)
        with pytest.raises(qr.NetworkError) as info:
            c.database_status(tls_mock.database())
    e = info.value
    for text in (str(e), repr(e), repr(e.args), repr(e.detail), repr(vars(e))):
        assert SECRET not in text
    assert SECRET not in caplog.text


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "", f"ftp://u:{SECRET}@127.0.0.1:21"])
def test_invalid_proxy_url_is_invalid_input(url: str) -> None:
    with pytest.raises(qr.InvalidInputError) as info:
        qr.Client("tok", "https://127.0.0.1:9", proxy=url)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_exit_with_https_clients_alive_does_not_crash(tls_mock: Mock) -> None:
    """The interpreter exits while HTTPS clients (and their TLS connections) are alive: the
    library's thread must not take the GIL during finalization (it once logged rustls and
    hyper records to Python from there, and the process crashed with SIGSEGV at exit in about
    two runs out of three)."""
    import subprocess
    import sys

    db = tls_mock.database()
    script = (
        "import sys, qovery_redeploy as qr\n"
        "clients = [qr.Client(sys.argv[1], sys.argv[2], ca_file=sys.argv[3]) for _ in range(3)]\n"
        "for c in clients:\n"
        "    for _ in range(20):\n"
        "        c.database_status(sys.argv[4])\n"
        "print('ok')\n"
    )
    codes = []
    for _ in range(8):
        r = subprocess.run([sys.executable, "-c", script, tls_mock.token, tls_mock.url,
                            str(tls_mock.ca), db], capture_output=True, text=True, timeout=60)
        assert r.stdout.strip() == "ok", r
        codes.append(r.returncode)
    assert codes == [0] * 8, codes

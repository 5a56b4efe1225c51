"""The ``qovery-redeploy`` command over real HTTPS (qovery-mock --tls) and through a real
proxy (tinyproxy): --ca-file, QOVERY_CA_BUNDLE, --proxy, --no-proxy, HTTPS_PROXY / NO_PROXY
and plain-http loopback, TLS faults (exit 1, nothing sent) and bad bundles / proxy URLs
(exit 2). Environment variables are set on the child process only."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CLI_BIN, Mock
from tls_support import Tinyproxy, dead_port

SECRET = "s3cretpw"
_SCRUB = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
          "NO_PROXY", "no_proxy", "QOVERY_CA_BUNDLE", "SSL_CERT_FILE", "QOVERY_API_URL")


def cli(token: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    if not CLI_BIN.exists():
        raise RuntimeError(f"{CLI_BIN} is missing: run `cargo build -p qovery-redeploy-cli`")
    e = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    e["QOVERY_API_TOKEN"] = token
    e.update(env or {})
    r = subprocess.run([str(CLI_BIN), *args], env=e, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert token not in r.stdout + r.stderr
    assert SECRET not in r.stdout + r.stderr
    return r


def test_cli_https_wait_with_ca_file(tls_mock: Mock) -> None:
    db = tls_mock.database()
    r = cli(tls_mock.token, "--api-url", tls_mock.url, "--ca-file", tls_mock.ca, "--no-proxy",
            "--wait", "--poll-interval", "0.05", "--settle", "5", "--timeout", "20", "--json", db)
    assert r.returncode == 0, r.stderr
    assert '"DEPLOYED"' in r.stdout
    assert tls_mock.counts(db)[0] == 1


def test_cli_https_with_ca_bundle_env(tls_mock: Mock) -> None:
    db = tls_mock.database()
    r = cli(tls_mock.token, "--status", "--no-proxy", db,
            env={"QOVERY_API_URL": tls_mock.url, "QOVERY_CA_BUNDLE": tls_mock.ca})
    assert r.returncode == 0, r.stderr
    assert tls_mock.counts(db) == (0, 1)


def test_cli_without_the_ca_is_exit_1(tls_mock: Mock) -> None:
    db = tls_mock.database()
    r = cli(tls_mock.token, "--api-url", tls_mock.url, "--no-proxy", db)
    assert r.returncode == 1, r.stderr
    assert "tls" in r.stderr.lower() or "certificate" in r.stderr.lower(), r.stderr
    assert tls_mock.counts(db) == (0, 0)


@pytest.mark.parametrize("listener", ["unknown_ca", "wrong_host", "expired"])
def test_cli_tls_faults(tls_mock: Mock, listener: str) -> None:
    db = tls_mock.database()
    url = tls_mock.tls_info()[listener]
    r = cli(tls_mock.token, "--api-url", url, "--ca-file", tls_mock.ca, "--no-proxy", db)
    assert r.returncode == 1, r.stderr
    assert tls_mock.counts(db) == (0, 0)


@pytest.mark.parametrize("content", [None, b"", b"garbage\n"], ids=["missing", "empty", "garbage"])
def test_cli_bad_ca_bundle_is_exit_2(tls_mock: Mock, tmp_path: Path,
                                     content: bytes | None) -> None:
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_bytes(content)
    db = tls_mock.database()
    r = cli(tls_mock.token, "--api-url", tls_mock.url, "--ca-file", str(bundle), db)
    assert r.returncode == 2, r.stderr
    assert str(bundle) in r.stderr
    r = cli(tls_mock.token, "--api-url", tls_mock.url, db, env={"QOVERY_CA_BUNDLE": str(bundle)})
    assert r.returncode == 2, r.stderr
    assert tls_mock.counts(db) == (0, 0)


def test_cli_explicit_proxy(tls_mock: Mock, tinyproxy: Tinyproxy) -> None:
    db = tls_mock.database()
    r = cli(tls_mock.token, "--api-url", tls_mock.url, "--ca-file", tls_mock.ca,
            "--proxy", tinyproxy.url, db)
    assert r.returncode == 0, r.stderr
    assert tinyproxy.connects_to(tls_mock.port) == 1, tinyproxy.log()
    assert tls_mock.counts(db) == (1, 0)


def test_cli_env_proxy_and_no_proxy(tls_mock: Mock, tinyproxy: Tinyproxy) -> None:
    db = tls_mock.database()
    base = ["--api-url", tls_mock.url, "--ca-file", tls_mock.ca, "--status", db]
    r = cli(tls_mock.token, *base, env={"HTTPS_PROXY": tinyproxy.url})
    assert r.returncode == 0, r.stderr
    assert tinyproxy.connects_to(tls_mock.port) == 1, tinyproxy.log()
    r = cli(tls_mock.token, *base, env={"HTTPS_PROXY": tinyproxy.url, "NO_PROXY": "127.0.0.1"})
    assert r.returncode == 0, r.stderr
    r = cli(tls_mock.token, "--no-proxy", *base, env={"HTTPS_PROXY": tinyproxy.url})
    assert r.returncode == 0, r.stderr
    time.sleep(0.2)
    assert tinyproxy.connects_to(tls_mock.port) == 1, "NO_PROXY / --no-proxy went direct"
    assert tls_mock.counts(db) == (0, 3)


def test_cli_dead_proxy_is_exit_1_and_sends_nothing(tls_mock: Mock) -> None:
    db = tls_mock.database()
    dead = f"http://user:{SECRET}@127.0.0.1:{dead_port()}"
    for args, env in ((["--proxy", dead], {}), ([], {"HTTPS_PROXY": dead})):
        r = cli(tls_mock.token, "--api-url", tls_mock.url, "--ca-file", tls_mock.ca,
                "--timeout", "10", *args, db, env=env)
        assert r.returncode == 1, r.stderr
        assert "proxy" in r.stderr.lower(), r.stderr
    assert tls_mock.counts(db) == (0, 0)


@pytest.mark.parametrize("url", ["ftp://x", "not a url", f"ftp://u:{SECRET}@127.0.0.1:21"])
def test_cli_invalid_proxy_is_exit_2(tls_mock: Mock, url: str) -> None:
    db = tls_mock.database()
    r = cli(tls_mock.token, "--api-url", tls_mock.url, "--proxy", url, db)
    assert r.returncode == 2, r.stderr
    assert tls_mock.counts(db) == (0, 0)


def test_cli_plain_http_never_uses_a_proxy(mock: Mock, tinyproxy: Tinyproxy) -> None:
    db = mock.database()
    p = tinyproxy.url
    r = cli(mock.token, "--api-url", mock.url, "--status", db,
            env={"HTTP_PROXY": p, "http_proxy": p, "ALL_PROXY": p, "HTTPS_PROXY": p})
    assert r.returncode == 0, r.stderr
    r = cli(mock.token, "--api-url", mock.url, "--status", "--proxy", p, db)
    assert r.returncode == 0, r.stderr
    assert mock.requests(db)["status"] == 2
    time.sleep(0.2)
    assert tinyproxy.requests() == [], tinyproxy.log()

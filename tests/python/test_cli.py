"""``python -m qovery_redeploy`` and the ``qovery-redeploy`` console script are the native
command: same output, same exit codes (compared with the binary built from cli/)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import CLI_BIN, Mock, figures, python_env

SCRIPT = Path(sys.executable).parent / "qovery-redeploy"
COMMANDS = {
    "python -m": [sys.executable, "-m", "qovery_redeploy"],
    "console script": [str(SCRIPT)],
    "native": [str(CLI_BIN)],
}


def run(cmd: list[str], args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd + args, env=env, capture_output=True, text=True, timeout=60)


def test_entry_points_exist() -> None:
    assert SCRIPT.exists(), "the console script was not installed"
    assert CLI_BIN.exists(), f"{CLI_BIN} missing: run `cargo build -p qovery-redeploy-cli`"


@pytest.mark.parametrize("args", [["--help"], ["--version"], [], ["--bogus", "x"],
                                  ["not-a-uuid"], ["--poll-interval", "1", str(uuid.UUID(int=1))]])
def test_same_output_and_exit_code_offline(mock: Mock, args: list[str]) -> None:
    env = python_env(mock)
    results = {name: run(cmd, args, env) for name, cmd in COMMANDS.items()}
    native = results.pop("native")
    for name, r in results.items():
        assert (r.returncode, r.stdout, r.stderr) == (native.returncode, native.stdout,
                                                      native.stderr), name
    assert native.returncode == (0 if args[:1] in (["--help"], ["--version"]) else 2)


def test_missing_token_is_a_usage_error(mock: Mock) -> None:
    env = python_env(mock)
    del env["QOVERY_API_TOKEN"]
    codes = {name: run(cmd, [str(uuid.uuid4())], env).returncode for name, cmd in COMMANDS.items()}
    assert set(codes.values()) == {2}, codes


@pytest.mark.parametrize(
    "config, args, code",
    [
        ({}, [], 0),
        ({}, ["--wait", "--poll-interval", "0.05"], 0),
        ({}, ["--status", "--json"], 0),
        ({"outcome": "DEPLOYMENT_ERROR"}, ["--wait", "--poll-interval", "0.05"], 5),
        ({"tick_ms": 60_000}, ["--wait", "--poll-interval", "0.05", "--timeout", "0.5"], 6),
        (None, [], 4),
    ],
)
def test_same_exit_codes_against_the_mock(mock: Mock, config: dict[str, int | str] | None,
                                          args: list[str],
                                          code: int) -> None:
    env = python_env(mock)
    for name, cmd in COMMANDS.items():
        db = mock.database(**{"tick_ms": 50, **config}) if config is not None else str(uuid.uuid4())
        r = run(cmd, [*args, db], env)
        assert r.returncode == code, (name, r.stdout, r.stderr)
        assert mock.token not in r.stdout + r.stderr
        if "--json" in args:
            assert json.loads(r.stdout)["id"] == db
        if config is not None and "--status" not in args:
            assert mock.requests(db)["redeploy"] == 1, name


def test_ctrl_c_stops_the_python_command(mock: Mock) -> None:
    db = mock.database(tick_ms=60_000)
    proc = subprocess.Popen([sys.executable, "-m", "qovery_redeploy", "--wait", db],
                            env=python_env(mock), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while mock.requests(db)["status"] == 0:  # it is waiting once it polls
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.237)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    err = proc.stderr.read()
    figures("SIGINT to `python -m qovery_redeploy --wait`", exit_code=code,
            until_exit_ms=took * 1000)
    assert code == 130, err
    assert "Traceback" not in err and "panicked" not in err
    assert took < 1.0

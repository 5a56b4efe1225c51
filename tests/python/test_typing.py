"""The package as a user's type checkers see it: a sample script using every public name
passes mypy --strict and pyright (basedpyright, from PyPI), and `help()` shows each
signature once, with docstrings on every property."""

from __future__ import annotations

import inspect
import pydoc
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qovery_redeploy as qr

SAMPLE = '''
from __future__ import annotations

import asyncio
import uuid

import qovery_redeploy as qr
from qovery_redeploy import *  # noqa: F403


def sync_use(db: str) -> qr.DeploymentStatus:
    with qr.Client("tok", "http://127.0.0.1:9", auth_scheme="auto", timeout=5.0,
                   max_retries=0, user_agent="x", connect_timeout=1.0, deadline=9.0,
                   ca_file=None, proxy=False) as c:
        url: str = c.base_url
        scheme: str = c.auth_scheme
        t: float = c.timeout + c.max_retries
        ua: str = c.user_agent
        closed: bool = c.closed
        s = c.redeploy_database(uuid.UUID(db), apply_immediately=True)
        s = c.database_status(db)
        remembered: qr.DeploymentStatus | None = c.accepted_redeploy(db)
        c.forget_accepted_redeploy(db)
        s = c.wait_for_database(db, 1.0, 0.1, print, settle_delay=0.0, accepted=remembered)
        final = c.redeploy_and_wait(db, None, 1.0, 0.1, lambda st: None, settle_delay=1.0)
        print(url, scheme, t, ua, closed, s)
        return final  # no "Missing return statement": __exit__ returns None


async def async_use(db: str) -> qr.DeploymentStatus:
    async with qr.AsyncClient("tok", "http://127.0.0.1:9", timeout=5.0) as c:
        s: qr.DeploymentStatus = await c.redeploy_database(db)
        s = await c.database_status(db)
        s = await c.wait_for_database(db, accepted=c.accepted_redeploy(db))
        task = asyncio.create_task(c.redeploy_and_wait(db, on_progress=print))
        s = await asyncio.wait_for(task, 10)
        print(c.base_url, c.auth_scheme, c.timeout, c.max_retries, c.user_agent, c.closed)
        await c.close()
        return s


def model(s: qr.DeploymentStatus) -> None:
    state: qr.State = s.state
    ok: bool = s.is_success or s.is_failure or s.is_terminal or s.accepted_unreadable
    d: qr.StatusDetails = s.status_details
    a: qr.ServiceAction | None = d.action
    st: qr.ServiceActionStatus | None = d.status
    sub: qr.ServiceSubAction | None = d.sub_action
    sds: qr.ServiceDeploymentStatus | None = s.service_deployment_status
    steps: qr.Steps | None = s.steps
    if steps is not None:
        for m in steps.details:
            metric: qr.StepMetric = m
            name: qr.StepName | None = m.step_name
            sst: qr.StepStatus | None = m.status
            secs: int | None = m.duration_sec
            print(metric, name, sst, secs)
    rid: uuid.UUID | None = s.deployment_request_id
    e: qr.OpenEnum = qr.State("X")
    print(state, ok, a, st, sub, sds, rid, e, s.to_dict(), s.to_json(), s.raw_json)
    print(qr.DeploymentStatus.from_json(s.raw_json), qr.parse_database_id(str(s.id)))
    print(qr.DEFAULT_BASE_URL, qr.ENV_TOKEN, qr.ENV_URL, qr.ERROR_KINDS, qr.__version__)


def errors() -> None:
    try:
        sync_use("x")
    except qr.InvalidInputError as e:
        detail: str | None = e.detail
        accepted: qr.DeploymentStatus | None = e.accepted
        print(detail, accepted, e.kind, e.http_status, e.retry_after, e.status)
    except (qr.ClientClosedError, qr.AuthenticationError, qr.PermissionDeniedError,
            qr.NotFoundError, qr.ConflictError, qr.RateLimitedError, qr.ServerError,
            qr.HttpError, qr.TimeoutError, qr.NetworkError, qr.TlsError, qr.DecodeError,
            qr.OutcomeUnknownError, qr.DeploymentFailedError, qr.WaitTimeoutError,
            qr.CancelledError, qr.QoveryError):
        pass
    # The star import did not shadow the builtin.
    t: type[TimeoutError] = TimeoutError
    print(t, Client, AsyncClient)  # noqa: F405
'''


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("typing")
    path = d / "sample.py"
    path.write_text(SAMPLE)
    return path


def test_sample_uses_every_public_name() -> None:
    used = set(SAMPLE.replace("(", " ").replace(")", " ").replace(",", " ").split())
    missing = [n for n in qr.__all__ if f"qr.{n}" not in SAMPLE and n not in used
               and f"qr.{n}(" not in SAMPLE]
    assert not missing, missing


def test_mypy_strict_accepts_the_sample(sample: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(sample.parent / ".mypy"), str(sample)],
        capture_output=True, text=True, cwd=sample.parent)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pyright_accepts_the_sample(sample: Path) -> None:
    exe = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("basedpyright is not installed (tests/python/requirements.txt pins it)")
    # basedpyright's own extra rules (`recommended`) are about style; `standard` is pyright's.
    (sample.parent / "pyrightconfig.json").write_text(
        '{"typeCheckingMode": "strict", "reportUnusedVariable": false, '
        '"reportWildcardImportFromLibrary": false, "reportUnusedExpression": false}')
    out = subprocess.run(
        [exe, "--pythonpath", sys.executable, str(sample)],
        capture_output=True, text=True, cwd=sample.parent)
    assert out.returncode == 0, out.stdout + out.stderr


def test_help_shows_each_signature_once_and_documents_properties() -> None:
    text = pydoc.plain(pydoc.render_doc(qr.Client))
    assert text.count("auth_scheme='auto'") + text.count('auth_scheme="auto"') == 1, text
    for cls in (qr.Client, qr.AsyncClient, qr.DeploymentStatus, qr.StatusDetails, qr.Steps,
                qr.StepMetric):
        for name, member in inspect.getmembers(cls):
            if isinstance(member, property) or type(member).__name__ == "getset_descriptor":
                assert member.__doc__, f"{cls.__name__}.{name} has no docstring"
    for name in ("redeploy_database", "database_status", "wait_for_database",
                 "redeploy_and_wait", "accepted_redeploy", "forget_accepted_redeploy"):
        for cls in (qr.Client, qr.AsyncClient):
            method = getattr(cls, name)
            assert "database_id" in str(inspect.signature(method)), (cls, name)
            assert method.__doc__, (cls, name)
    assert "DeploymentStatus" in (qr.Client.redeploy_database.__doc__ or "")

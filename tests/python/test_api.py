"""The package's surface: exports, the status model, the client's settings, secrets."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import uuid
from typing import Any

import pytest

import qovery_redeploy as qr
from qovery_redeploy import _types

from conftest import Mock

STATUS_JSON: dict[str, Any] = {
    "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "state": "DEPLOYING",
    "service_deployment_status": "OUT_OF_DATE",
    "last_deployment_date": "2026-11-27T08:00:00.123456789+02:00",
    "is_part_last_deployment": True,
    "steps": {
        "total_duration_sec": None,
        "total_computing_duration_sec": 12,
        "details": [
            {"step_name": "DEPLOYMENT_QUEUEING", "status": "SUCCESS", "duration_sec": 1},
            {"step_name": "TELEPORT", "status": "MAYBE"},
        ],
    },
    "execution_id": "exec-1",
    "status_details": {"action": "DEPLOY", "status": "ONGOING", "sub_action": "NONE"},
    "deployment_request_id": "d733c5af-c1c7-488c-961b-2a6271ed012d",
    "deployment_requests_count": 1,
    "a_field_from_the_future": [1, 2, 3],
}


def test_exports_and_version() -> None:
    for name in qr.__all__:
        assert hasattr(qr, name), name
    # The package's list is the union of its modules' own (TimeoutError aside, see __init__).
    from qovery_redeploy import _asyncio, _qovery_redeploy, _types
    modules = {*_types.__all__, *_qovery_redeploy.__all__, *_asyncio.__all__} - {"TimeoutError"}
    assert sorted(qr.__all__) == sorted(modules)
    assert len(qr.__all__) == len(set(qr.__all__))
    assert qr.__version__.count(".") == 2
    assert qr.ENV_TOKEN == "QOVERY_API_TOKEN"
    assert qr.ENV_URL == "QOVERY_API_URL"
    assert qr.DEFAULT_BASE_URL == "https://api.qovery.com"
    assert qr.Client.__module__ == "qovery_redeploy"
    assert qr.NotFoundError.__module__ == "qovery_redeploy"


def test_every_core_error_kind_has_its_class() -> None:
    assert set(qr.ERROR_KINDS) == set(_types._ERRORS)
    for kind, cls in _types._ERRORS.items():
        assert cls.kind == kind
        assert issubclass(cls, qr.QoveryError)
    assert issubclass(qr.InvalidInputError, ValueError)
    assert issubclass(qr.ClientClosedError, qr.InvalidInputError)
    assert issubclass(qr.TimeoutError, TimeoutError)
    assert issubclass(qr.WaitTimeoutError, TimeoutError)
    assert issubclass(qr.NetworkError, ConnectionError)
    assert issubclass(qr.TlsError, qr.NetworkError)
    assert not issubclass(qr.NotFoundError, ValueError)


def test_exceptions_pickle_with_their_attributes() -> None:
    status = qr.DeploymentStatus.from_json(json.dumps(STATUS_JSON))
    e = qr.DeploymentFailedError("deployment ended in X", http_status=None, status=status)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is qr.DeploymentFailedError
    assert str(e2) == "deployment ended in X"
    assert e2.status == status
    t = pickle.loads(pickle.dumps(qr.TimeoutError("slow", http_status=None)))
    assert isinstance(t, qr.TimeoutError) and isinstance(t, TimeoutError)
    assert str(t) == "slow" and t.kind == "timeout"


def test_open_enums_keep_unknown_values() -> None:
    assert qr.State.DEPLOYED == "DEPLOYED"
    assert isinstance(qr.State.DEPLOYED, str)
    assert repr(qr.State.DEPLOYED) == "State('DEPLOYED')"
    assert qr.State.DEPLOYED.is_known
    assert "UNAVAILABLE" in qr.State.KNOWN and len(qr.State.KNOWN) == 29
    future = qr.State("FUTURE_STATE")
    assert future == "FUTURE_STATE" and not future.is_known
    assert qr.ServiceSubAction.NONE == "NONE"
    assert qr.ServiceAction.UNKNOWN == "UNKNOWN"
    for cls in (qr.State, qr.ServiceDeploymentStatus, qr.ServiceAction, qr.ServiceActionStatus,
                qr.ServiceSubAction, qr.StepName, qr.StepStatus):
        assert cls.KNOWN, cls
        for value in cls.KNOWN:
            assert getattr(cls, value) == value and type(getattr(cls, value)) is cls


def test_status_model_types() -> None:
    raw = json.dumps(STATUS_JSON)
    s = qr.DeploymentStatus.from_json(raw)
    assert s.id == uuid.UUID(STATUS_JSON["id"]) and isinstance(s.id, uuid.UUID)
    assert s.state == qr.State.DEPLOYING and type(s.state) is qr.State
    assert type(s.service_deployment_status) is qr.ServiceDeploymentStatus
    d = s.last_deployment_date
    assert isinstance(d, dt.datetime) and d.tzinfo is not None
    assert d.utcoffset() == dt.timedelta(hours=2)
    assert d == dt.datetime(2026, 11, 27, 6, 0, 0, 123456, tzinfo=dt.timezone.utc)
    assert s.is_part_last_deployment is True
    assert s.execution_id == "exec-1"
    assert s.deployment_request_id == uuid.UUID("d733c5af-c1c7-488c-961b-2a6271ed012d")
    assert s.deployment_requests_count == 1
    assert s.status_details.action == "DEPLOY" and type(s.status_details.action) is qr.ServiceAction
    assert type(s.status_details.status) is qr.ServiceActionStatus
    assert type(s.status_details.sub_action) is qr.ServiceSubAction
    steps = s.steps
    assert steps is not None
    assert steps.total_duration_sec is None and steps.total_computing_duration_sec == 12
    assert isinstance(steps.details, tuple) and len(steps.details) == 2
    first, second = steps.details
    assert first.step_name == "DEPLOYMENT_QUEUEING" and type(first.step_name) is qr.StepName
    assert first.status == qr.StepStatus.SUCCESS and first.duration_sec == 1
    assert second.step_name == "TELEPORT" and not second.step_name.is_known
    assert second.status == "MAYBE" and second.duration_sec is None
    assert (s.is_success, s.is_failure, s.is_terminal) == (False, False, False)
    assert s.raw_json == raw
    as_dict = s.to_dict()
    assert as_dict["state"] == "DEPLOYING" and "a_field_from_the_future" not in as_dict
    assert json.loads(s.to_json()) == as_dict


def test_status_nulls_equality_hash_repr_pickle() -> None:
    body = dict(STATUS_JSON, state="DEPLOYED", deployment_request_id=None)
    for key in ("last_deployment_date", "steps", "execution_id"):
        del body[key]
    s = qr.DeploymentStatus.from_json(json.dumps(body))
    assert s.last_deployment_date is None and s.steps is None and s.execution_id is None
    assert s.deployment_request_id is None
    assert s.is_success and s.is_terminal and not s.is_failure
    same = qr.DeploymentStatus.from_json(json.dumps(body, indent=2))
    assert s == same and hash(s) == hash(same) and len({s, same}) == 1
    other = qr.DeploymentStatus.from_json(json.dumps(dict(body, state="DEPLOYMENT_ERROR")))
    assert s != other and other.is_failure
    assert s != "DEPLOYED" and s.status_details == same.status_details
    r = repr(s)
    assert r.startswith("DeploymentStatus(id='3c90c3cc-0d44-4b50-8888-8dd25736052a', state='DEPLOYED'")
    assert "deployment_request_id=None" in r
    back = pickle.loads(pickle.dumps(s))
    assert back == s and back.raw_json == s.raw_json


def test_status_refuses_what_is_not_a_status() -> None:
    with pytest.raises(qr.DecodeError) as info:
        qr.DeploymentStatus.from_json('{"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}')
    assert "state" in str(info.value) or "missing" in str(info.value)
    with pytest.raises(qr.DecodeError):
        qr.DeploymentStatus.from_json("not json")
    with pytest.raises(TypeError):
        qr.DeploymentStatus()


def test_parse_database_id() -> None:
    assert qr.parse_database_id("3C90C3CC-0D44-4B50-8888-8DD25736052A") == uuid.UUID(
        "3c90c3cc-0d44-4b50-8888-8dd25736052a")
    with pytest.raises(qr.InvalidInputError):
        qr.parse_database_id("../../etc/passwd")


def test_client_settings_and_repr_hide_the_token(mock: Mock) -> None:
    c = qr.Client(mock.token, mock.url, timeout=5, max_retries=1, user_agent="tests/1")
    assert c.base_url == mock.url and c.auth_scheme == "token"
    assert (c.timeout, c.max_retries, c.user_agent, c.closed) == (5.0, 1, "tests/1", False)
    assert mock.token not in repr(c) and mock.url in repr(c)
    for name in ("base_url", "auth_scheme", "user_agent", "timeout", "max_retries"):
        assert mock.token not in repr(getattr(c, name))
    with pytest.raises(TypeError):
        pickle.dumps(c)
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    assert qr.Client(jwt, mock.url).auth_scheme == "bearer"
    assert qr.Client(mock.token, mock.url, auth_scheme="BEARER").auth_scheme == "bearer"
    assert qr.Client(mock.token).base_url == "https://api.qovery.com"


def test_settings_left_none_take_the_core_defaults(mock: Mock) -> None:
    c = qr.Client(mock.token, mock.url)
    assert (c.timeout, c.max_retries) == (30.0, 2)
    # One rule for every duration (core's MAX_DURATION): 30 days is the most any setting takes.
    assert qr.Client(mock.token, mock.url, timeout=30 * 86400).timeout == 30 * 86400
    with pytest.raises(qr.InvalidInputError, match="30 days"):
        qr.Client(mock.token, mock.url, timeout=30 * 86400 + 1)
    with pytest.raises(qr.InvalidInputError, match="poll_interval"):
        c.wait_for_database(mock.database(), poll_interval=31 * 86400)


def test_client_reads_the_environment(mock: Mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QOVERY_API_TOKEN", mock.token)
    monkeypatch.setenv("QOVERY_API_URL", mock.url)
    db = mock.database()
    with qr.Client() as c:
        assert c.base_url == mock.url
        assert c.database_status(db).state == "DEPLOYED"
    monkeypatch.delenv("QOVERY_API_TOKEN")
    with pytest.raises(qr.InvalidInputError, match="QOVERY_API_TOKEN"):
        qr.Client()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"auth_scheme": "basic"}, qr.InvalidInputError),
        ({"timeout": 0}, qr.InvalidInputError),
        ({"timeout": -1.0}, qr.InvalidInputError),
        ({"timeout": float("nan")}, qr.InvalidInputError),
        ({"timeout": 1e30}, qr.InvalidInputError),
        ({"max_retries": -1}, qr.InvalidInputError),
        ({"deadline": 0}, qr.InvalidInputError),
        ({"base_url": "http://example.com"}, qr.InvalidInputError),
        ({"base_url": "ftp://127.0.0.1"}, qr.InvalidInputError),
        ({"user_agent": "a\nb"}, qr.InvalidInputError),
        ({"timeout": "30"}, TypeError),
        ({"max_retries": 1.5}, TypeError),
        ({"token": 12345}, TypeError),
    ],
)
def test_client_refuses_bad_settings(mock: Mock, kwargs: dict[str, Any], error: type) -> None:
    args = {"token": mock.token, "base_url": mock.url, **kwargs}
    with pytest.raises(error) as info:
        qr.Client(**args)
    assert isinstance(info.value, (ValueError, TypeError))
    assert mock.token not in str(info.value)


def test_bad_tokens_are_refused_without_being_shown(mock: Mock) -> None:
    for bad in ("", "Token abc123secret", "abc123secret\n", "abc\r\nX-Evil: 1"):
        with pytest.raises(qr.InvalidInputError) as info:
            qr.Client(bad, mock.url)
        assert "abc123secret" not in str(info.value) and "X-Evil" not in str(info.value)
        assert "\n" not in str(info.value)


def test_bad_call_arguments(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    with pytest.raises(qr.InvalidInputError, match="invalid database id"):
        client.database_status("not-a-uuid")
    with pytest.raises(TypeError):
        client.database_status(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.redeploy_database(db, apply_immediately="yes")  # type: ignore[arg-type]
    with pytest.raises(qr.InvalidInputError):
        client.wait_for_database(db, timeout=0)
    with pytest.raises(qr.InvalidInputError):
        client.wait_for_database(db, poll_interval=-1)
    with pytest.raises(TypeError):
        client.wait_for_database(db, on_progress=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.database_status(db, cancel=object())  # type: ignore[arg-type]
    # Nothing above reached the server.
    assert mock.requests(db)["status"] == 0 and mock.requests(db)["redeploy"] == 0


def test_redeploy_and_status(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    before = client.database_status(uuid.UUID(db))
    assert before.state == "DEPLOYED" and before.id == uuid.UUID(db)
    accepted = client.redeploy_database(db, apply_immediately=True)
    assert isinstance(accepted, qr.DeploymentStatus)
    assert accepted.state == qr.State.QUEUED and accepted.deployment_requests_count == 1
    assert accepted.deployment_request_id is not None
    assert accepted.deployment_request_id != before.deployment_request_id
    seen = mock.requests(db)
    assert seen["redeploy"] == 1 and seen["status"] == 1
    assert seen["last_apply_immediately"] is True
    client.redeploy_database(db)
    assert mock.requests(db)["last_apply_immediately"] is None
    assert all(e["auth_scheme"] == "Token" for e in mock.requests(db)["log"])


def test_context_manager_and_close(mock: Mock) -> None:
    db = mock.database()
    with qr.Client(mock.token, mock.url) as c:
        assert c.database_status(db).state == "DEPLOYED"
    assert c.closed and "closed=True" in repr(c)
    with pytest.raises(qr.ClientClosedError, match="closed"):
        c.database_status(db)
    with pytest.raises(ValueError):
        c.redeploy_database(db)
    c.close()  # twice is fine
    assert mock.requests(db)["status"] == 1

"""Waiting: progress callbacks, callbacks that raise, unknown states, stale statuses."""

from __future__ import annotations

import time

import pytest

import qovery_redeploy as qr

from conftest import Mock


def test_redeploy_and_wait_reports_each_state(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=150)
    seen: list[qr.DeploymentStatus] = []
    final = client.redeploy_and_wait(db, poll_interval=0.02, timeout=30, on_progress=seen.append)
    assert final.is_success and final.state == qr.State.DEPLOYED
    states = [s.state for s in seen]
    # In order, each once (a poll delayed by a busy machine may miss an intermediate state).
    walk = ["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING", "DEPLOYED"]
    assert states[0] == "QUEUED" and states[-1] == "DEPLOYED", states
    assert states == [s for s in walk if s in states], states
    assert len(states) >= 3, states
    assert all(isinstance(s, qr.DeploymentStatus) for s in seen)
    # All of them are the deployment this call started.
    assert {s.deployment_request_id for s in seen} == {final.deployment_request_id}
    assert seen[-1] == final
    assert final.steps is not None and final.steps.total_duration_sec is not None


def test_wait_for_database_with_accepted_ignores_the_previous_deployment(
    client: qr.Client, mock: Mock
) -> None:
    # The real API may keep showing the previous deployment's DEPLOYED right after a redeploy.
    db = mock.database(tick_ms=100, stale_polls=3)
    previous = client.database_status(db).deployment_request_id
    accepted = client.redeploy_database(db)
    final = client.wait_for_database(db, poll_interval=0.03, timeout=30, accepted=accepted)
    assert final.deployment_request_id == accepted.deployment_request_id != previous
    assert mock.requests(db)["status"] >= 1 + 3 + 1

    # Without `accepted` and with the client's memory of it dropped, the first final state
    # seen ends the wait: the stale one (test_remember.py: the memory makes this right).
    accepted = client.redeploy_database(db)
    client.forget_accepted_redeploy(db)
    stale = client.wait_for_database(db, poll_interval=0.03, timeout=30)
    assert stale.is_success and stale.deployment_request_id != accepted.deployment_request_id


def test_unknown_states_are_kept_and_waited_through(client: qr.Client, mock: Mock) -> None:
    # The 202 itself shows the first state: an unknown one, then DEPLOYING.
    db = mock.database(tick_ms=100, states=["FUTURE_STATE_X", "DEPLOYING"])
    seen: list[qr.State] = []
    final = client.redeploy_and_wait(db, poll_interval=0.02, timeout=30,
                                     on_progress=lambda s: seen.append(s.state))
    assert final.state == "DEPLOYED"
    assert seen[0] == "FUTURE_STATE_X" and seen[-1] == "DEPLOYED", seen
    future = seen[0]
    assert type(future) is qr.State and not future.is_known


def test_unknown_values_in_every_enum(client: qr.Client, mock: Mock) -> None:
    db = mock.database()
    mock.faults(db, {"on": "status", "kind": "patch", "set": {
        "state": "HIBERNATING",
        "service_deployment_status": "SIDEWAYS",
        "status_details": {"action": "MIGRATE", "status": "PAUSED", "sub_action": "PULUMI_UP"},
        "steps": {"total_duration_sec": 5, "total_computing_duration_sec": 4,
                  "details": [{"step_name": "QUANTUM_LEAP", "status": "MAYBE", "duration_sec": 2}]},
        "brand_new_field": {"x": 1},
    }})
    s = client.database_status(db)
    assert (s.state, s.service_deployment_status) == ("HIBERNATING", "SIDEWAYS")
    d = s.status_details
    assert (d.action, d.status, d.sub_action) == ("MIGRATE", "PAUSED", "PULUMI_UP")
    assert not any(v is None or v.is_known for v in (s.state, s.service_deployment_status,
                                                     d.action, d.status, d.sub_action))
    assert s.steps is not None
    (step,) = s.steps.details
    assert (step.step_name, step.status, step.duration_sec) == ("QUANTUM_LEAP", "MAYBE", 2)
    assert not s.is_terminal and "brand_new_field" in s.raw_json
    assert '"HIBERNATING"' in s.to_json()


def test_future_error_state_is_a_failure(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=50, outcome="DEPLOYMENT_FUTURE_ERROR")
    with pytest.raises(qr.DeploymentFailedError) as info:
        client.redeploy_and_wait(db, poll_interval=0.02, timeout=30)
    assert info.value.status is not None
    assert info.value.status.state == "DEPLOYMENT_FUTURE_ERROR"
    assert not info.value.status.state.is_known


class Boom(Exception):
    pass


def test_an_exception_in_the_callback_propagates_and_stops_the_wait(
    client: qr.Client, mock: Mock
) -> None:
    db = mock.database(tick_ms=100)
    raised = Boom("stop here")
    calls: list[str] = []

    def on_progress(status: qr.DeploymentStatus) -> None:
        calls.append(status.state)
        if len(calls) == 2:  # the first change seen by polling
            raise raised

    with pytest.raises(Boom) as info:
        client.redeploy_and_wait(db, poll_interval=0.02, timeout=30, on_progress=on_progress)
    assert info.value is raised
    assert len(calls) == 2 and calls[0] == "QUEUED" and calls[1] != "QUEUED"
    polls = mock.requests(db)["status"]
    time.sleep(0.3)
    assert mock.requests(db)["status"] == polls, "the wait went on polling"
    # The client is fine afterwards.
    assert client.database_status(db).id is not None


def test_callback_exception_on_the_accepted_status(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=100)

    def on_progress(status: qr.DeploymentStatus) -> None:
        raise KeyError(status.state)

    with pytest.raises(KeyError) as info:
        client.redeploy_and_wait(db, poll_interval=0.02, on_progress=on_progress)
    assert info.value.args == ("QUEUED",)
    assert mock.requests(db)["status"] == 0


def test_callback_may_use_the_client(client: qr.Client, mock: Mock) -> None:
    db = mock.database(tick_ms=60)
    other = mock.database()
    peeked: list[str] = []
    client.redeploy_and_wait(
        db, poll_interval=0.02, timeout=30,
        on_progress=lambda s: peeked.append(client.database_status(other).state))
    assert peeked and set(peeked) == {"DEPLOYED"}


def test_progress_says_which_statuses_are_the_deployment_waited_for(
    client: qr.Client, mock: Mock
) -> None:
    # A redeploy queued behind a running deployment: the core tells them apart, by request id.
    db = mock.database(tick_ms=50, stale_polls=3)
    seen: list[qr.DeploymentStatus] = []
    final = client.redeploy_and_wait(db, poll_interval=0.02, timeout=30, on_progress=seen.append)
    assert seen[0].belongs == "ours" and seen[-1].belongs == "ours", [s.belongs for s in seen]
    earlier = [s for s in seen if s.belongs == "earlier"]
    assert earlier and all(s.deployment_request_id != final.deployment_request_id for s in earlier)
    assert all(s.summary.endswith(", an earlier request)") for s in earlier), [s.summary for s in earlier]
    # Outside a callback there is no such word, and equality ignores it.
    assert final.belongs is None and final.summary == "DEPLOYED (DEPLOY SUCCESS)"
    assert seen[-1] == final
    # A plain wait has nothing to correlate with.
    plain: list[qr.DeploymentStatus] = []
    client.forget_accepted_redeploy(db)
    client.wait_for_database(db, poll_interval=0.02, timeout=30, on_progress=plain.append)
    assert plain and all(s.belongs == "unknown" for s in plain)

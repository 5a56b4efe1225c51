"""The pure-Python half of ``qovery_redeploy``: open string enums and the exception classes.

The compiled module ``qovery_redeploy._qovery_redeploy`` fills in each enum's values from the
Rust core when it is imported, and raises the exceptions defined here.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, ClassVar, FrozenSet, Iterable, Optional

if TYPE_CHECKING:
    from ._qovery_redeploy import DeploymentStatus

__all__ = [
    "OpenEnum",
    "State",
    "ServiceDeploymentStatus",
    "ServiceAction",
    "ServiceActionStatus",
    "ServiceSubAction",
    "StepName",
    "StepStatus",
    "QoveryError",
    "InvalidInputError",
    "ClientClosedError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitedError",
    "ServerError",
    "HttpError",
    # Not "TimeoutError": a star import must not shadow the builtin (the package imports it
    # by name).
    "NetworkError",
    "TlsError",
    "DecodeError",
    "OutcomeUnknownError",
    "DeploymentFailedError",
    "WaitTimeoutError",
    "CancelledError",
]


class OpenEnum(str):
    """A value of one of the API's enums, as a ``str``.

    The API adds values every year, so these are not ``enum.Enum``: a value this version does
    not know is kept as it came (``State("FUTURE_STATE")`` is valid, ``is_known`` is False).
    Compare with plain strings (``status.state == "DEPLOYED"``) or with the class constants
    (``status.state == State.DEPLOYED``); ``KNOWN`` lists the values this version knows.
    """

    __slots__ = ()

    KNOWN: ClassVar[FrozenSet[str]] = frozenset()

    @property
    def is_known(self) -> bool:
        """Whether this version of the library knows this value."""
        return self in type(self).KNOWN

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class State(OpenEnum):
    """``StateEnum``: where the service is in its lifecycle (``DEPLOYED``, ``DEPLOYING``...)."""

    __slots__ = ()

    BUILDING: ClassVar[State]
    BUILD_ERROR: ClassVar[State]
    CANCELED: ClassVar[State]
    CANCELING: ClassVar[State]
    DELETED: ClassVar[State]
    DELETE_ERROR: ClassVar[State]
    DELETE_QUEUED: ClassVar[State]
    DELETING: ClassVar[State]
    DEPLOYED: ClassVar[State]
    DEPLOYING: ClassVar[State]
    DEPLOYMENT_ERROR: ClassVar[State]
    DEPLOYMENT_QUEUED: ClassVar[State]
    EXECUTING: ClassVar[State]
    QUEUED: ClassVar[State]
    READY: ClassVar[State]
    RECAP: ClassVar[State]
    RESTARTED: ClassVar[State]
    RESTARTING: ClassVar[State]
    RESTART_ERROR: ClassVar[State]
    RESTART_QUEUED: ClassVar[State]
    STOPPED: ClassVar[State]
    STOPPING: ClassVar[State]
    STOP_ERROR: ClassVar[State]
    STOP_QUEUED: ClassVar[State]
    UNAVAILABLE: ClassVar[State]
    WAITING_DELETING: ClassVar[State]
    WAITING_RESTARTING: ClassVar[State]
    WAITING_RUNNING: ClassVar[State]
    WAITING_STOPPING: ClassVar[State]


class ServiceDeploymentStatus(OpenEnum):
    """Whether the running version is the latest one."""

    __slots__ = ()

    NEVER_DEPLOYED: ClassVar[ServiceDeploymentStatus]
    OUT_OF_DATE: ClassVar[ServiceDeploymentStatus]
    UP_TO_DATE: ClassVar[ServiceDeploymentStatus]


class ServiceAction(OpenEnum):
    """``status_details.action``: the action under way."""

    __slots__ = ()

    DEPLOY: ClassVar[ServiceAction]
    DELETE: ClassVar[ServiceAction]
    RESTART: ClassVar[ServiceAction]
    STOP: ClassVar[ServiceAction]
    UNKNOWN: ClassVar[ServiceAction]


class ServiceActionStatus(OpenEnum):
    """``status_details.status``: how far the action got."""

    __slots__ = ()

    QUEUED: ClassVar[ServiceActionStatus]
    ONGOING: ClassVar[ServiceActionStatus]
    SUCCESS: ClassVar[ServiceActionStatus]
    ERROR: ClassVar[ServiceActionStatus]
    EXECUTING: ClassVar[ServiceActionStatus]
    CANCELED: ClassVar[ServiceActionStatus]
    CANCELING: ClassVar[ServiceActionStatus]
    NEVER: ClassVar[ServiceActionStatus]


class ServiceSubAction(OpenEnum):
    """``status_details.sub_action`` (``NONE`` when the API leaves it out)."""

    __slots__ = ()

    NONE: ClassVar[ServiceSubAction]
    TERRAFORM_PLAN_ONLY: ClassVar[ServiceSubAction]
    TERRAFORM_PLAN_AND_APPLY: ClassVar[ServiceSubAction]
    TERRAFORM_DESTROY: ClassVar[ServiceSubAction]
    TERRAFORM_FORCE_UNLOCK_STATE: ClassVar[ServiceSubAction]
    TERRAFORM_MIGRATE_STATE: ClassVar[ServiceSubAction]


class StepName(OpenEnum):
    """The name of one deployment step."""

    __slots__ = ()

    REGISTRY_CREATE_REPOSITORY: ClassVar[StepName]
    GIT_CLONE: ClassVar[StepName]
    BUILD_QUEUEING: ClassVar[StepName]
    BUILD: ClassVar[StepName]
    DEPLOYMENT_QUEUEING: ClassVar[StepName]
    DEPLOYMENT: ClassVar[StepName]
    ROUTER_DEPLOYMENT: ClassVar[StepName]
    MIRROR_IMAGE: ClassVar[StepName]
    EXECUTING: ClassVar[StepName]


class StepStatus(OpenEnum):
    """How one deployment step ended."""

    __slots__ = ()

    SUCCESS: ClassVar[StepStatus]
    ERROR: ClassVar[StepStatus]
    CANCEL: ClassVar[StepStatus]
    SKIP: ClassVar[StepStatus]


def _install_values(cls: type[OpenEnum], values: Iterable[str]) -> None:
    """Called by the compiled module: sets ``cls.KNOWN`` and one constant per value."""
    values = tuple(values)
    cls.KNOWN = frozenset(values)
    for value in values:
        setattr(cls, value, cls(value))


class QoveryError(Exception):
    """Base class of every error raised by ``qovery_redeploy``.

    ``str(error)`` is one line and never contains the API token. Attributes:

    * ``kind``: the core's stable name for the error (``"not_found"``...), one per class;
    * ``http_status``: the HTTP status of the answer that caused it, if one came;
    * ``detail``: the server's explanation from the error body (token removed), if any;
    * ``retry_after``: seconds the server asked to wait (``RateLimitedError``, 503s);
    * ``status``: a ``DeploymentStatus``: the final one for ``DeploymentFailedError``, the
      last one seen for ``WaitTimeoutError`` and ``CancelledError``;
    * ``accepted``: for an error of ``redeploy_and_wait`` raised after the redeploy was
      accepted, that accepted ``DeploymentStatus`` (pass it to ``wait_for_database`` to resume
      the wait; the client also remembers it). ``KeyboardInterrupt`` and exceptions of a
      progress callback get this attribute too. ``None`` otherwise.

    For ``InvalidInputError``, ``detail`` is the message (which argument, and why).
    """

    kind: ClassVar[str] = "error"

    http_status: Optional[int]
    detail: Optional[str]
    retry_after: Optional[float]
    status: Optional[DeploymentStatus]
    accepted: Optional[DeploymentStatus]

    def __init__(
        self,
        message: str,
        *,
        http_status: Optional[int] = None,
        detail: Optional[str] = None,
        retry_after: Optional[float] = None,
        status: Optional[DeploymentStatus] = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.detail = detail
        self.retry_after = retry_after
        self.status = status
        self.accepted = None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidInputError(QoveryError, ValueError):
    """An argument was refused before any I/O: database id, token, URL, option."""

    kind: ClassVar[str] = "invalid_input"


class ClientClosedError(InvalidInputError):
    """The client was used after ``close()`` (or after its ``with`` block)."""


class AuthenticationError(QoveryError):
    """HTTP 401: the token is missing, invalid or expired."""

    kind: ClassVar[str] = "unauthorized"


class PermissionDeniedError(QoveryError):
    """HTTP 403: the token may not act on this database."""

    kind: ClassVar[str] = "forbidden"


class NotFoundError(QoveryError):
    """HTTP 404: no such database, or not visible to this token."""

    kind: ClassVar[str] = "not_found"


class ConflictError(QoveryError):
    """HTTP 409, or a 400 saying an action is already in progress."""

    kind: ClassVar[str] = "conflict"


class RateLimitedError(QoveryError):
    """HTTP 429; ``retry_after`` holds the seconds the server asked to wait, if it said."""

    kind: ClassVar[str] = "rate_limited"


class ServerError(QoveryError):
    """HTTP 5xx (after the retries allowed)."""

    kind: ClassVar[str] = "server"


class HttpError(QoveryError):
    """Any other unexpected HTTP status, redirects included (they are never followed)."""

    kind: ClassVar[str] = "http"


class TimeoutError(QoveryError, builtins.TimeoutError):
    """Connecting or reading took longer than allowed (also a builtin ``TimeoutError``)."""

    kind: ClassVar[str] = "timeout"


class NetworkError(QoveryError, ConnectionError):
    """The connection failed: refused, DNS, reset (also a builtin ``ConnectionError``)."""

    kind: ClassVar[str] = "network"


class TlsError(NetworkError):
    """The TLS handshake or the certificate check failed."""

    kind: ClassVar[str] = "tls"


class DecodeError(QoveryError):
    """An answer came, but its body is not what the API sends."""

    kind: ClassVar[str] = "decode"


class OutcomeUnknownError(QoveryError):
    """The redeploy request may have reached the server but no answer came back.

    It is never retried automatically: check the database status before asking again.
    """

    kind: ClassVar[str] = "outcome_unknown"


class DeploymentFailedError(QoveryError):
    """The deployment ended in a failure state; ``status`` holds that final status."""

    kind: ClassVar[str] = "deployment_failed"


class WaitTimeoutError(QoveryError, builtins.TimeoutError):
    """The wait's own timeout passed first; ``status`` is the last status seen, if any."""

    kind: ClassVar[str] = "wait_timeout"


class CancelledError(QoveryError):
    """The call was cancelled. Ctrl-C raises ``KeyboardInterrupt`` itself, and an exception
    raised by a progress callback propagates as it is; this class is for other cancels."""

    kind: ClassVar[str] = "cancelled"


_ERRORS: dict[str, type[QoveryError]] = {
    cls.kind: cls
    for cls in (
        InvalidInputError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        RateLimitedError,
        ServerError,
        HttpError,
        TimeoutError,
        NetworkError,
        TlsError,
        DecodeError,
        OutcomeUnknownError,
        DeploymentFailedError,
        WaitTimeoutError,
        CancelledError,
    )
}
"""The class raised for each core error kind name; used by the compiled module."""

# Shown (and pickled) as ``qovery_redeploy.NotFoundError``..., where users import them from.
for _name in [*__all__, "TimeoutError"]:
    globals()[_name].__module__ = "qovery_redeploy"
del _name

"""Type stub of the compiled module (checked against it by mypy.stubtest)."""

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, Protocol, TypeAlias, final

from ._types import (
    ServiceAction,
    ServiceActionStatus,
    ServiceDeploymentStatus,
    ServiceSubAction,
    State,
    StepName,
    StepStatus,
)

# The compiled module's `__all__` (pyo3 keeps it: every name it adds but the private helpers),
# which qovery_redeploy/__init__.py star-imports; stubtest checks it against the runtime one.
__all__ = [
    "__version__",
    "DEFAULT_BASE_URL",
    "ENV_TOKEN",
    "ENV_URL",
    "ERROR_KINDS",
    "Client",
    "DeploymentStatus",
    "StatusDetails",
    "Steps",
    "StepMetric",
    "parse_database_id",
]

__version__: Final[str]
DEFAULT_BASE_URL: Final[str]
ENV_TOKEN: Final[str]
ENV_URL: Final[str]
ERROR_KINDS: Final[tuple[str, ...]]

def parse_database_id(database_id: str) -> uuid.UUID: ...
def _run_cli(argv: list[str]) -> int: ...

@final
class StatusDetails:
    @property
    def action(self) -> ServiceAction | None: ...
    @property
    def status(self) -> ServiceActionStatus | None: ...
    @property
    def sub_action(self) -> ServiceSubAction | None: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class StepMetric:
    @property
    def step_name(self) -> StepName | None: ...
    @property
    def status(self) -> StepStatus | None: ...
    @property
    def duration_sec(self) -> int | None: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Steps:
    @property
    def total_duration_sec(self) -> int | None: ...
    @property
    def total_computing_duration_sec(self) -> int | None: ...
    @property
    def details(self) -> tuple[StepMetric, ...]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class DeploymentStatus:
    @staticmethod
    def from_json(text: str) -> DeploymentStatus: ...
    @staticmethod
    def _accepted_unreadable(text: str) -> DeploymentStatus: ...
    @property
    def id(self) -> uuid.UUID | None: ...
    @property
    def state(self) -> State: ...
    @property
    def service_deployment_status(self) -> ServiceDeploymentStatus | None: ...
    @property
    def last_deployment_date(self) -> datetime | None: ...
    @property
    def is_part_last_deployment(self) -> bool | None: ...
    @property
    def steps(self) -> Steps | None: ...
    @property
    def execution_id(self) -> str | None: ...
    @property
    def status_details(self) -> StatusDetails: ...
    @property
    def deployment_request_id(self) -> uuid.UUID | None: ...
    @property
    def deployment_requests_count(self) -> int | None: ...
    @property
    def accepted_unreadable(self) -> bool: ...
    @property
    def is_success(self) -> bool: ...
    @property
    def is_failure(self) -> bool: ...
    @property
    def is_terminal(self) -> bool: ...
    @property
    def raw_json(self) -> str: ...
    @property
    def belongs(self) -> Literal["ours", "earlier", "unknown"] | None: ...
    @property
    def summary(self) -> str: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Callable[[str], DeploymentStatus], tuple[str]]: ...

_DatabaseId: TypeAlias = str | uuid.UUID
_ProgressCallback: TypeAlias = Callable[[DeploymentStatus], object]

class _CancelEvent(Protocol):
    """What ``cancel=`` accepts: ``threading.Event`` or anything with ``is_set()``."""

    def is_set(self) -> bool: ...

@final
class Client:
    def __new__(
        cls,
        token: str | None = None,
        base_url: str | None = None,
        auth_scheme: Literal["auto", "token", "bearer"] | str = "auto",
        timeout: float | None = None,
        max_retries: int | None = None,
        user_agent: str | None = None,
        *,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        ca_file: str | os.PathLike[str] | None = None,
        proxy: str | Literal[False] | None = None,
    ) -> Client: ...
    @property
    def base_url(self) -> str: ...
    @property
    def auth_scheme(self) -> Literal["token", "bearer"]: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def user_agent(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(
        self,
        *_args: type[BaseException] | BaseException | TracebackType | None,
    ) -> None: ...
    def accepted_redeploy(self, database_id: _DatabaseId) -> DeploymentStatus | None: ...
    def forget_accepted_redeploy(self, database_id: _DatabaseId) -> None: ...
    def redeploy_database(
        self,
        database_id: _DatabaseId,
        apply_immediately: bool | None = None,
        *,
        cancel: _CancelEvent | None = None,
    ) -> DeploymentStatus: ...
    def database_status(
        self, database_id: _DatabaseId, *, cancel: _CancelEvent | None = None
    ) -> DeploymentStatus: ...
    def wait_for_database(
        self,
        database_id: _DatabaseId,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: _ProgressCallback | None = None,
        *,
        settle_delay: float | None = None,
        accepted: DeploymentStatus | None = None,
        cancel: _CancelEvent | None = None,
    ) -> DeploymentStatus: ...
    def redeploy_and_wait(
        self,
        database_id: _DatabaseId,
        apply_immediately: bool | None = None,
        timeout: float | None = None,
        poll_interval: float | None = None,
        on_progress: _ProgressCallback | None = None,
        *,
        settle_delay: float | None = None,
        cancel: _CancelEvent | None = None,
    ) -> DeploymentStatus: ...

# The asyncio futures behind ``qovery_redeploy.AsyncClient`` (src/asyncio.rs).
def _aredeploy_database(
    client: Client, database_id: _DatabaseId, apply_immediately: bool | None = None
) -> asyncio.Future[DeploymentStatus]: ...
def _adatabase_status(
    client: Client, database_id: _DatabaseId
) -> asyncio.Future[DeploymentStatus]: ...
def _await_for_database(
    client: Client,
    database_id: _DatabaseId,
    timeout: float | None,
    poll_interval: float | None,
    on_progress: _ProgressCallback | None,
    settle_delay: float | None,
    accepted: DeploymentStatus | None,
) -> asyncio.Future[DeploymentStatus]: ...
def _aredeploy_and_wait(
    client: Client,
    database_id: _DatabaseId,
    apply_immediately: bool | None,
    timeout: float | None,
    poll_interval: float | None,
    on_progress: _ProgressCallback | None,
    settle_delay: float | None,
) -> asyncio.Future[DeploymentStatus]: ...
def _async_in_flight() -> int: ...

"""``AsyncClient``: the asyncio face of ``Client`` (same constructor, same calls, awaited).

Each call runs the sync client's call on the Rust core's own runtime (its blocking pool) and
is awaited as an ``asyncio.Future``: the event loop never blocks. Cancelling the awaiting
task (``task.cancel()``, an ``asyncio.wait_for`` timeout) aborts the request in flight within
about 50 ms. ``on_progress`` is called on the event loop's thread.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Callable, Literal, Optional, Type, Union
from uuid import UUID

from . import _qovery_redeploy as _native
from ._qovery_redeploy import Client, DeploymentStatus

__all__ = ["AsyncClient"]


class AsyncClient:
    """A Qovery API client for asyncio; the arguments are those of ``Client``.

    Use ``async with AsyncClient(...) as client:`` or ``await client.close()``. One client may
    serve many concurrent tasks. Cancel a call by cancelling its task (there is no
    ``cancel=`` argument); the redeploy a cancelled ``redeploy_and_wait`` had accepted stays
    remembered (``accepted_redeploy``), so ``wait_for_database`` resumes the wait.
    """

    __slots__ = ("_client",)

    def __init__(
        self,
        token: Optional[str] = None,
        base_url: Optional[str] = None,
        auth_scheme: Union[Literal["auto", "token", "bearer"], str] = "auto",
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        user_agent: Optional[str] = None,
        *,
        connect_timeout: Optional[float] = None,
        deadline: Optional[float] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        proxy: Union[str, Literal[False], None] = None,
    ) -> None:
        self._client = Client(
            token, base_url, auth_scheme, timeout, max_retries, user_agent,
            connect_timeout=connect_timeout, deadline=deadline, ca_file=ca_file, proxy=proxy,
        )

    @property
    def base_url(self) -> str:
        """The API's base URL (``str``), without a trailing slash."""
        return self._client.base_url

    @property
    def auth_scheme(self) -> Literal["token", "bearer"]:
        """The scheme the token is sent with: ``"token"`` or ``"bearer"``."""
        return self._client.auth_scheme

    @property
    def timeout(self) -> float:
        """Seconds one HTTP attempt may take."""
        return self._client.timeout

    @property
    def max_retries(self) -> int:
        """Retries allowed after a failed attempt, where retrying is safe."""
        return self._client.max_retries

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` header sent."""
        return self._client.user_agent

    @property
    def closed(self) -> bool:
        """``True`` once ``close()`` was awaited (or the ``async with`` block ended)."""
        return self._client.closed

    async def close(self) -> None:
        """Drops the pooled connections; later calls raise ``ClientClosedError``."""
        self._client.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    async def redeploy_database(
        self, database_id: Union[str, UUID], apply_immediately: Optional[bool] = None
    ) -> DeploymentStatus:
        """``POST /database/{id}/redeploy``; see ``Client.redeploy_database``."""
        return await _native._aredeploy_database(self._client, database_id, apply_immediately)

    async def database_status(self, database_id: Union[str, UUID]) -> DeploymentStatus:
        """``GET /database/{id}/status``; see ``Client.database_status``."""
        return await _native._adatabase_status(self._client, database_id)

    async def wait_for_database(
        self,
        database_id: Union[str, UUID],
        timeout: Optional[float] = None,
        poll_interval: Optional[float] = None,
        on_progress: Optional[Callable[[DeploymentStatus], object]] = None,
        *,
        settle_delay: Optional[float] = None,
        accepted: Optional[DeploymentStatus] = None,
    ) -> DeploymentStatus:
        """Polls until the deployment ends; see ``Client.wait_for_database``."""
        return await _native._await_for_database(
            self._client, database_id, timeout, poll_interval, on_progress, settle_delay,
            accepted,
        )

    async def redeploy_and_wait(
        self,
        database_id: Union[str, UUID],
        apply_immediately: Optional[bool] = None,
        timeout: Optional[float] = None,
        poll_interval: Optional[float] = None,
        on_progress: Optional[Callable[[DeploymentStatus], object]] = None,
        *,
        settle_delay: Optional[float] = None,
    ) -> DeploymentStatus:
        """Redeploys, then waits for that deployment; see ``Client.redeploy_and_wait``."""
        return await _native._aredeploy_and_wait(
            self._client, database_id, apply_immediately, timeout, poll_interval, on_progress,
            settle_delay,
        )

    def accepted_redeploy(self, database_id: Union[str, UUID]) -> Optional[DeploymentStatus]:
        """The remembered accepted redeploy; see ``Client.accepted_redeploy``."""
        return self._client.accepted_redeploy(database_id)

    def forget_accepted_redeploy(self, database_id: Union[str, UUID]) -> None:
        """See ``Client.forget_accepted_redeploy``."""
        self._client.forget_accepted_redeploy(database_id)

    def __repr__(self) -> str:
        return "Async" + repr(self._client)


AsyncClient.__module__ = "qovery_redeploy"

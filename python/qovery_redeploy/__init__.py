"""Redeploy a Qovery managed database through the Qovery REST API, and wait for the outcome.

>>> import qovery_redeploy as qr
>>> with qr.Client() as client:  # token from QOVERY_API_TOKEN
...     final = client.redeploy_and_wait("3c90c3cc-0d44-4b50-8888-8dd25736052a")
...     print(final.state)

The work is done by a Rust core (shared with the ``qovery-redeploy`` command and the C
library); network waits release the GIL and Ctrl-C interrupts them.
"""

import logging as _logging

# Each module's own `__all__` (_types.py, the compiled module's, which pyo3 keeps and the stub
# _qovery_redeploy.pyi mirrors, _asyncio.py) says what a star import takes from it; the
# package's public names are written once, below (test_api.py checks they are exactly those).
from ._types import *  # noqa: F403
from ._qovery_redeploy import *  # noqa: F403
from ._asyncio import *  # noqa: F403

__all__ = [
    "Client",
    "AsyncClient",
    "DeploymentStatus",
    "StatusDetails",
    "Steps",
    "StepMetric",
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
    # Not "TimeoutError" (see below).
    "NetworkError",
    "TlsError",
    "DecodeError",
    "OutcomeUnknownError",
    "DeploymentFailedError",
    "WaitTimeoutError",
    "CancelledError",
    "parse_database_id",
    "DEFAULT_BASE_URL",
    "ENV_TOKEN",
    "ENV_URL",
    "ERROR_KINDS",
    "__version__",
]

# Importable by name, and re-exported for type checkers ("X as X"), but left out of
# `__all__`: `from qovery_redeploy import *` must not shadow the builtin `TimeoutError`.
from ._types import TimeoutError as TimeoutError  # noqa: A004, E402

# The core's records (retries, reconnections, one debug line per request) go to this logger;
# like any library, it shows nothing until the application configures logging.
_logging.getLogger("qovery_redeploy").addHandler(_logging.NullHandler())

"""Redeploy a Qovery managed database through the Qovery REST API, and wait for the outcome.

>>> import qovery_redeploy as qr
>>> with qr.Client() as client:  # token from QOVERY_API_TOKEN
...     final = client.redeploy_and_wait("3c90c3cc-0d44-4b50-8888-8dd25736052a")
...     print(final.state)

The work is done by a Rust core (shared with the ``qovery-redeploy`` command and the C
library); network waits release the GIL and Ctrl-C interrupts them.
"""

import logging as _logging

from ._types import (
    AuthenticationError,
    CancelledError,
    ClientClosedError,
    ConflictError,
    DecodeError,
    DeploymentFailedError,
    HttpError,
    InvalidInputError,
    NetworkError,
    NotFoundError,
    OpenEnum,
    OutcomeUnknownError,
    PermissionDeniedError,
    QoveryError,
    RateLimitedError,
    ServerError,
    ServiceAction,
    ServiceActionStatus,
    ServiceDeploymentStatus,
    ServiceSubAction,
    State,
    StepName,
    StepStatus,
    TimeoutError,
    TlsError,
    WaitTimeoutError,
)
from ._qovery_redeploy import (
    DEFAULT_BASE_URL,
    ENV_TOKEN,
    ENV_URL,
    ERROR_KINDS,
    Client,
    DeploymentStatus,
    StatusDetails,
    StepMetric,
    Steps,
    __version__,
    parse_database_id,
)

# The core's records (retries, reconnections, one debug line per request) go to this logger;
# like any library, it shows nothing until the application configures logging.
_logging.getLogger("qovery_redeploy").addHandler(_logging.NullHandler())

__all__ = [
    "Client",
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
    "TimeoutError",
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

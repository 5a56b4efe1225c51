"""``python -m qovery_redeploy``: the ``qovery-redeploy`` command (same flags, same exit codes).

The command itself is the Rust CLI, run in-process; Ctrl-C stops it like the native binary.
"""

import sys
from typing import NoReturn

from ._qovery_redeploy import _run_cli


def main() -> NoReturn:
    """Entry point of the ``qovery-redeploy`` console script."""
    sys.exit(_run_cli(["qovery-redeploy", *sys.argv[1:]]))


if __name__ == "__main__":
    main()

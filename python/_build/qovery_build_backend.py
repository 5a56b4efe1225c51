"""The PEP 517 backend of ``pip install ./python``: maturin's, told not to fetch Rust.

When ``cargo`` is not on PATH, maturin's backend downloads a whole Rust toolchain (about
800 MB, minutes, no output) through puccinialin, unless ``MATURIN_NO_INSTALL_RUST`` is set
in the environment; pyproject.toml has no setting for it. Someone running ``pip install``
without Rust wants to hear that at once and where the prebuilt wheel is, so every hook here
checks first, then hands over to maturin unchanged.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

MESSAGE = (
    "qovery-redeploy: building from source needs a Rust toolchain (cargo, Rust 1.89 or newer: "
    "https://rustup.rs) and none is on PATH; no Rust is needed to install the prebuilt wheel "
    "qovery_redeploy-<version>-cp39-abi3-manylinux_2_17_x86_64.whl "
    "(`pip install --only-binary :all: <wheel>`; scripts/release.sh builds it into dist/)"
)


def _maturin() -> Any:  # maturin ships no type information
    os.environ["MATURIN_NO_INSTALL_RUST"] = "1"
    if shutil.which(os.environ.get("CARGO", "cargo")) is None:
        # SystemExit prints its text alone (no traceback) in pip's hook subprocess.
        raise SystemExit(MESSAGE)
    import maturin  # type: ignore[import-untyped]

    return maturin


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return list(_maturin().get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings: Any = None) -> list[str]:
    return list(_maturin().get_requires_for_build_sdist(config_settings))


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    return list(_maturin().get_requires_for_build_editable(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: Any = None) -> str:
    return str(_maturin().prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: Any = None) -> str:
    return str(_maturin().prepare_metadata_for_build_editable(metadata_directory, config_settings))


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    return str(_maturin().build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None) -> str:
    return str(_maturin().build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: Any = None) -> str:
    return str(_maturin().build_sdist(sdist_directory, config_settings))

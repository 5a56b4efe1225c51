#!/usr/bin/env python3
"""The one place that makes .venv (repository root) and installs our wheel into it; used by
scripts/test-python.sh, scripts/bench.sh and tests/reliability.py.

    python3 scripts/venv.py [-r REQUIREMENTS]... [--wheel release|build|fresh]

Creates .venv if missing (with $PYTHON, default this interpreter), installs each pinned
requirements file, then with --wheel installs the manylinux abi3 release wheel
(dist/qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl) the way a user without Rust does:
no cargo on PATH, ``--only-binary :all: --no-index``. The wheel comes from
``scripts/release.sh`` (``release``: every artifact, as test_release.py needs; ``build``: the
wheel only); ``fresh`` reuses the installed package when it imports and is newer than every
source it is built from, else does ``build``. Prints the wheel (or the reused module) last.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
SOURCES = ["core/src", "core/Cargo.toml", "python/src", "python/qovery_redeploy", "python/Cargo.toml",
           "python/pyproject.toml", "Cargo.lock"]


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(PY), "-m", "pip", "-q", *args], check=True, env=env)


def installed_module() -> Path | None:
    """The installed compiled module, if the package imports (from outside the source tree)."""
    r = subprocess.run([str(PY), "-c", "import qovery_redeploy._qovery_redeploy as m; print(m.__file__)"],
                       capture_output=True, text=True, cwd=VENV)
    return Path(r.stdout.strip()) if r.returncode == 0 else None


def newer_source(than: Path) -> Path | None:
    mtime = than.stat().st_mtime
    for name in SOURCES:
        p = ROOT / name
        for f in [p] if p.is_file() else (x for x in p.rglob("*") if x.is_file()):
            if f.stat().st_mtime > mtime:
                return f
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-r", dest="requirements", action="append", default=[], help="a requirements file")
    ap.add_argument("--wheel", choices=["release", "build", "fresh"])
    args = ap.parse_args()
    os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if not PY.exists():
        subprocess.run([os.environ.get("PYTHON", sys.executable), "-m", "venv", str(VENV)], check=True)
    for req in args.requirements:
        pip("install", "-r", str(ROOT / req))
    if args.wheel is None:
        return 0
    if args.wheel == "fresh":
        so = installed_module()
        stale = newer_source(so) if so else None
        if so and not stale:
            print(f"reusing the qovery_redeploy installed in .venv: {so}")
            return 0
        print(f"the installed package is {'older than ' + str(stale) if so else 'missing'}: rebuilding")
    # scripts/release.sh (its tools go into .venv too); maturin must be on PATH for it.
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}"}
    parts = [] if args.wheel == "release" else ["wheel"]
    subprocess.run(["bash", str(ROOT / "scripts" / "release.sh"), *parts], check=True, env=env, cwd=ROOT)
    (wheel,) = (ROOT / "dist").glob("qovery_redeploy-*-cp39-abi3-manylinux*_x86_64.whl")
    # No cargo on PATH, and --only-binary :all: --no-index: pip may not build anything.
    bare = {**env, "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
    pip("install", "--force-reinstall", "--no-deps", "--only-binary", ":all:", "--no-index", str(wheel), env=bare)
    print(f"installed into .venv: {wheel.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The release artifacts of scripts/release.sh (dist/), each installed and run the way a user
would: the wheel (this whole suite runs against it), the sdist in a fresh venv, the CLI and
the C library tarballs unpacked into a temporary prefix, the crates' contents, and, where a
Debian bullseye root can be made (glibc 2.31, CPython 3.9), the CLI and the wheel inside it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, Mock, figures

DIST = REPO / "dist"
GLIBC_FLOOR = (2, 17)
VERSION = importlib.metadata.version("qovery-redeploy")
LICENCES = {"LICENSE-MIT", "LICENSE-APACHE"}
# No Rust on this PATH: what a machine without a toolchain has.
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"


def artifact(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST} (run scripts/release.sh): {found}"
    return found[0]


def newest_glibc(binary: Path) -> tuple[int, ...]:
    out = subprocess.run(["objdump", "-T", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    versions = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", out)}
    assert versions, f"{binary} references no glibc symbol version: is it the right file?"
    return max(versions)


def untar(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
    (top,) = into.iterdir()
    return top


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def api_env(mock: Mock, path: str = BARE_PATH) -> dict[str, str]:
    """Only what a user sets: the token, the API URL, a PATH; no LD_LIBRARY_PATH."""
    return {"PATH": path, "QOVERY_API_TOKEN": mock.token, "QOVERY_API_URL": mock.url}


def needed(binary: Path) -> list[str]:
    out = run(["readelf", "-d", str(binary)]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def test_sha256sums_cover_every_artifact() -> None:
    lines = (DIST / "SHA256SUMS").read_text().splitlines()
    sums: dict[str, str] = {}
    for line in lines:
        digest, name = line.split(maxsplit=1)
        sums[name] = digest
    assert set(sums) == {p.name for p in DIST.iterdir()} - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((DIST / name).read_bytes()).hexdigest() == digest, name
    figures("release artifacts (KiB)",
            **{name: (DIST / name).stat().st_size // 1024 for name in sorted(sums)})


def test_this_suite_runs_against_the_release_wheel() -> None:
    wheel = artifact("qovery_redeploy-*.whl")
    assert f"qovery_redeploy-{VERSION}-cp39-abi3-" in wheel.name
    assert "manylinux_2_17_x86_64" in wheel.name
    tags = importlib.metadata.distribution("qovery-redeploy").read_text("WHEEL") or ""
    assert "Tag: cp39-abi3-manylinux_2_17_x86_64" in tags, tags


ABI3_SMOKE = """
import json, sys, qovery_redeploy as qr
s = qr.DeploymentStatus.from_json(json.dumps({"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "state": "NEW_STATE", "service_deployment_status": "UP_TO_DATE",
    "last_deployment_date": "2026-01-02T03:04:05Z", "is_part_last_deployment": True,
    "status_details": {"action": "DEPLOY", "status": "SUCCESS"},
    "deployment_request_id": None, "deployment_requests_count": 0}))
assert s.state == "NEW_STATE" and not s.state.is_known and s.last_deployment_date.tzinfo
try:  # nothing listens on the discard port: the compiled core runs and says so
    qr.Client("tok", "http://127.0.0.1:9", max_retries=0).database_status(s.id)
    raise SystemExit("expected a NetworkError")
except qr.NetworkError:
    pass
print(sys.version.split()[0], "ok:", qr.__version__, repr(s.state))
"""


@pytest.mark.parametrize("version", ["3.9", "3.13"])
def test_the_abi3_wheel_on_the_oldest_and_newest_cpython(version: str, tmp_path: Path) -> None:
    """The same abi3 wheel installed on CPython 3.9 and 3.13 (pyenv's, if present): it imports,
    parses a status and runs the compiled core; `python -m qovery_redeploy --version`."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob(f"{version}.*/bin/python{version}"))
    if not found or subprocess.run([str(found[-1]), "-c", "pass"]).returncode != 0:
        pytest.skip(f"no CPython {version} on this machine; the wheel was installed on "
                    f"{sys.version.split()[0]} only")
    venv = tmp_path / f"py{version}"
    run([str(found[-1]), "-m", "venv", "--without-pip", str(venv)])
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
         "--no-deps", str(artifact("qovery_redeploy-*.whl"))])
    out = run([str(venv / "bin" / "python"), "-c", ABI3_SMOKE], cwd=tmp_path).stdout
    assert out.startswith(f"{version}.") and f"ok: {VERSION} " in out, out
    out = run([str(venv / "bin" / "python"), "-m", "qovery_redeploy", "--version"], cwd=tmp_path).stdout
    assert VERSION in out, out


def test_wheel_holds_the_licences_and_needs_glibc_2_17(tmp_path: Path) -> None:
    wheel = artifact("qovery_redeploy-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extract("qovery_redeploy/_qovery_redeploy.abi3.so", tmp_path)
    info = f"qovery_redeploy-{VERSION}.dist-info"
    assert {f"{info}/licenses/{name}" for name in LICENCES} <= names
    assert {"qovery_redeploy/py.typed", "qovery_redeploy/_qovery_redeploy.pyi"} <= names
    assert newest_glibc(tmp_path / "qovery_redeploy" / "_qovery_redeploy.abi3.so") <= GLIBC_FLOOR


def test_pip_install_from_source_without_rust_fails_fast(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    path = f"{venv / 'bin'}:{BARE_PATH}"
    assert shutil.which("cargo", path=path) is None, "this test needs a PATH without cargo"
    env = {"PATH": path, "HOME": os.environ.get("HOME", str(tmp_path)),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    started = time.monotonic()
    r = subprocess.run([str(venv / "bin" / "pip"), "install", str(REPO / "python")], env=env,
                       capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "building from source needs a Rust toolchain" in out, out
    assert "manylinux_2_17_x86_64.whl" in out, out
    assert "puccinialin" not in out and "installing into a temporary directory" not in out, out
    assert not list(venv.glob("lib/python*/site-packages/qovery_redeploy")), "something installed"
    figures("pip install ./python without Rust", seconds_to_fail=elapsed)


def test_sdist_builds_and_installs_in_a_fresh_venv(mock: Mock, tmp_path: Path) -> None:
    sdist = artifact(f"qovery_redeploy-{VERSION}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
    top = f"qovery_redeploy-{VERSION}"
    assert {f"{top}/{name}" for name in LICENCES | {"pyproject.toml", "Cargo.lock"}} <= names
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1",
               # A target directory of its own, so a rerun is incremental.
               CARGO_TARGET_DIR=str(REPO / "target" / "sdist-build"))
    started = time.monotonic()
    run([str(venv / "bin" / "pip"), "install", "-q", str(sdist)], env=env, timeout=1800)
    figures("sdist pip install (build from source)", seconds=time.monotonic() - started)
    db = mock.database(tick_ms=50)
    script = ("import sys, qovery_redeploy as qr\n"
              "c = qr.Client(token=sys.argv[1], base_url=sys.argv[2], max_retries=0)\n"
              "print(c.redeploy_and_wait(sys.argv[3], poll_interval=0.05, settle_delay=0).state)")
    r = run([str(venv / "bin" / "python"), "-c", script, mock.token, mock.url, db],
            env={"PATH": BARE_PATH}, cwd=tmp_path)
    assert r.stdout.strip() == "DEPLOYED", r.stdout
    assert mock.requests(db)["redeploy"] == 1
    site = next((venv / "lib").glob("python*/site-packages"))
    assert {p.name for p in (site / f"qovery_redeploy-{VERSION}.dist-info" / "licenses").iterdir()} \
        == LICENCES


def test_cli_tarball_runs_from_anywhere(mock: Mock, tmp_path: Path) -> None:
    top = untar(artifact(f"qovery-redeploy-{VERSION}-x86_64-linux-gnu.tar.gz"), tmp_path)
    assert {p.name for p in top.iterdir()} == LICENCES | {"bin", "README.md"}
    cli = top / "bin" / "qovery-redeploy"
    assert newest_glibc(cli) <= GLIBC_FLOOR
    assert run([str(cli), "--version"]).stdout.strip() == f"qovery-redeploy {VERSION}"
    db = mock.database(tick_ms=50)
    r = run([str(cli), "--wait", "--poll-interval", "0.05", db], env=api_env(mock))
    assert "deployed:" in r.stdout + r.stderr, r
    assert mock.requests(db)["redeploy"] == 1


class CTarball:
    def __init__(self, tmp_path: Path) -> None:
        self.prefix = untar(artifact(f"libqovery_redeploy-{VERSION}-x86_64-linux-gnu.tar.gz"),
                            tmp_path / "unpacked")
        self.env = dict(os.environ, PKG_CONFIG_PATH=str(self.prefix / "lib" / "pkgconfig"))

    def pkg_config(self, *args: str) -> list[str]:
        return run(["pkg-config", *args], env=self.env).stdout.split()


def redeploy_with(binary: Path, mock: Mock) -> None:
    db = mock.database(tick_ms=50)
    r = run([str(binary), db], env=api_env(mock))
    assert "deployed: DEPLOYED" in r.stdout, r
    assert mock.requests(db)["redeploy"] == 1


def test_c_tarball_layout(tmp_path: Path) -> None:
    c = CTarball(tmp_path)
    lib = c.prefix / "lib"
    so = lib / f"libqovery_redeploy.so.{VERSION}"
    assert os.readlink(lib / "libqovery_redeploy.so") == "libqovery_redeploy.so.0.1"
    assert os.readlink(lib / "libqovery_redeploy.so.0.1") == so.name
    assert "libqovery_redeploy.so.0.1" in run(["readelf", "-d", str(so)]).stdout
    assert newest_glibc(so) <= GLIBC_FLOOR
    for path in ["include/qovery_redeploy.h", "lib/libqovery_redeploy.a",
                 "lib/cmake/qovery_redeploy/qovery_redeployConfig.cmake",
                 "examples/redeploy.c", "examples/CMakeLists.txt", *LICENCES]:
        assert (c.prefix / path).is_file(), path
    assert c.pkg_config("--modversion", "qovery_redeploy") == [VERSION]
    assert "-lpthread" in c.pkg_config("--static", "--libs", "qovery_redeploy")


def test_c_tarball_with_pkg_config(mock: Mock, tmp_path: Path) -> None:
    c = CTarball(tmp_path)
    example = c.prefix / "examples" / "redeploy.c"
    # The link line ffi/README.md documents for a prefix the loader does not search.
    libdir = c.pkg_config("--variable=libdir", "qovery_redeploy")[0]
    shared = tmp_path / "redeploy"
    run(["cc", str(example), *c.pkg_config("--cflags", "--libs", "qovery_redeploy"),
         f"-Wl,-rpath,{libdir}", "-o", str(shared)], env=c.env)
    assert "libqovery_redeploy.so.0.1" in needed(shared)
    redeploy_with(shared, mock)
    static = tmp_path / "redeploy_static"
    run(["cc", str(example), *c.pkg_config("--cflags", "--libs", "qovery_redeploy-static"),
         "-o", str(static)], env=c.env)
    assert not [n for n in needed(static) if "qovery" in n], needed(static)
    redeploy_with(static, mock)


def test_c_tarball_with_cmake(mock: Mock, tmp_path: Path) -> None:
    c = CTarball(tmp_path)
    build = tmp_path / "build"
    run(["cmake", "-S", str(c.prefix / "examples"), "-B", str(build),
         f"-DCMAKE_PREFIX_PATH={c.prefix}"], timeout=300)
    run(["cmake", "--build", str(build), "-j", "2"], timeout=300)
    assert "libqovery_redeploy.so.0.1" in needed(build / "redeploy")
    assert not [n for n in needed(build / "redeploy_static") if "qovery" in n]
    redeploy_with(build / "redeploy", mock)
    redeploy_with(build / "redeploy_static", mock)


def test_crates_hold_licences_readme_and_versioned_dependencies(tmp_path: Path) -> None:
    for crate in ["qovery-redeploy", "qovery-redeploy-cli"]:
        top = untar(artifact(f"{crate}-{VERSION}.crate"), tmp_path / crate)
        assert LICENCES | {"README.md", "Cargo.toml"} <= {p.name for p in top.iterdir()}
        manifest = (top / "Cargo.toml").read_text()
        assert 'license = "MIT OR Apache-2.0"' in manifest
        assert 'readme = "README.md"' in manifest
    cli_manifest = (tmp_path / "qovery-redeploy-cli" / f"qovery-redeploy-cli-{VERSION}" /
                    "Cargo.toml").read_text()
    assert re.search(r'\[dependencies\.qovery-redeploy\]\nversion = "=' + re.escape(VERSION),
                     cli_manifest), cli_manifest


OLD_ROOT = REPO / "target" / "bullseye-root"


def chroot() -> str:
    found = shutil.which("chroot") or shutil.which("chroot", path="/usr/sbin:/sbin")
    assert found, "chroot (coreutils) is missing"
    return found


def bullseye_root() -> Path:
    """A Debian 11 root (glibc 2.31, CPython 3.9), made once with debootstrap."""
    if (OLD_ROOT / "usr" / "bin" / "python3").exists():
        return OLD_ROOT
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.skip("no old-glibc root here (needs root and debootstrap): the glibc floor "
                    "rests on the objdump checks alone")
    shutil.rmtree(OLD_ROOT, ignore_errors=True)
    r = subprocess.run(["debootstrap", "--variant=minbase", "--include=python3", "bullseye",
                        str(OLD_ROOT), "http://deb.debian.org/debian"],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        pytest.skip("debootstrap bullseye failed (no Debian mirror?): the glibc floor rests "
                    f"on the objdump checks alone\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return OLD_ROOT


def test_cli_and_wheel_run_on_debian_bullseye(mock: Mock, tmp_path: Path) -> None:
    root = bullseye_root()
    glibc = run([chroot(), str(root), "ldd", "--version"]).stdout.splitlines()[0]
    python = run([chroot(), str(root), "python3", "--version"]).stdout.strip()
    opt = root / "opt" / "qovery"
    shutil.rmtree(opt, ignore_errors=True)
    untar(artifact(f"qovery-redeploy-{VERSION}-x86_64-linux-gnu.tar.gz"), opt / "cli")
    with zipfile.ZipFile(artifact("qovery_redeploy-*.whl")) as z:
        z.extractall(opt / "site-packages")
    cli = f"/opt/qovery/cli/qovery-redeploy-{VERSION}-x86_64-linux-gnu/bin/qovery-redeploy"
    db = mock.database(tick_ms=50)
    r = run([chroot(), str(root), cli, "--wait", "--poll-interval", "0.05", db],
            env=api_env(mock))
    assert "deployed:" in r.stdout + r.stderr, r
    db = mock.database(tick_ms=50)
    script = ("import json, sys, qovery_redeploy as qr\n"
              "c = qr.Client(token=sys.argv[1], base_url=sys.argv[2], max_retries=0)\n"
              "s = c.redeploy_and_wait(sys.argv[3], poll_interval=0.05, settle_delay=0)\n"
              "print(json.dumps([sys.version.split()[0], str(s.state)]))")
    r = run([chroot(), str(root), "python3", "-c", script, mock.token, mock.url, db],
            env={"PATH": BARE_PATH, "PYTHONPATH": "/opt/qovery/site-packages"})
    version, state = json.loads(r.stdout)
    assert version.startswith("3.9.") and state == "DEPLOYED", r.stdout
    assert mock.requests(db)["redeploy"] == 1
    figures(f"CLI and wheel on Debian bullseye (glibc {glibc.split()[-1]}, {python})", runs=2)

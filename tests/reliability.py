#!/usr/bin/env python3
"""Reliability checks (RELIABILITY.md), bounded for CI or at full size:

    python3 tests/reliability.py [smoke|long]      (scripts/test-reliability.sh runs this)

smoke (default, what CI runs; about 2 minutes warm): the fault matrix through the C ABI
(ASan+UBSan) and through Python, a 16 x 200 soak in C (ASan+UBSan, LeakSanitizer at exit) and
in Python, valgrind on 1,000 calls through the C ABI, Python RSS over 5,000 calls. (The
matrix through Rust runs in `cargo test`.)
long (the figures in RELIABILITY.md; about 4 minutes): the same with the issue's sizes:
16 x 2,000 soaks, valgrind on 10,000 calls, RSS over 20,000 calls, plus the Rust matrix
(`cargo test -p qovery-redeploy --test matrix`).

It builds what it needs: the debug C library and qovery-mock, the C programs (gcc), and the
Python package in .venv (scripts/venv.py --wheel fresh: reused when newer than its sources,
else the release wheel rebuilt and installed). One qovery-mock (tests/mockctl.py, the
matrix's token, stdin-tied so it dies with this driver) serves every part.

Prints one summary line per part with its figures, writes them to
target/reliability/last-<mode>.txt, and exits non-zero if any part failed.
RELIABILITY_SKIP="matrix-python ..." skips parts (matrix-c matrix-python matrix-rust soak-c
soak-python valgrind rss), e.g. matrix-python right after scripts/test-python.sh, whose pytest
run already includes tests/python/test_matrix.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import mockctl  # noqa: E402

MODES = {  # soak calls per thread, valgrind threads x calls, RSS calls, Rust matrix
    "smoke": dict(soak=200, vg_threads=4, vg_calls=250, rss=5000, rust=False),
    "long": dict(soak=2000, vg_threads=4, vg_calls=2500, rss=20000, rust=True),
}
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
WORK = TARGET / "reliability"
LOGS = WORK / "logs"
VPY = str(ROOT / ".venv" / "bin" / "python")
PART_TIMEOUT = 1800  # s; every program has its own, smaller bound (--max-seconds...)
SAN = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]


class Failed(Exception):
    pass


def run(log: Path, *cmd: str, cwd: Path = ROOT) -> str:
    """Runs cmd (output appended to log); its output, or Failed."""
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        try:
            r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               errors="replace", timeout=PART_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            f.write(str(e.output or ""))
            raise Failed(f"{cmd[0]} still running after {PART_TIMEOUT} s") from None
        f.write(r.stdout)
    if r.returncode != 0:
        raise Failed(f"{' '.join(cmd)} exited {r.returncode}")
    return r.stdout


def cc(log: Path, src: str, out: Path, *flags: str) -> None:
    lib = WORK / "lib"
    run(log, "gcc", "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-g", *flags, f"-I{ROOT / 'include'}",
        str(ROOT / src), f"-L{lib}", "-lqovery_redeploy", f"-Wl,-rpath,{lib}", "-lpthread", "-o", str(out))


def build(log: Path) -> str:
    for tool in ("gcc", "valgrind", "readelf"):
        if not shutil.which(tool):
            raise Failed(f"{tool} is missing (.ci/provision installs it)")
    run(log, "cargo", "build", "--locked", "-p", "qovery-redeploy-ffi", "-p", "qovery-mock")
    # The library's soname (libqovery_redeploy.so.0.1) next to the debug build, by symlink.
    so = TARGET / "debug" / "libqovery_redeploy.so"
    m = re.search(r"SONAME.*\[(.*)\]", run(log, "readelf", "-d", str(so)))
    if not m:
        raise Failed(f"no soname in {so}")
    for name, to in ((m.group(1), str(so)), ("libqovery_redeploy.so", m.group(1))):
        link = WORK / "lib" / name
        link.unlink(missing_ok=True)
        link.symlink_to(to)
    cc(log, "tests/matrix/matrix_c.c", WORK / "matrix_c_asan", *SAN)
    cc(log, "tests/soak/soak.c", WORK / "soak_asan", *SAN)
    cc(log, "tests/soak/soak.c", WORK / "soak_plain", "-O0")
    return (f"debug libqovery_redeploy ({m.group(1)}) and qovery-mock; matrix_c and soak (ASan+UBSan), "
            "soak (plain, for valgrind)")


def python_package(log: Path) -> str:
    out = run(log, sys.executable, str(ROOT / "scripts" / "venv.py"), "-r", "tests/python/requirements.txt",
              "--wheel", "fresh")
    return out.strip().splitlines()[-1]


def matrix_c(log: Path) -> str:
    out = run(log, sys.executable, str(HERE / "matrix" / "run_c.py"), "--bin", str(WORK / "matrix_c_asan"),
              "--mock-url", os.environ["QOVERY_MOCK_URL"])
    return summary(out)


def matrix_python(log: Path) -> str:
    out = run(log, VPY, "-m", "pytest", "test_matrix.py", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-rx",
              cwd=HERE / "python")
    known = re.findall(r"^XFAIL test_matrix.py::test_case\[(.*)\] - known bug: (.*)$", out, re.M)
    with open(log, "a") as f:
        f.writelines(f"KNOWN BUG {name}: {bug}\n" for name, bug in known)
    m = re.search(r"matrix python: .*", out)
    return m.group(0) if m else last_line(out)


def matrix_rust(log: Path) -> str:
    return last_line(run(log, "cargo", "test", "--locked", "-q", "-p", "qovery-redeploy", "--test", "matrix"))


def soak_c(log: Path, calls: int) -> str:
    out = run(log, str(WORK / "soak_asan"), "--threads", "16", "--calls", str(calls), "--max-seconds", "600")
    return f"{out.strip()} (ASan+UBSan, LeakSanitizer clean at exit)"


def soak_python(log: Path, calls: int) -> str:
    return run(log, VPY, str(HERE / "soak" / "soak.py"), "soak", "--threads", "16", "--calls", str(calls),
               "--max-seconds", "600").strip()


def valgrind_c(log: Path, threads: int, calls: int) -> str:
    vg = LOGS / "valgrind.txt"
    try:
        run(log, "valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99",
            f"--log-file={vg}", str(WORK / "soak_plain"), "--threads", str(threads), "--calls", str(calls),
            "--max-seconds", "1200")
        text = vg.read_text()
        if "ERROR SUMMARY: 0 errors" not in text:
            raise Failed("valgrind reported errors")
        if "All heap blocks were freed" in text:
            lost = "definitely lost: 0 bytes in 0 blocks (all heap blocks were freed)"
        else:
            m = re.search(r"definitely lost: .*", text)
            if not m or m.group(0) != "definitely lost: 0 bytes in 0 blocks":
                raise Failed(m.group(0) if m else "no 'definitely lost' line")
            lost = m.group(0)
    except Failed:
        with open(log, "a") as f:
            f.write(vg.read_text() if vg.exists() else "(no valgrind log)\n")
        raise
    heap = re.search(r"total heap usage: .*", text)
    errors = re.search(r"ERROR SUMMARY: [0-9]* errors", text)
    return (f"valgrind memcheck on {threads * calls} calls through the C ABI ({threads} threads x {calls}, one "
            f"client, 1 in 8 faulted): {lost}; {heap.group(0) if heap else '?'}; {errors.group(0) if errors else '?'}")


def rss_python(log: Path, calls: int) -> str:
    out = run(log, VPY, str(HERE / "soak" / "soak.py"), "rss", "--calls", str(calls))
    return out.strip().splitlines()[0]


def summary(out: str) -> str:
    lines = re.findall(r"^summary: *(.*)$", out, re.M)
    return " ".join(lines) if lines else last_line(out)


def last_line(out: str) -> str:
    lines = [x for x in out.splitlines() if x.strip()]
    return lines[-1] if lines else ""


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed = False
        self.skip = set(os.environ.get("RELIABILITY_SKIP", "").split())

    def part(self, name: str, fn: Callable[[Path], str], key: str = "") -> bool:
        if key in self.skip:
            print(f"=== {name}: skipped (RELIABILITY_SKIP)", flush=True)
            self.lines.append(f"{'SKIP':<4} {name:<30} (RELIABILITY_SKIP)")
            return True
        print(f"=== {name}", flush=True)
        log = LOGS / (re.sub(r"[^a-zA-Z0-9_+-]", "_", name) + ".log")
        log.write_text("")
        t0 = time.monotonic()
        try:
            figures, status = fn(log), "PASS"
        except (Failed, OSError, RuntimeError) as e:
            figures, status = f"{e}", "FAIL"
            self.failed = True
            tail = log.read_text(errors="replace").splitlines()[-40:]
            print("\n".join("    " + x for x in tail))
        for known in re.findall(r"^KNOWN BUG.*$", log.read_text(errors="replace"), re.M):
            print(f"    {known}")
        print(f"    {figures}", flush=True)
        self.lines.append(f"{status:<4} {name:<30} {round(time.monotonic() - t0):>4}s  {figures}")
        return status == "PASS"

    def blocked(self, name: str) -> None:
        self.lines.append(f"{'FAIL':<4} {name:<30} (not run: build, python package or mock start failed)")
        self.failed = True


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "smoke"
    if mode not in MODES or len(sys.argv) > 2:
        print(f"usage: {sys.argv[0]} [smoke|long]", file=sys.stderr)
        return 2
    c = MODES[mode]
    soak, vg_t, vg_n, rss = int(c["soak"]), int(c["vg_threads"]), int(c["vg_calls"]), int(c["rss"])
    (WORK / "lib").mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    os.environ.update(ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86",
                      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    token = json.loads((HERE / "matrix" / "cases.json").read_text())["settings"]["token"]
    started = time.monotonic()
    r = Report()
    print(f"test-reliability {mode}", flush=True)
    mock: list[mockctl.Mock] = []

    def start_mock(log: Path) -> str:
        mock.append(mockctl.Mock.start("--quiet", "--tick-ms", "50", token=token, log=log))
        os.environ.update(mock[0].env())  # QOVERY_MOCK_URL, QOVERY_MOCK_TOKEN for every part
        return f"qovery-mock at {mock[0].url}"

    try:
        if r.part("build", build) and r.part("python package (.venv)", python_package) \
                and r.part("start qovery-mock", start_mock):
            r.part("matrix C (ASan+UBSan)", matrix_c, "matrix-c")
            r.part("matrix Python", matrix_python, "matrix-python")
            if c["rust"]:
                r.part("matrix Rust", matrix_rust, "matrix-rust")
            r.part(f"soak C 16x{soak} (ASan+UBSan)", lambda log: soak_c(log, soak), "soak-c")
            r.part(f"soak Python 16x{soak}", lambda log: soak_python(log, soak), "soak-python")
            r.part(f"valgrind C {vg_t * vg_n} calls", lambda log: valgrind_c(log, vg_t, vg_n), "valgrind")
            r.part(f"RSS Python {rss} calls", lambda log: rss_python(log, rss), "rss")
        else:
            for name in ("matrix C", "matrix Python", "soak C", "soak Python", "valgrind C", "RSS Python"):
                r.blocked(name)
    finally:
        for m in mock:
            m.close()
    took = round(time.monotonic() - started)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    dirty = subprocess.run(["git", "diff", "--quiet"], cwd=ROOT).returncode != 0
    head = f"test-reliability {mode}: {time.strftime('%F %T UTC', time.gmtime())}, {rev.strip()}" \
           f"{'+changes' if dirty else ''}, {took} s"
    tmp = WORK / f"last-{mode}.txt.tmp"
    tmp.write_text("\n".join([head, *r.lines]) + "\n")
    tmp.replace(WORK / f"last-{mode}.txt")
    print(f"\n=== test-reliability {mode} summary ({took} s; logs in {LOGS})")
    print("\n".join(r.lines))
    print("test-reliability: FAILED" if r.failed else "test-reliability: all parts passed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

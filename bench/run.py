"""The benchmark runner (bench/README.md): every contender against one qovery-mock, side by
side, in one run. Started by scripts/bench.sh, which builds what it needs and passes the
paths; run it by hand the same way:

    python bench/run.py --mock BIN --curl BIN --cabi BIN --rust BIN --so LIB --wheel WHL \
        [--smoke] [--out DIR] [--readme bench/README.md] [--plot bench/latency.png]

Full mode writes DIR/results.json, the plot, and the results section of bench/README.md
(between the `results:begin`/`results:end` markers). `--smoke` runs a few hundred calls per
contender, asserts only that every call succeeded and every part produced its numbers, and
writes nothing outside DIR.

Each measurement is its own process (so peak RSS and CPU are per contender). Sequential
contenders run in rounds, in a rotated order each round, so that drift of a noisy machine
is spread over all of them; per-call statistics pool every round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import mockctl  # noqa: E402  (qovery-mock and its control API)

TOKEN = mockctl.DEFAULT_TOKEN
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Sequential contenders: key -> label shown in the table.
SEQ = {
    "rust": "Rust core (qovery_redeploy::Client)",
    "c-abi": "C ABI (libqovery_redeploy, from C)",
    "libcurl": "libcurl, reused easy handle (C)",
    "py-qovery": "Python: qovery_redeploy",
    "py-http.client": "Python: http.client (stdlib)",
    "py-httpx": "Python: httpx.Client",
    "py-requests": "Python: requests.Session",
}
THREAD_CONTENDERS = {
    "c-abi": "C ABI, one shared client",
    "libcurl": "libcurl, one easy handle per thread",
    "rust": "Rust core, one shared client",
    "py-qovery": "Python qovery_redeploy, one shared client",
}


# ---------------------------------------------------------------------------------------------
# processes and the machine


def proc_cpu_ns(pid: int) -> int:
    """utime + stime of a process (every thread, dead ones included), ns (10 ms ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK


def machine_busy_ns() -> int:
    """CPU time spent busy on all cores since boot (everything but idle and iowait), ns."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) * 1_000_000_000 // CLK_TCK


ALL_CPUS = sorted(os.sched_getaffinity(0))
# Sequential and one-shot runs put the client and the mock on this one CPU: on this VM a
# wake-up across vCPUs costs tens of microseconds (an IPI through the hypervisor), and the
# scheduler puts a ping-pong pair on one vCPU or on two as it likes, so unpinned latencies
# flip between two regimes several-fold apart. On one CPU a call costs what the client, the
# server and the kernel compute, nothing else.
SAME_CPU = {ALL_CPUS[-1]}
# The server check and the cross-core part: clients on one CPU, the mock on the other.
CLIENT_CPU, SERVER_CPU = {ALL_CPUS[0]}, {ALL_CPUS[-1]}


def speed_probe() -> dict[str, float]:
    """How fast the machine is right now: a fixed Python loop (ms) and one cheap system call
    (ns). A shared VM's speed changes with its host's load, so every run records it."""
    t = time.perf_counter_ns()
    sum(range(300_000))
    loop = time.perf_counter_ns() - t
    t = time.perf_counter_ns()
    for _ in range(5000):
        os.getppid()
    sys_ns = (time.perf_counter_ns() - t) / 5000
    return {"loop_ms": loop / 1e6, "syscall_ns": sys_ns}


class Mock(mockctl.Mock):
    """qovery-mock --fast (tests/mockctl.py starts it, stdin-tied: it dies with us). With
    `tls=True`: --tls, and `ca_file` is its CA."""

    @classmethod
    def fast(cls, binary: str, tls: bool = False) -> Mock:
        return cls.start("--fast", "--any-database", "--quiet", tls=tls, exe=Path(binary))

    def cpu_ns(self) -> int:
        return proc_cpu_ns(self.proc.pid)

    def pin(self, cpus: set[int]) -> None:
        """Every thread of the mock, and so the connection threads it starts, on `cpus`."""
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:
                pass  # a thread that just ended

    def slow(self, db: str, delay_ms: int) -> None:
        """Every redeploy of `db` answers after `delay_ms` (a `slow_headers` fault, always)."""
        self.faults(db, {"on": "redeploy", "kind": "slow_headers", "delay_ms": delay_ms, "always": True})


class Runner:
    def __init__(self, args: argparse.Namespace, mock: Mock, tls_mock: Mock):
        self.args = args
        self.mock = mock
        self.tls_mock = tls_mock
        self.python = sys.executable
        self.contenders_py = str(ROOT / "bench" / "python" / "contenders.py")
        self.foreign_ns = 0  # busy CPU of the machine not used by us or the server
        self.our_ns = 0
        self.probes: list[dict[str, float]] = []

    def command(self, key: str, mode: str, n: int, warmup: int, threads: int, db: str, mock: Mock) -> list[str]:
        rest = [mock.url, TOKEN, db, str(n), str(warmup), str(threads)] + ([mock.ca_file] if mock.ca_file else [])
        if key.startswith("py-"):
            return [self.python, self.contenders_py, mode, key[3:], *rest]
        binary = {"rust": self.args.rust, "c-abi": self.args.cabi, "libcurl": self.args.curl}[key]
        return [binary, mode, *rest]

    def spawn(self, cmd: list[str], out: Any, err: Any, cpus: set[int] | None) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        # pinned right after the start: the contender's timed loop comes after its warm-up
        os.sched_setaffinity(p.pid, cpus or set(ALL_CPUS))
        return p

    def run(self, key: str, mode: str, n: int, warmup: int = 0, threads: int = 1, delay_ms: int = 0,
            client_cpus: set[int] | None = None, server_cpus: set[int] | None = None,
            tls: bool = False) -> dict[str, Any]:
        """Runs one contender process; its JSON plus wall, peak RSS, CPU and server CPU.
        `delay_ms`: the mock holds every answer that long (an API farther away than loopback).
        `client_cpus`, `server_cpus`: where the contender and the mock may run (default all).
        `tls`: against the `--tls` mock, the contender given its CA file."""
        return self.run_many([(key, mode, n, warmup, threads)], delay_ms, client_cpus, server_cpus, tls)[0]

    def run_many(self, jobs: list[tuple[str, str, int, int, int]], delay_ms: int = 0,
                 client_cpus: set[int] | None = None, server_cpus: set[int] | None = None,
                 tls: bool = False) -> list[dict[str, Any]]:
        """Runs contender processes at the same time (one job: alone), each on its own
        database, and waits for all of them."""
        mock = self.tls_mock if tls else self.mock
        mock.pin(server_cpus or set(ALL_CPUS))
        files, procs = [], []
        dbs = [str(uuid.uuid4()) for _ in jobs]
        if delay_ms:
            for db in dbs:
                mock.slow(db, delay_ms)
        probe = speed_probe()
        self.probes.append(probe)
        busy0, server0, t0 = machine_busy_ns(), mock.cpu_ns(), time.perf_counter_ns()
        for (key, mode, n, warmup, threads), db in zip(jobs, dbs):
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            files.append((out, err))
            procs.append(self.spawn(self.command(key, mode, n, warmup, threads, db, mock), out, err, client_cpus))
        killer = threading.Timer(self.args.timeout, lambda: [p.kill() for p in procs])
        killer.start()
        usages = []
        try:
            for p in procs:
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                usages.append(usage)
        finally:
            killer.cancel()
        wall = time.perf_counter_ns() - t0
        server = mock.cpu_ns() - server0
        busy = machine_busy_ns() - busy0
        ours = sum(int((u.ru_utime + u.ru_stime) * 1e9) for u in usages)
        self.our_ns += ours + server
        self.foreign_ns += max(0, busy - ours - server)
        results = []
        for (key, mode, *_), p, usage, (out, err) in zip(jobs, procs, usages, files):
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
            out.close()
            err.close()
            if p.returncode != 0:
                raise SystemExit(f"{key} {mode} failed (exit {p.returncode}):\n{stderr[-3000:]}\n{stdout[-500:]}")
            data = json.loads(stdout)
            if data.get("errors"):
                raise SystemExit(f"{key} {mode}: {data['errors']} failed calls\n{stderr[-3000:]}")
            data["key"] = key
            data["process_wall_ns"] = wall
            data["max_rss_kib"] = data.get("hwm_kib", -1)
            data["process_cpu_ns"] = int((usage.ru_utime + usage.ru_stime) * 1e9)
            data["server_cpu_ns"] = server
            data["probe"] = probe
            results.append(data)
        return results


# ---------------------------------------------------------------------------------------------
# statistics


def pct(values: list[int], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return float(s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))])


def us(ns: float) -> float:
    return ns / 1000


# ---------------------------------------------------------------------------------------------
# the parts of the benchmark


def bench_sequential(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    """Plain and TLS side by side: in every round each contender runs once against the plain
    mock and once against the `--tls` one (which first, alternating), in a rotated order."""
    keys = list(SEQ)
    variants = ["plain", "tls"]
    lat = {v: {k: [] for k in keys} for v in variants}
    round_medians = {v: {k: [] for k in keys} for v in variants}
    cpu = {v: {k: 0 for k in keys} for v in variants}
    server = {v: {k: 0 for k in keys} for v in variants}
    calls = {v: {k: 0 for k in keys} for v in variants}
    rss = {v: {k: 0 for k in keys} for v in variants}
    probes = {v: {k: [] for k in keys} for v in variants}
    for rnd in range(cfg["rounds"]):
        order = keys[rnd % len(keys):] + keys[: rnd % len(keys)]
        if rnd % 2:
            order.reverse()
        for k in order:
            for v in variants if rnd % 2 == 0 else variants[::-1]:
                n, warmup = cfg["n"][k], cfg["warmup"][k]
                d = r.run(k, "seq", n, warmup, client_cpus=SAME_CPU, server_cpus=SAME_CPU, tls=v == "tls")
                lat[v][k] += d["lat_ns"]
                round_medians[v][k].append(statistics.median(d["lat_ns"]))
                cpu[v][k] += d["cpu_ns"]
                server[v][k] += d["server_cpu_ns"]
                calls[v][k] += n + warmup
                rss[v][k] = max(rss[v][k], d["max_rss_kib"])
                probes[v][k].append(d["probe"]["syscall_ns"])
                print(f"  round {rnd + 1}/{cfg['rounds']} {v:5} {k:15} median {us(round_medians[v][k][-1]):8.1f} us "
                      f"(probe: syscall {d['probe']['syscall_ns']:.0f} ns)", flush=True)
    res: dict[str, Any] = {}
    for v in variants:
        out: dict[str, Any] = {}
        curl_rounds = round_medians[v]["libcurl"]
        for k in keys:
            med = statistics.median(lat[v][k])
            out[k] = {
                "label": SEQ[k],
                "calls": len(lat[v][k]),
                "median_us": us(med),
                "p99_us": us(pct(lat[v][k], 99)),
                "p90_us": us(pct(lat[v][k], 90)),
                "mean_us": us(statistics.fmean(lat[v][k])),
                "round_medians_us": [us(x) for x in round_medians[v][k]],
                # this contender's median / libcurl's median, round by round (drift cancels)
                "round_ratios": [a / b for a, b in zip(round_medians[v][k], curl_rounds)],
                "client_cpu_us_per_call": us(cpu[v][k] / len(lat[v][k])),
                "server_cpu_us_per_call": us(server[v][k] / calls[v][k]),
                "max_rss_mib": rss[v][k] / 1024,
                "probe_syscall_ns": probes[v][k],
            }
        base = out["libcurl"]
        for k in keys:
            o = out[k]
            o["ratio_median"] = o["median_us"] / base["median_us"]
            o["ratio_p99"] = o["p99_us"] / base["p99_us"]
            o["ratio_round_median"] = statistics.median(o["round_ratios"])
        out["_latencies_ns"] = lat[v]  # for the plot; dropped from results.json
        res[v] = out
    return res


def bench_cli(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    """One whole process per redeploy over TLS, N sequentially: our CLI (release build) against
    the curl command line doing the same POST. They alternate, so drift hits both; nothing is
    pinned (a CLI run is a cold process start: loader, CA stores, TCP + TLS handshake)."""
    mock = r.tls_mock
    assert mock.ca_file
    mock.pin(set(ALL_CPUS))
    db = str(uuid.uuid4())
    env = dict(os.environ, QOVERY_API_TOKEN=TOKEN)
    for var in ("QOVERY_API_URL", "QOVERY_CA_BUNDLE", "SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                "all_proxy"):
        env.pop(var, None)
    cmds = {
        "cli": [r.args.cli, "--api-url", mock.url, "--ca-file", mock.ca_file, "--quiet", db],
        "curl": ["curl", "-sS", "--fail", "--cacert", mock.ca_file, "-X", "POST", "-H", f"Authorization: Token {TOKEN}",
                 "-H", "Accept: application/json", "-o", "/dev/null", f"{mock.url}/database/{db}/redeploy"],
    }
    labels = {"cli": "qovery-redeploy CLI (--api-url, --ca-file, token in QOVERY_API_TOKEN)",
              "curl": "curl command line (--cacert, -X POST, -H Authorization)"}
    times: dict[str, list[int]] = {k: [] for k in cmds}
    for i in range(cfg["cli_warmup"] + cfg["cli_n"]):
        for k in (("cli", "curl") if i % 2 == 0 else ("curl", "cli")):
            t0 = time.perf_counter_ns()
            p = subprocess.run(cmds[k], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=60)
            dt = time.perf_counter_ns() - t0
            if p.returncode != 0:
                raise SystemExit(f"{k} one-shot failed (exit {p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
            if i >= cfg["cli_warmup"]:
                times[k].append(dt)
    out: dict[str, Any] = {}
    for k, v in times.items():
        out[k] = {"label": labels[k], "runs": len(v), "median_ms": statistics.median(v) / 1e6,
                  "p90_ms": pct(v, 90) / 1e6, "min_ms": min(v) / 1e6}
    out["cli"]["ratio_median"] = out["cli"]["median_ms"] / out["curl"]["median_ms"]
    out["cli"]["ratio_p90"] = out["cli"]["p90_ms"] / out["curl"]["p90_ms"]
    return out


def bench_create(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    """Client creation alone (no call), N in a process, several processes: with no CA file
    (http:// URL) and with the --tls mock's CA file. The first in a process loads the system
    CA store; the later ones reuse it."""
    out: dict[str, Any] = {}
    cases = [("c-abi", False, "C: options + qovery_client_new + free, no CA file"),
             ("c-abi", True, "C: the same with qovery_client_options_set_ca_file()"),
             ("libcurl", True, "libcurl: easy_init + setopt (CURLOPT_CAINFO) + cleanup"),
             ("py-qovery", False, "Python: qovery_redeploy.Client(token, url)"),
             ("py-qovery", True, "Python: qovery_redeploy.Client(token, url, ca_file=...)")]
    for k, tls, label in cases:
        firsts, later = [], []
        for _ in range(cfg["create_rounds"]):
            d = r.run(k, "create", cfg["create_n"], client_cpus=SAME_CPU, server_cpus=SAME_CPU, tls=tls)
            firsts.append(d["create_ns"][0])
            later += d["create_ns"][1:]
        out[f"{k}{'-ca' if tls else ''}"] = {
            "label": label, "ca_file": tls, "first_median_us": us(statistics.median(firsts)),
            "first_max_us": us(max(firsts)), "later_median_us": us(statistics.median(later)),
            "later_p90_us": us(pct(later, 90)), "processes": len(firsts), "per_process": cfg["create_n"],
        }
    return out


def bench_server_check(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    """One libcurl client alone vs two at once: if the server were the bottleneck, two
    clients would get no more calls per second in total than one."""
    n, w = cfg["server_check_n"], 200
    res: dict[str, Any] = {}
    for k in ("libcurl", "c-abi"):
        one_rate, two_rate, server_share, one_share = [], [], [], []
        for _ in range(cfg["server_check_rounds"]):
            d = r.run(k, "seq", n, w, client_cpus=CLIENT_CPU, server_cpus=SERVER_CPU)
            one_rate.append(n / ((d["end_ns"] - d["start_ns"]) / 1e9))
            pair = r.run_many([(k, "seq", n, w, 1), (k, "seq", n, w, 1)], client_cpus=CLIENT_CPU,
                              server_cpus=SERVER_CPU)
            # both timed loops' calls over the span from the first start to the last end
            # (CLOCK_MONOTONIC in both): an overlap that is not perfect counts against them
            span = max(p["end_ns"] for p in pair) - min(p["start_ns"] for p in pair)
            two_rate.append(2 * n / (span / 1e9))
            server_share.append(pair[0]["server_cpu_ns"] / pair[0]["process_wall_ns"])
            one_share.append(d["server_cpu_ns"] / d["process_wall_ns"])
        res[k] = {
            "one_client_calls_per_s": statistics.median(one_rate),
            "two_clients_calls_per_s": statistics.median(two_rate),
            "server_cores_busy_two_clients": statistics.median(server_share),
            "server_cores_busy_one_client": statistics.median(one_share),
        }
        res[k]["scaling"] = res[k]["two_clients_calls_per_s"] / res[k]["one_client_calls_per_s"]
    return res


def bench_cross_core(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    """Sequential calls with the client on one CPU and the mock on the other: every message
    wakes a thread on the other vCPU, which on this VM costs more than the clients' own work."""
    keys = ["rust", "c-abi", "libcurl", "py-qovery"]
    med: dict[str, list[float]] = {k: [] for k in keys}
    lat: dict[str, list[int]] = {k: [] for k in keys}
    for rnd in range(cfg["cross_rounds"]):
        order = keys[rnd % len(keys):] + keys[: rnd % len(keys)]
        for k in order:
            d = r.run(k, "seq", cfg["cross_n"], 200, client_cpus=CLIENT_CPU, server_cpus=SERVER_CPU)
            med[k].append(statistics.median(d["lat_ns"]))
            lat[k] += d["lat_ns"]
    out = {k: {"label": SEQ[k], "median_us": us(statistics.median(lat[k])), "p99_us": us(pct(lat[k], 99)),
               "round_ratios": [a / b for a, b in zip(med[k], med["libcurl"])]} for k in keys}
    for k in keys:
        out[k]["ratio_median"] = out[k]["median_us"] / out["libcurl"]["median_us"]
    return out


def bench_threads(r: Runner, cfg: dict[str, Any], keys: list[str], calls: int, rounds: int,
                  delay_ms: int = 0) -> dict[str, Any]:
    rates: dict[str, dict[int, list[float]]] = {k: {t: [] for t in cfg["threads"]} for k in keys}
    server: dict[str, dict[int, list[float]]] = {k: {t: [] for t in cfg["threads"]} for k in keys}
    client: dict[str, dict[int, list[float]]] = {k: {t: [] for t in cfg["threads"]} for k in keys}
    rss: dict[str, int] = {k: 0 for k in keys}
    for rnd in range(rounds):
        for t in cfg["threads"]:
            order = keys[rnd % len(keys):] + keys[: rnd % len(keys)]
            for k in order:
                d = r.run(k, "threads", calls, cfg["thread_warmup"], t, delay_ms)
                rates[k][t].append(d["calls"] / (d["wall_ns"] / 1e9))
                server[k][t].append(d["server_cpu_ns"] / d["process_wall_ns"])
                client[k][t].append(d["cpu_ns"] / d["wall_ns"])
                rss[k] = max(rss[k], d["max_rss_kib"])
        print(f"  round {rnd + 1}/{rounds}: " + ", ".join(
            f"{k} " + "/".join(f"{rates[k][t][-1]:.0f}" for t in cfg["threads"]) for k in keys), flush=True)
    return {
        k: {
            "label": THREAD_CONTENDERS[k],
            "max_rss_mib": rss[k] / 1024,
            "by_threads": {
                str(t): {
                    "calls_per_s": statistics.median(rates[k][t]),
                    "all_calls_per_s": rates[k][t],
                    "client_cores_busy": statistics.median(client[k][t]),
                    "server_cores_busy": statistics.median(server[k][t]),
                }
                for t in cfg["threads"]
            },
        }
        for k in keys
    }


def bench_oneshot(r: Runner, cfg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    labels = {
        "c-abi": "C ABI: options + qovery_client_new, call, free",
        "libcurl": "libcurl: easy_init + setopt, perform, cleanup",
        "py-qovery": "Python: qovery_redeploy.Client(), call, close()",
        "py-requests": "Python: requests.Session(), call, close()",
        "py-httpx": "Python: httpx.Client(), call, close()",
        "py-http.client": "Python: HTTPConnection(), call, close()",
    }
    for k, label in labels.items():
        n = cfg["oneshot_n"]
        creates, totals, firsts_c, firsts_t = [], [], [], []
        for _ in range(cfg["oneshot_rounds"]):
            d = r.run(k, "oneshot", n, client_cpus=SAME_CPU, server_cpus=SAME_CPU)
            creates += d["create_ns"][1:]
            totals += d["total_ns"][1:]
            firsts_c.append(d["create_ns"][0])
            firsts_t.append(d["total_ns"][0])
        out[k] = {
            "label": label,
            "create_median_us": us(statistics.median(creates)),
            "create_first_us": us(statistics.median(firsts_c)),
            "create_first_max_us": us(max(firsts_c)),
            "total_median_us": us(statistics.median(totals)),
            "total_first_us": us(statistics.median(firsts_t)),
        }
    return out


def bench_import(python: str, cfg: dict[str, Any]) -> dict[str, Any]:
    code = "import time; t = time.perf_counter_ns(); import {m}; print(time.perf_counter_ns() - t)"
    out = {}
    mods = ["qovery_redeploy", "requests", "httpx", "http.client, json"]
    samples: dict[str, list[int]] = {m: [] for m in mods}
    for _ in range(cfg["import_runs"]):
        for m in mods:
            p = subprocess.run([python, "-c", code.format(m=m)], capture_output=True, text=True, check=True)
            samples[m].append(int(p.stdout))
    for m in mods:
        out[m] = {"median_ms": statistics.median(samples[m]) / 1e6, "min_ms": min(samples[m]) / 1e6}
    return out


def sizes(so: str, wheel: str) -> dict[str, Any]:
    tmp = tempfile.mkdtemp()
    try:
        stripped = os.path.join(tmp, "lib.so")
        subprocess.run(["strip", "--strip-all", "-o", stripped, so], check=True)
        ext = None
        import zipfile

        with zipfile.ZipFile(wheel) as z:
            for info in z.infolist():
                if info.filename.endswith(".so"):
                    ext = info.file_size
        return {
            "so_path": os.path.relpath(so, ROOT),
            "so_bytes": os.path.getsize(so),
            "so_stripped_bytes": os.path.getsize(stripped),
            "wheel_path": os.path.relpath(wheel, ROOT),
            "wheel_bytes": os.path.getsize(wheel),
            "wheel_extension_bytes": ext,
        }
    finally:
        shutil.rmtree(tmp)


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass

    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": version(["rustc", "--version"]),
        "gcc": version(["gcc", "--version"]),
        "libcurl": version(["curl-config", "--version"]),
        "curl_cli": version(["curl", "--version"]).split(" (")[0].split()[-1],
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def versions(python: str) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({p: m.version(p) for p in ['qovery-redeploy', 'requests', 'httpx', 'urllib3', 'matplotlib']}))"
    )
    return json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


# ---------------------------------------------------------------------------------------------
# targets, README, plot


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    s, th, sz = res["sequential"], res["threads"], res["sizes"]
    st, cli, cr = res["sequential_tls"], res["cli"], res["create"]
    rows = []

    def add(name: str, value: float, limit: float, better: str, fmt: str, note: str = "") -> None:
        met = value <= limit if better == "lower" else value >= limit
        def p(x: float) -> str:
            return f"{x * 100:.1f}%" if x < 0.1 else f"{x * 100:.0f}%"

        if better == "lower":
            margin = f"{p(1 - value / limit)} under" if met else f"missed by {p(value / limit - 1)}"
        else:
            margin = f"{p(value / limit - 1)} over" if met else f"missed by {p(1 - value / limit)}"
        rows.append({"target": name, "value": fmt.format(value), "limit": fmt.format(limit),
                     "met": met, "margin": margin, "note": note})

    for name, q in (("plain", s), ("TLS", st)):
        add(f"C ABI per call <= 1.2x libcurl ({name}, median)", q["c-abi"]["ratio_median"], 1.2, "lower", "{:.2f}x")
        add(f"Python module per call <= 1.3x libcurl ({name}, median)", q["py-qovery"]["ratio_median"], 1.3, "lower",
            "{:.2f}x")
        add(f"Python module >= 3x faster than requests.Session ({name})",
            q["py-requests"]["median_us"] / q["py-qovery"]["median_us"], 3.0, "higher", "{:.1f}x")
        add(f"Python module >= 2x faster than httpx.Client ({name})",
            q["py-httpx"]["median_us"] / q["py-qovery"]["median_us"], 2.0, "higher", "{:.1f}x")
    add("CLI one-shot over TLS <= 1.3x the curl command (median)", cli["cli"]["ratio_median"], 1.3, "lower",
        "{:.2f}x")
    add("CLI one-shot over TLS <= 1.3x the curl command (p90)", cli["cli"]["ratio_p90"], 1.3, "lower", "{:.2f}x")
    add("C ABI within 5% of the Rust core (plain, median)", s["c-abi"]["median_us"] / s["rust"]["median_us"], 1.05,
        "lower", "{:.3f}x")
    for t in ("2", "4", "8"):
        if t in th["c-abi"]["by_threads"]:
            add(f"C, {t} threads: calls/s >= libcurl's",
                th["c-abi"]["by_threads"][t]["calls_per_s"] / th["libcurl"]["by_threads"][t]["calls_per_s"],
                1.0, "higher", "{:.2f}x")
    if "2" in th["py-qovery"]["by_threads"]:
        add("Python, 2 threads >= 1.5x one thread (loopback, CPU-bound, unpinned)",
            th["py-qovery"]["by_threads"]["2"]["calls_per_s"] / th["py-qovery"]["by_threads"]["1"]["calls_per_s"],
            1.5, "higher", "{:.2f}x")
        add("Python, 2 threads (unpinned) >= 1.5x one thread pinned with the mock on one CPU (its best case)",
            th["py-qovery"]["by_threads"]["2"]["calls_per_s"] / (1e6 / s["py-qovery"]["median_us"]),
            1.5, "higher", "{:.2f}x")
        io = res["threads_io"]["py-qovery"]["by_threads"]
        add(f"Python, 2 threads >= 1.5x one thread (server answering in {res['config']['io_delay_ms']} ms)",
            io["2"]["calls_per_s"] / io["1"]["calls_per_s"], 1.5, "higher", "{:.2f}x")
    for k, what in (("c-abi", "C, no CA file"), ("c-abi-ca", "C, CA file"), ("py-qovery", "Python, no CA file"),
                    ("py-qovery-ca", "Python, CA file")):
        add(f"Client creation <= 5 ms ({what}, first in the process, worst process)", cr[k]["first_max_us"] / 1000,
            5.0, "lower", "{:.3f} ms")
        add(f"Client creation <= 5 ms ({what}, later, median)", cr[k]["later_median_us"] / 1000, 5.0, "lower",
            "{:.3f} ms")
    add("Stripped shared library <= 4.5 MiB", sz["so_stripped_bytes"] / 2**20, 4.5, "lower", "{:.2f} MiB")
    return rows


def markdown(res: dict[str, Any]) -> str:
    m, s, th, one = res["machine"], res["sequential"], res["threads"], res["oneshot"]
    cfg = res["config"]
    L = []
    L.append(f"Run {res['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}; "
             f"{m['rustc']}; {m['gcc']}; libcurl {m['libcurl'].split()[-1]}; Python {m['python']} "
             f"(requests {res['versions']['requests']}, httpx {res['versions']['httpx']}).")
    L.append(f"Command: `{res['command']}` ({res['duration_s']:.0f} s). "
             f"Load average before/after: {res['load_before']} / {res['load_after']}; CPU used meanwhile by "
             f"other processes on the machine: {res['foreign_cpu_share'] * 100:.0f}% of the CPU the benchmark "
             f"itself used.")
    sp = res["speed_probe"]
    L.append(f"Machine speed, probed before each of the {sp['runs']} runs (a fixed 300k-step Python loop; one "
             f"`getppid()` system call): loop {sp['loop_ms']['median']:.1f} ms median "
             f"({sp['loop_ms']['min']:.1f}-{sp['loop_ms']['max']:.1f}), system call {sp['syscall_ns']['median']:.0f} ns "
             f"({sp['syscall_ns']['min']:.0f}-{sp['syscall_ns']['max']:.0f}). Absolute times from different runs or "
             f"machines differ; compare contenders by the ratios measured side by side.")
    L.append("")
    L.append(f"### Per call: N sequential redeploys on one kept-alive connection, JSON parsed")
    L.append("")
    L.append(f"Client and qovery-mock pinned to the same CPU (why: see Reading the results). "
             f"{cfg['rounds']} rounds, contenders rotated each round; per round and contender "
             f"{cfg['warmup']['libcurl']} untimed then {cfg['n']['libcurl']} timed calls (requests/httpx: "
             f"{cfg['warmup']['py-requests']} + {cfg['n']['py-requests']}). Ratios are to libcurl's median "
             f"(pooled; in brackets the median of the per-round ratios). CPU per call: the contender's "
             f"process CPU over its timed loop, and qovery-mock's.")
    L.append("")
    L.append("| contender | median µs | p99 µs | x libcurl (median) | x libcurl (p99) | client CPU µs/call | server CPU µs/call | peak RSS MiB |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in SEQ:
        o = s[k]
        L.append(f"| {o['label']} | {o['median_us']:.1f} | {o['p99_us']:.1f} | "
                 f"{o['ratio_median']:.2f}x [{o['ratio_round_median']:.2f}x] | {o['ratio_p99']:.2f}x | "
                 f"{o['client_cpu_us_per_call']:.1f} | {o['server_cpu_us_per_call']:.1f} | {o['max_rss_mib']:.1f} |")
    L.append("")
    L.append("![per-call latency by contender](latency.png)")
    L.append("")
    cc = res["cross_core"]
    L.append(f"The same with the client on one CPU and the mock on the other ({cfg['cross_rounds']} rounds x "
             f"{cfg['cross_n']} calls): each message now wakes a thread on the other vCPU, an inter-processor "
             f"interrupt through the hypervisor, and that wake-up cost, the same for everyone, dwarfs the clients' "
             f"own work (left unpinned, the scheduler picks one layout or the other and latencies flip between them):")
    L.append("")
    L.append("| contender | median µs | p99 µs | x libcurl (median) |")
    L.append("| --- | ---: | ---: | ---: |")
    for k, o in cc.items():
        L.append(f"| {o['label']} | {o['median_us']:.1f} | {o['p99_us']:.1f} | {o['ratio_median']:.2f}x |")
    L.append("")
    st = res["sequential_tls"]
    L.append(f"### Per call over TLS, beside plain: the same, against `qovery-mock --tls`")
    L.append("")
    L.append("Same runs as above (each round runs every contender against both mocks, alternating which first). "
             "Every contender trusts the mock's CA file: libcurl `CURLOPT_CAINFO`, the C ABI "
             "`qovery_client_options_set_ca_file()`, Rust `ClientBuilder::ca_file`, Python "
             "`Client(ca_file=...)`, requests/httpx `verify=ca_path`, http.client an "
             "`ssl.create_default_context(cafile=...)`. One TLS session per run, kept alive: the handshake "
             "is in the untimed warm-up, so this is the per-call cost of encrypting and decrypting.")
    L.append("")
    L.append("| contender | plain median µs | x libcurl | TLS median µs | TLS p99 µs | x libcurl (TLS) [per round] | TLS - plain µs | TLS client CPU µs/call | TLS server CPU µs/call |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in SEQ:
        o, t = s[k], st[k]
        L.append(f"| {o['label']} | {o['median_us']:.1f} | {o['ratio_median']:.2f}x | {t['median_us']:.1f} | "
                 f"{t['p99_us']:.1f} | {t['ratio_median']:.2f}x [{t['ratio_round_median']:.2f}x] | "
                 f"{t['median_us'] - o['median_us']:+.1f} | {t['client_cpu_us_per_call']:.1f} | "
                 f"{t['server_cpu_us_per_call']:.1f} |")
    L.append("")
    cli = res["cli"]
    L.append(f"### One-shot CLI over TLS: a whole process per redeploy ({cli['cli']['runs']} runs each, "
             f"sequential, alternating; {cfg['cli_warmup']} untimed first; nothing pinned)")
    L.append("")
    L.append("Wall time from spawning the process to its exit (measured by the runner): exec, dynamic loading, "
             "CA stores, TCP connect, TLS handshake, the POST, the answer. The CLI also parses the Status and "
             "checks it; `curl -o /dev/null` does not parse.")
    L.append("")
    L.append("| command | median ms | p90 ms | min ms | x curl (median) | x curl (p90) |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for k in ("cli", "curl"):
        o = cli[k]
        L.append(f"| {o['label']} | {o['median_ms']:.2f} | {o['p90_ms']:.2f} | {o['min_ms']:.2f} | "
                 f"{o['median_ms'] / cli['curl']['median_ms']:.2f}x | {o['p90_ms'] / cli['curl']['p90_ms']:.2f}x |")
    L.append("")
    L.append("Exact commands: `QOVERY_API_TOKEN=qovery-mock-token qovery-redeploy --api-url URL --ca-file CA --quiet "
             "DATABASE_ID` and `curl -sS --fail --cacert CA -X POST -H 'Authorization: Token qovery-mock-token' "
             "-H 'Accept: application/json' -o /dev/null URL/database/DATABASE_ID/redeploy` "
             f"(curl {res['machine']['curl_cli']}).")
    L.append("")
    cr = res["create"]
    L.append(f"### Client creation (no call): {cfg['create_n']} per process, {cfg['create_rounds']} processes, "
             f"client and mock on one CPU")
    L.append("")
    L.append("The first creation in a process loads the system CA store and builds the TLS configuration; "
             "later ones reuse what can be reused. libcurl reads its CA file at the first transfer, not at "
             "creation (shown for scale only).")
    L.append("")
    L.append("| what | first in process µs (median) | first, worst process µs | later µs (median) | later p90 µs |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for o in cr.values():
        L.append(f"| {o['label']} | {o['first_median_us']:.0f} | {o['first_max_us']:.0f} | "
                 f"{o['later_median_us']:.1f} | {o['later_p90_us']:.1f} |")
    L.append("")
    L.append("### Targets")
    L.append("")
    L.append("| target | measured | limit | met? | margin |")
    L.append("| --- | ---: | ---: | --- | --- |")
    for t in res["targets"]:
        L.append(f"| {t['target']} | {t['value']} | {t['limit']} | {'met' if t['met'] else '**missed**'} | {t['margin']} |")
    L.append("")
    L.append(f"### Threads sharing one client: calls per second ({cfg['thread_calls']} calls per run, "
             f"median of {cfg['thread_rounds']} runs; nothing pinned)")
    L.append("")
    ts = cfg["threads"]
    L.append("| contender | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in ts) + " | peak RSS MiB |")
    L.append("| --- | " + " | ".join("---:" for _ in ts) + " | ---: |")
    for k, o in th.items():
        L.append(f"| {o['label']} | " + " | ".join(f"{o['by_threads'][str(t)]['calls_per_s']:,.0f}" for t in ts)
                 + f" | {o['max_rss_mib']:.1f} |")
    L.append("")
    L.append("Cores kept busy (client process / qovery-mock), from their CPU time over the run's wall time:")
    L.append("")
    L.append("| contender | " + " | ".join(f"{t} thr." for t in ts) + " |")
    L.append("| --- | " + " | ".join("---:" for _ in ts) + " |")
    for k, o in th.items():
        L.append(f"| {o['label']} | " + " | ".join(
            f"{o['by_threads'][str(t)]['client_cores_busy']:.2f} / {o['by_threads'][str(t)]['server_cores_busy']:.2f}"
            for t in ts) + " |")
    L.append("")
    io_ms = cfg["io_delay_ms"]
    L.append(f"The same with the mock holding each answer {io_ms} ms (an API farther away than loopback, so "
             f"calls wait on the network rather than on the 2 cores; {cfg['io_calls']} calls per run, median of "
             f"{cfg['io_rounds']} runs), calls per second:")
    L.append("")
    L.append("| contender | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in ts) + " | ideal (threads / delay) |")
    L.append("| --- | " + " | ".join("---:" for _ in ts) + " | ---: |")
    for k, o in res["threads_io"].items():
        L.append(f"| {o['label']} | " + " | ".join(f"{o['by_threads'][str(t)]['calls_per_s']:,.0f}" for t in ts)
                 + " | " + " / ".join(f"{t * 1000 / io_ms:,.0f}" for t in ts) + " |")
    L.append("")
    sc = res["server_check"]
    L.append("### Is the server the bottleneck?")
    L.append("")
    L.append(f"Clients on one CPU, the mock alone on the other; {cfg['server_check_n']} calls per client, median of "
             f"{cfg['server_check_rounds']}. Two clients at once against one alone: if the mock were the limit, two "
             f"would get no more calls per second in total than one.")
    L.append("")
    L.append("| client program | 1 client alone, calls/s | mock's core busy | 2 at once, calls/s in total | scaling | mock's core busy |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for k, o in sc.items():
        L.append(f"| {SEQ[k]} | {o['one_client_calls_per_s']:,.0f} | {o['server_cores_busy_one_client']:.2f} | "
                 f"{o['two_clients_calls_per_s']:,.0f} | {o['scaling']:.2f}x | {o['server_cores_busy_two_clients']:.2f} |")
    L.append("")
    L.append(f"### One-shot: create a client, one call (new connection), free it ({cfg['oneshot_n']} per process, "
             f"{cfg['oneshot_rounds']} processes; client and mock on one CPU)")
    L.append("")
    L.append("| what | create, first in process µs | create, later µs | create + call + free, first µs | later µs |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    for k, o in one.items():
        L.append(f"| {o['label']} | {o['create_first_us']:.0f} | {o['create_median_us']:.1f} | "
                 f"{o['total_first_us']:.0f} | {o['total_median_us']:.0f} |")
    L.append("")
    L.append(f"### Import time (fresh interpreter, median of {cfg['import_runs']})")
    L.append("")
    L.append("| module | median ms | min ms |")
    L.append("| --- | ---: | ---: |")
    for mname, o in res["import"].items():
        L.append(f"| `import {mname}` | {o['median_ms']:.1f} | {o['min_ms']:.1f} |")
    L.append("")
    z = res["sizes"]
    L.append("### Sizes")
    L.append("")
    L.append(f"- `{z['so_path']}`: {z['so_bytes'] / 2**20:.2f} MiB, stripped "
             f"(`strip --strip-all`): **{z['so_stripped_bytes'] / 2**20:.2f} MiB**.")
    L.append(f"- wheel `{os.path.basename(z['wheel_path'])}`: **{z['wheel_bytes'] / 2**20:.2f} MiB** "
             f"(extension module inside: {(z['wheel_extension_bytes'] or 0) / 2**20:.2f} MiB).")
    return "\n".join(L)


def plot(res: dict[str, Any], lat: dict[str, list[int]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, th = res["sequential"], res["threads"]
    keys = sorted(SEQ, key=lambda k: s[k]["median_us"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [3, 2]})
    data = [[x / 1000 for x in lat[k]] for k in keys]
    colors = ["#1f77b4" if k in ("rust", "c-abi", "py-qovery") else "#888888" for k in keys]
    bp = ax.boxplot(data, orientation="horizontal", whis=(1, 99), showfliers=False, patch_artist=True, widths=0.6)
    for patch, c in zip(bp["boxes"], colors):
        patch.set_facecolor(c)
        patch.set_alpha(0.5)
    for i, k in enumerate(keys, start=1):
        ax.plot([s[k]["p99_us"]], [i], marker="|", color="red", markersize=14)
        ax.annotate(f"{s[k]['median_us']:.1f} µs ({s[k]['ratio_median']:.2f}x)", (s[k]["median_us"], i + 0.33),
                    fontsize=8, ha="left")
    ax.set_yticks(range(1, len(keys) + 1), [SEQ[k] for k in keys], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("per-call latency, µs (log): box = quartiles, whiskers = p1..p99, red tick = p99")
    ax.set_title("Sequential redeploy calls, keep-alive, JSON parsed (x libcurl median)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ts = res["config"]["threads"]
    width = 0.8 / len(th)
    for i, (k, o) in enumerate(th.items()):
        ax2.bar([j + i * width for j in range(len(ts))], [o["by_threads"][str(t)]["calls_per_s"] for t in ts],
                width, label=o["label"])
    ax2.set_xticks([j + width * (len(th) - 1) / 2 for j in range(len(ts))], [f"{t} thr." for t in ts])
    ax2.set_ylabel("calls per second")
    ax2.set_title("Threads sharing one client")
    ax2.legend(fontsize=7)
    ax2.grid(axis="y", alpha=0.3)
    fig.suptitle(f"qovery-redeploy benchmark, {res['date']}, {res['machine']['cpu']} ({res['machine']['cores']} cores, "
                 f"shared with qovery-mock)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_readme(path: Path, section: str) -> None:
    text = path.read_text()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{path}: no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n<!-- generated by bench/run.py: do not edit by hand -->\n\n{section}\n\n{end}{tail}")


# ---------------------------------------------------------------------------------------------


def config(smoke: bool) -> dict[str, Any]:
    if smoke:
        n = {k: 300 for k in SEQ}
        return {
            "rounds": 1, "n": n, "warmup": {k: 20 for k in SEQ},
            "threads": [1, 2, 4, 8], "thread_calls": 200, "thread_warmup": 5, "thread_rounds": 1,
            "server_check_n": 300, "server_check_rounds": 1,
            "oneshot_n": 3, "oneshot_rounds": 1, "import_runs": 1,
            "io_delay_ms": 2, "io_calls": 40, "io_rounds": 1,
            "cross_n": 200, "cross_rounds": 1,
            "cli_n": 3, "cli_warmup": 1, "create_n": 20, "create_rounds": 1,
        }
    n = {k: 5000 for k in SEQ} | {"py-requests": 2000, "py-httpx": 2000}
    w = {k: 500 for k in SEQ} | {"py-requests": 200, "py-httpx": 200}
    return {
        "rounds": 7, "n": n, "warmup": w,
        "threads": [1, 2, 4, 8], "thread_calls": 20000, "thread_warmup": 50, "thread_rounds": 7,
        "server_check_n": 20000, "server_check_rounds": 5,
        "oneshot_n": 50, "oneshot_rounds": 5, "import_runs": 15,
        "io_delay_ms": 2, "io_calls": 1600, "io_rounds": 3,
        "cross_n": 3000, "cross_rounds": 3,
        "cli_n": 200, "cli_warmup": 5, "create_n": 200, "create_rounds": 5,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mock")
    ap.add_argument("--curl")
    ap.add_argument("--cabi")
    ap.add_argument("--rust")
    ap.add_argument("--cli", help="the qovery-redeploy CLI (release for the full run)")
    ap.add_argument("--so", help="libqovery_redeploy.so to measure (release for the full run)")
    ap.add_argument("--wheel")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "target" / "bench"))
    ap.add_argument("--readme", help="README whose results section is rewritten (full mode)")
    ap.add_argument("--plot", help="PNG path (default OUT/latency.png)")
    ap.add_argument("--command", default="scripts/bench.sh", help="shown in the README")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="measure nothing: rewrite --readme's results section from a results.json")
    ap.add_argument("--timeout", type=float, default=600, help="seconds any one process may take")
    args = ap.parse_args()
    if not args.render and None in (args.mock, args.curl, args.cabi, args.rust, args.cli, args.so, args.wheel):
        ap.error("--mock, --curl, --cabi, --rust, --cli, --so and --wheel are required (unless --render)")
    if args.render:
        res = json.loads(Path(args.render).read_text())
        res["targets"] = targets(res)
        write_readme(Path(args.readme), markdown(res))
        return
    cfg = config(args.smoke)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    res: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command,
        "smoke": args.smoke,
        "machine": machine(),
        "versions": versions(sys.executable),
        "config": cfg,
        "load_before": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }
    mock = Mock.fast(args.mock)
    tls_mock = Mock.fast(args.mock, tls=True)
    r = Runner(args, mock, tls_mock)
    try:
        print(f"qovery-mock at {mock.url}, qovery-mock --tls at {tls_mock.url} (CA {tls_mock.ca_file})", flush=True)
        print("== sequential calls, plain and TLS", flush=True)
        both = bench_sequential(r, cfg)
        lat = both["plain"].pop("_latencies_ns")
        both["tls"].pop("_latencies_ns")
        res["sequential"] = both["plain"]
        res["sequential_tls"] = both["tls"]
        print("== server check (one client vs two at once)", flush=True)
        res["server_check"] = bench_server_check(r, cfg)
        print("== sequential, client and server on different CPUs", flush=True)
        res["cross_core"] = bench_cross_core(r, cfg)
        print("== threads", flush=True)
        res["threads"] = bench_threads(r, cfg, list(THREAD_CONTENDERS), cfg["thread_calls"], cfg["thread_rounds"])
        print(f"== threads, the mock answering after {cfg['io_delay_ms']} ms", flush=True)
        res["threads_io"] = bench_threads(r, cfg, ["c-abi", "py-qovery"], cfg["io_calls"], cfg["io_rounds"],
                                          cfg["io_delay_ms"])
        print("== one-shot", flush=True)
        res["oneshot"] = bench_oneshot(r, cfg)
        print("== client creation", flush=True)
        res["create"] = bench_create(r, cfg)
        print("== one-shot CLI over TLS against the curl command", flush=True)
        res["cli"] = bench_cli(r, cfg)
    finally:
        mock.close()
        tls_mock.close()
    print("== import time", flush=True)
    res["import"] = bench_import(sys.executable, cfg)
    res["sizes"] = sizes(args.so, args.wheel)
    res["load_after"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    loops = [p["loop_ms"] for p in r.probes]
    calls = [p["syscall_ns"] for p in r.probes]
    res["speed_probe"] = {
        "runs": len(r.probes),
        "loop_ms": {"min": min(loops), "median": statistics.median(loops), "max": max(loops)},
        "syscall_ns": {"min": min(calls), "median": statistics.median(calls), "max": max(calls)},
    }
    res["foreign_cpu_share"] = r.foreign_ns / max(1, r.our_ns)
    res["duration_s"] = time.time() - started
    res["targets"] = targets(res)
    (out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    md = markdown(res)
    (out / "results.md").write_text(md + "\n")
    plot_path = args.plot or str(out / "latency.png")
    plot(res, lat, plot_path)
    if args.readme and not args.smoke:
        write_readme(Path(args.readme), md)
    print()
    print(md)
    print(f"\nresults: {out / 'results.json'}, plot: {plot_path}")
    if args.smoke:
        print(f"smoke: {sum(len(v) for v in lat.values())} timed sequential calls (plain, as many over TLS), "
              f"{res['cli']['cli']['runs']} CLI processes, every part ran, no failed call")


if __name__ == "__main__":
    main()

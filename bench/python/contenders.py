"""The Python contenders of the benchmark, one per process run by bench/run.py:

    python contenders.py MODE CONTENDER URL TOKEN DATABASE_ID N WARMUP THREADS [CA_FILE]

CONTENDER: qovery (our module), requests (requests.Session), httpx (httpx.Client),
http.client (stdlib, one HTTPConnection). Every call is POST /database/<id>/redeploy on a
kept-alive connection, its status checked (202) and its JSON body parsed into Python objects
(json.loads via .json(), or our typed Status), then the state read. CA_FILE: for an https://
URL, the CA to trust: Client(ca_file=...), verify=CA_FILE (requests, httpx), an
ssl.create_default_context(cafile=...) (http.client).

MODE seq      WARMUP untimed calls, then N timed calls: per-call ns.
     threads  THREADS threads sharing one client, WARMUP untimed calls each, then N calls in
              all after a common start: wall-clock ns (qovery only).
     oneshot  N times: create a client, one call, close it: ns of each part.
     create   N times: create a client and close it, no call (qovery only).
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Callable

Call = Callable[[], Any]


def make(contender: str, url: str, token: str, db: str, ca: str | None = None) -> tuple[Any, Call, Callable[[], None]]:
    """(client, call, close) for one contender; `ca`: the CA file to trust (https)."""
    path = f"/database/{db}/redeploy"
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    if contender == "qovery":
        import qovery_redeploy as qr

        client = qr.Client(token, url, ca_file=ca) if ca else qr.Client(token, url)

        def call() -> Any:
            return client.redeploy_database(db).state

        return client, call, client.close
    if contender == "requests":
        import requests

        session = requests.Session()
        verify: Any = ca or True
        full = url + path

        def call() -> Any:
            r = session.post(full, headers=headers, verify=verify)
            if r.status_code != 202:
                raise RuntimeError(f"HTTP {r.status_code}")
            return r.json()["state"]

        return session, call, session.close
    if contender == "httpx":
        import httpx

        hclient = httpx.Client(headers=headers, verify=ca) if ca else httpx.Client(headers=headers)
        full = url + path

        def call() -> Any:
            r = hclient.post(full)
            if r.status_code != 202:
                raise RuntimeError(f"HTTP {r.status_code}")
            return r.json()["state"]

        return hclient, call, hclient.close
    if contender == "http.client":
        import http.client
        from urllib.parse import urlsplit

        u = urlsplit(url)
        if u.scheme == "https":
            import ssl

            conn: Any = http.client.HTTPSConnection(u.hostname or "127.0.0.1", u.port,
                                                    context=ssl.create_default_context(cafile=ca))
        else:
            conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port)
        full_path = u.path.rstrip("/") + path

        def call() -> Any:
            conn.request("POST", full_path, headers=headers)  # sends Content-Length: 0
            r = conn.getresponse()
            body = r.read()
            if r.status != 202:
                raise RuntimeError(f"HTTP {r.status}")
            return json.loads(body)["state"]

        return conn, call, conn.close
    raise SystemExit(f"unknown contender {contender}")


def seq(contender: str, url: str, token: str, db: str, n: int, warmup: int, ca: str | None) -> dict[str, Any]:
    _, call, close = make(contender, url, token, db, ca)
    for _ in range(warmup):
        call()
    lat = [0] * n
    clock = time.perf_counter_ns
    c0 = time.process_time_ns()
    for i in range(n):
        t0 = clock()
        call()
        lat[i] = clock() - t0
    cpu = time.process_time_ns() - c0
    close()
    return {"lat_ns": lat, "cpu_ns": cpu}


def threads(contender: str, url: str, token: str, db: str, total: int, warmup: int, nthreads: int,
            ca: str | None) -> dict[str, Any]:
    _, call, close = make(contender, url, token, db, ca)
    ready = threading.Barrier(nthreads + 1)
    start = threading.Barrier(nthreads + 1)
    errors: list[BaseException] = []
    shares = [total // nthreads + (i < total % nthreads) for i in range(nthreads)]

    def work(share: int) -> None:
        try:
            for _ in range(warmup):
                call()
            ready.wait()
            start.wait()
            for _ in range(share):
                call()
        except BaseException as e:  # reported, then the run fails
            errors.append(e)
            ready.abort()
            start.abort()

    ts = [threading.Thread(target=work, args=(s,)) for s in shares]
    for t in ts:
        t.start()
    ready.wait()
    t0, c0 = time.perf_counter_ns(), time.process_time_ns()
    start.wait()
    for t in ts:
        t.join()
    wall, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
    close()
    if errors:
        raise errors[0]
    return {"threads": nthreads, "wall_ns": wall, "cpu_ns": cpu, "calls": sum(shares), "errors": 0}


def oneshot(contender: str, url: str, token: str, db: str, n: int, ca: str | None) -> dict[str, Any]:
    # the module is imported first: `import` time is measured on its own (bench/run.py)
    __import__({"qovery": "qovery_redeploy", "http.client": "http.client"}.get(contender, contender))
    create, total = [], []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        _, call, close = make(contender, url, token, db, ca)
        t1 = clock()
        call()
        close()
        t2 = clock()
        create.append(t1 - t0)
        total.append(t2 - t0)
    return {"create_ns": create, "total_ns": total}


def create(contender: str, url: str, token: str, db: str, n: int, ca: str | None) -> dict[str, Any]:
    """N client creations (and closes), no call; the first loads the system CA store."""
    import qovery_redeploy  # noqa: F401  (import time is measured on its own)

    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        _, _, close = make(contender, url, token, db, ca)
        out.append(clock() - t0)
        close()
    return {"create_ns": out}


def vm_hwm_kib() -> int:
    """Peak resident set of this process (VmHWM), KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main() -> None:
    mode, contender, url, token, db, n, warmup, nthreads = sys.argv[1:9]
    ca = sys.argv[9] if len(sys.argv) > 9 else None
    out: dict[str, Any] = {"contender": contender, "mode": mode}
    if mode == "seq":
        out |= seq(contender, url, token, db, int(n), int(warmup), ca)
    elif mode == "threads":
        out |= threads(contender, url, token, db, int(n), int(warmup), int(nthreads), ca)
    elif mode == "oneshot":
        out |= oneshot(contender, url, token, db, int(n), ca)
    elif mode == "create":
        out |= create(contender, url, token, db, int(n), ca)
    else:
        raise SystemExit(f"unknown mode {mode}")
    out.setdefault("errors", 0)
    out["hwm_kib"] = vm_hwm_kib()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

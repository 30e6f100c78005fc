"""The ``msp_50x1000`` scenario: a managed-service provider's repo of many tenants (default 50 of
1,000 objects each), exported in one `entragit export --all --commit`.

The simulated tenants run in one process of their own (``python -m bench.msp serve N SIZE``, one
listening simulator per tenant, Graph's throttles on), so the client's CPU is measured alone. Graph
throttles per app and tenant, so the bound's requests are the sum of each tenant's bound and its
seconds the slowest tenant's: nothing Graph enforces stops all tenants being read at once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any

from bench.bound import lower_bound

ADMIN = {"Authorization": "Bearer sim-admin"}
REFILL_S = 10.0  # Graph's RU bucket is full again after this
WORKERS = re.compile(r"export: \d+ tenants, (\d+) worker processes")
NOTE = ("`entragit export --all --commit` of `tenants` synthetic tenants of `size` objects into a new repo "
        "(`run` first), then again with nothing changed (`run` unchanged: the nightly case), by `workers` processes "
        "(the default: one per core, at most one per 4 tenants; 4 tenants at a time in each), served by one "
        "simulator process that shares the machine's cores. `committed` counts the tenants' commits. `requests` and `ru` are the sums of each tenant's "
        "summary line; `lower_bound_*` sums each tenant's bench/bound.py bound and `lower_bound_s` is the slowest "
        "tenant's (Graph throttles per app and tenant). Compare `requests` with `lower_bound_round_trips`.")


def tenant_id(i: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"entragit-bench-msp:{i}"))


def serve(n: int, size: int) -> None:
    """Start n simulators of synthetic:size with throttles on; print one JSON line each; wait for stdin to close."""
    from entragit_sim import Simulator

    sims = [Simulator(seed=f"synthetic:{size}", tenant_id=tenant_id(i), throttle="on") for i in range(n)]
    for s in sims:
        s.start(host="127.0.0.1", port=0)
        print(json.dumps({"graph_url": s.graph_url, "tenant_id": s.tenant_id}), flush=True)
    sys.stdin.read()  # the harness closes it when the export is done
    for s in sims:
        s.stop()


def _state(graph_url: str) -> Any:
    root = graph_url.rsplit("/v1.0", 1)[0]
    with urllib.request.urlopen(urllib.request.Request(root + "/_sim/state", headers=ADMIN)) as resp:
        return json.loads(resp.read())


def _latency(graph_url: str, n: int = 9) -> float:
    import statistics

    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(graph_url + "/organization?$select=id", headers=ADMIN)):
            pass
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_msp(run: Any, exe: list[str], tenants: int, size: int,
              workers: list[int | None] | None = None) -> list[dict[str, Any]]:
    """msp_50x1000 rows: `export --all --commit` of `tenants` tenants of `size` objects into a new repo,
    then the same again (the nightly run where nothing changed), once per `workers` value (None: the
    CLI's default)."""
    from bench.__main__ import content_of

    proc = subprocess.Popen([sys.executable, "-m", "bench.msp", "serve", str(tenants), str(size)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rows = []
    try:
        infos = [json.loads(proc.stdout.readline()) for _ in range(tenants)]  # type: ignore[union-attr]
        latency = _latency(infos[0]["graph_url"])
        bounds = [lower_bound(content_of(_state(i["graph_url"])), latency) for i in infos]
        for w in workers or [None]:
            with tempfile.TemporaryDirectory() as d:
                subprocess.run([*exe, "init", d], check=True, capture_output=True)
                for n, info in enumerate(infos):
                    root = info["graph_url"].rsplit("/v1.0", 1)[0]
                    subprocess.run([*exe, "tenant", "add", f"t{n:02}", "--tenant-id", info["tenant_id"],
                                    "--graph-url", root, "--auth", "sim", "--repo", d], check=True,
                                   capture_output=True)
                cmd = [*exe, "export", "--repo", d, "--all", "--commit", *(["--workers", str(w)] if w else [])]
                for night in ("first", "unchanged"):
                    time.sleep(REFILL_S)
                    rows.append(_row(run(cmd), night, tenants, size, bounds, latency))
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait()
    return rows


def _row(r: Any, night: str, tenants: int, size: int, bounds: list[Any], latency: float) -> dict[str, Any]:
    from bench.__main__ import STATS

    if r.code != 0:
        raise SystemExit(f"msp_50x1000 failed:\n{r.out[-3000:]}")
    per = [tuple(map(int, m.groups())) for m in STATS.finditer(r.out)]
    workers = m.group(1) if (m := WORKERS.search(r.out)) else "1"
    objects = sum(p[0] for p in per)
    requests = sum(p[1] for p in per)
    bound_s = max(b.seconds for b in bounds)
    trips = sum(b.round_trips for b in bounds)
    return {"scenario": "msp_50x1000", "run": night, "workers": int(workers), "tenants": tenants, "size": size,
            "exported": len(per), "committed": r.out.count("-> commit"),
            "objects": objects, "requests": requests, "ru": sum(p[3] for p in per),
            "wall_s": round(r.wall_s, 2), "cpu_s": round(r.cpu_s, 2),
            "cpu_s_per_1000": round(r.cpu_s / objects * 1000, 3) if objects else None,
            "peak_rss_mb": round(r.peak_rss_mb, 1), "lower_bound_requests": sum(b.requests for b in bounds),
            "lower_bound_round_trips": trips, "lower_bound_ru": sum(b.ru for b in bounds),
            "requests_ratio": round(requests / trips, 2) if trips else None,
            "lower_bound_s": round(bound_s, 2), "ratio": round(r.wall_s / bound_s, 2) if bound_s else None,
            "latency_ms": round(latency * 1000, 2)}


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]), int(sys.argv[3]))

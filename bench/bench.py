"""Benchmarks: export time as a ratio to Graph's throttle lower bound, CPU per 1,000 objects,
and `entragit --help` start-up. Writes bench/RESULTS.md. Run: python bench/bench.py [N ...]

The simulator runs in its own process with Graph's documented throttles on (`--throttle on`:
3,500 resource units per 10 s per app and tenant; 1 request/second/tenant for the Conditional
Access family), so the client's CPU is measured alone and the lower bound is what Graph allows:
max((RU spent - 3,500 RU burst) / 350 RU/s, CA-family requests - 1 at 1 rps).
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXE = [sys.executable, "-m", "entragit.cli"]


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def startup(runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([*EXE, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def export(n: int) -> dict[str, float]:
    sim = subprocess.Popen([*EXE, "sim", "serve", "--seed", f"synthetic:{n}", "--throttle", "on", "--port", "0"],
                           stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(sim.stdout.readline())  # type: ignore[union-attr]
        root = info["graph_url"].rsplit("/v1.0", 1)[0]
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([*EXE, "init", d], check=True, capture_output=True)
            subprocess.run([*EXE, "tenant", "add", "bench", "--tenant-id", info["tenant_id"], "--graph-url", root,
                            "--auth", "sim", "--repo", d], check=True, capture_output=True)
            cpu0, t0 = _cpu_children(), time.perf_counter()
            out = subprocess.run([*EXE, "export", "--repo", d, "--commit"], capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(f"export of synthetic:{n} failed:\n{out.stdout}{out.stderr}")
            wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
            files = len(list(Path(d, "tenants", "bench").glob("*/*.yaml")))
            # A plan of the commit just exported: a full live read plus the comparison; must be empty.
            cpu1, t1 = _cpu_children(), time.perf_counter()
            plan = subprocess.run([*EXE, "plan", "--repo", d, "--detailed-exitcode"], capture_output=True, text=True)
            plan_wall, plan_cpu = time.perf_counter() - t1, _cpu_children() - cpu1
            assert plan.returncode == 0, plan.stdout + plan.stderr
    finally:
        sim.terminate()
        sim.wait()
    m = re.search(r"\[(\d+) objects, (\d+) requests, (\d+) retries, (\d+) RU, (\d+) paced\]", out.stdout)
    assert m, out.stdout + out.stderr
    objects, requests, retries, ru, paced = map(int, m.groups())
    # The RU bucket starts full (3,500 RU burst), then refills at 350 RU/s; the CA family allows 1 rps.
    bound = max((ru - 3500) / 350.0, paced - 1.0, 0.0)
    return {"n": n, "objects": objects, "files": files, "requests": requests, "retries": retries, "ru": ru,
            "paced": paced, "plan_wall_s": plan_wall, "plan_cpu_s": plan_cpu, "wall_s": wall, "cpu_s": cpu, "bound_s": bound, "ratio": wall / bound if bound else float("inf"),
            "cpu_per_1000": cpu / objects * 1000}


def main(sizes: list[int]) -> None:
    rows = [export(n) for n in sizes]
    help_s = startup()
    lines = ["# Benchmarks", "", f"Measured {time.strftime('%Y-%m-%d')} on {sys.platform}, Python "
             f"{sys.version.split()[0]}; simulator in its own process with `--throttle on`.", "",
             f"`entragit --help` start-up (median of 15): **{help_s * 1000:.0f} ms**", "",
             "| tenant size | objects | files | requests | RU | CA-family req | wall s | throttle bound s | "
             "wall / bound | client CPU s | CPU s per 1,000 objects | plan (no changes) wall s | plan CPU s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| synthetic:{r['n']} | {r['objects']} | {r['files']} | {r['requests']} | {r['ru']} | "
                     f"{r['paced']} | {r['wall_s']:.2f} | {r['bound_s']:.2f} | {r['ratio']:.2f} | "
                     f"{r['cpu_s']:.2f} | {r['cpu_per_1000']:.2f} | {r['plan_wall_s']:.2f} | {r['plan_cpu_s']:.2f} |")
    lines += ["", "Export and plan run with the simulator's throttles on, so both include waiting for the "
              "resource-unit bucket. wall / bound near 1 means the export is as fast as Graph's throttles allow; above 1, the "
              "client (CPU, round trips) is the limit.", ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000, 20000])

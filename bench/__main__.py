"""Benchmarks of export and plan against a throttled simulator, each compared with the
independent lower bound of bench/bound.py. Prints one JSON line per scenario and writes
bench/RESULTS.md.

The simulator runs in its own process with Graph's throttles on (`--throttle on`), so the client's
CPU and memory are measured alone (per process, with wait4). Between scenarios the harness waits
10 s so each one starts with a full resource-unit bucket, as the bound assumes.

Two scenarios run only when named, each on tenants of its own, into their own dated sections of
RESULTS.md: ``restore_1000`` (bench/restore.py: deleted objects of mixed kinds brought back by
apply, against bench/bound.py ``restore_bound``) and ``msp_50x1000`` (bench/msp.py: many tenants
in one ``export --all``). Any ``--size`` is accepted, ``--size 100000`` included (expect minutes
per scenario at that size).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bound import Bound, Content, lower_bound
from entragit import checkcache

HERE = Path(__file__).resolve().parent
EXE = [sys.executable, "-m", "entragit.cli"]
SCENARIOS = ("export_full", "validate", "export_unchanged", "export_1pct", "plan_old", "plan_again", "plan_old_full")
EXTRA = ("restore_1000", "msp_50x1000")  # each on its own tenant(s); run when named
ADMIN = {"Authorization": "Bearer sim-admin", "Content-Type": "application/json"}
REFILL_S = 10.0  # the RU bucket (3,500 per 10 s) is full again after this
STATS = re.compile(r"\[(\d+) objects, (\d+) requests, (\d+) retries, (\d+) RU, (\d+) paced\]")


@dataclass
class Run:
    out: str
    code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def run(args: list[str]) -> Run:
    """One CLI process: wall time, and CPU and peak RSS of it and the git processes it waited for."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return Run(out.read(), proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024)


def _dynamic_group(o: dict[str, Any]) -> bool:
    return "DynamicMembership" in (o.get("groupTypes") or [])


def _dynamic_au(o: dict[str, Any]) -> bool:
    return o.get("membershipType") == "dynamic"


def content_of(state: dict[str, Any]) -> Content:
    """The tenant's content from the simulator's state (/_sim/state), as bench/bound.py counts it."""
    objs: dict[str, dict[str, Any]] = state["objects"]
    links: dict[str, list[str]] = state["links"]
    users = set(objs.get("users", {}))

    def sizes(kind: str, rel: str, dynamic: Callable[[dict[str, Any]], bool] = lambda o: False) -> list[int]:
        """Link counts per object; dynamic memberships come from a rule and are not exported."""
        return [len(links.get(f"{kind}/{oid}/{rel}", [])) for oid, o in objs.get(kind, {}).items() if not dynamic(o)]

    assigned_to: dict[str, int] = {}
    for a in objs.get("appRoleAssignments", {}).values():
        assigned_to[a.get("resourceId", "")] = assigned_to.get(a.get("resourceId", ""), 0) + 1
    referenced = {t for key, ids in links.items() for t in ids if t in users and not key.startswith("users/")}
    referenced |= {a.get("principalId") for a in objs.get("appRoleAssignments", {}).values()} & users
    return Content(
        counts={k: len(v) for k, v in objs.items()},
        links={
            ("groups", "owners"): sizes("groups", "owners"),
            ("groups", "members"): sizes("groups", "members", _dynamic_group),
            ("administrativeUnits", "members"): sizes("administrativeUnits", "members", _dynamic_au),
            ("applications", "owners"): sizes("applications", "owners"),
            ("servicePrincipals", "owners"): sizes("servicePrincipals", "owners"),
            ("servicePrincipals", "appRoleAssignedTo"): [assigned_to.get(i, 0) for i in objs.get("servicePrincipals", {})],
        },
        users=len(users),
        referenced_users=len(referenced),
    )


class Sim:
    """The simulator in its own process, and the admin calls the harness makes on it."""

    def __init__(self, size: int) -> None:
        self.proc = subprocess.Popen([*EXE, "sim", "serve", "--seed", f"synthetic:{size}", "--throttle", "on",
                                      "--port", "0"], stdout=subprocess.PIPE, text=True)
        self.info = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.root = self.info["graph_url"].rsplit("/v1.0", 1)[0]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data, ADMIN, method=method)
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def latency(self, n: int = 9) -> float:
        """Median round trip of a small GET (one object, one RU)."""
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            self.call("GET", "/v1.0/organization?$select=id")
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    def content(self) -> Content:
        return content_of(self.call("GET", "/_sim/state"))

    def change(self, n: int) -> int:
        """Changes the description of n objects (groups, then applications); returns how many."""
        state = self.call("GET", "/_sim/state")["objects"]
        targets = [("groups", g) for g in sorted(state["groups"])] + [("applications", a) for a in sorted(state["applications"])]
        stamp = time.strftime("%H%M%S")
        for kind, oid in targets[:n]:
            self.call("PATCH", f"/v1.0/{kind}/{oid}", {"description": f"bench change {stamp}"})
        return min(n, len(targets))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def row(scenario: str, size: int, r: Run, bound: Bound, latency: float, **extra: Any) -> dict[str, Any]:
    m = STATS.search(r.out)
    objects, requests, retries, ru, paced = map(int, m.groups()) if m else (None,) * 5
    return {"scenario": scenario, "size": size, "objects": objects, "requests": requests, "retries": retries,
            "ru": ru, "ca_requests": paced, "wall_s": round(r.wall_s, 2), "cpu_s": round(r.cpu_s, 2),
            "cpu_s_per_1000": round(r.cpu_s / objects * 1000, 3) if objects else None,
            "peak_rss_mb": round(r.peak_rss_mb, 1), "lower_bound_s": round(bound.seconds, 2),
            "lower_bound_requests": bound.requests, "lower_bound_round_trips": bound.round_trips,
            "lower_bound_ru": bound.ru,
            "lower_bound_ca_requests": bound.ca_requests, "latency_ms": round(latency * 1000, 2),
            "ratio": round(r.wall_s / bound.seconds, 2) if bound.seconds else None, **extra}


def bench_size(size: int, wanted: list[str]) -> list[dict[str, Any]]:
    """Runs the scenarios in order on one tenant; a scenario's prerequisites run unreported."""
    sim, rows = Sim(size), []
    seen: dict[str, int] = {}  # objects of the last export
    try:
        with tempfile.TemporaryDirectory() as d:
            for cmd in (["init", d], ["tenant", "add", "bench", "--tenant-id", sim.info["tenant_id"],
                                       "--graph-url", sim.root, "--auth", "sim", "--repo", d]):
                subprocess.run([*EXE, *cmd], check=True, capture_output=True)
            latency = sim.latency()
            bound = lower_bound(sim.content(), latency)
            last = max(SCENARIOS.index(s) for s in wanted)
            for scenario in SCENARIOS[: last + 1]:
                time.sleep(REFILL_S)
                r, extra = _scenario(scenario, sim, d, seen)
                if r.code not in (0, 2):
                    raise SystemExit(f"{scenario} at {size} failed:\n{r.out}")
                if scenario in wanted:
                    rows.append(row(scenario, size, r, bound, latency, **extra))
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        sim.stop()
    return rows


def _scenario(name: str, sim: Sim, repo: str, seen: dict[str, int]) -> tuple[Run, dict[str, Any]]:
    export = [*EXE, "export", "--repo", repo, "--commit"]
    extra: dict[str, Any] = {}
    if name == "export_1pct":
        extra["changed"] = sim.change(math.ceil(seen["objects"] / 100))
        time.sleep(REFILL_S)
    if name == "validate":  # the full export's files, checked as CI would: local work, no bound applies
        r = run([*EXE, "validate", "--repo", repo])
        files = seen["objects"]
        return r, {"objects": files, "cpu_s_per_1000": round(r.cpu_s / files * 1000, 3) if files else None,
                   "lower_bound_s": None, "ratio": None, "note": "objects: files validated; CPU includes workers"}
    if name.startswith("export"):
        r = run(export)
        if m := STATS.search(r.out):
            seen["objects"] = int(m.group(1))
        return r, {**extra, "committed": "-> commit" in r.out}
    full = ["--full-read"] if name == "plan_old_full" else []  # plan_old: by delta on top of the last export
    # plan_again: plan_old once more (apply after plan), its files' checks passed already; the others check anew
    if name != "plan_again" and (record := checkcache.path_for(Path(repo), "bench")):
        record.unlink(missing_ok=True)
    r = run([*EXE, "plan", "--repo", repo, "--ref", "HEAD~1", "--detailed-exitcode", "-v", *full])  # -v: its request count
    return r, {"plan_exit": r.code, "read": "full" if full else ("incremental" if "(incremental read" in r.out else "full")}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_results(rows: list[dict[str, Any]]) -> None:
    cols = ["scenario", "size", "objects", "requests", "ru", "ca_requests", "wall_s", "cpu_s", "cpu_s_per_1000",
            "peak_rss_mb", "lower_bound_requests", "lower_bound_round_trips", "lower_bound_ru", "lower_bound_s", "ratio", "committed", "read"]
    lines = ["# Benchmarks", "", f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.",
             "Run: `python -m bench [SCENARIO...] [--size N]`; the simulator in its own process with `--throttle on`.", "",
             "| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(c) is None else str(r[c]) for c in cols) + " |")
    lines += ["", "`lower_bound_*` is the independent bound of bench/bound.py: the fewest requests Graph allows for the "
              "tenant's content (999-object pages for directory collections, 100 elsewhere, `$expand` of one relationship "
              "where it is cheaper, `$batch` of 20 for relationship reads), priced in resource units (3,500 RU burst, "
              "350 RU/s) and the CA family's 1 request/s, plus the measured round trip. The client's `requests` counts HTTP round trips (a `$batch` of 20 is one), so compare it with `lower_bound_round_trips`; `ru` with `lower_bound_ru`. It is a full read's bound for "
              "every scenario (so export_unchanged and plan_old, which read by delta, come in under it). "
              "ratio = wall_s / lower_bound_s. `plan_old` plans the export before the 1% change against the changed "
              "tenant as `plan` does after a committed export (its delta state: the last export plus Graph's changes "
              "since); `plan_again` the same plan run again (apply after plan: the files' checks passed already, "
              "entragit/checkcache.py); `plan_old_full` the same plan with `--full-read`, checking the files anew "
              "(`plan -v` prints the request count and how it read).", ""]
    old = (HERE / "RESULTS.md").read_text() if (HERE / "RESULTS.md").exists() else ""
    kept = old[old.find(PREFIX):] if PREFIX in old else ""  # the named scenarios' own sections
    (HERE / "RESULTS.md").write_text("\n".join(lines) + kept)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                epilog=f"Scenarios (default all, in this order): {', '.join(SCENARIOS)}.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS + EXTRA))
    p.add_argument("--size", type=int, action="append", metavar="N",
                   help="synthetic tenant size; repeatable (default 2000 and 20000; restore_1000: 3000)")
    p.add_argument("--restore-count", type=int, default=1000, metavar="N",
                   help="restore_1000: objects deleted and brought back (default 1000)")
    p.add_argument("--tenants", type=int, default=50, metavar="N", help="msp_50x1000: tenants (default 50)")
    p.add_argument("--tenant-size", type=int, default=1000, metavar="N",
                   help="msp_50x1000: objects per tenant (default 1000)")
    p.add_argument("--workers", type=int, action="append", metavar="N",
                   help="msp_50x1000: export --workers N; repeatable, each with a new repo (default: the CLI's)")
    a = p.parse_args(argv)
    wanted = a.scenarios or list(SCENARIOS)
    if unknown := sorted(set(wanted) - set(SCENARIOS) - set(EXTRA)):
        p.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS + EXTRA)}")
    classic = [s for s in wanted if s in SCENARIOS]
    if classic:
        write_results([r for size in a.size or [2000, 20000] for r in bench_size(size, classic)])
    extra = _extra_rows(wanted, a)
    if extra:
        write_extra_results(extra)


def _extra_rows(wanted: list[str], a: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    from bench.msp import bench_msp
    from bench.restore import bench_restore

    out: dict[str, list[dict[str, Any]]] = {}
    if "restore_1000" in wanted:
        for size in a.size or [3000]:
            time.sleep(REFILL_S)
            out.setdefault("restore_1000", []).append(bench_restore(Sim, run, EXE, size, a.restore_count))
            print(json.dumps(out["restore_1000"][-1]), flush=True)
    if "msp_50x1000" in wanted:
        out["msp_50x1000"] = bench_msp(run, EXE, a.tenants, a.tenant_size, a.workers)
    return out


PREFIX = "\n<!-- scenario: "
SECTION = PREFIX + "{} -->\n"


def _notes() -> dict[str, str]:
    from bench import msp, restore

    return {"restore_1000": restore.NOTE, "msp_50x1000": msp.NOTE}


def write_extra_results(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Each named scenario's own dated section of RESULTS.md, replacing its last one; the rest is kept.
    Hand-written history sits behind marks no scenario has (`<!-- scenario: history -->`), so a
    re-run of a scenario replaces its own table only."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    notes = _notes()
    for scenario, got in rows.items():
        mark = SECTION.format(scenario)
        head, _, tail = text.partition(mark)
        rest = tail[tail.find(PREFIX):] if PREFIX in tail else ""
        cols = list(got[0])
        table = [f"## {scenario}", "", f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.", "",
                 "| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
        table += ["| " + " | ".join("" if r.get(c) is None else str(r[c]) for c in cols) + " |" for r in got]
        table += ["", notes.get(scenario, "")]
        text = head.rstrip("\n") + "\n" + mark + "\n".join(table) + "\n" + rest
    path.write_text(text)


if __name__ == "__main__":
    main()

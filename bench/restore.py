"""The ``restore_1000`` scenario: export a synthetic tenant, delete objects of mixed kinds (groups
soft and hard, applications and administrative units soft: Graph cannot hard-delete a soft-deleted
administrative unit), then time `entragit apply` bringing them back, against the bound of
bench/bound.py ``restore_bound`` counted from what was deleted."""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from typing import Any

from bench.bound import BATCH, Restore, lower_bound, restore_bound

# Relationships an export writes (bench/__main__.py content_of): (collection, relationship) -> dynamic check
LINKED = {("groups", "owners"), ("groups", "members"), ("administrativeUnits", "members"),
          ("applications", "owners"), ("servicePrincipals", "owners")}
CA = ("conditionalAccessPolicies", "namedLocations")
EXPORTED = ("groups", "applications", "servicePrincipals", "administrativeUnits")  # directory kinds an export writes
ASSIGNMENTS = {"appRoleAssignments": ("principalId", "resourceId"), "roleAssignments": ("principalId",),
               "oauth2PermissionGrants": ("clientId", "resourceId", "principalId")}
NOTE = ("`write_requests` is what apply printed (`N write requests`: a `$batch` envelope is one); "
        "`lower_bound_requests` the fewest envelopes bench/bound.py `restore_bound` allows for the writes counted "
        "from what was deleted (restores, the service principals Graph binned with their applications included, "
        "+ creates, then links, updates, CA updates and the assignments Graph removed), `bound_writes` their sum; "
        "`operations` counts the plan's operations. The bound puts CA updates in envelopes with other writes; "
        "apply writes CA policies through beta, so each goes in a beta envelope of its own (Graph paces the family "
        "per sub-request, so two would not share one anyway). `lower_bound_s` adds the "
        "read bound of the plan apply makes first. `converged`: the next plan is empty.")
PATHS = {"administrativeUnits": "/directory/administrativeUnits"}
APPLIED = re.compile(r"Applied (\d+)/(\d+) operations \((\d+) write requests\)")


def victims(objs: dict[str, dict[str, Any]], count: int) -> tuple[dict[str, str], set[str]]:
    """{id: collection} of `count` objects to delete (about a tenth applications, every
    administrative unit up to a twentieth, the rest groups), and the ids hard-deleted (every third group)."""
    apps = [a for a, o in sorted(objs.get("applications", {}).items())
            if not str(o.get("displayName", "")).startswith("entragit")][: count // 10]
    aus = sorted(objs.get("administrativeUnits", {}))[: count // 20]
    groups = [g for g, o in sorted(objs.get("groups", {}).items())
              if not str(o.get("displayName", "")).startswith("Break Glass")][: count - len(apps) - len(aus)]
    chosen = {**{a: "applications" for a in apps}, **{u: "administrativeUnits" for u in aus},
              **{g: "groups" for g in groups}}
    return chosen, set(groups[::3])


def _dynamic(kind: str, o: dict[str, Any]) -> bool:
    return "DynamicMembership" in (o.get("groupTypes") or []) or o.get("membershipType") == "dynamic"


def restore_content(before: dict[str, Any], after: dict[str, Any], chosen: dict[str, str],
                    hard: set[str]) -> Restore:
    """The writes that bring `chosen` back, counted from the tenant before and after the deletion."""
    objs, later = before["objects"], after["objects"]
    alive = {i for coll in later.values() for i in coll} | set(chosen)
    links = 0
    for key, targets in before["links"].items():
        kind, oid, rel = key.split("/", 2)
        if (kind, rel) not in LINKED or _dynamic(kind, objs.get(kind, {}).get(oid, {})):
            continue
        for t in targets:
            if (oid in hard or t in hard) and t in alive and (oid in alive):
                links += 1
    # Assignments Graph removed with a hard-deleted principal (a soft delete keeps them for the restore).
    dependent = sum(1 for kind in ASSIGNMENTS for oid, o in objs.get(kind, {}).items()
                    if oid not in later.get(kind, {}) and any(o.get(f) in hard for f in ASSIGNMENTS[kind]))
    updates = ca_updates = 0
    for kind, coll in later.items():
        for oid, o in coll.items():
            text = json.dumps(o)
            if oid in chosen or not any(h in text for h in hard):
                continue
            if kind in CA:
                ca_updates += 1
            elif kind not in ("users",):
                updates += 1
    # Objects Graph moved to the recycle bin with a deleted one (an application's service principal):
    # restoring the application does not bring it back (graph-notes 5), so it is a restore of its own.
    binned = after.get("deleted", {}).get("directory", {})
    cascaded = sum(1 for oid, entry in binned.items()
                   if oid not in chosen and entry.get("kind") in EXPORTED and oid in objs.get(entry.get("kind"), {}))
    return Restore(restores=len(chosen) - len(hard) + cascaded, creates=len(hard), links=links, updates=updates,
                   ca_updates=ca_updates, dependent_creates=dependent)


def delete(sim: Any, chosen: dict[str, str], hard: set[str]) -> int:
    """Soft-deletes `chosen`, then hard-deletes `hard`, in $batch envelopes as the admin; returns the writes."""
    writes = [f"{PATHS.get(kind, '/' + kind)}/{oid}" for oid, kind in chosen.items()]
    writes += [f"/directory/deletedItems/{oid}" for oid in sorted(hard)]
    soft, purge = writes[: len(chosen)], writes[len(chosen):]
    for wave in (soft, purge):
        pending = list(wave)
        while pending:
            chunk, pending = pending[:BATCH], pending[BATCH:]
            body = {"requests": [{"id": str(i), "method": "DELETE", "url": u} for i, u in enumerate(chunk)]}
            answers = sim.call("POST", "/v1.0/$batch", body)["responses"]
            again = [chunk[int(a["id"])] for a in answers if a["status"] == 429]
            bad = [(chunk[int(a["id"])], a["status"]) for a in answers if a["status"] not in (204, 429)]
            if bad:
                raise SystemExit(f"restore_1000: deleting failed: {bad[:3]}")
            if again:
                time.sleep(1.0)
                pending = again + pending
    return len(writes)


def bench_restore(sim_cls: Any, run: Any, exe: list[str], size: int, count: int) -> dict[str, Any]:
    """One restore_1000 row: the apply that brings `count` deleted objects back (plan included)."""
    import subprocess

    sim = sim_cls(size)
    try:
        with tempfile.TemporaryDirectory() as d:
            for cmd in (["init", d], ["tenant", "add", "bench", "--tenant-id", sim.info["tenant_id"],
                                       "--graph-url", sim.root, "--auth", "sim", "--repo", d],
                        ["export", "--repo", d, "--commit"]):
                subprocess.run([*exe, *cmd], check=True, capture_output=True)
            latency = sim.latency()
            before = sim.call("GET", "/_sim/state")
            chosen, hard = victims(before["objects"], count)
            sent = delete(sim, chosen, hard)
            after = sim.call("GET", "/_sim/state")
            content = restore_content(before, after, chosen, hard)
            writes = restore_bound(content, latency)
            reads = lower_bound(sim.content(), latency)
            time.sleep(max(10.0, sent / 20.0))  # RU bucket and write quota full again, as the bound assumes
            r = run([*exe, "apply", "--repo", d, "--yes"])
            m = APPLIED.search(r.out)
            if r.code != 0 or not m:
                raise SystemExit(f"restore_1000 at {size} failed:\n{r.out[-3000:]}")
            check = subprocess.run([*exe, "plan", "--repo", d, "--detailed-exitcode"], capture_output=True)
    finally:
        sim.stop()
    requests = int(m.group(3))
    bound_s = reads.seconds + writes.seconds
    return {"scenario": "restore_1000", "size": size, "deleted": len(chosen), "hard_deleted": len(hard),
            "kinds": ", ".join(f"{k} {list(chosen.values()).count(k)}" for k in sorted(set(chosen.values()))),
            "operations": int(m.group(2)), "ok": int(m.group(1)), "write_requests": requests,
            "bound_writes": writes.writes, "lower_bound_requests": writes.requests,
            "requests_ratio": round(requests / writes.requests, 2) if writes.requests else None,
            "restores": content.restores, "creates": content.creates, "links": content.links,
            "updates": content.updates, "ca_updates": content.ca_updates,
            "dependent_creates": content.dependent_creates,
            "wall_s": round(r.wall_s, 2), "cpu_s": round(r.cpu_s, 2), "peak_rss_mb": round(r.peak_rss_mb, 1),
            "lower_bound_s": round(bound_s, 2), "ratio": round(r.wall_s / bound_s, 2) if bound_s else None,
            "converged": check.returncode == 0, "latency_ms": round(latency * 1000, 2),
            "envelopes_min": math.ceil(writes.writes / BATCH)}

"""`entragit demo`: the whole story on the built-in simulated tenant, start to finish."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import config, gitstore, reconcile, render, scaffold
from entragit import export as exp
from entragit import kinds as kindmod
from entragit.auth import SIM_TOKEN
from entragit.graph import Graph
from entragit.plan import Plan

Say = Callable[[str], None]



@dataclass(frozen=True)
class Story:
    """The objects a seed's bad day damages, by their role in the story."""

    disaster_group: str  # named by a dozen CA policies: hard-deleted
    soft_deleted_app: str  # deleted, waits in the recycle bin
    weakened_policy_prefix: str  # an enabled CA policy switched to report-only


STORIES = {
    "demo": Story("Finance Admins", "HR Portal", "CA100"),
    "enterprise": Story("Tier0 - Identity Admins", "Northwind Payroll", "CA100"),
}
SEEDS = tuple(STORIES)
# Opt-in governance kinds the demo turns on, so its story shows who may become a member of the
# hard-deleted group (a PIM for Groups eligibility) and who may request access through it (an access
# package's assignment policy) coming back on the recreated group.
GOVERNANCE = ("groupEligibilitySchedules", "accessPackageCatalogs", "accessPackages",
              "accessPackageAssignmentPolicies", "accessReviewDefinitions")
DISASTER_GROUP = STORIES["demo"].disaster_group
SOFT_DELETED_APP = STORIES["demo"].soft_deleted_app
WEAKENED_POLICY_PREFIX = STORIES["demo"].weakened_policy_prefix


async def _damage(graph_url: str, say: Say, story: Story) -> None:
    """What an admin's bad day looks like: a hard delete, a soft delete, a weakened policy."""
    async with Graph(graph_url, token=SIM_TOKEN) as g:
        groups = await g.list_all("/groups", params={"$filter": f"displayName eq '{story.disaster_group}'"})
        gid = groups[0]["id"]
        await g.call("DELETE", f"/groups/{gid}")
        await g.call("DELETE", f"/directory/deletedItems/{gid}")  # gone for good: no restore possible
        say(f"  - hard-deleted group {story.disaster_group!r} ({gid}): deleted, then purged from the recycle bin")
        apps = await g.list_all("/applications", params={"$filter": f"displayName eq '{story.soft_deleted_app}'"})
        if apps:
            await g.call("DELETE", f"/applications/{apps[0]['id']}")
            say(f"  - deleted app registration {story.soft_deleted_app!r} (it sits in the recycle bin, with its SP)")
        policies = await g.list_all("/identity/conditionalAccess/policies", version="beta")
        weak = next((p for p in sorted(policies, key=lambda p: p["displayName"])
                     if p["displayName"].startswith(story.weakened_policy_prefix) and p.get("state") == "enabled"), None)
        if weak:
            await g.call("PATCH", f"/identity/conditionalAccess/policies/{weak['id']}", version="beta",
                         body={"state": "enabledForReportingButNotEnforced"})
            say(f"  - switched CA policy {weak['displayName']!r} to report-only (not enforced)")


def run(directory: Path | None, say: Say, keep: Callable[[Any], None] | None = None,
        seed: str = "demo") -> Path:
    from entragit_sim import Simulator

    story = STORIES[seed]
    root = directory or Path(tempfile.mkdtemp(prefix="entragit-demo-"))
    sim = Simulator(seed=seed)
    sim.start(host="127.0.0.1", port=0)
    try:
        graph_root = sim.graph_url.rsplit("/v1.0", 1)[0]
        say(f"1. Simulated tenant {sim.tenant_id} is serving Microsoft Graph at {sim.graph_url}")
        scaffold.init(root)
        tdir = root / "tenants" / "demo"
        tdir.mkdir(parents=True, exist_ok=True)
        (tdir / "tenant.yaml").write_text(config.tenant_yaml(
            "demo", sim.tenant_id, graph_url=graph_root, cloud="global", auth={"method": "sim"},
            break_glass=_break_glass(sim),
            kinds=tuple(k.name for k in kindmod.KINDS if k.default_on or k.name in GOVERNANCE)), encoding="utf-8")
        gitstore.commit(root, ["."], "Start an entragit config repo\n")
        t = config.tenants(root, "demo")[0]

        say(f"2. Export the tenant to git in {root}")
        [r] = exp.export(root, [t], do_commit=True, message="demo: nightly snapshot")
        say(f"   {r.objects} objects -> {len(list(tdir.glob('*/*.yaml')))} YAML files, commit {str(r.commit)[:10]}")
        [again] = exp.export(root, [t], do_commit=True)
        say(f"   export again: {again.summary} ({'no commit' if again.commit is None else 'UNEXPECTED commit'})")

        say("3. Disaster strikes in the portal:")
        asyncio.run(_damage(sim.graph_url, say, story))

        say("4. Drift and the plan to restore the last good commit (entragit plan --ref HEAD):")
        s = reconcile.plan(root, t, "HEAD")
        say(_indent(render.text(s.plan, s.names(), s.risks)))

        say("5. Apply it (entragit apply --yes):")
        result, stats = reconcile.apply(root, t, s, on_op=lambda o: None)
        ok = len(result.outcomes) - len(result.failed)
        say(f"   {ok}/{len(result.outcomes)} operations done with {stats.writes} write requests")
        for kname, m in result.new_ids.items():
            for old, new in m.items():
                say(f"   {kname}: {old} -> {new} (recorded in tenants/demo/idmap.yaml)")
        say(_governance(s.plan, story))
        for o in result.failed:
            say(f"   FAILED {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}")

        say("6. Apply again: it must have nothing to do")
        s2 = reconcile.plan(root, t, "HEAD")
        say("   " + render.counts_line(s2.plan))

        [after] = exp.export(root, [t], do_commit=True, message="demo: snapshot after restore")
        say(f"7. Re-export records the new ids: {after.summary}")
        say(f"\nThe config repo is at {root}\n  cd {root} && git log --stat")
        if keep:
            keep(sim)
    finally:
        sim.stop()
    return root


def _governance(plan: Plan, story: Story) -> str:
    """One line: the governance objects that name the recreated group, written again with its new id."""
    named = sorted({f"{kindmod.get(o.kind).title} {o.name!r}" for o in plan.ops
                    if o.kind in (*GOVERNANCE, "roleEligibilitySchedules") and o.action in ("create", "update")})
    if not named:
        return f"   no PIM eligibility or access package named {story.disaster_group!r}"
    return f"   back on the recreated {story.disaster_group!r}: " + "; ".join(named)


def _break_glass(sim: Any) -> tuple[str, ...]:
    async def go() -> tuple[str, ...]:
        async with Graph(sim.graph_url, token=SIM_TOKEN) as g:
            users = await g.list_all("/users", params={"$filter": "startswith(userPrincipalName,'bg-')"})
            return tuple(sorted(u["userPrincipalName"] for u in users))

    return asyncio.run(go())


def _indent(text: str) -> str:
    return "\n".join("   " + line if line else line for line in text.splitlines())

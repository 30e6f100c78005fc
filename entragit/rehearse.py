"""Rehearse an apply on a simulated twin of the tenant: nothing is sent to the real tenant.

The twin is the built-in simulator seeded from the files at HEAD (the last export, the best
knowledge of what is live) with the tenant's own ids; the plan for --ref is applied to it, then
planned again to prove it converges. Admins see what apply would do, and whether it would finish,
before touching production."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import reconcile
from entragit.apply import IDMAP, ApplyResult
from entragit.config import Tenant
from entragit.snapshot import Snapshot

# Where the simulator keeps what our Kind table calls by another name (its table is its own).
SIM_COLLECTION = {
    "crossTenantAccessDefault": "crossTenantAccessPolicyDefault",
    "crossTenantAccessPartners": "crossTenantPartners",
    "securityDefaults": "identitySecurityDefaultsEnforcementPolicy",
}


def seed_from(snap: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """The simulator seed for a snapshot of files: objects with their ids, plus the users they name."""
    seed: dict[str, list[dict[str, Any]]] = {}
    for kname, objs in snap.objects.items():
        seed.setdefault(SIM_COLLECTION.get(kname, kname), []).extend(dict(b) for b in objs.values())
    if "users" not in snap.objects:  # users are opt-in: recreate the ones the files name
        for uid, u in sorted(snap.lookup.get("users", {}).items()):
            upn = str(u.get("userPrincipalName") or f"{uid}@rehearsal.invalid")
            seed.setdefault("users", []).append({
                "id": uid, "displayName": u.get("displayName") or upn, "userPrincipalName": upn,
                "accountEnabled": True, "mailNickname": upn.split("@")[0].replace("#", "_")})
    return seed


@dataclass
class Rehearsal:
    session: reconcile.Session
    result: ApplyResult
    after: reconcile.Session  # a second plan against the twin: empty when apply converges


def run(root: Path, t: Tenant, ref: str, selectors: Sequence[str] = (), prune: bool = False,
        force_lockout: bool = False, on_op: Callable[[Any], None] | None = None) -> Rehearsal:
    from entragit_sim import Simulator

    twin_files, _ = reconcile.desired_state(root, t, "HEAD")
    sim = Simulator(seed=seed_from(twin_files), tenant_id=t.tenant_id)
    sim.start(host="127.0.0.1", port=0)
    state = Path(tempfile.mkdtemp(prefix="entragit-rehearsal-"))
    try:
        if (t.dir / IDMAP).exists():
            shutil.copy2(t.dir / IDMAP, state / IDMAP)
        twin = dataclasses.replace(t, graph_url=sim.graph_url, auth={"method": "sim"}, ca_bundle=None,
                                   state_dir=state)
        session = reconcile.plan(root, twin, ref, selectors, prune)
        result, _stats = reconcile.apply(root, twin, session, force_lockout=force_lockout, on_op=on_op)
        after = reconcile.plan(root, twin, ref, selectors, prune)
        return Rehearsal(session, result, after)
    finally:
        sim.stop()
        shutil.rmtree(state, ignore_errors=True)

"""Lock-out guard: a CA policy that would apply to the tenant's break-glass accounts is refused."""

from __future__ import annotations

from typing import Any

from entragit.config import Tenant
from entragit.plan import Plan, placeholder_target
from entragit.snapshot import Snapshot

CA = "conditionalAccessPolicies"


def _users(snaps: tuple[Snapshot, ...]) -> dict[str, str]:
    """UPN or id (lowercase) -> user id, from every user we can name."""
    out: dict[str, str] = {}
    for s in snaps:
        for source in (s.objects.get("users", {}), s.lookup.get("users", {})):
            for uid, body in source.items():
                out[uid.lower()] = uid
                if body.get("userPrincipalName"):
                    out[str(body["userPrincipalName"]).lower()] = uid
    return out


def _members(snaps: tuple[Snapshot, ...], gid: str) -> set[str]:
    gid = placeholder_target(gid) or gid
    found: set[str] = set()
    for s in snaps:
        found |= set(s.objects.get("groups", {}).get(gid, {}).get("members") or ())
    return found


def _applies(policy: dict[str, Any], uid: str, snaps: tuple[Snapshot, ...]) -> bool:
    users = (policy.get("conditions") or {}).get("users") or {}
    inc_u, exc_u = users.get("includeUsers") or [], users.get("excludeUsers") or []
    inc_g, exc_g = users.get("includeGroups") or [], users.get("excludeGroups") or []
    if uid in exc_u or any(uid in _members(snaps, g) for g in exc_g):
        return False
    return "All" in inc_u or uid in inc_u or any(uid in _members(snaps, g) for g in inc_g)


def _restricts(policy: dict[str, Any]) -> bool:
    grant = policy.get("grantControls") or {}
    return bool(grant.get("builtInControls") or grant.get("authenticationStrength") or grant.get("termsOfUse"))


def _blocks_everyone(policy: dict[str, Any]) -> bool:
    """Block for All users with no exclusion at all: every administrator is locked out too."""
    users = (policy.get("conditions") or {}).get("users") or {}
    grant = policy.get("grantControls") or {}
    excluded = any(users.get(f) for f in ("excludeUsers", "excludeGroups", "excludeRoles"))
    return "All" in (users.get("includeUsers") or []) and "block" in (grant.get("builtInControls") or []) \
        and not excluded


def lockout_risks(plan: Plan, desired: Snapshot, live: Snapshot, t: Tenant) -> list[str]:
    snaps = (desired, live)
    known = _users(snaps)
    risks = []
    for op in plan.ops:
        if op.kind != CA or op.action not in ("create", "update"):
            continue
        policy = dict(live.objects.get(CA, {}).get(op.target, {})) if op.action == "update" else {}
        policy.update(op.body)
        if policy.get("state") != "enabled" or not _restricts(policy):
            continue
        if _blocks_everyone(policy):
            risks.append(f"conditional access policy {op.name!r} would block every account, administrators "
                         "included (All users, no exclusion)")
        for account in t.break_glass:
            uid = known.get(account.lower(), account)
            if _applies(policy, uid, snaps):
                risks.append(f"conditional access policy {op.name!r} would apply to break-glass account "
                             f"{account} (not excluded)")
    return risks

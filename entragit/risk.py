"""Risk notes: one declarative table of rules that flag security-relevant changes, each saying why."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from entragit import kinds as kindmod
from entragit import lockout
from entragit import refs as refmod
from entragit.snapshot import Names, Snapshot

Body = Mapping[str, Any]

# Directory role template ids (the same in every tenant). Source: learn.microsoft.com
# /entra/identity/role-based-access-control/permissions-reference ("privileged" roles).
PRIVILEGED_ROLES: Mapping[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "966707d0-3269-4727-9be2-8c3a10f19b9d": "Password Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}

# Microsoft Graph application permission (appRole) ids, the same in every tenant. Copied from
# the Graph permissions reference (the simulator keeps its own copy; the client never imports it).
HIGH_PRIVILEGE_APP_PERMISSIONS: Mapping[str, str] = {
    "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8": "RoleManagement.ReadWrite.Directory",
    "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9": "Application.ReadWrite.All",
    "19dbc75e-c2e2-444c-a770-ec69d8559fc7": "Directory.ReadWrite.All",
    "06b708a9-e830-4db3-a914-8e69da51d44f": "AppRoleAssignment.ReadWrite.All",
    "01c0a623-fc9b-48e9-b794-0756f8e8f067": "Policy.ReadWrite.ConditionalAccess",
    "741f803b-c850-494e-b5df-cde7c675a1ca": "User.ReadWrite.All",
    "62a82d76-70ea-41e2-9197-370581804d09": "Group.ReadWrite.All",
    "fb221be6-99f2-473f-bd32-01c6a0e9ca3b": "Policy.ReadWrite.Authorization",
}

# Who may invite guests, from tightest to loosest (authorizationPolicy.allowInvitesFrom).
INVITE_LEVELS = ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")


@dataclass(frozen=True)
class Context:
    """What rules need beyond the two bodies: break-glass ids, group members and role holders, names."""

    break_glass: frozenset[str] = frozenset()  # user ids (lowercase)
    members: Mapping[str, Collection[str]] = field(default_factory=dict)  # group id -> member ids
    names: Mapping[str, str] = field(default_factory=dict)  # id -> display name
    roles: Mapping[str, Collection[tuple[str, str]]] = field(default_factory=dict)  # role -> (principal, scope)

    @functools.cached_property
    def directory(self) -> lockout.Directory:
        return lockout.Directory(self.members, self.roles)

    def name(self, value: str) -> str:
        n = self.names.get(value) or self.names.get(value.lower())
        return f"{n} ({value[:8]})" if n else value


Predicate = Callable[[Body | None, Body | None, Context], str | None]  # detail, or None: no risk


@dataclass(frozen=True)
class Rule:
    id: str
    kinds: frozenset[str]
    test: Predicate
    why: str


@dataclass(frozen=True)
class Note:
    rule: str
    kind: str
    name: str
    detail: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "kind": self.kind, "name": self.name, "detail": self.detail, "why": self.why}


# ---------------------------------------------------------------- body readers


def _get(body: Body | None, path: str) -> Any:
    node: Any = body
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _set(body: Body | None, path: str) -> set[str]:
    return {str(v) for v in _get(body, path) or () if isinstance(v, str)}


def _users(field_name: str) -> str:
    return f"conditions.users.{field_name}"


def _grant(body: Body | None) -> set[str]:
    """The strong-auth controls a CA policy demands: `mfa` and/or an authentication strength."""
    out = _set(body, "grantControls.builtInControls") & {"mfa"}
    if _get(body, "grantControls.authenticationStrength.id"):
        out.add("authentication strength")
    return out


# ---------------------------------------------------------------- predicates


def ca_weakened_state(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    was, now = _get(old, "state"), _get(new, "state")
    if was != "enabled" or now == "enabled":
        return None
    return "deleted while enabled" if new is None else f"state {was} -> {now}"


def ca_mfa_removed(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    if new is None:
        return None
    lost = _grant(old) - _grant(new)
    return f"no longer requires {' or '.join(sorted(lost))}" if lost else None


def ca_newly_excluded(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    if old is None or new is None:
        return None
    added = []
    for what in ("excludeUsers", "excludeGroups", "excludeRoles"):
        added += [f"{what[7:-1].lower()} {ctx.name(v)}" for v in sorted(_set(new, _users(what)) - _set(old, _users(what)))]
    return "newly excluded: " + ", ".join(added) if added else None


def _bg_excluded(body: Body | None, ctx: Context) -> set[str]:
    """Break-glass accounts the policy excludes, as the lock-out guard reckons it (groups, nesting, roles)."""
    return {u for u in ctx.break_glass if body is not None and ctx.directory.excluded(body, u)}


def ca_break_glass_unexcluded(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    if new is None or not ctx.break_glass:
        return None
    lost = _bg_excluded(old, ctx) - _bg_excluded(new, ctx)
    return "break-glass no longer excluded: " + ", ".join(ctx.name(u) for u in sorted(lost)) if lost else None


def ca_all_users_narrowed(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    if new is None or "All" not in _set(old, _users("includeUsers")) or "All" in _set(new, _users("includeUsers")):
        return None
    scope = sorted(_set(new, _users("includeUsers")) | _set(new, _users("includeGroups")))
    return "includeUsers no longer 'All'; now " + (", ".join(ctx.name(v) for v in scope) or "nobody")


def privileged_role_added(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    role = str(_get(new, "roleDefinitionId") or "")
    if old is not None or role not in PRIVILEGED_ROLES:
        return None
    return f"{PRIVILEGED_ROLES[role]} assigned to {ctx.name(str(_get(new, 'principalId') or '?'))}"


def high_privilege_app_permission(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    perm = str(_get(new, "appRoleId") or "")
    if old is not None or perm not in HIGH_PRIVILEGE_APP_PERMISSIONS:
        return None
    return (f"{ctx.name(str(_get(new, 'principalId') or '?'))} granted application permission "
            f"{HIGH_PRIVILEGE_APP_PERMISSIONS[perm]} on {ctx.name(str(_get(new, 'resourceId') or '?'))}")


def security_defaults_toggled(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    was, now = _get(old, "isEnabled"), _get(new, "isEnabled")
    if old is None or new is None or was == now:
        return None
    return f"security defaults {'enabled' if now else 'disabled'}"


def guest_invites_loosened(old: Body | None, new: Body | None, ctx: Context) -> str | None:
    was, now = _get(old, "allowInvitesFrom"), _get(new, "allowInvitesFrom")
    if was not in INVITE_LEVELS or now not in INVITE_LEVELS:
        return None
    return f"allowInvitesFrom {was} -> {now}" if INVITE_LEVELS.index(now) > INVITE_LEVELS.index(was) else None


CA = frozenset({"conditionalAccessPolicies"})

RULES: tuple[Rule, ...] = (
    Rule("ca-not-enforced", CA, ca_weakened_state,
         "an enforced Conditional Access policy stops protecting sign-ins (report-only or off only logs)"),
    Rule("ca-mfa-removed", CA, ca_mfa_removed,
         "sign-ins this policy covers no longer need a second factor, so a stolen password is enough"),
    Rule("ca-new-exclusion", CA, ca_newly_excluded,
         "excluded users, groups and roles bypass the policy entirely; exclusions are a common persistence trick"),
    Rule("ca-break-glass-unexcluded", CA, ca_break_glass_unexcluded,
         "a policy that applies to break-glass accounts can lock everyone out when it misfires"),
    Rule("ca-all-users-narrowed", CA, ca_all_users_narrowed,
         "a baseline that covered every user now leaves some users unprotected"),
    Rule("privileged-role-assigned", frozenset({"roleAssignments"}), privileged_role_added,
         "a privileged directory role can take over the tenant; assignments should be rare and reviewed"),
    Rule("app-high-privilege-permission", frozenset({"appRoleAssignments"}), high_privilege_app_permission,
         "an app with this permission can act as a tenant admin with no user present and no MFA"),
    Rule("security-defaults-toggled", frozenset({"securityDefaults"}), security_defaults_toggled,
         "security defaults enforce MFA tenant-wide; turning them off without CA policies removes it"),
    Rule("guest-invites-loosened", frozenset({"authorizationPolicy"}), guest_invites_loosened,
         "more people can invite external accounts into the directory"),
)
JUDGED = frozenset().union(*(r.kinds for r in RULES))  # kinds some rule looks at


def assess(kind: str, name: str, old: Body | None, new: Body | None, ctx: Context) -> list[Note]:
    """Notes for one object's change (old None = added, new None = removed)."""
    notes = []
    for rule in RULES:
        if kind in rule.kinds:
            detail = rule.test(old, new, ctx)
            if detail:
                notes.append(Note(rule.id, kind, name, detail, rule.why))
    return notes


def context(break_glass: Sequence[str], names: Mapping[str, str], *snaps: Snapshot) -> Context:
    """The context a change between `snaps` is judged in: memberships and roles of either side."""
    members: dict[str, set[str]] = {}
    roles: dict[str, set[tuple[str, str]]] = {}
    for s in snaps:
        d = lockout.Directory.of(s)
        for g, m in d.members.items():
            members.setdefault(g, set()).update(m or ())
        for r, held in d.roles.items():
            roles.setdefault(r, set()).update(held)
    ids = frozenset(u for found in lockout.resolve(break_glass, *snaps).values() for u in found)
    return Context(ids, members, names, roles)


LOCKOUT_WHY = "an enforced policy that applies to every account able to repair the tenant locks everyone out"


def lockout_notes(after: Snapshot, before: Snapshot | None, break_glass: Sequence[str]) -> list[Note]:
    """Lock-outs (lockout.py) the `after` state brings, as notes: they may come from any object's change."""
    return [Note("ca-lockout", f.kind, f.name, f.reason, LOCKOUT_WHY) for f in lockout.check(after, before, break_glass)]


DANGLING_WHY = ("a reference to an object that no longer exists does nothing: policies, assignments and "
                "memberships that name it silently stop applying to whoever it stood for")
LISTED = 10  # referencing objects named per note; the rest are counted


def _dangling(after: Snapshot, found: Callable[[kindmod.Ref, str], bool], names: Names
              ) -> dict[str, tuple[kindmod.Ref, list[str]]]:
    """Referenced id -> (its Ref, the objects holding it) for references `found` does not resolve;
    `names`: Names(after)."""
    from entragit.export import display_name

    out: dict[str, tuple[kindmod.Ref, list[str]]] = {}
    for kname in sorted(after.objects):
        kind = kindmod.get(kname)
        for body in after.objects[kname].values():
            for ref, value in refmod.iter_refs(kind, body):
                if found(ref, value):
                    continue
                who = f"{kind.title} {display_name(kind, body, names)!r}"
                hits = out.setdefault(value, (ref, []))[1]
                if who not in hits:
                    hits.append(who)
    return out


def dangling_notes(after: Snapshot, before: Snapshot | None = None, live: Snapshot | None = None) -> list[Note]:
    """References in `after` to ids that exist in neither its files nor (when given) live, one note per
    missing object naming what references it. With `before`, only references that resolved there: the
    ones this change left dangling."""
    sides = [Names(after)] + ([Names(live)] if live is not None else [])
    old = Names(before) if before is not None else None
    notes = []
    for value, (ref, who) in sorted(_dangling(after, lambda r, v: any(n.find(r, v) for n in sides), sides[0]).items()):
        hit = old.find(ref, value) if old is not None else None
        if old is not None and hit is None:
            continue  # dangled already: not this change's doing
        last = after.missing.get(value, {})
        kname = str(last.get("kind") or (hit[0] if hit else ref.targets[0]))
        name = str(last.get("name") or (hit[1].get("displayName") or hit[1].get("userPrincipalName") if hit else "")
                   or value)
        more = f" and {len(who) - LISTED} more" if len(who) > LISTED else ""
        detail = f"no longer exists ({value}), still referenced by {len(who)}: " + ", ".join(who[:LISTED]) + more
        notes.append(Note("dangling-reference", kname, name, detail, DANGLING_WHY))
    return notes

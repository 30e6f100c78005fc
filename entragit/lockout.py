"""The lock-out guard: what the whole desired state does to the accounts that must always sign in.

One pure check, shared by validate, plan/apply and the risk notes. For each enabled Conditional
Access policy that blocks or demands a control, every break-glass account (tenant.yaml
`breakGlass`) must be effectively excluded: directly, through an excluded group whose desired
membership holds it (nested groups included), or through an excluded role it holds. With no
break-glass account configured, no policy may block every Global Administrator. Break-glass
groups (excluded by a policy and holding a break-glass account) must not be nested in another
group, and must not lose their break-glass members.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from entragit.kinds import GUID
from entragit.snapshot import Snapshot

CA = "conditionalAccessPolicies"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
# includeUsers/excludeUsers keywords that name guests only: never a member break-glass account.
GUEST_KEYWORDS = frozenset({"guestsorexternalusers"})
Body = Mapping[str, Any]
Key = tuple[str, str]  # (kind, object key)


@dataclass(frozen=True)
class Finding:
    """One way the desired state locks someone out; `field` locates it in the object's file."""

    kind: str
    key: str
    name: str
    path: str | None  # the object's file, when the snapshot came from files
    field: tuple[str, ...]
    reason: str
    code: str  # applies | blocks-admins | blocks-everyone | group-nested | group-emptied
    account: str = ""  # the tenant.yaml entry it is about, if one
    related: tuple[Key, ...] = ()  # other objects whose state makes it so (group memberships, roles)

    @property
    def ident(self) -> tuple[str, str, str, str]:
        return self.code, self.kind, self.key.lower(), self.account


def _low(values: Any) -> set[str]:
    return {str(v).lower() for v in values or () if isinstance(v, str)}


def _users_of(body: Body) -> Mapping[str, Any]:
    users = (body.get("conditions") or {}).get("users")
    return users if isinstance(users, Mapping) else {}


class _Members:
    """Group id -> its members (lowercase), each lowercased when first asked for: a check looks at
    the few groups its policies name, and lowercasing every membership of a large tenant up front
    was most of its time. `None`: the group's members are unknown (dynamic, or not exported)."""

    def __init__(self, raw: Mapping[str, Collection[str] | None]) -> None:
        self._raw = {g.lower(): m for g, m in raw.items()}
        self._low: dict[str, set[str] | None] = {}

    def __contains__(self, gid: object) -> bool:
        return gid in self._raw

    def get(self, gid: str) -> set[str] | None:
        if gid not in self._low and gid in self._raw:
            m = self._raw[gid]
            self._low[gid] = None if m is None else _low(m)
        return self._low.get(gid)

    def items(self) -> list[tuple[str, set[str] | None]]:
        """Every group with its members: what a whole-tenant view (risk.context) merges."""
        return [(gid, self.get(gid)) for gid in self._raw]


class Directory:
    """Who is in which group (transitively) and who holds which role, as a snapshot describes it."""

    def __init__(self, members: Mapping[str, Collection[str] | None],
                 roles: Mapping[str, Collection[tuple[str, str]]] | None = None) -> None:
        self.members = _Members(members)
        self.roles = {r.lower(): [(p.lower(), s) for p, s in held] for r, held in (roles or {}).items()}

    @classmethod
    def of(cls, snap: Snapshot, fallback: Snapshot | None = None) -> Directory:
        """Memberships and directory roles of `snap`; a group whose members it leaves out takes `fallback`'s."""
        def members(s: Snapshot | None) -> dict[str, Collection[str] | None]:
            return {g: b.get("members") for g, b in (s.objects.get("groups", {}) if s else {}).items()}

        have = {k.lower(): v for k, v in members(fallback).items()}
        mine = {g: (m if m is not None else have.get(g.lower())) for g, m in members(snap).items()}
        templates = {str(k).lower(): str(b.get("templateId") or k).lower()
                     for source in (snap.lookup, snap.objects) for k, b in source.get("roleDefinitions", {}).items()}
        roles: dict[str, list[tuple[str, str]]] = {}
        for ra in snap.objects.get("roleAssignments", {}).values():
            role = str(ra.get("roleDefinitionId") or "").lower()
            roles.setdefault(templates.get(role, role), []).append(
                (str(ra.get("principalId") or ""), str(ra.get("directoryScopeId") or "")))
        return cls({**have, **mine}, roles)

    def groups_of(self, uid: str, groups: Iterable[str]) -> tuple[bool | None, set[str]]:
        """(member?, groups looked at): True if `uid` is in one of `groups`, None if some membership is unknown."""
        todo, seen, unknown = [g.lower() for g in groups], set(), False
        while todo:
            gid = todo.pop()
            if gid in seen:
                continue
            seen.add(gid)
            held = self.members.get(gid)
            if held is None:
                unknown = True  # a dynamic group, or groups not exported
                continue
            if uid in held:
                return True, seen
            todo += [m for m in held if m in self.members]
        return (None if unknown else False), seen

    def holds(self, uid: str, roles: Iterable[str], *, tenant_wide: bool) -> bool:
        """Whether `uid` holds one of `roles`, itself or through a group (only at "/" when `tenant_wide`)."""
        for role in _low(roles):
            for principal, scope in self.roles.get(role, ()):
                if tenant_wide and scope != "/":
                    continue
                if principal == uid or self.groups_of(uid, [principal])[0]:
                    return True
        return False

    def role_holders(self, role: str) -> set[str]:
        out: set[str] = set()
        for principal, scope in self.roles.get(role, ()):
            if scope != "/":
                continue
            inner = self.members.get(principal)
            out |= {principal} if inner is None else self._flat(principal)
        return out

    def _flat(self, gid: str) -> set[str]:
        out, todo, seen = set(), [gid], set()
        while todo:
            g = todo.pop()
            if g in seen:
                continue
            seen.add(g)
            for m in self.members.get(g) or ():
                if m in self.members:
                    todo.append(m)
                else:
                    out.add(m)
        return out

    def excluded(self, policy: Body, uid: str) -> bool:
        """Whether the policy's user exclusions cover `uid` (an unknown membership counts: no false alarm)."""
        users = _users_of(policy)
        if uid in _low(users.get("excludeUsers")):
            return True
        if self.groups_of(uid, _low(users.get("excludeGroups")))[0] is not False:
            return True
        return self.holds(uid, users.get("excludeRoles") or (), tenant_wide=True)

    def reach(self, policy: Body, uid: str) -> tuple[str, str]:
        """(how, key): how the policy's inclusions reach `uid`, ignoring exclusions; ("", "") if they do not."""
        users = _users_of(policy)
        included = _low(users.get("includeUsers"))
        if "all" in included:
            return "All users", "includeUsers"
        if uid in included:
            return "the account itself", "includeUsers"
        if self.groups_of(uid, _low(users.get("includeGroups")))[0]:
            return "a group it is a member of", "includeGroups"
        if self.holds(uid, users.get("includeRoles") or (), tenant_wide=False):
            return "a role it holds", "includeRoles"
        return "", ""

    def related(self, policy: Body) -> tuple[Key, ...]:
        """The groups and role assignments whose state decides whom the policy reaches."""
        users = _users_of(policy)
        groups: set[str] = set()
        for f in ("includeGroups", "excludeGroups"):
            groups |= self.groups_of("", _low(users.get(f)))[1]
        return tuple(("groups", g) for g in sorted(groups))


def restricts(policy: Body) -> bool:
    """Enabled and blocking or demanding a control: report-only and disabled policies lock nobody out."""
    grant = policy.get("grantControls")
    if policy.get("state") != "enabled" or not isinstance(grant, Mapping):
        return False
    return bool(grant.get("builtInControls") or grant.get("authenticationStrength")
                or grant.get("termsOfUse") or grant.get("customAuthenticationFactors"))


def blocks(policy: Body) -> bool:
    return restricts(policy) and "block" in ((policy.get("grantControls") or {}).get("builtInControls") or ())


def lookup_kinds(accounts: Sequence[str]) -> set[str]:
    """The kinds whose lookups (refs entries) the checks read: role definitions' templates, and the
    users' UPNs when a break-glass entry is a UPN."""
    return {"roleDefinitions", "users"} if any(not GUID.match(a) for a in accounts) else {"roleDefinitions"}


def resolve(accounts: Sequence[str], *snaps: Snapshot | None) -> dict[str, set[str]]:
    """tenant.yaml breakGlass entries (UPN or id) -> the user ids (lowercase) they stand for."""
    by_upn: dict[str, set[str]] = {}
    for s in snaps if "users" in lookup_kinds(accounts) else ():
        for source in ((s.objects, s.lookup) if s else ()):
            for uid, body in source.get("users", {}).items():
                upn = str(body.get("userPrincipalName") or "").lower()
                if upn:
                    by_upn.setdefault(upn, set()).add(str(body.get("id") or uid).lower())
    return {a: ({a.lower()} if GUID.match(a) else by_upn.get(a.lower(), set())) for a in accounts}


def _name(body: Body, key: str) -> str:
    return str(body.get("displayName") or key)


def _policy_findings(snap: Snapshot, d: Directory, accounts: Mapping[str, set[str]]) -> list[Finding]:
    out = []
    for key, body in sorted(snap.objects.get(CA, {}).items()):
        if not restricts(body):
            continue
        what = "blocks" if blocks(body) else "requires grant controls for"
        for account, ids in accounts.items():
            for uid in sorted(ids):
                how, field = d.reach(body, uid)
                if how and not d.excluded(body, uid):
                    related = (*d.related(body), *_role_related(snap, uid))
                    out.append(Finding(CA, key, _name(body, key), snap.paths.get((CA, key)),
                                       ("conditions", "users", field),
                                       f"would lock out break-glass account {account}: the policy {what} {how} "
                                       "and does not exclude it", "applies", account, related))
                    break
    return out


def _role_related(snap: Snapshot, uid: str) -> list[Key]:
    return [("roleAssignments", k) for k, ra in sorted(snap.objects.get("roleAssignments", {}).items())
            if str(ra.get("principalId") or "").lower() == uid]


def _admin_findings(snap: Snapshot, d: Directory) -> list[Finding]:
    """No break-glass account configured: no policy may block every Global Administrator."""
    admins = sorted(d.role_holders(GLOBAL_ADMIN))
    out = []
    for key, body in sorted(snap.objects.get(CA, {}).items()):
        if not blocks(body):
            continue
        where = snap.paths.get((CA, key))
        field = ("conditions", "users", "excludeUsers")
        if admins and all(d.reach(body, a)[0] and not d.excluded(body, a) for a in admins):
            related = (*d.related(body), *(r for a in admins for r in _role_related(snap, a)))
            out.append(Finding(CA, key, _name(body, key), where, ("conditions", "users", "includeUsers"),
                               f"would block every account holding Global Administrator ({len(admins)}) and "
                               "tenant.yaml names no break-glass account to keep out of it", "blocks-admins",
                               related=related))
        elif not admins and "all" in _low(_users_of(body).get("includeUsers")) and not _excludes_members(body):
            out.append(Finding(CA, key, _name(body, key), where, field,
                               "would block every account, administrators included (All users, no exclusion "
                               "of a member account)", "blocks-everyone"))
    return out


def _excludes_members(policy: Body) -> bool:
    users = _users_of(policy)
    return bool(_low(users.get("excludeUsers")) - GUEST_KEYWORDS or users.get("excludeGroups")
                or users.get("excludeRoles"))


def break_glass_groups(snap: Snapshot, accounts: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Groups some CA policy excludes that directly hold a break-glass account -> those account ids."""
    ids = set().union(*accounts.values()) if accounts else set()
    excluded = set().union(*(_low(_users_of(b).get("excludeGroups")) for b in snap.objects.get(CA, {}).values()))
    out: dict[str, set[str]] = {}
    if not ids or not excluded:
        return out
    for gid, body in snap.objects.get("groups", {}).items():
        if gid.lower() in excluded:  # first: lowercasing every group's members was most of a check's time
            held = _low(body.get("members")) & ids
            if held:
                out[gid.lower()] = held
    return out


def _group_findings(desired: Snapshot, live: Snapshot | None, accounts: Mapping[str, set[str]]) -> list[Finding]:
    out = []
    groups = desired.objects.get("groups", {})
    names = {g.lower(): _name(b, g) for s in (desired, live) if s for g, b in s.objects.get("groups", {}).items()}
    bg = break_glass_groups(desired, accounts)
    inners = set(bg)
    for key, body in sorted(groups.items()) if inners else ():
        for inner in sorted(_low(body.get("members")) & inners):
            out.append(Finding("groups", key, _name(body, key), desired.paths.get(("groups", key)), ("members",),
                               f"holds the break-glass group {names.get(inner, inner)!r}: every policy that "
                               "includes this group would reach the break-glass accounts", "group-nested",
                               related=(("groups", inner),)))
    upn = {uid: a for a, ids in accounts.items() for uid in ids}
    by_low = {g.lower(): g for g in groups}
    for gid, held in sorted(break_glass_groups(live, accounts).items() if live else ()):
        gkey = by_low.get(gid)
        want = groups[gkey].get("members") if gkey else None
        lost = held - _low(want) if want is not None else set()
        if gkey and lost:
            who = ", ".join(sorted(upn.get(u, u) for u in lost))
            out.append(Finding("groups", gkey, _name(groups[gkey], gkey), desired.paths.get(("groups", gkey)),
                               ("members",), f"no longer holds {who}: policies exclude the break-glass accounts "
                               "through this group, so they would apply to them", "group-emptied"))
    return out


def evaluate(snap: Snapshot, accounts: Mapping[str, set[str]], live: Snapshot | None = None) -> list[Finding]:
    """Every lock-out the state `snap` describes (`live` fills in memberships the files leave out)."""
    d = Directory.of(snap, live)
    found = _policy_findings(snap, d, accounts) if accounts else _admin_findings(snap, d)
    return found + _group_findings(snap, live, accounts)


def check(desired: Snapshot, live: Snapshot | None, break_glass: Sequence[str]) -> list[Finding]:
    """Lock-outs the desired state brings: all of them with no live side, else those live does not have yet.

    A break-glass entry no snapshot names is left out (validate warns about it)."""
    accounts = {a: ids for a, ids in resolve(break_glass, desired, live).items() if ids}
    found = evaluate(desired, accounts, live)
    if live is None:
        return found
    before = {f.ident for f in evaluate(live, accounts)}
    return [f for f in found if f.ident not in before]

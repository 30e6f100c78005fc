"""Microsoft Entra Backup and Recovery, read side: the tenant's own daily snapshots, next to git.

The service snapshots the supported objects once a day and keeps seven; any app holding
EntraBackup.Read.All may list them (https://learn.microsoft.com/graph/api/entrarecoveryservices-recovery-list-snapshots).
Export records the newest one in each commit, so `git log` links an export to that day's native backup."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from entragit import auth
from entragit.config import Tenant
from entragit.errors import EntragitError, GraphError
from entragit.graph import Graph

log = logging.getLogger("entragit.native")

PERMISSION = "EntraBackup.Read.All"
SNAPSHOTS = "/directory/recovery/snapshots"
TRAILER = "Entragit-Native-Snapshot"  # export commit trailer: the newest native snapshot id
RETENTION = 7  # snapshots the service keeps
STALE_AFTER = dt.timedelta(hours=26)  # one a day: a newest snapshot older than this means a missed backup
FORMAT_VERSION = 1  # of `native snapshots --format json` (docs/JSON-FORMATS.md)
# 404 or 400: no /directory/recovery here (national clouds, tenants without the feature).
ABSENT = (400, 404)


@dataclass(frozen=True)
class NativeSnapshot:
    id: str
    taken_at: dt.datetime
    state: str  # latest | stale | retained | expiring


async def _read(t: Tenant) -> list[dict[str, Any]]:
    cred, token = auth.credential(t)
    async with Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True) as g:
        return await g.list_all(SNAPSHOTS)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _states(items: list[dict[str, Any]], now: dt.datetime) -> list[NativeSnapshot]:
    """Newest first; the newest is `stale` when the daily backup is overdue, the seventh `expiring`
    (the next snapshot pushes it out)."""
    ordered = sorted(items, key=lambda s: _when(str(s["createdDateTime"])), reverse=True)
    out = []
    for i, s in enumerate(ordered):
        when = _when(str(s["createdDateTime"]))
        if i == 0:
            state = "stale" if now - when > STALE_AFTER else "latest"
        else:
            state = "expiring" if i == RETENTION - 1 else "retained"
        out.append(NativeSnapshot(str(s["id"]), when, state))
    return out


def snapshots(t: Tenant, now: dt.datetime | None = None) -> list[NativeSnapshot]:
    """The tenant's native snapshots, newest first; one clear error when they cannot be read."""
    try:
        items = asyncio.run(_read(t))
    except GraphError as e:
        if e.status == 403:
            raise EntragitError(f"tenant {t.name}: the app may not read native backup snapshots ({e.status} {e.code})",
                                hint=f"grant the application permission {PERMISSION} (admin consent), "
                                     "see `entragit permissions --native`") from e
        if e.status in ABSENT:
            raise EntragitError(f"tenant {t.name}: Graph has no native backup here ({e.status} {e.code}); "
                                "Entra Backup and Recovery is in the global cloud only, for workforce tenants") from e
        raise
    return _states(items, now or dt.datetime.now(dt.timezone.utc))


def latest_id(t: Tenant) -> tuple[str | None, str]:
    """(newest snapshot id or None, a warning or ""). A token without the permission, or a tenant
    without the feature, is the usual case and only logs one debug line; another failure is a
    warning, never a failed export."""
    try:
        items = asyncio.run(_read(t))
    except GraphError as e:
        if e.status == 403 or e.status in ABSENT:
            log.debug("tenant %s: no native snapshot trailer (%s %s)", t.name, e.status, e.code)
            return None, ""
        return None, f"native snapshot id not recorded: {e.message}"
    except EntragitError as e:
        return None, f"native snapshot id not recorded: {e.message}"
    if not items:
        return None, ""
    return _states(items, dt.datetime.now(dt.timezone.utc))[0].id, ""


def render(found: list[tuple[str, list[NativeSnapshot]]], fmt: str) -> str:
    """Text (one line a snapshot, a heading per tenant when there are several) or JSON."""
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, "tenants": [
            {"tenant": name, "snapshots": [{"id": s.id, "takenAt": s.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                            "state": s.state} for s in snaps]}
            for name, snaps in found]}, indent=2) + "\n"
    lines: list[str] = []
    for name, snaps in found:
        if len(found) > 1:
            lines.append(f"{name}:")
        if not snaps:
            lines.append("  no native snapshots yet" if len(found) > 1 else "no native snapshots yet")
        width = max((len(s.id) for s in snaps), default=0)
        indent = "  " if len(found) > 1 else ""
        lines += [f"{indent}{s.id:<{width}}  {s.taken_at.strftime('%Y-%m-%d %H:%M:%SZ')}  {s.state}" for s in snaps]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- jobs: difference reports and recoveries
#
# Preview (difference report) and recovery jobs are created only by a signed-in user holding the
# Microsoft Entra Backup Administrator role with the delegated EntraBackup.ReadWrite.Preview /
# .Recovery scopes; no application permission exists for them
# (https://learn.microsoft.com/graph/api/entrarecoveryservices-snapshot-post-recoverypreviewjobs).
# A job is a long-running operation: POST answers 202 + Location, the client polls `status`.

NS = "microsoft.graph.entraRecoveryServices"
BACKUP_ADMIN_ROLE = "Microsoft Entra Backup Administrator"
BACKUP_ADMIN_ID = "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb"
BACKUP_READER_ROLE = "Microsoft Entra Backup Reader"
BACKUP_READER_ID = "f42252d9-5400-4d7b-b9ef-cc582dbb8577"
PREVIEW_SCOPE = "EntraBackup.ReadWrite.Preview"
RECOVERY_SCOPE = "EntraBackup.ReadWrite.Recovery"
TERMINAL = ("successful", "failed", "abandoned")
IDS_FILTER = f"#{NS}.recoveryJobEntityNameAndIdsFilter"
MAX_IDS = 100  # per job (the portal's limit; the docs' API limit is unconfirmed)
POLL_FIRST, POLL_MAX = 0.5, 15.0  # seconds between status reads, growing by half each time
# resourceTypeName -> entragit kind (the objects native recovery covers that entragit also manages).
KIND_OF = {"user": "users", "group": "groups", "conditionalAccessPolicy": "conditionalAccessPolicies",
           "namedLocationPolicy": "namedLocations", "authorizationPolicy": "authorizationPolicy",
           "application": "applications", "servicePrincipal": "servicePrincipals"}
TYPE_OF = {v: k for k, v in KIND_OF.items()}
# Recoverable properties per kind, in Graph names (None: all); from the supported-objects page
# (https://learn.microsoft.com/entra/backup/scope-supported-objects-limitations).
RECOVERABLE: dict[str, frozenset[str] | None] = {
    "users": frozenset(("accountEnabled", "ageGroup", "city", "companyName", "consentProvidedForMinor", "country",
                        "department", "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime",
                        "employeeOrgData", "employeeType", "faxNumber", "givenName", "jobTitle", "mail",
                        "mailNickname", "mobilePhone", "otherMails", "passwordPolicies", "officeLocation",
                        "postalCode", "preferredDataLocation", "preferredLanguage", "state", "streetAddress",
                        "surname", "businessPhones", "usageLocation", "userPrincipalName", "userType")),
    "groups": frozenset(("classification", "description", "displayName", "groupTypes", "visibility", "mail",
                         "mailEnabled", "mailNickname", "preferredDataLocation", "preferredLanguage",
                         "securityEnabled", "theme")),
    "conditionalAccessPolicies": None,
    "namedLocations": None,
    "authorizationPolicy": frozenset(("blockMsolPowerShell", "guestUserRoleId")),
    "applications": frozenset(("displayName", "description", "notes", "tags", "identifierUris",
                               "isFallbackPublicClient", "publicClient", "publisherDomain",
                               "isDeviceOnlyAuthSupported", "serviceManagementReference", "requiredResourceAccess",
                               "nativeAuthenticationApisEnabled", "signInAudience", "groupMembershipClaims",
                               "optionalClaims", "isDisabled", "addIns", "servicePrincipalLockConfiguration", "info")),
    "servicePrincipals": frozenset(("accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description",
                                    "loginUrl", "notes", "notificationEmailAddresses",
                                    "preferredTokenSigningKeyThumbprint", "tags", "servicePrincipalType",
                                    "preferredSingleSignOnMode", "publisherName", "samlSingleSignOnSettings",
                                    "servicePrincipalNames")),
}
Progress = Any  # Callable[[str], None]: one line per job state change


@dataclass(frozen=True)
class NativeChange:
    """One change object of a difference report: what recovery to the snapshot would do."""

    id: str
    type: str  # resourceTypeName
    name: str  # display name now (the snapshot's for an object it would restore)
    action: str  # update | restore | softDelete
    props: dict[str, tuple[Any, Any]]  # property -> (current, snapshot)
    add_members: tuple[str, ...] = ()
    remove_members: tuple[str, ...] = ()
    failure: str = ""

    @property
    def kind(self) -> str:
        return KIND_OF.get(self.type, self.type)

    @classmethod
    def of(cls, item: dict[str, Any]) -> NativeChange:
        delta = item.get("deltaFromCurrent") or {}
        cur = item.get("currentState") or {}
        props = {k: (cur.get(k), v) for k, v in delta.items()
                 if not k.startswith("@") and "@" not in k and k != "deletedDateTime"}
        links = delta.get("members@delta") or []
        name = str(item.get("displayName") or delta.get("displayName") or item.get("id"))
        return cls(str(item["id"]), str(item.get("entityTypeName")), name, str(item.get("recoveryAction")), props,
                   tuple(str(m["id"]) for m in links if "@removed" not in m),
                   tuple(str(m["id"]) for m in links if "@removed" in m), str(item.get("failureMessage") or ""))


@dataclass(frozen=True)
class Report:
    tenant: str
    snapshot: NativeSnapshot
    job_id: str
    changes: tuple[NativeChange, ...]


async def _who(g: Graph) -> dict[str, Any]:
    return auth.decode_claims(await g.access_token()) or {}


def _needs_admin(t: Tenant, what: str, claims: dict[str, Any]) -> EntragitError | None:
    """Why this sign-in cannot create `what` jobs, or None. App-only tokens never can."""
    scope = PREVIEW_SCOPE if what == "preview" else RECOVERY_SCOPE
    if claims.get("idtyp") == "app" or ("scp" not in claims and "roles" in claims):
        return EntragitError(
            f"tenant {t.name}: native {what} jobs need a signed-in {BACKUP_ADMIN_ROLE}; an application cannot "
            f"create them ({scope} is a delegated permission only)",
            hint=f"sign in as a person holding the {BACKUP_ADMIN_ROLE} role: `entragit tenant add {t.name} "
                 "--auth device-code` (or azure-cli)")
    wids = set(claims.get("wids") or ())
    if claims and claims.get("scp") is not None and scope not in str(claims.get("scp")).split():
        return EntragitError(f"tenant {t.name}: the sign-in lacks the delegated scope {scope}",
                             hint="consent it for the client you sign in with (`entragit permissions --native`)")
    if wids and not wids & {BACKUP_ADMIN_ID, "62e90394-69f5-4237-9190-012177145e10"}:
        return EntragitError(f"tenant {t.name}: the signed-in user does not hold the {BACKUP_ADMIN_ROLE} role "
                             f"(template {BACKUP_ADMIN_ID}), which native {what} jobs need",
                             hint="assign the role (or activate it in PIM), then sign in again")
    return None


def _refused(t: Tenant, what: str, e: GraphError) -> EntragitError:
    if e.status in ABSENT:
        return EntragitError(f"tenant {t.name}: Graph has no native backup here ({e.status} {e.code}); Entra "
                             "Backup and Recovery needs Entra ID P1 or P2, a workforce tenant, the global cloud")
    return EntragitError(f"tenant {t.name}: Graph refused the native {what} job ({e.status} {e.code}: {e.message})",
                         hint=f"it needs a signed-in {BACKUP_ADMIN_ROLE} (`entragit permissions --native`)")


def _criteria(ids: dict[str, list[str]] | None) -> dict[str, Any] | None:
    if not ids:
        return None
    return {"filteringCriteria": {"@odata.type": IDS_FILTER, "filterValues": [
        {"entityType": TYPE_OF[k], "entityIds": sorted(v)} for k, v in sorted(ids.items()) if v]}}


async def _wait(g: Graph, url: str, what: str, progress: Progress) -> dict[str, Any]:
    """Poll a job until it ends, one progress line per new status; the last job body."""
    delay, seen = POLL_FIRST, ""
    while True:
        job: dict[str, Any] = await g.get(url)
        status = str(job.get("status"))
        if status != seen:
            progress(f"native {what} job {job.get('id')}: {status}")
            seen = status
        if status in TERMINAL:
            return job
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)


def _job_url(g: Graph, job: dict[str, Any], snapshot: str) -> str:
    kind = "recoveryPreviewJobs" if str(job.get("@odata.type", "")).endswith("recoveryPreviewJob") else "recoveryJobs"
    return f"{SNAPSHOTS}/{snapshot}/{kind}/{job['id']}" if snapshot else f"/directory/recovery/jobs/{job['id']}"


async def _start(g: Graph, t: Tenant, snapshot: str, what: str, criteria: dict[str, Any] | None,
                 progress: Progress) -> str:
    """The URL of a job for `snapshot`: a running preview job with the same scope is resumed; another
    running job (one per tenant) is waited for, then ours is created."""
    kind = "recoveryPreviewJobs" if what == "preview" else "recoveryJobs"
    want = (criteria or {}).get("filteringCriteria")
    for _ in range(3):
        busy = [j for j in await g.list_all("/directory/recovery/jobs") if j.get("status") not in TERMINAL]
        for j in busy:
            same = (what == "preview" and str(j.get("@odata.type", "")).endswith("recoveryPreviewJob")
                    and _norm_criteria(j.get("filteringCriteria")) == _norm_criteria(want))
            if same:
                progress(f"native preview job {j['id']} is already running with this scope: resuming it")
                return f"/directory/recovery/jobs/{j['id']}"
            progress(f"native job {j['id']} is running (one job per tenant): waiting for it")
            await _wait(g, f"/directory/recovery/jobs/{j['id']}", "other", progress)
        resp = await g.send("POST", f"{SNAPSHOTS}/{snapshot}/{kind}", body=criteria, idempotent=False)
        if resp.status == 202:
            return str(resp.headers.get("location") or resp.headers.get("Location"))
        if resp.status != 409:
            raise _refused(t, what, resp.error("POST", g.url(f"{SNAPSHOTS}/{snapshot}/{kind}")))
    raise EntragitError(f"tenant {t.name}: another native job keeps the tenant busy; try again later")


def _norm_criteria(c: Any) -> Any:
    if not isinstance(c, dict):
        return None
    values = c.get("filterValues")
    if isinstance(values, list):
        return sorted((str(v.get("entityType")), tuple(sorted(map(str, v.get("entityIds") or [])))) for v in values)
    return json.dumps(c, sort_keys=True)


def _pick(found: list[NativeSnapshot], snapshot: str | None, t: Tenant) -> NativeSnapshot:
    if not found:
        raise EntragitError(f"tenant {t.name}: no native snapshots yet (the service takes one a day)")
    if snapshot is None:
        return found[0]
    for s in found:
        if s.id == snapshot:
            return s
    raise EntragitError(f"tenant {t.name}: no native snapshot {snapshot}",
                        hint="`entragit native snapshots` lists the seven kept")


async def _snapshots(g: Graph, t: Tenant) -> list[NativeSnapshot]:
    try:
        return _states(await g.list_all(SNAPSHOTS), dt.datetime.now(dt.timezone.utc))
    except GraphError as e:
        raise _refused(t, "snapshot", e) from e


async def preview(g: Graph, t: Tenant, snapshot: str | None, ids: dict[str, list[str]] | None,
                  progress: Progress) -> Report:
    """Run (or resume) a difference report and read all its changes."""
    snap = _pick(await _snapshots(g, t), snapshot, t)
    if (why := _needs_admin(t, "preview", await _who(g))) is not None:
        raise why
    url = await _start(g, t, snap.id, "preview", _criteria(ids), progress)
    job = await _wait(g, url, "preview", progress)
    if job.get("status") != "successful":
        raise EntragitError(f"tenant {t.name}: native preview job {job.get('id')} ended {job.get('status')}")
    items = await g.list_all(f"{_job_url(g, job, snap.id)}/{NS}.getChanges", params={"$top": 999})
    return Report(t.name, snap, str(job["id"]), tuple(NativeChange.of(i) for i in items))


async def recover(g: Graph, t: Tenant, snapshot: str, ids: dict[str, list[str]],
                  progress: Progress) -> tuple[dict[str, Any], list[NativeChange]]:
    """Native recovery scoped to `ids` (never unscoped: that would soft-delete every newer object);
    the finished job and its failed changes."""
    if not any(ids.values()):
        raise EntragitError("nothing to recover natively")
    if sum(len(v) for v in ids.values()) > MAX_IDS:
        raise EntragitError(f"more than {MAX_IDS} objects for one native recovery job")
    if (why := _needs_admin(t, "recovery", await _who(g))) is not None:
        raise why
    url = await _start(g, t, snapshot, "recovery", _criteria(ids), progress)
    job = await _wait(g, url, "recovery", progress)
    failed: list[NativeChange] = []
    if job.get("status") == "successful" and job.get("totalFailedChanges"):
        items = await g.list_all(f"{_job_url(g, job, snapshot)}/{NS}.getFailedChanges", params={"$top": 999})
        failed = [NativeChange.of(i) for i in items]
    return job, failed


def session(t: Tenant) -> Graph:
    cred, token = auth.credential(t)
    return Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True)


# ---------------------------------------------------------------- native diff: rendering

ACTION_WORD = {"update": "update", "restore": "restore", "softDelete": "soft-delete"}


def _title(kind: str) -> str:
    from entragit import kinds as kindmod

    k = kindmod.BY_NAME.get(kind)
    return k.title if k else kind


def _short(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def notes(c: NativeChange) -> list[str]:
    """What a reviewer should weigh before recovering this change."""
    out = []
    if c.action == "softDelete":
        out.append("created after the snapshot: an unscoped recovery soft-deletes it (entragit only runs "
                   "recoveries scoped by object id)")
    if c.action == "restore":
        out.append("soft-deleted since the snapshot: recovery restores it with its original id")
    if c.kind == "conditionalAccessPolicies" and "state" in c.props:
        cur, then = c.props["state"]
        out.append(f"risk: Conditional Access enforcement changes ({cur} -> {then})")
    if "accountEnabled" in c.props:
        cur, then = c.props["accountEnabled"]
        out.append(f"risk: sign-in {'enabled' if then else 'blocked'} again (accountEnabled {cur} -> {then})")
    return out


def git_verdict(c: NativeChange, files: dict[str, dict[str, dict[str, Any]]] | None) -> str:
    """How the files at a git revision stand to this change: agree with the snapshot, with live, or neither."""
    if files is None:
        return ""
    body = files.get(c.kind, {}).get(c.id)
    if body is None:
        return "not in git" if c.action != "softDelete" else "not in git either"
    if c.action == "softDelete":
        return "git keeps it (a recovery would delete what git has)"
    common = [p for p in c.props if p in body]
    if not common:
        return "in git" if c.action == "restore" else "git does not hold these properties"
    if all(body[p] == c.props[p][1] for p in common):
        return "git agrees with the snapshot"
    if all(body[p] == c.props[p][0] for p in common):
        return "git agrees with live (recovery would undo a change git has)"
    return "git differs from both"


def render_diff(r: Report, fmt: str, names: dict[str, str], files: dict[str, dict[str, dict[str, Any]]] | None,
                rev: str = "") -> str:
    when = r.snapshot.taken_at.strftime("%Y-%m-%d %H:%M:%SZ")
    def member(i: str) -> str:
        return f"{names.get(i.lower(), '?')} ({i})"
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, "tenant": r.tenant, "snapshot": r.snapshot.id,
                           "takenAt": r.snapshot.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "job": r.job_id,
                           **({"rev": rev} if rev else {}), "changes": [
            {"id": c.id, "type": c.type, "kind": c.kind, "name": c.name, "action": c.action,
             "values": {p: {"current": cur, "snapshot": then} for p, (cur, then) in c.props.items()},
             "members": {"add": list(c.add_members), "remove": list(c.remove_members)},
             "notes": notes(c), **({"git": git_verdict(c, files)} if files is not None else {})}
            for c in r.changes]}, indent=2) + "\n"
    head = (f"native snapshot {r.snapshot.id} (taken {when}) vs live tenant {r.tenant}: "
            f"{len(r.changes) or 'no'} change{'s' if len(r.changes) != 1 else ''} (difference report {r.job_id})")
    if rev:
        head += f"; git at {rev}"
    if fmt == "markdown":
        lines = [f"**{head}**", "", "| action | object | what recovery writes (live → snapshot) | notes |",
                 "|---|---|---|---|"]
        for c in r.changes:
            what = "<br>".join([f"`{p}`: {_short(cur)} → {_short(then)}" for p, (cur, then) in c.props.items()]
                               + [f"+ member {member(m)}" for m in c.add_members]
                               + [f"− member {member(m)}" for m in c.remove_members])
            note = "<br>".join(notes(c) + ([git_verdict(c, files)] if files is not None else []))
            lines.append(f"| {ACTION_WORD.get(c.action, c.action)} | {_title(c.kind)} **{c.name}** (`{c.id}`) "
                         f"| {what} | {note} |")
        return "\n".join(lines) + "\n"
    lines = [head]
    for c in r.changes:
        lines.append(f"  {ACTION_WORD.get(c.action, c.action):<11} {_title(c.kind)} {c.name!r} ({c.id})")
        lines += [f"{'':14}{p}: {_short(cur)} -> {_short(then)}" for p, (cur, then) in c.props.items()]
        lines += [f"{'':14}+ member {member(m)}" for m in c.add_members]
        lines += [f"{'':14}- member {member(m)}" for m in c.remove_members]
        lines += [f"{'':14}{n}" for n in notes(c)]
        if files is not None:
            lines.append(f"{'':14}{git_verdict(c, files)}")
    return "\n".join(lines) + "\n"


def diff(root: Any, t: Tenant, snapshot: str | None, rev: str | None, fmt: str, progress: Progress) -> str:
    """`native diff`: a difference report of `snapshot` (default: the newest) against live, names
    from the files, optionally judged against the files at `rev`."""
    from entragit import reconcile
    from entragit.snapshot import id_names

    async def go() -> Report:
        async with session(t) as g:
            return await preview(g, t, snapshot, None, progress)

    report = asyncio.run(go())
    head = reconcile.desired_state(root, t, "HEAD") if _has_head(root) else None
    files = reconcile.desired_state(root, t, rev) if rev else None
    names = id_names(*[s for s in (head, files) if s is not None])
    names.update({c.id.lower(): c.name for c in report.changes})
    return render_diff(report, fmt, names, files.objects if files is not None else None, rev or "")


def _has_head(root: Any) -> bool:
    from entragit import gitstore

    return gitstore.head(root) is not None


# ---------------------------------------------------------------- plan marks: what native recovery could do

REMAP = "{new:"  # a plan placeholder: the new id of a recreated object


@dataclass(frozen=True)
class Mark:
    """Who can carry out one plan operation: `native` (recovery to the snapshot, original id) or `entragit`."""

    op: Any  # plan.Op
    by: str  # native | entragit
    why: str
    fields: tuple[str, ...] = ()  # native: the properties it restores


def _same(kind: str, field: str, a: Any, b: Any) -> bool:
    from entragit import kinds as kindmod
    from entragit import plan as planmod

    return planmod._norm(kindmod.get(kind), field, a) == planmod._norm(kindmod.get(kind), field, b)


def _wanted(ops: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, live id) -> the plan's writes to it: `body` (the PATCH), `restore`, `add` / `remove` members."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for op in ops:
        w = out.setdefault((op.kind, op.target), {"body": {}, "restore": False, "add": set(), "remove": set()})
        if op.action == "update":
            w["body"].update({k: v for k, v in op.body.items() if k != "@odata.type"})
        elif op.action == "restore":
            w["restore"] = True
        elif op.action in ("link", "unlink") and op.rel == "members":
            w["add" if op.action == "link" else "remove"].add(op.member)
    return out


def _agrees(c: NativeChange, want: dict[str, Any]) -> bool:
    """Does everything recovery would write to this object match what the plan writes? Then native
    recovery may do it (a property the plan leaves alone is already as git wants it)."""
    if c.action == "softDelete" or (c.action == "restore") != want["restore"]:
        return False
    if any(p not in want["body"] or not _same(c.kind, p, then, want["body"][p]) for p, (_, then) in c.props.items()):
        return False
    return set(c.add_members) <= want["add"] and set(c.remove_members) <= want["remove"]


def candidates(ops: list[Any]) -> dict[str, list[str]]:
    """Live ids, by kind, of the objects whose plan operations native recovery might carry out."""
    out: dict[str, set[str]] = {}
    for op in ops:
        if op.kind in KIND_OF.values() and op.target and op.action in ("restore", "update", "link", "unlink"):
            if op.action in ("link", "unlink") and (op.rel != "members" or op.kind != "groups"):
                continue
            if op.target.startswith("{new:"):
                continue
            out.setdefault(op.kind, set()).add(op.target)
    return {k: sorted(v) for k, v in out.items()}


def marks(ops: list[Any], report: Report) -> list[Mark]:
    """Each plan operation marked native (which properties) or entragit (why only entragit can)."""
    wanted = _wanted(ops)
    by_id = {(c.kind, c.id): c for c in report.changes}
    ok = {key for key, c in by_id.items() if key in wanted and _agrees(c, wanted[key])}
    out = []
    for op in ops:
        c = by_id.get((op.kind, op.target))
        if op.kind not in KIND_OF.values():
            out.append(Mark(op, "entragit", f"native backup does not cover {_title(op.kind)}s"))
        elif op.action == "create":
            why = ("hard-deleted: native recovery never creates objects; new id, references remapped"
                   if op.fate == "recreated" else "never existed in the tenant: written in git")
            out.append(Mark(op, "entragit", why))
        elif op.action in ("delete", "adopt"):
            out.append(Mark(op, "entragit", "native recovery only restores, updates and soft-deletes by snapshot"))
        elif REMAP in json.dumps(op.body, default=str) or REMAP in (op.member or ""):
            out.append(Mark(op, "entragit", "a reference to a recreated object: native recovery cannot remap it"))
        elif c is None:
            out.append(Mark(op, "entragit", "the snapshot holds the live state too (the change is older than the "
                                            "snapshot, or a property native does not cover)"))
        elif (op.kind, op.target) not in ok:
            out.append(Mark(op, "entragit", "native recovery would write values git does not want "
                                            "(or a reference to a recreated object)"))
        elif op.action == "restore":
            out.append(Mark(op, "native", "restore from soft delete, original id"))
        elif op.action == "update":
            fields = tuple(sorted(k for k in op.body if k != "@odata.type"))
            if not set(fields) <= set(c.props):
                out.append(Mark(op, "entragit", "properties native does not cover"))
            else:
                out.append(Mark(op, "native", "update back to the snapshot", fields))
        elif op.member in c.add_members or op.member in c.remove_members:
            out.append(Mark(op, "native", "static group membership"))
        else:
            out.append(Mark(op, "entragit", "not a membership change the snapshot holds"))
    return out


def native_ids(ms: list[Mark]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for m in ms:
        if m.by == "native":
            out.setdefault(m.op.kind, set()).add(m.op.target)
    return {k: sorted(v) for k, v in out.items()}


def render_marks(ms: list[Mark], report: Report, names: dict[str, str], fmt: str = "text") -> str:
    when = report.snapshot.taken_at.strftime("%Y-%m-%d %H:%M:%SZ")
    n = sum(m.by == "native" for m in ms)
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, "tenant": report.tenant, "snapshot": report.snapshot.id,
                           "takenAt": report.snapshot.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "job": report.job_id,
                           "operations": [{"action": m.op.action, "kind": m.op.kind, "key": m.op.key,
                                           "target": m.op.target or None, "name": m.op.name, "by": m.by,
                                           "why": m.why, "fields": list(m.fields),
                                           **({"member": m.op.member} if m.op.member else {})} for m in ms]},
                          indent=2) + "\n"
    lines = [f"Native backup: snapshot {report.snapshot.id} (taken {when}), difference report {report.job_id}"]
    for m in ms:
        what = f"{m.op.action} {_title(m.op.kind)} {m.op.name!r}"
        if m.op.member:
            what += f" member {names.get(m.op.member.lower(), m.op.member)}"
        extra = f": {', '.join(m.fields)}" if m.fields else ""
        lines.append(f"  {m.by:<9} {what}{extra}  ({m.why})")
    lines.append(f"{n} of {len(ms)} operation(s) native recovery can do with original ids; entragit does the rest.")
    return "\n".join(lines) + "\n"


def plan_marks(root: Any, t: Tenant, ref: str, snapshot: str | None, progress: Progress) -> tuple[Any, Report, list[Mark]]:
    """entragit's plan for `ref`, a difference report scoped to the objects it touches, and the marks."""
    from entragit import reconcile

    s = reconcile.plan(root, t, ref)
    ids = candidates(list(s.plan.ops))
    if sum(len(v) for v in ids.values()) > MAX_IDS:
        raise EntragitError(f"the plan touches more than {MAX_IDS} objects native recovery covers; "
                            "narrow it with `--only`")

    async def go() -> Report:
        async with session(t) as g:
            if not ids:
                snap = _pick(await _snapshots(g, t), snapshot, t)
                return Report(t.name, snap, "-", ())
            return await preview(g, t, snapshot, ids, progress)

    report = asyncio.run(go())
    return s, report, marks(list(s.plan.ops), report)


RECOVERY_TRAILER = "Entragit-Native-Recovery"  # `native apply --commit`: the recovery job id


def apply_via_native(root: Any, t: Tenant, ref: str, snapshot: str | None, yes: bool, echo: Any,
                     confirm: Any, progress: Progress) -> tuple[str, str]:
    """Native recovery for what it can do with original ids (scoped by object id), then entragit
    applies the rest; returns (recovery job id or "" when native had nothing to do, snapshot id).

    Refuses up front, before any write, when the sign-in cannot create recovery jobs."""
    from entragit import reconcile, render

    async def who() -> dict[str, Any]:
        async with session(t) as g:
            return await _who(g)

    if (why := _needs_admin(t, "recovery", asyncio.run(who()))) is not None:
        raise why
    s, report, ms = plan_marks(root, t, ref, snapshot, progress)
    names = s.names()
    echo(render.text(s.plan, names, s.risks))
    echo(render_marks(ms, report, names))
    if s.plan.empty:
        return "", report.snapshot.id
    if not yes and not confirm("Recover natively, then apply the rest?"):
        raise EntragitError("aborted; nothing was written")
    ids, job_id = native_ids(ms), ""
    if ids:
        async def go() -> tuple[dict[str, Any], list[NativeChange]]:
            async with session(t) as g:
                return await recover(g, t, report.snapshot.id, ids, progress)

        job, failed = asyncio.run(go())
        job_id = str(job.get("id"))
        echo(f"native recovery {job_id}: {job.get('status')}, {job.get('totalObjectsModified') or 0} object(s) and "
             f"{job.get('totalLinksModified') or 0} link(s) restored, {len(failed)} failed")
        for f in failed:
            echo(f"  FAILED {_title(f.kind)} {f.name!r} ({f.id}): {f.failure} (entragit retries it)")
        if job.get("status") != "successful":
            echo(f"native recovery ended {job.get('status')}: entragit does all of the plan")
    rest = reconcile.plan(root, t, ref)
    if not rest.plan.empty:
        echo("entragit does the rest:")
        echo(render.text(rest.plan, rest.names(), rest.risks))
        result, stats = reconcile.apply(root, t, rest, on_op=lambda o: echo(
            f"  {'ok ' if o.ok else 'FAILED'} {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}"))
        echo(f"Applied {len(result.outcomes) - len(result.failed)}/{len(result.outcomes)} operations "
             f"({stats.writes} write requests).")
        if result.failed:
            raise EntragitError(f"{len(result.failed)} operation(s) failed; fix and rerun (it resumes safely)")
    second = reconcile.plan(root, t, ref)
    if not second.plan.empty:
        raise EntragitError(f"the tenant still differs from the files after the recovery: "
                            f"{len(second.plan.ops)} operation(s) left", hint="run `entragit plan` to see them")
    echo("Second plan: no changes.")
    return job_id, report.snapshot.id


def commit_message(t: Tenant, ref: str, job_id: str, snapshot: str) -> str:
    """The re-export's commit after `native apply`: recovery writes emit no change notifications or
    delta records, so a full export is what records them; the trailers link the native job."""
    lines = [f"{t.name}: native apply {ref[:10]}", ""]
    if job_id:
        lines.append(f"{RECOVERY_TRAILER}: {job_id}")
    lines.append(f"{TRAILER}: {snapshot}")
    return "\n".join(lines) + "\n"

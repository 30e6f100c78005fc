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
from entragit.errors import AnswerLost, EntragitError, GraphError
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
            raise EntragitError(f"tenant {t.name}: Graph has no native backup here ({e.status} {e.code}); Entra "
                                "Backup and Recovery needs Entra ID P1 or P2, a workforce tenant, the global cloud") from e
        raise
    return _states(items, now or dt.datetime.now(dt.timezone.utc))


async def latest_in(g: Graph) -> tuple[str | None, str]:
    """(newest snapshot id or None, a warning or ""), read with the export's own client. A token
    without the permission, or a tenant without the feature, is the usual case and only logs one
    debug line; another failure is a warning, never a failed export."""
    try:
        items = await g.list_all(SNAPSHOTS)
    except GraphError as e:
        if e.status == 403 or e.status in ABSENT:
            log.debug("no native snapshot trailer (%s %s)", e.status, e.code)
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
GLOBAL_ADMIN_ID = "62e90394-69f5-4237-9190-012177145e10"  # holds every backup action too
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


async def claims(g: Graph) -> dict[str, Any]:
    return auth.decode_claims(await g.access_token()) or {}


def needs_admin(t: Tenant, what: str, who: dict[str, Any]) -> EntragitError | None:
    """Why this sign-in (its token claims) cannot create `what` jobs, or None. App-only tokens never can."""
    scope = PREVIEW_SCOPE if what == "preview" else RECOVERY_SCOPE
    if who.get("idtyp") == "app" or ("scp" not in who and "roles" in who):
        return EntragitError(
            f"tenant {t.name}: native {what} jobs need a signed-in {BACKUP_ADMIN_ROLE}; an application cannot "
            f"create them ({scope} is a delegated permission only)",
            hint=f"sign in as a person holding the {BACKUP_ADMIN_ROLE} role: `entragit tenant add {t.name} "
                 "--auth device-code` (or azure-cli)")
    wids = set(who.get("wids") or ())
    if who.get("scp") is not None and scope not in str(who.get("scp")).split():
        return EntragitError(f"tenant {t.name}: the sign-in lacks the delegated scope {scope}",
                             hint="consent it for the client you sign in with (`entragit permissions --native`)")
    if wids and not wids & {BACKUP_ADMIN_ID, GLOBAL_ADMIN_ID}:
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


def _job_url(job: dict[str, Any], snapshot: str) -> str:
    kind = "recoveryPreviewJobs" if str(job.get("@odata.type", "")).endswith("recoveryPreviewJob") else "recoveryJobs"
    return f"{SNAPSHOTS}/{snapshot}/{kind}/{job['id']}" if snapshot else f"/directory/recovery/jobs/{job['id']}"


async def _start(g: Graph, t: Tenant, snap: NativeSnapshot, what: str, criteria: dict[str, Any] | None,
                 progress: Progress) -> str:
    """The URL of a job for `snap`: a running preview job of it with the same scope is resumed;
    another running job (one per tenant) is waited for, then ours is created."""
    kind = "recoveryPreviewJobs" if what == "preview" else "recoveryJobs"
    snapshot = snap.id
    want = (criteria or {}).get("filteringCriteria")
    for _ in range(3):
        before = await g.list_all("/directory/recovery/jobs")
        busy = [j for j in before if j.get("status") not in TERMINAL]
        for j in busy:
            same = (what == "preview" and str(j.get("@odata.type", "")).endswith("recoveryPreviewJob")
                    and _when(str(j.get("targetStateDateTime") or "1970-01-01")) == snap.taken_at
                    and _norm_criteria(j.get("filteringCriteria")) == _norm_criteria(want))
            if same:
                progress(f"native preview job {j['id']} is already running with this scope: resuming it")
                return f"/directory/recovery/jobs/{j['id']}"
            progress(f"native job {j['id']} is running (one job per tenant): waiting for it")
            await _wait(g, f"/directory/recovery/jobs/{j['id']}", "running", progress)
        try:
            resp: Any = await g.send("POST", f"{SNAPSHOTS}/{snapshot}/{kind}", body=criteria, idempotent=False)
        except AnswerLost:
            resp = None
        if resp is not None and resp.status == 202:
            return str(resp.headers.get("location") or resp.headers.get("Location"))
        if resp is None or resp.status >= 500:
            # The answer was lost, not the job: a recovery cannot be undone, so one that landed is
            # found and followed, never created twice.
            seen = {str(j.get("id")) for j in before}
            if (url := await _landed(g, what, snap, want, seen)) is not None:
                progress(f"native {what} job: the answer to its creation was lost; found it, following it")
                return url
            continue
        if resp.status != 409:
            raise _refused(t, what, resp.error("POST", g.url(f"{SNAPSHOTS}/{snapshot}/{kind}")))
    raise EntragitError(f"tenant {t.name}: another native job keeps the tenant busy; try again later")


async def _landed(g: Graph, what: str, snap: NativeSnapshot, want: Any, seen: set[str]) -> str | None:
    """The URL of a job of ours that was created although its answer was lost: one not among
    `seen`, of the same type, snapshot and scope."""
    suffix = "recoveryPreviewJob" if what == "preview" else "recoveryJob"
    for j in await g.list_all("/directory/recovery/jobs"):
        if (str(j.get("id")) not in seen and str(j.get("@odata.type", "")).endswith(suffix)
                and _when(str(j.get("targetStateDateTime") or "1970-01-01")) == snap.taken_at
                and _norm_criteria(j.get("filteringCriteria")) == _norm_criteria(want)):
            return f"/directory/recovery/jobs/{j['id']}"
    return None


def _norm_criteria(c: Any) -> Any:
    if not isinstance(c, dict):
        return None
    values = c.get("filterValues")
    if isinstance(values, list):
        return sorted((str(v.get("entityType")), tuple(sorted(map(str, v.get("entityIds") or [])))) for v in values)
    return json.dumps(c, sort_keys=True)


def pick(found: list[NativeSnapshot], snapshot: str | None, t: Tenant) -> NativeSnapshot:
    if not found:
        raise EntragitError(f"tenant {t.name}: no native snapshots yet (the service takes one a day)")
    if snapshot is None:
        return found[0]
    for s in found:
        if s.id == snapshot:
            return s
    raise EntragitError(f"tenant {t.name}: no native snapshot {snapshot}",
                        hint="`entragit native snapshots` lists the seven kept")


async def read_snapshots(g: Graph, t: Tenant) -> list[NativeSnapshot]:
    try:
        return _states(await g.list_all(SNAPSHOTS), dt.datetime.now(dt.timezone.utc))
    except GraphError as e:
        raise _refused(t, "snapshot", e) from e


def batches(ids: dict[str, list[str]]) -> list[dict[str, list[str]]]:
    """`ids` in scopes of at most MAX_IDS ids each (one job per scope, one after another)."""
    flat = [(k, i) for k in sorted(ids) for i in ids[k]]
    out = []
    for n in range(0, len(flat), MAX_IDS):
        chunk: dict[str, list[str]] = {}
        for k, i in flat[n:n + MAX_IDS]:
            chunk.setdefault(k, []).append(i)
        out.append(chunk)
    return out


async def preview(g: Graph, t: Tenant, snapshot: str | None, ids: dict[str, list[str]] | None,
                  progress: Progress) -> Report:
    """Run (or resume) a difference report and read all its changes; scoped to `ids` (one report per
    MAX_IDS of them) or, without, of everything the snapshot covers."""
    snap = pick(await read_snapshots(g, t), snapshot, t)
    if (why := needs_admin(t, "preview", await claims(g))) is not None:
        raise why
    jobs, changes = [], []
    for scope in batches(ids) if ids else [None]:
        url = await _start(g, t, snap, "preview", _criteria(scope), progress)
        job = await _wait(g, url, "preview", progress)
        if job.get("status") != "successful":
            raise EntragitError(f"tenant {t.name}: native preview job {job.get('id')} ended {job.get('status')}")
        items = await g.list_all(f"{_job_url(job, snap.id)}/{NS}.getChanges", params={"$top": 999})
        jobs.append(str(job["id"]))
        changes += [NativeChange.of(i) for i in items]
    return Report(t.name, snap, " ".join(jobs), tuple(changes))


async def recover(g: Graph, t: Tenant, snap: NativeSnapshot, ids: dict[str, list[str]],
                  progress: Progress) -> list[tuple[dict[str, Any], list[NativeChange]]]:
    """Native recovery scoped to `ids`, one job per MAX_IDS of them (never unscoped: that would
    soft-delete every newer object); each finished job with its failed changes."""
    if not any(ids.values()):
        raise EntragitError("nothing to recover natively")
    if (why := needs_admin(t, "recovery", await claims(g))) is not None:
        raise why
    out = []
    for scope in batches(ids):
        url = await _start(g, t, snap, "recovery", _criteria(scope), progress)
        job = await _wait(g, url, "recovery", progress)
        failed: list[NativeChange] = []
        if job.get("status") == "successful" and job.get("totalFailedChanges"):
            items = await g.list_all(f"{_job_url(job, snap.id)}/{NS}.getFailedChanges", params={"$top": 999})
            failed = [NativeChange.of(i) for i in items]
        out.append((job, failed))
    return out


def session(t: Tenant) -> Graph:
    cred, token = auth.credential(t)
    return Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True)


# ---------------------------------------------------------------- native diff: rendering

ACTION_WORD = {"update": "update", "restore": "restore", "softDelete": "soft-delete"}


def title(kind: str) -> str:
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
            lines.append(f"| {ACTION_WORD.get(c.action, c.action)} | {title(c.kind)} **{c.name}** (`{c.id}`) "
                         f"| {what} | {note} |")
        return "\n".join(lines) + "\n"
    lines = [head]
    for c in r.changes:
        lines.append(f"  {ACTION_WORD.get(c.action, c.action):<11} {title(c.kind)} {c.name!r} ({c.id})")
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


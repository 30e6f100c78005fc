"""Microsoft Entra Backup and Recovery jobs: difference reports (preview jobs) and recoveries.

Follows https://learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview:
POST /directory/recovery/snapshots/{id}/recoveryPreviewJobs | recoveryJobs answers 202 with a
Location and no body; the job then moves initialized -> loadingData -> calculating (preview) or
running (recovery) -> successful | failed, or abandoned by cancel. One job per tenant at a time: a
second POST while one is not terminal answers 409. getChanges (preview) and getFailedChanges
(recovery) page the change objects; v1.0 names the bound operations namespace-qualified, beta
unqualified, and both forms are accepted.

Time: jobs run on the simulated clock (backup.Clock). It stands still between test steps, so a
client polling a job would wait forever; each read of an unfinished job therefore also counts as
POLL_SECONDS of simulated time for that job, as if the caller had waited its poll interval.
Advancing the clock finishes a job at once. `Router.job_seconds` sets how long a job's work takes.

What a job compares: the snapshot's copy of the supported objects with the live tenant, on the
recoverable properties only (https://learn.microsoft.com/entra/backup/scope-supported-objects-limitations),
group membership the one link kind. Hard-deleted objects never appear; objects created after the
snapshot are soft-deleted by an unscoped recovery; soft-deleted ones are restored with their ids
(https://learn.microsoft.com/entra/backup/backup-difference-report-recovery-model). Not modelled:
authentication methods policy, grants, app role assignments and organization settings."""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from entragit_sim import backup
from entragit_sim.auth import ADMIN
from entragit_sim.errors import GraphHTTPError, bad_request
from entragit_sim.hooks import Ctx, hook_for
from entragit_sim.store import Obj
from entragit_sim.table import BY_NAME
from entragit_sim.wire import Request, Response, Route, ctx_url, method_not_allowed, route

NS = "microsoft.graph.entraRecoveryServices"
PREVIEW_TYPE = f"#{NS}.recoveryPreviewJob"
RECOVERY_TYPE = f"#{NS}.recoveryJob"
NAMES_FILTER = f"#{NS}.recoveryJobEntityNamesFilter"
IDS_FILTER = f"#{NS}.recoveryJobEntityNameAndIdsFilter"
TERMINAL = ("successful", "failed", "abandoned")
FUNCTION = {"recoveryPreviewJobs": "getChanges", "recoveryJobs": "getFailedChanges"}  # bound to each job type
HIDDEN_STATES = ("loadingData", "calculating")  # evolvable members: only with the Prefer header
LOAD_SECONDS = 60  # loadingData, skipped when a job already loaded the same snapshot
POLL_SECONDS = 60  # simulated time one read of an unfinished job stands for
JOB_SECONDS = 120  # calculating / running
JOB_RETENTION = dt.timedelta(days=7)  # jobs are kept seven days after completion (troubleshooting)
MAX_IDS = 100  # the portal's limit on ids across types; the API's is UNCONFIRMED, the docs suggest 400
BUSY = "A recovery job is currently in progress. Wait for it to complete before initiating a new job."
DENIED = "Authorization has been denied for this request. Check your credentials."

# Roles (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference):
# creating and cancelling jobs is for Backup Administrator (and Global Administrator, which holds
# every backup action); the v1.0 create-preview page requires the administrator, so previews are
# administrator-only here too.
BACKUP_ADMINISTRATOR = "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb"
BACKUP_READER = "f42252d9-5400-4d7b-b9ef-cc582dbb8577"
GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10"
READ = "EntraBackup.Read.All"
PREVIEW = "EntraBackup.ReadWrite.Preview"  # delegated only
RECOVERY = "EntraBackup.ReadWrite.Recovery"  # delegated only

# Store collection -> (resourceTypeName, @odata.type, recoverable Graph properties or None = all
# but the read-only ones). Names mapped from the directory-internal list in the supported-objects page.
SUPPORTED: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "users": ("user", "#microsoft.graph.user", (
        "accountEnabled", "ageGroup", "city", "companyName", "consentProvidedForMinor", "country", "department",
        "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData",
        "employeeType", "faxNumber", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "otherMails",
        "passwordPolicies", "officeLocation", "postalCode", "preferredDataLocation", "preferredLanguage", "state",
        "streetAddress", "surname", "businessPhones", "usageLocation", "userPrincipalName", "userType")),
    "groups": ("group", "#microsoft.graph.group", (
        "classification", "description", "displayName", "groupTypes", "visibility", "mail", "mailEnabled",
        "mailNickname", "preferredDataLocation", "preferredLanguage", "securityEnabled", "theme")),
    "conditionalAccessPolicies": ("conditionalAccessPolicy", "#microsoft.graph.conditionalAccessPolicy", None),
    "namedLocations": ("namedLocationPolicy", "#microsoft.graph.namedLocation", None),
    "authorizationPolicy": ("authorizationPolicy", "#microsoft.graph.authorizationPolicy",
                            ("blockMsolPowerShell", "guestUserRoleId")),
    "applications": ("application", "#microsoft.graph.application", (
        "displayName", "description", "notes", "tags", "identifierUris", "isFallbackPublicClient", "publicClient",
        "publisherDomain", "isDeviceOnlyAuthSupported", "serviceManagementReference", "requiredResourceAccess",
        "nativeAuthenticationApisEnabled", "signInAudience", "groupMembershipClaims", "optionalClaims",
        "isDisabled", "addIns", "servicePrincipalLockConfiguration", "info")),
    "servicePrincipals": ("servicePrincipal", "#microsoft.graph.servicePrincipal", (
        "accountEnabled", "alternativeNames", "appRoleAssignmentRequired", "description", "loginUrl", "notes",
        "notificationEmailAddresses", "preferredTokenSigningKeyThumbprint", "tags", "servicePrincipalType",
        "preferredSingleSignOnMode", "publisherName", "samlSingleSignOnSettings", "servicePrincipalNames")),
}  # fmt: skip
BY_TYPE = {v[0]: k for k, v in SUPPORTED.items()}
READ_ONLY = ("id", "createdDateTime", "modifiedDateTime", "deletedDateTime", "templateId")
SOFT_DELETABLE = ("users", "groups", "applications", "servicePrincipals")  # directory/deletedItems


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(kind: str, *objs: Obj) -> list[str]:
    listed = SUPPORTED[kind][2]
    if listed is not None:
        return list(listed)
    return sorted({k for o in objs for k in o if k not in READ_ONLY and not k.startswith("@")})


class Recovery(backup.Backup):
    """Preview and recovery jobs; mixed into the Router next to Backup (snapshots)."""

    clock: backup.Clock
    job_seconds: int = JOB_SECONDS
    # The docs disagree whether a Backup Reader may create difference reports (the role catalogue
    # and the beta page say yes, the v1.0 page says Backup Administrator): administrator-only
    # unless this is set.
    reader_previews: bool = False
    # Failure injection (assign a dict on the router): object id -> the failureMessage its recovery change fails with.
    recovery_failures: Mapping[str, str] = MappingProxyType({})

    def _recovery_routes(self) -> list[Route]:
        """perms=None: each handler checks the caller itself (delegated-only writes, the backup roles)."""
        snap = r"directory/recovery/snapshots/(?P<snap>[^/]+)"
        op = rf"(?:{re.escape(NS)}\.)?"
        job = r"(?P<job>[^/]+)"
        return [
            route("directory/recovery/jobs", "directory/recovery/jobs", "none", self._jobs_list, ("GET",)),
            route("directory/recovery/jobs/{id}/cancel", rf"directory/recovery/jobs/{job}/{op}cancel", "none",
                  self._job_cancel, ("POST",)),
            route("directory/recovery/jobs/{id}", rf"directory/recovery/jobs/{job}", "none", self._job_get, ("GET",)),
            *[r for kind in ("recoveryPreviewJobs", "recoveryJobs") for r in (
                route(f"directory/recovery/snapshots/{{id}}/{kind}", rf"{snap}/(?P<kind>{kind})", "none",
                      self._snap_jobs, ("GET", "POST")),
                route(f"directory/recovery/snapshots/{{id}}/{kind}/{{id}}/cancel",
                      rf"{snap}/(?P<kind>{kind})/{job}/{op}cancel", "none", self._job_cancel, ("POST",)),
                route(f"directory/recovery/snapshots/{{id}}/{kind}/{{id}}/{FUNCTION[kind]}",
                      rf"{snap}/(?P<kind>{kind})/{job}/{op}(?P<fn>getChanges|getFailedChanges)", "none",
                      self._job_changes, ("GET",)),
                route(f"directory/recovery/snapshots/{{id}}/{kind}/{{id}}", rf"{snap}/(?P<kind>{kind})/{job}",
                      "none", self._job_get, ("GET",)),
            )],
        ]  # fmt: skip

    # -- permissions ------------------------------------------------------------------------------
    def _may_read(self, req: Request) -> None:
        self._backup_here()
        # EntraBackup.Read.All, delegated or application; the ReadWrite scopes "read snapshots" too.
        if not any(req.caller.has(p) for p in (READ, PREVIEW, RECOVERY)):
            raise GraphHTTPError(403, "Forbidden", DENIED)

    def _may_write(self, req: Request, scope: str) -> None:
        # Delegated only: no application permission creates or cancels jobs
        # (https://learn.microsoft.com/graph/api/entrarecoveryservices-snapshot-post-recoveryjobs).
        self._backup_here()
        c = req.caller
        if c.admin:
            return
        if c.delegated and scope == PREVIEW and self.reader_previews and scope in c.roles and c.has_role(BACKUP_READER):
            return
        if not c.delegated or not c.has(scope) or not c.has_role(BACKUP_ADMINISTRATOR, GLOBAL_ADMINISTRATOR):
            raise GraphHTTPError(403, "Forbidden", DENIED)

    # -- the job store ----------------------------------------------------------------------------
    def _tick(self) -> None:
        """Bring every job up to the simulated clock; drop those completed more than seven days ago (lock held)."""
        for job in list(self.store.backup_jobs.values()):
            self._progress(job, polled=False)
            done = job.get("jobCompletionDateTime")
            if done and backup.parse_now(done) + JOB_RETENTION < self.clock.now:
                del self.store.backup_jobs[job["id"]]

    def _progress(self, job: Obj, polled: bool) -> None:
        if job["status"] in TERMINAL:
            return
        if polled:
            job["_polls"] += 1
        elapsed = (self.clock.now - backup.parse_now(job["jobStartDateTime"])).total_seconds()
        elapsed += job["_polls"] * POLL_SECONDS
        load = 0 if job["_loaded"] else LOAD_SECONDS
        if elapsed >= load + self.job_seconds:
            self._finish(job)
        elif elapsed > load:
            job["status"] = "calculating" if job["@odata.type"] == PREVIEW_TYPE else "running"
        elif elapsed > 0:
            job["status"] = "loadingData"

    def _finish(self, job: Obj) -> None:
        snap = next((s for s in self.store.backups if s["id"] == job["_snapshot"]), None)
        changes = compare(self.store, snap, job["filteringCriteria"], self.clock) if snap else []
        job["_changes"] = changes
        job["totalChangedObjectsCalculated"] = len(changes)
        job["totalChangedLinksCalculated"] = sum(_links(c) for c in changes)
        job["status"] = "successful"
        job["jobCompletionDateTime"] = self.clock.iso()
        if job["@odata.type"] == RECOVERY_TYPE:
            failed = [f for c in changes if (f := self._recover_one(snap or {}, c)) is not None]
            job["_failed"] = failed
            job["totalFailedChanges"] = len(failed)
            job["totalObjectsModified"] = len(changes) - len(failed)
            job["totalLinksModified"] = sum(_links(c) for c in changes if c not in failed)

    def _recover_one(self, snap: Obj, change: Obj) -> Obj | None:
        injected = self.recovery_failures.get(change["id"])
        if injected:
            return {**change, "failureMessage": injected}
        return recover(self.store, snap, change, self.clock)

    def _job(self, req: Request, key: str, kind: str | None = None) -> Obj:
        job = self.store.backup_jobs.get(key)
        want = {None: None, "recoveryPreviewJobs": PREVIEW_TYPE, "recoveryJobs": RECOVERY_TYPE}[kind]
        if job is None or (want and job["@odata.type"] != want):
            raise GraphHTTPError(404, "NotFound", f"Job with identifier {key} not found.")
        return job

    def _public(self, req: Request, job: Obj) -> Obj:
        out = {k: copy.deepcopy(v) for k, v in job.items() if not k.startswith("_")}
        prefer = (req.header("prefer") or "").lower()
        if out["status"] in HIDDEN_STATES and "include-unknown-enum-members" not in prefer:
            out["status"] = "unknownFutureValue"
        return out

    # -- handlers ---------------------------------------------------------------------------------
    def _jobs_list(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        self._may_read(req)
        with self.store.lock:
            self._tick()
            items = [self._public(req, j) for j in self.store.backup_jobs.values()]
        return self._page(req, items, "directory/recovery/jobs", directory=False)

    def _job_get(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        self._may_read(req)
        with self.store.lock:
            job = self._job(req, m.group("job"), m.groupdict().get("kind"))
            self._progress(job, polled=True)
            out = self._public(req, job)
        return Response(200, {"@odata.context": ctx_url(req, "directory/recovery/jobs/$entity"), **out})

    def _snap_jobs(self, req: Request, m: re.Match[str]) -> Response:
        kind = m.group("kind")
        snap_id = m.group("snap")
        with self.store.lock:
            if not any(s["id"] == snap_id for s in self.store.backups):
                raise GraphHTTPError(404, "NotFound", backup.INVALID_SNAPSHOT)
            if req.method == "GET":
                self._may_read(req)
                self._tick()
                want = PREVIEW_TYPE if kind == "recoveryPreviewJobs" else RECOVERY_TYPE
                items = [self._public(req, j) for j in self.store.backup_jobs.values()
                         if j["@odata.type"] == want and j["_snapshot"] == snap_id]
                return self._page(req, items, f"directory/recovery/snapshots('{snap_id}')/{kind}", directory=False)
            if req.method != "POST":
                raise method_not_allowed()
            self._may_write(req, PREVIEW if kind == "recoveryPreviewJobs" else RECOVERY)
            criteria = _criteria(req.body)
            self._tick()
            if any(j["status"] not in TERMINAL for j in self.store.backup_jobs.values()):
                raise GraphHTTPError(409, "Conflict", BUSY)
            job = self._new_job(kind, snap_id, criteria)
        return Response(202, None, {"Location": f"{req.root}/directory/recovery/snapshots/{snap_id}/{kind}/{job['id']}"})

    def _new_job(self, kind: str, snap_id: str, criteria: Obj | None) -> Obj:
        snap = next(s for s in self.store.backups if s["id"] == snap_id)
        loaded = any(j["_snapshot"] == snap_id for j in self.store.backup_jobs.values())
        job: Obj = {
            "@odata.type": PREVIEW_TYPE if kind == "recoveryPreviewJobs" else RECOVERY_TYPE,
            "id": str(uuid.uuid4()), "status": "initialized", "targetStateDateTime": snap["createdDateTime"],
            "jobStartDateTime": self.clock.iso(), "jobCompletionDateTime": None, "filteringCriteria": criteria,
            "totalChangedObjectsCalculated": None, "totalChangedLinksCalculated": None,
            "_snapshot": snap_id, "_polls": 0, "_loaded": loaded, "_changes": [], "_failed": [],
        }  # fmt: skip
        if kind == "recoveryJobs":
            job.update(totalObjectsModified=None, totalLinksModified=None, totalFailedChanges=None)
        self.store.backup_jobs[job["id"]] = job
        return job

    def _job_changes(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        self._may_read(req)
        kind, fn = m.group("kind"), m.group("fn")
        if (kind, fn) not in (("recoveryPreviewJobs", "getChanges"), ("recoveryJobs", "getFailedChanges")):
            raise bad_request(f"Resource not found for the segment '{fn}'.")
        with self.store.lock:
            job = self._job(req, m.group("job"), kind)
            self._progress(job, polled=True)
            if job["status"] != "successful":
                raise bad_request(f"Job with identifier {job['id']} must have completed successfully prior to "
                                  "enumerating changes.")
            items = copy.deepcopy(job["_failed"] if fn == "getFailedChanges" else job["_changes"])
        ctx = f"Collection({NS}.recoveryChangeObjectBase)"
        return self._page(req, items, ctx, directory=False)

    def _job_cancel(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise method_not_allowed()
        with self.store.lock:
            job = self._job(req, m.group("job"), m.groupdict().get("kind"))
            self._may_write(req, PREVIEW if job["@odata.type"] == PREVIEW_TYPE else RECOVERY)
            self._progress(job, polled=False)
            if job["status"] in TERMINAL:
                raise bad_request(f"Job with identifier {job['id']} has already completed ({job['status']}).")
            # Changes a recovery applied stay applied; this one applies nothing before it finishes.
            job["status"] = "abandoned"
            job["jobCompletionDateTime"] = self.clock.iso()
        return Response(202, None, {"Location": f"{req.root}/directory/recovery/jobs/{job['id']}"})


def _criteria(body: Any) -> Obj | None:
    """The optional filteringCriteria, validated as recoveryJobEntityNameAndIdsFilter documents."""
    if body in (None, b"", ""):
        return None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    crit = body.get("filteringCriteria")
    if crit is None:
        return None
    kind = crit.get("@odata.type") if isinstance(crit, dict) else None
    if kind == NAMES_FILTER:
        types = crit.get("entityTypes")
        if not isinstance(types, list) or any(t not in BY_TYPE for t in types):
            raise bad_request(f"entityTypes must list supported resource types: {', '.join(BY_TYPE)}.")
        return copy.deepcopy(crit)
    if kind != IDS_FILTER:
        raise bad_request(f"filteringCriteria must be a {NAMES_FILTER[1:]} or a {IDS_FILTER[1:]}.")
    values = crit.get("filterValues")
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise bad_request("filterValues must be a list of {entityType, entityIds}.")
    seen = [v.get("entityType") for v in values]
    if len(seen) != len(set(seen)):
        raise bad_request("Each entityType may appear only once in filterValues.")
    if any(t not in BY_TYPE for t in seen):
        raise bad_request(f"entityType must be a supported resource type: {', '.join(BY_TYPE)}.")
    if sum(len(v.get("entityIds") or []) for v in values) > MAX_IDS:
        raise bad_request(f"At most {MAX_IDS} object ids may be scoped in one job.")
    return copy.deepcopy(crit)


def _in_scope(criteria: Obj | None) -> Callable[[str, str], bool]:
    if criteria is None:
        return lambda kind, oid: True
    if criteria["@odata.type"] == NAMES_FILTER:
        types = {BY_TYPE[t] for t in criteria["entityTypes"]}
        return lambda kind, oid: kind in types
    ids = {(BY_TYPE[v["entityType"]], str(i).lower()) for v in criteria["filterValues"] for i in v["entityIds"]}
    return lambda kind, oid: (kind, oid.lower()) in ids


def _links(change: Obj) -> int:
    return len(change["deltaFromCurrent"].get("members@delta") or [])


def _deleted(store: Any, kind: str, oid: str) -> Obj | None:
    for box in store.deleted.values():
        entry = box.get(oid)
        if entry is not None and entry["kind"] == kind:
            return dict(entry["object"])
    return None


def _seen(store: Any, kind: str, obj: Obj) -> Obj:
    """An object as Graph shows it (stored forms differ from read forms, e.g. CA grant controls)."""
    res = BY_NAME[kind]
    return dict(hook_for(res).on_read(Ctx(store, ADMIN, "beta"), res, copy.deepcopy(obj)))


def compare(store: Any, snap: Obj, criteria: Obj | None, clock: backup.Clock) -> list[Obj]:
    """The change objects: what recovery to `snap` would do to the live tenant now (lock held)."""
    scoped = _in_scope(criteria)
    out: list[Obj] = []
    for kind, (type_name, odata, _) in SUPPORTED.items():
        then = snap["objects"].get(kind, {})
        live = store.objects.get(kind, {})
        for oid, old in then.items():
            if not scoped(kind, oid):
                continue
            now, gone = live.get(oid), None
            if now is None:
                gone = _deleted(store, kind, oid)
                if gone is None:
                    continue  # hard-deleted: not recoverable, not reported
            cur = _seen(store, kind, now if now is not None else gone or {})
            old = _seen(store, kind, old)
            fields = [f for f in _fields(kind, old, cur) if old.get(f) != cur.get(f)]
            delta = {"@odata.type": odata, **{f: copy.deepcopy(old.get(f)) for f in fields}}
            state = {"@odata.type": odata, **{f: copy.deepcopy(cur.get(f)) for f in fields}}
            if kind == "groups":
                members = _member_delta(snap, store, oid)
                if members:
                    delta["members@delta"] = members
            if gone is not None:
                delta["deletedDateTime"], state["deletedDateTime"] = None, gone.get("deletedDateTime")
                out.append(_change(type_name, oid, cur, "restore", delta, state))
            elif len(delta) > 1:
                out.append(_change(type_name, oid, cur, "update", delta, state))
        if kind not in SOFT_DELETABLE:
            continue
        for oid, obj in live.items():
            if oid not in then and scoped(kind, oid):
                # Created after the snapshot: recovery soft-deletes it.
                delta = {"@odata.type": odata, "@removed": {"reason": "changed"}, "deletedDateTime": clock.iso()}
                out.append(_change(type_name, oid, obj, "softDelete", delta,
                                   {"@odata.type": odata, "deletedDateTime": None}))
    return out


def _member_delta(snap: Obj, store: Any, gid: str) -> list[Obj]:
    then = snap["links"].get(f"groups/{gid}/members", [])
    now = store.links.get(f"groups/{gid}/members", [])
    add = [{"id": m} for m in then if m not in now and store.find_directory_object(m) is not None]
    drop = [{"id": m, "@removed": {"reason": "changed"}} for m in now if m not in then]
    return add + drop


def _change(type_name: str, oid: str, cur: Obj, action: str, delta: Obj, state: Obj) -> Obj:
    return {"@odata.type": f"#{NS}.recoveryChangeObjectBase", "id": oid, "entityTypeName": type_name,
            "displayName": cur.get("displayName"), "recoveryAction": action, "failureMessage": None,
            "deltaFromCurrent": delta, "currentState": state}  # fmt: skip


def recover(store: Any, snap: Obj, change: Obj, clock: backup.Clock) -> Obj | None:
    """Apply one change (lock held); the change with a failureMessage when it cannot be applied.

    Writes no audit record a change notification would follow: recovery emits none
    (https://learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview)."""
    kind, oid = BY_TYPE[change["entityTypeName"]], change["id"]
    # The snapshot's stored form of the fields the change names (the change shows the read form).
    stored = snap.get("objects", {}).get(kind, {}).get(oid, {})
    delta = {k: stored.get(k) for k in change["deltaFromCurrent"]
             if not k.startswith("@") and "@" not in k and k != "deletedDateTime"}
    live = store.objects[kind].get(oid)
    if live is not None and live.get("onPremisesSyncEnabled"):
        return None  # synced from on-premises: shown in the report, excluded from recovery
    action = change["recoveryAction"]
    if action == "softDelete":
        if live is None:
            return {**change, "failureMessage": "Soft delete failed: the object no longer exists."}
        store.objects[kind].pop(oid)
        store.deleted["directory"][oid] = {"kind": kind, "object": {**live, "deletedDateTime": clock.iso()}}
        return None
    if action == "restore":
        box = next((b for b in store.deleted.values() if oid in b), None)
        if box is None:
            return {**change, "failureMessage": "Restore failed: the object is no longer in deleted items."}
        live = box.pop(oid)["object"]
    if live is None:
        return {**change, "failureMessage": "Update failed: the object no longer exists."}
    new = {**live, **copy.deepcopy(delta)}
    if action == "restore":
        new["deletedDateTime"] = None
    store.objects[kind][oid] = new
    for m in change["deltaFromCurrent"].get("members@delta") or []:
        ids = store.link_ids("groups", oid, "members")
        if "@removed" in m:
            while m["id"] in ids:
                ids.remove(m["id"])
        elif m["id"] not in ids:
            ids.append(m["id"])
    return None

"""Microsoft Entra Backup and Recovery (/directory/recovery on v1.0 and beta): daily snapshots.

The service takes one snapshot a day at a fixed tenant time and keeps the last seven; snapshots
cannot be created, changed or deleted through the API (https://learn.microsoft.com/entra/backup/overview,
https://learn.microsoft.com/graph/api/entrarecoveryservices-recovery-list-snapshots). The simulator's
clock stands still until a test advances it (POST /_sim/clock/advance or Simulator.advance), so the
snapshots a run sees do not depend on when it runs; every 22:00Z the clock passes takes one.
Preview and recovery jobs on a snapshot: recovery.py."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re

from entragit_sim.auth import require_read
from entragit_sim.errors import GraphHTTPError
from entragit_sim.render import Render
from entragit_sim.store import Obj, Store
from entragit_sim.table import Perms
from entragit_sim.wire import Request, Response, ctx_url, method_not_allowed

# The live capture shows one snapshot a day at 22:00:00Z with no drift.
SNAPSHOT_HOUR = 22
RETENTION = 7  # GA keeps seven (the Graph API overview's "five" dates from the preview)
# Store collections of the supported objects (https://learn.microsoft.com/entra/backup/scope-supported-objects-limitations).
SUPPORTED = ("users", "groups", "conditionalAccessPolicies", "namedLocations", "authorizationPolicy",
             "authenticationMethodsPolicy", "authenticationMethodConfigurations", "applications",
             "servicePrincipals", "oauth2PermissionGrants", "appRoleAssignments", "organization")  # fmt: skip
# Read: EntraBackup.Read.All, delegated and application; nothing writes snapshots.
BACKUP_PERMS = Perms(read=("EntraBackup.Read.All",), write=())
INVALID_SNAPSHOT = ("This isn't a valid timestamp for recovery. The provided timestamp should be in the "
                    "list of available backups.")  # fmt: skip


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_now(text: str) -> dt.datetime:
    """An ISO 8601 time (Z or an offset; a bare date is midnight UTC) as an aware UTC datetime."""
    when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


class Clock:
    """The simulated "now": fixed at start, moved only by `advance`."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)

    def iso(self) -> str:
        return _iso(self.now)


def snapshot_id(when: dt.datetime) -> str:
    """base64 of the unix seconds of the snapshot time, as the live service answers (the docs' ISO form differs)."""
    return base64.b64encode(str(int(when.timestamp())).encode()).decode()


def take(store: Store, when: dt.datetime) -> Obj:
    """Snapshot the supported objects (and group memberships, the one link kind covered) at `when`."""
    with store.lock:
        snap = {
            "id": snapshot_id(when),
            "createdDateTime": _iso(when),
            "objects": {k: copy.deepcopy(store.objects.get(k, {})) for k in SUPPORTED},
            "links": {k: list(v) for k, v in store.links.items() if re.match(r"groups/[^/]+/members$", k)},
        }
        store.backups.append(snap)
        # Newest first, as the service lists them (sorted: a clock restarted earlier may add older ones).
        store.backups.sort(key=lambda s: s["createdDateTime"], reverse=True)
        del store.backups[RETENTION:]
    return snap


def advance(store: Store, clock: Clock, days: float) -> list[str]:
    """Move the clock `days` forward, taking each daily snapshot it passes; returns their ids."""
    if days <= 0:
        raise ValueError("days must be positive")
    end = clock.now + dt.timedelta(days=days)
    due = clock.now.replace(hour=SNAPSHOT_HOUR, minute=0, second=0)
    if due <= clock.now:
        due += dt.timedelta(days=1)
    taken = []
    while due <= end:
        taken.append(take(store, due)["id"])
        due += dt.timedelta(days=1)
    clock.now = end
    store.clock_now = clock.iso()
    return taken


class Backup(Render):
    """GET directory/recovery/snapshots and snapshots/{id} (https://learn.microsoft.com/graph/api/entrarecoveryservices-snapshot-get)."""

    # False: a tenant without the feature (no Entra ID P1/P2, an External ID or B2C tenant, a
    # national cloud, where the docs say the API is not available). Graph's answer there is
    # UNCONFIRMED; the simulator answers as for a path it does not know.
    backup_available: bool = True

    def _backup_here(self) -> None:
        if not self.backup_available:
            raise GraphHTTPError(400, "BadRequest", "Resource not found for the segment 'recovery'.")

    def _snapshot_list(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        self._backup_here()
        require_read(req.caller, BACKUP_PERMS)
        with self.store.lock:
            items = [_public(s) for s in self.store.backups]
        return self._page(req, items, "directory/recovery/snapshots", directory=False)

    def _snapshot_item(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        self._backup_here()
        require_read(req.caller, BACKUP_PERMS)
        key = m.group("key")
        with self.store.lock:
            found = next((s for s in self.store.backups if s["id"] == key), None)
        if found is None:
            raise GraphHTTPError(404, "NotFound", INVALID_SNAPSHOT)
        return Response(200, {"@odata.context": ctx_url(req, "directory/recovery/snapshots/$entity"),
                              **_public(found)})


def _public(snap: Obj) -> Obj:
    """What Graph shows of a snapshot: no @odata.type and no totalChangedObjects, as live."""
    return {"id": snap["id"], "createdDateTime": snap["createdDateTime"]}

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

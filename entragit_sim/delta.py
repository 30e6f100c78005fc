"""Delta queries (change tracking) on the directory collections that have them on v1.0.

https://learn.microsoft.com/graph/delta-query-overview: the first round (no token) pages through every
object and ends with `@odata.deltaLink`; `$deltatoken=latest` answers only the link ("sync from now").
A round with a delta link returns the objects created or changed since the link was issued, and the
removed ones as `{"id", "@removed": {"reason": "changed"}}` (soft deleted, restorable) or
`"deleted"` (gone for good). Relationships selected with `$select` come back as `<rel>@delta`:
added targets, and removed ones carrying `@removed` (https://learn.microsoft.com/graph/api/group-delta:
"$select=members to get membership changes ... track other changes like ownership ... by selecting
any group relationship of type directoryObject collection").

Delta links of identity resources live seven days; after that Graph answers `syncStateNotFound`
("The sync state generation is not found. The delta token is expired and data must be synchronized
again", https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources/),
with 410 Gone as delta-query-overview describes for a token the service can no longer serve.

The simulator keeps, per issued link, what each object looked like (a digest) and its tracked
relationships, and compares with the tenant when the link comes back: whatever path changed the
object (PATCH, $ref, restore, a hook), the next round sees it. The states live in memory only: a
restarted simulator, like a service whose state changed, answers syncStateNotFound.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from entragit_sim.auth import require_read
from entragit_sim.errors import GraphHTTPError
from entragit_sim.render import Render
from entragit_sim.store import Obj
from entragit_sim.table import BY_NAME, Perms, Resource
from entragit_sim.wire import Request, Response, ctx_url, select_fields

# resource -> (relationships delta tracks when selected, the read permissions of its delta function).
# v1.0 delta functions: user-delta, group-delta, application-delta, serviceprincipal-delta,
# administrativeunit-delta, oauth2permissiongrant-delta (https://learn.microsoft.com/graph/api/<name>).
# Only group-delta documents relationship tracking (members, owners); administrativeunit-delta
# documents `members@delta`. Their permissions differ from the collections' own: users/delta needs
# User.Read.All (ReadBasic is not enough) and oauth2PermissionGrants/delta Directory.Read.All
# (DelegatedPermissionGrant.Read.All is not listed).
DELTA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "users": ((), ("User.Read.All", "Directory.Read.All")),
    "groups": (("members", "owners"),
               ("Group.Read.All", "GroupMember.Read.All", "Group.ReadBasic.All", "Directory.Read.All")),
    "applications": ((), ("Application.Read.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All")),
    "servicePrincipals": ((), ("Application.Read.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All")),
    "administrativeUnits": (("members",), ("AdministrativeUnit.Read.All", "Directory.Read.All")),
    "oauth2PermissionGrants": ((), ("Directory.Read.All",)),
}
LIFETIME = dt.timedelta(days=7)
DEFAULT_PAGE = 100
MAX_PAGE = 999  # Prefer: odata.maxpagesize


@dataclass
class _State:
    """What a delta link was issued against."""

    resource: str
    taken: dt.datetime  # on the simulated clock
    select: tuple[str, ...]
    digests: dict[str, str]
    links: dict[str, dict[str, list[str]]]  # id -> rel -> target ids


@dataclass
class _Pages:
    """A round's answer, served page by page through @odata.nextLink."""

    items: list[Obj]
    token: str  # the delta token the last page hands out


def _digest(obj: Obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def expired() -> GraphHTTPError:
    return GraphHTTPError(
        410, "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
    )


class Delta(Render):
    """GET /{collection}/delta for the collections in DELTA."""

    clock: Any  # backup.Clock, set by the Router

    def _delta_states(self) -> dict[str, Any]:
        return self.store.delta_states

    def expire_delta(self) -> int:
        """Forget every issued delta link (a test's way to reach expiry early); returns how many."""
        with self.store.lock:
            states = self._delta_states()
            n = sum(isinstance(v, _State) for v in states.values())
            states.clear()
            return n

    def delta_perms(self, res: Resource) -> Perms:
        return Perms(read=DELTA[res.name][1], write=res.perms.write)

    def _delta(self, res: Resource) -> Any:
        tracked, perms = DELTA[res.name][0], self.delta_perms(res)

        def handler(req: Request, m: re.Match[str]) -> Response:
            require_read(req.caller, perms)
            with self.store.lock:
                return self._delta_round(req, res, tracked)

        return handler

    def _delta_round(self, req: Request, res: Resource, tracked: tuple[str, ...]) -> Response:
        states = self._delta_states()
        q = req.query
        if "$skiptoken" in q:
            pages = states.get(q["$skiptoken"])
            if not isinstance(pages, _Pages):
                raise expired()
            return self._delta_page(req, res, q["$skiptoken"], pages)
        if "$deltatoken" in q and q["$deltatoken"] != "latest":
            prev = states.get(q["$deltatoken"])
            if not isinstance(prev, _State) or prev.resource != res.name or self.clock.now - prev.taken > LIFETIME:
                states.pop(q["$deltatoken"], None)
                raise expired()
            select = prev.select
        else:
            prev = None
            select = tuple(select_fields(req) or ())
        rels = tuple(r for r in tracked if r in select)
        now_digests, now_links, rendered = self._delta_now(req, res, select, rels)
        token = uuid.uuid4().hex
        states[token] = _State(res.name, self.clock.now, select, now_digests, now_links)
        if q.get("$deltatoken") == "latest":
            items: list[Obj] = []
        else:
            items = self._delta_changes(res, prev, now_digests, now_links, rendered, rels)
        page_id = uuid.uuid4().hex
        states[page_id] = _Pages(items, token)
        return self._delta_page(req, res, page_id, states[page_id])

    def _delta_now(self, req: Request, res: Resource, select: tuple[str, ...], rels: tuple[str, ...]
                   ) -> tuple[dict[str, str], dict[str, dict[str, list[str]]], dict[str, Obj]]:
        digests: dict[str, str] = {}
        links: dict[str, dict[str, list[str]]] = {}
        rendered: dict[str, Obj] = {}
        fields = [f for f in select if f not in rels]
        for obj in self._visible(res):
            oid = str(obj[res.key])
            out = self._out(req, res, obj)
            body = {"id": oid, **{k: v for k, v in out.items() if not fields or k in fields}}
            # Any change to the object reports it; $select only trims what the answer shows.
            digests[oid] = _digest(out)
            rendered[oid] = body
            links[oid] = {rel: [t for t, _ in self._link_targets(res, oid, rel)] for rel in rels}
        return digests, links, rendered

    def _link_targets(self, res: Resource, oid: str, rel: str) -> list[tuple[str, str]]:
        """(target id, odata type) of the relationship's current targets."""
        return [(str(o.get("id")), BY_NAME[k].odata_type) for k, o in self.store.active_links(res.name, oid, rel)]

    def _delta_changes(self, res: Resource, prev: _State | None, digests: dict[str, str],
                       links: dict[str, dict[str, list[str]]], rendered: dict[str, Obj],
                       rels: tuple[str, ...]) -> list[Obj]:
        items: list[Obj] = []
        types = {tid: t for oid in links for rel in rels for tid, t in self._link_targets(res, oid, rel)}
        for oid in sorted(digests):
            before = prev.links.get(oid, {}) if prev else {}
            rel_delta: dict[str, list[Obj]] = {}
            for rel in rels:
                was, now = set(before.get(rel, [])), set(links[oid][rel])
                change: list[Obj] = [{"@odata.type": types.get(t, "#microsoft.graph.directoryObject"), "id": t}
                                     for t in sorted(now - was)]
                change += [{"@odata.type": "#microsoft.graph.directoryObject", "id": t,
                            "@removed": {"reason": "deleted"}} for t in sorted(was - now)]
                if change:
                    rel_delta[f"{rel}@delta"] = change
            if prev is None or prev.digests.get(oid) != digests[oid]:
                items.append({**rendered[oid], **rel_delta})
            elif rel_delta:  # only the relationship moved: the object with its id and the change
                items.append({"id": oid, **rel_delta})
        for oid in sorted(set(prev.digests) - set(digests) if prev else ()):
            soft = self.store.is_soft_deleted(oid)
            items.append({"id": oid, "@removed": {"reason": "changed" if soft else "deleted"}})
        return items

    def _delta_page(self, req: Request, res: Resource, page_id: str, pages: _Pages) -> Response:
        size = DEFAULT_PAGE
        m = re.search(r"odata\.maxpagesize=(\d+)", req.header("prefer") or "")
        if m:
            size = max(1, min(MAX_PAGE, int(m.group(1))))
        body: dict[str, Any] = {"@odata.context": ctx_url(req, str(res.path))}
        base = f"{req.root}/{quote(req.path)}"
        page, rest = pages.items[:size], pages.items[size:]
        states = self._delta_states()
        if rest:
            pages.items = rest
            body["@odata.nextLink"] = f"{base}?$skiptoken={page_id}"
        else:
            states.pop(page_id, None)
            body["@odata.deltaLink"] = f"{base}?$deltatoken={pages.token}"
        body["value"] = page
        return Response(200, body)

"""$ref relationships to directory objects: list, add, remove (graph-notes 4.5)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from entragit_sim import audit
from entragit_sim.auth import require_read, require_write
from entragit_sim.errors import bad_request, denied, not_found
from entragit_sim.hooks import hook_for
from entragit_sim.render import Render
from entragit_sim.store import Obj
from entragit_sim.table import BY_NAME, Perms, Resource
from entragit_sim.wire import Handler, Request, Response, method_not_allowed, target_id


def _dynamic(obj: Obj) -> bool:
    return (
        "DynamicMembership" in (obj.get("groupTypes") or [])
        or str(obj.get("membershipType")).lower() == "dynamic"
    )


def _require_hidden_members_perm(req: Request, res: Resource, obj: Obj, rel: str) -> None:
    """Members of a HiddenMembership group or AU are listed to app tokens only with the table's
    hidden_members_perm (Member.Read.Hidden), otherwise 403 Authorization_RequestDenied.

    https://learn.microsoft.com/graph/api/administrativeunit-list-members?view=graph-rest-beta
    Delegated callers are not checked here: members and owners of the object see its members."""
    if (
        rel == "members"
        and res.hidden_members_perm
        and obj.get("visibility") == "HiddenMembership"
        and not req.caller.delegated
        and not req.caller.has(res.hidden_members_perm)
    ):
        raise denied()


class Relations(Render):
    """members/owners/... of groups, applications, service principals and administrative units."""

    def _rel_perms(self, res: Resource) -> Perms:
        return res.rel_perms or res.perms

    def _rel_list(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "GET":
                raise method_not_allowed()
            require_read(req.caller, self._rel_perms(res))
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                _require_hidden_members_perm(req, res, obj, m.group("rel"))
                hidden = res.v1_rel_hidden if req.version == "v1.0" else ()
                items = [
                    self._out(req, BY_NAME[k], o, with_type=True)
                    for k, o in self.store.active_links(res.name, key, m.group("rel"))
                    if k not in hidden
                ]
            return self._page(req, items, "directoryObjects", directory=True)

        return handler

    def _rel_add(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "POST":
                raise method_not_allowed()
            require_write(req.caller, self._rel_perms(res))
            body = req.body if isinstance(req.body, dict) else {}
            if "@odata.id" not in body:
                raise bad_request("The request body must contain '@odata.id'.")
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                self._link_add(req, res, key, obj, m.group("rel"), [target_id(body["@odata.id"])])
            return Response(204)

        return handler

    def _link_add(
        self, req: Request, res: Resource, key: str, obj: Obj, rel: str, ids: list[str]
    ) -> None:
        hook_for(res).guard_write(self.ctx(req), res, obj)
        hook_for(res).extra_write_perms(self.ctx(req), obj)
        if rel == "members" and _dynamic(obj):
            raise bad_request(
                "Members of a dynamic group or administrative unit cannot be added or removed manually."
            )
        current = self.store.link_ids(res.name, key, rel)
        for oid in ids:
            found = self.store.find_directory_object(oid)
            if found is None:
                raise not_found(oid)
            if oid in current:
                raise bad_request(
                    f"One or more added object references already exist for the following modified properties: '{rel}'."
                )
        for oid in ids:
            current.append(oid)
            target = self.store.find_directory_object(oid)
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Assign",
                f"Add {rel[:-1]} to {audit.label(res)}",
                obj,
                [
                    {
                        "displayName": f"{target[0][:-1]}.objectId" if target else "objectId",
                        "oldValue": None,
                        "newValue": json.dumps(oid),
                    }
                ],
            )

    def _rel_remove(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "DELETE":
                raise method_not_allowed()
            require_write(req.caller, self._rel_perms(res))
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                rel, target = m.group("rel"), unquote(m.group("target"))
                hook_for(res).guard_write(self.ctx(req), res, obj)
                hook_for(res).extra_write_perms(self.ctx(req), obj)
                if rel == "members" and _dynamic(obj):
                    raise bad_request(
                        "Members of a dynamic group cannot be added or removed manually."
                    )
                current = self.store.link_ids(res.name, key, rel)
                if target not in current:
                    raise not_found(target)
                current.remove(target)
                audit.record(
                    self.store,
                    req.caller,
                    req.actor,
                    res,
                    "Unassign",
                    f"Remove {rel[:-1]} from {audit.label(res)}",
                    obj,
                    [{"displayName": "objectId", "oldValue": json.dumps(target), "newValue": None}],
                )
            return Response(204)

        return handler


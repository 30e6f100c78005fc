"""directoryObjects/{id} and directoryObjects/getByIds: any directory object by id, with its @odata.type."""

from __future__ import annotations

import re
from urllib.parse import unquote

from entragit_sim.auth import Caller, require_read
from entragit_sim.errors import bad_request, denied, not_found
from entragit_sim.hooks import hook_for
from entragit_sim.query import select
from entragit_sim.render import Render
from entragit_sim.table import BY_NAME, DIRECTORY_OBJECT_KINDS
from entragit_sim.wire import (
    GUID,
    Request,
    Response,
    ctx_url,
    expand_fields,
    method_not_allowed,
    select_fields,
)

MAX_GET_BY_IDS = 1000  # POST /directoryObjects/getByIds (Graph docs)
# getByIds `types` (lower-cased) -> the simulator's collections; the rest exist in Graph, not here.
_DIRECTORY_TYPES: dict[str, tuple[str, ...]] = {
    "user": ("users",),
    "group": ("groups",),
    "application": ("applications",),
    "serviceprincipal": ("servicePrincipals",),
    "administrativeunit": ("administrativeUnits",),
    "device": (),
    "orgcontact": (),
    "directoryrole": (),
    "directoryroletemplate": (),
}


class Directory(Render):
    """Polymorphic reads across users, groups, applications, service principals and AUs."""

    def _may_read_directory(self, caller: Caller) -> bool:
        return any(caller.may_read(BY_NAME[k].perms) for k in DIRECTORY_OBJECT_KINDS)

    def _directory_object(self, req: Request, m: re.Match[str]) -> Response:
        """GET /directoryObjects/{id}: the user/group/SP/app/AU with its @odata.type. Needs the read
        permission of the object's type (Directory.Read.All is one for every type)."""
        if req.method != "GET":
            raise method_not_allowed()
        if not self._may_read_directory(req.caller):
            raise denied()
        key = unquote(m.group("key")).lower()
        with self.store.lock:
            hit = self.store.find_directory_object(key)
            if hit is None or self._lagging(key):
                raise not_found(key)
            kind, obj = hit
            res = BY_NAME[kind]
            require_read(req.caller, res.perms)
            body = {
                "@odata.context": ctx_url(req, "directoryObjects/$entity"),
                **self._typed(req, kind, obj),
            }
            for name in expand_fields(req):
                body[name] = self._expanded(req, res, obj, name)
        fields = select_fields(req)
        if fields:
            body = {
                "@odata.context": body["@odata.context"],
                "@odata.type": body["@odata.type"],
                **select(body, fields),
            }
            body = hook_for(res).reveal(obj, body, fields)
        return Response(200, body)

    def _get_by_ids(self, req: Request, m: re.Match[str]) -> Response:
        """POST /directoryObjects/getByIds {"ids": [...], "types": [...]}: found objects in the order
        asked, unknown (or soft-deleted) ids silently left out; at most 1000 ids; no paging."""
        if req.method != "POST":
            raise method_not_allowed()
        body = req.body if isinstance(req.body, dict) else None
        ids = body.get("ids") if body is not None else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise bad_request(
                "Invalid value specified for property 'ids' of resource 'directoryObject'."
            )
        if len(ids) > MAX_GET_BY_IDS:
            raise bad_request(
                f"Too many identifiers: at most {MAX_GET_BY_IDS} ids may be requested at once, got {len(ids)}."
            )
        for i in ids:
            if not GUID.fullmatch(i):
                raise bad_request(f"Invalid object identifier '{i}'.")
        types = body.get("types") if body is not None else None
        wanted: set[str] | None = None
        if types is not None:
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                raise bad_request(
                    "Invalid value specified for property 'types' of resource 'directoryObject'."
                )
            wanted = set()
            for t in types:
                name = t.strip().lower().removeprefix("microsoft.graph.")
                if name == "directoryobject":
                    wanted = None
                    break
                if name not in _DIRECTORY_TYPES:
                    raise bad_request(f"Invalid type '{t}' specified in types.")
                wanted.update(_DIRECTORY_TYPES[name])
        if not self._may_read_directory(req.caller):
            raise denied()
        out = []
        with self.store.lock:
            for key in dict.fromkeys(i.lower() for i in ids):
                hit = self.store.find_directory_object(key)
                if (
                    hit is None
                    or (wanted is not None and hit[0] not in wanted)
                    or self._lagging(key)
                ):
                    continue
                require_read(req.caller, BY_NAME[hit[0]].perms)
                out.append(self._typed(req, *hit))
        fields = select_fields(req)
        if fields:
            out = [{"@odata.type": o["@odata.type"], **select(o, fields)} for o in out]
        return Response(200, {"@odata.context": ctx_url(req, "directoryObjects"), "value": out})


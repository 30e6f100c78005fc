"""Collections, items, singletons and child singletons of the resource table: read, create, update, delete, $count, views."""

from __future__ import annotations

import copy
import re
import uuid
from urllib.parse import unquote

from entragit_sim import audit
from entragit_sim.auth import require_read, require_write
from entragit_sim.errors import GraphHTTPError, bad_request, not_found
from entragit_sim.hooks import hard_delete, hook_for, now_iso, soft_delete
from entragit_sim.query import QueryError, parse_filter
from entragit_sim.relations import Relations
from entragit_sim.render import Rendered
from entragit_sim.store import Obj
from entragit_sim.table import ALWAYS_READ_ONLY, BY_NAME, Resource, View
from entragit_sim.wire import (
    Handler,
    Request,
    Response,
    body_object,
    dir_errors,
    method_not_allowed,
    policy_errors,
    target_id,
)

MAX_BIND = 20  # members@odata.bind + owners@odata.bind per request (graph-notes 4.5)


def _missing(res: Resource, prop: str) -> GraphHTTPError:
    if policy_errors(res):
        return bad_request(
            f"1007: Incoming {res.odata_type.rsplit('.', 1)[-1]} object is null or does not match "
            f"the schema: property '{prop}' is required.",
            directory=False,
        )
    return bad_request(
        f"Invalid value specified for property '{prop}' of resource "
        f"'{res.odata_type.rsplit('.', 1)[-1][0].upper()}{res.odata_type.rsplit('.', 1)[-1][1:]}'."
    )



def _require_filter(req: Request, res: Resource) -> None:
    """400 unless $filter names every property the list must be scoped by (PIM policies: "This method
    requires the $filter (eq) query parameter to scope the request to a scopeId and a scopeType",
    https://learn.microsoft.com/graph/api/policyroot-list-rolemanagementpolicies)."""
    needed = re.findall(r"(\w+) eq ", res.list_filter_required)
    text = req.query.get("$filter", "")
    if needed and not all(f in text for f in needed):
        raise bad_request(f"The request must filter on {' and '.join(needed)}.", directory=False)
    # PIM for Groups lists: "This method requires the $filter (eq) query parameter to scope the request to
    # a principalId or a groupId" (https://learn.microsoft.com/graph/api/privilegedaccessgroup-list-eligibilityschedules).
    one_of = res.list_filter_one_of
    if one_of and not any(re.search(rf"\b{f} eq ", text) for f in one_of):
        raise bad_request(f"The request must filter on {' or '.join(one_of)}.", directory=False)


class Resources(Relations):
    """The generic handlers every resource-table row gets."""

    def _collection(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method == "GET":
                require_read(req.caller, res.perms)
                _require_filter(req, res)
                with self.store.lock:
                    items = Rendered(self._visible(res), lambda o: self._out(req, res, o))
                    return self._page(
                        req, items, str(res.path), directory=res.directory, max_top=res.max_top,
                        default=res.default_select,
                    )
            if req.method == "POST" and res.create == "POST":
                return self._create(req, res)
            raise method_not_allowed()

        return handler

    def _count(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            require_read(req.caller, res.perms)
            if res.directory and (req.header("consistencylevel") or "").lower() != "eventual":
                raise QueryError("$count is not currently supported.", advanced=True)
            with self.store.lock:
                items = [self._out(req, res, o) for o in self._visible(res)]
            if "$filter" in req.query:
                pred, _ = parse_filter(req.query["$filter"])
                items = [o for o in items if pred(o)]
            return Response(200, str(len(items)), {"Content-Type": "text/plain"})

        return handler


    def _item(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    if obj is None or self._lagging(key):
                        raise not_found(key, directory=dir_errors(res))
                    return self._entity(req, res, obj, str(res.path))
                if req.method == "PUT" and res.update == "PUT":
                    if obj is None:
                        raise not_found(key, directory=dir_errors(res))
                    return self._update(req, res, key, obj, replace=True)
                if req.method == "PATCH" and res.update == "PATCH":
                    if not res.updatable:  # no such method, whether or not the object exists
                        raise method_not_allowed()
                    if obj is None:
                        if res.create == "PATCH":
                            return self._create(req, res, key=key, status=204)
                        if m.groupdict().get("alt") == "uniqueName" and "create-if-missing" in (
                            req.header("prefer") or ""
                        ):
                            return self._create(
                                req, res, extra={"uniqueName": unquote(m.group("altval"))}
                            )
                        raise not_found(key, directory=dir_errors(res))
                    return self._update(req, res, key, obj)
                if req.method == "DELETE" and res.deletable:
                    if obj is None:
                        raise not_found(key, directory=dir_errors(res))
                    return self._delete(req, res, key, obj)
            raise method_not_allowed()

        return handler

    def _singleton(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            with self.store.lock:
                obj = self.store.get(res.name, res.fixed_id)
                if obj is None:
                    raise not_found(res.fixed_id, directory=dir_errors(res))
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    return self._entity(req, res, obj, str(res.path))
                if req.method == res.update:  # PUT sends every updatable property; read-only ones stay
                    return self._update(req, res, res.fixed_id, obj)
            raise method_not_allowed()

        return handler

    def _child(self, res: Resource) -> Handler:
        """A singleton under a parent object (partner identitySynchronization: PUT creates)."""
        parent_res = BY_NAME[res.parent]

        def handler(req: Request, m: re.Match[str]) -> Response:
            pkey = unquote(m.group("parent"))
            context = str(res.path).replace("{parent}", f"('{pkey}')").replace("/(", "(")
            with self.store.lock:
                if self.store.get(parent_res.name, pkey) is None:
                    raise not_found(pkey, directory=False)
                obj = self.store.get(res.name, pkey)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    if obj is None:
                        raise not_found(pkey, directory=False)
                    return self._entity(req, res, obj, context)
                if req.method == "PUT":
                    require_write(req.caller, res.perms)
                    body = body_object(req, res)
                    new = {**body, res.key: pkey}
                    self.store.put(res.name, pkey, new)
                    audit.record(
                        self.store,
                        req.caller,
                        req.actor,
                        res,
                        "Update" if obj else "Add",
                        f"{'Update' if obj else 'Add'} {audit.label(res)}",
                        new,
                        audit.modified(obj, new),
                    )
                    return Response(204)
                if req.method == "PATCH":
                    if obj is None:
                        raise not_found(pkey, directory=False)
                    return self._update(req, res, pkey, obj)
                if req.method == "DELETE":
                    require_write(req.caller, res.perms)
                    if obj is None:
                        raise not_found(pkey, directory=False)
                    self.store.pop(res.name, pkey)
                    audit.record(
                        self.store,
                        req.caller,
                        req.actor,
                        res,
                        "Delete",
                        f"Delete {audit.label(res)}",
                        obj,
                    )
                    return Response(204)
            raise method_not_allowed()

        return handler

    # -- create / update / delete ---------------------------------------------------------------
    def _check_writable(
        self, res: Resource, body: Obj, *, creating: bool, current_key: str | None = None
    ) -> None:
        blocked = (
            set(ALWAYS_READ_ONLY)
            | set(res.read_only)
            | (set() if creating else set(res.create_only))
        )
        for k in body:
            if k == res.key and res.key == "id" and res.id_style not in ("client",):
                if creating or body[k] != current_key:
                    raise bad_request(
                        "Property 'id' is read-only and cannot be set.", directory=dir_errors(res)
                    )
            elif k in blocked:
                raise bad_request(
                    f"Property '{k}' is read-only and cannot be set.", directory=dir_errors(res)
                )

    def _check_type(self, res: Resource, body: Obj, current: Obj | None) -> None:
        if not res.polymorphic:
            body.pop("@odata.type", None)
            return
        t = body.get("@odata.type")
        if not t:
            raise bad_request(
                "The @odata.type property is required for this derived type.", directory=dir_errors(res)
            )
        if t not in res.polymorphic or (current is not None and current.get("@odata.type") != t):
            raise bad_request(f"Invalid @odata.type '{t}'.", directory=dir_errors(res))

    def _binds(self, res: Resource, body: Obj) -> dict[str, list[str]]:
        binds: dict[str, list[str]] = {}
        for k in [k for k in body if k.endswith("@odata.bind")]:
            rel = k.split("@", 1)[0]
            if rel not in res.rels:
                raise bad_request(
                    f"Property '{rel}' is not a navigation property of '{res.odata_type[1:]}'."
                )
            urls = body.pop(k)
            urls = urls if isinstance(urls, list) else [urls]
            binds[rel] = [target_id(u) for u in urls]
        if sum(len(v) for v in binds.values()) > MAX_BIND:
            raise bad_request(
                f"The number of relationships added in one request exceeds the limit of {MAX_BIND}."
            )
        for ids in binds.values():
            for oid in ids:
                if self.store.find_directory_object(oid) is None:
                    raise not_found(oid)
        return binds

    def _create(
        self,
        req: Request,
        res: Resource,
        *,
        key: str | None = None,
        status: int = 201,
        extra: Obj | None = None,
    ) -> Response:
        require_write(req.caller, res.perms)
        body = body_object(req, res)
        with self.store.lock:
            self._check_type(res, body, None)
            self._check_writable(res, body, creating=True)
            binds = self._binds(res, body)
            for name in res.required:
                if body.get(name) in (None, ""):
                    raise _missing(res, name)
            obj: Obj = {**copy.deepcopy(res.defaults), **body, **(extra or {})}
            if res.id_style == "key":
                key = str(body[res.key])
                if self.store.get(res.name, key) is not None:
                    raise GraphHTTPError(
                        409, "Conflict", f"An object with {res.key} '{key}' already exists."
                    )
            elif res.id_style == "client" and key is not None:
                obj = {"id": key, **obj}
            else:
                obj = {"id": str(uuid.uuid4()), **obj}
            hook = hook_for(res)
            hook.on_create(self.ctx(req), res, obj)
            new_key = str(obj[res.key])
            if (prop := hook.conflicts(self.store, res, obj)) is not None:
                raise bad_request(
                    f"Another object with the same value for property {prop} already exists.",
                    directory=dir_errors(res),
                )
            if res.polymorphic and "@odata.type" in obj:
                obj = {"@odata.type": obj.pop("@odata.type"), **obj}
            self.store.put(res.name, new_key, obj)
            self.store.mark_created(new_key)
            for rel, ids in binds.items():
                self.store.links[f"{res.name}/{new_key}/{rel}"] = list(dict.fromkeys(ids))
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Add",
                f"Add {audit.label(res)}",
                obj,
                audit.modified(None, obj),
            )
            if status == 204:
                return Response(204)
            resp = self._entity(req, res, obj, str(res.path), status=201)
            resp.headers["Location"] = f"{req.root}/{res.path}/{new_key}"
            return resp

    def _update(self, req: Request, res: Resource, key: str, obj: Obj, replace: bool = False) -> Response:
        require_write(req.caller, res.perms)
        if not res.updatable:
            raise method_not_allowed()
        if res.builtin and obj.get(res.builtin[0]) == res.builtin[1]:
            raise bad_request(
                f"Built-in {audit.label(res)} objects cannot be modified.", directory=dir_errors(res)
            )
        patch = body_object(req, res)
        hook_for(res).guard_write(self.ctx(req), res, obj)
        self._check_type(res, patch, obj)
        self._check_writable(res, patch, creating=False, current_key=key)
        binds = self._binds(res, patch)
        hook = hook_for(res)
        hook.on_update(self.ctx(req), res, obj, patch)
        # A PUT replaces what the body can set: properties with a default that it leaves out go back to it.
        base = {**copy.deepcopy(res.defaults), **{k: v for k, v in obj.items() if k not in res.defaults}} if replace else obj
        new = {**base, **{k: v for k, v in patch.items() if k != "@odata.type"}}
        if (prop := hook.conflicts(self.store, res, new)) is not None:
            raise bad_request(
                f"Another object with the same value for property {prop} already exists.",
                directory=dir_errors(res),
            )
        for stamp in ("modifiedDateTime", "lastModifiedDateTime"):
            if stamp in new:
                new[stamp] = now_iso()
        self.store.put(res.name, key, new)
        for rel, ids in binds.items():
            self._link_add(req, res, key, obj, rel, ids)
        audit.record(
            self.store,
            req.caller,
            req.actor,
            res,
            "Update",
            f"Update {audit.label(res)}",
            new,
            audit.modified(obj, new),
        )
        if res.update_answers_object:
            return self._entity(req, res, new, str(res.path))
        return Response(204)

    def _delete(self, req: Request, res: Resource, key: str, obj: Obj) -> Response:
        require_write(req.caller, res.perms)
        if res.builtin and obj.get(res.builtin[0]) == res.builtin[1]:
            raise bad_request(
                f"Built-in {audit.label(res)} objects cannot be deleted.", directory=dir_errors(res)
            )
        hook = hook_for(res)
        hook.guard_write(self.ctx(req), res, obj)
        hook.on_delete(self.ctx(req), res, obj)
        if res.soft_delete and hook.soft(res, obj, self.store):
            soft_delete(self.store, res, obj)
        else:
            hard_delete(self.store, res, key)
        audit.record(
            self.store, req.caller, req.actor, res, "Delete", f"Delete {audit.label(res)}", obj
        )
        return Response(204)


    # -- views over flat collections ------------------------------------------------------------
    def _view_collection(self, res: Resource, view: View) -> Handler:
        parent = BY_NAME[view.parent]

        def handler(req: Request, m: re.Match[str]) -> Response:
            pkey = unquote(m.group("parent"))
            context = f"{parent.path}('{pkey}')/{view.path.rsplit('/', 1)[-1]}"
            with self.store.lock:
                if self.store.get(parent.name, pkey) is None:
                    raise not_found(pkey)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    items = [
                        self._out(req, res, o) for o in self._visible(res) if o.get(view.fk) == pkey
                    ]
                    return self._page(req, items, context, directory=True)
                if req.method == "POST" and view.writable:
                    body = req.body if isinstance(req.body, dict) else {}
                    if body.get(view.fk) not in (None, pkey):
                        raise bad_request(f"Property '{view.fk}' must be '{pkey}' on this path.")
                    req.body = {**body, view.fk: pkey}
                    return self._create(req, res)
            raise method_not_allowed()

        return handler

    def _view_item(self, res: Resource, view: View) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            pkey, key = unquote(m.group("parent")), unquote(m.group("key"))
            with self.store.lock:
                obj = self.store.get(res.name, key)
                if (
                    obj is None
                    or obj.get(view.fk) != pkey
                    or not hook_for(res).visible(self.store, obj)
                ):
                    raise not_found(key)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    return self._entity(req, res, obj, view.path.replace("{parent}", pkey))
                if req.method == "DELETE" and view.writable:
                    return self._delete(req, res, key, obj)
            raise method_not_allowed()

        return handler


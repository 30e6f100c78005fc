"""Recycle bins, one mechanism for every RECYCLE_BINS row: list, get, restore, permanent delete (graph-notes 5)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote

from entragit_sim import audit
from entragit_sim.auth import Caller, require_read, require_write
from entragit_sim.errors import GraphHTTPError, bad_request, denied, not_found
from entragit_sim.hooks import hard_delete, hook_for
from entragit_sim.render import Render
from entragit_sim.store import Obj
from entragit_sim.table import BY_NAME, DELETED_RETENTION_DAYS, RecycleBin, Resource, cast_of
from entragit_sim.wire import (
    Handler,
    Request,
    Response,
    Route,
    ctx_url,
    dir_errors,
    method_not_allowed,
    route,
)

Entry = dict[str, Any]  # {"kind": resource name, "object": the deleted object}


def _family(rbin: RecycleBin) -> str:
    return BY_NAME[rbin.kinds[0]].throttle


def _directory(rbin: RecycleBin) -> bool:
    """Request_* error codes unless every kind it holds is a policy."""
    return any(dir_errors(BY_NAME[k]) for k in rbin.kinds)


def _not_a_cast(cast: str) -> GraphHTTPError:
    return bad_request(f"'{cast}' is not a type that supports deleted items.")


def may_empty(rbin: RecycleBin, caller: Caller) -> bool:
    """Restore / permanent delete beyond the write permission: app tokens only where supported."""
    return rbin.app_restore or caller.admin or (caller.delegated and caller.has_role(*rbin.restore_roles))


class Recycle(Render):
    """Handlers for the routes `_bin_routes` registers per recycle bin."""

    def _bin_routes(self, rbin: RecycleBin) -> list[Route]:
        p, fam, beta = re.escape(rbin.path), _family(rbin), rbin.beta_only
        single = None if rbin.cast else BY_NAME[rbin.kinds[0]].perms
        out: list[Route] = []
        if rbin.cast:
            out.append(route(rbin.path, p, fam, self._cast_required, ("GET",), beta_only=beta))
            for kind in rbin.kinds:
                cast = cast_of(kind)
                out.append(
                    route(f"{rbin.path}/{cast}", p + "/" + re.escape(cast), fam,
                          self._bin_list(rbin, kind), ("GET",), beta_only=beta, resource=kind,
                          perms=BY_NAME[kind].perms)
                )  # fmt: skip
            out.append(
                route(f"{rbin.path}/{{cast}}", p + r"/(?P<cast>microsoft\.graph\.\w+)", fam,
                      self._unknown_cast, ("GET",), beta_only=beta)
            )  # fmt: skip
        else:
            out.append(
                route(rbin.path, p, fam, self._bin_list(rbin, rbin.kinds[0]), ("GET",),
                      beta_only=beta, resource=rbin.kinds[0], perms=single)
            )  # fmt: skip
        resource = None if rbin.cast else rbin.kinds[0]
        out.append(
            route(f"{rbin.path}/{{id}}", p + r"/(?P<key>[^/]+)", fam, self._bin_item(rbin),
                  ("GET", "DELETE"), beta_only=beta, resource=resource, perms=single,
                  app_only_ok=rbin.app_restore)
        )  # fmt: skip
        out.append(
            route(f"{rbin.path}/{{id}}/restore", p + r"/(?P<key>[^/]+)/restore", fam,
                  self._bin_restore(rbin), ("POST",), beta_only=beta, resource=resource,
                  perms=single, app_only_ok=rbin.app_restore)
        )  # fmt: skip
        return out

    # -- reading ------------------------------------------------------------------------------
    def _expire(self, rbin: RecycleBin) -> None:
        cutoff = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - DELETED_RETENTION_DAYS * 86400)
        )
        box = self.store.deleted[rbin.store]
        for key in [
            k for k, e in box.items() if (e["object"].get("deletedDateTime") or "9") < cutoff
        ]:
            entry = box.pop(key)
            self.store.purge_links(entry["kind"], key)

    def _entry(self, rbin: RecycleBin, key: str) -> Entry:
        self._expire(rbin)
        entry = self.store.deleted[rbin.store].get(key)
        if entry is None or entry["kind"] not in rbin.kinds:
            raise not_found(key, directory=_directory(rbin))
        return entry

    def _deleted_out(self, req: Request, rbin: RecycleBin, res: Resource, obj: Obj) -> Obj:
        # A cast container is polymorphic: every item carries its @odata.type.
        return self._out(req, res, obj, with_type=rbin.cast)

    def _cast_required(self, req: Request, m: re.Match[str]) -> Response:
        raise bad_request(
            "The type cast segment is required: use directory/deletedItems/microsoft.graph.{type}."
        )

    def _unknown_cast(self, req: Request, m: re.Match[str]) -> Response:
        raise _not_a_cast(m.group("cast"))

    def _bin_list(self, rbin: RecycleBin, kind: str) -> Handler:
        res = BY_NAME[kind]

        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "GET":
                raise _not_a_cast(cast_of(kind)) if rbin.cast else method_not_allowed()
            require_read(req.caller, res.perms)
            with self.store.lock:
                self._expire(rbin)
                items = [
                    self._deleted_out(req, rbin, res, e["object"])
                    for e in self.store.deleted[rbin.store].values()
                    if e["kind"] == kind
                ]
            return self._page(req, items, req.path, directory=dir_errors(res))

        return handler

    def _bin_item(self, rbin: RecycleBin) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            key = unquote(m.group("key"))
            with self.store.lock:
                entry = self._entry(rbin, key)
                res = BY_NAME[entry["kind"]]
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    return Response(
                        200,
                        {
                            "@odata.context": ctx_url(req, f"{rbin.path}/$entity"),
                            **self._deleted_out(req, rbin, res, entry["object"]),
                        },
                    )
                if req.method == "DELETE":
                    self._may_empty(req, rbin, res)
                    if not res.purgeable:
                        # graph-notes 5.1: a soft-deleted AU can't be hard-deleted; it expires after 30 days.
                        raise bad_request(
                            "Administrative units in deleted items cannot be permanently deleted."
                        )
                    return self._purge(req, rbin, key, res, entry)
            raise method_not_allowed()

        return handler

    # -- writing ------------------------------------------------------------------------------
    def _may_empty(self, req: Request, rbin: RecycleBin, res: Resource) -> None:
        require_write(req.caller, res.perms)
        if not may_empty(rbin, req.caller):
            raise denied()

    def _purge(self, req: Request, rbin: RecycleBin, key: str, res: Resource, entry: Entry) -> Response:
        """Permanent delete from a recycle bin: gone for good, references left dangling, audited."""
        self.store.deleted[rbin.store].pop(key)
        hard_delete(self.store, res, key)
        audit.record(self.store, req.caller, req.actor, res, "Delete",
                     f"Hard delete {audit.label(res)}", entry["object"])  # fmt: skip
        return Response(204)

    def _bin_restore(self, rbin: RecycleBin) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "POST":
                raise method_not_allowed()
            key = unquote(m.group("key"))
            with self.store.lock:
                entry = self._entry(rbin, key)
                res = BY_NAME[entry["kind"]]
                self._may_empty(req, rbin, res)
                obj = {**entry["object"], "deletedDateTime": None}
                hook_for(res).guard_restore(self.ctx(req), res, obj)
                if (prop := hook_for(res).conflicts(self.store, res, obj)) is not None:
                    raise bad_request(
                        f"Another object with the same value for property {prop} already exists.",
                        directory=dir_errors(res),
                    )
                self.store.deleted[rbin.store].pop(key)
                self.store.put(res.name, key, obj)
                audit.record(self.store, req.caller, req.actor, res, "Restore",
                             f"Restore {audit.label(res)}", obj)  # fmt: skip
                ctx = rbin.path if rbin.cast else str(res.path)
                return Response(
                    200,
                    {
                        "@odata.context": ctx_url(req, f"{ctx}/$entity"),
                        **self._deleted_out(req, rbin, res, obj),
                    },
                )

        return handler

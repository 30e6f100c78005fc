"""Graph's URL space built from the resource table: the route table, dispatch and throttling.

Handlers live by concern: resources.py (collections, items, singletons, views), relations.py ($ref),
recycle.py (recycle bins), directory.py (directoryObjects), actions.py (table.ACTIONS),
auditlog.py, batch.py; render.py holds what they share, wire.py the request/response types."""

from __future__ import annotations

import re
from typing import Any

from entragit_sim.actions import Actions
from entragit_sim.auditlog import AuditLog
from entragit_sim.auth import caller_from_header
from entragit_sim.backup import BACKUP_PERMS, Clock
from entragit_sim.batch import Batch
from entragit_sim.delta import DELTA, Delta
from entragit_sim.directory import Directory
from entragit_sim.errors import GraphHTTPError, denied
from entragit_sim.faults import Faults
from entragit_sim.query import QueryError
from entragit_sim.recovery import Recovery
from entragit_sim.recycle import Recycle
from entragit_sim.resources import Resources
from entragit_sim.store import Store
from entragit_sim.table import ACTIONS, AUDIT_PERMS, BY_NAME, RECYCLE_BINS, RESOURCES, Resource
from entragit_sim.throttle import Throttle, retry_after_seconds
from entragit_sim.wire import (
    Handler,
    Request,
    RequestRecord,
    Response,
    Route,
    route,
    template_regex,
)

# signInAudience values whose application writes have their own, smaller quota (throttling-limits).
CONSUMER_AUDIENCES = ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")

__all__ = ["Request", "RequestRecord", "Response", "Route", "Router"]


class Router(Resources, Recycle, Directory, Actions, AuditLog, Recovery, Batch, Delta):
    """Dispatches one Graph request (also used for every $batch item)."""

    def __init__(
        self, store: Store, *, throttle: Throttle, faults: Faults, latency_ms: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.unlicensed = False  # no P2 / Governance licence: resources with a `licence` refuse (table.Licence)
        self.clock = clock or Clock()
        self.throttle = throttle
        self.faults = faults
        self.latency_ms = latency_ms
        self.routes: list[Route] = self._build()

    # -- route table (first match wins) ---------------------------------------------------------
    def _build(self) -> list[Route]:
        routes = [route("$batch", r"\$batch", "none", self._batch, ("POST",))]
        for rbin in RECYCLE_BINS:
            routes += self._bin_routes(rbin)
        routes += [
            route("auditLogs/directoryAudits", "auditLogs/directoryAudits", "none",
                  self._audit_list, ("GET",), perms=AUDIT_PERMS),
            route("auditLogs/directoryAudits/{id}", r"auditLogs/directoryAudits/(?P<key>[^/]+)",
                  "none", self._audit_item, ("GET",), perms=AUDIT_PERMS),
            # Native backup, on v1.0 and beta alike; snapshot ids are base64 and may hold '='.
            route("directory/recovery/snapshots", "directory/recovery/snapshots", "none",
                  self._snapshot_list, ("GET",), perms=BACKUP_PERMS),
            route("directory/recovery/snapshots/{id}", r"directory/recovery/snapshots/(?P<key>[^/]+)",
                  "none", self._snapshot_item, ("GET",), perms=BACKUP_PERMS),
            *self._recovery_routes(),
            # Permissions depend on the type of the object found.
            route("directoryObjects/getByIds", "directoryObjects/getByIds", "ru",
                  self._get_by_ids, ("POST",)),
            route("directoryObjects/{id}", r"directoryObjects/(?P<key>[^/]+)", "ru",
                  self._directory_object, ("GET",)),
        ]  # fmt: skip
        for name in DELTA:  # before the items: "delta" is not an object id
            res = BY_NAME[name]
            # Documented on the top-level path only (GET /administrativeUnits/delta).
            path = res.aliases[0] if res.path and res.path.startswith("directory/") else str(res.path)
            routes.append(route(f"{path}/delta", re.escape(path) + r"/delta", res.throttle,
                                self._delta(res), ("GET",), resource=res.name, perms=self.delta_perms(res)))
        for action in ACTIONS:
            res = BY_NAME[action.resource]
            routes.append(
                route(action.template, action.regex or template_regex(action.template),
                      action.family, getattr(self, action.handler), action.methods,
                      resource=res.name, perms=action.perms or res.perms, app_only_ok=action.app_only_ok)
            )  # fmt: skip
        for res in RESOURCES:
            for view in res.views:
                base = view.path.replace("{parent}", "(?P<parent>[^/]+)")
                template = view.path.replace("{parent}", "{id}")
                methods = ("GET", "POST") if view.writable else ("GET",)
                routes += [
                    route(template, base, res.throttle, self._view_collection(res, view), methods,
                          resource=res.name, perms=res.perms),
                    route(template + "/{id}", base + r"/(?P<key>[^/]+)", res.throttle,
                          self._view_item(res, view),
                          ("GET", "DELETE") if view.writable else ("GET",),
                          resource=res.name, perms=res.perms),
                ]  # fmt: skip
            if res.path is None:
                continue
            for path, beta_only in [
                (res.path, res.beta_only),
                *[(a, res.beta_only_aliases) for a in res.aliases],
            ]:
                routes += self._resource_routes(res, path, beta_only)
        return routes

    def _resource_routes(self, res: Resource, path: str, beta: bool) -> list[Route]:
        def add(template: str, regex: str, handler: Handler, methods: tuple[str, ...], **kw: Any) -> Route:
            kw.setdefault("perms", res.perms)
            kw.setdefault("app_only_ok", res.app_only_ok)
            return route(template, regex, res.throttle, handler, methods,
                         beta_only=beta, resource=res.name, **kw)  # fmt: skip

        if res.parent:
            return [
                add(path.replace("{parent}", "{id}"), path.replace("{parent}", "(?P<parent>[^/]+)"),
                    self._child(res), ("GET", "PUT", "PATCH", "DELETE"))
            ]  # fmt: skip
        p = re.escape(path)
        if res.singleton:
            return [add(path, p, self._singleton(res), ("GET", res.update))]
        out: list[Route] = []
        for rel in res.rels:
            rel_perms = res.rel_perms or res.perms
            key = p + rf"/(?P<key>[^/]+)/(?P<rel>{rel})"
            out += [
                add(f"{path}/{{id}}/{rel}", key, self._rel_list(res), ("GET",), perms=rel_perms),
                add(f"{path}/{{id}}/{rel}/$ref", key + r"/\$ref", self._rel_add(res), ("POST",),
                    perms=rel_perms),
                add(f"{path}/{{id}}/{rel}/{{id}}/$ref", key + r"/(?P<target>[^/]+)/\$ref",
                    self._rel_remove(res), ("DELETE",), perms=rel_perms),
            ]  # fmt: skip
        out.append(add(f"{path}/$count", p + r"/\$count", self._count(res), ("GET",)))
        item_methods = ("GET", res.update, "DELETE") if res.deletable else ("GET", res.update)
        if res.alt_keys:
            # One route for every alternate key; _find rejects keys the row doesn't list.
            out.append(
                add(f"{path}({{altKey}}='{{value}}')", p + r"\((?P<alt>\w+)='(?P<altval>[^']*)'\)",
                    self._item(res), item_methods)
            )  # fmt: skip
        out.append(add(f"{path}/{{id}}", p + r"/(?P<key>[^/]+)", self._item(res), item_methods))
        create = ("GET", "POST") if res.create == "POST" else ("GET",)
        out.append(add(path, p, self._collection(res), create))
        return out

    # -- entry point ----------------------------------------------------------------------------
    def dispatch(self, req: Request, *, in_batch: bool = False) -> Response:
        try:
            if not in_batch:
                req.caller = caller_from_header(req.header("authorization"), self.store.tenant_id)
            req.actor = req.header("x-sim-actor")
            for r in self.routes:
                m = r.regex.match(req.path)
                if m is None:
                    continue
                if r.beta_only and req.version != "beta":
                    raise GraphHTTPError(
                        400,
                        "BadRequest",
                        f"Resource not found for the segment '{req.path.split('/')[-1]}'.",
                    )
                if r.handler == self._batch:
                    return r.handler(req, m)
                res = BY_NAME.get(r.resource or "")
                if res is not None and not res.app_only_ok and not req.caller.delegated and not req.caller.admin:
                    raise denied()  # "Application: Not supported", whatever the token holds
                if res is not None and res.licence and self.unlicensed:
                    raise GraphHTTPError(res.licence.status, res.licence.code, res.licence.message)
                blocked, extra = self._throttle(req, r.family)
                if blocked is not None:
                    return blocked
                resp = r.handler(req, m)
                resp.headers.update(extra)
                return resp
            segment = req.path.split("/")[0] if req.path else ""
            raise GraphHTTPError(
                400, "BadRequest", f"Resource not found for the segment '{segment}'."
            )
        except GraphHTTPError as e:
            return Response(e.status, e.body(req.header("client-request-id")), dict(e.headers))
        except QueryError as e:
            return Response(
                400,
                GraphHTTPError(
                    400, "Request_UnsupportedQuery" if e.advanced else "BadRequest", str(e)
                ).body(req.header("client-request-id")),
            )

    def _consumer_app(self, req: Request) -> bool:
        """A write to applications whose signInAudience lets personal Microsoft accounts in (its
        own, stricter quota), judged by the body on create and by the stored app otherwise."""
        if not req.path.startswith("applications"):
            return False
        audience = (req.body or {}).get("signInAudience") if isinstance(req.body, dict) else None
        m = re.match(r"applications/([^/(]+)", req.path)
        if audience is None and m:
            with self.store.lock:
                audience = (self.store.get("applications", m.group(1)) or {}).get("signInAudience")
        return audience in CONSUMER_AUDIENCES

    def _throttle(self, req: Request, family: str) -> tuple[Response | None, dict[str, str]]:
        if family == "none" or not self.throttle.limits:
            return None, {}
        by_ids = req.path == "directoryObjects/getByIds"  # a read by POST: 3 RU (throttling-limits)
        write = req.method != "GET" and not by_ids
        cost = 1
        if not write:
            cost = (
                3
                if by_ids
                else 3
                if req.path.endswith(("/members", "/owners"))
                else 2
                if req.path in ("users", "applications", "oauth2PermissionGrants")
                or req.path.endswith("/appRoleAssignments")
                else 1
            )
            cost += 1 if "$expand" in req.query else 0
            cost -= 1 if "$select" in req.query else 0
            cost -= 1 if req.query.get("$top", "").isdigit() and int(req.query["$top"]) < 20 else 0
            cost = max(cost, 1)
        verdict = self.throttle.check(family, req.caller.app_id, self.store.tenant_id, cost, write,
                                      consumer_app=write and self._consumer_app(req))
        headers = dict(verdict.headers)
        if verdict.wait <= 0:
            return None, headers
        if verdict.retry_after:
            headers["Retry-After"] = retry_after_seconds(verdict.wait)
        err = GraphHTTPError(
            429,
            "TooManyRequests" if family == "ca" else "Request_ThrottledTemporarily",
            "Too many requests."
            if family == "ca"
            else "Your request is throttled temporarily. Please try after the time given in the Retry-After header.",
        )
        return Response(429, err.body(req.header("client-request-id")), headers), {}


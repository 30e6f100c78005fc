"""Graph's URL space built from the resource table: routes, generic handlers, $batch, deleted items."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from entragit_sim import audit, credentials
from entragit_sim.auth import ANONYMOUS, Caller, caller_from_header, require_read, require_write
from entragit_sim.errors import GraphHTTPError, bad_request, denied, not_found
from entragit_sim.faults import Faults
from entragit_sim.hooks import Ctx, hard_delete, hook_for, now_iso, soft_delete
from entragit_sim.query import QueryError, decode_skiptoken, encode_skiptoken, parse_filter, select
from entragit_sim.store import Obj, Store
from entragit_sim.table import (
    ALWAYS_READ_ONLY,
    AUDIT_PERMS,
    BETA_DELETED,
    BY_NAME,
    DELETED_CASTS,
    DELETED_RETENTION_DAYS,
    DIRECTORY_OBJECT_KINDS,
    RESOURCES,
    Perms,
    Resource,
    View,
)
from entragit_sim.throttle import Throttle, retry_after_seconds

DEFAULT_PAGE = 100
MAX_BATCH = 20
MAX_GET_BY_IDS = 1000  # POST /directoryObjects/getByIds (Graph docs)
MAX_BIND = 20  # members@odata.bind + owners@odata.bind per request (graph-notes 4.5)
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
# federatedIdentityCredentials: read with the app's read permissions, write with Application.ReadWrite.*
FIC_PERMS = Perms(
    read=BY_NAME["applications"].perms.read,
    write=(("Application.ReadWrite.All",), ("Application.ReadWrite.OwnedBy",)),
)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class Request:
    method: str
    version: str  # v1.0 | beta
    path: str  # below the version, no leading slash, percent-decoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any
    base: str  # scheme://host:port
    caller: Caller = ANONYMOUS
    actor: str | None = None

    @property
    def root(self) -> str:
        return f"{self.base}/{self.version}"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered (tests assert on these)."""

    method: str
    path: str
    query: str
    status: int
    app_id: str


Handler = Callable[[Request, "re.Match[str]"], Response]


def _policy_errors(res: Resource) -> bool:
    return (
        not res.directory
        and bool(res.path)
        and str(res.path).startswith(("identity/", "policies/"))
    )


def _dir(res: Resource) -> bool:
    return not _policy_errors(res)


def _ctx_url(req: Request, tail: str) -> str:
    return f"{req.root}/$metadata#{tail}"


class Router:
    """Dispatches one Graph request (also used for every $batch item)."""

    def __init__(
        self, store: Store, *, throttle: Throttle, faults: Faults, latency_ms: int = 0
    ) -> None:
        self.store = store
        self.throttle = throttle
        self.faults = faults
        self.latency_ms = latency_ms
        self.routes: list[
            tuple[re.Pattern[str], str, Handler, bool]
        ] = []  # (regex, family, handler, beta_only)
        self._build()

    # -- route table ----------------------------------------------------------------------------
    def _add(self, pattern: str, family: str, handler: Handler, beta_only: bool = False) -> None:
        self.routes.append((re.compile(pattern + "$"), family, handler, beta_only))

    def _build(self) -> None:
        add = self._add
        add(r"\$batch", "none", self._batch)
        add(
            r"directory/deletedItems",
            "ru",
            lambda r, m: _raise(
                bad_request(
                    "The type cast segment is required: use directory/deletedItems/microsoft.graph.{type}."
                )
            ),
        )
        add(r"directory/deletedItems/(?P<cast>microsoft\.graph\.\w+)", "ru", self._deleted_list)
        add(r"directory/deletedItems/(?P<key>[^/]+)", "ru", self._deleted_item)
        add(r"directory/deletedItems/(?P<key>[^/]+)/restore", "ru", self._deleted_restore)
        add(
            r"roleManagement/directory/deletedItems/roleDefinitions",
            "ru",
            self._container_list("roleDefinitions"),
        )
        add(
            r"roleManagement/directory/deletedItems/roleDefinitions/(?P<key>[^/]+)",
            "ru",
            self._container_item("roleDefinitions"),
        )
        add(
            r"roleManagement/directory/deletedItems/roleDefinitions/(?P<key>[^/]+)/restore",
            "ru",
            self._container_restore("roleDefinitions"),
        )
        for path, (kind, _) in BETA_DELETED.items():
            fam = BY_NAME[kind].throttle
            add(re.escape(path), fam, self._container_list("beta", kind), beta_only=True)
            add(
                re.escape(path) + r"/(?P<key>[^/]+)",
                fam,
                self._container_item("beta", kind),
                beta_only=True,
            )
            add(
                re.escape(path) + r"/(?P<key>[^/]+)/restore",
                fam,
                self._container_restore("beta", kind),
                beta_only=True,
            )
        add(r"auditLogs/directoryAudits", "none", self._audit_list)
        add(r"auditLogs/directoryAudits/(?P<key>[^/]+)", "none", self._audit_item)
        add(r"directoryObjects/getByIds", "ru", self._get_by_ids)
        add(r"directoryObjects/(?P<key>[^/]+)", "ru", self._directory_object)
        add(r"applications/(?P<key>[^/(]+)/federatedIdentityCredentials", "ru", self._fic_list)
        add(
            r"applications/(?P<key>[^/(]+)/federatedIdentityCredentials"
            r"(?:/(?P<fid>[^/(]+)|\(name='(?P<fname>[^']*)'\))",
            "ru",
            self._fic_item,
        )
        add(r"applications/(?P<key>[^/]+)/addPassword", "ru", self._add_password)
        add(r"applications/(?P<key>[^/]+)/removePassword", "ru", self._remove_password)
        add(
            r"policies/authenticationStrengthPolicies/(?P<key>[^/]+)/updateAllowedCombinations",
            "none",
            self._update_combinations,
        )
        add(
            r"policies/authenticationStrengthPolicies/(?P<key>[^/]+)/usage",
            "none",
            self._strength_usage,
        )
        add(
            r"policies/crossTenantAccessPolicy/default/resetToSystemDefault",
            "none",
            self._reset_default,
        )
        for res in RESOURCES:
            for view in res.views:
                base = view.path.replace("{parent}", "(?P<parent>[^/]+)")
                add(base, res.throttle, self._view_collection(res, view))
                add(base + r"/(?P<key>[^/]+)", res.throttle, self._view_item(res, view))
            if res.path is None:
                continue
            for path, beta_only in [
                (res.path, False),
                *[(a, res.beta_only_aliases) for a in res.aliases],
            ]:
                self._add_resource_routes(res, path, beta_only)

    def _add_resource_routes(self, res: Resource, path: str, beta_only: bool) -> None:
        add = self._add
        if res.parent:
            add(
                path.replace("{parent}", "(?P<parent>[^/]+)"),
                res.throttle,
                self._child(res),
                beta_only,
            )
            return
        p = re.escape(path)
        if res.singleton:
            add(p, res.throttle, self._singleton(res), beta_only)
            return
        for rel in res.rels:
            add(
                p + rf"/(?P<key>[^/]+)/(?P<rel>{rel})", res.throttle, self._rel_list(res), beta_only
            )
            add(
                p + rf"/(?P<key>[^/]+)/(?P<rel>{rel})/\$ref",
                res.throttle,
                self._rel_add(res),
                beta_only,
            )
            add(
                p + rf"/(?P<key>[^/]+)/(?P<rel>{rel})/(?P<target>[^/]+)/\$ref",
                res.throttle,
                self._rel_remove(res),
                beta_only,
            )
        add(p + r"/\$count", res.throttle, self._count(res), beta_only)
        if res.alt_keys:
            add(
                p + r"\((?P<alt>\w+)='(?P<altval>[^']*)'\)",
                res.throttle,
                self._item(res),
                beta_only,
            )
        add(p + r"/(?P<key>[^/]+)", res.throttle, self._item(res), beta_only)
        add(p, res.throttle, self._collection(res), beta_only)

    # -- entry point ----------------------------------------------------------------------------
    def dispatch(self, req: Request, *, in_batch: bool = False) -> Response:
        try:
            if not in_batch:
                req.caller = caller_from_header(req.header("authorization"), self.store.tenant_id)
            req.actor = req.header("x-sim-actor")
            for regex, family, handler, beta_only in self.routes:
                m = regex.match(req.path)
                if m is None:
                    continue
                if beta_only and req.version != "beta":
                    raise GraphHTTPError(
                        400,
                        "BadRequest",
                        f"Resource not found for the segment '{req.path.split('/')[-1]}'.",
                    )
                if family == "none" and handler == self._batch:
                    return handler(req, m)
                blocked, extra = self._throttle(req, family)
                if blocked is not None:
                    return blocked
                resp = handler(req, m)
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

    def _throttle(self, req: Request, family: str) -> tuple[Response | None, dict[str, str]]:
        if family == "none" or not self.throttle.limits:
            return None, {}
        by_ids = req.path == "directoryObjects/getByIds"  # a read by POST: 5 RU (graph-notes 6.5)
        write = req.method != "GET" and not by_ids
        cost = 1
        if not write:
            cost = (
                5
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
        verdict = self.throttle.check(family, req.caller.app_id, self.store.tenant_id, cost, write)
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

    def ctx(self, req: Request) -> Ctx:
        return Ctx(self.store, req.caller, req.version)

    # -- output helpers -------------------------------------------------------------------------
    def _out(self, req: Request, res: Resource, obj: Obj, *, with_type: bool = False) -> Obj:
        out = hook_for(res).on_read(self.ctx(req), res, copy.deepcopy(obj))
        if (with_type or res.polymorphic) and "@odata.type" not in out:
            out = {"@odata.type": res.odata_type, **out}
        for name in _expand_fields(req):
            out[name] = self._expanded(req, res, obj, name)
        return out

    def _typed(self, req: Request, kind: str, obj: Obj) -> Obj:
        """A directory object as a polymorphic collection shows it: @odata.type first, on_read applied."""
        res = BY_NAME[kind]
        out = hook_for(res).on_read(self.ctx(req), res, copy.deepcopy(obj))
        return {
            "@odata.type": res.odata_type,
            **{k: v for k, v in out.items() if k != "@odata.type"},
        }

    def _expanded(self, req: Request, res: Resource, obj: Obj, name: str) -> Any:
        """$expand of relationships (first 20, graph-notes 6.2), of a principalId as `principal`,
        and of an application's federatedIdentityCredentials."""
        if name in res.rels:
            found = self.store.active_links(res.name, str(obj.get(res.key)), name)[:20]
            return [self._typed(req, k, o) for k, o in found]
        if name == "principal" and "principalId" in obj:
            hit = self.store.find_directory_object(str(obj["principalId"]))
            return self._typed(req, *hit) if hit else None
        if name == credentials.FIC_KEY and res.hook == "application":
            return copy.deepcopy(obj.get(credentials.FIC_KEY) or [])
        raise QueryError(f"Could not find a property named '{name}' to expand.")

    def _entity(
        self, req: Request, res: Resource, obj: Obj, context: str, status: int = 200
    ) -> Response:
        body = {"@odata.context": _ctx_url(req, f"{context}/$entity"), **self._out(req, res, obj)}
        fields = _select_fields(req)
        if fields:
            body = {"@odata.context": body["@odata.context"], **select(body, fields)}
            body = hook_for(res).reveal(obj, body, fields)
        return Response(status, body)

    def _page(
        self, req: Request, items: list[Obj], context: str, *, directory: bool, max_top: int = 999
    ) -> Response:
        """$filter/$count/$orderby/$top/$skiptoken/$select over already-rendered items."""
        q = req.query
        eventual = (req.header("consistencylevel") or "").lower() == "eventual"
        if "$filter" in q:
            pred, used = parse_filter(q["$filter"])
            if (
                directory
                and used & {"ne", "not", "endswith"}
                and not (eventual and q.get("$count") == "true")
            ):
                raise QueryError(
                    "Unsupported or invalid query filter clause specified for property of resource.",
                    advanced=True,
                )
            items = [o for o in items if pred(o)]
        if "$search" in q and directory and not eventual:
            raise QueryError(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                advanced=True,
            )
        if "$orderby" in q:
            prop, _, direction = q["$orderby"].strip().partition(" ")
            items = sorted(
                items,
                key=lambda o: (o.get(prop) is None, str(o.get(prop) or "").lower()),
                reverse=direction.strip().lower() == "desc",
            )
        count = len(items)
        top = DEFAULT_PAGE
        if "$top" in q:
            try:
                top = int(q["$top"])
            except ValueError:
                top = 0
            if not 1 <= top <= max_top:
                raise GraphHTTPError(
                    400,
                    "Request_BadRequest" if directory else "BadRequest",
                    f"Invalid page size specified: '{q['$top']}'. Must be between 1 and {max_top} inclusive.",
                )
        offset = decode_skiptoken(q["$skiptoken"]) if "$skiptoken" in q else 0
        page = items[offset : offset + top]
        fields = _select_fields(req)
        body: dict[str, Any] = {"@odata.context": _ctx_url(req, context)}
        if q.get("$count") == "true":
            if directory and not eventual:
                raise QueryError("$count is not currently supported.", advanced=True)
            if "$skiptoken" not in q:
                body["@odata.count"] = count
        if offset + top < len(items):
            nq = {k: v for k, v in q.items() if k != "$skiptoken"}
            nq["$skiptoken"] = encode_skiptoken(offset + top)
            body["@odata.nextLink"] = (
                f"{req.root}/{quote(req.path)}?{urlencode(nq, quote_via=quote, safe='$,()')}"
            )
        body["value"] = [select(o, fields) for o in page]
        return Response(200, body)

    # -- generic collection handlers -----------------------------------------------------------
    def _visible(self, res: Resource) -> list[Obj]:
        hook = hook_for(res)
        return [o for o in self.store.all(res.name) if hook.visible(self.store, o)]

    def _collection(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method == "GET":
                require_read(req.caller, res.perms)
                with self.store.lock:
                    items = [self._out(req, res, o) for o in self._visible(res)]
                return self._page(
                    req, items, str(res.path), directory=res.directory, max_top=res.max_top
                )
            if req.method == "POST" and res.create == "POST":
                return self._create(req, res)
            raise _method_not_allowed()

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

    def _find(self, req: Request, res: Resource, m: re.Match[str]) -> tuple[str, Obj | None]:
        groups = m.groupdict()
        if groups.get("alt"):
            alt, val = groups["alt"], unquote(groups["altval"])
            if alt not in res.alt_keys:
                raise bad_request(f"Invalid alternate key '{alt}'.", directory=_dir(res))
            obj = next(
                (o for o in self.store.all(res.name) if str(o.get(alt, "")).lower() == val.lower()),
                None,
            )
            return (obj[res.key] if obj else f"{alt}='{val}'"), obj
        key = unquote(groups["key"])
        obj = self.store.get(res.name, key)
        if obj is None and "@" in key and "userPrincipalName" in res.alt_keys:
            obj = next(
                (
                    o
                    for o in self.store.all(res.name)
                    if str(o.get("userPrincipalName", "")).lower() == key.lower()
                ),
                None,
            )
            key = obj[res.key] if obj else key
        if obj is not None and not hook_for(res).visible(self.store, obj):
            obj = None
        return key, obj

    def _lagging(self, key: str) -> bool:
        # Read-after-write lag (graph-notes 6.9): a fresh object 404s on another replica for a while.
        if not self.faults.lag_ms:
            return False
        born = self.store.created_at.get(key)
        return born is not None and (time.monotonic() - born) * 1000 < self.faults.lag_ms

    def _item(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    if obj is None or self._lagging(key):
                        raise not_found(key, directory=_dir(res))
                    return self._entity(req, res, obj, str(res.path))
                if req.method == "PATCH":
                    if obj is None:
                        if res.create == "PATCH":
                            return self._create(req, res, key=key, status=204)
                        if m.groupdict().get("alt") == "uniqueName" and "create-if-missing" in (
                            req.header("prefer") or ""
                        ):
                            return self._create(
                                req, res, extra={"uniqueName": unquote(m.group("altval"))}
                            )
                        raise not_found(key, directory=_dir(res))
                    return self._update(req, res, key, obj)
                if req.method == "DELETE" and res.deletable:
                    if obj is None:
                        raise not_found(key, directory=_dir(res))
                    return self._delete(req, res, key, obj)
            raise _method_not_allowed()

        return handler

    def _singleton(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            with self.store.lock:
                obj = self.store.get(res.name, res.fixed_id)
                if obj is None:
                    raise not_found(res.fixed_id, directory=_dir(res))
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    return self._entity(req, res, obj, str(res.path))
                if req.method == "PATCH":
                    return self._update(req, res, res.fixed_id, obj)
            raise _method_not_allowed()

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
                    body = _body_object(req, res)
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
            raise _method_not_allowed()

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
                        "Property 'id' is read-only and cannot be set.", directory=_dir(res)
                    )
            elif k in blocked:
                raise bad_request(
                    f"Property '{k}' is read-only and cannot be set.", directory=_dir(res)
                )

    def _check_type(self, res: Resource, body: Obj, current: Obj | None) -> None:
        if not res.polymorphic:
            body.pop("@odata.type", None)
            return
        t = body.get("@odata.type")
        if not t:
            raise bad_request(
                "The @odata.type property is required for this derived type.", directory=_dir(res)
            )
        if t not in res.polymorphic or (current is not None and current.get("@odata.type") != t):
            raise bad_request(f"Invalid @odata.type '{t}'.", directory=_dir(res))

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
            binds[rel] = [_target_id(u) for u in urls]
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
        body = _body_object(req, res)
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
                    directory=_dir(res),
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

    def _update(self, req: Request, res: Resource, key: str, obj: Obj) -> Response:
        require_write(req.caller, res.perms)
        if not res.updatable:
            raise _method_not_allowed()
        if res.builtin and obj.get(res.builtin[0]) == res.builtin[1]:
            raise bad_request(
                f"Built-in {audit.label(res)} objects cannot be modified.", directory=_dir(res)
            )
        patch = _body_object(req, res)
        self._check_type(res, patch, obj)
        self._check_writable(res, patch, creating=False, current_key=key)
        binds = self._binds(res, patch)
        hook = hook_for(res)
        hook.on_update(self.ctx(req), res, obj, patch)
        new = {**obj, **{k: v for k, v in patch.items() if k != "@odata.type"}}
        if (prop := hook.conflicts(self.store, res, new)) is not None:
            raise bad_request(
                f"Another object with the same value for property {prop} already exists.",
                directory=_dir(res),
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
        return Response(204)

    def _delete(self, req: Request, res: Resource, key: str, obj: Obj) -> Response:
        require_write(req.caller, res.perms)
        if res.builtin and obj.get(res.builtin[0]) == res.builtin[1]:
            raise bad_request(
                f"Built-in {audit.label(res)} objects cannot be deleted.", directory=_dir(res)
            )
        hook = hook_for(res)
        hook.on_delete(self.ctx(req), res, obj)
        if res.soft_delete and hook.soft(res, obj):
            soft_delete(self.store, res, obj)
        else:
            hard_delete(self.store, res, key)
        audit.record(
            self.store, req.caller, req.actor, res, "Delete", f"Delete {audit.label(res)}", obj
        )
        return Response(204)

    # -- relationships ($ref) -------------------------------------------------------------------
    def _rel_perms(self, res: Resource) -> Perms:
        return res.rel_perms or res.perms

    def _rel_list(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "GET":
                raise _method_not_allowed()
            require_read(req.caller, self._rel_perms(res))
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                items = [
                    self._out(req, BY_NAME[k], o, with_type=True)
                    for k, o in self.store.active_links(res.name, key, m.group("rel"))
                ]
            return self._page(req, items, "directoryObjects", directory=True)

        return handler

    def _rel_add(self, res: Resource) -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "POST":
                raise _method_not_allowed()
            require_write(req.caller, self._rel_perms(res))
            body = req.body if isinstance(req.body, dict) else {}
            if "@odata.id" not in body:
                raise bad_request("The request body must contain '@odata.id'.")
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                self._link_add(req, res, key, obj, m.group("rel"), [_target_id(body["@odata.id"])])
            return Response(204)

        return handler

    def _link_add(
        self, req: Request, res: Resource, key: str, obj: Obj, rel: str, ids: list[str]
    ) -> None:
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
                raise _method_not_allowed()
            require_write(req.caller, self._rel_perms(res))
            with self.store.lock:
                key, obj = self._find(req, res, m)
                if obj is None:
                    raise not_found(key)
                rel, target = m.group("rel"), unquote(m.group("target"))
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
            raise _method_not_allowed()

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
            raise _method_not_allowed()

        return handler

    # -- deleted items --------------------------------------------------------------------------
    def _expire(self, container: str) -> None:
        cutoff = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - DELETED_RETENTION_DAYS * 86400)
        )
        box = self.store.deleted[container]
        for key in [
            k for k, e in box.items() if (e["object"].get("deletedDateTime") or "9") < cutoff
        ]:
            entry = box.pop(key)
            self.store.purge_links(entry["kind"], key)

    def _deleted_out(self, req: Request, entry: dict[str, Any]) -> Obj:
        return self._out(req, BY_NAME[entry["kind"]], entry["object"], with_type=True)

    def _deleted_list(self, req: Request, m: re.Match[str]) -> Response:
        kind = DELETED_CASTS.get(m.group("cast"))
        if kind is None or req.method != "GET":
            raise bad_request(f"'{m.group('cast')}' is not a type that supports deleted items.")
        require_read(req.caller, BY_NAME[kind].perms)
        with self.store.lock:
            self._expire("directory")
            items = [
                self._deleted_out(req, e)
                for e in self.store.deleted["directory"].values()
                if e["kind"] == kind
            ]
        return self._page(req, items, f"directory/deletedItems/{m.group('cast')}", directory=True)

    def _deleted_entry(self, container: str, key: str, kind: str | None = None) -> dict[str, Any]:
        self._expire(container)
        entry = self.store.deleted[container].get(key)
        if entry is None or (kind is not None and entry["kind"] != kind):
            raise not_found(key, directory=kind is None or not _policy_errors(BY_NAME[kind]))
        return entry

    def _deleted_item(self, req: Request, m: re.Match[str]) -> Response:
        key = unquote(m.group("key"))
        with self.store.lock:
            entry = self._deleted_entry("directory", key)
            res = BY_NAME[entry["kind"]]
            if req.method == "GET":
                require_read(req.caller, res.perms)
                return Response(
                    200,
                    {
                        "@odata.context": _ctx_url(req, "directory/deletedItems/$entity"),
                        **self._deleted_out(req, entry),
                    },
                )
            if req.method == "DELETE":
                require_write(req.caller, res.perms)
                if not res.purgeable:
                    # graph-notes 5.1: a soft-deleted AU can't be hard-deleted; it expires after 30 days.
                    raise bad_request(
                        "Administrative units in deleted items cannot be permanently deleted."
                    )
                return self._purge(req, "directory", key, res, entry)
        raise _method_not_allowed()

    def _purge(self, req: Request, container: str, key: str, res: Any, entry: dict[str, Any]) -> Response:
        """Permanent delete from a recycle bin: gone for good, references left dangling, audited."""
        self.store.deleted[container].pop(key)
        hard_delete(self.store, res, key)
        audit.record(self.store, req.caller, req.actor, res, "Delete", f"Hard delete {audit.label(res)}",
                     entry["object"])
        return Response(204)

    def _restore(self, req: Request, container: str, key: str, kind: str | None = None) -> Response:
        with self.store.lock:
            entry = self._deleted_entry(container, key, kind)
            res = BY_NAME[entry["kind"]]
            require_write(req.caller, res.perms)
            obj = {**entry["object"], "deletedDateTime": None}
            if (prop := hook_for(res).conflicts(self.store, res, obj)) is not None:
                raise bad_request(
                    f"Another object with the same value for property {prop} already exists.",
                    directory=_dir(res),
                )
            self.store.deleted[container].pop(key)
            self.store.put(res.name, key, obj)
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Restore",
                f"Restore {audit.label(res)}",
                obj,
            )
            ctx = "directory/deletedItems" if container == "directory" else str(res.path)
            return Response(
                200,
                {
                    "@odata.context": _ctx_url(req, f"{ctx}/$entity"),
                    **self._out(req, res, obj, with_type=container == "directory"),
                },
            )

    def _deleted_restore(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise _method_not_allowed()
        return self._restore(req, "directory", unquote(m.group("key")))

    def _container_list(self, container: str, kind: str = "roleDefinitions") -> Handler:
        res = BY_NAME[kind]

        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "GET":
                raise _method_not_allowed()
            require_read(req.caller, res.perms)
            with self.store.lock:
                self._expire(container)
                items = [
                    self._out(req, res, e["object"])
                    for e in self.store.deleted[container].values()
                    if e["kind"] == kind
                ]
            return self._page(req, items, req.path, directory=_dir(res))

        return handler

    def _container_item(self, container: str, kind: str = "roleDefinitions") -> Handler:
        res = BY_NAME[kind]

        def handler(req: Request, m: re.Match[str]) -> Response:
            key = unquote(m.group("key"))
            with self.store.lock:
                entry = self._deleted_entry(container, key, kind)
                if req.method == "GET":
                    require_read(req.caller, res.perms)
                    return Response(
                        200,
                        {
                            "@odata.context": _ctx_url(
                                req, f"{req.path.rsplit('/', 1)[0]}/$entity"
                            ),
                            **self._out(req, res, entry["object"]),
                        },
                    )
                if req.method == "DELETE":
                    require_write(req.caller, res.perms)
                    return self._purge(req, container, key, res, entry)
            raise _method_not_allowed()

        return handler

    def _container_restore(self, container: str, kind: str = "roleDefinitions") -> Handler:
        def handler(req: Request, m: re.Match[str]) -> Response:
            if req.method != "POST":
                raise _method_not_allowed()
            return self._restore(req, container, unquote(m.group("key")), kind)

        return handler

    # -- directoryObjects -----------------------------------------------------------------------
    def _may_read_directory(self, caller: Caller) -> bool:
        return any(caller.may_read(BY_NAME[k].perms) for k in DIRECTORY_OBJECT_KINDS)

    def _directory_object(self, req: Request, m: re.Match[str]) -> Response:
        """GET /directoryObjects/{id}: the user/group/SP/app/AU with its @odata.type. Needs the read
        permission of the object's type (Directory.Read.All is one for every type)."""
        if req.method != "GET":
            raise _method_not_allowed()
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
                "@odata.context": _ctx_url(req, "directoryObjects/$entity"),
                **self._typed(req, kind, obj),
            }
            for name in _expand_fields(req):
                body[name] = self._expanded(req, res, obj, name)
        fields = _select_fields(req)
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
            raise _method_not_allowed()
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
            if not _GUID.fullmatch(i):
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
        fields = _select_fields(req)
        if fields:
            out = [{"@odata.type": o["@odata.type"], **select(o, fields)} for o in out]
        return Response(200, {"@odata.context": _ctx_url(req, "directoryObjects"), "value": out})

    # -- application federatedIdentityCredentials ----------------------------------------------
    def _fic_app(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["applications"]
        (require_write if write else require_read)(req.caller, FIC_PERMS)
        key = unquote(m.group("key"))
        obj = self.store.get(res.name, key)
        if obj is None or self._lagging(key):
            raise not_found(key)
        return res, obj

    def _fic_out(self, req: Request, app: Obj, fic: Obj, entity: bool = True) -> Obj:
        ctx = f"applications('{app['id']}')/federatedIdentityCredentials" + (
            "/$entity" if entity else ""
        )
        return {"@odata.context": _ctx_url(req, ctx), **copy.deepcopy(fic)}

    def _fic_save(
        self, req: Request, res: Resource, app: Obj, fics: list[Obj], activity: str
    ) -> None:
        new = {**app, credentials.FIC_KEY: fics}
        self.store.put(res.name, app["id"], new)
        audit.record(
            self.store,
            req.caller,
            req.actor,
            res,
            "Update",
            activity,
            new,
            [
                {
                    "displayName": "FederatedIdentityCredentials",
                    "oldValue": json.dumps(app.get(credentials.FIC_KEY) or []),
                    "newValue": json.dumps(fics),
                }
            ],
        )

    def _fic_list(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            if req.method == "GET":
                res, app = self._fic_app(req, m, False)
                items = copy.deepcopy(app.get(credentials.FIC_KEY) or [])
                return self._page(
                    req,
                    items,
                    f"applications('{app['id']}')/federatedIdentityCredentials",
                    directory=True,
                )
            if req.method == "POST":
                res, app = self._fic_app(req, m, True)
                body = _body_object(req, res)
                current = list(app.get(credentials.FIC_KEY) or [])
                fic = credentials.new_fic(body, current)
                self._fic_save(req, res, app, [*current, fic], "Update application")
                resp = Response(201, self._fic_out(req, app, fic))
                resp.headers["Location"] = (
                    f"{req.root}/applications/{app['id']}/federatedIdentityCredentials/{fic['id']}"
                )
                return resp
        raise _method_not_allowed()

    def _fic_item(self, req: Request, m: re.Match[str]) -> Response:
        fid, fname = m.group("fid"), m.group("fname")
        with self.store.lock:
            res, app = self._fic_app(req, m, req.method != "GET")
            current = list(app.get(credentials.FIC_KEY) or [])
            if fid is not None:
                fid = unquote(fid)
                fic = next((f for f in current if f["id"] == fid), None)
            else:
                fname = unquote(fname or "")
                fic = next((f for f in current if f["name"].lower() == fname.lower()), None)
            if req.method == "PATCH" and fic is None and fname is not None:
                # Upsert by name: PATCH .../federatedIdentityCredentials(name='x') creates it.
                created = credentials.new_fic(_body_object(req, res), current, name=fname)
                self._fic_save(req, res, app, [*current, created], "Update application")
                return Response(201, self._fic_out(req, app, created))
            if fic is None:
                raise not_found(fid if fid is not None else f"name='{fname}'")
            if req.method == "GET":
                return Response(200, self._fic_out(req, app, fic))
            if req.method == "PATCH":
                new = credentials.patch_fic(fic, _body_object(req, res), current)
                self._fic_save(
                    req,
                    res,
                    app,
                    [new if f["id"] == fic["id"] else f for f in current],
                    "Update application",
                )
                return Response(204)
            if req.method == "DELETE":
                self._fic_save(
                    req,
                    res,
                    app,
                    [f for f in current if f["id"] != fic["id"]],
                    "Update application",
                )
                return Response(204)
        raise _method_not_allowed()

    # -- actions --------------------------------------------------------------------------------
    def _app(self, req: Request, m: re.Match[str]) -> tuple[Resource, Obj]:
        res = BY_NAME["applications"]
        if req.method != "POST":
            raise _method_not_allowed()
        require_write(req.caller, res.perms)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"))
        return res, obj

    def _add_password(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            res, obj = self._app(req, m)
            spec = (
                (req.body or {}).get("passwordCredential") or {}
                if isinstance(req.body, dict)
                else {}
            )
            text = secrets.token_urlsafe(30)[:40]
            start = spec.get("startDateTime") or now_iso()
            end = spec.get("endDateTime") or time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 730 * 86400)
            )
            cred = {
                "customKeyIdentifier": None,
                "displayName": spec.get("displayName"),
                "endDateTime": end,
                "hint": text[:3],
                "keyId": str(uuid.uuid4()),
                "secretText": None,
                "startDateTime": start,
            }
            self.store.secrets[f"{obj['id']}/{cred['keyId']}"] = hashlib.sha256(
                text.encode()
            ).hexdigest()
            new = {**obj, "passwordCredentials": [*(obj.get("passwordCredentials") or []), cred]}
            self.store.put(res.name, obj["id"], new)
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Update",
                "Update application – Certificates and secrets management",
                new,
                [
                    {
                        "displayName": "KeyDescription",
                        "oldValue": "[]",
                        "newValue": json.dumps(
                            [
                                f"[KeyIdentifier={cred['keyId']},KeyType=Password,KeyUsage=Verify,DisplayName={cred['displayName']}]"
                            ]
                        ),
                    }
                ],
            )
            return Response(
                200,
                {
                    "@odata.context": _ctx_url(req, "microsoft.graph.passwordCredential"),
                    **cred,
                    "secretText": text,
                },
            )

    def _remove_password(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            res, obj = self._app(req, m)
            key_id = (req.body or {}).get("keyId") if isinstance(req.body, dict) else None
            creds = obj.get("passwordCredentials") or []
            if not any(c.get("keyId") == key_id for c in creds):
                raise bad_request(f"No password credential found with keyId '{key_id}'.")
            new = {**obj, "passwordCredentials": [c for c in creds if c.get("keyId") != key_id]}
            self.store.secrets.pop(f"{obj['id']}/{key_id}", None)
            self.store.put(res.name, obj["id"], new)
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Update",
                "Update application – Certificates and secrets management",
                new,
                [
                    {
                        "displayName": "KeyDescription",
                        "oldValue": json.dumps([key_id]),
                        "newValue": "[]",
                    }
                ],
            )
            return Response(204)

    def _strength(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["authenticationStrengthPolicies"]
        (require_write if write else require_read)(req.caller, res.perms)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"), directory=False)
        return res, obj

    def _update_combinations(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise _method_not_allowed()
        with self.store.lock:
            res, obj = self._strength(req, m, True)
            if obj.get("policyType") == "builtIn":
                raise bad_request(
                    "Built-in authentication strength policies cannot be modified.", directory=False
                )
            combos = (
                (req.body or {}).get("allowedCombinations") if isinstance(req.body, dict) else None
            )
            if not isinstance(combos, list) or not combos:
                raise bad_request("allowedCombinations is required.", directory=False)
            new = {**obj, "allowedCombinations": combos, "modifiedDateTime": now_iso()}
            self.store.put(res.name, obj["id"], new)
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
            refs = [
                p["id"]
                for p in self.store.all("conditionalAccessPolicies")
                if (((p.get("grantControls") or {}).get("authenticationStrength")) or {}).get("id")
                == obj["id"]
            ]
            return Response(
                200,
                {
                    "@odata.context": _ctx_url(
                        req, "microsoft.graph.updateAllowedCombinationsResult"
                    ),
                    "additionalInformation": None,
                    "conditionalAccessReferences": refs,
                    "currentCombinations": combos,
                    "previousCombinations": obj.get("allowedCombinations", []),
                },
            )

    def _strength_usage(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            _, obj = self._strength(req, m, False)
            users = [
                {"id": p["id"], "displayName": p.get("displayName")}
                for p in self.store.all("conditionalAccessPolicies")
                if (((p.get("grantControls") or {}).get("authenticationStrength")) or {}).get("id")
                == obj["id"]
            ]
        return Response(
            200,
            {
                "@odata.context": _ctx_url(req, "microsoft.graph.authenticationStrengthUsage"),
                "mfa": users,
                "none": [],
            },
        )

    def _reset_default(self, req: Request, m: re.Match[str]) -> Response:
        from entragit_sim.builtins import default_cross_tenant_default

        res = BY_NAME["crossTenantAccessPolicyDefault"]
        if req.method != "POST":
            raise _method_not_allowed()
        require_write(req.caller, res.perms)
        with self.store.lock:
            old = self.store.get(res.name, res.fixed_id)
            new = default_cross_tenant_default()
            self.store.put(res.name, res.fixed_id, new)
            audit.record(
                self.store,
                req.caller,
                req.actor,
                res,
                "Update",
                f"Reset {audit.label(res)}",
                new,
                audit.modified(old, new),
            )
        return Response(204)

    # -- audit log ------------------------------------------------------------------------------
    def _audit_list(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise _method_not_allowed()
        require_read(req.caller, AUDIT_PERMS)
        with self.store.lock:
            items = copy.deepcopy(
                list(reversed(self.store.audit))
            )  # newest first, as Graph lists them
        return self._page(req, items, "auditLogs/directoryAudits", directory=False)

    def _audit_item(self, req: Request, m: re.Match[str]) -> Response:
        require_read(req.caller, AUDIT_PERMS)
        key = unquote(m.group("key"))
        with self.store.lock:
            entry = next((a for a in self.store.audit if a["id"] == key), None)
        if entry is None:
            raise GraphHTTPError(404, "NotFound", f"Audit entry '{key}' was not found.")
        return Response(
            200, {"@odata.context": _ctx_url(req, "auditLogs/directoryAudits/$entity"), **entry}
        )

    # -- JSON batching (graph-notes 6.4) --------------------------------------------------------
    def _batch(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise _method_not_allowed()
        items = req.body.get("requests") if isinstance(req.body, dict) else None
        if not isinstance(items, list) or not items:
            raise GraphHTTPError(400, "BadRequest", "Invalid batch payload format.")
        if len(items) > MAX_BATCH:
            raise GraphHTTPError(
                400, "BadRequest", f"The number of batch requests exceeds the limit of {MAX_BATCH}."
            )
        ids = [str(i.get("id")) for i in items]
        if len(set(ids)) != len(ids) or any(
            not isinstance(i, dict) or "method" not in i or "url" not in i for i in items
        ):
            raise GraphHTTPError(
                400,
                "BadRequest",
                "Batch request ids must be unique and each needs id, method and url.",
            )
        known = set(ids)
        for i in items:
            for dep in i.get("dependsOn") or []:
                if str(dep) not in known:
                    raise GraphHTTPError(
                        400,
                        "BadRequest",
                        f"Request '{i['id']}' depends on unknown request '{dep}'.",
                    )
        status: dict[str, int] = {}
        out = []
        for item in items:
            rid = str(item["id"])
            deps = [str(d) for d in item.get("dependsOn") or []]
            failed = [d for d in deps if status.get(d, 424) >= 400]
            if failed:
                status[rid] = 424
                err = GraphHTTPError(
                    424,
                    "FailedDependency",
                    "The request could not be processed because a dependency failed.",
                )
                out.append(
                    {
                        "id": rid,
                        "status": 424,
                        "headers": {"Content-Type": "application/json"},
                        "body": err.body(),
                    }
                )
                continue
            url = str(item["url"])
            if url.startswith(("/v1.0/", "/beta/")) or "://" in url:
                raise GraphHTTPError(
                    400,
                    "BadRequest",
                    "Batch request urls must be relative and without the version.",
                )
            split = urlsplit(url)
            headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            sub = Request(
                method=str(item["method"]).upper(),
                version=req.version,
                path=unquote(split.path.lstrip("/")),
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={**req.headers, **headers},
                body=item.get("body"),
                base=req.base,
                caller=req.caller,
            )
            resp = self.dispatch(sub, in_batch=True)
            self.on_batch_item(sub, resp)
            status[rid] = resp.status
            entry: dict[str, Any] = {
                "id": rid,
                "status": resp.status,
                "headers": {"Content-Type": "application/json", **resp.headers},
            }
            if resp.body is not None:
                entry["body"] = resp.body
            out.append(entry)
        return Response(200, {"responses": out})

    def on_batch_item(self, req: Request, resp: Response) -> None:
        """Overridden by the server to record batch items."""


def _dynamic(obj: Obj) -> bool:
    return (
        "DynamicMembership" in (obj.get("groupTypes") or [])
        or str(obj.get("membershipType")).lower() == "dynamic"
    )


def _raise(e: GraphHTTPError) -> Response:
    raise e


def _method_not_allowed() -> GraphHTTPError:
    return GraphHTTPError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def _missing(res: Resource, prop: str) -> GraphHTTPError:
    if _policy_errors(res):
        return bad_request(
            f"1007: Incoming {res.odata_type.rsplit('.', 1)[-1]} object is null or does not match "
            f"the schema: property '{prop}' is required.",
            directory=False,
        )
    return bad_request(
        f"Invalid value specified for property '{prop}' of resource "
        f"'{res.odata_type.rsplit('.', 1)[-1][0].upper()}{res.odata_type.rsplit('.', 1)[-1][1:]}'."
    )


def _body_object(req: Request, res: Resource) -> Obj:
    if not isinstance(req.body, dict):
        raise bad_request(
            "Write requests (excluding DELETE) must contain the Content-Type header declaration "
            "and a JSON object body.",
            directory=_dir(res),
        )
    return {
        k: v
        for k, v in copy.deepcopy(req.body).items()
        if not (k.startswith("@odata.") and k != "@odata.type" and not k.endswith("@odata.bind"))
    }


def _target_id(url: Any) -> str:
    found = _GUID.findall(str(url))
    if not found:
        raise bad_request(f"Invalid object identifier '{url}'.")
    return found[-1].lower()


def _expand_fields(req: Request) -> list[str]:
    raw = req.query.get("$expand", "")
    return [f.split("(")[0].strip() for f in raw.split(",") if f.strip()]


def _select_fields(req: Request) -> list[str] | None:
    raw = req.query.get("$select")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None

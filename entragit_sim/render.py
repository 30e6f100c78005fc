"""Shared by every handler: rendering objects, $expand/$select, paging, finding an addressed object."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload
from urllib.parse import quote, unquote, urlencode

from entragit_sim import audit, credentials
from entragit_sim.errors import GraphHTTPError, bad_request
from entragit_sim.faults import Faults
from entragit_sim.hooks import Ctx, hook_for
from entragit_sim.query import QueryError, decode_skiptoken, encode_skiptoken, parse_filter, select
from entragit_sim.store import Obj, Store
from entragit_sim.table import BY_NAME, Resource
from entragit_sim.wire import Request, Response, ctx_url, dir_errors, expand_fields, select_fields

DEFAULT_PAGE = 100
# $expand on directory objects: at most 100 objects a page, whatever $top asks (not an error), and at
# most 20 linked objects per parent (https://learn.microsoft.com/graph/query-parameters#expand-parameter).
EXPAND_PAGE, EXPAND_LINKS = 100, 20


# Expandable navigation properties that hold one object, not a collection.
_SINGLE = frozenset({"catalog", "accessPackage"})


class Rendered(Sequence[Obj]):
    """Stored objects rendered as they are read: a page without $filter or $orderby renders only
    its own objects, not the whole collection again for every page."""

    def __init__(self, objs: list[Obj], render: Callable[[Obj], Obj]) -> None:
        self._objs, self._render = objs, render

    def __len__(self) -> int:
        return len(self._objs)

    @overload
    def __getitem__(self, i: int) -> Obj: ...
    @overload
    def __getitem__(self, i: slice) -> list[Obj]: ...
    def __getitem__(self, i: int | slice) -> Obj | list[Obj]:
        if isinstance(i, slice):
            return [self._render(o) for o in self._objs[i]]
        return self._render(self._objs[i])

    def __iter__(self) -> Iterator[Obj]:
        return (self._render(o) for o in self._objs)


class Render:
    """Base of the Router's handler groups: the tenant it serves and the helpers they share."""

    store: Store
    faults: Faults

    def ctx(self, req: Request) -> Ctx:
        return Ctx(self.store, req.caller, req.version)

    def _save(self, req: Request, res: Resource, key: str, old: Obj | None, new: Obj, activity: str) -> None:
        """Store an updated object and audit the change (call with the store lock held)."""
        self.store.put(res.name, key, new)
        audit.record(self.store, req.caller, req.actor, res, "Update", activity, new, audit.modified(old, new))

    # -- output helpers -------------------------------------------------------------------------
    def _out(self, req: Request, res: Resource, obj: Obj, *, with_type: bool = False) -> Obj:
        out = hook_for(res).on_read(self.ctx(req), res, copy.deepcopy(obj))
        if (with_type or res.polymorphic) and "@odata.type" not in out:
            out = {"@odata.type": res.odata_type, **out}
        for name in expand_fields(req):
            got = self._expanded(req, res, obj, name)
            if got is not None or name not in _SINGLE:  # a single-valued one with no target is left out
                out[name] = got
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
            found = self.store.active_links(res.name, str(obj.get(res.key)), name)[:EXPAND_LINKS]
            return [self._typed(req, k, o) for k, o in found]
        if name == "principal" and "principalId" in obj:
            hit = self.store.find_directory_object(str(obj["principalId"]))
            return self._typed(req, *hit) if hit else None
        if name in res.expandable:  # a missing single-valued one (a policy's accessPackage) is null
            return copy.deepcopy(obj.get(name) or (None if name in _SINGLE else []))
        if name == credentials.FIC_KEY and res.hook == "application":
            return copy.deepcopy(obj.get(credentials.FIC_KEY) or [])
        raise QueryError(f"Could not find a property named '{name}' to expand.")

    def _entity(
        self, req: Request, res: Resource, obj: Obj, context: str, status: int = 200
    ) -> Response:
        body = {"@odata.context": ctx_url(req, f"{context}/$entity"), **self._out(req, res, obj)}
        fields = _with_expanded(req, select_fields(req) or (_default_set(req, res.default_select) if req.method == "GET" else None))
        if fields:
            body = {"@odata.context": body["@odata.context"], **select(body, fields)}
            body = hook_for(res).reveal(obj, body, fields)
        return Response(status, body)

    def _page(
        self, req: Request, items: Sequence[Obj], context: str, *, directory: bool, max_top: int = 999,
        default: tuple[str, ...] = (),
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
        if directory and expand_fields(req):
            top = min(top, EXPAND_PAGE)
        offset = decode_skiptoken(q["$skiptoken"]) if "$skiptoken" in q else 0
        page = items[offset : offset + top]
        fields = _with_expanded(req, select_fields(req) or _default_set(req, default))
        body: dict[str, Any] = {"@odata.context": ctx_url(req, context)}
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

    def _visible(self, res: Resource) -> list[Obj]:
        hook = hook_for(res)
        return [o for o in self.store.all(res.name) if hook.visible(self.store, o)]


    def _find(self, req: Request, res: Resource, m: re.Match[str]) -> tuple[str, Obj | None]:
        groups = m.groupdict()
        if groups.get("alt"):
            alt, val = groups["alt"], unquote(groups["altval"])
            if alt not in res.alt_keys:
                raise bad_request(f"Invalid alternate key '{alt}'.", directory=dir_errors(res))
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


def _default_set(req: Request, default: tuple[str, ...]) -> list[str] | None:
    """A resource's documented default property set: v1.0 only (beta returns every property)."""
    return list(default) if default and req.version == "v1.0" else None


def _with_expanded(req: Request, fields: list[str] | None) -> list[str] | None:
    """$select names the properties; the relationships $expand asks for come along regardless
    (`?$select=id&$expand=owners` answers id and owners)."""
    if not fields:
        return fields
    return fields + [f for f in expand_fields(req) if f not in fields]

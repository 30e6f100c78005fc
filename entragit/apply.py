"""Run a Plan against Graph: placeholders become real ids as creates answer; the id map is written
after every create, so an interrupted apply resumes (the next plan adopts what the lost run made).

A write whose answer is lost (a 5xx, a dropped connection) may have landed: it is read back before it
is sent again, so a create is never made twice.

Independent writes go to Graph in JSON $batch envelopes of up to 20 (`Runner._batched`): a run of
operations that name none of each other's ids, of kinds none of which is written before another
(`_independent_run`; memberships are independent of each other). Conditional Access writes go one
to an envelope, spread among the others of their API version (Graph paces that family at 1 request/
second per sub-request, which a $batch does not lift). Each operation's first write is "captured"
(its method, path and body, computed by the same code that sends it alone), the envelopes go out,
and then each operation runs exactly as it would alone, its first write answered by its
sub-request: every outcome, id map entry and lost-write read-back is the single-request path's. A sub-request throttled (429) or not yet seen by
Graph's replicas (404 on an object made in this run) goes in a later envelope, since Graph did
nothing; an envelope whose answer is lost is lost for every write in it, and
each is read back before anything is resent."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from entragit import canonical, permissions, yamlio
from entragit import kinds as kindmod
from entragit.config import repo_file
from entragit.errors import AnswerLost, EntragitError, GraphError, InputError, PermissionMissing
from entragit.graph import BATCH_MAX, Graph, Response
from entragit.kinds import Kind, Requests, SubCollection
from entragit.plan import Op, Plan, chain, natural_key, placeholder_target

IDMAP = "idmap.yaml"
_EMBEDDED = re.compile(r"\{new:[^}]+\}")
_LAG_RETRIES = 8  # Entra replicas may not see a fresh object for a few seconds (graph-notes 6.9)
_CONFIRM_DELAYS = (0.0, 1.0)  # a lost write is read back at once, then again once replicas caught up
_ENVELOPES_AT_ONCE = 8  # $batch envelopes of writes in flight (the Graph client bounds requests anyway)
# Graph's write quota per app and tenant: 3,000 requests per 150 s, each $batch sub-request counted
# (https://learn.microsoft.com/graph/throttling-limits, identity and access service limits).
_WRITE_BURST, _WRITES_PER_S = 3000.0, 3000 / 150
_ENVELOPE_ROUNDS = 4  # rounds of envelopes for sub-requests still throttled (429) after Graph.batch's retries
# A write that reading shows did not land is sent again, up to this many sends in all, waiting longer
# before each resend: Graph's 5xx are transient, and a client that gives up after four sends fails one
# apply in a few hundred under the fault suite's rates (a 503 or lost answer in about one write in six).
_WRITE_SENDS = 8
_RESEND_WAITS = (0.0, 1.0, 2.0, 4.0)  # before the 2nd, 3rd, 4th send, then the last for each one after
# Reads whether a write took effect: what its answer would have carried (truthy), or None if it did not.
Landed = Callable[[], Awaitable[Any]]


def _within(tenant_dir: Path) -> Path:
    """What the id map must stay inside: the config repo, or a rehearsal's own state folder."""
    return tenant_dir.parents[1] if tenant_dir.parent.name == "tenants" else tenant_dir


def idmap_problem(data: Any) -> str | None:
    """Why a parsed idmap.yaml is not {kind: {old id: new id}}; None when it is."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return "expected a mapping {kind: {old id: new id}}"
    for kname, section in data.items():
        kind = kindmod.BY_NAME.get(str(kname))
        if kind is None:
            return f"unknown kind {kname!r}"
        if not isinstance(section, dict | None):
            return f"{kname}: expected a mapping {{old id: new id}}"
        for old, new in (section or {}).items():
            if not (isinstance(old, str) and isinstance(new, str)) or (kind.guid_id and not kindmod.GUID.match(new)):
                return f"{kname}: {old!r} -> {new!r} is not an id mapped to an id"
    return None


def load_idmap(tenant_dir: Path) -> dict[str, str]:
    """Flat old -> new map from tenants/<t>/idmap.yaml ({kind: {old: new}})."""
    root = _within(tenant_dir)
    p = repo_file(root, tenant_dir / IDMAP)
    if not p.exists():
        return {}
    rel = p.relative_to(root).as_posix()
    data = yamlio.load(p.read_text(encoding="utf-8"), rel)
    problem = idmap_problem(data)
    if problem:
        raise InputError(rel, None, problem)
    flat: dict[str, str] = {}
    for section in (data or {}).values():
        flat.update({str(k): str(v) for k, v in (section or {}).items()})
    return flat


def save_idmap(tenant_dir: Path, entries: Mapping[str, Mapping[str, str]]) -> None:
    p = repo_file(_within(tenant_dir), tenant_dir / IDMAP)
    tmp = repo_file(_within(tenant_dir), p.with_suffix(".tmp"))
    data: dict[str, dict[str, str]] = {}
    if p.exists():
        data = yamlio.load(p.read_text(encoding="utf-8"), str(p)) or {}
    for kname, m in entries.items():
        data.setdefault(kname, {}).update(m)
    data = {k: dict(sorted(v.items())) for k, v in sorted(data.items()) if v}
    tmp.write_text(yamlio.dump(data, header="# old id -> new id, written by `entragit apply`; commit it"),
                   encoding="utf-8")
    tmp.replace(p)


@dataclass
class Outcome:
    op: Op
    ok: bool
    detail: str = ""


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    new_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> old -> new

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


class Unresolved(Exception):
    """A placeholder whose create has not happened (or failed)."""


@dataclass
class _Captured(Exception):
    """An operation's first write, stopped before it is sent, to go in a $batch envelope."""

    method: str
    path: str
    version: str
    body: Any
    target: str = ""  # the object written to (a 404 on one made in this run is replication lag)


class _Unbatchable(Exception):
    """The operation reads before it writes: it is run alone."""


class _Offline:
    """The Graph client while a first write is captured: its network calls raise _Unbatchable (the
    operation reads before it writes, so it runs alone); everything else is the client's own."""

    _NETWORK = frozenset({"send", "call", "get", "list_all", "batch"})

    def __init__(self, g: Graph) -> None:
        self._g = g

    def __getattr__(self, name: str) -> Any:
        if name in self._NETWORK:
            raise _Unbatchable(name)
        return getattr(self._g, name)


class Runner:
    def __init__(self, g: Graph, plan: Plan, tenant_dir: Path, on_op: Callable[[Outcome], None] | None) -> None:
        self.g, self.plan, self.tenant_dir = g, plan, tenant_dir
        self.capturing = False  # while True, the first write raises _Captured instead of going out
        self.answered: Response | AnswerLost | None = None  # what a $batch answered the next write
        self.passwords: dict[str, str] = {}  # one initial password per user, captured or sent
        self.width = _ENVELOPES_AT_ONCE
        self.quota, self.quota_at = _WRITE_BURST, time.monotonic()  # Graph's write quota, as this run spends it
        self.rt: dict[str, str] = dict(plan.idmap)
        self.fresh: set[str] = set()  # ids created in this run (404s on them are replication lag)
        self.result = ApplyResult()
        self.on_op = on_op
        self.deferred: list[Op] = []
        self.final = False  # in the deferred pass nothing can wait any longer

    def value(self, v: Any, *, strict: bool = True) -> Any:
        if isinstance(v, dict):
            return {k: self.value(x, strict=strict) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, strict=strict) for x in v]
        if isinstance(v, str) and "{new:" in v and placeholder_target(v) is None:
            # A placeholder inside a string (an identifier URI `api://{new:<old appId>}`).
            return _EMBEDDED.sub(lambda m: self.value(m.group(0), strict=strict), v)
        old = placeholder_target(v) if isinstance(v, str) else None
        if old is None:
            return v
        if old in self.rt and self.rt[old] != old:
            return chain(self.rt, old)
        if strict:
            raise Unresolved(old)
        return v

    def _record(self, kind: Kind, old: str, new: str) -> None:
        self.rt[old] = new
        self.result.new_ids.setdefault(kind.name, {})[old] = new
        save_idmap(self.tenant_dir, {kind.name: {old: new}})

    async def _send(self, method: str, path: str, kind: Kind, body: Any = None, target: str = "",
                    version: str | None = None) -> Any:
        for attempt in range(_LAG_RETRIES + 1):
            resp = self._batch_answer(method, path, version or kind.version, body, target) if attempt == 0 else None
            if resp is None:
                resp = await self.g.send(method, path, version=version or kind.version, body=body)
            if resp.status == 404 and target in self.fresh and attempt < _LAG_RETRIES:
                await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
                continue
            if resp.status >= 500 and method != "GET":
                err = resp.error(method, path)
                raise AnswerLost(method, path, f"{err.status} {err.code}")
            if resp.status >= 400:
                raise resp.error(method, path)
            return resp.body
        raise AssertionError("unreachable")

    def _batch_answer(self, method: str, path: str, version: str, body: Any, target: str) -> Response | None:
        """The $batch's answer to this operation's first write (None: send it now).

        A 429 means Graph did nothing (it stays throttled after Graph.batch's retries): sent alone."""
        if method == "GET":
            if self.capturing:
                raise _Unbatchable(path)
            return None
        if self.capturing:
            raise _Captured(method, path, version, body, target)
        answer, self.answered = self.answered, None
        if isinstance(answer, AnswerLost):
            raise answer
        return None if answer is None or answer.status == 429 else answer

    async def _write(self, method: str, path: str, kind: Kind, landed: Landed, body: Any = None,
                     target: str = "", version: str | None = None) -> Any:
        """Send a write; when its answer is lost, read whether it landed, and resend it if not.

        Each resend follows a read that shows the write did not land, so resending never doubles it;
        the bound is there for a Graph that keeps failing (one 5xx in twenty writes, seen under the
        fault suite, makes a second loss of the same write likely across a few hundred writes)."""
        for attempt in range(1, _WRITE_SENDS + 1):
            try:
                return await self._send(method, path, kind, body=body, target=target, version=version)
            except AnswerLost as lost:
                found = await self._confirm(lost, landed)
                if found is not None:
                    return found
                if attempt == _WRITE_SENDS:
                    raise EntragitError(f"{lost.method} {lost.url}: answer lost {attempt} times ({lost.why}), "
                                        "and reading back does not show it: not sent again; the next plan will "
                                        "reconcile") from None
                await asyncio.sleep(_RESEND_WAITS[min(attempt, len(_RESEND_WAITS)) - 1])
        raise AssertionError("unreachable")

    async def _confirm(self, lost: AnswerLost, landed: Landed) -> Any:
        for delay in _CONFIRM_DELAYS:
            await asyncio.sleep(delay)
            try:
                found = await landed()
            except EntragitError as e:
                raise EntragitError(f"{lost.message}, and reading it back failed ({e.message}): "
                                    "the next plan will reconcile") from None
            if found is not None:
                return found
        return None

    async def _read(self, kind: Kind, path: str, target: str = "", version: str | None = None) -> Any:
        """The object at `path`, or None on 404."""
        try:
            return await self._send("GET", path, kind, target=target, version=version)
        except GraphError as e:
            if e.status == 404:
                return None
            raise

    def _holds(self, kind: Kind, path: str, body: Mapping[str, Any], target: str = "") -> Landed:
        """Landed when the object at `path` carries every value of `body` (a PATCH, an action)."""
        async def landed() -> Any:
            live = await self._read(kind, path, target)
            return live if live is not None and _carries(body, live) else None
        return landed

    def _gone(self, kind: Kind, path: str, version: str | None = None) -> Landed:
        """Landed when `path` answers 404 (a DELETE; a restore empties its recycle-bin entry)."""
        async def landed() -> Any:
            return True if await self._read(kind, path, version=version) is None else None
        return landed

    def _member(self, kind: Kind, target: str, rel: str, member: str, *, present: bool) -> Landed:
        """Landed when `member` is (or is no longer) in the target's `rel` relationship."""
        async def landed() -> Any:
            path = f"{kind.path}/{target}/{rel}"
            page = await self._send("GET", path, kind, target=target, version=kind.relation_version or None)
            ids = set()
            while True:
                ids |= {str(m.get("id")) for m in page.get("value", [])}
                if not page.get("@odata.nextLink"):
                    break
                page = await self.g.get(page["@odata.nextLink"])
            return True if (member in ids) == present else None
        return landed

    def _item(self, kind: Kind, sub: SubCollection, url: str, key: str, body: Mapping[str, Any]) -> Landed:
        """Landed when the sub-collection at `url` holds an item matched by `key` carrying `body`."""
        async def landed() -> Any:
            items = await self.g.list_all(url, version=kind.version)
            return next((i for i in items if sub.key(i) == key and _carries(body, i)), None)
        return landed

    def _made(self, kind: Kind, body: Mapping[str, Any]) -> Landed:
        """Landed when the collection holds the object by its natural key (how plan adopts by name)."""
        async def landed() -> Any:
            if natural_key(kind, body) is None:
                raise EntragitError(f"the {kind.title} has no natural key to look it up by")
            hits = await self._matches(kind, body)
            if len(hits) > 1:
                raise EntragitError(f"{len(hits)} {kind.title}s now match its natural key; which one it made "
                                    "is unknown")
            return hits[0] if hits else None
        return landed

    def _path(self, kind: Kind, body: Mapping[str, Any]) -> str:
        if kind.parent:
            return kind.path.format(parent=body.get(kind.parent_field, ""))
        return kind.path

    async def run(self) -> ApplyResult:
        ops = list(self.plan.ops)
        i = 0
        while i < len(ops):
            j = _independent_run(ops, i)
            # The memberships a restricted container needs go last, after the rest of the run.
            for late in (False, True):
                await self._batched([op for op in ops[i:j] if _late(op) is late])
            i = j
        self.final = True
        for op in self.deferred:  # references that pointed at objects created later (cycles)
            await self._one(op)
        return self.result

    async def _batched(self, ops: list[Op]) -> None:
        """Independent operations: their first writes in $batch envelopes, then each finished as if alone."""
        if len(ops) < 2:
            for op in ops:
                await self._one(op)
            return
        captured = [self._capture(op) for op in ops]
        answers = await self._envelopes(captured)
        for n, op in enumerate(ops):
            self.answered = answers.get(n)
            await self._one(op)
            self.answered = None

    async def _envelopes(self, captured: list[_Captured | None]) -> dict[int, Response | AnswerLost | None]:
        """Send the captured writes in envelopes of 20 (one version each), `self.width` at a time.

        Sub-requests Graph still throttles after Graph.batch's retries, and 404s on objects made in
        this run (replication lag), go in the next round's envelopes (Graph did nothing). Once Graph
        throttles, envelopes go one at a time, since concurrent ones would only split what is left
        into more, smaller requests; the write quota's model starts again from empty only when Graph
        refuses a write for it (an RU refusal, which writes also cost, leaves the write quota alone:
        Graph.send holds and paces the RU bucket itself)."""
        pending = [n for n, c in enumerate(captured) if c is not None]
        answers: dict[int, Response | AnswerLost | None] = {}
        lagging = False
        for rounds in range(_ENVELOPE_ROUNDS):
            if rounds and lagging:
                await asyncio.sleep(0.25 * 2**rounds)
            lagging = False
            by_version: dict[str, list[int]] = {}
            for n in pending:
                by_version.setdefault(captured[n].version, []).append(n)  # type: ignore[union-attr]
            paced = {n for n in pending if self.g.paces(captured[n].path)}  # type: ignore[union-attr]
            chunks = _spread([(v, idx) for v, ns in by_version.items() for idx in _chunks(ns, paced)], paced)
            pending = []
            while chunks:
                wave, chunks = chunks[:self.width], chunks[self.width:]
                throttled, refused = self.g.stats.throttled, self.g.stats.write_throttled
                await self._keep_to_quota(sum(len(idx) for _, idx in wave))
                replies = await asyncio.gather(*(self._envelope([c for n in idx if (c := captured[n])], v)
                                                 for v, idx in wave))
                if self.g.stats.throttled > throttled:  # concurrent envelopes would only split what is left
                    self.width = 1
                if self.g.stats.write_throttled > refused:  # the write quota is shared, or smaller: wait it out
                    self.quota = 0.0
                for (_, idx), got in zip(wave, replies, strict=True):
                    for n, answer in zip(idx, got, strict=True):
                        if isinstance(answer, Response) and answer.status == 429:
                            pending.append(n)
                        elif isinstance(answer, Response) and answer.status == 404 and \
                                captured[n].target in self.fresh:  # type: ignore[union-attr]
                            pending.append(n)  # made in this run: Graph's replicas have not seen it yet
                            lagging = True
                        else:
                            answers[n] = answer
            if not pending:
                break
        return answers  # a write still throttled has no answer: it is sent alone, which waits its turn

    async def _keep_to_quota(self, writes: int) -> None:
        """Send writes no faster than Graph's write quota allows, so an envelope finds room for all
        its writes instead of being refused part of them (each refusal costs a resend of the rest)."""
        now = time.monotonic()
        self.quota = min(_WRITE_BURST, self.quota + (now - self.quota_at) * _WRITES_PER_S)
        self.quota_at = now
        if self.quota < writes:
            await asyncio.sleep((writes - self.quota) / _WRITES_PER_S)
            self.quota, self.quota_at = float(writes), time.monotonic()
        self.quota -= writes

    def _capture(self, op: Op) -> _Captured | None:
        """The operation's first write, as the single-request path would send it; None when it reads
        first, names an object not created yet, or writes nothing."""
        self.capturing, online = True, self.g
        # Reads through the client go nowhere while capturing (a sub-collection's sync lists it before
        # writing): a coroutine stopped in the middle of a request would leave its connection behind.
        self.g = cast(Graph, _Offline(online))
        try:
            coro = getattr(self, "_" + op.action)(kindmod.get(op.kind), op)
            coro.send(None)  # runs to the capture, or to the read that makes the operation unbatchable
            coro.close()
        except _Captured as c:
            return c
        except (StopIteration, _Unbatchable, Unresolved, EntragitError):
            return None
        finally:
            self.capturing, self.g = False, online
        return None

    async def _envelope(self, writes: list[_Captured], version: str) -> list[Response | AnswerLost | None]:
        """One $batch of writes; per write its answer, AnswerLost, or None (Graph did not run it)."""
        reqs = [{"method": w.method, "url": w.path, **({"body": w.body} if w.body is not None else {})}
                for w in writes]
        try:
            return list(await self.g.batch(reqs, version=version))
        except AnswerLost as lost:  # the envelope went out and its answer did not come back
            return [AnswerLost(w.method, w.path, f"$batch answer lost ({lost.why})") for w in writes]
        except GraphError as e:
            if e.status >= 500:  # the envelope may have run, in part or whole
                return [AnswerLost(w.method, w.path, f"$batch {e.status} {e.code}") for w in writes]
            return [None] * len(writes)  # refused whole (nothing ran): each is sent alone
        except EntragitError:  # never reached Graph
            return [None] * len(writes)

    async def _one(self, op: Op) -> None:
        kind = kindmod.get(op.kind)
        try:
            detail = await getattr(self, "_" + op.action)(kind, op)
            out = Outcome(op, True, detail or "")
        except Unresolved as e:
            if not self.final and op.action in ("update", "link"):
                self.deferred.append(op)  # the object it names is created further down the plan
                return
            out = Outcome(op, False, f"depends on {e} which was not created")
        except GraphError as e:
            out = Outcome(op, False, _denied(kind, e))
        except EntragitError as e:
            out = Outcome(op, False, e.message)
        self.result.outcomes.append(out)
        if self.on_op:
            self.on_op(out)

    async def _restore(self, kind: Kind, op: Op) -> str:
        version = "beta" if kind.soft_delete == "policy-beta" else "v1.0"
        item = kind.deleted_item.format(id=op.target)
        await self._write("POST", item + "/restore", kind, self._gone(kind, item, version), body={},
                          version=version)
        self.fresh.add(op.target)
        return "restored"

    async def _adopt(self, kind: Kind, op: Op) -> str:
        self._record(kind, op.key, op.target)
        return f"adopted {op.target}"

    async def _create(self, kind: Kind, op: Op) -> str:
        body = dict(op.body)
        later: dict[str, Any] = {}
        for k in list(body):
            try:
                body[k] = self.value(body[k])
            except Unresolved:
                later[k] = body.pop(k)  # a cycle: create first, patch the reference after
        singles = {c.field: body.pop(c.field) for c in kind.children if c.field in body}
        if kind.create == "upsert":
            path = f"{self._path(kind, body)}/{op.key}"
            await self._write("PATCH", path, kind, self._holds(kind, path, body), body=body)
            await self._put_children(kind, path, singles, op.key)
            return "created"
        children = {sub.field: body.pop(sub.field) for sub in kind.subcollections if sub.field in body}
        note = ""
        if kind.initial_password and "passwordProfile" not in body:
            password = self.passwords.setdefault(op.key, secrets.token_urlsafe(24) + "aA1!")
            body["passwordProfile"] = {"forceChangePasswordNextSignIn": True, "password": password}
            note = "; random initial password, must be reset before first sign-in"
        for f in kind.random_on_create:  # write-only secrets: never in a plan, file or log
            if not body.get(f):
                body[f] = secrets.token_urlsafe(32)
                note += f"; random {f}, the real one must be set"
        via = kind.requests
        sent = {k: v for k, v in body.items() if not (kind.parent_in_path and k == kind.parent_field)}
        # The parent is in the path (or the request's parent field), never in the object Graph receives.
        post_path, post_body = ((via.path, via.body(via.assign, sent, body.get(kind.parent_field))) if via
                                else (self._path(kind, body), sent))
        try:
            made = await self._write("POST", post_path, kind, self._made(kind, body), body=post_body)
        except GraphError as e:
            # Assignments and grants come back with a restored service principal or user;
            # Graph then answers "already exists", which means the desired state holds.
            if not kind.name_field and (e.status == 409 or "already exist" in e.graph_message):
                found = await self._find_existing(kind, body)
                if found and found != op.key:
                    self._record(kind, op.key, found)
                return f"already exists ({found or 'id unknown'})"
            raise
        if via and not via.id_field:  # the answer is the request alone: find what it made by its natural key
            made = await self._made(kind, body)() or {}
        # A request's answer names what it made; a lost answer's read-back finds the object itself.
        new = str((via and via.id_field and made.get(via.id_field)) or made.get(kind.id_field, ""))
        self.fresh.add(new)
        if new and new != op.key:
            self._record(kind, op.key, new)
        for f, old_v in op.old.items():  # a recreated application gets a new appId too
            if old_v and made.get(f) and old_v != made[f]:
                self._record(kind, str(old_v), str(made[f]))
        for sub in kind.subcollections:
            if children.get(sub.field):
                await self._sync_items(kind, sub, f"{self._path(kind, body)}/{new}", children[sub.field], new,
                                      created=True)
        await self._put_children(kind, f"{self._path(kind, body)}/{new}", singles, new)
        if later:
            self.deferred.append(Op("update", op.kind, op.key, op.name, target=new, body=later,
                                    note="references to objects created later"))
        return f"id {new}{note}"

    async def _find_existing(self, kind: Kind, body: Mapping[str, Any]) -> str | None:
        """The live object a create collided with, found by natural key, so the id map learns it."""
        hits = await self._matches(kind, body)
        return str(hits[0].get(kind.id_field)) if hits else None

    async def _matches(self, kind: Kind, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Live objects of the collection `body` would be created in that share its natural key."""
        want = natural_key(kind, body)
        if want is None:
            return []
        params: dict[str, Any] = {"$top": kind.top} if kind.top else {}
        if kind.select:
            params["$select"] = ",".join(kind.select)
        if kind.expand:
            params["$expand"] = ",".join(kind.expand)
        if kind.parent_filter:  # Graph lists the collection only per parent (PIM for groups)
            params["$filter"] = kind.parent_filter.format(parent=body.get(kind.parent_field, ""))
        items = await self.g.list_all(self._path(kind, body), version=kind.version, params=params or None)
        if kind.parent_in_path:  # the listed bodies never name their parent: the path does
            items = [{**i, kind.parent_field: body.get(kind.parent_field)} for i in items]
        return [i for i in items if natural_key(kind, i) == want]

    async def _update(self, kind: Kind, op: Op) -> str:
        body = self.value(dict(op.body))
        target = self.value(op.target)
        path = kind.path if kind.singleton else f"{self._path(kind, body)}/{target}"
        if kind.parent_in_path:  # plan carries the parent for the path; Graph's body has no such field
            body.pop(kind.parent_field, None)
        children = {sub: body.pop(sub.field) for sub in kind.subcollections if sub.field in body}
        singles = {c.field: body.pop(c.field) for c in kind.children if c.field in body}
        for f, action in kind.actions.items():
            if f in body:
                part = {f: body.pop(f)}
                await self._write("POST", f"{path}/{action}", kind, self._holds(kind, path, part, target),
                                  body=part, target=target)
        if [k for k in body if k != "@odata.type"]:
            await self._write(str(kind.update).upper(), path, kind, self._holds(kind, path, body, target), body=body, target=target)
        for sub, items in children.items():
            await self._sync_items(kind, sub, path, items or [], target)
        await self._put_children(kind, path, singles, target)
        return "updated"

    async def _put_children(self, kind: Kind, path: str, singles: Mapping[str, Any], target: str) -> None:
        """Kind.children after their object's write: PUT replaces or creates one, DELETE drops one
        (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization)."""
        for f, value in singles.items():
            url = f"{path}/{f}"
            if value in (None, {}):
                await self._remove(kind, url, "deleted")
            else:
                await self._write("PUT", url, kind, self._holds(kind, url, value, target), body=value, target=target)

    async def _sync_items(self, kind: Kind, sub: SubCollection, path: str, want: list[Mapping[str, Any]],
                          target: str, created: bool = False) -> None:
        """Make a sub-collection hold `want`: items matched by sub.match, changed ones patched,
        missing ones posted, extra ones deleted (deletes first, so a replaced item never collides).
        Runs after the object's actions: an item may only apply to combinations already allowed."""
        url = f"{path}/{sub.field}"
        items = [] if created else await self.g.list_all(url, version=kind.version)
        live = {sub.key(i): i for i in items}
        wanted = {sub.key(i): i for i in want}
        for key, gone in live.items():
            if key not in wanted and not sub.fixed:
                await self._remove(kind, f"{url}/{gone['id']}", "deleted")
        for key, item in wanted.items():
            body = {k: v for k, v in item.items() if k != "id"}
            have = live.get(key)
            if have is None and sub.fixed:  # Graph's items only: nothing to post an unknown one to
                raise EntragitError(f"the {kind.title} has no {sub.field} item {key}; Graph makes them, "
                                    "a file cannot add one")
            if have is None:  # by its match key alone: a second item with that key is a duplicate
                await self._write("POST", url, kind, self._item(kind, sub, url, key, {}), body=body, target=target)
            elif sub.patch and any(canonical.norm(have.get(k)) != canonical.norm(v) for k, v in body.items()):
                await self._write("PATCH", f"{url}/{have['id']}", kind, self._item(kind, sub, url, key, body),
                                  body=body, target=target)

    def _via(self, kind: Kind, op: Op) -> str:
        """A relation Graph writes from the member's side (Relation.via), or ""."""
        return next((r.via for r in kind.relations if r.name == op.rel and r.via), "")

    async def _link(self, kind: Kind, op: Op) -> str:
        target = self.value(op.target)
        member = chain(self.rt, self.value(op.member))
        via = self._via(kind, op)
        ref = {"@odata.id": f"{self.g.root}/v1.0/directoryObjects/{member}"}
        url = f"{kind.path}/{target}/{op.rel}/$ref"
        if via:  # https://learn.microsoft.com/graph/api/appmanagementpolicy-post-appliesto
            ref = {"@odata.id": f"{self.g.root}/v1.0{kind.path}/{target}"}
            url = f"{kindmod.get(op.member_kind).path}/{member}/{via}/$ref"
        landed = self._member(kind, target, op.rel, member, present=True)
        try:
            await self._write("POST", url, kind, landed, body=ref, target=target)
        except GraphError as e:
            if e.status == 400 and "already exist" in e.graph_message:
                return "already linked"
            raise
        return "linked"

    async def _unlink(self, kind: Kind, op: Op) -> str:
        landed = self._member(kind, op.target, op.rel, op.member, present=False)
        url = f"{kind.path}/{op.target}/{op.rel}/{op.member}/$ref"
        if via := self._via(kind, op):  # https://learn.microsoft.com/graph/api/appmanagementpolicy-delete-appliesto
            url = f"{kindmod.get(op.member_kind).path}/{op.member}/{via}/{op.target}/$ref"
        return await self._remove(kind, url, "unlinked", landed)

    async def _delete(self, kind: Kind, op: Op) -> str:
        path = f"{self._path(kind, op.body)}/{op.target}"
        if kind.requests:
            return await self._revoke(kind, kind.requests, path, op.body.get(kind.parent_field))
        for child in kind.delete_first:
            await self._remove(kind, f"{path}/{child}", "deleted")
        return await self._remove(kind, path, "deleted")

    async def _revoke(self, kind: Kind, via: Requests, path: str, parent: object) -> str:
        """Delete through the request collection: the live object's key (Requests.remove_key, else its
        natural key) with the remove action."""
        live = await self._read(kind, path)
        if live is None:
            return "already deleted"
        body = via.body(via.remove, {f: live.get(f) for f in via.remove_key or kind.natural_key}, parent)
        await self._write("POST", via.path, kind, self._gone(kind, path), body=body)
        return "deleted"

    async def _remove(self, kind: Kind, path: str, done: str, landed: Landed | None = None) -> str:
        """DELETE where a 404 means the goal already holds (a rerun, or someone else got there first)."""
        try:
            await self._write("DELETE", path, kind, landed or self._gone(kind, path))
        except GraphError as e:
            if e.status == 404:
                return f"already {done}"
            raise
        return done


def _independent_run(ops: list[Op], i: int) -> int:
    """End of the run from ops[i] whose writes may share $batch envelopes: no operation names an id
    (or placeholder) of an earlier one in the run (a restore then its update, a replaced object's
    delete then its create, a create then the memberships it takes), no two kinds of which one is
    written before the other (an application and its service principal: `kinds.related`), and no
    adopt (it reads first). Memberships are independent of each other, whatever they name."""
    ids: set[str] = set()  # what the run's objects are (ids and placeholders)
    linked: set[str] = set()  # what its memberships name
    kinds: set[str] = set()
    j = i
    while j < len(ops):
        op = ops[j]
        if op.action == "adopt":
            return max(j, i + 1)
        mine = _ids(op)
        if (mine | _named(op)) & ids:
            break
        if op.action in ("link", "unlink"):
            linked |= mine | _named(op)
        else:
            if mine & linked or any(kindmod.related(op.kind, k) for k in kinds):
                break
            ids |= mine
            kinds.add(op.kind)
        j += 1
    return j


def _late(op: Op) -> bool:
    """A membership of a restricted container: the app may not change an object once it is inside."""
    return op.action in ("link", "unlink") and bool(kindmod.get(op.kind).restricts_members)


def _chunks(ns: list[int], paced: set[int]) -> list[list[int]]:
    """`ns` in envelopes of up to 20, at most one CA-family write in each (Graph counts each
    sub-request against the family's 1 request/second) and those envelopes spread out among the
    rest, so the family's pace holds back as few of the others as it can."""
    plain = [n for n in ns if n not in paced]
    slow = [n for n in ns if n in paced]
    count = max(-(-len(ns) // BATCH_MAX), len(slow))
    at = {k * count // len(slow): n for k, n in enumerate(slow)} if slow else {}
    chunks, rest = [], iter(plain)
    for c in range(count):
        room = BATCH_MAX - (c in at)
        chunks.append([*([at[c]] if c in at else []), *itertools.islice(rest, room)])
    return [c for c in chunks if c]


def _spread(chunks: list[tuple[str, list[int]]], paced: set[int]) -> list[tuple[str, list[int]]]:
    """The envelopes of every API version in one order, those carrying a CA-family write spread
    evenly through it: their pace then runs alongside the other envelopes (and the write quota's
    refill) instead of after them (CA policies are written through beta, most else through v1.0)."""
    slow = [c for c in chunks if paced.intersection(c[1])]
    if not slow:
        return chunks
    rest = iter(c for c in chunks if not paced.intersection(c[1]))
    at = {k * len(chunks) // len(slow) for k in range(len(slow))}
    queue = iter(slow)
    return [next(queue) if i in at else next(rest) for i in range(len(chunks))]


def _ids(op: Op) -> set[str]:
    return {x for x in (op.key, op.target, placeholder_target(op.target) or "") if x}


def _named(v: Any) -> set[str]:
    """Every string in an operation's body, placeholders unwrapped: the ids it may depend on."""
    if isinstance(v, Op):
        return _named(dict(v.body)) | _named(v.member)
    if isinstance(v, dict):
        return set().union(*(_named(x) for x in v.values())) if v else set()
    if isinstance(v, list):
        return set().union(*(_named(x) for x in v)) if v else set()
    if isinstance(v, str):
        return {v, *(m.group(0)[5:-1] for m in _EMBEDDED.finditer(v))}
    return set()


def _carries(want: Any, have: Any) -> bool:
    """Whether a live value holds everything a write set; lists compare as sets (Graph may reorder).
    A false "no" only costs a resent PATCH, which is harmless; a false "yes" cannot happen."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k.startswith("@odata.") or _carries(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and sorted(map(_json, want)) == sorted(map(_json, have))
    return bool(want == have)


def _json(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def _denied(kind: Kind, e: GraphError) -> str:
    """A refusal names what the operation needed: the 403 alone says only "Insufficient privileges"."""
    if e.status != 403 or not kind.write_perm:
        return e.message
    return f"{e.message} (this operation needs {' + '.join(kind.write_perm)})"


def _some(ops: list[str], most: int = 3) -> str:
    more = f" and {len(ops) - most} more" if len(ops) > most else ""
    return ", ".join(ops[:most]) + more


def check_permissions(plan: Plan, claims: Mapping[str, Any]) -> None:
    """Refuse before the first write when the token lacks a permission the plan needs (its writes,
    and the tenant check), instead of failing half-way through with 403s."""
    app, have = permissions.held(claims)
    needed: dict[str, list[str]] = {}
    if app and not permissions.covered(permissions.TENANT_CHECK, have):
        needed[permissions.TENANT_CHECK[0]] = ["the tenant check (GET /organization)"]
    users_only: list[str] = []
    for op in plan.ops:
        if op.action == "adopt":  # only recorded in idmap.yaml: nothing is sent
            continue
        kind = kindmod.get(op.kind)
        if app and (kind.delegated_only or kind.writes_delegated_only):
            users_only.append(f"{op.action} {kind.title} {op.name!r}")
            continue
        for alternatives in permissions.write_needs(kind):
            if not permissions.covered(alternatives, have):
                needed.setdefault(alternatives[0], []).append(f"{op.action} {kind.title} {op.name!r}")
    if users_only:
        raise PermissionMissing(f"Graph lets only a signed-in user write these, never an app; nothing was written: "
                                f"{_some(users_only)}", hint="apply as a signed-in administrator (auth.method: "
                                "device-code or azure-cli), or leave these kinds out with --only")
    if not needed:
        return
    what = "application permissions (roles)" if app else "delegated scopes (scp)"
    missing = "; ".join(f"{p} for {_some(ops)}" for p, ops in sorted(needed.items()))
    hint = ("grant them to the app registration (admin consent), then rerun: `entragit permissions` lists "
            "what apply needs" if app else "consent these scopes for the client you sign in with, then rerun")
    raise PermissionMissing(f"the token's {what} lack what this plan needs; nothing was written: missing "
                            f"{missing}", hint=hint)


async def check_tenant(g: Graph, tenant_id: str, doing: str = "write") -> None:
    """Refuse to write into (or export from) a tenant other than the one tenant.yaml names."""
    org = await g.get("/organization")
    ids = {str(o.get("id", "")).lower() for o in org.get("value", [])}
    if tenant_id.lower() not in ids:
        raise EntragitError(f"the token reaches tenant {', '.join(sorted(ids)) or '?'}, but tenant.yaml says "
                            f"{tenant_id}; refusing to {doing}",
                            hint="check tenantId and graphUrl in tenant.yaml, and which tenant the credentials "
                                 "sign in to")


async def execute(g: Graph, plan: Plan, tenant_dir: Path, on_op: Callable[[Outcome], None] | None = None
                  ) -> ApplyResult:
    return await Runner(g, plan, tenant_dir, on_op).run()

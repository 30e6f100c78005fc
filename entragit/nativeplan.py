"""Native recovery and entragit in one plan: which operations the native backup can carry out
with original ids, and `native apply` (native recovery scoped by id, then entragit the rest).

The native service never creates objects, restores only from soft delete, covers a fixed set of
objects and properties and keeps seven days (https://learn.microsoft.com/entra/backup/scope-supported-objects-limitations);
entragit recreates what is gone and remaps every reference. An unscoped recovery would soft-delete
every object created after the snapshot, so the recovery job here is always scoped by object id."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from entragit.config import Tenant
from entragit.errors import EntragitError
from entragit.native import (
    FORMAT_VERSION,
    KIND_OF,
    TRAILER,
    NativeChange,
    Progress,
    Report,
    claims,
    needs_admin,
    pick,
    preview,
    read_snapshots,
    recover,
    session,
    title,
)

REMAP = "{new:"  # a plan placeholder: the new id of a recreated object


@dataclass(frozen=True)
class Mark:
    """Who can carry out one plan operation: `native` (recovery to the snapshot, original id) or `entragit`."""

    op: Any  # plan.Op
    by: str  # native | entragit
    why: str
    fields: tuple[str, ...] = ()  # native: the properties it restores


def _same(kind: str, field: str, a: Any, b: Any) -> bool:
    from entragit import kinds as kindmod
    from entragit import plan as planmod

    return planmod._norm(kindmod.get(kind), field, a) == planmod._norm(kindmod.get(kind), field, b)


def _wanted(ops: list[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, live id) -> the plan's writes to it: `body` (the PATCH), `restore`, `add` / `remove` members."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for op in ops:
        w = out.setdefault((op.kind, op.target), {"body": {}, "restore": False, "add": set(), "remove": set()})
        if op.action == "update":
            w["body"].update({k: v for k, v in op.body.items() if k != "@odata.type"})
        elif op.action == "restore":
            w["restore"] = True
        elif op.action in ("link", "unlink") and op.rel == "members":
            w["add" if op.action == "link" else "remove"].add(op.member)
    return out


def _agrees(c: NativeChange, want: dict[str, Any]) -> bool:
    """Does everything recovery would write to this object match what the plan writes? Then native
    recovery may do it (a property the plan leaves alone is already as git wants it)."""
    if c.action == "softDelete" or (c.action == "restore") != want["restore"]:
        return False
    if any(p not in want["body"] or not _same(c.kind, p, then, want["body"][p]) for p, (_, then) in c.props.items()):
        return False
    return set(c.add_members) <= want["add"] and set(c.remove_members) <= want["remove"]


def candidates(ops: list[Any]) -> dict[str, list[str]]:
    """Live ids, by kind, of the objects whose plan operations native recovery might carry out."""
    out: dict[str, set[str]] = {}
    for op in ops:
        if op.kind in KIND_OF.values() and op.target and op.action in ("restore", "update", "link", "unlink"):
            if op.action in ("link", "unlink") and (op.rel != "members" or op.kind != "groups"):
                continue
            if op.target.startswith("{new:"):
                continue
            out.setdefault(op.kind, set()).add(op.target)
    return {k: sorted(v) for k, v in out.items()}


def marks(ops: list[Any], report: Report) -> list[Mark]:
    """Each plan operation marked native (which properties) or entragit (why only entragit can)."""
    wanted = _wanted(ops)
    by_id = {(c.kind, c.id): c for c in report.changes}
    ok = {key for key, c in by_id.items() if key in wanted and _agrees(c, wanted[key])}
    out = []
    for op in ops:
        c = by_id.get((op.kind, op.target))
        if op.kind not in KIND_OF.values():
            out.append(Mark(op, "entragit", f"native backup does not cover {title(op.kind)}s"))
        elif op.action == "create":
            why = ("hard-deleted: native recovery never creates objects; new id, references remapped"
                   if op.fate == "recreated" else "never existed in the tenant: written in git")
            out.append(Mark(op, "entragit", why))
        elif op.action in ("delete", "adopt"):
            out.append(Mark(op, "entragit", "native recovery only restores, updates and soft-deletes by snapshot"))
        elif (op.target or "").startswith(REMAP):
            out.append(Mark(op, "entragit", "on a recreated object: native recovery never creates objects"))
        elif REMAP in json.dumps(op.body, default=str) or REMAP in (op.member or ""):
            out.append(Mark(op, "entragit", "a reference to a recreated object: native recovery cannot remap it"))
        elif c is None:
            out.append(Mark(op, "entragit", "the snapshot holds the live state too (the change is older than the "
                                            "snapshot, or a property native does not cover)"))
        elif (op.kind, op.target) not in ok:
            out.append(Mark(op, "entragit", "native recovery would write values git does not want "
                                            "(or a reference to a recreated object)"))
        elif op.action == "restore":
            out.append(Mark(op, "native", "restore from soft delete, original id"))
        elif op.action == "update":
            fields = tuple(sorted(k for k in op.body if k != "@odata.type"))
            if not set(fields) <= set(c.props):
                out.append(Mark(op, "entragit", "properties native does not cover"))
            else:
                out.append(Mark(op, "native", "update back to the snapshot", fields))
        elif op.member in c.add_members or op.member in c.remove_members:
            out.append(Mark(op, "native", "static group membership"))
        else:
            out.append(Mark(op, "entragit", "not a membership change the snapshot holds"))
    return out


def native_ids(ms: list[Mark]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for m in ms:
        if m.by == "native":
            out.setdefault(m.op.kind, set()).add(m.op.target)
    return {k: sorted(v) for k, v in out.items()}


def _what(m: Mark, names: dict[str, str]) -> str:
    """The operation in words: action, kind, name, and for a link the relationship and its member."""
    from entragit import plan as planmod

    what = f"{m.op.action} {title(m.op.kind)} {m.op.name!r}"
    if m.op.member:
        old = planmod.placeholder_target(m.op.member)
        who = f"<new id of {names.get(old.lower(), old)}>" if old else names.get(m.op.member.lower(), m.op.member)
        what += f" {m.op.rel or 'member'} {who}"
    return what


def render_marks(ms: list[Mark], report: Report, names: dict[str, str], fmt: str = "text") -> str:
    when = report.snapshot.taken_at.strftime("%Y-%m-%d %H:%M:%SZ")
    n = sum(m.by == "native" for m in ms)
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, "tenant": report.tenant, "snapshot": report.snapshot.id,
                           "takenAt": report.snapshot.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "job": report.job_id,
                           "operations": [{"action": m.op.action, "kind": m.op.kind, "key": m.op.key,
                                           "target": m.op.target or None, "name": m.op.name, "by": m.by,
                                           "why": m.why, "fields": list(m.fields),
                                           **({"member": m.op.member} if m.op.member else {})} for m in ms]},
                          indent=2) + "\n"
    lines = [f"Native backup: snapshot {report.snapshot.id} (taken {when}), difference report {report.job_id}"]
    for m in ms:
        extra = f": {', '.join(m.fields)}" if m.fields else ""
        lines.append(f"  {m.by:<9} {_what(m, names)}{extra}  ({m.why})")
    lines.append(f"{n} of {len(ms)} operation(s) native recovery can do with original ids; entragit does the rest.")
    return "\n".join(lines) + "\n"


def plan_marks(root: Any, t: Tenant, ref: str, snapshot: str | None, progress: Progress,
               selectors: tuple[str, ...] = (), prune: bool = False) -> tuple[Any, Report, list[Mark]]:
    """entragit's plan for `ref`, a difference report scoped to the objects it touches, and the marks."""
    from entragit import reconcile

    s = reconcile.plan(root, t, ref, selectors, prune)
    ids = candidates(list(s.plan.ops))

    async def go() -> Report:
        async with session(t) as g:
            if not ids:
                snap = pick(await read_snapshots(g, t), snapshot, t)
                return Report(t.name, snap, "-", ())
            return await preview(g, t, snapshot, ids, progress)

    report = asyncio.run(go())
    return s, report, marks(list(s.plan.ops), report)


def marks_json(report: Report, ms: list[Mark]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`plan --native-marks --format json`: the snapshot the marks come from, and one mark per operation."""
    head = {"snapshot": report.snapshot.id, "takenAt": report.snapshot.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "job": report.job_id, "count": sum(m.by == "native" for m in ms)}
    return head, [{"by": m.by, "why": m.why, "fields": list(m.fields)} for m in ms]


def with_marks(rendered: str, fmt: str, report: Report, ms: list[Mark], names: dict[str, str]) -> str:
    """A rendered plan (`render.render`) with the native marks added in the same format."""
    if fmt == "json":
        doc = json.loads(rendered)
        head, per_op = marks_json(report, ms)
        for op, mark in zip(doc["operations"], per_op, strict=True):
            op["native"] = mark
        doc["native"] = head
        return json.dumps(doc, indent=2, ensure_ascii=False)
    if not ms:  # nothing to do: no split to show
        return rendered
    if fmt == "markdown":
        when = report.snapshot.taken_at.strftime("%Y-%m-%d %H:%M:%SZ")
        n = sum(m.by == "native" for m in ms)
        lines = [rendered.rstrip("\n"), "", f"#### Native backup: snapshot `{report.snapshot.id}` (taken {when})", "",
                 f"**{n} of {len(ms)} operation(s) native recovery can do with original ids; entragit does the rest.**",
                 "", "| by | operation | why |", "|---|---|---|"]
        for m in ms:
            what = _what(m, names).replace("|", "/")
            extra = f": `{', '.join(m.fields)}`" if m.fields else ""
            lines.append(f"| {m.by} | {what}{extra} | {m.why} |")
        return "\n".join(lines) + "\n"
    return rendered.rstrip("\n") + "\n\n" + render_marks(ms, report, names).rstrip("\n")


RECOVERY_TRAILER = "Entragit-Native-Recovery"  # `native apply --commit`: the recovery job id


@dataclass(frozen=True)
class ViaNative:
    """What `apply --via native` did: the native part (job ids, objects restored with original ids)
    and entragit's (operations applied, write requests)."""

    ref: str  # the plan's ref, as `entragit/applied/<tenant>` is tagged with it
    job_id: str  # recovery job ids, space-separated; "" when native had nothing to do
    snapshot: str
    native: int  # plan operations the native recovery carried out
    native_failed: int  # changes the recovery reported failed (entragit did them)
    applied: int  # entragit's operations that succeeded
    total: int  # entragit's operations
    writes: int  # entragit's write requests
    empty: bool = False  # the plan had nothing to do

    def summary(self) -> str:
        if self.empty:
            return "No changes."
        native = (f"native recovery {self.job_id} did {self.native} operation(s) with original ids"
                  f"{f' ({self.native_failed} change(s) failed, left to entragit)' if self.native_failed else ''}"
                  if self.job_id else "native recovery had nothing to do")
        return f"Applied via native: {native}; entragit applied {self.applied}/{self.total} ({self.writes} write requests)."


def check_identity(t: Tenant) -> None:
    """Refuse, before anything is read or written, a sign-in that cannot create recovery jobs (an
    app, a user without the Backup Administrator role or the delegated scope) or that reaches
    another tenant than tenant.yaml names."""
    from entragit import apply as applymod

    async def go() -> None:
        async with session(t) as g:
            if (why := needs_admin(t, "recovery", await claims(g))) is not None:
                raise why
            await applymod.check_tenant(g, t.tenant_id)

    asyncio.run(go())


def _recover(t: Tenant, report: Report, ids: dict[str, list[str]], echo: Any, progress: Progress) -> tuple[str, int]:
    """The scoped recovery jobs, reported line by line; (job ids, failed changes)."""
    async def go() -> list[tuple[dict[str, Any], list[NativeChange]]]:
        async with session(t) as g:
            return await recover(g, t, report.snapshot, ids, progress)

    done = asyncio.run(go())
    n_failed = 0
    for job, failed in done:
        echo(f"native recovery {job.get('id')}: {job.get('status')}, {job.get('totalObjectsModified') or 0} "
             f"object(s) and {job.get('totalLinksModified') or 0} link(s) restored, {len(failed)} failed")
        for f in failed:
            echo(f"  FAILED {title(f.kind)} {f.name!r} ({f.id}): {f.failure} (entragit retries it)")
        if job.get("status") != "successful":
            echo(f"native recovery ended {job.get('status')}: entragit does what it would have")
        n_failed += len(failed)
    return " ".join(str(job.get("id")) for job, _ in done), n_failed


def apply_via_native(root: Any, t: Tenant, ref: str, snapshot: str | None, yes: bool, echo: Any,
                     confirm: Any, progress: Progress, *, selectors: tuple[str, ...] = (), prune: bool = False,
                     force_lockout: bool = False, colour: bool = False, on_op: Any = None) -> ViaNative:
    """Native recovery for what it can do with original ids (scoped by object id), then entragit
    applies the rest and proves a second plan empty.

    Refuses up front, before any write, when the sign-in cannot create recovery jobs, reaches
    another tenant, or the plan would lock out a break-glass account (unless `force_lockout`)."""
    from entragit import delta, reconcile, render

    check_identity(t)
    s, report, ms = plan_marks(root, t, ref, snapshot, progress, selectors, prune)
    names = s.names()
    echo(render.text(s.plan, names, s.risks, colour=colour))
    if s.plan.empty:
        return ViaNative(s.plan.ref, "", report.snapshot.id, 0, 0, 0, 0, 0, empty=True)
    echo(render_marks(ms, report, names))
    risky = [w for w in s.plan.warnings if w.startswith("LOCKOUT RISK")]
    if risky and not force_lockout:  # before the native part writes anything
        raise EntragitError(risky[0], hint="fix the files, or pass --force-lockout-risk if you are sure")
    if not yes and not confirm("Recover natively, then apply the rest?"):
        raise EntragitError("aborted; nothing was written")
    ids, job_id, n_failed = native_ids(ms), "", 0
    if ids:
        job_id, n_failed = _recover(t, report, ids, echo, progress)
        # Recovery writes leave no delta records and send no change notifications
        # (https://learn.microsoft.com/graph/api/resources/entrarecoveryservices-backup-recovery-overview):
        # an incremental export would miss them, so the next one reads in full.
        delta.forget(root, t.name)
        echo("the next export reads the tenant in full: native recovery leaves no delta records")
    applied = total = writes = 0
    rest = reconcile.plan(root, t, ref, selectors, prune)
    if not rest.plan.empty:
        echo("entragit does the rest:")
        echo(render.text(rest.plan, rest.names(), rest.risks, colour=colour))
        result, stats = reconcile.apply(root, t, rest, force_lockout=force_lockout, on_op=on_op or (lambda o: echo(
            f"  {'ok ' if o.ok else 'FAILED'} {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}")))
        total, writes = len(result.outcomes), stats.writes
        applied = total - len(result.failed)
        if result.failed:
            echo(f"Applied {applied}/{total} operations ({writes} write requests).")
            raise EntragitError(f"{len(result.failed)} operation(s) failed; fix and rerun (it resumes safely)")
    done = ViaNative(s.plan.ref, job_id, report.snapshot.id, sum(m.by == "native" for m in ms), n_failed,
                     applied, total, writes)
    second = reconcile.plan(root, t, ref, selectors, prune)
    if not second.plan.empty:
        echo(done.summary())
        raise EntragitError(f"the tenant still differs from the files after the recovery: "
                            f"{len(second.plan.ops)} operation(s) left", hint="run `entragit plan` to see them")
    echo(done.summary())
    echo("Second plan: no changes.")
    return done


def commit_message(t: Tenant, ref: str, job_id: str, snapshot: str) -> str:
    """The re-export's commit after `native apply`: recovery writes emit no change notifications or
    delta records, so a full export is what records them; the trailers link the native job."""
    lines = [f"{t.name}: native apply {ref[:10]}", ""]
    if job_id:
        lines.append(f"{RECOVERY_TRAILER}: {job_id}")
    lines.append(f"{TRAILER}: {snapshot}")
    return "\n".join(lines) + "\n"

"""Plan and apply for one tenant: desired (files at a rev) + live (Graph) -> Plan -> Graph."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import apply as applymod
from entragit import auth, doccache, gitstore, risk, safety
from entragit import kinds as kindmod
from entragit import plan as planmod
from entragit import refs as refmod
from entragit.config import APP_ONLY_METHODS, Tenant
from entragit.errors import EntragitError, GraphError
from entragit.graph import Graph, Stats
from entragit.snapshot import Snapshot, id_names, read_files, read_live


def desired_state(root: Path, t: Tenant, ref: str, texts: dict[str, str] | None = None,
                  exported: dict[str, Any] | None = None) -> Snapshot:
    """The tenant's files at `ref` (or the work tree for WORKTREE); `texts`: ref_texts(), read already;
    `exported`: the documents validate took from the export's parsed cache (not parsed again)."""
    texts = ref_texts(root, t, ref) if texts is None else texts
    if texts is None:  # the work tree
        return read_files(t.dir, root)
    files = {p: text for p, text in texts.items()
             if p.count("/") == 3 and p.rpartition("/")[2] not in ("tenant.yaml", applymod.IDMAP)}
    return read_files(t.dir, root, files, {p: d for p, d in (exported or {}).items() if p in files})


def ref_texts(root: Path, t: Tenant, ref: str) -> dict[str, str] | None:
    """{repo-relative path: text} of the tenant's files at `ref`; None for the work tree."""
    return None if ref == gitstore.WORKTREE else gitstore.files_at(root, ref, t.dir.relative_to(root).as_posix())


def uncommitted_objects(root: Path, t: Tenant) -> list[str]:
    """The tenant's object files (kind/file.yaml) with uncommitted changes, which a plan of a revision leaves out."""
    folder = t.dir.relative_to(root).as_posix()
    return [p[len(folder) + 1:] for p in gitstore.uncommitted(root, folder)
            if p.count("/") == 3 and p.endswith(".yaml")]


async def _deleted(g: Graph, kinds: list[str], *, app_only: bool) -> dict[str, dict[str, dict[str, Any]]]:
    """Recycle-bin contents per kind, for the kinds this identity may restore (the rest are recreated)."""
    from entragit import canonical

    out: dict[str, dict[str, dict[str, Any]]] = {}
    for kname in kinds:
        kind = kindmod.get(kname)
        if app_only and not kind.restore_app_only:
            continue
        version = "beta" if kind.soft_delete == "policy-beta" else "v1.0"
        try:
            items = await g.list_all(kind.deleted_list, version=version,
                                     params={"$top": kind.top} if kind.top else None)
        except GraphError as e:
            # No recycle bin for this kind here, or not for this identity (403 on the policy bins):
            # recreate instead.
            if e.status in (400, 403, 404, 405):
                continue
            raise
        out[kname] = {str(i.get(kind.id_field)): canonical.clean(kind, i) for i in items}
    return out


def recycle_bins(t: Tenant, kinds: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every recycle bin of `kinds` this identity may read, as plan reads them (read-only GETs)."""
    async def go() -> dict[str, dict[str, dict[str, Any]]]:
        async with _graph(t) as g:
            return await _deleted(g, [k for k in kinds if kindmod.get(k).deleted_list], app_only=False)

    return asyncio.run(go())


def unapplied(root: Path, t: Tenant) -> str | None:
    """The commit the tenant last matched (tag entragit/applied/<name>) when the branch's files of the
    tenant changed since: a merged change apply has not made yet. None when they are equal, or when
    no apply or committing export recorded one. tenant.yaml is settings, not tenant state: left out."""
    sha = gitstore.applied(root, t.name)
    if sha is None or gitstore.head(root) is None:
        return None
    rel = t.dir.relative_to(root).as_posix()

    def state(rev: str) -> dict[str, str]:
        return {p: b for p, b in gitstore.blob_ids(root, rev, rel).items() if Path(p).name != "tenant.yaml"}

    return sha if state(sha) != state("HEAD") else None


@dataclass(repr=False)  # holds two Snapshots: see Snapshot's note on repr
class Session:
    tenant: Tenant
    plan: planmod.Plan
    live: Snapshot
    stats: Stats
    risks: tuple[risk.Note, ...] = ()  # security-relevant changes the plan makes (risk.py rules)
    desired: Snapshot | None = None
    selectors: tuple[str, ...] = ()  # --only as resolved: the kinds and ids a saved plan records
    read: str = "full read"  # how the live tenant was read: "incremental", or "full read: why"

    def names(self) -> dict[str, str]:
        """id -> display name from live and the files (recreated objects are only in the files)."""
        return id_names(self.live, *([self.desired] if self.desired else []))


def _assessed(kind: kindmod.Kind, body: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A body as risk rules should see it: placeholders read as the old ids they stand for."""
    if body is None:
        return None
    return refmod.rewrite(kind, dict(body), lambda _r, v: planmod.placeholder_target(v) or v)


def plan_risks(plan: planmod.Plan, desired: Snapshot, live: Snapshot, t: Tenant) -> tuple[risk.Note, ...]:
    """Risk notes for each write: live body before, the body the plan leaves behind after."""
    ctx: risk.Context | None = None  # memberships, roles and names of both sides: built for a kind a rule judges
    notes: list[risk.Note] = []
    for op in plan.ops:
        if op.kind not in risk.JUDGED:
            continue
        kind = kindmod.get(op.kind)
        have = live.objects.get(op.kind, {}).get(op.target) if op.action in ("update", "delete") else None
        if op.action == "delete":
            after = None if op.note != "replaced (no update in Graph)" else have
        elif op.action in ("create", "update"):
            after = {**(have or {}), **op.body}
        else:
            continue
        if ctx is None:
            ctx = risk.context(t.break_glass, id_names(desired, live), desired, live)
        notes += risk.assess(op.kind, op.name, _assessed(kind, have), _assessed(kind, after), ctx)
    return tuple(notes) + tuple(risk.dangling_notes(desired, None, live))


def _graph(t: Tenant) -> Graph:
    # The run's one credential for this tenant: plan, apply and re-plan sign in once.
    cred, token = auth.credential(t)
    return Graph(t.graph_url, credential=cred, token=token, verify=t.ca_bundle or True,
                 paced_paths=kindmod.PACED_PATHS)


async def _read_for_plan(root: Path, t: Tenant, g: Graph, kinds: list[kindmod.Kind],
                         incremental: bool, known: dict[str, Any] | None = None) -> tuple[Snapshot, str]:
    """The live tenant, and how it was read. `incremental`: when the last export's delta state is
    usable, its commit's files plus what Graph's delta reports changed since (entragit/delta.py:
    the same snapshot a full read gives, by construction); else, or when Graph no longer serves a
    link, a full read. A kind this identity may not read (a Conditional Access Administrator signed
    in to restore a policy cannot read role assignments) is left out of the plan, named, never
    guessed at: with no live side its objects would all look missing and be created twice.
    `known`: the desired state's documents by blob id, which the incremental base shares."""
    import datetime as dt

    from entragit import delta

    why = "not asked"
    if incremental:
        state, why = delta.for_plan(root, t.name, t.dir, kinds, dt.datetime.now(dt.timezone.utc), t.graph_url)
        if state is not None:
            try:
                live, _links = await delta.read_incremental(g, root, t.dir, state, kinds, allow_partial=True,
                                                            rev=state.head, known=known)
                return live, "incremental"
            except delta.Expired as e:
                why = f"a delta link expired ({e})"
            except GraphError as e:
                if e.status != 403:
                    raise
                why = "this identity may not read the delta functions"
    return await read_live(g, kinds, allow_partial=True), f"full read: {why}"


async def _plan_async(root: Path, t: Tenant, ref: str, selectors: Sequence[str], prune: bool,
                      g: Graph, desired: Snapshot, incremental: bool = False,
                      known: dict[str, Any] | None = None) -> Session:
    if not desired.objects:
        raise EntragitError(f"no objects for tenant {t.name} at {ref}", hint="run `entragit export --commit` first")
    kinds = [kindmod.get(k) for k in desired.objects]
    live, how = await _read_for_plan(root, t, g, kinds, incremental, known)
    (known or {}).clear()  # the documents' top levels and refs: each snapshot holds what it needs
    unread = tuple(f"{kindmod.get(k).title}s not planned: {why}" for k, why in sorted(live.errors.items()))
    idmap = applymod.load_idmap(t.idmap_dir)
    chosen = _selected(root, t, ref, selectors, desired, live, idmap)
    for kname in live.errors:
        desired.objects.pop(kname, None)
    deleted = await _deleted(g, list(planmod.missing_kinds(desired, live, idmap)), app_only=False)
    # Held in a bin this identity may not empty (CA policies for an app): recreated, and the plan says so.
    held = {k: set(deleted.pop(k)) for k in list(deleted)
            if t.auth.get("method") in APP_ONLY_METHODS and not kindmod.get(k).restore_app_only}
    plan = planmod.compute(t.name, ref, desired, live, deleted, idmap, chosen, prune, held)
    if t.auth.get("method") in APP_ONLY_METHODS:  # who the session's own token names
        from entragit import identity

        claims = auth.decode_claims(await g.access_token())
        plan = identity.predict(plan, live, desired, identity.Identity.of_app(claims or {}, live))
    if unread:
        plan = dataclasses.replace(plan, warnings=unread + plan.warnings)
    risks = safety.lockout_risks(plan, desired, live, t)
    if risks:
        plan = dataclasses.replace(plan, warnings=plan.warnings + tuple("LOCKOUT RISK: " + r for r in risks))
    return Session(t, plan, live, g.stats, plan_risks(plan, desired, live, t), desired, chosen, how)


def _selected(root: Path, t: Tenant, ref: str, specs: Sequence[str], desired: Snapshot, live: Snapshot,
              idmap: Mapping[str, str]) -> tuple[str, ...]:
    """--only as kinds and ids, read before unreadable kinds leave the plan (their objects still exist)."""
    from entragit import selectors as selmod

    if not specs:
        return ()
    live_ids = {key: planmod.chain(idmap, key) for objs in desired.objects.values() for key in objs}
    cands = selmod.candidates(t.name, desired, live, {k: v for k, v in live_ids.items() if v != k})
    at = "the work tree" if ref == gitstore.WORKTREE else ref[:10]
    return selmod.resolve(specs, cands, root, f"tenant {t.name} (files at {at}, or live)")


# Findings that follow from a problem elsewhere (a file that does not parse leaves the references
# to its object dangling): reported only when nothing more basic is wrong.
_CONSEQUENCES = ("dangling-ref", "duplicate-name")


def _findings(root: Path, t: Tenant, texts: dict[str, str] | None, exported: dict[str, Any]) -> list[Any]:
    """validate's findings for the tenant's files (`texts`: at a revision; a commit may have skipped
    pre-commit), or for its folder when None."""
    from entragit.validate import validate_paths, validate_texts

    if texts is None:
        return validate_paths(root, [t.dir])
    return validate_texts(root, t.dir, texts, exported) if texts else []


def _check_files(root: Path, t: Tenant, texts: dict[str, str] | None, exported: dict[str, Any]) -> None:
    """The files get the checks pre-commit would have run: the most basic error stops the plan.

    The lock-out rule is left to the plan's own guard, which --force-lockout-risk can override.
    `exported` receives the documents validate read from the export's cache. Files that passed
    before, at the same HEAD and release, are not checked again (entragit/checkcache.py)."""
    from entragit import checkcache
    from entragit.errors import InputError
    from entragit.validate import exported_documents

    key = checkcache.key(root, texts) if texts else None  # a work tree changes under us: checked each time
    if key and checkcache.passed(root, t.name, key):
        exported.update(exported_documents(root, t.dir, texts or {}))
        return
    errors = [f for f in _findings(root, t, texts, exported) if f.severity == "error" and f.rule != "ca-lockout"]
    if errors:
        f = min(errors, key=lambda f: (f.rule in _CONSEQUENCES, f.rule not in ("yaml", "file"), f.path, f.line or 0))
        raise InputError(f.path, f.line, f"{f.message} [{f.rule}]")
    if key:
        checkcache.remember(root, t.name, key)


def plan(root: Path, t: Tenant, ref: str = "HEAD", selectors: Sequence[str] = (), prune: bool = False,
         incremental: bool = False) -> Session:
    """What apply would do. `incremental` (plan's default, never apply's, which writes on what it
    read): the live tenant may be read as the last export plus Graph's changes since."""
    if ref != gitstore.WORKTREE:
        gitstore.resolve(root, ref)
    texts, exported = ref_texts(root, t, ref), dict[str, Any]()
    _check_files(root, t, texts, exported)
    desired = desired_state(root, t, ref, texts, exported)
    # The exported documents by blob id: the live side read by delta starts from mostly the same files.
    known = {doccache.blob_id(texts[p]): d for p, d in exported.items()} if incremental and texts else {}
    del texts, exported  # the files' texts and validate's documents: the desired state holds what it needs

    async def go() -> Session:
        async with _graph(t) as g:
            return await _plan_async(root, t, ref, selectors, prune, g, desired, incremental, known)

    return asyncio.run(go())


def load_saved(root: Path, path: str) -> Session:
    """A plan saved by `plan --out`, checked against a fresh plan: a stale plan is refused."""
    import json

    from entragit import config
    from entragit.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        saved = planmod.Plan.from_file(data)
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(path, None, f"not a saved entragit plan ({e})") from None
    t = config.tenants(root, saved.tenant)[0]
    fresh = plan(root, t, saved.ref, data["selectors"], data["prune"])
    if json.loads(json.dumps(fresh.plan.to_file(data["selectors"], data["prune"]))) != data:
        raise EntragitError(f"{path} is stale: the tenant or the files changed since it was made",
                            hint="run `entragit plan --out` again and review the new plan")
    return Session(t, saved, fresh.live, fresh.stats, fresh.risks, fresh.desired)


def apply(root: Path, t: Tenant, session: Session, *, force_lockout: bool = False,
          on_op: Callable[[applymod.Outcome], None] | None = None) -> tuple[applymod.ApplyResult, Stats]:
    """Execute exactly the plan the user saw, after checking tenant identity and lock-out risk."""
    risky = [w for w in session.plan.warnings if w.startswith("LOCKOUT RISK")]
    if risky and not force_lockout:
        raise EntragitError(risky[0], hint="fix the files, or pass --force-lockout-risk if you are sure")

    async def go() -> tuple[applymod.ApplyResult, Stats]:
        async with _graph(t) as g:
            if t.auth.get("method", "default") != "sim":  # the dev token (`auth: sim`) may do anything
                applymod.check_permissions(session.plan, auth.decode_claims(await g.access_token()))
            await applymod.check_tenant(g, t.tenant_id)
            result = await applymod.execute(g, session.plan, t.idmap_dir, on_op)
            return result, g.stats

    return asyncio.run(go())


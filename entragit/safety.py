"""Plan's lock-out guard: the lock-outs (lockout.py) the desired state brings that this plan writes."""

from __future__ import annotations

from entragit import kinds as kindmod
from entragit import lockout
from entragit.config import Tenant
from entragit.plan import Plan
from entragit.snapshot import Snapshot


def lockout_risks(plan: Plan, desired: Snapshot, live: Snapshot, t: Tenant) -> list[str]:
    """One line per lock-out the plan would cause; --only leaves out those it does not touch."""
    touched = {(op.kind, k.lower()) for op in plan.ops for k in (op.key, op.target) if k}
    risks = []
    for f in lockout.check(desired, live, t.break_glass):
        if any((kind, key.lower()) in touched for kind, key in ((f.kind, f.key), *f.related)):
            title = kindmod.get(f.kind).title
            where = f" ({f.path})" if f.path else ""
            risks.append(f"{title} {f.name!r}{where} {f.reason}")
    return risks

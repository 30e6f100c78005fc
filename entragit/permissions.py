"""The Graph application permissions entragit needs, derived from the Kind table (one manifest)."""

from __future__ import annotations

from collections.abc import Iterable

from entragit import kinds as kindmod
from entragit.kinds import Kind

# Not tied to one kind: apply checks the token's tenant (GET /organization); export names the
# people behind changes from the directory audit log (optional: skipped with a note without it).
APPLY_EXTRA = ("Organization.Read.All",)
EXPORT_OPTIONAL = ("AuditLog.Read.All",)


def for_export(kinds: Iterable[Kind]) -> list[str]:
    """Least-privilege read permissions: the first (narrowest) alternative of each kind, and what it needs on top."""
    return sorted({p for k in kinds for p in (k.read_perm[0], *k.read_also)})


def for_apply(kinds: Iterable[Kind]) -> list[str]:
    """Write permissions, plus what apply reads before writing."""
    ks = list(kinds)
    return sorted(set(for_export(ks)) | {p for k in ks for p in k.write_perm} | set(APPLY_EXTRA))


def table() -> list[tuple[str, str, str]]:
    """(kind, read, write) rows for docs and `entragit permissions`."""
    return [(k.name, " + ".join([" or ".join(k.read_perm), *k.read_also]), " + ".join(k.write_perm) or "-")
            for k in kindmod.KINDS]

"""Write docs/KINDS.md, the table of what entragit exports and how apply brings each kind back, from
the Kind table (entragit/kinds.py).

Run `python tools/gen_kinds_doc.py` after changing kinds.py; tests/test_kinds_doc.py fails while the
committed file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from entragit.kinds import KINDS, Kind  # noqa: E402 - after the sys.path fix for `python tools/...`

OUT = ROOT / "docs" / "KINDS.md"

HEAD = """# What entragit exports

Generated from the Kind table (`entragit/kinds.py`) by `python tools/gen_kinds_doc.py`; do not edit.

Each kind is a folder under `tenants/<tenant>/`, one file per object (a singleton kind: one file).
*Default* kinds are exported unless `tenant.yaml` lists `kinds:`; *opt-in* kinds only when it lists
them. *When deleted* says what `apply` does with an object whose file exists but which the tenant
no longer has; *references* are the fields that name other objects: files name them by file, and a
recreated object's new id replaces the old one in each of them. Permissions are the application
permissions `entragit permissions` asks for: to read, alternatives separated by "or" (narrowest first);
to write, every one joined by "+".

| Kind | What | Graph | Exported | When deleted | References | Read | Write |
|---|---|---|---|---|---|---|---|
"""


def _exported(k: Kind) -> str:
    who = "opt-in" if not k.default_on else "default"
    if k.delegated_only:
        who += " (signed-in user only)"
    return who


def _when_deleted(k: Kind) -> str:
    if k.singleton:
        return "always there: updated in place"
    if not k.create:
        return k.system_owned[0].reason if k.system_owned else "Graph keeps one of each: updated in place"
    restore = ""
    if k.soft_delete:
        restore = "restored from the recycle bin with its id" + (
            "" if k.restore_app_only else " (by a signed-in admin; app-only: recreated)")
    if k.requests:
        make = f"recreated through `{k.requests.path.rsplit('/', 1)[-1]}` ({k.requests.assign})"
    elif k.create == "upsert":
        make = "put back under its own id"
    else:
        make = "recreated with a new id, which every file naming it gets"
    text = f"{restore}; else {make}" if restore else make
    if k.random_on_create or k.lost_on_create:
        text += "; write-only values must be set again"
    if k.children:
        text += "; with its " + ", ".join(f"`{c.field}`" for c in k.children)
    return text


def _refs(k: Kind) -> str:
    items = [f"`{r.path}` → {', '.join(r.targets)}" for r in k.refs]
    items += [f"`{rel.name}`" for rel in k.relations]
    return "<br>".join(items) or "—"


def _perm(perms: tuple[str, ...], join: str = " or ") -> str:
    return join.join(f"`{p}`" for p in perms) or "—"


def _path(k: Kind) -> str:
    version = "" if k.version == "v1.0" else f" ({k.version})"
    return f"`{k.path}`{version}"


def render() -> str:
    rows = [f"| `{k.name}` | {k.title} | {_path(k)} | {_exported(k)} | {_when_deleted(k)} | {_refs(k)} | "
            f"{_perm(k.read_perm)} | {_perm(k.write_perm, ' + ')}{' (signed-in user only)' if k.writes_delegated_only else ''} |"
            for k in KINDS]
    default = sum(k.default_on for k in KINDS)
    tail = f"\n{len(KINDS)} kinds: {default} by default, {len(KINDS) - default} opt-in.\n"
    return HEAD + "\n".join(rows) + "\n" + tail


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

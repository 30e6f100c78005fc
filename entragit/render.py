"""Plans as text (terminal), markdown (PR comment) and json (machines)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from entragit import kinds as kindmod
from entragit.diff import paint, risk_lines, risk_markdown
from entragit.kinds import GUID
from entragit.plan import LeftAlone, Op, Plan, RestoredWith, placeholder_target
from entragit.risk import Note

FORMAT_VERSION = 1  # of `plan --format json` (docs/JSON-FORMATS.md); bumped on incompatible change
# Each action in the colour of the diff status it brings about (entragit.diff.COLOUR).
PAINT = {"create": "added", "restore": "added", "link": "added", "adopt": "changed", "update": "changed",
         "unlink": "removed", "delete": "removed"}
SYMBOL = {"create": "+", "restore": "↺", "adopt": "=", "update": "~", "link": "+", "unlink": "-", "delete": "-"}


_EMBEDDED = re.compile(r"\{new:([^{}]+)\}")


def _short(v: Any, names: dict[str, str]) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_short(x, names) for x in v) + "]"
    if isinstance(v, dict):  # e.g. method targets: names inside, no @odata noise
        return "{" + ", ".join(f"{k}: {_short(x, names)}" for k, x in v.items() if not k.startswith("@")) + "}"
    if isinstance(v, str):
        old = placeholder_target(v)
        if old:
            return f"<new id of {names.get(old.lower(), old)}>"
        if GUID.match(v) and v.lower() in names:
            return f"{names[v.lower()]} ({v[:8]})"
        if "{new:" in v:  # a placeholder inside a string (a group role's `Member_{id}`)
            v = _EMBEDDED.sub(lambda m: f"<new id of {names.get(m.group(1).lower(), m.group(1))}>", v)
    text = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
    return text if len(text) <= 120 else text[:117] + "..."


def _ref(ref: str) -> str:
    return ref[:10] if len(ref) == 40 else ref


def _title(op: Op) -> str:
    k = kindmod.BY_NAME.get(op.kind)
    return f"{k.title if k else op.kind} {op.name!r}"


FATE = {"recreated": "recreated: ", "new": "new object"}


def _note(op: Op) -> str:
    """The op's note, led by what a create brings back (a recreation or a new object)."""
    fate = FATE.get(op.fate, "")
    return fate if fate and not op.note else fate + op.note


def _line(op: Op, names: dict[str, str], colour: bool = False) -> str:
    head = paint(f"  {SYMBOL[op.action]} {op.action:<8}", PAINT[op.action], colour) + f" {_title(op)}"
    if op.action in ("link", "unlink"):
        who = op.note or names.get(op.member.lower(), op.member)
        return f"{head}: {op.rel} {'+=' if op.action == 'link' else '-='} {who}"
    note = _note(op)
    return head + (f"  ({note})" if note else "")


def _parent(r: RestoredWith) -> str:
    k = kindmod.BY_NAME.get(r.parent_kind)
    return f"restored with {k.title if k else r.parent_kind} {r.parent_name!r}"


def _returning(r: RestoredWith) -> str:
    """What comes back with a restored parent: `↺ returns` and no write."""
    k = kindmod.BY_NAME.get(r.kind)
    what = f"{k.title if k else r.kind} {r.name!r}"
    if r.rel:
        what += f": {r.rel} += {r.member_name or r.member}"
    return f"  ↺ returns  {what}  ({_parent(r)})"


WHY = {
    "not-deletable": "not in the files; never deleted",
    "not-creatable": "in the files but not in the tenant; Graph creates it, entragit does not",
    "locked-fields": "fields not written",
    "not-permitted": "not written by this identity",
}


def _left_alone(a: LeftAlone) -> str:
    k = kindmod.BY_NAME.get(a.kind)
    fields = f" ({', '.join(a.fields)})" if a.fields else ""
    return f"{k.title if k else a.kind} {a.name!r}: {WHY[a.why]}{fields}: {a.reason}"


def counts_line(plan: Plan) -> str:
    c = plan.counts()
    if not c:
        return "No changes. The tenant matches the files."
    order = ("restore", "adopt", "create", "update", "link", "unlink", "delete")
    parts = [f"{c[a]} to {a}" for a in order if a in c]
    if plan.restored_with:
        parts.insert(1 if "restore" in c else 0, f"{len(plan.restored_with)} restored with them")
    return "Plan: " + ", ".join(parts) + "."


def _with_returning(plan: Plan) -> list[Op | RestoredWith]:
    """The plan's ops, each restore followed by what comes back with it."""
    out: list[Op | RestoredWith] = []
    for op in plan.ops:
        out.append(op)
        if op.action == "restore":
            out += [r for r in plan.restored_with if (r.parent_kind, r.parent_key) == (op.kind, op.key)]
    return out


def text(plan: Plan, names: dict[str, str], risks: Sequence[Note] = (), colour: bool = False) -> str:
    out = [f"Tenant {plan.tenant} (files at {_ref(plan.ref)}):", ""]
    for op in _with_returning(plan):
        if isinstance(op, RestoredWith):
            out.append(_returning(op))
            continue
        out.append(_line(op, names, colour))
        for ch in op.changes:
            out.append(f"      {ch.path}: {_short(ch.old, names)} -> {_short(ch.new, names)}")
    if plan.ops:
        out.append("")
    for w in plan.warnings:
        out.append(f"warning: {w}")
    if plan.left_alone:
        out.append(f"{len(plan.left_alone)} object(s) left alone (owned by Microsoft, on-premises AD or Exchange, or not writable by this identity):")
        out += [f"    = {_left_alone(a)}" for a in plan.left_alone]
    if plan.unmanaged:
        out.append(f"{len(plan.unmanaged)} live object(s) are not in the files (kept; --prune deletes them):")
        out += [f"    {k}: {n}" for k, n in plan.unmanaged[:20]]
        if len(plan.unmanaged) > 20:
            out.append(f"    ... and {len(plan.unmanaged) - 20} more")
    out += risk_lines(risks, colour)
    out.append(counts_line(plan))
    return "\n".join(out)


def markdown(plan: Plan, names: dict[str, str], risks: Sequence[Note] = ()) -> str:
    out = [f"### entragit plan: `{plan.tenant}` at `{_ref(plan.ref)}`", "", f"**{counts_line(plan)}**", ""]
    out += risk_markdown(risks)
    if plan.ops:
        out += ["| | action | kind | object | note |", "|---|---|---|---|---|"]
        for op in _with_returning(plan):
            if isinstance(op, RestoredWith):
                what = f"{op.rel}: {op.member_name or op.member}; " if op.rel else ""
                out.append(f"| ↺ | returns | {op.kind} | {op.name.replace('|', '/')} | {what}{_parent(op)} |")
                continue
            note = _note(op).replace("|", "\\|")
            if op.action in ("link", "unlink"):
                note = f"{op.rel}: {op.note or op.member}"
            out.append(f"| {SYMBOL[op.action]} | {op.action} | {op.kind} | {op.name.replace('|', '/')} | {note} |")
        out.append("")
    for op in plan.ops:
        if op.changes:
            out += [f"<details><summary>{op.action} {_title(op)}: {len(op.changes)} field(s)</summary>", "",
                    "| field | before | after |", "|---|---|---|"]
            out += [f"| `{c.path}` | {_short(c.old, names)} | {_short(c.new, names)} |".replace("\n", " ")
                    for c in op.changes]
            out += ["", "</details>", ""]
    for w in plan.warnings:
        out.append(f"> :warning: {w}")
    if plan.left_alone:
        out += ["", f"{len(plan.left_alone)} object(s) left alone (owned by Microsoft, on-premises AD or Exchange, or not writable by this identity):", ""]
        out += [f"- {_left_alone(a).replace('|', '/')}" for a in plan.left_alone]
    if plan.unmanaged:
        out += ["", f"{len(plan.unmanaged)} live object(s) not in the files are left alone (`--prune` deletes them)."]
    return "\n".join(out) + "\n"


def render(plan: Plan, fmt: str, names: dict[str, str], risks: Sequence[Note] = (), colour: bool = False) -> str:
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, **plan.to_json(), "risks": [n.to_json() for n in risks]}, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        return markdown(plan, names, risks)
    return text(plan, names, risks, colour)


def cap_comment(text: str, max_chars: int, link: str | None = None, marker: str | None = None) -> str:
    """`text` cut at a line boundary to at most `max_chars` characters (a PR comment's limit), code
    fences and <details> blocks left open by the cut closed, and a last line saying how much was
    left out and where the whole of it is."""
    head = f"{marker}\n" if marker else ""
    if len(head) + len(text) <= max_chars:
        return head + text
    where = f" The whole text is in the [plan artifact]({link})." if link else ""
    notice = (f"\n\n**Cut to fit a comment: {{shown:,}} of {len(text):,} characters shown.**{where}\n")
    room = max_chars - len(head) - len(notice.format(shown=len(text))) - 64  # 64: closing tags
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        if used + len(line) > room:
            break
        kept.append(line)
        used += len(line)
    body = "".join(kept)
    closing = "```\n" if body.count("```") % 2 else ""
    closing += "\n</details>\n" * max(0, body.count("<details>") - body.count("</details>"))
    return head + body + closing + notice.format(shown=used)

"""docs/KINDS.md, the table of what entragit exports, is the Kind table's own account of itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from entragit.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("gen_kinds_doc", ROOT / "tools" / "gen_kinds_doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_committed_kinds_table_is_what_the_kind_table_says() -> None:
    assert (ROOT / "docs" / "KINDS.md").read_text(encoding="utf-8") == _tool().render(), (
        "docs/KINDS.md is stale: run `python tools/gen_kinds_doc.py`")


def test_every_kind_has_one_row_and_opt_in_kinds_say_so() -> None:
    rows = [line for line in _tool().render().splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == [k.name for k in KINDS]
    for k, row in zip(KINDS, rows, strict=True):
        assert ("| opt-in" in row) == (not k.default_on), row

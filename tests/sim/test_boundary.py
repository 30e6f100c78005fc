"""The simulator is the oracle: no module of it may import the client (`entragit`)."""

from __future__ import annotations

import ast
from pathlib import Path

import entragit_sim

SIM_ROOT = Path(entragit_sim.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def test_no_simulator_module_imports_the_client() -> None:
    crossings = [
        f"{path.relative_to(SIM_ROOT.parent)}:{line}: imports {name}"
        for path in sorted(SIM_ROOT.rglob("*.py"))
        for line, name in _imports(path)
        if name == "entragit" or name.startswith("entragit.")
    ]
    assert not crossings, "\n".join(crossings)


def test_the_boundary_check_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom entragit.errors import EntragitError\n")
    assert (2, "entragit.errors") in _imports(probe)

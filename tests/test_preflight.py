"""Before the first write: apply checks the token holds what the plan needs, and tenant.yaml may send
tokens only to Microsoft's Graph and sign-in hosts (or loopback, the simulator) unless trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from entragit import kinds as kindmod
from entragit import permissions
from entragit.apply import check_permissions
from entragit.plan import Op, Plan
from tests.conftest import app_repo, make_repo
from tests.portal import Portal

GROUP = "Finance Admins"


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    return sim_factory("demo", tls=True)


def _writes(sim: Any) -> list[str]:
    """Graph writes the simulator answered: not the token endpoint, not the $batch envelopes (their
    items are recorded one by one)."""
    return [f"{r.method} {r.path}" for r in sim.requests
            if r.method != "GET" and r.path.startswith(("/v1.0/", "/beta/")) and not r.path.endswith("/$batch")]


def _damage(sim: Any) -> dict[str, Any]:
    """Soft-delete a group and weaken a CA policy: the plan restores one and updates the other."""
    p = Portal(sim)
    group = p.one("/groups", GROUP)
    p.ok(p.c.delete(f"/groups/{group['id']}"))
    p.patch_policy(p.policy("CA100"), state="disabled")
    return group


def test_apply_refuses_before_any_write_naming_the_missing_permission(tmp_path: Path, sim: Any,
                                                                      monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch, drop=("Group.ReadWrite.All",))
    repo("export", "--commit")
    _damage(sim)
    sim.requests.clear()
    res = repo("apply", "--yes", code=1)
    assert _writes(sim) == []
    [line] = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert "nothing was written" in line and "application permissions (roles)" in line
    assert f"Group.ReadWrite.All for restore group '{GROUP}'" in line
    assert "Policy.ReadWrite.ConditionalAccess" not in line  # held: the CA update is not named
    assert "entragit permissions" in res.output  # the hint says where the list is
    assert Portal(sim).c.get("/groups", params={"$filter": f"displayName eq '{GROUP}'"}).json()["value"] == []


def test_apply_with_every_listed_permission_proceeds(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    group = _damage(sim)
    sim.requests.clear()
    out = repo("apply", "--yes").output
    assert f"POST /v1.0/directory/deletedItems/{group['id']}/restore" in _writes(sim)
    assert "FAILED" not in out
    assert Portal(sim).policy("CA100")["state"] != "disabled"


def test_a_refused_saved_plan_names_the_permission_too(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch, drop=("Policy.ReadWrite.ConditionalAccess",))
    repo("export", "--commit")
    _damage(sim)
    plan_file = tmp_path / "plan.json"
    repo("plan", "--out", plan_file)
    sim.requests.clear()
    res = repo("apply", "--plan", plan_file, "--yes", code=1)
    assert _writes(sim) == []
    assert "missing Policy.ReadWrite.ConditionalAccess for update conditional access policy 'CA100" in res.output


def test_a_403_mid_run_names_the_permission_the_operation_needed(tmp_path: Path, sim_factory: Any) -> None:
    # tomas.ortega is Conditional Access and Application Administrator: the Graph Command Line Tools
    # scopes pass the check, but his roles do not let him restore a group (delegated = scopes AND roles).
    sim = sim_factory("demo", tls=True, user="tomas.ortega@contosodemo.onmicrosoft.com")
    repo = make_repo(tmp_path / "config", sim, "demo", "--auth", "device-code", "--authority", sim.authority,
                     "--ca-bundle", sim.ca_bundle)
    repo("export", "--commit", "--allow-partial")
    _damage(sim)
    res = repo("apply", "--yes", code=1)
    refused = [ln for ln in res.output.splitlines() if "FAILED" in ln and "-> 403 " in ln]
    assert f"restore groups '{GROUP}'" in refused[0], res.output
    assert refused[0].endswith("(this operation needs Group.ReadWrite.All + RoleManagement.ReadWrite.Directory)")
    assert all("(this operation needs " in ln for ln in refused)
    assert Portal(sim).policy("CA100")["state"] != "disabled"  # the writes he may make were made


def _plan(*ops: Op) -> Plan:
    return Plan("demo", "HEAD", ops)


def test_broader_permissions_satisfy_the_check() -> None:
    """Directory.ReadWrite.All stands in where Graph documents it (service principals, delegated
    grants), X.ReadWrite.Y for X.Read.Y; adopting an object sends nothing, so needs nothing."""
    ops = (Op("update", "servicePrincipals", "s1", "HR Portal", target="s1"),
           Op("create", "oauth2PermissionGrants", "g1", "grant"),
           Op("adopt", "groups", "x", "Adopted", target="y"))
    check_permissions(_plan(*ops), {"idtyp": "app", "roles": ["Directory.ReadWrite.All"]})
    ca = _plan(Op("update", "conditionalAccessPolicies", "p1", "CA1", target="p1"))
    # Policy.Read.All is a CA write permission: a (hypothetical) Policy.ReadWrite.All would cover it.
    check_permissions(ca, {"idtyp": "app", "roles": ["Policy.ReadWrite.All", "Policy.ReadWrite.ConditionalAccess",
                                                     "Organization.Read.All"]})
    apps = _plan(Op("update", "applications", "a1", "HR Portal", target="a1"))
    with pytest.raises(Exception, match="missing Application.ReadWrite.All for update application 'HR Portal'"):
        # not documented for applications: PATCH /applications/{id} lists no Directory.ReadWrite.All
        check_permissions(apps, {"idtyp": "app", "roles": ["Directory.ReadWrite.All"]})


def test_delegated_scopes_are_read_from_scp_and_need_no_tenant_check_permission() -> None:
    ca = _plan(Op("update", "conditionalAccessPolicies", "p1", "CA1", target="p1"))
    check_permissions(ca, {"idtyp": "user", "scp": "Policy.Read.All Policy.ReadWrite.ConditionalAccess"})
    with pytest.raises(Exception, match=r"delegated scopes \(scp\).*missing Policy.ReadWrite.ConditionalAccess"):
        check_permissions(ca, {"idtyp": "user", "scp": "Policy.Read.All"})


def test_the_check_agrees_with_entragit_permissions() -> None:
    """An app holding exactly the apply list passes for every kind's writes (the listed one is always enough)."""
    listed = permissions.for_apply(kindmod.KINDS)
    ops = tuple(Op("delete", k.name, "x", "x", target="x") for k in kindmod.KINDS)
    check_permissions(_plan(*ops), {"idtyp": "app", "roles": listed})

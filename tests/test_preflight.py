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
from entragit.errors import PermissionMissing
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
    with pytest.raises(PermissionMissing, match="missing Application.ReadWrite.All for update application 'HR Portal'"):
        # not documented for applications: PATCH /applications/{id} lists no Directory.ReadWrite.All
        check_permissions(apps, {"idtyp": "app", "roles": ["Directory.ReadWrite.All"]})


def test_delegated_scopes_are_read_from_scp_and_need_no_tenant_check_permission() -> None:
    ca = _plan(Op("update", "conditionalAccessPolicies", "p1", "CA1", target="p1"))
    check_permissions(ca, {"idtyp": "user", "scp": "Policy.Read.All Policy.ReadWrite.ConditionalAccess"})
    with pytest.raises(PermissionMissing, match=r"delegated scopes \(scp\).*missing Policy.ReadWrite.ConditionalAccess"):
        check_permissions(ca, {"idtyp": "user", "scp": "Policy.Read.All"})


def test_the_check_agrees_with_entragit_permissions() -> None:
    """An app holding exactly the apply list passes for every kind's writes (the listed one is always enough)."""
    listed = permissions.for_apply(kindmod.KINDS)
    ops = tuple(Op("delete", k.name, "x", "x", target="x") for k in kindmod.KINDS if not (k.delegated_only or k.writes_delegated_only))
    check_permissions(_plan(*ops), {"idtyp": "app", "roles": listed})


def test_an_app_is_refused_writes_graph_serves_to_signed_in_users_only() -> None:
    tou = _plan(Op("create", "termsOfUseAgreements", "new", "Guest terms"))
    with pytest.raises(PermissionMissing, match="only a signed-in user.*terms of use agreement 'Guest terms'"):
        check_permissions(tou, {"idtyp": "app", "roles": ["Agreement.ReadWrite.All", "Organization.Read.All"]})
    check_permissions(tou, {"idtyp": "user", "scp": "Agreement.ReadWrite.All"})


# ---------------------------------------------------------------- where credentials go

EVIL = "https://graph.microsoft.com.attacker.example"


def _edit_tenant_yaml(repo: Any, **fields: Any) -> Path:
    path = Path(repo.repo) / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text())
    for key, value in fields.items():
        target = doc["auth"] if key == "authority" else doc
        target[key] = value
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _requests(sim: Any) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.requests]


def test_tenant_add_refuses_a_graph_url_that_is_not_microsoft_graph(tmp_path: Path, sim: Any,
                                                                     monkeypatch: Any) -> None:
    monkeypatch.delenv("ENTRAGIT_TRUSTED_HOSTS", raising=False)
    repo = make_repo(tmp_path / "config", sim)  # loopback (the simulator) is fine
    sim.requests.clear()
    for option, value in (("--graph-url", EVIL), ("--graph-url", "http://graph.microsoft.com"),
                          ("--authority", "https://login.attacker.example")):
        res = repo("tenant", "add", "other", "--tenant-id", sim.tenant_id, option, value, code=1)
        [line] = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
        assert f"tenants/other/tenant.yaml: {option} {value!r}" in line and "nothing was written" in line
        assert not (Path(repo.repo) / "tenants" / "other").exists()
    assert "ENTRAGIT_TRUSTED_HOSTS=graph.microsoft.com.attacker.example" in repo(
        "tenant", "add", "other", "--tenant-id", sim.tenant_id, "--graph-url", EVIL, code=1).output
    assert _requests(sim) == []


@pytest.mark.parametrize("field, value", [("graphUrl", EVIL), ("authority", "https://login.attacker.example/x")])
def test_a_hand_edited_host_stops_plan_and_export_before_any_request(tmp_path: Path, sim: Any, monkeypatch: Any,
                                                                       field: str, value: str) -> None:
    monkeypatch.delenv("ENTRAGIT_TRUSTED_HOSTS", raising=False)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path = _edit_tenant_yaml(repo, **{field: value})
    line_no = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.strip().startswith(field))
    sim.requests.clear()
    for command in ("plan", "export", "apply"):
        res = repo(command, *(["--yes"] if command == "apply" else []), code=1)
        [line] = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
        assert line.startswith(f"error: tenants/demo/tenant.yaml:{line_no}: {field} {value!r} is not a Microsoft host")
    assert _requests(sim) == []  # not even a token request


def test_trusted_hosts_from_the_environment_let_a_named_host_through(tmp_path: Path, sim: Any,
                                                                     monkeypatch: Any) -> None:
    repo = make_repo(tmp_path / "config", sim)
    root = sim.graph_url.rsplit("/v1.0", 1)[0].replace("127.0.0.1", "sim.internal.test")
    monkeypatch.setenv("ENTRAGIT_TRUSTED_HOSTS", "other.example, SIM.internal.test")
    repo("tenant", "add", "proxied", "--tenant-id", sim.tenant_id, "--graph-url", root, "--auth", "sim")
    assert "sim.internal.test" in repo("tenant", "list").output
    monkeypatch.setenv("ENTRAGIT_TRUSTED_HOSTS", "other.example")  # the file alone never suffices
    res = repo("tenant", "list", code=1)
    assert "tenants/proxied/tenant.yaml:" in res.output and "sim.internal.test" in res.output


def test_hosts_are_matched_exactly_not_by_prefix_or_path() -> None:
    from entragit.config import AUTHORITIES, CLOUDS, untrusted_host

    for url in ("http://127.0.0.1:8080", "http://[::1]:9", "http://localhost:1", *CLOUDS.values()):
        assert untrusted_host(url, CLOUDS.values()) is None, url
    for url in ("https://graph.microsoft.com@attacker.example", "https://attacker.example/graph.microsoft.com",
                "https://localhost.attacker.example", "https://graph.microsoft.com.cn", "not a url"):
        assert untrusted_host(url, CLOUDS.values()), url
    assert untrusted_host("https://login.chinacloudapi.cn/", AUTHORITIES.values()) is None
    assert untrusted_host("https://login.chinacloudapi.cn/", CLOUDS.values())  # a sign-in host is no Graph host

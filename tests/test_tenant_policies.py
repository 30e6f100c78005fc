"""Tenant-wide policies (authentication flows, admin consent requests, device registration, external
identities on beta): exported, put back after drift by the exact-permission app, and an admin consent
reviewer group that is hard-deleted comes back with the policy's reviewer query naming its new id."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.conftest import Cli, admin, app_repo, make_repo

CONSENT = "/policies/adminConsentRequestPolicy"
EXTERNAL = "/policies/externalIdentitiesPolicy"  # beta only


def _ops(repo: Cli) -> list[tuple[str, str]]:
    return [(o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json").output)["operations"]]


def _round_trip(repo: Cli, c: Any, path: str, method: str, drift: dict[str, Any], kind: str) -> None:
    before = c.get(path).json()
    assert c.request(method, path, json={**_writable(before), **drift}).status_code in (200, 204)
    assert _ops(repo) == [(kind, "update")]
    shown = repo("plan").output
    assert "~ update" in shown and all(k in shown for k in drift), shown
    repo("apply", "--yes")
    after = c.get(path).json()
    assert {k: after.get(k) for k in drift} == {k: before.get(k) for k in drift}
    assert "No changes" in repo("plan").output


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("@odata.context", "id", "version", "displayName", "description")}


def test_drift_is_put_back_by_the_exact_permission_app(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    tenant = repo.repo / "tenants" / "demo"
    consent = yaml.safe_load((tenant / "adminConsentRequestPolicy" / "admin-consent-request-policy.yaml").read_text())
    refs = {(r["kind"], r["name"]) for r in consent["refs"].values()}
    assert ("groups", "IT Operations") in refs and ("roleDefinitions", "Cloud Application Administrator") in refs
    with admin(sim) as c:
        _round_trip(repo, c, "/policies/authenticationFlowsPolicy", "PATCH",
                    {"selfServiceSignUp": {"isEnabled": True}}, "authenticationFlowsPolicy")
        _round_trip(repo, c, CONSENT, "PUT", {"requestDurationInDays": 3, "isEnabled": False},
                    "adminConsentRequestPolicy")


def test_external_identities_policy_on_beta_is_put_back_by_the_exact_permission_app(
        tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path = repo.repo / "tenants" / "demo" / "externalIdentitiesPolicy" / "external-identities-policy.yaml"
    assert yaml.safe_load(path.read_text()) == {
        "allowExternalIdentitiesToLeave": True, "allowDeletedIdentitiesDataRemoval": False}
    with admin(sim, "beta") as c:  # the portal turns self-service leave off
        assert c.patch(EXTERNAL, json={"allowExternalIdentitiesToLeave": False}).status_code == 204
        assert _ops(repo) == [("externalIdentitiesPolicy", "update")]
        shown = repo("plan").output
        assert "~ update" in shown and "allowExternalIdentitiesToLeave" in shown, shown
        repo("apply", "--yes")
        assert c.get(EXTERNAL).json()["allowExternalIdentitiesToLeave"] is True
    assert "No changes" in repo("plan").output


def test_hard_deleted_reviewer_group_is_recreated_and_the_query_names_its_new_id(
        tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    with admin(sim) as c:
        query = c.get(CONSENT).json()["reviewers"][0]["query"]
        old = query.split("/")[2]
        assert c.delete(f"/groups/{old}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{old}").status_code == 204
        ops = _ops(repo)
        assert ("groups", "create") in ops and ("adminConsentRequestPolicy", "update") in ops, ops
        repo("apply", "--yes")
        [new] = c.get("/groups", params={"$filter": "displayName eq 'IT Operations'"}).json()["value"]
        assert new["id"] != old
        assert c.get(CONSENT).json()["reviewers"][0]["query"] == f"/groups/{new['id']}/transitiveMembers"
    assert "No changes" in repo("plan").output


def test_device_registration_policy_opt_in_round_trip(tmp_path, sim) -> None:
    # Opt-in, and signed in with the simulator's token: Microsoft publishes no application role id for
    # Policy.ReadWrite.DeviceConfiguration, so no app can be granted exactly it here.
    repo = make_repo(tmp_path / "config", sim)
    tyaml = repo.repo / "tenants" / "demo" / "tenant.yaml"
    tyaml.write_text(tyaml.read_text() + "kinds:\n- deviceRegistrationPolicy\n- users\n- groups\n")
    repo("export", "--commit")
    doc = yaml.safe_load((tyaml.parent / "deviceRegistrationPolicy" / "device-registration-policy.yaml").read_text())
    assert doc["userDeviceQuota"] == 50
    with admin(sim) as c:
        _round_trip(repo, c, "/policies/deviceRegistrationPolicy", "PUT", {"userDeviceQuota": 5},
                    "deviceRegistrationPolicy")


def test_reviewer_queries_are_references_with_their_prefix_and_suffix_kept() -> None:
    from entragit import kinds, refs

    kind = kinds.get("adminConsentRequestPolicy")
    g, u, r = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
    role = "/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{}'"
    body = {"reviewers": [{"query": f"/groups/{g}/transitiveMembers"}, {"query": f"/users/{u}"},
                          {"query": role.format(r)}, {"query": "./manager"}]}
    assert sorted((ref.targets[0], v) for ref, v in refs.iter_refs(kind, body)) == [
        ("groups", g), ("roleDefinitions", r), ("users", u)]
    out = refs.rewrite(kind, body, lambda ref, v: "new-" + v[:4])
    assert [q["query"] for q in out["reviewers"]] == [
        "/groups/new-1111/transitiveMembers", "/users/new-2222", role.format("new-3333"), "./manager"]

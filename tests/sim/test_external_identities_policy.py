"""The external identities policy: a beta-only singleton, read with Policy.Read.All, written with
Policy.ReadWrite.ExternalIdentities only
(https://learn.microsoft.com/graph/api/externalidentitiespolicy-update?view=graph-rest-beta)."""

from __future__ import annotations

import httpx

from tests.sim.test_auth import bearer, grant

PATH = "policies/externalIdentitiesPolicy"


def test_get_and_patch_on_beta(beta: httpx.Client) -> None:
    r = beta.get(PATH)
    assert r.status_code == 200 and "value" not in r.json()
    body = r.json()
    # The get page's example values: guests may leave, data removal off.
    assert body["id"] == "externalIdentityPolicy"
    assert body["allowExternalIdentitiesToLeave"] is True
    assert body["allowDeletedIdentitiesDataRemoval"] is False
    assert beta.patch(PATH, json={"allowExternalIdentitiesToLeave": False}).status_code == 204
    assert beta.get(PATH).json()["allowExternalIdentitiesToLeave"] is False
    assert beta.patch(PATH, json={"displayName": "Renamed"}).status_code == 400  # Graph's name
    assert beta.get(PATH).json()["displayName"] == "External Identities Policy"
    assert beta.delete(PATH).status_code == 405


def test_v1_does_not_know_the_segment(graph: httpx.Client) -> None:
    for r in (graph.get(PATH), graph.patch(PATH, json={"allowExternalIdentitiesToLeave": False})):
        error = r.json()["error"]
        assert (r.status_code, error["code"]) == (400, "BadRequest")
        assert error["message"] == "Resource not found for the segment 'externalIdentitiesPolicy'."


def test_writing_needs_policy_readwrite_external_identities(sim) -> None:
    url = f"{sim.beta_url}/{PATH}"
    change = {"allowExternalIdentitiesToLeave": False}
    r = httpx.get(url, headers=bearer(sim))
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    # A sibling policy's write permission is not enough.
    grant(sim, "Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess")
    reader = bearer(sim)
    assert httpx.get(url, headers=reader).status_code == 200
    r = httpx.patch(url, headers=reader, json=change)
    assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
    assert httpx.get(url, headers=reader).json()["allowExternalIdentitiesToLeave"] is True
    grant(sim, "Policy.ReadWrite.ExternalIdentities")
    assert httpx.patch(url, headers=bearer(sim), json=change).status_code == 204
    assert httpx.get(url, headers=reader).json()["allowExternalIdentitiesToLeave"] is False

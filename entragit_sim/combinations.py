"""Authentication strengths' combination configurations: a contained sub-collection of derived types.

https://learn.microsoft.com/graph/api/authenticationstrengthpolicy-post-combinationconfigurations:
items are `fido2CombinationConfiguration` (allowedAAGUIDs) or `x509CertificateCombinationConfiguration`
(allowedIssuerSkis, allowedPolicyOIDs); the base type is abstract, so a create must name one.
`appliesToCombinations` "must be an allowedCombinations object that's defined for the policy";
fido2 configurations apply to `fido2`, certificate ones to the x509 modes
(https://learn.microsoft.com/graph/api/resources/authenticationcombinationconfiguration).
The policy's PATCH "cannot update" them (authenticationstrengthpolicy-update).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from entragit_sim.errors import bad_request
from entragit_sim.store import Obj

FIELD = "combinationConfigurations"
_PREFIX = "#microsoft.graph."
# derived type -> (modes it may apply to, its own collection properties)
TYPES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "fido2CombinationConfiguration": (frozenset({"fido2"}), ("allowedAAGUIDs",)),
    "x509CertificateCombinationConfiguration": (
        frozenset({"x509CertificateSingleFactor", "x509CertificateMultiFactor"}),
        ("allowedIssuerSkis", "allowedPolicyOIDs"),
    ),
}


def _bad(message: str) -> Exception:
    return bad_request(message, directory=False)


def _type_of(item: Obj) -> str:
    odata = item.get("@odata.type")
    name = odata[len(_PREFIX):] if isinstance(odata, str) and odata.startswith(_PREFIX) else ""
    if name not in TYPES:
        raise _bad(
            "A combination configuration must name its type: @odata.type "
            + " or ".join(f"{_PREFIX}{t}" for t in TYPES)
            + f" (authenticationCombinationConfiguration is abstract); got {odata!r}."
        )
    return name


def _check(item: Obj, name: str, policy: Obj) -> None:
    modes, props = TYPES[name]
    applies = item.get("appliesToCombinations")
    if not isinstance(applies, list) or not applies:
        raise _bad("appliesToCombinations is required.")
    allowed = set(policy.get("allowedCombinations") or [])
    for mode in applies:
        if mode not in modes:
            raise _bad(f"A {name} cannot apply to '{mode}'.")
        if mode not in allowed:
            raise _bad(f"'{mode}' is not an allowed combination of this authentication strength.")
    unknown = set(item) - {"@odata.type", "id", "appliesToCombinations", *props}
    if unknown:
        raise _bad(f"Invalid property '{sorted(unknown)[0]}' for {name}.")
    for p in props:
        if p in item and not isinstance(item[p], list):
            raise _bad(f"{p} must be a collection.")


def new_config(body: Obj, policy: Obj) -> Obj:
    """A created item: typed, checked against the policy, with a server-assigned id."""
    name = _type_of(body)
    _check(body, name, policy)
    _, props = TYPES[name]
    out: Obj = {"@odata.type": _PREFIX + name, "id": str(uuid.uuid4()),
                "appliesToCombinations": list(body["appliesToCombinations"])}
    for p in props:
        out[p] = list(body.get(p) or [])
    return out


def patch_config(current: Obj, patch: Obj, policy: Obj) -> Obj:
    if "@odata.type" in patch and patch["@odata.type"] != current["@odata.type"]:
        raise _bad("The type of a combination configuration cannot change.")
    merged = {**copy.deepcopy(current), **{k: v for k, v in patch.items() if k != "id"}}
    _check(merged, _type_of(merged), policy)
    return merged


def inline_on_create(items: Any, policy: Obj) -> list[Obj]:
    """Items given with the policy on POST: each must be typed, as on the sub-collection."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise _bad(f"{FIELD} must be a collection.")
    return [new_config(i if isinstance(i, dict) else {}, policy) for i in items]


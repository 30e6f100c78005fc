"""Keyword values Graph documents for Conditional Access reference fields (they are not object ids).

Written once from Graph's resource pages; the v1.0 CSDL types these fields as plain strings and
carries none of the keywords, so the pages are the source. A value Graph adds later is not here:
validate warns about any non-id value it does not know and plan leaves it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

# field (last path segment) -> (keywords, the page that lists them)
CA_KEYWORDS: Mapping[str, tuple[frozenset[str], str]] = {
    # https://learn.microsoft.com/graph/api/resources/conditionalaccessusers
    "includeUsers": (frozenset({"All", "None", "GuestsOrExternalUsers"}),
                     "https://learn.microsoft.com/graph/api/resources/conditionalaccessusers"),
    "excludeUsers": (frozenset({"GuestsOrExternalUsers", "All", "None"}),
                     "https://learn.microsoft.com/graph/api/resources/conditionalaccessusers"),
    # https://learn.microsoft.com/graph/api/resources/conditionalaccessapplications
    "includeApplications": (frozenset({"All", "None", "Office365", "MicrosoftAdminPortals"}),
                            "https://learn.microsoft.com/graph/api/resources/conditionalaccessapplications"),
    "excludeApplications": (frozenset({"All", "None", "Office365", "MicrosoftAdminPortals"}),
                            "https://learn.microsoft.com/graph/api/resources/conditionalaccessapplications"),
    # https://learn.microsoft.com/graph/api/resources/conditionalaccessclientapplications
    "includeServicePrincipals": (frozenset({"ServicePrincipalsInMyTenant"}),
                                 "https://learn.microsoft.com/graph/api/resources/conditionalaccessclientapplications"),
    "excludeServicePrincipals": (frozenset({"ServicePrincipalsInMyTenant"}),
                                 "https://learn.microsoft.com/graph/api/resources/conditionalaccessclientapplications"),
    # https://learn.microsoft.com/graph/api/resources/conditionalaccesslocations
    # 00000000-... is the legacy "MFA trusted IPs" pseudo-location, not an object (no Microsoft page
    # names it; it appears in real exports).
    "includeLocations": (frozenset({"All", "AllTrusted", "00000000-0000-0000-0000-000000000000"}),
                         "https://learn.microsoft.com/graph/api/resources/conditionalaccesslocations"),
    "excludeLocations": (frozenset({"All", "AllTrusted", "00000000-0000-0000-0000-000000000000"}),
                         "https://learn.microsoft.com/graph/api/resources/conditionalaccesslocations"),
}


def ca(field: str) -> frozenset[str]:
    """The keywords Graph documents for the CA reference field `field` (empty when it has none)."""
    return CA_KEYWORDS.get(field, (frozenset(), ""))[0]

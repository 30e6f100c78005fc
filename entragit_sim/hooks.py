"""Narrow per-resource behaviour that cannot be table data (Graph validation rules, derived fields)."""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from entragit_sim import apppolicies, combinations, credentials
from entragit_sim.auth import Caller, require_write
from entragit_sim.builtins import FIRST_PARTY_APPS, MICROSOFT_TENANT_ID, ROLE_TEMPLATES
from entragit_sim.errors import GraphHTTPError, bad_request, denied, not_found
from entragit_sim.store import Obj, Store
from entragit_sim.table import BY_NAME, RESOURCES, Perms, Resource

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
LOCATION_SENTINELS = {"All", "AllTrusted", ZERO_GUID}
COMPLIANT_NETWORK = "compliantNetworkNamedLocation"
ON_PREM_MASTERED = (
    "Unable to update the specified properties for on-premises mastered Directory Sync objects or "
    "objects currently undergoing migration."
)
EXTERNALLY_MASTERED = (
    "Unable to update the specified properties for objects that have originated within an external service."
)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _le(guid: str) -> bytes:
    try:
        return uuid.UUID(guid).bytes_le
    except ValueError:
        return hashlib.sha256(guid.encode()).digest()[:16]


@dataclass
class Ctx:
    """What a hook may look at: the store (lock held by the caller), the caller, the API version."""

    store: Store
    caller: Caller
    version: str  # "v1.0" | "beta"


class Hook:
    """Defaults: no extra rules."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        """Validate a new object and fill the properties Graph computes (obj already has defaults + body)."""

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        """Validate a PATCH body against the current object."""

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        """Validate a delete; may cascade."""

    def soft(self, res: Resource, obj: Obj, store: Store) -> bool:
        return bool(res.soft_delete)

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        return obj

    def visible(self, store: Store, obj: Obj) -> bool:
        return True

    def reveal(self, raw: Obj, out: Obj, fields: list[str]) -> Obj:
        """A single-object GET with `$select=fields`: put back what on_read hides from lists."""
        return out

    def guard_restore(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        """Refuse a restore from the recycle bin the caller may not make (beyond the bin's own rule)."""

    def extra_write_perms(self, ctx: Ctx, obj: Obj) -> None:
        """Raise 403 when the object needs more than the resource's write permission."""

    def guard_write(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        """Refuse a PATCH, DELETE or $ref write to an existing object Graph does not let callers change."""
        if res.sync_mastered and obj.get("onPremisesSyncEnabled") is True:
            # Synced objects are mastered in on-premises AD and Graph answers 400 Request_BadRequest
            # (the docs page carries no message; this is the one reported in
            # https://github.com/microsoftgraph/microsoft-graph-docs/issues/7301 and #18038).
            raise bad_request(ON_PREM_MASTERED)
        if res.directory:
            for unit in _restricting_units(ctx.store, str(obj.get("id"))):
                if not _may_manage_restricted(ctx.caller, unit, obj):
                    raise denied()

    def conflicts(self, store: Store, res: Resource, obj: Obj) -> str | None:
        """Name of a property whose value another active object already holds."""
        others = list(store.all(res.name))
        if res.deleted_reserve and res.soft_delete:
            others += [
                e["object"] for e in store.deleted[res.soft_delete].values() if e["kind"] == res.name
            ]
        for prop in res.unique:
            mine = _values(obj.get(prop))
            if not mine:
                continue
            for other in others:
                if other.get("id") != obj.get("id") and mine & _values(other.get(prop)):
                    return prop
        return None


# Tenant-wide roles that may still change the membership of a role-assignable group in a
# restricted management AU (admin-units-restricted-management, "Limitations").
_RMAU_GROUP_ROLES = (ROLE_TEMPLATES["Global Administrator"], ROLE_TEMPLATES["Privileged Role Administrator"])


def _restricting_units(store: Store, oid: str) -> list[str]:
    """Ids of the restricted containers (restricted management AUs) that hold `oid` as a member."""
    return [
        str(unit["id"])
        for r in RESOURCES
        if r.restricts_members
        for unit in store.all(r.name)
        if unit.get(r.restricts_members) is True
        and oid in store.links.get(f"{r.name}/{unit['id']}/members", [])
    ]


def _may_manage_restricted(caller: Caller, unit: str, obj: Obj) -> bool:
    """Objects in a restricted management AU: only a caller holding a role at that AU's scope may
    change them; tenant-wide roles and application permissions don't apply. Global Administrator
    and Privileged Role Administrator (signed in) keep managing role-assignable groups there.

    https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management"""
    if caller.admin or any(au == unit and roles for au, roles in caller.scoped_roles):
        return True
    return caller.delegated and bool(obj.get("isAssignableToRole")) and caller.has_role(*_RMAU_GROUP_ROLES)


def _values(v: Any) -> set[str]:
    if v is None:
        return set()
    items = v if isinstance(v, list) else [v]
    return {str(x).lower() for x in items}


def _require_directory_object(store: Store, oid: Any, what: str) -> tuple[str, Obj]:
    found = store.find_directory_object(str(oid)) if oid else None
    if found is None:
        raise not_found(str(oid))
    return found


_PRINCIPAL_TYPES = {"users": "User", "groups": "Group", "servicePrincipals": "ServicePrincipal"}


MANAGED_PREFIX = "Microsoft-managed:"


def microsoft_managed(obj: Obj) -> bool:
    """A CA policy Microsoft created in the tenant: a template id and the "Microsoft-managed:" name.

    https://learn.microsoft.com/entra/identity/conditional-access/managed-policies"""
    return bool(obj.get("templateId")) and str(obj.get("displayName") or "").startswith(MANAGED_PREFIX)


class CaPolicy(Hook):
    """CA: schema basics, named-location existence (graph-notes 4.2), authenticationStrength by id."""

    def _check(self, ctx: Ctx, obj: Obj) -> None:
        cond = obj.get("conditions")
        if (
            not isinstance(cond, dict)
            or not isinstance(cond.get("applications"), dict)
            or not (
                isinstance(cond.get("users"), dict)
                or isinstance(cond.get("clientApplications"), dict)
            )
        ):
            raise bad_request(
                "1007: Incoming ConditionalAccessPolicy object is null or does not match the schema of "
                "ConditionalAccessPolicy type. For more information, please visit https://aka.ms/graphCAdocs",
                directory=False,
            )
        if obj.get("state") not in ("enabled", "disabled", "enabledForReportingButNotEnforced"):
            raise bad_request(
                f"1007: Invalid value for property 'state': '{obj.get('state')}'.", directory=False
            )
        locs = cond.get("locations") or {}
        for key in ("includeLocations", "excludeLocations"):
            for lid in locs.get(key) or []:
                if lid not in LOCATION_SENTINELS and ctx.store.get("namedLocations", lid) is None:
                    raise bad_request(
                        f"1054: Named location with id '{lid}' was not found.", directory=False
                    )
        grant = obj.get("grantControls") or {}
        for tou in grant.get("termsOfUse") or []:
            # Like named locations: a policy may only name agreements that exist.
            if ctx.store.get("termsOfUseAgreements", tou) is None:
                raise bad_request(f"1054: Terms of use with id '{tou}' was not found.", directory=False)
        strength = grant.get("authenticationStrength")
        if isinstance(strength, dict) and strength.get("id"):
            if ctx.store.get("authenticationStrengthPolicies", strength["id"]) is None:
                raise bad_request(
                    f"1054: Authentication strength '{strength['id']}' was not found.",
                    directory=False,
                )
            grant["authenticationStrength"] = {
                "id": strength["id"]
            }  # stored as a reference, expanded on read

    def _security_defaults_off(self, ctx: Ctx, state: Any) -> None:
        # Graph refuses to turn a CA policy on while security defaults are on (the portal says the
        # same): https://learn.microsoft.com/entra/fundamentals/security-defaults
        # Message as reported in https://github.com/j0eyv/ConditionalAccessBaseline/issues/17.
        if state == "enabled" and _security_defaults_enabled(ctx.store):
            raise bad_request(
                "Security Defaults is enabled in the tenant. You must disable Security defaults "
                "before enabling a Conditional Access policy.",
                directory=False,
            )

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._check(ctx, obj)
        self._security_defaults_off(ctx, obj.get("state"))
        obj["createdDateTime"], obj["modifiedDateTime"] = now_iso(), None

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if microsoft_managed(old) and patch.get("displayName", old["displayName"]) != old["displayName"]:
            # Admins may change a Microsoft-managed policy's state and exclusions, never its name.
            # https://learn.microsoft.com/entra/identity/conditional-access/managed-policies
            # The exact error text is a best guess (the page does not quote one).
            raise bad_request(
                "1007: The displayName of a Microsoft-managed policy cannot be changed.", directory=False
            )
        self._check(ctx, {**old, **patch})
        if old.get("state") != "enabled":
            self._security_defaults_off(ctx, patch.get("state"))
        grant = patch.get("grantControls")
        if isinstance(grant, dict) and isinstance(grant.get("authenticationStrength"), dict):
            grant["authenticationStrength"] = {"id": grant["authenticationStrength"].get("id")}

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if microsoft_managed(obj):
            # Microsoft-managed policies cannot be deleted (only turned off or set to report-only).
            # https://learn.microsoft.com/entra/identity/conditional-access/managed-policies
            # The exact error text is a best guess.
            raise bad_request("1007: A Microsoft-managed policy cannot be deleted.", directory=False)

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        grant = obj.get("grantControls")
        if not isinstance(grant, dict):
            return obj
        strength = grant.get("authenticationStrength")
        if isinstance(strength, dict) and set(strength) == {"id"}:
            full = ctx.store.get("authenticationStrengthPolicies", strength["id"])
            if full is not None:  # GET returns the navigation property expanded (graph-notes 4.1)
                return {**obj, "grantControls": {**grant, "authenticationStrength": full}}
        return obj


SECURITY_DEFAULTS = "identitySecurityDefaultsEnforcementPolicy"


def _security_defaults_enabled(store: Store) -> bool:
    return any(p.get("isEnabled") for p in store.all(SECURITY_DEFAULTS))


class SecurityDefaults(Hook):
    """Security defaults can't be turned on while a Conditional Access policy is enabled.

    https://learn.microsoft.com/entra/fundamentals/security-defaults ("If your
    organization ... uses Conditional Access policies, security defaults aren't available"). Graph's
    exact answer is not documented; the message is a best guess modelled on the reverse direction."""

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if patch.get("isEnabled") is True and not old.get("isEnabled"):
            enabled = _policies_using(ctx.store, lambda p: p.get("state") == "enabled")
            if enabled:
                raise bad_request(
                    "Conditional Access policies are enabled in the tenant. You must disable them "
                    "before enabling Security defaults.",
                    directory=False,
                )


def _policies_using(store: Store, pred: Any) -> list[str]:
    return [p["id"] for p in store.all("conditionalAccessPolicies") if pred(p)]


class NamedLocation(Hook):
    """ip needs ipRanges, country needs countriesAndRegions; trusted or in-use locations can't be deleted."""

    def _check(self, obj: Obj) -> None:
        t = obj.get("@odata.type", "")
        if t.endswith("ipNamedLocation") and not obj.get("ipRanges"):
            raise bad_request("1007: ipRanges is required for an ipNamedLocation.", directory=False)
        if t.endswith("countryNamedLocation") and not obj.get("countriesAndRegions"):
            raise bad_request(
                "1007: countriesAndRegions is required for a countryNamedLocation.", directory=False
            )
        # A compliant-network location (Global Secure Access) is trusted by definition.
        # https://learn.microsoft.com/graph/api/resources/compliantnetworknamedlocation?view=graph-rest-beta
        if obj.get("isTrusted") and not t.endswith(("ipNamedLocation", COMPLIANT_NETWORK)):
            raise bad_request("1007: Only IP named locations can be trusted.", directory=False)

    def _system_managed(self, ctx: Ctx, obj: Obj, verb: str) -> None:
        """Compliant-network locations are beta-only and created by Global Secure Access, not by callers.

        https://learn.microsoft.com/graph/api/resources/compliantnetworknamedlocation?view=graph-rest-beta
        (the type exists only in beta; Global Secure Access creates it). The error texts are best guesses."""
        if not str(obj.get("@odata.type", "")).endswith(COMPLIANT_NETWORK):
            return
        if ctx.version != "beta":
            raise bad_request(
                f"1007: The type '#microsoft.graph.{COMPLIANT_NETWORK}' is not supported in this API version.",
                directory=False,
            )
        if verb:
            raise bad_request(
                f"1007: A compliant network named location is managed by Global Secure Access and cannot be {verb}.",
                directory=False,
            )

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._system_managed(ctx, obj, "created")
        self._check(obj)
        obj["createdDateTime"] = obj["modifiedDateTime"] = now_iso()

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        self._system_managed(ctx, {**old, **patch}, "")
        self._check({**old, **patch})

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._system_managed(ctx, obj, "deleted")
        if obj.get("isTrusted"):  # MicrosoftDocs/azure-docs PR #108713: untrust first
            raise bad_request(
                "1003: A trusted named location cannot be deleted; set isTrusted to false first.",
                directory=False,
            )
        lid = obj["id"]
        users = _policies_using(
            ctx.store,
            lambda p: (
                lid
                in (
                    ((p.get("conditions") or {}).get("locations") or {}).get("includeLocations")
                    or []
                )
                + (
                    ((p.get("conditions") or {}).get("locations") or {}).get("excludeLocations")
                    or []
                )
            ),
        )
        if users:
            raise bad_request(
                f"1003: Named location '{lid}' is referenced by policies: {', '.join(users)}.",
                directory=False,
            )


class AuthStrength(Hook):
    """PATCH changes name/description only; combinations go through updateAllowedCombinations and
    their configurations through their own sub-collection (combinations.py)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        obj["createdDateTime"] = obj["modifiedDateTime"] = now_iso()
        obj[combinations.FIELD] = combinations.inline_on_create(obj.get(combinations.FIELD), obj)

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if "allowedCombinations" in patch:
            raise bad_request(
                "Use updateAllowedCombinations to change allowedCombinations.", directory=False
            )
        if combinations.FIELD in patch:
            raise bad_request(
                "Cannot update combinationConfigurations with PATCH on the policy; use "
                "/combinationConfigurations/{id}.",
                directory=False,
            )

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        sid = obj["id"]
        users = _policies_using(
            ctx.store,
            lambda p: (
                (((p.get("grantControls") or {}).get("authenticationStrength") or {}).get("id"))
                == sid
            ),
        )
        if users:
            raise bad_request(
                f"Authentication strength '{sid}' is used by policies: {', '.join(users)}.",
                directory=False,
            )


class AuthMethodConfig(Hook):
    """Fixed-id configurations; only external methods are created and deleted."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if not obj.get("@odata.type", "").endswith("externalAuthenticationMethodConfiguration"):
            raise bad_request(
                "Only external authentication method configurations can be created.",
                directory=False,
            )
        obj["id"] = str(uuid.uuid4())

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if patch.get("@odata.type") != old.get("@odata.type"):
            raise bad_request(
                f"The @odata.type must be '{old.get('@odata.type')}'.", directory=False
            )

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if not obj.get("@odata.type", "").endswith("externalAuthenticationMethodConfiguration"):
            raise GraphHTTPError(
                405,
                "BadRequest",
                "Built-in authentication method configurations cannot be deleted.",
            )


def _default_domain(store: Store) -> str:
    for org in store.all("organization"):
        for d in org.get("verifiedDomains") or []:
            if d.get("isDefault"):
                return str(d["name"])
    return "contoso.example"


def _sid(oid: str) -> str:
    b = _le(oid)
    parts = [int.from_bytes(b[i : i + 4], "little") for i in range(0, 16, 4)]
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


def _exchange_mastered(obj: Obj) -> bool:
    """A distribution list or mail-enabled security group: mail-enabled and not a Microsoft 365 group."""
    return bool(obj.get("mailEnabled")) and "Unified" not in (obj.get("groupTypes") or [])


class Group(Hook):
    """Group types, dynamic rules, role-assignable groups, distribution groups hard-delete (graph-notes 4.5)."""

    def _check(self, obj: Obj) -> None:
        types = obj.get("groupTypes") or []
        unified = "Unified" in types
        if unified and not obj.get("mailEnabled"):
            raise bad_request("Microsoft 365 groups must be mail-enabled (mailEnabled: true).")
        if "DynamicMembership" in types and not obj.get("membershipRule"):
            raise bad_request(
                "Invalid value specified for property 'membershipRule' of resource 'Group'."
            )
        if obj.get("isAssignableToRole") and (
            not obj.get("securityEnabled") or "DynamicMembership" in types
        ):
            raise bad_request(
                "Role-assignable groups must be security-enabled and can't be dynamic."
            )
        nick = str(obj.get("mailNickname") or "")
        if (
            not nick
            or len(nick) > 64
            or any(c in nick for c in ' @()\\[]";:.<>,')
            or not nick.isascii()
        ):
            raise bad_request(
                "Invalid value specified for property 'mailNickname' of resource 'Group'."
            )

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if _exchange_mastered(obj):
            # "Only Microsoft 365 groups and security groups can be managed through Microsoft Graph":
            # https://learn.microsoft.com/graph/office365-groups-concept-overview
            # (message as reported in https://github.com/pnp/cli-microsoft365/issues/5476)
            raise bad_request("Cannot Create a mail-enabled security groups and or distribution list.")
        self._check(obj)
        self.extra_write_perms(ctx, obj)
        stamp = now_iso()
        obj.update(
            createdDateTime=stamp,
            renewedDateTime=stamp,
            deletedDateTime=None,
            securityIdentifier=_sid(obj["id"]),
        )
        if obj.get("mailEnabled"):
            mail = f"{obj['mailNickname']}@{_default_domain(ctx.store)}"
            obj.update(mail=mail, proxyAddresses=[f"SMTP:{mail}"])
        else:
            obj.setdefault("mail", None)
        if "DynamicMembership" in (obj.get("groupTypes") or []):
            obj.setdefault("membershipRuleProcessingState", "On")

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        self._check({**old, **patch})
        self.extra_write_perms(ctx, old)

    def extra_write_perms(self, ctx: Ctx, obj: Obj) -> None:
        # graph-notes 4.5: role-assignable groups need RoleManagement.ReadWrite.Directory on top.
        if obj.get("isAssignableToRole") and not ctx.caller.has(
            "RoleManagement.ReadWrite.Directory"
        ):
            raise denied()

    def guard_write(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        super().guard_write(ctx, res, obj)
        if _exchange_mastered(obj):
            # Mail-enabled security groups and distribution lists are read-only in Graph (Exchange
            # masters them): https://learn.microsoft.com/graph/office365-groups-concept-overview
            # (message as reported in https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/7341)
            raise bad_request(EXTERNALLY_MASTERED)

    def soft(self, res: Resource, obj: Obj, store: Store) -> bool:
        unified = "Unified" in (obj.get("groupTypes") or [])
        distribution = obj.get("mailEnabled") and not obj.get("securityEnabled") and not unified
        # The docs disagree on security groups (findings row 14): group-delete says they go to the
        # recycle bin, directory-deleteditems-restore says "security groups cannot be restored".
        # A tenant may be simulated either way (`Simulator(security_group_delete="hard")`).
        security = obj.get("securityEnabled") and not unified
        return not distribution and not (security and not store.security_groups_restorable)

    def conflicts(self, store: Store, res: Resource, obj: Obj) -> str | None:
        # mailNickname is unique only among Microsoft 365 groups (graph-notes 4.5).
        if "Unified" not in (obj.get("groupTypes") or []):
            return None
        nick = str(obj.get("mailNickname", "")).lower()
        for other in store.all("groups"):
            if (
                other["id"] != obj["id"]
                and "Unified" in (other.get("groupTypes") or [])
                and str(other.get("mailNickname", "")).lower() == nick
            ):
                return "mailNickname"
        return None


class _KeyCredentials(Hook):
    """keyCredentials: certificates are parsed and completed on write; `key` reads back as null
    except on `GET /{collection}/{id}?$select=keyCredentials` (Graph's keyCredential docs)."""

    def _keys(self, body: Obj, current: Obj | None) -> None:
        if "keyCredentials" in body:
            body["keyCredentials"] = credentials.normalize_key_credentials(
                body["keyCredentials"], (current or {}).get("keyCredentials")
            )

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        obj.pop(credentials.FIC_KEY, None)  # a navigation property: its own routes, never inline
        return credentials.hide_keys(obj)

    def reveal(self, raw: Obj, out: Obj, fields: list[str]) -> Obj:
        if "keyCredentials" in fields and isinstance(raw.get("keyCredentials"), list):
            out["keyCredentials"] = copy.deepcopy(raw["keyCredentials"])
        return out


def _verified_domains(store: Store) -> list[str]:
    return [
        str(d["name"]).lower()
        for org in store.all("organization")
        for d in org.get("verifiedDomains") or []
        if d.get("name")
    ]


def _uri_allowed(store: Store, app_id: str, uri: str) -> bool:
    """One identifierUris value against Graph's supported formats: api://{the app's own appId}[/...],
    api://{tenantId}/..., or an api:// or https:// host that is a verified domain or its subdomain.

    https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions
    Other schemes (urn:, custom) are left alone: the page restricts api:// and http(s) hosts."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() not in ("api", "https", "http"):
        return True
    host, _, path = rest.partition("/")
    host = host.lower()
    if scheme.lower() == "api":
        if host == app_id.lower():
            return True
        if host == store.tenant_id.lower():
            return bool(path)
        try:
            uuid.UUID(host)
            return False  # another application's appId
        except ValueError:
            pass
    return any(host == d or host.endswith("." + d) for d in _verified_domains(store))


def _check_identifier_uris(store: Store, app_id: str, uris: Any, already: Any) -> None:
    """New identifierUris values must follow the tenant's formats; ones already on the app stay."""
    kept = {str(u).lower() for u in already or []}
    for uri in uris or []:
        if str(uri).lower() not in kept and not _uri_allowed(store, app_id, str(uri)):
            # Graph's HostNameNotOnVerifiedDomain answer (identifier-uri-restrictions above).
            raise bad_request(
                "Values of identifierUris property must use a verified domain of the organization "
                "or its subdomain: " + str(uri)
            )


class Application(_KeyCredentials):
    """appId is server-assigned; deleting an app soft-deletes its SP (restore does not bring it back).
    Federated identity credentials live inside the stored object (credentials.FIC_KEY), so they go
    and come back with the application."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._keys(obj, None)
        obj.update(
            appId=str(uuid.uuid4()),
            createdDateTime=now_iso(),
            deletedDateTime=None,
            publisherDomain=_default_domain(ctx.store),
            passwordCredentials=[],
        )
        obj.setdefault("uniqueName", None)
        _check_identifier_uris(ctx.store, obj["appId"], obj.get("identifierUris"), [])

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        self._keys(patch, old)
        if "identifierUris" in patch:
            _check_identifier_uris(
                ctx.store, str(old.get("appId")), patch["identifierUris"], old.get("identifierUris")
            )

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        for sp in list(ctx.store.all("servicePrincipals")):
            if sp.get("appId") == obj.get("appId"):
                soft_delete(ctx.store, BY_NAME["servicePrincipals"], sp)


class ServicePrincipal(_KeyCredentials):
    """An SP needs an application with that appId; appRoles and scopes mirror the application."""

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        self._keys(patch, old)

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._keys(obj, None)
        app_id = obj.get("appId")
        app = next((a for a in ctx.store.all("applications") if a.get("appId") == app_id), None)
        if app is None and app_id in FIRST_PARTY_APPS:
            # A Microsoft first-party app lives in Microsoft's tenant; POST {appId} instantiates its SP
            # here, the documented fix when one is missing.
            # https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals
            # https://learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in
            app = {"displayName": FIRST_PARTY_APPS[str(app_id)], "signInAudience": "AzureADMultipleOrgs"}
            owner = MICROSOFT_TENANT_ID
        elif app is None:
            raise bad_request(
                f"The appId '{app_id}' of the service principal does not reference a valid application object."
            )
        else:
            owner = ctx.store.tenant_id
        if any(s.get("appId") == app_id for s in ctx.store.all("servicePrincipals")):
            raise GraphHTTPError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "Another object with the same value for property servicePrincipalNames already exists.",
            )
        obj.setdefault("displayName", app.get("displayName"))
        obj.update(
            appDisplayName=app.get("displayName"),
            appOwnerOrganizationId=owner,
            deletedDateTime=None,
            signInAudience=app.get("signInAudience"),
            servicePrincipalNames=[app_id, *(app.get("identifierUris") or [])],
        )

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        app = next(
            (a for a in ctx.store.all("applications") if a.get("appId") == obj.get("appId")), None
        )
        obj = super().on_read(ctx, res, obj)
        if app is None:
            return obj
        return {
            **obj,
            "appRoles": app.get("appRoles", []),
            "oauth2PermissionScopes": (app.get("api") or {}).get("oauth2PermissionScopes", []),
        }


def _hidden_if_deleted(store: Store, obj: Obj, *fields: str) -> bool:
    return not any(store.is_soft_deleted(str(obj.get(f))) for f in fields)


class AppRoleAssignment(Hook):
    """principal + resource SP + appRoleId must exist; no duplicates; opaque ids (graph-notes 4.7)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        pkind, principal = _require_directory_object(ctx.store, obj.get("principalId"), "principal")
        if pkind not in _PRINCIPAL_TYPES:
            raise bad_request(
                f"'{obj.get('principalId')}' is not a user, group or service principal."
            )
        resource = ctx.store.get("servicePrincipals", str(obj.get("resourceId")))
        if resource is None:
            raise not_found(str(obj.get("resourceId")))
        resource = HOOKS["service_principal"].on_read(ctx, BY_NAME["servicePrincipals"], resource)
        role_ids = {r.get("id") for r in resource.get("appRoles") or []}
        if obj.get("appRoleId") != ZERO_GUID and obj.get("appRoleId") not in role_ids:
            raise bad_request(
                f"Permission being assigned was not found on application '{resource.get('appId')}'."
            )
        for a in ctx.store.all("appRoleAssignments"):
            if all(a.get(k) == obj.get(k) for k in ("principalId", "resourceId", "appRoleId")):
                raise bad_request("Permission being assigned already exists on the object.")
        obj.update(
            id=_b64(_le(obj["principalId"]) + uuid.uuid4().bytes),
            createdDateTime=now_iso(),
            deletedDateTime=None,
            principalDisplayName=principal.get("displayName"),
            principalType=_PRINCIPAL_TYPES[pkind],
            resourceDisplayName=resource.get("displayName"),
        )

    def visible(self, store: Store, obj: Obj) -> bool:
        return _hidden_if_deleted(store, obj, "principalId", "resourceId")


class OAuth2Grant(Hook):
    """clientId and resourceId are SP object ids; Principal grants need principalId; only scope changes."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        for f in ("clientId", "resourceId"):
            if ctx.store.get("servicePrincipals", str(obj.get(f))) is None:
                raise not_found(str(obj.get(f)))
        kind = obj.get("consentType")
        if kind not in ("AllPrincipals", "Principal"):
            raise bad_request(
                "Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'."
            )
        if kind == "Principal":
            _require_directory_object(ctx.store, obj.get("principalId"), "principal")
        else:
            obj["principalId"] = None
        for g in ctx.store.all("oauth2PermissionGrants"):
            if all(g.get(k) == obj.get(k) for k in ("clientId", "resourceId", "principalId")):
                raise GraphHTTPError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Permission entry already exists.",
                )
        raw = (
            _le(obj["clientId"])
            + _le(obj["resourceId"])
            + (_le(obj["principalId"]) if obj["principalId"] else b"")
        )
        obj["id"] = _b64(raw)
        obj.setdefault("scope", "")

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        extra = set(patch) - {"scope", "id"}
        if extra:
            raise bad_request(f"Property '{sorted(extra)[0]}' is read-only and cannot be set.")

    def visible(self, store: Store, obj: Obj) -> bool:
        return _hidden_if_deleted(store, obj, "clientId", "resourceId", "principalId")


def _check_role_grant(store: Store, obj: Obj) -> None:
    """A scope, a known role, and a principal that may hold it (groups must be role-assignable)."""
    if not obj.get("directoryScopeId") and not obj.get("appScopeId"):
        raise bad_request("Either directoryScopeId or appScopeId is required.")
    if store.get("roleDefinitions", str(obj.get("roleDefinitionId"))) is None:
        raise not_found(str(obj.get("roleDefinitionId")))
    pkind, principal = _require_directory_object(store, obj.get("principalId"), "principal")
    if pkind == "groups" and not principal.get("isAssignableToRole"):
        raise bad_request(
            f"The group '{principal['id']}' is not role-assignable (isAssignableToRole is not true)."
        )


class RoleAssignment(Hook):
    """Principal must exist (groups must be role-assignable); role by template id or custom id."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        _check_role_grant(ctx.store, obj)
        for a in ctx.store.all("roleAssignments"):
            if all(
                a.get(k) == obj.get(k)
                for k in ("principalId", "roleDefinitionId", "directoryScopeId", "appScopeId")
            ):
                raise GraphHTTPError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "A conflicting object with one or more of the specified property values is present in the directory.",
                )
        scope = obj.get("directoryScopeId") or obj.get("appScopeId")
        suffix = "1" if scope == "/" else hashlib.sha256(str(scope).encode()).hexdigest()[:8]
        obj["id"] = f"{_b64(_le(obj['roleDefinitionId']) + _le(obj['principalId']))}-{suffix}"
        obj.setdefault("directoryScopeId", None)
        obj.setdefault("appScopeId", None)
        put_schedule(ctx.store, obj, "Assigned", None, None)

    def visible(self, store: Store, obj: Obj) -> bool:
        return _hidden_if_deleted(store, obj, "principalId")

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        ctx.store.pop("roleAssignmentScheduleInstances", obj["id"])  # no longer active
        ctx.store.pop("roleAssignmentSchedules", obj["id"])


class CrossTenantPartner(Hook):
    """ "If a configuration includes a user synchronization policy, you must first delete the user
    synchronization policy before you can delete the partner-specific configuration"
    (https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete).
    The error text is a best guess: the docs give none."""

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if ctx.store.get("crossTenantIdentitySync", str(obj.get("tenantId"))) is not None:
            raise bad_request(
                "The partner configuration has a user synchronization policy; delete "
                "identitySynchronization first."
            )


class PermissionGrantPolicy(Hook):
    """Built-in policies (ids "microsoft-...") are Microsoft's: no write; a custom id may not take the
    prefix. Condition sets are written through their own collections (apppolicies.py)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if apppolicies.builtin(obj):
            raise bad_request("Custom permission grant policy ids cannot start with 'microsoft-'.",
                              directory=False)
        for side in apppolicies.SIDES:
            if obj.get(side):
                raise bad_request(f"Add {side} through /{side} after creating the policy.", directory=False)
            obj[side] = []

    def guard_write(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        apppolicies.refuse_builtin(obj, "modified or deleted")


def put_schedule(store: Store, assignment: Obj, kind: str, info: Obj | None, request_id: str | None) -> None:
    """The roleAssignmentSchedules entry of an active assignment (same id as the assignment)."""
    store.put("roleAssignmentSchedules", str(assignment["id"]), {
        "id": assignment["id"], **{k: assignment.get(k) for k in _ROLE_GRANT}, "appScopeId": None,
        "createdUsing": request_id or assignment["id"], "createdDateTime": now_iso(),
        "modifiedDateTime": None, "status": "Provisioned", "assignmentType": kind, "memberType": "Direct",
        "scheduleInfo": info or {"startDateTime": now_iso(), "recurrence": None,
                                 "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None}},
    })


class RoleScheduleRequest(Hook):
    """adminAssign / selfActivate make the role active: a roleAssignment, its schedule and a schedule
    instance; adminRemove ends an active assignment.

    https://learn.microsoft.com/graph/api/rbacapplication-post-roleassignmentschedulerequests. Not
    modelled: eligibility checks for selfActivate, expiry, approvals; the result is provisioned at once.
    The error code for removing a missing assignment is the one PIM is reported to send."""

    KINDS = {"adminAssign": "Assigned", "selfActivate": "Activated"}

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if obj.get("action") == "adminRemove":
            self._remove(ctx, obj)
            return
        kind = self.KINDS.get(str(obj.get("action")))
        if kind is None:
            raise bad_request(f"Action '{obj.get('action')}' is not supported here; use adminAssign, "
                              "adminRemove or selfActivate.")
        assignment = {k: obj.get(k) for k in ("principalId", "roleDefinitionId", "directoryScopeId")}
        ra_res = BY_NAME["roleAssignments"]
        HOOKS[ra_res.hook].on_create(ctx, ra_res, assignment)
        aid = str(assignment["id"])
        ctx.store.put("roleAssignments", aid, {**ra_res.defaults, **assignment})
        info = _schedule_info(obj)
        put_schedule(ctx.store, assignment, kind, info, aid)
        ctx.store.put("roleAssignmentScheduleInstances", aid, {
            **assignment, "appScopeId": None, "assignmentType": kind, "memberType": "Direct",
            "startDateTime": info["startDateTime"], "endDateTime": info["expiration"]["endDateTime"],
            "roleAssignmentOriginId": aid, "roleAssignmentScheduleId": aid,
        })
        obj.update(status="Provisioned", createdDateTime=now_iso(), targetScheduleId=aid, scheduleInfo=info)

    def _remove(self, ctx: Ctx, obj: Obj) -> None:
        found = next((a for a in ctx.store.all("roleAssignments")
                      if all(a.get(k) == obj.get(k) for k in _ROLE_GRANT)), None)
        if found is None:
            raise GraphHTTPError(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
        for coll in ("roleAssignments", "roleAssignmentScheduleInstances", "roleAssignmentSchedules"):
            ctx.store.pop(coll, found["id"])
        obj.update(status="Revoked", createdDateTime=now_iso(), targetScheduleId=None, scheduleInfo=None)


_ROLE_GRANT = ("principalId", "roleDefinitionId", "directoryScopeId")
_EXPIRATIONS = {"noExpiration": None, "afterDateTime": "endDateTime", "afterDuration": "duration"}


def _schedule_info(obj: Obj) -> Obj:
    """The request's scheduleInfo as Graph echoes it: start defaults to now, every field present."""
    info = obj.get("scheduleInfo") or {}
    exp = info.get("expiration") or {"type": "noExpiration"}
    kind = exp.get("type")
    if kind not in _EXPIRATIONS:
        raise bad_request(f"Invalid expiration type '{kind}'; use noExpiration, afterDateTime or afterDuration.")
    needed = _EXPIRATIONS[kind]
    if needed and not exp.get(needed):
        raise bad_request(f"An expiration of type '{kind}' needs {needed}.")
    return {
        "startDateTime": info.get("startDateTime") or now_iso(), "recurrence": info.get("recurrence"),
        "expiration": {"type": kind, "endDateTime": exp.get("endDateTime"), "duration": exp.get("duration")},
    }


class RoleEligibilityRequest(Hook):
    """adminAssign makes a principal eligible for a role (a schedule with the request's id),
    adminRemove revokes the eligibility; answers shaped as the docs' examples
    (https://learn.microsoft.com/graph/api/rbacapplication-post-roleeligibilityschedulerequests).
    Not modelled: the role's management policy (maximum duration, required justification),
    approvals, self-service actions, expiry; everything is provisioned at once.
    The error codes for a duplicate or a missing eligibility are the ones PIM is reported to send;
    the docs page lists none."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        action = obj.get("action")
        found = next((s for s in ctx.store.all("roleEligibilitySchedules")
                      if all(s.get(k) == obj.get(k) for k in _ROLE_GRANT)), None)
        obj["createdDateTime"] = now_iso()
        who = {"displayName": None, "id": ctx.caller.user_id or ctx.caller.app_id}
        obj["createdBy"] = {"application": None if ctx.caller.delegated else who, "device": None,
                            "user": who if ctx.caller.delegated else None}
        if action == "adminAssign":
            self._assign(ctx, obj, found)
        elif action == "adminRemove":
            if found is None:
                raise GraphHTTPError(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
            ctx.store.pop("roleEligibilitySchedules", found["id"])
            obj.update(status="Revoked", targetScheduleId=None, scheduleInfo=None)
        else:
            raise bad_request(f"Action '{action}' is not supported here; use adminAssign or adminRemove.")

    def _assign(self, ctx: Ctx, obj: Obj, found: Obj | None) -> None:
        _check_role_grant(ctx.store, obj)
        # "Can be a user or a role-assignable group. You can grant only active assignments [to]
        # service principals" (resources/unifiedroleeligibilityschedulerequest); the error text is a guess.
        if ctx.store.get("servicePrincipals", str(obj.get("principalId"))) is not None:
            raise bad_request("A service principal cannot be made eligible for a role; assign it actively.")
        if found is not None:
            raise GraphHTTPError(400, "RoleAssignmentExists", "The Role assignment already exists.")
        info = _schedule_info(obj)
        ctx.store.put("roleEligibilitySchedules", obj["id"], {
            "id": obj["id"], **{k: obj.get(k) for k in _ROLE_GRANT}, "appScopeId": None,
            "createdUsing": obj["id"], "createdDateTime": obj["createdDateTime"],
            "modifiedDateTime": "0001-01-01T08:00:00Z", "status": "Provisioned", "memberType": "Direct",
            "scheduleInfo": info,
        })
        obj.update(status="Provisioned", completedDateTime=obj["createdDateTime"], targetScheduleId=obj["id"],
                   scheduleInfo=info)


class GroupPimRequest(Hook):
    """PIM for Groups: adminAssign makes the principal an eligible (or active) member or owner of the
    group, a schedule named `{groupId}_{accessId}_{request id}` as in the docs' examples; adminRemove
    ends it; selfActivate (assignment requests only) makes an activated assignment
    (https://learn.microsoft.com/graph/api/privilegedaccessgroup-post-eligibilityschedulerequests,
    .../privilegedaccessgroup-post-assignmentschedulerequests). Only security and Microsoft 365 groups
    that are neither dynamic nor synced from on-premises
    (https://learn.microsoft.com/entra/id-governance/privileged-identity-management/groups-discover-groups).
    Not modelled: the group's PIM policy, approvals, expiry, and the membership an active assignment
    grants (the principal is not added to `members` / `owners`). Error codes are guesses: the docs list none."""

    def __init__(self, schedules: str, activations: bool) -> None:
        self.schedules = schedules
        self.activations = activations

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        action = str(obj.get("action"))
        allowed = ("adminAssign", "adminRemove") + (("selfActivate",) if self.activations else ())
        if action not in allowed:
            raise bad_request(f"Action '{action}' is not supported here; use {' or '.join(allowed)}.")
        if obj.get("accessId") not in ("member", "owner"):
            raise bad_request("accessId must be member or owner.")
        self._check_group(ctx.store, str(obj.get("groupId")))
        found = next((s for s in ctx.store.all(self.schedules)
                      if all(s.get(k) == obj.get(k) for k in _GROUP_GRANT)), None)
        obj["createdDateTime"] = now_iso()
        if action == "adminRemove":
            if found is None:
                raise GraphHTTPError(400, "RoleAssignmentDoesNotExist", "The Role assignment does not exist.")
            ctx.store.pop(self.schedules, found["id"])
            obj.update(status="Revoked", scheduleInfo=None)
            return
        if not any(ctx.store.get(k, str(obj.get("principalId"))) for k in ("users", "groups")):
            raise GraphHTTPError(404, "ResourceNotFound", "The principal does not exist.")
        if found is not None:
            raise GraphHTTPError(400, "RoleAssignmentExists", "The Role assignment already exists.")
        info = _schedule_info(obj)
        sid = f"{obj['groupId']}_{obj['accessId']}_{obj['id']}"
        sched = {"id": sid, **{k: obj.get(k) for k in _GROUP_GRANT}, "createdUsing": obj["id"],
                 "createdDateTime": obj["createdDateTime"], "modifiedDateTime": None, "status": "Provisioned",
                 "memberType": "direct", "scheduleInfo": info}
        if self.activations:
            sched["assignmentType"] = "activated" if action == "selfActivate" else "assigned"
        ctx.store.put(self.schedules, sid, sched)
        obj.update(status="Provisioned", completedDateTime=obj["createdDateTime"], targetScheduleId=sid,
                   scheduleInfo=info)

    @staticmethod
    def _check_group(store: Store, gid: str) -> None:
        group = store.get("groups", gid)
        if group is None:
            raise GraphHTTPError(404, "ResourceNotFound", f"Group '{gid}' does not exist.")
        types = group.get("groupTypes") or []
        if "DynamicMembership" in types or group.get("onPremisesSyncEnabled"):
            raise bad_request("Dynamic groups and groups synchronized from on-premises cannot be managed in PIM.")
        if not group.get("securityEnabled") and "Unified" not in types:  # a distribution list
            raise bad_request("Only security groups and Microsoft 365 groups can be managed in PIM.")


_GROUP_GRANT = ("groupId", "principalId", "accessId")


class AccessPackageCatalog(Hook):
    """Timestamps; the default catalog stays, and a catalog holding access packages is not deleted
    (https://learn.microsoft.com/graph/api/accesspackagecatalog-delete). Error texts are guesses."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if obj.get("catalogType") not in ("userManaged", None):
            raise bad_request("Only userManaged catalogs can be created.")
        obj["createdDateTime"] = obj["modifiedDateTime"] = now_iso()

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if obj.get("catalogType") != "userManaged":
            raise bad_request("This catalog cannot be deleted.")
        if any((p.get("catalog") or {}).get("id") == obj["id"] for p in ctx.store.all("accessPackages")):
            raise bad_request("The catalog still contains access packages; delete them first.")
        # Unsourced: the docs do not say what becomes of a deleted catalog's resources; they go with it here.
        for r in ctx.store.all("accessPackageCatalogResources"):
            if r.get("catalogId") == obj["id"]:
                ctx.store.pop("accessPackageCatalogResources", r["id"])


class AccessPackage(Hook):
    """Made in an existing catalog, kept as {id} (what $expand=catalog is served as here; Graph returns the
    whole catalog), never moved (https://learn.microsoft.com/graph/api/entitlementmanagement-post-accesspackages)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        cid = str((obj.get("catalog") or {}).get("id") if isinstance(obj.get("catalog"), dict) else "")
        if ctx.store.get("accessPackageCatalogs", cid) is None:
            raise GraphHTTPError(404, "ResourceNotFound", f"Catalog '{cid}' does not exist.")
        obj["catalog"] = {"id": cid}
        obj["createdDateTime"] = obj["modifiedDateTime"] = now_iso()

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        # Unsourced: the docs do not say what becomes of a deleted package's resource roles; they go with it.
        for s in ctx.store.all("accessPackageResourceRoleScopes"):
            if s.get("accessPackageId") == obj["id"]:
                ctx.store.pop("accessPackageResourceRoleScopes", s["id"])


_ORIGINS = {"AadGroup": "groups", "AadApplication": "servicePrincipals", "SharePointOnline": ""}
GROUP_ADD_PERMS = Perms(read=(), write=(("Group.ReadWrite.All",),))


class AccessPackageResource(Hook):
    """A catalog's resources: `catalogId` links it to its catalog here and is never returned."""

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        obj.pop("catalogId", None)
        return obj


class ResourceRequest(Hook):
    """adminAdd adds a group, application (service principal, by its id) or SharePoint Online site (by its
    URL) to a catalog; adminRemove removes the resource whose id it names. Delivered at once
    (https://learn.microsoft.com/graph/api/entitlementmanagement-post-resourcerequests). "A resource can be
    removed from a catalog only if it isn't being used in any of the catalog's access packages"
    (https://learn.microsoft.com/entra/id-governance/entitlement-management-catalog-create#remove-resources-from-a-catalog).
    Not modelled: adminUpdate, resource attributes, SharePoint (any site URL is accepted: the simulator has
    no sites). Unsourced: error codes and texts (the docs list none), and refusing an origin already in the
    catalog. A group or service principal hard-deleted later leaves its resource dangling, like every
    other reference to it."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        kind = obj.get("requestType")
        cid = str((obj.get("catalog") or {}).get("id") if isinstance(obj.get("catalog"), dict) else "")
        if ctx.store.get("accessPackageCatalogs", cid) is None:
            raise GraphHTTPError(404, "ResourceNotFound", f"Catalog '{cid}' does not exist.")
        want: Obj = obj["resource"] if isinstance(obj.get("resource"), dict) else {}
        if kind == "adminAdd":
            self._add(ctx, cid, want)
        elif kind == "adminRemove":
            self._remove(ctx, cid, str(want.get("id") or ""))
        else:
            raise bad_request(f"Request type '{kind}' is not supported here; use adminAdd or adminRemove.")
        for nav in ("resource", "catalog"):  # relationships: not part of the request's own properties
            obj.pop(nav, None)
        obj.update(state="delivered", createdDateTime=now_iso())

    @staticmethod
    def _add(ctx: Ctx, cid: str, want: Obj) -> None:
        system, origin = str(want.get("originSystem") or ""), str(want.get("originId") or "")
        if system not in _ORIGINS or not origin:
            raise bad_request(f"originSystem must be one of {', '.join(_ORIGINS)}, with an originId.")
        found = ctx.store.get(_ORIGINS[system], origin) if _ORIGINS[system] else {"displayName": origin}
        if found is None:
            raise GraphHTTPError(404, "ResourceNotFound", f"The {system} object '{origin}' does not exist.")
        # "the application requesting to add the group should also be assigned the Group.ReadWrite.All permission"
        if system == "AadGroup" and not ctx.caller.delegated:
            require_write(ctx.caller, GROUP_ADD_PERMS)
        if any(r.get("catalogId") == cid and r.get("originSystem") == system and r.get("originId") == origin
               for r in ctx.store.all("accessPackageCatalogResources")):
            raise bad_request(f"The resource '{origin}' already exists in the catalog.")
        rid = str(uuid.uuid4())
        ctx.store.put("accessPackageCatalogResources", rid, {
            "id": rid, "displayName": found.get("displayName"), "description": found.get("description"),
            "originId": origin, "originSystem": system, "attributes": [], "createdDateTime": now_iso(),
            "modifiedDateTime": now_iso(), "catalogId": cid})

    @staticmethod
    def _remove(ctx: Ctx, cid: str, rid: str) -> None:
        found = ctx.store.get("accessPackageCatalogResources", rid)
        if found is None or found.get("catalogId") != cid:
            raise GraphHTTPError(404, "ResourceNotFound", f"Resource '{rid}' is not in the catalog.")
        if any(((s.get("role") or {}).get("resource") or {}).get("id") == rid
               for s in ctx.store.all("accessPackageResourceRoleScopes")):
            raise bad_request("The resource is used by an access package in the catalog; remove its roles "
                              "from the access packages first.")
        ctx.store.pop("accessPackageCatalogResources", rid)


class ResourceRoleScope(Hook):
    """A role of a resource already in the access package's catalog
    (https://learn.microsoft.com/graph/api/accesspackage-post-resourcerolescopes): a group's roles are
    `Member_{group id}` and `Owner_{group id}`, scoped to the group (Root scope); an application's are its
    app roles' ids (or the default access role, the zero GUID), scoped to the service principal
    (https://learn.microsoft.com/graph/api/accesspackagecatalog-list-resourceroles). The id is
    `{role id}_{scope id}` as in the docs' answers; role and scope ids are derived from the resource here.
    Unsourced: error codes and texts, refusing a role already in the package, and SharePoint roles (any
    originId is accepted). `role` and `scope` come back only with $expand (the role with its resource,
    whether or not a nested $expand asks for it: a simplification); `accessPackageId` never."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        package = ctx.store.get("accessPackages", str(obj.get("accessPackageId")))
        assert package is not None  # the view checked its parent
        role, scope = obj.get("role"), obj.get("scope")
        if not isinstance(role, dict) or not isinstance(scope, dict):
            raise bad_request("role and scope must be objects.")
        rid = str((role.get("resource") or {}).get("id") or "") if isinstance(role.get("resource"), dict) else ""
        resource = ctx.store.get("accessPackageCatalogResources", rid)
        if resource is None or resource.get("catalogId") != (package.get("catalog") or {}).get("id"):
            raise GraphHTTPError(404, "ResourceNotFound", f"Resource '{rid}' is not in the access package's catalog.")
        system, origin = resource["originSystem"], resource["originId"]
        role_origin = str(role.get("originId") or "")
        if role.get("originSystem", system) != system or scope.get("originSystem", system) != system:
            raise bad_request(f"The role and scope must be of the resource's origin system {system}.")
        if system == "AadGroup" and role_origin not in (f"Member_{origin}", f"Owner_{origin}"):
            raise bad_request(f"'{role_origin}' is not a role of group resource {origin}: use Member_{origin} "
                              f"or Owner_{origin}.")
        if system == "AadApplication":
            sp = ctx.store.get("servicePrincipals", origin) or {}
            roles = {str(r.get("id")) for r in sp.get("appRoles") or []} | {ZERO_GUID}
            if role_origin not in roles:
                raise bad_request(f"'{role_origin}' is not an app role of service principal {origin}.")
        if system != "SharePointOnline" and scope.get("originId") != origin:
            raise bad_request(f"The scope must be the resource's root scope ({origin}).")
        if any(s.get("accessPackageId") == obj["accessPackageId"] and (s.get("role") or {}).get("originId") ==
               role_origin and (s.get("scope") or {}).get("originId") == scope.get("originId")
               for s in ctx.store.all(res.name)):
            raise bad_request("The access package already has this resource role.")
        role_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rid}/roles/{role_origin}"))
        scope_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rid}/scopes/{scope.get('originId')}"))
        name = {"Member": "Member", "Owner": "Owner"}.get(role_origin.split("_", 1)[0], role.get("displayName"))
        obj["id"] = f"{role_id}_{scope_id}"
        obj["role"] = {"id": role_id, "displayName": name, "description": role.get("description"),
                       "originId": role_origin, "originSystem": system,
                       "resource": {k: resource.get(k) for k in ("id", "displayName", "description", "originId",
                                                                 "originSystem")}}
        obj["scope"] = {"id": scope_id, "displayName": scope.get("displayName") or "Root",
                        "description": scope.get("description") or "Root Scope", "originId": scope.get("originId"),
                        "originSystem": system, "isRootScope": scope.get("isRootScope", True)}
        obj["createdDateTime"] = now_iso()

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        for nav in ("role", "scope", "accessPackageId"):  # render adds role and scope back for $expand
            obj.pop(nav, None)
        return obj


class AssignmentPolicy(Hook):
    """Made for an existing access package, kept as {id} (what $expand=accessPackage is served as here),
    never moved to another (https://learn.microsoft.com/graph/api/entitlementmanagement-post-assignmentpolicies).
    Error texts are guesses."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        pid = str((obj.get("accessPackage") or {}).get("id") if isinstance(obj.get("accessPackage"), dict) else "")
        if ctx.store.get("accessPackages", pid) is None:
            raise GraphHTTPError(404, "ResourceNotFound", f"Access package '{pid}' does not exist.")
        obj["accessPackage"] = {"id": pid}
        obj["createdDateTime"] = obj["modifiedDateTime"] = now_iso()

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        moved = (patch.get("accessPackage") or {}).get("id") if isinstance(patch.get("accessPackage"), dict) else None
        if moved not in (None, (old.get("accessPackage") or {}).get("id")):
            raise bad_request("The access package of a policy cannot be changed.")


class AccessReviewDefinition(Hook):
    """Timestamps, createdBy and status, which Graph fills (accessreviewset-post-definitions: a new
    definition is NotStarted). Instances and decisions are not simulated."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        scope = obj.get("scope")
        if not isinstance(scope, dict) or not (scope.get("query") or scope.get("principalScopes")):
            raise bad_request("The scope of an access review needs a query.")
        obj["createdDateTime"] = obj["lastModifiedDateTime"] = now_iso()
        obj["status"] = "NotStarted"
        obj["createdBy"] = {"id": ctx.caller.user_id or ctx.caller.sp_id, "displayName": ctx.caller.display_name}


class RoleDefinition(Hook):
    """Custom roles only; templateId defaults to the id."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        obj.setdefault("templateId", obj["id"])
        if not obj.get("templateId"):
            obj["templateId"] = obj["id"]


# "Who can perform sensitive actions" (https://learn.microsoft.com/graph/api/resources/users):
# enabling/disabling, phones, other mails, the immutable id, password resets, delete and restore of a
# user who holds an administrator role need a higher role than the target's, whatever the
# application permissions ("User.ReadWrite.All isn't enough privilege to restore deleted users with
# administrator roles": https://learn.microsoft.com/graph/api/directory-deleteditems-restore).
# Simplified to: any tenant-wide role makes the target an admin; Global Administrator or Privileged
# Authentication Administrator (of the app's service principal or the signed-in user) may act.
SENSITIVE_USER_FIELDS = frozenset(
    {"accountEnabled", "businessPhones", "mobilePhone", "otherMails", "onPremisesImmutableId", "passwordProfile"}
)
_ADMIN_USER_ROLES = (
    ROLE_TEMPLATES["Global Administrator"], ROLE_TEMPLATES["Privileged Authentication Administrator"]
)
UNVERIFIED_UPN = (
    "The domain portion of the userPrincipalName property is invalid. You must use one of the verified "
    "domain names in your organization."
)


def _holds_admin_role(store: Store, user_id: str) -> bool:
    return any(
        a.get("principalId") == user_id and str(a.get("directoryScopeId") or "/") == "/"
        for a in store.all("roleAssignments")
    )


def guard_admin_user(ctx: Ctx, user: Obj) -> None:
    """403 for a sensitive action on a user holding an administrator role, unless the caller outranks it."""
    if _holds_admin_role(ctx.store, str(user.get("id"))) and not ctx.caller.has_role(*_ADMIN_USER_ROLES):
        raise denied()  # Graph says only "Insufficient privileges to complete the operation."


class User(Hook):
    """passwordProfile is write-only; UPN unique and in a verified domain; guests come through
    invitations; sensitive actions on admins need a higher role."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        upn = str(obj.get("userPrincipalName") or "")
        if "#EXT#" in upn.upper():
            # Guests are invited (https://learn.microsoft.com/graph/api/invitation-post); the UPN
            # of an external user is Graph's to make.
            raise bad_request("External users must be invited (POST /invitations); a #EXT# "
                              "userPrincipalName cannot be created.")
        domain = upn.rpartition("@")[2].lower()
        if upn and domain not in _verified_domains(ctx.store):
            raise bad_request(UNVERIFIED_UPN)
        obj["passwordProfile"] = None  # write-only: GET never returns the password (graph-notes 2)
        obj.update(createdDateTime=now_iso(), deletedDateTime=None)
        obj.setdefault("mail", None)

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if SENSITIVE_USER_FIELDS & set(patch):
            guard_admin_user(ctx, old)
        if "passwordProfile" in patch:
            patch["passwordProfile"] = None

    def on_delete(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        guard_admin_user(ctx, obj)

    def guard_restore(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        guard_admin_user(ctx, obj)


class AuthMethodsPolicy(Hook):
    """GET returns the method configurations inline, as Graph's example response does."""

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        configs = copy.deepcopy(ctx.store.all("authenticationMethodConfigurations"))
        return {**obj, "authenticationMethodConfigurations": configs}


class Agreement(Hook):
    """Terms of use: each file needs a name, a language and its bytes; `files` come back only with
    $expand (https://learn.microsoft.com/graph/api/termsofusecontainer-post-agreements)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        files = obj.get("files")
        if not isinstance(files, list) or not files:
            raise bad_request("An agreement needs at least one file.", directory=False)
        for f in files:
            data = (f.get("fileData") or {}).get("data") if isinstance(f, dict) else None
            if not isinstance(f, dict) or not f.get("fileName") or not f.get("language") or not data:
                raise bad_request("Each agreement file needs fileName, language and fileData.data.",
                                  directory=False)
            f.setdefault("isDefault", False)
            f.setdefault("isMajorVersion", False)
            f.setdefault("displayName", None)
            f["id"], f["createdDateTime"] = str(uuid.uuid4()), now_iso()

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        obj.pop("files", None)  # a navigation property: render adds it back for $expand=files
        return obj


MANAGED_GROUP_TYPES = ("All", "Selected", "None")


class GroupLifecycle(Hook):
    """One expiration policy per tenant: "Only one policy exists in the tenant"
    (https://learn.microsoft.com/graph/api/grouplifecyclepolicy-post-grouplifecyclepolicies) and
    "only one expiration policy can be configured" (https://learn.microsoft.com/entra/identity/users/groups-lifecycle).

    The 30-day floor is the portal's (its custom lifetime starts there, groups-lifecycle); Graph's
    own answer below it is not documented, so both error texts here are ours, not Graph's."""

    def _check(self, obj: Obj) -> None:
        if obj.get("managedGroupTypes") not in MANAGED_GROUP_TYPES:
            raise bad_request(f"Invalid value for managedGroupTypes: '{obj.get('managedGroupTypes')}'.")
        days = obj.get("groupLifetimeInDays")
        if not isinstance(days, int) or days < 30:
            raise bad_request("groupLifetimeInDays must be at least 30.")

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        self._check(obj)
        if ctx.store.all(res.name):
            raise bad_request("Only one group lifecycle policy is allowed per tenant.")

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        self._check({**old, **patch})


SOCIAL = "#microsoft.graph.socialIdentityProvider"
# A workforce tenant federates with these social providers (B2C tenants allow more):
# https://learn.microsoft.com/graph/api/resources/socialidentityprovider
SOCIAL_TYPES = ("Google", "Facebook")
SECRET_MASK = "******"  # what a read returns for the write-only clientSecret


class IdentityProvider(Hook):
    """Social providers are created with a client id and secret and get the id "{type}-OAUTH"; the
    secret is write-only (https://learn.microsoft.com/graph/api/identitycontainer-post-identityproviders).
    The error texts are best guesses: the docs give none."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        if obj.get("@odata.type") != SOCIAL:
            raise bad_request("Only social identity providers can be created in this tenant.")
        kind = obj.get("identityProviderType")
        if kind not in SOCIAL_TYPES:
            raise bad_request(f"Invalid identityProviderType '{kind}'; use one of {', '.join(SOCIAL_TYPES)}.")
        for f in ("clientId", "clientSecret"):
            if not obj.get(f):
                raise bad_request(f"Property '{f}' is required.")
        obj["id"] = f"{kind}-OAUTH"
        if ctx.store.get(res.name, obj["id"]) is not None:
            raise GraphHTTPError(409, "Conflict", f"An identity provider of type '{kind}' already exists.")

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if patch.get("clientSecret") == SECRET_MASK:
            raise bad_request("clientSecret cannot be the masked value.")

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        if obj.get("clientSecret"):
            obj["clientSecret"] = SECRET_MASK
        return obj


def _setting_values(template: Obj, given: object) -> list[Obj]:
    """The template's every value, with the given ones in place of its defaults."""
    names = [str(d["name"]) for d in template.get("values") or []]
    if not isinstance(given, list) or not all(isinstance(v, dict) for v in given):
        raise bad_request("Property 'values' must be a collection of {name, value}.")
    picked = {str(v.get("name")): v.get("value") for v in given}
    unknown = sorted(set(picked) - set(names))
    if unknown:
        raise bad_request(f"Setting '{unknown[0]}' is not defined by template '{template.get('displayName')}'.")
    defaults = {str(d["name"]): d.get("defaultValue") for d in template.get("values") or []}
    return [{"name": n, "value": picked.get(n, defaults[n])} for n in names]


class GroupSetting(Hook):
    """A directory setting instantiates a template once per tenant; names must be the template's
    (https://learn.microsoft.com/graph/api/group-post-settings). Graph returns every value of the
    template; the ones not given hold the template's defaults."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        template = ctx.store.get("groupSettingTemplates", str(obj.get("templateId")))
        if template is None:
            raise not_found(str(obj.get("templateId")))
        if any(s.get("templateId") == obj["templateId"] for s in ctx.store.all(res.name)):
            raise bad_request("A conflicting object with one or more of the specified property values is "
                              "present in the directory.")
        obj["displayName"] = template.get("displayName")
        obj["values"] = _setting_values(template, obj.get("values") or [])

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if "values" in patch:
            template = ctx.store.get("groupSettingTemplates", str(old.get("templateId"))) or {}
            patch["values"] = _setting_values(template, patch["values"])


class AttributeSet(Hook):
    """The id is the set's name: up to 32 letters and digits, unique in the tenant
    (https://learn.microsoft.com/graph/api/resources/attributeset). Error texts are best guesses."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        name = str(obj.get("id") or "")
        if not name.isalnum() or len(name) > 32:
            raise bad_request(f"Invalid attribute set name '{name}'.")
        if ctx.store.get(res.name, name) is not None:
            raise bad_request(f"An attribute set named '{name}' already exists.")


CSA_TYPES = ("String", "Integer", "Boolean")


class AttributeDefinition(Hook):
    """A definition lives in an existing set and is named "{set}_{name}"; predefined values only for
    strings (https://learn.microsoft.com/graph/api/resources/customsecurityattributedefinition)."""

    def on_create(self, ctx: Ctx, res: Resource, obj: Obj) -> None:
        aset, name = str(obj.get("attributeSet")), str(obj.get("name"))
        if ctx.store.get("attributeSets", aset) is None:
            raise bad_request(f"Attribute set '{aset}' does not exist.")
        if obj.get("type") not in CSA_TYPES:
            raise bad_request(f"Invalid type '{obj.get('type')}'; use one of {', '.join(CSA_TYPES)}.")
        obj["id"] = f"{aset}_{name}"
        if ctx.store.get(res.name, obj["id"]) is not None:
            raise bad_request(f"A custom security attribute named '{name}' already exists in '{aset}'.")
        values = obj.get("allowedValues") or []
        if values and obj["type"] != "String":
            raise bad_request("Only String attributes can have predefined values.")
        for v in values:
            if not isinstance(v, dict) or not v.get("id") or not isinstance(v.get("isActive"), bool):
                raise bad_request("Each allowed value needs an id and isActive.")
        obj["allowedValues"] = [{"id": v["id"], "isActive": v["isActive"]} for v in values]

    def on_update(self, ctx: Ctx, res: Resource, old: Obj, patch: Obj) -> None:
        if patch.get("status", "Available") not in ("Available", "Deprecated"):
            raise bad_request(f"Invalid status '{patch.get('status')}'.")

    def on_read(self, ctx: Ctx, res: Resource, obj: Obj) -> Obj:
        obj.pop("allowedValues", None)  # a navigation property: render adds it back for $expand
        return obj


HOOKS: dict[str, Hook] = {
    "attribute_set": AttributeSet(),
    "attribute_definition": AttributeDefinition(),
    "identity_provider": IdentityProvider(),
    "group_setting": GroupSetting(),
    "agreement": Agreement(),
    "group_lifecycle": GroupLifecycle(),
    "auth_methods_policy": AuthMethodsPolicy(),
    "": Hook(),
    "ca_policy": CaPolicy(),
    "named_location": NamedLocation(),
    "auth_strength": AuthStrength(),
    "auth_method_config": AuthMethodConfig(),
    "group": Group(),
    "application": Application(),
    "service_principal": ServicePrincipal(),
    "app_role_assignment": AppRoleAssignment(),
    "oauth2_grant": OAuth2Grant(),
    "role_assignment": RoleAssignment(),
    "role_schedule_request": RoleScheduleRequest(),
    "role_eligibility_request": RoleEligibilityRequest(),
    "access_package_catalog": AccessPackageCatalog(),
    "access_package": AccessPackage(),
    "assignment_policy": AssignmentPolicy(),
    "access_package_resource": AccessPackageResource(),
    "resource_request": ResourceRequest(),
    "resource_role_scope": ResourceRoleScope(),
    "access_review_definition": AccessReviewDefinition(),
    "group_eligibility_request": GroupPimRequest("groupEligibilitySchedules", activations=False),
    "group_assignment_request": GroupPimRequest("groupAssignmentSchedules", activations=True),
    "xtap_partner": CrossTenantPartner(),
    "role_definition": RoleDefinition(),
    "user": User(),
    "security_defaults": SecurityDefaults(),
    "permission_grant_policy": PermissionGrantPolicy(),
}


def hook_for(res: Resource) -> Hook:
    return HOOKS[res.hook]


# -- deletion mechanics shared by routes and cascades --------------------------------------------
def soft_delete(store: Store, res: Resource, obj: Obj) -> None:
    """Move to the kind's deleted-items container; links stay so restore brings them back."""
    key = obj[res.key]
    store.pop(res.name, key)
    store.deleted[res.soft_delete][key] = {
        "kind": res.name,
        "object": {**obj, "deletedDateTime": now_iso()},
    }


def hard_delete(store: Store, res: Resource, key: str) -> None:
    """Gone for good: leaves every relationship; assignments naming it go too. Properties of other
    objects that hold its id (CA includeGroups, ...) keep the dangling GUID, as in Entra (graph-notes 3.1)."""
    store.pop(res.name, key)
    store.purge_links(res.name, key)
    if res.directory:
        for kind, fields in (
            ("appRoleAssignments", ("principalId", "resourceId")),
            ("oauth2PermissionGrants", ("clientId", "resourceId", "principalId")),
            ("roleAssignments", ("principalId",)),
            ("roleAssignmentScheduleInstances", ("principalId",)),
            ("roleEligibilitySchedules", ("principalId",)),
            ("roleAssignmentSchedules", ("principalId",)),
            ("groupEligibilitySchedules", ("principalId", "groupId")),
            ("groupAssignmentSchedules", ("principalId", "groupId")),
        ):
            for o in list(store.all(kind)):
                if any(o.get(f) == key for f in fields):
                    store.pop(kind, o["id"])

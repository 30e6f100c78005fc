"""Bearer tokens: the dev token, a token endpoint issuing HS256 JWTs, directory roles, permission checks.

The token endpoint takes a client secret, a certificate-signed client assertion or a federated
(workload identity) assertion (credentials.py says what is verified for each), and the device code
grant for delegated sign-in (devicecode.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from entragit_sim import credentials as cred
from entragit_sim import roles as rolemod
from entragit_sim.builtins import GRAPH_APP_ID, graph_sp_id
from entragit_sim.errors import GraphHTTPError, denied
from entragit_sim.store import Obj, Store
from entragit_sim.table import Perms

ADMIN_TOKEN = "sim-admin"  # documented dev token with every permission
TOKEN_LIFETIME = 3600  # azure-identity refetches tokens expiring within 300 s (graph-notes 13)
# Graph accepts an access token this long past its `exp`, as resource servers allow for clock
# skew: a request sent just before expiry is not refused on arrival.
TOKEN_SKEW = 300


@dataclass(frozen=True)
class Caller:
    """Who is calling: from the dev token or a JWT issued by the token endpoint."""

    app_id: str
    roles: frozenset[str]  # app-only: application permissions; delegated: consented scopes
    admin: bool = False
    sp_id: str | None = None
    display_name: str = ""
    # Delegated sign-in: the signed-in user's object id (None = an app-only token).
    user_id: str | None = None
    # Directory role template ids held tenant-wide: by the user (delegated) or by the
    # service principal (app-only). Graph checks these for sensitive operations.
    directory_roles: frozenset[str] = frozenset()
    # Directory roles held at an administrative-unit scope: {AU id: role template ids}.
    scoped_roles: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def delegated(self) -> bool:
        return self.user_id is not None

    def has_role(self, *template_ids: str, unit: str | None = None) -> bool:
        """Holds any of these directory roles tenant-wide (or at the AU `unit`); the dev token holds all."""
        if self.admin or self.directory_roles.intersection(template_ids):
            return True
        return unit is not None and any(
            au == unit and roles.intersection(template_ids) for au, roles in self.scoped_roles
        )

    def has(self, perm: str) -> bool:
        if self.admin:
            return True
        if not self.delegated:
            return self._granted(perm)
        # Delegated: the app's consented scope AND a directory role of the user that allows it
        # ("effective permissions", https://learn.microsoft.com/graph/auth/auth-concepts#delegated-access).
        # Roles held only at an administrative-unit scope don't count for tenant-wide operations.
        return self._granted(perm) and rolemod.allows(self.directory_roles, perm)

    def _granted(self, perm: str) -> bool:
        # X.ReadWrite.Y implies X.Read.Y (graph-notes 7); nothing else is implied.
        if perm in self.roles:
            return True
        return ".Read." in perm and perm.replace(".Read.", ".ReadWrite.", 1) in self.roles

    def describe(self) -> dict[str, Any]:
        """The caller as GET /_sim/whoami shows it."""
        return {
            "appId": self.app_id, "displayName": self.display_name, "servicePrincipalId": self.sp_id,
            "userId": self.user_id, "delegated": self.delegated, "admin": self.admin,
            "permissions": sorted(self.roles), "directoryRoles": sorted(self.directory_roles),
            "scopedRoles": {au: sorted(r) for au, r in self.scoped_roles},
        }  # fmt: skip

    def may_read(self, perms: Perms) -> bool:
        return any(self.has(p) for p in perms.read)

    def may_write(self, perms: Perms) -> bool:
        return any(all(self.has(p) for p in need) for need in perms.write)


ANONYMOUS = Caller(app_id="", roles=frozenset())
ADMIN = Caller(app_id=ADMIN_TOKEN, roles=frozenset(), admin=True, display_name="sim-admin")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(tenant_id: str) -> bytes:
    # Sim-internal signing key derived from the tenant id, so tokens survive a restart with a
    # state file. It protects nothing real: the simulator holds no real tenant's data.
    return hashlib.sha256(f"entragit-sim-signing/{tenant_id}".encode()).digest()


def issue_jwt(tenant_id: str, claims: dict[str, Any], lifetime: int = TOKEN_LIFETIME) -> str:
    now = int(time.time())
    payload = {
        "aud": "https://graph.microsoft.com",
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now, "nbf": now, "exp": now + lifetime,
        "tid": tenant_id, "idtyp": "app", "ver": "1.0",
        **claims,
    }  # fmt: skip
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(_key(tenant_id), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def _unauthorized(message: str) -> GraphHTTPError:
    return GraphHTTPError(401, "InvalidAuthenticationToken", message)


def caller_from_header(header: str | None, tenant_id: str) -> Caller:
    if not header:
        raise _unauthorized("Access token is empty.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Access token is empty.")
    if token == ADMIN_TOKEN:
        return ADMIN
    try:
        head, body, sig = token.split(".")
        payload = json.loads(_unb64(body))
        want = hmac.new(_key(tenant_id), f"{head}.{body}".encode(), hashlib.sha256).digest()
    except (ValueError, json.JSONDecodeError) as e:
        raise _unauthorized("IDX14100: JWT is not well formed.") from e
    if not hmac.compare_digest(want, _unb64(sig)):
        raise _unauthorized("Access token validation failure. Invalid signature.")
    if payload.get("tid") != tenant_id:
        raise _unauthorized("Access token validation failure. Invalid audience.")
    if payload.get("exp", 0) + TOKEN_SKEW < time.time():
        raise _unauthorized("Lifetime validation failed, the token is expired.")
    scoped = tuple(
        sorted((au, frozenset(r)) for au, r in (payload.get(SCOPED_WIDS) or {}).items())
    )
    if payload.get("idtyp") == "user":
        return Caller(
            app_id=payload.get("appid", ""),
            roles=frozenset(str(payload.get("scp", "")).split()),
            display_name=payload.get("app_displayname", ""),
            user_id=payload.get("oid"),
            directory_roles=frozenset(payload.get("wids", [])),
            scoped_roles=scoped,
        )
    return Caller(
        app_id=payload.get("appid", ""),
        roles=frozenset(payload.get("roles", [])),
        sp_id=payload.get("oid"),
        display_name=payload.get("app_displayname", ""),
        directory_roles=frozenset(payload.get("wids", [])),
        scoped_roles=scoped,
    )


# Directory roles travel in the token, as Entra's `wids` claim does: computed once at issue, so a
# role assigned (or removed) later takes effect with the next token, as in a real tenant
# (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference, `wids`).
# Computing them at issue also keeps caller_from_header free of the store. Real tokens carry only
# tenant-wide roles; Graph looks administrative-unit scoped ones up itself. The simulator carries
# those in a claim of its own, SCOPED_WIDS: {AU id: [role template ids]}.
SCOPED_WIDS = "xms_sim_scoped_wids"


def directory_roles(store: Store, principal_id: str) -> tuple[list[str], dict[str, list[str]]]:
    """(tenant-wide role template ids, {AU id: template ids}) of a user or service principal (lock held).

    Counts assignments to the principal and to role-assignable groups it is a direct member of
    (such groups can't be nested: https://learn.microsoft.com/entra/identity/role-based-access-control/groups-concept).
    Assignments scoped to one object (an application) are not roles of the caller at large."""
    principals = {principal_id} | {
        key.split("/")[1]
        for key, ids in store.links.items()
        if key.startswith("groups/") and key.endswith("/members") and principal_id in ids
    }
    wide: set[str] = set()
    scoped: dict[str, set[str]] = {}
    for a in store.all("roleAssignments"):
        if a.get("principalId") not in principals:
            continue
        definition = store.get("roleDefinitions", str(a.get("roleDefinitionId"))) or {}
        template = str(definition.get("templateId") or a.get("roleDefinitionId"))
        scope = str(a.get("directoryScopeId") or "/")
        if scope == "/":
            wide.add(template)
        elif scope.startswith("/administrativeUnits/"):
            scoped.setdefault(scope.rsplit("/", 1)[1], set()).add(template)
    return sorted(wide), {au: sorted(r) for au, r in sorted(scoped.items())}


def require_read(caller: Caller, perms: Perms) -> None:
    if not caller.may_read(perms):
        raise denied()


def require_write(caller: Caller, perms: Perms) -> None:
    if not caller.may_write(perms):
        raise denied()


def _oauth_error(status: int, error: str, code: str, text: str) -> tuple[int, dict[str, Any]]:
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return status, {
        "error": error,
        "error_description": f"{code}: {text} Trace ID: {trace} Correlation ID: {corr} Timestamp: {stamp}",
        "error_codes": [int(code[6:])],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code[6:]}",
    }


oauth_error = _oauth_error  # for devicecode.py


def _find_app(store: Store, client_id: str) -> tuple[Obj | None, Obj | None]:
    app = next((a for a in store.all("applications") if a.get("appId") == client_id), None)
    sp = next((s for s in store.all("servicePrincipals") if s.get("appId") == client_id), None)
    return app, sp


def _not_found(client_id: str) -> tuple[int, dict[str, Any]]:
    return _oauth_error(
        400,
        "unauthorized_client",
        "AADSTS700016",
        f"Application with identifier '{client_id}' was not found in the directory.",
    )


@dataclass(frozen=True)
class TokenPolicy:
    """How the token endpoint treats time: what it issues and what it still accepts."""

    lifetime: int = TOKEN_LIFETIME  # seconds an access token lives (`expires_in`, `exp`)
    assertion_max_age: float | None = None  # refuse client assertions issued longer ago


def token_response(
    store: Store,
    tenant_in_path: str,
    form: dict[str, str],
    base: str | None = None,
    policy: TokenPolicy = TokenPolicy(),
) -> tuple[int, dict[str, Any]]:
    """POST /{tenant}/oauth2/v2.0/token, grant_type=client_credentials, authenticated by a client
    secret, a certificate-signed client assertion or a federated (workload identity) assertion.
    `base` is scheme://host:port as the client addressed us: certificate assertions must name this
    token endpoint as their audience (see credentials.py for what is and isn't verified)."""
    if tenant_in_path not in (store.tenant_id,):
        return _oauth_error(
            400, "invalid_request", "AADSTS90002", f"Tenant '{tenant_in_path}' not found."
        )
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            "AADSTS70003",
            "The app requested an unsupported grant type.",
        )
    if "client_assertion" in form or "client_assertion_type" in form:
        return _assertion_token(store, form, base, policy)
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    with store.lock:
        app, sp = _find_app(store, client_id)
        if app is None or sp is None:
            return _not_found(client_id)
        if not secret:
            return _oauth_error(
                401,
                "invalid_client",
                "AADSTS7000216",
                "'client_assertion', 'client_secret' or 'request' is required for the "
                "'client_credentials' grant type.",
            )
        digest = hashlib.sha256(secret.encode()).hexdigest()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        valid = [
            c
            for c in app.get("passwordCredentials") or []
            if store.secrets.get(f"{app['id']}/{c.get('keyId')}") == digest
        ]
        if not valid:
            return _oauth_error(
                401, "invalid_client", "AADSTS7000215", "Invalid client secret provided."
            )
        if all((c.get("endDateTime") or "9999") < now for c in valid):
            return _oauth_error(
                401,
                "invalid_client",
                "AADSTS7000222",
                "The provided client secret keys are expired.",
            )
        return _issue(store, client_id, app, sp, policy.lifetime)


def _assertion_token(
    store: Store, form: dict[str, str], base: str | None, policy: TokenPolicy
) -> tuple[int, dict[str, Any]]:
    if form.get("client_assertion_type") != cred.JWT_BEARER or not form.get("client_assertion"):
        return _oauth_error(
            400,
            "invalid_request",
            "AADSTS50027",
            f"client_assertion_type must be '{cred.JWT_BEARER}' and client_assertion must be a JWT.",
        )
    try:
        jwt = cred.parse_jwt(form["client_assertion"])
        iss, sub = str(jwt.claims.get("iss", "")), str(jwt.claims.get("sub", ""))
        client_id = form.get("client_id") or (sub if iss == sub else "")
        with store.lock:
            app, sp = _find_app(store, client_id)
            if app is None or sp is None:
                return _not_found(client_id)
            cred.check_lifetime(jwt)
            cred.check_age(jwt, policy.assertion_max_age)
            if iss == client_id or sub == client_id:
                # Signed by the app itself with a registered certificate.
                if iss != client_id or sub != client_id:
                    raise cred.AssertionError_(
                        401,
                        "invalid_client",
                        "AADSTS700021",
                        "Client assertion application identifier doesn't match 'client_id' parameter. "
                        "Review the documentation at https://learn.microsoft.com/entra/identity-platform/"
                        "certificate-credentials.",
                    )
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                cred.verify_certificate_assertion(jwt, [app, sp], _token_urls(store, base), now)
            else:
                # An external IdP's token (workload identity federation): claims only.
                cred.verify_federated_assertion(jwt, app)
            return _issue(store, client_id, app, sp, policy.lifetime)
    except cred.AssertionError_ as e:
        return _oauth_error(e.status, e.error, e.code, e.text)


def _token_urls(store: Store, base: str | None) -> set[str]:
    """Audiences a certificate assertion may name: this endpoint (v2 and v1 paths, by tenant id)."""
    origins = {base} if base else set()
    if base and "://localhost:" in base:
        origins.add(base.replace("://localhost:", "://127.0.0.1:"))
    if base and "://127.0.0.1:" in base:
        origins.add(base.replace("://127.0.0.1:", "://localhost:"))
    return {
        f"{o}/{store.tenant_id}/oauth2{v}/token".lower() for o in origins for v in ("/v2.0", "")
    }


def _issue(
    store: Store, client_id: str, app: Obj, sp: Obj, lifetime: int
) -> tuple[int, dict[str, Any]]:
    """An access token for the app's service principal carrying its Graph app roles (lock held)."""
    gsp = store.get("servicePrincipals", graph_sp_id(store.tenant_id)) or {}
    by_id = {r["id"]: r["value"] for r in gsp.get("appRoles", [])}
    roles = sorted(
        by_id[a["appRoleId"]]
        for a in store.all("appRoleAssignments")
        if a.get("principalId") == sp["id"]
        and a.get("resourceId") == gsp.get("id")
        and a.get("appRoleId") in by_id
    )
    wids, scoped = directory_roles(store, sp["id"])
    token = issue_jwt(store.tenant_id, {
        "appid": client_id, "oid": sp["id"], "sub": sp["id"], "app_displayname": app.get("displayName", ""),
        "roles": roles, "wids": wids, SCOPED_WIDS: scoped,
    }, lifetime)  # fmt: skip
    return 200, {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }


def openid_configuration(base: str, tenant_id: str) -> dict[str, Any]:
    return {
        "issuer": f"{base}/{tenant_id}/v2.0",
        "authorization_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/token",
        "device_authorization_endpoint": f"{base}/{tenant_id}/oauth2/v2.0/devicecode",
        "jwks_uri": f"{base}/{tenant_id}/discovery/v2.0/keys",
        "response_types_supported": [
            "code",
            "id_token",
            "code id_token",
            "token id_token",
            "token",
        ],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
        "resource": GRAPH_APP_ID,
    }

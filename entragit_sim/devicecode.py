"""Delegated sign-in by the OAuth 2.0 device code flow: pending codes, their approval, user tokens.

Follows https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code:
POST /{tenant}/oauth2/v2.0/devicecode (client_id, scope) answers device_code, user_code,
verification_uri, expires_in, interval and message; the token endpoint, polled with
grant_type=urn:ietf:params:oauth:grant-type:device_code, answers authorization_pending until the
user has signed in, then an access token acting as that user.

There is no browser: a pending code is approved by POST /_sim/devicecode/approve (dev token only)
or, when the simulator was started with a user (`--user UPN`), at once for that user.

Public clients: a device code sign-in has no client secret, so the client must be a public client:
an application of the tenant with isFallbackPublicClient true, or one of the Microsoft first-party
public clients every tenant accepts (WELL_KNOWN_CLIENTS). Anything else is refused at the token
endpoint with AADSTS7000218, as Entra does.

Scopes: `https://graph.microsoft.com/.default` means the client's consented delegated permissions:
for an application of the tenant, the scopes of its oauth2PermissionGrants on Microsoft Graph
(AllPrincipals, or Principal for this user); for a well-known client, every delegated Graph
permission the simulator knows, as if an administrator had consented them all (simple and
deterministic; the user's roles still cap what the token can do). Explicit scopes are granted as
requested.

Refresh tokens: every user token comes with one, redeemable (grant_type=refresh_token) for a new
access token as the same user and client; roles and consent are looked up again. azure-identity
needs it: MSAL files the access token under the scopes the answer names, so a second request for
`.default` misses the cache and redeems the refresh token instead of prompting again. They live
in memory only (a restart signs everyone out).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from entragit_sim import auth
from entragit_sim.builtins import GRAPH_PERMISSIONS, GRAPH_SCOPES, graph_sp_id
from entragit_sim.store import Obj, Store

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
EXPIRES_IN = 900  # seconds a code stays valid (Entra: 15 minutes)
# Seconds a client waits between polls. Entra says 5; a shorter one keeps tests quick and changes
# nothing a client can rely on (it must honour whatever interval the server names).
INTERVAL = 1
GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
WELL_KNOWN_CLIENTS = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools",
}
_CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")


class UnknownUser(ValueError):
    """No user with this userPrincipalName in the tenant."""

    def __init__(self, upn: str) -> None:
        super().__init__(f"no user with userPrincipalName '{upn}' in the tenant")


@dataclass
class _Pending:
    client_id: str
    scopes: tuple[str, ...]
    user_code: str
    expires_at: float
    user_id: str | None = None  # set on approval


@dataclass
class DeviceFlows:
    """The simulator's pending device codes. `user`: approve every new code for this UPN."""

    user: str | None = None
    _pending: dict[str, _Pending] = field(default_factory=dict)  # device_code -> pending
    _refresh: dict[str, _Pending] = field(default_factory=dict)  # refresh_token -> signed-in grant
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, store: Store, tenant_in_path: str, form: dict[str, str], base: str
    ) -> tuple[int, dict[str, Any]]:
        """POST /{tenant}/oauth2/v2.0/devicecode."""
        if tenant_in_path.lower() != store.tenant_id:
            return auth.oauth_error(
                400, "invalid_request", "AADSTS90002", f"Tenant '{tenant_in_path}' not found."
            )
        client_id = form.get("client_id", "")
        with store.lock:
            if client_id not in WELL_KNOWN_CLIENTS and _app(store, client_id) is None:
                return _unknown_client(client_id)
            auto = _user_id(store, self.user) if self.user else None
        device_code = secrets.token_urlsafe(48)
        user_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(9))
        with self._lock:
            self._pending[device_code] = _Pending(
                client_id, tuple(form.get("scope", "").split()), user_code,
                time.time() + EXPIRES_IN, auto,
            )  # fmt: skip
        uri = f"{base}/devicelogin"
        return 200, {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": EXPIRES_IN,
            "interval": INTERVAL,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        }

    def approve(self, store: Store, user_code: str, upn: str) -> str:
        """Sign `upn` in on the pending code `user_code`; the user's id. KeyError: no such code."""
        with store.lock:
            user_id = _user_id(store, upn)
        with self._lock:
            pending = next(
                (p for p in self._pending.values() if p.user_code == user_code.strip().upper()),
                None,
            )
            if pending is None or pending.expires_at < time.time():
                raise KeyError(user_code)
            pending.user_id = user_id
        return user_id

    def token(
        self, store: Store, tenant_in_path: str, form: dict[str, str], base: str
    ) -> tuple[int, dict[str, Any]]:
        """The token endpoint's answer to grant_type=urn:ietf:params:oauth:grant-type:device_code."""
        if tenant_in_path.lower() != store.tenant_id:
            return auth.oauth_error(
                400, "invalid_request", "AADSTS90002", f"Tenant '{tenant_in_path}' not found."
            )
        with self._lock:
            pending = self._pending.get(form.get("device_code", ""))
            if pending is None or pending.client_id != form.get("client_id", ""):
                return auth.oauth_error(
                    400, "invalid_grant", "AADSTS70000",
                    "Provided grant is invalid or malformed.",
                )  # fmt: skip
            if pending.expires_at < time.time():
                del self._pending[form["device_code"]]
                return auth.oauth_error(
                    400, "expired_token", "AADSTS70020",
                    "The provided value for the input parameter 'device_code' is not valid. "
                    "This device code has expired.",
                )  # fmt: skip
            if pending.user_id is None:
                return auth.oauth_error(
                    400, "authorization_pending", "AADSTS70016",
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )  # fmt: skip
            del self._pending[form["device_code"]]  # a device code is redeemed once
        return self._answer(store, pending, base)

    def refresh(
        self, store: Store, tenant_in_path: str, form: dict[str, str], base: str
    ) -> tuple[int, dict[str, Any]]:
        """grant_type=refresh_token: a new access token for the grant the refresh token stands for."""
        if tenant_in_path.lower() != store.tenant_id:
            return auth.oauth_error(
                400, "invalid_request", "AADSTS90002", f"Tenant '{tenant_in_path}' not found."
            )
        with self._lock:
            grant = self._refresh.pop(form.get("refresh_token", ""), None)
        if grant is None or grant.client_id != form.get("client_id", ""):
            return auth.oauth_error(
                400, "invalid_grant", "AADSTS9002313",
                "Invalid request. Request is malformed or invalid.",
            )  # fmt: skip
        if form.get("scope"):
            grant = _Pending(grant.client_id, tuple(form["scope"].split()), grant.user_code,
                             grant.expires_at, grant.user_id)  # fmt: skip
        return self._answer(store, grant, base)

    def _answer(self, store: Store, grant: _Pending, base: str) -> tuple[int, dict[str, Any]]:
        with store.lock:
            status, body = _issue(store, grant, base)
        if status == 200:
            token = secrets.token_urlsafe(48)
            body["refresh_token"] = token
            with self._lock:
                self._refresh[token] = grant
        return status, body


def _app(store: Store, client_id: str) -> Obj | None:
    return next((a for a in store.all("applications") if a.get("appId") == client_id), None)


def _user(store: Store, upn: str) -> Obj | None:
    return next(
        (u for u in store.all("users") if str(u.get("userPrincipalName", "")).lower() == upn.lower()),
        None,
    )


def _user_id(store: Store, upn: str) -> str:
    user = _user(store, upn)
    if user is None:
        raise UnknownUser(upn)
    return str(user["id"])


def check_user(store: Store, upn: str) -> None:
    """Raise UnknownUser unless `upn` names a user of the tenant."""
    with store.lock:
        _user_id(store, upn)


def _unknown_client(client_id: str) -> tuple[int, dict[str, Any]]:
    return auth.oauth_error(
        400, "unauthorized_client", "AADSTS700016",
        f"Application with identifier '{client_id}' was not found in the directory.",
    )  # fmt: skip


def _scopes(store: Store, pending: _Pending, user_id: str) -> list[str]:
    """The `scp` of the token: see the module docstring (lock held)."""
    asked = {s.removeprefix(GRAPH_RESOURCE) for s in pending.scopes} - OIDC_SCOPES
    if ".default" not in asked:
        return sorted(asked)
    if pending.client_id in WELL_KNOWN_CLIENTS:
        consented = set(GRAPH_PERMISSIONS) | set(GRAPH_SCOPES)
    else:
        sp = next(
            (s for s in store.all("servicePrincipals") if s.get("appId") == pending.client_id), {}
        )
        consented = {
            scope
            for g in store.all("oauth2PermissionGrants")
            if g.get("clientId") == sp.get("id")
            and g.get("resourceId") == graph_sp_id(store.tenant_id)
            and (g.get("consentType") == "AllPrincipals" or g.get("principalId") == user_id)
            for scope in str(g.get("scope") or "").split()
        }
    return sorted((consented | asked - {".default"}) - OIDC_SCOPES)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _issue(store: Store, pending: _Pending, base: str) -> tuple[int, dict[str, Any]]:
    """Access token (and the id token and client_info MSAL builds its account from), lock held."""
    client_id, user_id = pending.client_id, str(pending.user_id)
    app = _app(store, client_id)
    if pending.client_id not in WELL_KNOWN_CLIENTS:
        if app is None:
            return _unknown_client(client_id)
        if not app.get("isFallbackPublicClient"):
            # https://learn.microsoft.com/entra/identity-platform/msal-client-applications
            return auth.oauth_error(
                401, "invalid_client", "AADSTS7000218",
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )  # fmt: skip
    user = store.get("users", user_id)
    if user is None or user.get("accountEnabled") is False:
        return auth.oauth_error(
            400, "invalid_grant", "AADSTS50057", "The user account is disabled or was deleted."
        )
    app_name = WELL_KNOWN_CLIENTS.get(client_id) or str((app or {}).get("displayName", ""))
    upn = str(user.get("userPrincipalName", ""))
    wids, scoped = auth.directory_roles(store, user_id)
    scopes = _scopes(store, pending, user_id)
    tid = store.tenant_id
    access = auth.issue_jwt(tid, {
        "idtyp": "user", "appid": client_id, "app_displayname": app_name, "oid": user_id, "sub": user_id,
        "upn": upn, "unique_name": upn, "name": user.get("displayName"), "scp": " ".join(scopes),
        "wids": wids, auth.SCOPED_WIDS: scoped,
    })  # fmt: skip
    now = int(time.time())
    id_token = ".".join((_b64({"alg": "none", "typ": "JWT"}), _b64({
        "aud": client_id, "iss": f"{base}/{tid}/v2.0", "iat": now, "nbf": now,
        "exp": now + auth.TOKEN_LIFETIME, "oid": user_id, "sub": user_id, "tid": tid,
        "preferred_username": upn, "name": user.get("displayName"), "ver": "2.0",
    }), ""))  # fmt: skip
    return 200, {
        "token_type": "Bearer",
        "scope": " ".join(f"{GRAPH_RESOURCE}{s}" for s in scopes),
        "expires_in": auth.TOKEN_LIFETIME,
        "ext_expires_in": auth.TOKEN_LIFETIME,
        "access_token": access,
        "id_token": id_token,
        "client_info": base64.urlsafe_b64encode(
            json.dumps({"uid": user_id, "utid": tid}).encode()
        ).decode().rstrip("="),
    }

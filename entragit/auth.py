"""Credentials from tenant.yaml (azure-identity). Secrets come from the environment, never files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from entragit.config import AUTHORITIES, Tenant
from entragit.errors import EntragitError

SIM_TOKEN = "sim-admin"  # the simulator's documented full-permission dev token
# `auth.method: device-code` without clientId signs in as Microsoft Graph Command Line Tools, the
# Microsoft public client Graph accepts in every tenant (the one Microsoft Graph PowerShell uses);
# an administrator consents its Graph scopes once per tenant.
DEVICE_CODE_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

# (verification URL, user code, code expiry) -> None. The command line sets it to print the
# sign-in instructions; library code never prints.
DeviceCodePrompt = Callable[[str, str, datetime], None]
_prompt: DeviceCodePrompt | None = None
# Device code credentials of this run, so one sign-in serves every command step (export, audit
# read, plan). Tokens live in azure-identity's in-memory cache: nothing is kept after the run.
_signed_in: dict[tuple[str, ...], Any] = {}


def set_device_code_prompt(prompt: DeviceCodePrompt | None) -> None:
    """Who shows the device code to the person signing in (`auth.method: device-code`); starts a
    new run, so earlier sign-ins are forgotten (the command line calls it once per command)."""
    global _prompt
    _prompt = prompt
    _signed_in.clear()


_HINTS = {
    "secret": "is the secret in the environment variable tenant.yaml names, and not expired?",
    "certificate": "is this certificate registered on the app (keyCredentials) and not expired?",
    "workload-identity": "does a federated identity credential on the app match the token's "
                         "issuer, subject and audience, and is the token file fresh?",
    "device-code": "was the code entered before it expired, and may this client sign in to the tenant "
                   "(a public client with consented Graph scopes)?",
}


class SignIn:
    """An azure-identity async credential, made safe for many concurrent first requests.

    One token request at a time: the callers that waited find the token in the credential's own
    cache, so an export asks the token endpoint once instead of once per concurrent request. A
    refused sign-in becomes an EntragitError (one line, the AADSTS code and a hint) and is
    remembered, so the other waiting requests fail with it instead of asking again."""

    def __init__(self, inner: Any, tenant: Tenant) -> None:
        self._inner = inner
        self._tenant = tenant
        self._lock: asyncio.Lock | None = None
        self._failed: EntragitError | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._failed is not None:
                raise self._failed
            try:
                return await self._inner.get_token(*scopes, **kwargs)
            except ClientAuthenticationError as e:
                self._failed = self._error(e)
                raise self._failed from None
            except ServiceRequestError as e:  # no answer at all: DNS, refused connection, TLS, proxy
                self._failed = self._unreachable(e)
                raise self._failed from None

    def _error(self, e: Exception) -> EntragitError:
        text = str(getattr(e, "message", None) or e).split("\nContent:", 1)[0].strip()
        text = text.split(" Trace ID:", 1)[0].rstrip("'")
        method = str(self._tenant.auth.get("method", "default"))
        return EntragitError(f"tenant {self._tenant.name}: sign-in ({method}) failed: {text}",
                             hint=_HINTS.get(method))

    def _unreachable(self, e: Exception) -> EntragitError:
        why = str(getattr(e, "message", None) or e).splitlines()[0]
        return EntragitError(f"tenant {self._tenant.name}: cannot reach the sign-in host {self._tenant.authority}: "
                             f"{why}", hint="check auth.authority (or cloud) in tenant.yaml, the network and any "
                                            "proxy (HTTPS_PROXY)")

    async def close(self) -> None:
        await self._inner.close()

    async def __aenter__(self) -> SignIn:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def credential(t: Tenant) -> tuple[Any, str | None]:
    """(async credential, None) or (None, static token) for `auth.method: sim`."""
    a = t.auth
    if a.get("method", "default") == "sim":
        return None, str(a.get("token") or SIM_TOKEN)
    return SignIn(_azure_credential(t), t), None


def graph_scope(host: str) -> str:
    """The token scope for a Graph host: the national clouds' own, the public one for anything else."""
    if host.endswith(("microsoft.com", ".us", ".cn")):
        return f"https://{host}/.default"
    return "https://graph.microsoft.com/.default"


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, unverified: Graph verifies it; we only read who it is.

    ``idtyp`` app|user; ``roles`` application permissions (app-only); ``scp`` delegated scopes
    (space-separated); ``wids`` directory role template ids."""
    import base64
    import json

    try:
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (IndexError, ValueError) as e:
        raise EntragitError("the access token is not a JWT; cannot tell which identity it is") from e
    return claims if isinstance(claims, dict) else {}


async def token_claims(t: Tenant) -> dict[str, Any] | None:
    """The claims of the token this tenant signs in with; None for the dev token (`auth: sim`)."""
    from urllib.parse import urlsplit

    cred, _token = credential(t)
    if cred is None:
        return None
    try:
        tok = await cred.get_token(graph_scope(urlsplit(t.graph_url).hostname or ""))
    finally:
        await cred.close()
    return decode_claims(tok.token)


def _azure_credential(t: Tenant) -> Any:
    a = t.auth
    method = a.get("method", "default")
    from azure.identity import aio

    kw: dict[str, Any] = {"authority": t.authority}
    if t.authority not in AUTHORITIES.values():
        # MSAL would ask the public cloud's instance discovery about a private authority.
        kw["disable_instance_discovery"] = True
    if t.ca_bundle:
        kw["connection_verify"] = t.ca_bundle
    client_id = a.get("clientId")
    if method == "secret":
        env = a.get("secretEnv", "ENTRAGIT_CLIENT_SECRET")
        secret = os.environ.get(env)
        if not secret or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'secret' needs clientId in tenant.yaml and the secret in ${env}")
        return aio.ClientSecretCredential(t.tenant_id, client_id, secret, **kw)
    if method == "certificate":
        # The file holds the private key: tenant.yaml names its path (or the variable holding the
        # path), never its content; a password comes only from the environment.
        cert = a.get("certificatePath") or os.environ.get(a.get("certificateEnv", "ENTRAGIT_CERTIFICATE_PATH"), "")
        if not cert or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'certificate' needs clientId and certificatePath "
                                "(or the path in $ENTRAGIT_CERTIFICATE_PATH)")
        if not os.path.isfile(cert):
            raise EntragitError(f"tenant {t.name}: certificate file {cert} not found")
        password = os.environ.get(str(a.get("certificatePasswordEnv") or "ENTRAGIT_CERTIFICATE_PASSWORD"))
        if password:
            kw["password"] = password
        return aio.CertificateCredential(t.tenant_id, client_id, certificate_path=cert, **kw)
    if method == "workload-identity":
        # GitHub Actions / Azure DevOps OIDC: the federated token file comes from the CI runner.
        # azure-identity re-reads it (at most every 10 minutes), so a refreshed file is picked up.
        token_file = a.get("tokenFile") or os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if not token_file or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'workload-identity' needs clientId and a federated token "
                                "file (tokenFile in tenant.yaml or $AZURE_FEDERATED_TOKEN_FILE)")
        return aio.WorkloadIdentityCredential(tenant_id=t.tenant_id, client_id=client_id,
                                              token_file_path=str(token_file), **kw)
    if method == "device-code":
        return _device_code(t, kw)
    if method == "azure-cli":
        return aio.AzureCliCredential(tenant_id=t.tenant_id)
    return aio.DefaultAzureCredential(**({"authority": t.authority} if "authority" in a else {}))


class _InThread:
    """An azure-identity sync credential behind the async interface (DeviceCodeCredential has no
    aio twin). close() leaves it open: it is shared by the whole run (_signed_in)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._inner.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        return None


def _device_code(t: Tenant, kw: dict[str, Any]) -> _InThread:
    """A person signs in from the terminal: the device code flow, prompt through set_device_code_prompt."""
    from azure.identity import DeviceCodeCredential

    if _prompt is None:
        raise EntragitError(f"tenant {t.name}: auth 'device-code' needs a terminal to show the sign-in code")
    client_id = str(t.auth.get("clientId") or DEVICE_CODE_CLIENT_ID)
    key = (t.tenant_id, t.authority, client_id, str(t.ca_bundle))
    if key not in _signed_in:
        _signed_in[key] = DeviceCodeCredential(client_id=client_id, tenant_id=t.tenant_id,
                                               prompt_callback=_prompt, **kw)
    return _InThread(_signed_in[key])

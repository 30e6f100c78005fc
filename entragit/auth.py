"""Credentials from tenant.yaml (azure-identity). Secrets come from the environment, never files."""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
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

# GitHub Actions and Azure Pipelines OIDC tokens live minutes (GitHub about 5, Azure DevOps about
# 10) and runs take longer, so a federated sign-in asks the runner for a fresh one, or re-reads the
# token file, each time it needs a new access token (AADSTS700024 otherwise).
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
GITHUB_OIDC_ENV = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
PIPELINES_OIDC_ENV = ("SYSTEM_OIDCREQUESTURI", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "SYSTEM_ACCESSTOKEN")


def set_device_code_prompt(prompt: DeviceCodePrompt | None) -> None:
    """Who shows the device code to the person signing in (`auth.method: device-code`); starts a
    new run, so earlier sign-ins are forgotten (the command line calls it once per command)."""
    global _prompt
    _prompt = prompt
    close_all()


_HINTS = {
    "secret": "is the secret in the environment variable tenant.yaml names, and not expired?",
    "certificate": "is this certificate registered on the app (keyCredentials) and not expired?",
    "workload-identity": "does a federated identity credential on the app match the token's "
                         "issuer, subject and audience, and is the token fresh (a token file the runner "
                         "does not renew expires in minutes)?",
    "device-code": "was the code entered before it expired, and may this client sign in to the tenant "
                   "(a public client with consented Graph scopes)?",
}


class _Shared:
    """One azure-identity (sync) credential of this process and its in-memory token cache, shared by
    every tenant step and command that signs in the same way. Sync, not aio: aio credentials are
    bound to one event loop, and each command step runs its own."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()  # token requests from several steps' threads, one at a time

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        with self._lock:
            return self._inner.get_token(*scopes, **kwargs)

    def close(self) -> None:
        self._inner.close()


_RENEW_BEFORE = 300  # seconds before expiry azure-identity asks for a new token (DEFAULT_REFRESH_OFFSET)

# Credentials of this run by (method, authority, tenant id, client id, where the secret or assertion
# comes from, CA bundle): tenant 5 of `export --all` and the apply after a plan reuse the token
# their first sign-in got. Only in memory; closed when the run ends.
_credentials: dict[tuple[str, ...], _Shared] = {}
_credentials_lock = threading.Lock()


def close_all() -> None:
    """Forget this run's credentials and close their connections."""
    with _credentials_lock:
        shared = list(_credentials.values())
        _credentials.clear()
    for c in shared:
        c.close()


atexit.register(close_all)


class SignIn:
    """A shared credential behind the async interface the Graph client calls, made safe for many
    concurrent first requests.

    One token request at a time: the callers that waited find the token in the credential's own
    cache, so an export asks the token endpoint once instead of once per concurrent request. A
    refused sign-in becomes an EntragitError (one line, the AADSTS code and a hint) and is
    remembered, so the other waiting requests fail with it instead of asking again."""

    def __init__(self, inner: _Shared, tenant: Tenant) -> None:
        self._inner = inner
        self._tenant = tenant
        self._lock: asyncio.Lock | None = None
        self._failed: EntragitError | None = None
        # The token each Graph request is sent with, kept here so that asking for it again costs no
        # thread (the default executor also runs export's git writes).
        self._held: dict[tuple[tuple[str, ...], bool], Any] = {}

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

        key = (scopes, bool(kwargs.get("enable_cae")))
        held = self._held.get(key)
        if held is not None and not kwargs.get("claims") and held.expires_on - time.time() > _RENEW_BEFORE:
            return held
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._failed is not None:
                raise self._failed
            try:
                self._held[key] = token = await asyncio.to_thread(self._inner.get_token, *scopes, **kwargs)
                return token
            except ServiceRequestError as e:  # no answer at all: DNS, refused connection, TLS, proxy
                self._failed = self._unreachable(e)
                raise self._failed from None
            except ClientAuthenticationError as e:
                # Sync credentials wrap an unanswered request in a ClientAuthenticationError.
                cause = e.__cause__
                self._failed = self._unreachable(cause) if isinstance(cause, ServiceRequestError) else self._error(e)
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


def credential(t: Tenant) -> tuple[SignIn | None, str | None]:
    """(async credential, None) or (None, static token) for `auth.method: sim`. Every call for the
    same sign-in shares one credential (and its tokens) for the rest of the run."""
    a = t.auth
    if a.get("method", "default") == "sim":
        return None, str(a.get("token") or SIM_TOKEN)
    key, make = _recipe(t)
    with _credentials_lock:
        if key not in _credentials:
            _credentials[key] = _Shared(make())
        return SignIn(_credentials[key], t), None


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
    # enable_cae as Graph's sessions ask (graph.Graph.access_token): the shared credential holds
    # CAE and plain tokens apart, so a plain ask here would cost the run a second sign-in.
    tok = await cred.get_token(graph_scope(urlsplit(t.graph_url).hostname or ""), enable_cae=True)
    return decode_claims(tok.token)


Factory = Callable[[], Any]


def _recipe(t: Tenant) -> tuple[tuple[str, ...], Factory]:
    """(what makes two sign-ins the same, how to make the credential); bad auth settings fail here,
    before anything is asked of the sign-in host."""
    import azure.identity as ai

    a = t.auth
    method = str(a.get("method", "default"))
    kw: dict[str, Any] = {"authority": t.authority}
    if t.authority not in AUTHORITIES.values():
        # MSAL would ask the public cloud's instance discovery about a private authority.
        kw["disable_instance_discovery"] = True
    if t.ca_bundle:
        kw["connection_verify"] = t.ca_bundle
    client_id = str(a.get("clientId") or "")
    base = (method, t.authority, t.tenant_id, client_id, str(t.ca_bundle))
    if method == "secret":
        env = a.get("secretEnv", "ENTRAGIT_CLIENT_SECRET")
        secret = os.environ.get(env)
        if not secret or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'secret' needs clientId in tenant.yaml and the secret in ${env}")
        # A changed secret is another sign-in; the key holds its digest, not the secret.
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return (*base, digest), lambda: ai.ClientSecretCredential(t.tenant_id, client_id, secret, **kw)
    if method == "certificate":
        return _certificate(t, client_id, base, kw)
    if method == "workload-identity":
        return _federated(t, client_id, base, kw)
    if method == "device-code":
        return _device_code(t, base, kw)
    if method == "azure-cli":
        return base, lambda: ai.AzureCliCredential(tenant_id=t.tenant_id)
    return base, lambda: ai.DefaultAzureCredential(**({"authority": t.authority} if "authority" in a else {}))


def _certificate(t: Tenant, client_id: str, base: tuple[str, ...], kw: dict[str, Any]
                 ) -> tuple[tuple[str, ...], Factory]:
    import azure.identity as ai

    a = t.auth
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
    return (*base, os.path.abspath(cert)), lambda: ai.CertificateCredential(
        t.tenant_id, client_id, certificate_path=cert, **kw)


def _federated(t: Tenant, client_id: str, base: tuple[str, ...], kw: dict[str, Any]
               ) -> tuple[tuple[str, ...], Factory]:
    """Workload identity federation: an assertion from the CI runner, fetched or read again each
    time a new access token is needed. tenant.yaml's tokenFile first (the person chose it), then a
    runner's own token service (GitHub Actions, Azure Pipelines: always fresh), then the file a
    platform keeps fresh ($AZURE_FEDERATED_TOKEN_FILE: Kubernetes, or a CI step that wrote it)."""
    import azure.identity as ai

    env = os.environ
    if not client_id:
        raise EntragitError(f"tenant {t.name}: auth 'workload-identity' needs clientId in tenant.yaml")
    token_file = t.auth.get("tokenFile")
    if not token_file and all(env.get(v) for v in GITHUB_OIDC_ENV):
        url, bearer = (env[v] for v in GITHUB_OIDC_ENV)
        return (*base, "github", url), lambda: ai.ClientAssertionCredential(
            t.tenant_id, client_id, lambda: _github_assertion(url, bearer), **kw)
    if not token_file and all(env.get(v) for v in PIPELINES_OIDC_ENV):
        _uri, connection, access = (env[v] for v in PIPELINES_OIDC_ENV)
        # Reads SYSTEM_OIDCREQUESTURI itself and asks it for a fresh token per new access token.
        return (*base, "azure-pipelines", connection), lambda: ai.AzurePipelinesCredential(
            tenant_id=t.tenant_id, client_id=client_id, service_connection_id=connection,
            system_access_token=access, **kw)
    path = str(token_file or env.get("AZURE_FEDERATED_TOKEN_FILE") or "")
    if not path:
        raise EntragitError(f"tenant {t.name}: auth 'workload-identity' found no federated token: set tokenFile "
                            "in tenant.yaml or $AZURE_FEDERATED_TOKEN_FILE, or run in GitHub Actions with "
                            "`id-token: write` or in an Azure Pipelines AzureCLI@2 task with $SYSTEM_ACCESSTOKEN",
                            hint="README: Auth methods says which environment each source reads")
    return (*base, "file", os.path.abspath(path)), lambda: ai.ClientAssertionCredential(
        t.tenant_id, client_id, lambda: _read_assertion(path), **kw)


def _read_assertion(path: str) -> str:
    """The token file as it is now: the runner may have replaced it since the last sign-in."""
    from azure.core.exceptions import ClientAuthenticationError

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ClientAuthenticationError(message=f"cannot read the federated token file {path}: "
                                                f"{e.strerror or e}") from None
    if not text:
        raise ClientAuthenticationError(message=f"the federated token file {path} is empty")
    return text


def _github_assertion(url: str, bearer: str) -> str:
    from azure.core.exceptions import ClientAuthenticationError

    from entragit.graph import github_oidc_token

    try:
        return github_oidc_token(url, bearer, FEDERATED_AUDIENCE)
    except EntragitError as e:
        raise ClientAuthenticationError(message=e.message) from None


def _device_code(t: Tenant, base: tuple[str, ...], kw: dict[str, Any]) -> tuple[tuple[str, ...], Factory]:
    """A person signs in from the terminal: the device code flow, prompt through set_device_code_prompt.
    DeviceCodeCredential has no aio twin; the run's one credential serves every command step."""
    from azure.identity import DeviceCodeCredential

    if _prompt is None:
        raise EntragitError(f"tenant {t.name}: auth 'device-code' needs a terminal to show the sign-in code")
    client_id = str(t.auth.get("clientId") or DEVICE_CODE_CLIENT_ID)
    prompt = _prompt
    return (*base[:3], client_id, *base[4:]), lambda: DeviceCodeCredential(
        client_id=client_id, tenant_id=t.tenant_id, prompt_callback=prompt, **kw)

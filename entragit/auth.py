"""Credentials from tenant.yaml (azure-identity). Secrets come from the environment, never files."""

from __future__ import annotations

import os
from typing import Any

from entragit.config import AUTHORITIES, Tenant
from entragit.errors import EntragitError

SIM_TOKEN = "sim-admin"  # the simulator's documented full-permission dev token


def credential(t: Tenant) -> tuple[Any, str | None]:
    """(azure-identity async credential, None) or (None, static token) for `auth.method: sim`."""
    a = t.auth
    method = a.get("method", "default")
    if method == "sim":
        return None, str(a.get("token") or SIM_TOKEN)
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
        return aio.ClientSecretCredential(t.tenant_id, client_id, secret, **kw), None
    if method == "certificate":
        cert = a.get("certificatePath") or os.environ.get(a.get("certificateEnv", "ENTRAGIT_CERTIFICATE_PATH"), "")
        if not cert or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'certificate' needs clientId and certificatePath")
        return aio.CertificateCredential(t.tenant_id, client_id, cert, **kw), None
    if method == "workload-identity":
        # GitHub Actions / Azure DevOps OIDC: the federated token file comes from the CI runner.
        token_file = a.get("tokenFile") or os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if not token_file or not client_id:
            raise EntragitError(f"tenant {t.name}: auth 'workload-identity' needs clientId and AZURE_FEDERATED_TOKEN_FILE")
        return aio.WorkloadIdentityCredential(tenant_id=t.tenant_id, client_id=client_id,
                                              token_file_path=token_file, **kw), None
    if method == "azure-cli":
        return aio.AzureCliCredential(tenant_id=t.tenant_id), None
    return aio.DefaultAzureCredential(**({"authority": t.authority} if "authority" in a else {})), None

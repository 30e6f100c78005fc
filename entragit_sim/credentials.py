"""App credentials beyond secrets: certificates (keyCredentials) and federated identity credentials.

Used by the token endpoint (auth.py) to check `client_assertion` JWTs, and by the application hook
and router to store what Graph stores. `cryptography` is imported lazily (only when a certificate
is registered or an assertion is verified).

Two kinds of client assertion reach the token endpoint, told apart as Entra does, by the issuer:

* iss == sub == client_id: the app signed it with a certificate's private key (CertificateCredential).
  The simulator verifies it for real: header `x5t` (base64url SHA-1 thumbprint, RS256) or
  `x5t#S256` (base64url SHA-256 thumbprint, PS256, which azure-identity and MSAL send today) names one
  of the app's keyCredentials; the RS256/PS256 signature, `aud` (this token endpoint), `exp`/`nbf`
  and the certificate's own validity window are checked.
* anything else: a token from an external IdP (GitHub Actions, Azure DevOps, Kubernetes) presented
  through workload identity federation. The simulator CANNOT verify those signatures (it does not
  fetch the IdP's JWKS, and tests mint such tokens themselves), so it checks the claims only:
  iss/sub/aud must match one of the app's federatedIdentityCredentials, exp/nbf must be current,
  and `alg` must name a signature algorithm (`none` is refused). HS256/RS256/ES256/PS256 tokens are
  accepted with the signature UNVERIFIED. Real Entra validates the signature against the issuer's
  OIDC discovery keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from entragit_sim.errors import bad_request

Obj = dict[str, Any]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FIC_AUDIENCE = "api://AzureADTokenExchange"
MAX_FICS = 20  # per application (Graph docs)
FEDERATED_ALGS = {
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "HS256",
}
CLOCK_SKEW = 300  # seconds of leeway on nbf, as STSes allow
_FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


# -- base64 / JWT parsing ------------------------------------------------------------------------
def b64url_decode(text: str) -> bytes:
    """Tolerates missing or present padding (azure-identity pads its assertion segments)."""
    text = text.strip().rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class AssertionError_(Exception):
    """A refused assertion: HTTP status, OAuth error, AADSTS code and text."""

    def __init__(self, status: int, error: str, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.status, self.error, self.code, self.text = status, error, code, text


def _refuse(
    code: str, text: str, status: int = 401, error: str = "invalid_client"
) -> AssertionError_:
    return AssertionError_(status, error, code, text)


@dataclass(frozen=True)
class Jwt:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_jwt(token: str) -> Jwt:
    try:
        head, body, sig = token.strip().split(".")
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        signature = b64url_decode(sig) if sig else b""
    except (ValueError, binascii.Error, json.JSONDecodeError) as e:
        raise _refuse(
            "AADSTS50027", "JWT token is invalid or malformed.", 400, "invalid_request"
        ) from e
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _refuse("AADSTS50027", "JWT token is invalid or malformed.", 400, "invalid_request")
    return Jwt(header, claims, f"{head}.{body}".encode(), signature)


def check_lifetime(jwt: Jwt, now: float | None = None) -> None:
    now = time.time() if now is None else now
    exp, nbf = jwt.claims.get("exp"), jwt.claims.get("nbf")
    if not isinstance(exp, (int, float)):
        raise _refuse("AADSTS50027", "JWT token is invalid or malformed: 'exp' is required.", 400)
    if exp < now or (isinstance(nbf, (int, float)) and nbf > now + CLOCK_SKEW):
        stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now))
        raise _refuse(
            "AADSTS700024",
            f"Client assertion is not within its valid time range. Current time: {stamp}, "
            f"assertion valid from {_iso(nbf)}, expiry time of assertion {_iso(exp)}.",
            400,
        )


def check_age(jwt: Jwt, max_age: float | None, now: float | None = None) -> None:
    """Refuse an assertion issued more than `max_age` seconds ago (`iat`, else `nbf`): how the
    simulator plays a CI runner's short-lived OIDC token (GitHub's lives about 5 minutes) without
    waiting minutes. None: only `exp` limits it, as in Entra."""
    issued = jwt.claims.get("iat", jwt.claims.get("nbf"))
    now = time.time() if now is None else now
    if max_age is None or not isinstance(issued, (int, float)) or now - issued <= max_age:
        return
    stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now))
    raise _refuse(
        "AADSTS700024",
        f"Client assertion is not within its valid time range. Current time: {stamp}, "
        f"assertion issued at {_iso(issued)}, older than the {max_age:g} s this token endpoint accepts.",
        400,
    )


def _iso(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "(none)"
    return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(ts))


def _audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    return [a for a in aud if isinstance(a, str)] if isinstance(aud, list) else []


# -- keyCredentials (certificates) ---------------------------------------------------------------
def _load_cert(key_b64: str) -> Any:
    from cryptography import x509

    text = key_b64.strip()
    try:
        if text.startswith("-----BEGIN"):
            return x509.load_pem_x509_certificate(text.encode())
        raw = base64.b64decode(text, validate=False)
        if raw.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except (ValueError, binascii.Error, TypeError) as e:
        raise bad_request(
            "Invalid value specified for property 'keyCredentials' of resource 'Application': "
            "key is not a base64-encoded X.509 certificate."
        ) from e


def _der(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(cert.public_bytes(serialization.Encoding.DER))


def _iso_dt(d: datetime) -> str:
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_key_credentials(items: Any, current: list[Obj] | None) -> list[Obj]:
    """What Graph stores for a PATCH/POST of keyCredentials (the whole collection is replaced).

    An item with `key` is parsed as an X.509 certificate: customKeyIdentifier (base64 SHA-1
    thumbprint), keyId, start/end dates and displayName ("CN=...") are filled when missing, `key`
    is kept as base64 DER. An item without `key` whose keyId is already registered keeps the stored
    certificate (so a read-modify-write with `key: null` does not drop it). Any other item without
    `key` is refused with 400: Graph needs the certificate's raw data to register a credential, and
    `key` reads back as null, so an exported credential can never be written back as it was.
    https://learn.microsoft.com/graph/api/resources/keycredential (`key`: "Returned only on $select
    for a single object ... otherwise, it's always null"; the error text is a best guess).
    """
    if items is None:
        return []
    if not isinstance(items, list):
        raise bad_request(
            "Invalid value specified for property 'keyCredentials' of resource 'Application'."
        )
    stored = {c.get("keyId"): c for c in current or [] if isinstance(c, dict)}
    out: list[Obj] = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_request(
                "Invalid value specified for property 'keyCredentials' of resource 'Application'."
            )
        cred = dict(item)
        cred.pop("@odata.type", None)
        if not cred.get("key"):
            old = stored.get(cred.get("keyId"))
            if old is None:
                raise bad_request(
                    "Invalid value specified for property 'key' of resource 'KeyCredential': "
                    "a new key credential needs the certificate."
                )
            if old.get("key"):
                cred = {**old, **{k: v for k, v in cred.items() if v is not None and k != "key"}}
            out.append(cred)
            continue
        kind = cred.get("type") or "AsymmetricX509Cert"
        if kind not in ("AsymmetricX509Cert", "X509CertAndPassword", "Symmetric"):
            raise bad_request(f"Invalid key credential type '{kind}'.")
        usage = cred.get("usage") or "Verify"
        if usage not in ("Verify", "Sign"):
            raise bad_request(f"Invalid key credential usage '{usage}'.")
        cert = _load_cert(str(cred["key"]))
        der = _der(cert)
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        cred.update(
            type=kind,
            usage=usage,
            key=base64.b64encode(der).decode(),
            keyId=str(cred.get("keyId") or uuid.uuid4()),
            customKeyIdentifier=cred.get("customKeyIdentifier")
            or base64.b64encode(hashlib.sha1(der).digest()).decode(),  # noqa: S324 - X.509 thumbprint
            startDateTime=cred.get("startDateTime") or _iso_dt(start),
            endDateTime=cred.get("endDateTime") or _iso_dt(end),
            displayName=cred.get("displayName") or cert.subject.rfc4514_string(),
        )
        # Graph lists keyCredential properties alphabetically.
        out.append(dict(sorted(cred.items())))
    ids = [c.get("keyId") for c in out if c.get("keyId")]
    if len(ids) != len(set(ids)):
        raise bad_request("Key credentials must have unique keyId values.")
    return out


def hide_keys(obj: Obj) -> Obj:
    """Graph returns keyCredentials[].key as null except on `$select=keyCredentials` of one object."""
    creds = obj.get("keyCredentials")
    if isinstance(creds, list):
        obj["keyCredentials"] = [{**c, "key": None} if isinstance(c, dict) else c for c in creds]
    return obj


def _thumbprints(cred: Obj) -> tuple[bytes, bytes] | None:
    try:
        der = base64.b64decode(str(cred.get("key") or ""), validate=False)
    except (ValueError, binascii.Error):
        return None
    if not der:
        return None
    return hashlib.sha1(der).digest(), hashlib.sha256(der).digest()  # noqa: S324


def verify_certificate_assertion(
    jwt: Jwt, owners: list[Obj], token_urls: set[str], now_iso: str
) -> None:
    """Check a certificate-signed client assertion against the keyCredentials of `owners`
    (the application and its service principal). Raises AssertionError_ when refused."""
    aud = _audiences(jwt.claims)
    if not any(a.rstrip("/").lower() in token_urls for a in aud):
        raise _refuse(
            "AADSTS700023",
            f"Client assertion audience claim does not match Realm issuer. Review the documentation at "
            f"https://learn.microsoft.com/entra/identity-platform/certificate-credentials. Audience: '{', '.join(aud)}'.",
        )
    alg = str(jwt.header.get("alg", ""))
    want: tuple[int, bytes] | None = None  # (0 = SHA-1 | 1 = SHA-256, thumbprint)
    try:
        if jwt.header.get("x5t#S256"):
            want = (1, b64url_decode(str(jwt.header["x5t#S256"])))
        elif jwt.header.get("x5t"):
            want = (0, b64url_decode(str(jwt.header["x5t"])))
    except (ValueError, binascii.Error):
        want = None
    if want is None:
        raise _refuse(
            "AADSTS700027",
            "Client assertion failed signature validation. [Reason - The key was not found.]",
        )
    shown = want[1].hex().upper()
    match = None
    for owner in owners:
        for cred in owner.get("keyCredentials") or []:
            if (
                not isinstance(cred, dict)
                or cred.get("type", "AsymmetricX509Cert") != "AsymmetricX509Cert"
            ):
                continue
            if cred.get("usage", "Verify") != "Verify":
                continue
            prints = _thumbprints(cred)
            if prints is not None and prints[want[0]] == want[1]:
                match = cred
                break
        if match is not None:
            break
    if match is None:
        raise _refuse(
            "AADSTS700027",
            "Client assertion failed signature validation. [Reason - The key was not found., "
            f"Thumbprint of key used by client: '{shown}', Please visit the Azure Portal, Graph Explorer "
            "or directly use MS Graph to see configured keys for app Id. Review the documentation at "
            "https://learn.microsoft.com/graph/api/application-get to learn how to fetch the keys.]",
        )
    if (match.get("endDateTime") or "9999") < now_iso or (
        match.get("startDateTime") or "0"
    ) > now_iso:
        raise _refuse(
            "AADSTS700027",
            f"Client assertion failed signature validation. [Reason - The key used is expired., "
            f"Thumbprint of key used by client: '{shown}']",
        )
    if alg not in ("RS256", "PS256"):
        raise _refuse(
            "AADSTS700027",
            f"Client assertion failed signature validation. [Reason - Unsupported alg '{alg}'.]",
        )
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    public_key = _load_cert(str(match["key"])).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _refuse(
            "AADSTS700027",
            "Client assertion failed signature validation. [Reason - Not an RSA key.]",
        )
    pad: Any = (
        padding.PKCS1v15()
        if alg == "RS256"
        else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    )
    try:
        public_key.verify(jwt.signature, jwt.signing_input, pad, hashes.SHA256())
    except InvalidSignature as e:
        raise _refuse(
            "AADSTS700027",
            "Client assertion failed signature validation. [Reason - The provided signature value did not "
            f"match the expected signature value., Thumbprint of key used by client: '{shown}']",
        ) from e


def verify_federated_assertion(jwt: Jwt, app: Obj) -> None:
    """Claims-only check of an external IdP token against the app's federatedIdentityCredentials.

    The IdP's signature is NOT verified (the simulator has no way to fetch, say, GitHub's keys and
    tests sign these tokens themselves); only an unsigned token (`alg: none`) is refused."""
    alg = str(jwt.header.get("alg", "none"))
    if alg.lower() == "none" or alg not in FEDERATED_ALGS or not jwt.signature:
        raise _refuse(
            "AADSTS700027",
            f"Client assertion failed signature validation. [Reason - The token is not signed (alg '{alg}').]",
        )
    iss, sub = str(jwt.claims.get("iss", "")), str(jwt.claims.get("sub", ""))
    aud = _audiences(jwt.claims)
    fics = [f for f in app.get("federatedIdentityCredentials") or [] if isinstance(f, dict)]
    by_issuer = [f for f in fics if f.get("issuer") == iss]
    if not by_issuer:
        raise _refuse(
            "AADSTS700211",
            f"No matching federated identity record found for presented assertion issuer '{iss}'. Please check "
            "your federated identity credential Subject, Audience and Issuer against the presented assertion.",
            400,
        )
    by_subject = [f for f in by_issuer if f.get("subject") == sub]
    if not by_subject:
        raise _refuse(
            "AADSTS700213",
            f"No matching federated identity record found for presented assertion subject '{sub}'. Please check "
            "your federated identity credential Subject, Audience and Issuer against the presented assertion.",
            400,
        )
    if not any(a in (f.get("audiences") or []) for f in by_subject for a in aud):
        raise _refuse(
            "AADSTS700212",
            f"No matching federated identity record found for presented assertion audience '{', '.join(aud)}'. "
            "Please check your federated identity credential Subject, Audience and Issuer against the presented "
            "assertion.",
            400,
        )


# -- federatedIdentityCredentials (stored inside the application object) -------------------------
FIC_FIELDS = ("name", "issuer", "subject", "audiences", "description")
FIC_KEY = "federatedIdentityCredentials"  # hidden key of the stored application object


def new_fic(body: Obj, existing: list[Obj], name: str | None = None) -> Obj:
    body = {**body, **({"name": name} if name else {})}
    _check_fic_body(body, creating=True)
    fic = {
        "id": str(uuid.uuid4()),
        "name": body["name"],
        "issuer": body["issuer"],
        "subject": body["subject"],
        "description": body.get("description"),
        "audiences": list(body.get("audiences") or [FIC_AUDIENCE]),
    }
    _check_fic_set([*existing, fic])
    return fic


def patch_fic(old: Obj, body: Obj, existing: list[Obj]) -> Obj:
    _check_fic_body(body, creating=False)
    if "name" in body and body["name"] != old["name"]:
        raise bad_request("Property 'name' of a federated identity credential cannot be changed.")
    new = {**old, **{k: v for k, v in body.items() if k in FIC_FIELDS}}
    _check_fic_set([new if f["id"] == old["id"] else f for f in existing])
    return new


def _check_fic_body(body: Obj, *, creating: bool) -> None:
    unknown = [k for k in body if k not in FIC_FIELDS and k != "id" and not k.startswith("@odata.")]
    if unknown:
        raise bad_request(
            f"Property '{unknown[0]}' does not exist on type 'microsoft.graph.federatedIdentityCredential'."
        )
    if creating:
        for prop in ("name", "issuer", "subject"):
            if not isinstance(body.get(prop), str) or not body[prop]:
                raise bad_request(
                    f"Invalid value specified for property '{prop}' of resource 'FederatedIdentityCredential'."
                )
    if "name" in body and not _FIC_NAME.match(str(body["name"])):
        raise bad_request(
            "Property 'name' must be 3 to 120 characters: letters, digits, '-' and '_', starting with a letter or digit."
        )
    if "audiences" in body:
        aud = body["audiences"]
        if not isinstance(aud, list) or not aud or not all(isinstance(a, str) and a for a in aud):
            raise bad_request("Property 'audiences' must be a non-empty list of strings.")
    for prop in ("issuer", "subject"):
        if prop in body and (
            not isinstance(body[prop], str) or not body[prop] or len(body[prop]) > 600
        ):
            raise bad_request(
                f"Invalid value specified for property '{prop}' of resource 'FederatedIdentityCredential'."
            )


def _check_fic_set(fics: list[Obj]) -> None:
    if len(fics) > MAX_FICS:
        raise bad_request(
            f"An application can have at most {MAX_FICS} federated identity credentials."
        )
    names = [f["name"].lower() for f in fics]
    if len(names) != len(set(names)):
        raise bad_request("Another object with the same value for property name already exists.")
    pairs = [(f["issuer"], f["subject"]) for f in fics]
    if len(pairs) != len(set(pairs)):
        raise bad_request(
            "FederatedIdentityCredential with the same issuer and subject already exists on this application."
        )

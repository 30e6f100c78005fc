"""`entragit sim ...` commands. Keep imports lazy: this module loads on every CLI start."""

from __future__ import annotations

import sys

import click


@click.group()
def sim() -> None:
    """Run the built-in Microsoft Graph simulator (for rehearsals, tests and the demo)."""


SERVE_HELP = """Serve a simulated Microsoft Graph tenant in the foreground (Ctrl-C stops).

Prints one JSON line on start:
{"graph_url": ..., "token_url": ..., "tenant_id": ..., "ca_bundle": ...}
then serves Graph v1.0 at <graph_url> and beta next to it (…/beta).

\b
Auth:
  Authorization: Bearer sim-admin        dev token with every permission
  POST <token_url> client_credentials    JWT whose roles are the app's Graph
                                         app role assignments, for one of:
    client_secret     from POST /applications/{id}/addPassword
    certificate       client_assertion signed RS256 (x5t) or PS256
                      (x5t#S256) by a cert registered with PATCH
                      /applications/{id} {"keyCredentials": [{"type":
                      "AsymmetricX509Cert", "usage": "Verify", "key":
                      <base64 DER>}]}; signature, aud, exp, iss/sub checked
    federated token   workload identity (GitHub Actions, Azure DevOps):
                      iss/sub/aud must match one of POST /applications/{id}/
                      federatedIdentityCredentials; exp checked, alg none
                      refused, but the IdP's SIGNATURE IS NOT VERIFIED
                      (HS256/RS256/... accepted unverified)
  POST <token_url> device_code grant     delegated sign-in as a user (device
                                         code flow: POST .../oauth2/v2.0/
                                         devicecode first). The token's scp is
                                         the consented scopes, wids the user's
                                         directory roles; Graph allows what
                                         BOTH allow. Client: Azure CLI or Graph
                                         Command Line Tools app ids, or a
                                         tenant app with isFallbackPublicClient.
    approve a code    POST /_sim/devicecode/approve {"user_code": ...,
                      "upn": ...} (sim-admin token), or start with --user UPN
                      to approve every code for that user at once
  GET /_sim/whoami                       any token: the caller as the
                                         simulator sees it (permissions,
                                         directory roles, user)
  GET /_sim/clock                        sim-admin: the simulated time and
                                         the native backup snapshot ids
  POST /_sim/clock/advance {"days": N}   sim-admin: time passes; every 22:00Z
                                         passed takes a snapshot (7 kept)
  Token endpoint needs --tls for azure-identity (https authorities only).
  X-Sim-Actor: admin@contoso.example     optional header: audit entries name
                                         this user as the initiator

\b
Examples:
  entragit sim serve --seed demo --port 8765
  curl -H 'Authorization: Bearer sim-admin' \\
       'http://127.0.0.1:8765/v1.0/identity/conditionalAccess/policies?$top=5'
  curl -X DELETE -H 'Authorization: Bearer sim-admin' \\
       http://127.0.0.1:8765/v1.0/groups/<id>
  curl -H 'Authorization: Bearer sim-admin' \\
       http://127.0.0.1:8765/v1.0/directory/deletedItems/microsoft.graph.group
  curl -X POST -H 'Authorization: Bearer sim-admin' \\
       http://127.0.0.1:8765/v1.0/directory/deletedItems/<id>/restore

\b
--throttle SPEC (off by default; comma separated):
  ru=RU/SECONDS   resource units per app+tenant on directory paths, 429 with
                  Retry-After and x-ms-throttle-* headers (Graph: 3500/10)
  w=N/SECONDS     write requests per app+tenant (Graph: 3000/150)
  ca=N/SECONDS    requests per tenant to CA policies and named locations,
                  429 WITHOUT Retry-After (Graph: 1/1)
  msa=N/SECONDS   writes per app to applications whose signInAudience
                  includes personal Microsoft accounts (Graph: 60/60)
  on              all four with Graph's numbers

\b
--faults SPEC (comma separated, deterministic for a given seed):
  500=P,503=P,504=P   answer that status with probability P
  reset=P             drop the connection without an answer
  slow=P:MS           delay the answer by MS milliseconds
  lag=MS              a new object 404s on GET by id for MS milliseconds
  lost=P              a write (non-GET, not a $batch of reads) is committed,
                      then answered 504
  lostreset=P         a write is committed, then the connection is dropped
  seed=N              random seed (default 0)
  e.g. --faults '503=0.02,reset=0.01,slow=0.02:2000,lag=1500,seed=7'

\b
Seeds: demo (a small company), empty, synthetic:N (about N objects), or a
directory of JSON files laid out <collection>/<name>.json.
With --state FILE the tenant is loaded from FILE if it exists (instead of the
seed) and saved back on exit and on POST /_sim/save, so a rehearsal survives
a restart. GET /_sim/state dumps the whole state (sim-admin token only).
"""


@sim.command(help=SERVE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=int, help="0 picks a free port.")
@click.option("--seed", default="demo", show_default=True, help="demo | enterprise | empty | synthetic:N | DIR")
@click.option("--tenant-id", default=None, help="Tenant GUID (default: a fixed demo tenant id).")
@click.option("--latency-ms", default=0, type=int, help="Added to every Graph answer.")
@click.option(
    "--throttle", default=None, metavar="SPEC", help="See above, e.g. ru=3500/10,ca=1/1 or 'on'."
)
@click.option(
    "--faults", default=None, metavar="SPEC", help="See above, e.g. 503=0.02,lag=1500,seed=7."
)
@click.option(
    "--tls", is_flag=True, help="Serve HTTPS with a generated CA (needed by azure-identity)."
)
@click.option(
    "--state",
    "state_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Load/save state here.",
)
@click.option(
    "--user",
    default=None,
    metavar="UPN",
    help="Approve every device code sign-in as this user (e.g. bg-admin-01@contosodemo.onmicrosoft.com).",
)
@click.option(
    "--security-group-delete",
    type=click.Choice(["soft", "hard"]),
    default="soft",
    show_default=True,
    help="Whether deleted security groups can be restored (Graph's docs disagree: rehearse both).",
)
@click.option(
    "--assertion-max-age",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Refuse client assertions issued longer ago (AADSTS700024), as CI OIDC tokens expire.",
)
@click.option(
    "--token-lifetime",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help="Lifetime of the app-only access tokens issued.",
)
@click.option(
    "--now",
    default=None,
    metavar="ISO8601",
    help="Start the simulated clock here (default: the real time). It stands still until "
    "POST /_sim/clock/advance {\"days\": N}, which takes the daily native backup snapshots (22:00Z) it passes.",
)
def serve(
    host: str,
    port: int,
    seed: str,
    tenant_id: str | None,
    latency_ms: int,
    throttle: str | None,
    faults: str | None,
    tls: bool,
    state_file: str | None,
    user: str | None,
    security_group_delete: str,
    assertion_max_age: float | None,
    token_lifetime: int,
    now: str | None,
) -> None:
    import json
    import signal
    import threading

    from entragit_sim import Simulator, UnknownUser
    from entragit_sim.faults import FaultSpecError
    from entragit_sim.seeds import SeedError
    from entragit_sim.throttle import ThrottleSpecError

    try:
        simulator = Simulator(
            seed=seed,
            tenant_id=tenant_id,
            tls=tls,
            latency_ms=latency_ms,
            throttle=throttle,
            faults=faults,
            state_file=state_file,
            user=user,
            security_group_delete=security_group_delete,
            assertion_max_age=assertion_max_age,
            token_lifetime=token_lifetime,
            now=now,
        )
    except (SeedError, FaultSpecError, ThrottleSpecError, UnknownUser, ValueError) as e:
        # click's own usage error: one line, exit 2, and no import of the client's error types
        raise click.BadParameter(str(e)) from e

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    try:
        simulator.start(host=host, port=port)
    except OSError as e:  # port taken, a privileged port, an unknown host
        click.echo(f"error: cannot listen on {host}:{port}: {e.strerror or e}", err=True)
        click.echo("hint: pick another --port (0 picks a free one) or --host", err=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, _stop)  # save state on a polite kill too
    click.echo(
        json.dumps(
            {
                "graph_url": simulator.graph_url,
                "token_url": simulator.token_url,
                "tenant_id": simulator.tenant_id,
                "ca_bundle": simulator.ca_bundle,
            }
        ),
        nl=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()

"""HTTP glue: a threading stdlib server that feeds the router, the token endpoint and /_sim helpers."""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from entragit_sim import auth, devicecode
from entragit_sim.errors import GraphHTTPError
from entragit_sim.router import Request, Response

if TYPE_CHECKING:
    from entragit_sim import Simulator

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_FAULT_CODES = {500: "generalException", 503: "serviceNotAvailable", 504: "gatewayTimeout"}


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, addr: tuple[str, int], sim: Simulator, context: ssl.SSLContext | None
    ) -> None:
        super().__init__(addr, _Handler)
        self.sim = sim
        self.context = context

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, addr = super().get_request()
        if self.context is not None:
            # Handshake in the worker thread (do_handshake_on_connect=False) so one slow client can't block accept().
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = (
        True  # headers and body in one segment; avoids 40 ms delayed-ACK stalls
    )
    server: SimHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        try:
            self._handle()
        except (
            Exception
        ) as e:  # a simulator bug must still answer like Graph's 500, not drop the socket
            err = GraphHTTPError(
                500, "generalException", f"Simulator error: {type(e).__name__}: {e}"
            )
            self._send(500, err.body(), {})

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True

    # ---------------------------------------------------------------------------------------
    def _handle(self) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        path = split.path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        scheme = "https" if self.server.context is not None else "http"
        base = f"{scheme}://{self.headers.get('Host') or sim.host_port}"
        parts = path.lstrip("/").split("/", 1)
        if parts[0] in ("v1.0", "beta"):
            self._graph(
                parts[0],
                unquote(parts[1] if len(parts) > 1 else ""),
                split.query,
                headers,
                raw,
                base,
            )
        elif path.endswith(("/oauth2/v2.0/token", "/oauth2/v2.0/devicecode")) and self.command == "POST":
            form = dict(parse_qsl(raw.decode("utf-8", "replace")))
            if path.endswith("/devicecode"):
                status, body = sim.device_flows.start(sim.store, parts[0], form, base)
            elif form.get("grant_type") == devicecode.GRANT_TYPE:
                status, body = sim.device_flows.token(sim.store, parts[0], form, base)
            elif form.get("grant_type") == devicecode.REFRESH_GRANT:
                status, body = sim.device_flows.refresh(sim.store, parts[0], form, base)
            else:
                status, body = auth.token_response(sim.store, parts[0], form, base, sim.token_policy)
            sim.record(self.command, path, "", status, form.get("client_id", ""))
            self._send(status, body, {"Content-Type": "application/json; charset=utf-8"})
        elif path == "/devicelogin":
            # Where the device code prompt sends the user. No browser sign-in here: tests approve
            # a code with POST /_sim/devicecode/approve, or the simulator runs with --user.
            text = "entragit simulator: approve a code with POST /_sim/devicecode/approve " \
                   '{"user_code": ..., "upn": ...} (sim-admin token), or start it with --user UPN.\n'
            self._send(200, text, {"Content-Type": "text/plain; charset=utf-8"})
        elif path.endswith("/v2.0/.well-known/openid-configuration"):
            self._send(
                200,
                auth.openid_configuration(base, parts[0]),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        elif parts[0] == "_sim":
            self._sim_admin(parts[1] if len(parts) > 1 else "", headers, raw)
        else:
            self._send(404, GraphHTTPError(404, "NotFound", f"No route for '{path}'.").body(), {})

    def _graph(
        self, version: str, path: str, query: str, headers: dict[str, str], raw: bytes, base: str
    ) -> None:
        sim = self.server.sim
        fate, value = sim.router.faults.draw()
        if fate == "reset":
            sim.record(self.command, f"/{version}/{path}", query, 0, "")
            self.close_connection = True
            return
        if sim.latency_ms:
            time.sleep(sim.latency_ms / 1000)
        if fate == "slow":
            time.sleep(value / 1000)
        req = Request(
            method=self.command,
            version=version,
            path=path.strip("/"),
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=None,
            base=base,
        )
        if fate == "status":
            err = GraphHTTPError(
                value,
                _FAULT_CODES[value],
                "The service is temporarily unavailable (injected fault).",
            )
            resp = Response(value, err.body(headers.get("client-request-id")))
        elif raw:
            try:
                req.body = json.loads(raw)
                resp = sim.router.dispatch(req)
            except ValueError:
                resp = Response(
                    400,
                    GraphHTTPError(
                        400, "BadRequest", "Unable to read JSON request payload."
                    ).body(),
                )
        else:
            resp = sim.router.dispatch(req)
        lost = "ok"
        if fate != "status" and _is_write(self.command, req):
            lost = sim.router.faults.draw_lost(self.command, f"/{version}/{req.path}")
        if lost == "lost":  # the write is committed; only its answer is replaced
            err = GraphHTTPError(504, _FAULT_CODES[504], "The gateway timed out (injected lost answer).")
            resp = Response(504, err.body(headers.get("client-request-id")))
        sim.record(self.command, f"/{version}/{req.path}", query, 0 if lost == "lostreset" else resp.status,
                   req.caller.app_id)
        if resp.drop_connection or lost == "lostreset":
            self.close_connection = True
            return
        self._send(resp.status, resp.body, resp.headers, headers.get("client-request-id"))

    def _sim_admin(self, what: str, headers: dict[str, str], raw: bytes) -> None:
        sim = self.server.sim
        try:
            caller = auth.caller_from_header(headers.get("authorization"), sim.store.tenant_id)
            if what == "whoami" and self.command == "GET":
                # Any valid token: who the simulator takes the caller to be (roles, scopes, user).
                self._send(200, caller.describe(), {})
                return
            if not caller.admin:
                raise GraphHTTPError(
                    403,
                    "Authorization_RequestDenied",
                    "The /_sim endpoints need the sim-admin token.",
                )
        except GraphHTTPError as e:
            self._send(e.status, e.body(), {})
            return
        if what == "state" and self.command == "GET":
            self._send(200, sim.store.snapshot(), {})
        elif what == "save" and self.command == "POST":
            if not sim.state_file:
                self._send(
                    400,
                    GraphHTTPError(
                        400, "BadRequest", "The simulator runs without a state file."
                    ).body(),
                    {},
                )
            else:
                sim.store.save(sim.state_file)
                self._send(204, None, {})
        elif what == "devicecode/approve" and self.command == "POST":
            self._approve(raw)
        elif what == "clock" and self.command == "GET":
            self._send(200, self._clock(), {})
        elif what == "clock/advance" and self.command == "POST":
            self._advance(raw)
        elif what == "delta/expire" and self.command == "POST":
            # Every delta link issued so far answers syncStateNotFound from now on (tests of expiry).
            self._send(200, {"expired": sim.router.expire_delta()}, {})
        else:
            self._send(
                404,
                GraphHTTPError(404, "NotFound", f"Unknown simulator endpoint '{what}'.").body(),
                {},
            )

    def _approve(self, raw: bytes) -> None:
        """POST /_sim/devicecode/approve {"user_code", "upn"}: the user signs in on a pending code."""
        sim = self.server.sim
        try:
            body = json.loads(raw or b"{}")
            user_code, upn = str(body["user_code"]), str(body["upn"])
        except (ValueError, KeyError, TypeError):
            err = GraphHTTPError(400, "BadRequest", 'Expected {"user_code": ..., "upn": ...}.')
            self._send(400, err.body(), {})
            return
        try:
            user_id = sim.device_flows.approve(sim.store, user_code, upn)
        except devicecode.UnknownUser as e:
            self._send(404, GraphHTTPError(404, "Request_ResourceNotFound", f"{e}.").body(), {})
            return
        except KeyError:
            text = f"No pending device code '{user_code}' (unknown, expired or already redeemed)."
            self._send(404, GraphHTTPError(404, "NotFound", text).body(), {})
            return
        self._send(200, {"user_code": user_code, "upn": upn, "userId": user_id}, {})

    def _clock(self, taken: list[str] | None = None) -> dict[str, Any]:
        sim = self.server.sim
        with sim.store.lock:
            ids = [s["id"] for s in sim.store.backups]
        out: dict[str, Any] = {"now": sim.router.clock.iso(), "snapshots": ids}
        if taken is not None:
            out["taken"] = taken
        return out

    def _advance(self, raw: bytes) -> None:
        """POST /_sim/clock/advance {"days": N}: time passes; each 22:00Z passed takes a snapshot."""
        try:
            days = json.loads(raw or b"{}").get("days", 1)
            if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 3660:
                raise ValueError
        except (ValueError, AttributeError):
            err = GraphHTTPError(400, "BadRequest", 'Expected {"days": N} with 0 < N <= 3660.')
            self._send(400, err.body(), {})
            return
        taken = self.server.sim.advance(days)
        self._send(200, self._clock(taken), {})

    def _send(
        self, status: int, body: Any, headers: dict[str, str], client_request_id: str | None = None
    ) -> None:
        data = b""
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        if body is not None and "Content-Type" not in headers:
            self.send_header("Content-Type", JSON_TYPE)
        rid = str(uuid.uuid4())
        self.send_header("request-id", rid)
        self.send_header("client-request-id", client_request_id or rid)
        self.send_header("Date", formatdate(usegmt=True))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        # Body rides in the header buffer so the answer leaves in one write (see disable_nagle_algorithm).
        payload = b"\r\n" + (data if self.command != "HEAD" else b"")
        self._headers_buffer.append(payload)  # type: ignore[attr-defined]
        self.flush_headers()


def _is_write(method: str, req: Request) -> bool:
    """Whether a request can change the tenant: any non-GET but a $batch of reads and getByIds
    (a read by POST: https://learn.microsoft.com/graph/api/directoryobject-getbyids)."""
    if method == "GET" or req.path == "directoryObjects/getByIds":
        return False
    if req.path == "$batch" and isinstance(req.body, dict):
        return any(str(r.get("method", "GET")).upper() != "GET" for r in req.body.get("requests") or ()
                   if isinstance(r, dict))
    return True


def serve_in_thread(server: SimHTTPServer) -> threading.Thread:
    t = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="entragit-sim",
        daemon=True,
    )
    t.start()
    return t

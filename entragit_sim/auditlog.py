"""auditLogs/directoryAudits: the simulator's own audit trail, newest first."""

from __future__ import annotations

import copy
import re
from urllib.parse import unquote

from entragit_sim.auth import require_read
from entragit_sim.errors import GraphHTTPError
from entragit_sim.render import Render
from entragit_sim.table import AUDIT_PERMS
from entragit_sim.wire import Request, Response, ctx_url, method_not_allowed


class AuditLog(Render):
    """Directory audit entries written by audit.record."""

    def _audit_list(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        require_read(req.caller, AUDIT_PERMS)
        with self.store.lock:
            items = copy.deepcopy(
                list(reversed(self.store.audit))
            )  # newest first, as Graph lists them
        return self._page(req, items, "auditLogs/directoryAudits", directory=False)

    def _audit_item(self, req: Request, m: re.Match[str]) -> Response:
        require_read(req.caller, AUDIT_PERMS)
        key = unquote(m.group("key"))
        with self.store.lock:
            entry = next((a for a in self.store.audit if a["id"] == key), None)
        if entry is None:
            raise GraphHTTPError(404, "NotFound", f"Audit entry '{key}' was not found.")
        return Response(
            200, {"@odata.context": ctx_url(req, "auditLogs/directoryAudits/$entity"), **entry}
        )


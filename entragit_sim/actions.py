"""Bound actions and fixed sub-resources (the ACTIONS rows of table.py): application secrets and
federated credentials, authentication strength combinations and usage, cross-tenant default reset."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import time
import uuid
from urllib.parse import unquote

from entragit_sim import apppolicies, audit, combinations, credentials, pimpolicy
from entragit_sim.auth import require_read, require_write
from entragit_sim.errors import bad_request, denied, not_found
from entragit_sim.hooks import now_iso
from entragit_sim.render import Render
from entragit_sim.store import Obj
from entragit_sim.table import (
    APP_POLICY_REF_PERMS,
    APPLIES_TO_PERMS,
    BY_NAME,
    CONDITION_SET_PERMS,
    FIC_PERMS,
    STS_POLICY_REF_PERMS,
    Resource,
)
from entragit_sim.wire import Request, Response, body_object, ctx_url, method_not_allowed, target_id


class Actions(Render):
    """Handlers named by table.ACTIONS."""

    def _fic_app(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["applications"]
        (require_write if write else require_read)(req.caller, FIC_PERMS)
        key = unquote(m.group("key"))
        obj = self.store.get(res.name, key)
        if obj is None or self._lagging(key):
            raise not_found(key)
        return res, obj

    def _fic_out(self, req: Request, app: Obj, fic: Obj, entity: bool = True) -> Obj:
        ctx = f"applications('{app['id']}')/federatedIdentityCredentials" + (
            "/$entity" if entity else ""
        )
        return {"@odata.context": ctx_url(req, ctx), **copy.deepcopy(fic)}

    def _fic_save(
        self, req: Request, res: Resource, app: Obj, fics: list[Obj], activity: str
    ) -> None:
        new = {**app, credentials.FIC_KEY: fics}
        self.store.put(res.name, app["id"], new)
        audit.record(
            self.store,
            req.caller,
            req.actor,
            res,
            "Update",
            activity,
            new,
            [
                {
                    "displayName": "FederatedIdentityCredentials",
                    "oldValue": json.dumps(app.get(credentials.FIC_KEY) or []),
                    "newValue": json.dumps(fics),
                }
            ],
        )

    def _fic_list(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            if req.method == "GET":
                res, app = self._fic_app(req, m, False)
                items = copy.deepcopy(app.get(credentials.FIC_KEY) or [])
                return self._page(
                    req,
                    items,
                    f"applications('{app['id']}')/federatedIdentityCredentials",
                    directory=True,
                )
            if req.method == "POST":
                res, app = self._fic_app(req, m, True)
                body = body_object(req, res)
                current = list(app.get(credentials.FIC_KEY) or [])
                fic = credentials.new_fic(body, current)
                self._fic_save(req, res, app, [*current, fic], "Update application")
                resp = Response(201, self._fic_out(req, app, fic))
                resp.headers["Location"] = (
                    f"{req.root}/applications/{app['id']}/federatedIdentityCredentials/{fic['id']}"
                )
                return resp
        raise method_not_allowed()

    def _fic_item(self, req: Request, m: re.Match[str]) -> Response:
        fid, fname = m.group("fid"), m.group("fname")
        with self.store.lock:
            res, app = self._fic_app(req, m, req.method != "GET")
            current = list(app.get(credentials.FIC_KEY) or [])
            if fid is not None:
                fid = unquote(fid)
                fic = next((f for f in current if f["id"] == fid), None)
            else:
                fname = unquote(fname or "")
                fic = next((f for f in current if f["name"].lower() == fname.lower()), None)
            if req.method == "PATCH" and fic is None and fname is not None:
                # Upsert by name: PATCH .../federatedIdentityCredentials(name='x') creates it.
                created = credentials.new_fic(body_object(req, res), current, name=fname)
                self._fic_save(req, res, app, [*current, created], "Update application")
                return Response(201, self._fic_out(req, app, created))
            if fic is None:
                raise not_found(fid if fid is not None else f"name='{fname}'")
            if req.method == "GET":
                return Response(200, self._fic_out(req, app, fic))
            if req.method == "PATCH":
                new = credentials.patch_fic(fic, body_object(req, res), current)
                self._fic_save(
                    req,
                    res,
                    app,
                    [new if f["id"] == fic["id"] else f for f in current],
                    "Update application",
                )
                return Response(204)
            if req.method == "DELETE":
                self._fic_save(
                    req,
                    res,
                    app,
                    [f for f in current if f["id"] != fic["id"]],
                    "Update application",
                )
                return Response(204)
        raise method_not_allowed()

    # -- actions --------------------------------------------------------------------------------
    def _app(self, req: Request, m: re.Match[str]) -> tuple[Resource, Obj]:
        res = BY_NAME["applications"]
        if req.method != "POST":
            raise method_not_allowed()
        require_write(req.caller, res.perms)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"))
        return res, obj

    def _save_secrets(self, req: Request, res: Resource, new: Obj, old_keys: str, new_keys: str) -> None:
        self.store.put(res.name, new["id"], new)
        audit.record(self.store, req.caller, req.actor, res, "Update",
                     "Update application – Certificates and secrets management", new,
                     [{"displayName": "KeyDescription", "oldValue": old_keys, "newValue": new_keys}])  # fmt: skip

    def _add_password(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            res, obj = self._app(req, m)
            spec = (
                (req.body or {}).get("passwordCredential") or {}
                if isinstance(req.body, dict)
                else {}
            )
            text = secrets.token_urlsafe(30)[:40]
            start = spec.get("startDateTime") or now_iso()
            end = spec.get("endDateTime") or time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 730 * 86400)
            )
            cred = {
                "customKeyIdentifier": None,
                "displayName": spec.get("displayName"),
                "endDateTime": end,
                "hint": text[:3],
                "keyId": str(uuid.uuid4()),
                "secretText": None,
                "startDateTime": start,
            }
            self.store.secrets[f"{obj['id']}/{cred['keyId']}"] = hashlib.sha256(
                text.encode()
            ).hexdigest()
            new = {**obj, "passwordCredentials": [*(obj.get("passwordCredentials") or []), cred]}
            described = f"[KeyIdentifier={cred['keyId']},KeyType=Password,KeyUsage=Verify,DisplayName={cred['displayName']}]"
            self._save_secrets(req, res, new, "[]", json.dumps([described]))
            return Response(
                200,
                {
                    "@odata.context": ctx_url(req, "microsoft.graph.passwordCredential"),
                    **cred,
                    "secretText": text,
                },
            )

    def _remove_password(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            res, obj = self._app(req, m)
            key_id = (req.body or {}).get("keyId") if isinstance(req.body, dict) else None
            creds = obj.get("passwordCredentials") or []
            if not any(c.get("keyId") == key_id for c in creds):
                raise bad_request(f"No password credential found with keyId '{key_id}'.")
            new = {**obj, "passwordCredentials": [c for c in creds if c.get("keyId") != key_id]}
            self.store.secrets.pop(f"{obj['id']}/{key_id}", None)
            self._save_secrets(req, res, new, json.dumps([key_id]), "[]")
            return Response(204)

    def _strength(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["authenticationStrengthPolicies"]
        (require_write if write else require_read)(req.caller, res.perms)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"), directory=False)
        return res, obj

    def _update_combinations(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise method_not_allowed()
        with self.store.lock:
            res, obj = self._strength(req, m, True)
            if obj.get("policyType") == "builtIn":
                raise bad_request(
                    "Built-in authentication strength policies cannot be modified.", directory=False
                )
            combos = (
                (req.body or {}).get("allowedCombinations") if isinstance(req.body, dict) else None
            )
            if not isinstance(combos, list) or not combos:
                raise bad_request("allowedCombinations is required.", directory=False)
            new = {**obj, "allowedCombinations": combos, "modifiedDateTime": now_iso()}
            self._save(req, res, obj["id"], obj, new, f"Update {audit.label(res)}")
            refs = [
                p["id"]
                for p in self.store.all("conditionalAccessPolicies")
                if (((p.get("grantControls") or {}).get("authenticationStrength")) or {}).get("id")
                == obj["id"]
            ]
            return Response(
                200,
                {
                    "@odata.context": ctx_url(
                        req, "microsoft.graph.updateAllowedCombinationsResult"
                    ),
                    "additionalInformation": None,
                    "conditionalAccessReferences": refs,
                    "currentCombinations": combos,
                    "previousCombinations": obj.get("allowedCombinations", []),
                },
            )

    def _combination_save(self, req: Request, res: Resource, obj: Obj, items: list[Obj]) -> None:
        new = {**obj, combinations.FIELD: items, "modifiedDateTime": now_iso()}
        self._save(req, res, obj["id"], obj, new, f"Update {audit.label(res)}")

    def _combination_ctx(self, obj: Obj) -> str:
        return f"policies/authenticationStrengthPolicies('{obj['id']}')/{combinations.FIELD}"

    def _combination_list(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            res, obj = self._strength(req, m, req.method != "GET")
            current = list(obj.get(combinations.FIELD) or [])
            if req.method == "GET":
                return self._page(req, copy.deepcopy(current), self._combination_ctx(obj), directory=False)
            if obj.get("policyType") == "builtIn":
                raise bad_request("Built-in authentication strength policies cannot be modified.",
                                  directory=False)
            item = combinations.new_config(body_object(req, res), obj)
            self._combination_save(req, res, obj, [*current, item])
            body = {"@odata.context": ctx_url(req, self._combination_ctx(obj) + "/$entity"), **item}
            return Response(201, body)

    def _combination_item(self, req: Request, m: re.Match[str]) -> Response:
        cid = unquote(m.group("cid"))
        with self.store.lock:
            res, obj = self._strength(req, m, req.method != "GET")
            current = list(obj.get(combinations.FIELD) or [])
            item = next((c for c in current if c.get("id") == cid), None)
            if item is None:
                raise not_found(cid, directory=False)
            if req.method == "GET":
                body = {"@odata.context": ctx_url(req, self._combination_ctx(obj) + "/$entity"),
                        **copy.deepcopy(item)}
                return Response(200, body)
            if req.method == "PATCH":
                new = combinations.patch_config(item, body_object(req, res), obj)
                self._combination_save(req, res, obj, [new if c is item else c for c in current])
                return Response(204)
            self._combination_save(req, res, obj, [c for c in current if c is not item])
            return Response(204)

    def _strength_usage(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            _, obj = self._strength(req, m, False)
            users = [
                {"id": p["id"], "displayName": p.get("displayName")}
                for p in self.store.all("conditionalAccessPolicies")
                if (((p.get("grantControls") or {}).get("authenticationStrength")) or {}).get("id")
                == obj["id"]
            ]
        return Response(
            200,
            {
                "@odata.context": ctx_url(req, "microsoft.graph.authenticationStrengthUsage"),
                "mfa": users,
                "none": [],
            },
        )

    def _pim_policy(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["roleManagementPolicies"]
        if write and not req.caller.delegated and not req.caller.admin:
            raise denied()  # rule updates: "Application: Not supported" (unifiedrolemanagementpolicyrule-update)
        (require_write if write else require_read)(req.caller, res.perms)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"), directory=False)
        return res, obj

    def _pim_ctx(self, obj: Obj) -> str:
        return f"policies/roleManagementPolicies('{obj['id']}')/{pimpolicy.RULES}"

    def _pim_rules(self, req: Request, m: re.Match[str]) -> Response:
        with self.store.lock:
            _, obj = self._pim_policy(req, m, False)
            items = copy.deepcopy(obj.get(pimpolicy.RULES) or [])
        return self._page(req, items, self._pim_ctx(obj), directory=False)

    def _pim_rule(self, req: Request, m: re.Match[str]) -> Response:
        rid = unquote(m.group("rid"))
        with self.store.lock:
            res, obj = self._pim_policy(req, m, req.method != "GET")
            current = list(obj.get(pimpolicy.RULES) or [])
            rule = next((r for r in current if r.get("id") == rid), None)
            if rule is None:
                raise not_found(rid, directory=False)
            if req.method == "GET":
                return Response(200, {"@odata.context": ctx_url(req, self._pim_ctx(obj) + "/$entity"),
                                      **copy.deepcopy(rule)})
            new_rule = pimpolicy.patch_rule(rule, req.body)
            new = {**obj, pimpolicy.RULES: [new_rule if r is rule else r for r in current],
                   "lastModifiedDateTime": now_iso()}
            self._save(req, res, obj["id"], obj, new, f"Update {audit.label(res)}")
            return Response(204)

    def _reset_default(self, req: Request, m: re.Match[str]) -> Response:
        from entragit_sim.builtins import default_cross_tenant_default

        res = BY_NAME["crossTenantAccessPolicyDefault"]
        if req.method != "POST":
            raise method_not_allowed()
        require_write(req.caller, res.perms)
        with self.store.lock:
            old = self.store.get(res.name, res.fixed_id)
            new = default_cross_tenant_default()
            self._save(req, res, res.fixed_id, old, new, f"Reset {audit.label(res)}")
        return Response(204)


    # -- permission grant policies' condition sets, app management policy assignments (apppolicies.py)
    def _grant_policy(self, req: Request, m: re.Match[str], write: bool) -> tuple[Resource, Obj]:
        res = BY_NAME["permissionGrantPolicies"]
        (require_write if write else require_read)(req.caller, CONDITION_SET_PERMS)
        obj = self.store.get(res.name, unquote(m.group("key")))
        if obj is None:
            raise not_found(m.group("key"), directory=False)
        if write:
            apppolicies.refuse_builtin(obj, "modified")
        return res, obj

    def _condition_ctx(self, obj: Obj, side: str) -> str:
        return f"policies/permissionGrantPolicies('{obj['id']}')/{side}"

    def _condition_sets(self, req: Request, m: re.Match[str]) -> Response:
        side = m.group("side")
        with self.store.lock:
            res, obj = self._grant_policy(req, m, req.method != "GET")
            current = list(obj.get(side) or [])
            if req.method == "GET":
                return self._page(req, copy.deepcopy(current), self._condition_ctx(obj, side), directory=False)
            item = apppolicies.new_condition_set(body_object(req, res))
            self._save(req, res, obj["id"], obj, {**obj, side: [*current, item]}, f"Update {audit.label(res)}")
            body = {"@odata.context": ctx_url(req, self._condition_ctx(obj, side) + "/$entity"), **item}
            return Response(201, body)

    def _condition_set(self, req: Request, m: re.Match[str]) -> Response:
        side, cid = m.group("side"), unquote(m.group("cid"))
        with self.store.lock:
            res, obj = self._grant_policy(req, m, req.method != "GET")
            current = list(obj.get(side) or [])
            item = next((c for c in current if c.get("id") == cid), None)
            if item is None:
                raise not_found(cid, directory=False)
            if req.method == "GET":
                ctx = ctx_url(req, self._condition_ctx(obj, side) + "/$entity")
                return Response(200, {"@odata.context": ctx, **copy.deepcopy(item)})
            new = {**obj, side: [c for c in current if c is not item]}
            self._save(req, res, obj["id"], obj, new, f"Update {audit.label(res)}")
            return Response(204)

    def _applies_to(self, req: Request, m: re.Match[str]) -> Response:
        require_read(req.caller, APPLIES_TO_PERMS)
        with self.store.lock:
            pid, link = unquote(m.group("key")), m.group("policies")
            if self.store.get(link, pid) is None:
                raise not_found(pid, directory=False)
            items = [self._typed(req, k, o) for k, o in apppolicies.applies_to(self.store, pid, link)]
        ctx = f"policies/{link}('{pid}')/appliesTo"
        return self._page(req, items, ctx, directory=True)

    def _app_policy_ref(self, req: Request, m: re.Match[str]) -> Response:
        owner, key, link = m.group("owner"), unquote(m.group("key")), m.group("policies")
        require_write(req.caller, APP_POLICY_REF_PERMS if link == apppolicies.LINK else STS_POLICY_REF_PERMS)
        with self.store.lock:
            if self.store.get(owner, key) is None or self._lagging(key):
                raise not_found(key)
            assigned = apppolicies.assigned_policy(self.store, owner, key, link)
            if req.method == "DELETE":
                pid = unquote(m.group("pid"))
                if pid not in assigned:
                    raise not_found(pid)
                assigned.remove(pid)
                return Response(204)
            body = req.body if isinstance(req.body, dict) else {}
            if "@odata.id" not in body:
                raise bad_request("The request body must contain '@odata.id'.")
            pid = target_id(body["@odata.id"])
            if self.store.get(link, pid) is None:
                raise not_found(pid)
            if pid in assigned:
                raise bad_request("One or more added object references already exist for the following modified properties: "
                                  f"'{link}'.")
            if assigned and link == apppolicies.LINK:  # "Only one policy object can be assigned" (appmanagementpolicy-post-appliesto)
                raise bad_request("An app management policy is already assigned to this object.")
            assigned.append(pid)
        return Response(204)

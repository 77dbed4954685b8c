"""Every route under /admin declares its object rule (server.web.authz.require) or is a public sign-in route.

The rule is read from the route itself (its dependencies), so a new page or action that calls no
``require(..., on=...)`` fails here before it can ship; and a rule's resolver is one of the known
ones, each tested in the matrix (tests/security/matrix.py) with objects in and out of scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from server.api.app import create_app
from server.testing import init_test_event
from server.web import authz, include_web

RESOLVERS = {"LISTED", "EVENT_OBJECT", "stall_in_path", "product_in_path", "terminal_in_path", "code_in_form",
             "sale_in_form", "anomaly_in_path", "person_in_path"}


def admin_routes(tmp_path: Path) -> list[Any]:
    """Every served route under /admin (through included routers: their effective routes)."""
    settings, _ = init_test_event(tmp_path / "server")
    app = create_app(settings, web=False)
    include_web(app, secret=b"x" * 32)
    found = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in (list(contexts()) if contexts else [route]):
            if getattr(item, "dependant", None) is not None and item.path.startswith("/admin"):
                found.append(item)
    return found


def test_every_admin_route_declares_an_object_rule(tmp_path: Path) -> None:
    routes = admin_routes(tmp_path)
    assert len(routes) > 40  # the dashboard is mounted
    missing, unknown, public_with_rule = [], [], []
    for route in routes:
        for method in route.methods - {"HEAD"}:
            rule = authz.rule_of(route)
            if (method, route.path) in authz.PUBLIC_ROUTES:
                if rule is not None:
                    public_with_rule.append((method, route.path))
                continue
            if rule is None:
                missing.append((method, route.path))
            elif rule.on not in RESOLVERS:
                unknown.append((method, route.path, rule.on))
    assert missing == [], "routes under /admin without require(permission, on=...)"
    assert unknown == [], "a resolver the matrix does not know: add it to RESOLVERS and to the matrix"
    assert public_with_rule == []


def test_public_routes_exist(tmp_path: Path) -> None:
    served = {(m, r.path) for r in admin_routes(tmp_path) for m in r.methods - {"HEAD"}}
    assert authz.PUBLIC_ROUTES <= served


def test_a_route_without_a_rule_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a route depending only on the signed-in admin has no rule."""
    from fastapi import FastAPI

    from server.web.deps import AdminDep

    app = FastAPI()

    @app.get("/admin/forgotten")
    def forgotten(admin: AdminDep) -> Any:
        return None

    @app.get("/admin/declared")
    def declared(admin: Any = authz.require(authz.Permission.AUDIT_VIEW, on=authz.EVENT_OBJECT)) -> Any:
        return None

    rules = {r.path: authz.rule_of(r) for r in app.routes if isinstance(r, APIRoute)}
    assert rules["/admin/forgotten"] is None
    declared_rule = rules["/admin/declared"]
    assert declared_rule is not None and declared_rule.on == "EVENT_OBJECT"

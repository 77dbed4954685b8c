"""Staff (create, badges, PIN reset) and roles (permissions, assignments per stall or gate, grants and denials)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import Connection

from server.staff import StaffError, add_override, create_staff, grant_role, load_access
from server.web import actions, queries
from server.web.access import Admin
from server.web.authz import EVENT_OBJECT, ensure_within, permissions_within, person_in_path, require, within
from server.web.deps import PageDep, Refused, database, services
from server.web.forms import checkbox
from server.web.qr import qr_svg
from server.web.render import PageContext, page
from sync.ids import format_short_id
from sync.permissions import Permission, Scope, ScopeKind
from sync.timezone import parse_local_time
from sync.tokens import StaffBadge, encode_token

router = APIRouter()
STAFF, ROLES = Permission.STAFF_MANAGE, Permission.ROLES_MANAGE
BADGE_TTL_S = 4 * 86400


def parse_scope(text: str) -> Scope:
    """``event``, ``stall:3`` or ``gate:2``; raises StaffError."""
    if not text.strip():
        raise StaffError(
            "choose a scope: the whole event, a stall or a gate",
            ja="範囲を選んでください（イベント全体・模擬店・ゲート）")
    kind, _, ref = text.partition(":")
    try:
        scope_kind = ScopeKind(kind)
        return Scope() if scope_kind is ScopeKind.EVENT else Scope(scope_kind, int(ref))
    except ValueError as exc:
        raise StaffError(f"unknown scope {text!r}", ja="範囲は一覧から選んでください") from exc


def _expiry(ctx: PageContext, text: str) -> int | None:
    """A ``datetime-local`` value in the event's zone to Unix seconds; blank is None."""
    if not text.strip():
        return None
    try:
        return int(parse_local_time(text, ctx.tz).timestamp())  # a time a DST change skips or repeats is refused
    except ValueError as exc:
        raise StaffError("the expiry is not a date and time", ja="期限は日付と時刻で入力してください") from exc


def _scopes(conn: Connection) -> list[tuple[str, str]]:
    out = [("event", "")]
    out += [(f"stall:{sid}", name) for sid, name in queries.stall_names(conn).items()]
    out += [(f"gate:{g.id}", g.name) for g in queries.gates(conn)]
    return out


@router.get("/admin/staff")
def staff_page(request: Request, ctx: PageDep, admin: Admin = require(STAFF, on=EVENT_OBJECT)) -> Response:
    """Everyone with their roles; create a person."""
    with database(request).read() as conn:
        people = queries.staff_list(conn)
        assignments = queries.role_assignments(conn)
        roles = queries.roles(conn)
        scopes = _scopes(conn)
    by_person: dict[int, list[object]] = {}
    for a in assignments:
        by_person.setdefault(int(a.staff_id), []).append(a)
    return page(request, "staff.html", ctx, active="staff", people=people, by_person=by_person, roles=roles,
                scopes=dict(scopes), scope_items=scopes, can_roles=admin.can(ROLES))


@router.post("/admin/staff")
def staff_create(request: Request, ctx: PageDep, name: Annotated[str, Form(max_length=100)],
                 pin: Annotated[str, Form(max_length=12)], role: Annotated[str, Form(max_length=40)] = "",
                 scope: Annotated[str, Form(max_length=20)] = "", login: Annotated[str, Form(max_length=100)] = "",
                 password: Annotated[str, Form(max_length=200)] = "",
                 admin: Admin = require(STAFF, on=EVENT_OBJECT)) -> Response:
    """Create a person; a login and password make them a dashboard user; a role needs roles.manage.

    The role's scope is chosen explicitly, and the new person may not hold more than the actor.
    """
    if (role or login) and not admin.can(ROLES, Scope()):
        raise Refused(ROLES.value)

    def run(conn: Connection, now: int) -> dict[str, object]:
        if not name.strip():
            raise StaffError("a person needs a name", ja="名前を入力してください")
        if login and len(password) < 10:
            raise StaffError(
                "a dashboard password has at least 10 characters",
                ja="管理画面のパスワードは10文字以上にしてください")
        sid = create_staff(conn, name=name.strip(), pin=pin.strip(), now_ms=now,
                           login=login.strip().lower() or None, password=password or None)
        if role:
            if not scope.strip():
                raise StaffError(ctx.t("staff.scope_needed"))
            grant_role(conn, sid, role, scope=parse_scope(scope))
            ensure_within(conn, admin, sid)
        return {"staff_id": sid, "role": role, "scope": scope, "login": login.strip().lower()}

    return actions.perform(request, ctx, admin, "staff.create", run, back="/admin/staff", done="saved",
                           name=name.strip())


MAX_STAFF_CSV_BYTES = 1024 * 1024


@router.post("/admin/staff/import")
def staff_import(request: Request, ctx: PageDep, file: Annotated[UploadFile, File()],
                 admin: Admin = require(STAFF, on=EVENT_OBJECT)) -> Response:
    """Create everyone in a CSV (name, role, scope, pin): all, or no one with every bad line; returns ids and PINs."""
    from server.audit import audit
    from server.staff_import import StaffImportError, import_staff_csv, imported_csv
    from server.web.deps import clock_ms

    if not admin.can(ROLES, Scope()):  # the file may grant roles
        raise Refused(ROLES.value)

    def refused(message: str, errors: list[str] | None = None) -> Response:
        return page(request, "error.html", ctx, status_code=422, status=422, heading=ctx.t("error.invalid"),
                    message=message, errors=errors or [], back="/admin/staff")

    raw = file.file.read(MAX_STAFF_CSV_BYTES + 1)
    if len(raw) > MAX_STAFF_CSV_BYTES:
        return refused(ctx.t("staff.csv_too_big"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return refused(ctx.t("tickets.csv_not_utf8"))
    now = clock_ms(request)
    try:
        with database(request).write() as conn:
            made = import_staff_csv(conn, text, now_ms=now, lang=ctx.lang)
            for person in made:  # nobody imported above the importer's own authority (the whole file rolls back)
                ensure_within(conn, admin, person.staff_id)
            audit(conn, actor=admin.actor, action="staff.import", now_ms=now, count=len(made),
                  staff_ids=[m.staff_id for m in made], file=(file.filename or "")[:200])
    except StaffImportError as exc:
        return refused(ctx.t("staff.csv_refused"), exc.errors)
    return Response(imported_csv(made), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="ennichi-staff-pins.csv"', "Cache-Control": "no-store"})


@router.get("/admin/staff/badges")
def badges(request: Request, ctx: PageDep, ids: str = "", admin: Admin = require(STAFF, on=EVENT_OBJECT)) -> Response:
    """A printable sheet of staff badges (each a signed ES1: QR); ``ids`` comma-separated, empty for all.

    Only badges of people who hold nothing the actor does not: naming anyone else is refused.
    """
    svc = services(request)
    now_s = ctx.now_ms // 1000
    wanted = {int(i) for i in ids.split(",") if i.strip().isascii() and i.strip().isdigit()}
    with database(request).read() as conn:
        people = [p for p in queries.staff_list(conn) if p.active and (not wanted or int(p.id) in wanted)]
        access = load_access(conn, [int(p.id) for p in people])
        above = [p for p in people if not within(admin.grants, access[int(p.id)])]
        if above and wanted:
            raise Refused("person above the actor's authority")
        people = [p for p in people if p not in above]
        issuer = svc.issuer.active(conn)
        assignments = queries.role_assignments(conn, [int(p.id) for p in people])
    roles: dict[int, list[str]] = {}
    for a in assignments:
        roles.setdefault(int(a.staff_id), []).append(a.role)
    cards = [{"id": int(p.id), "name": p.name, "code": format_short_id(int(p.id)), "roles": roles.get(int(p.id), []),
              "qr": qr_svg(encode_token(StaffBadge(int(p.id), now_s, now_s + BADGE_TTL_S), issuer), scale=5)}
             for p in people]
    return page(request, "badges.html", ctx, active="staff", cards=cards,
                expires_ms=(now_s + BADGE_TTL_S) * 1000)


@router.get("/admin/staff/{staff_id}")
def person_page(request: Request, ctx: PageDep, staff_id: int,
                admin: Admin = require(STAFF, on=EVENT_OBJECT)) -> Response:
    """One person: roles per scope, grants and denials, PIN reset."""
    with database(request).read() as conn:
        person = queries.staff_member(conn, staff_id)
        if person is None:
            raise Refused("unknown staff")
        assignments = queries.role_assignments(conn, [staff_id])
        overrides = queries.overrides_of(conn, staff_id)
        roles = queries.roles(conn)
        scopes = _scopes(conn)
        access = load_access(conn, [staff_id]).get(staff_id)
    return page(request, "person.html", ctx, active="staff", p=person, assignments=assignments, overrides=overrides,
                roles=roles, scopes=dict(scopes), scope_items=scopes, permissions=[p.value for p in Permission],
                can_roles=admin.can(ROLES, Scope()), now_s=ctx.now_ms // 1000,
                above=access is not None and not within(admin.grants, access))


@router.post("/admin/staff/{staff_id}/pin")
def person_pin(request: Request, ctx: PageDep, staff_id: int, pin: Annotated[str, Form(max_length=12)],
               admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Reset a PIN (a forgotten one at the stall)."""
    return actions.perform(request, ctx, admin, "staff.pin_reset",
                           lambda conn, now: actions.reset_pin(conn, staff_id, pin=pin.strip()),
                           back=f"/admin/staff/{staff_id}", done="saved", staff_id=staff_id)


@router.post("/admin/staff/{staff_id}/active")
def person_active(request: Request, ctx: PageDep, staff_id: int, active: Annotated[str | None, Form()] = None,
                  admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Deactivate or reactivate a person."""
    flag = checkbox(active)
    return actions.perform(request, ctx, admin, "staff.active",
                           lambda conn, now: actions.set_staff_active(conn, staff_id, active=flag),
                           back=f"/admin/staff/{staff_id}", done="saved", staff_id=staff_id, active=flag)


def _roles_admin(admin: Admin) -> None:
    if not admin.can(ROLES, Scope()):
        raise Refused(ROLES.value)


@router.post("/admin/staff/{staff_id}/roles")
def person_grant_role(request: Request, ctx: PageDep, staff_id: int, role: Annotated[str, Form(max_length=40)],
                      scope: Annotated[str, Form(max_length=20)] = "",
                      admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Give a role for the event, one stall or one gate (chosen explicitly): never more than the actor holds."""
    _roles_admin(admin)

    def run(conn: Connection, now: int) -> None:
        if not scope.strip():
            raise StaffError(ctx.t("staff.scope_needed"))
        grant_role(conn, staff_id, role, scope=parse_scope(scope))
        ensure_within(conn, admin, staff_id)

    return actions.perform(request, ctx, admin, "staff.role_grant", run,
                           back=f"/admin/staff/{staff_id}", done="saved", staff_id=staff_id, role=role, scope=scope)


@router.post("/admin/staff/{staff_id}/roles/{assignment_id}/remove")
def person_remove_role(request: Request, ctx: PageDep, staff_id: int, assignment_id: int,
                       admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Take a role assignment away."""
    _roles_admin(admin)
    return actions.perform(request, ctx, admin, "staff.role_remove",
                           lambda conn, now: actions.remove_assignment(conn, staff_id, assignment_id),
                           back=f"/admin/staff/{staff_id}", done="saved", staff_id=staff_id,
                           assignment_id=assignment_id)


@router.post("/admin/staff/{staff_id}/overrides")
def person_override(request: Request, ctx: PageDep, staff_id: int, permission: Annotated[str, Form(max_length=40)],
                    allow: Annotated[str, Form(max_length=5)], scope: Annotated[str, Form(max_length=20)] = "",
                    expires: Annotated[str, Form(max_length=30)] = "",
                    admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Grant or deny one permission to this person, optionally until a time (only what the actor holds there)."""
    _roles_admin(admin)

    def run(conn: Connection, now: int) -> dict[str, object]:
        until = _expiry(ctx, expires)
        if not scope.strip():
            raise StaffError(ctx.t("staff.scope_needed"))
        where = parse_scope(scope)
        try:
            chosen = Permission(permission)
        except ValueError as exc:
            raise StaffError(f"unknown permission {permission!r}", ja="権限は一覧から選んでください") from exc
        if not permissions_within(admin, [chosen], where):
            raise Refused("grant above the actor's authority")
        add_override(conn, staff_id, chosen, allow=allow == "1", scope=where, expires_at=until)
        return {"expires_at": until}

    return actions.perform(request, ctx, admin, "staff.override", run, back=f"/admin/staff/{staff_id}", done="saved",
                           staff_id=staff_id, permission=permission, allow=allow == "1", scope=scope)


@router.post("/admin/staff/{staff_id}/overrides/{override_id}/remove")
def person_remove_override(request: Request, ctx: PageDep, staff_id: int, override_id: int,
                           admin: Admin = require(STAFF, on=person_in_path)) -> Response:
    """Withdraw a grant or denial (withdrawing a denial may not lift the person above the actor)."""
    _roles_admin(admin)

    def run(conn: Connection, now: int) -> None:
        actions.remove_override(conn, staff_id, override_id)
        ensure_within(conn, admin, staff_id)

    return actions.perform(request, ctx, admin, "staff.override_remove", run,
                           back=f"/admin/staff/{staff_id}", done="saved", staff_id=staff_id, override_id=override_id)


@router.get("/admin/roles")
def roles_page(request: Request, ctx: PageDep, admin: Admin = require(ROLES, on=EVENT_OBJECT)) -> Response:
    """Roles as sets of permissions."""
    with database(request).read() as conn:
        roles = queries.roles(conn)
    return page(request, "roles.html", ctx, active="roles", roles=roles, permissions=[p.value for p in Permission],
                editable=admin.can(ROLES, Scope()))


@router.post("/admin/roles")
def role_save(request: Request, ctx: PageDep, role: Annotated[str, Form(max_length=40)],
              permission: Annotated[list[str] | None, Form()] = None,
              admin: Admin = require(ROLES, on=EVENT_OBJECT)) -> Response:
    """Create a role or replace its permissions (every check box of the row).

    The actor must hold, for the event, every permission the role had and will have: nobody widens or
    trims a role (the admin role, say) above their own authority.
    """
    _roles_admin(admin)
    chosen = list(permission or [])

    def run(conn: Connection, now: int) -> None:
        before = dict(queries.roles(conn)).get(role.strip().lower(), [])
        try:
            wanted = [Permission(p) for p in chosen]
        except ValueError as exc:
            raise StaffError(f"unknown permission in {chosen!r}", ja="権限は一覧から選んでください") from exc
        if not permissions_within(admin, [*before, *wanted], Scope()):
            raise Refused("role above the actor's authority")
        actions.set_role_permissions(conn, role, chosen)

    return actions.perform(request, ctx, admin, "role.save", run,
                           back="/admin/roles", done="saved", role=role, permissions=sorted(chosen))

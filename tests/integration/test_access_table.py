"""Access control everywhere (issue 8 item 1): every route x every method x every role.

The table below has one entry per (rule, method) of app.url_map (HEAD and OPTIONS aside). Each
entry names the URL to call, built from real objects (provider A's approved and pending courses,
A's catalog submissions, B's, ...) and the expected answer for anonymous, provider A, provider B,
staff and admin:

- "ok": 2xx, a 3xx that does not send the caller to /login, or for a POST a 400/422 refusal of
  the empty body (the route ran its validation: the caller was allowed in);
- "login": a 302 to /login for pages, a 401 for /api/;
- "deny": 403 or 404, and nothing in the database changed.

A route added without an entry fails `test_every_route_has_an_entry`; so does an entry for a
route that no longer exists. Every call is made with a real session (through the login form)
and, on /api/, a real bearer token issued with catalog.services.accounts.issue_token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import g

from catalog.extensions import db

ROLES = ("anon", "provider_a", "provider_b", "staff", "admin")


def _expect(spec: str) -> dict[str, str]:
    words = spec.split()
    assert len(words) == len(ROLES), spec
    return dict(zip(ROLES, words, strict=True))


PUBLIC = "ok ok ok ok ok"
STAFF = "login deny deny ok ok"
ADMIN = "login deny deny deny ok"
PROVIDER = "login ok ok deny deny"  # a provider's own pages (no object of another provider)
A_ONLY = "login ok deny deny deny"  # provider A's objects, only A may touch them
A_AND_STAFF = "login ok deny ok ok"  # provider A's objects that staff may read too
ANY_USER = "login ok ok ok ok"


@dataclass
class World:
    ids: dict

    def __getitem__(self, key):
        return self.ids[key]


# (rule, method) -> (url template filled from World ids, expected per role)
TABLE: dict[tuple[str, str], tuple[str, str]] = {
    # public
    ("/", "GET"): ("/", PUBLIC),
    ("/courses", "GET"): ("/courses?q=firearms", PUBLIC),
    ("/courses.json", "GET"): ("/courses.json", PUBLIC),
    ("/courses.csv", "GET"): ("/courses.csv", PUBLIC),
    ("/courses.xlsx", "GET"): ("/courses.xlsx", PUBLIC),
    ("/courses.atom", "GET"): ("/courses.atom", PUBLIC),
    ("/courses/<int:course_id>", "GET"): ("/courses/{a_approved}", PUBLIC),
    ("/healthz", "GET"): ("/healthz", PUBLIC),
    ("/static/<path:filename>", "GET"): ("/static/app.css", PUBLIC),
    ("/login", "GET"): ("/login", PUBLIC),
    ("/login", "POST"): ("/login", PUBLIC),
    ("/logout", "POST"): ("/logout", PUBLIC),
    # provider pages
    ("/provider/", "GET"): ("/provider/", PROVIDER),
    ("/provider/catalogs/new", "GET"): ("/provider/catalogs/new", PROVIDER),
    ("/provider/catalogs/new", "POST"): ("/provider/catalogs/new", PROVIDER),
    ("/provider/catalogs/<int:catalog_id>", "GET"): ("/provider/catalogs/{a_catalog}", A_AND_STAFF),
    ("/provider/catalogs/<int:catalog_id>/columns", "GET"): (
        "/provider/catalogs/{a_catalog}/columns",
        A_ONLY,
    ),
    ("/provider/catalogs/<int:catalog_id>/columns", "POST"): (
        "/provider/catalogs/{a_catalog}/columns",
        A_ONLY,
    ),
    ("/provider/catalogs/<int:catalog_id>/rows", "POST"): (
        "/provider/catalogs/{a_catalog}/rows",
        A_ONLY,
    ),
    ("/provider/catalogs/<int:catalog_id>/rows/<int:row_id>/proposal", "POST"): (
        "/provider/catalogs/{a_catalog}/rows/{a_row}/proposal",
        A_ONLY,
    ),
    ("/provider/catalogs/<int:catalog_id>/confirm", "POST"): (
        "/provider/catalogs/{a_catalog_confirm}/confirm",
        A_ONLY,
    ),
    ("/provider/catalogs/<int:catalog_id>/discard", "POST"): (
        "/provider/catalogs/{a_catalog_discard}/discard",
        A_ONLY,
    ),
    ("/provider/courses/new", "GET"): ("/provider/courses/new", PROVIDER),
    ("/provider/courses/new", "POST"): ("/provider/courses/new", PROVIDER),
    ("/provider/courses/<int:course_id>/edit", "GET"): (
        "/provider/courses/{a_pending}/edit",
        A_ONLY,
    ),
    ("/provider/courses/<int:course_id>/edit", "POST"): (
        "/provider/courses/{a_pending}/edit",
        A_ONLY,
    ),
    ("/provider/suggest", "GET"): ("/provider/suggest?title=Firearms", PROVIDER),
    ("/provider/courses.csv", "GET"): ("/provider/courses.csv", PROVIDER),
    ("/provider/courses/<int:course_id>/withdraw", "POST"): (
        "/provider/courses/{a_pending}/withdraw",
        A_ONLY,
    ),
    ("/provider/courses/<int:course_id>/resubmit", "POST"): (
        "/provider/courses/{a_pending}/resubmit",
        A_ONLY,
    ),
    ("/provider/tokens", "GET"): ("/provider/tokens", PROVIDER),
    ("/provider/tokens", "POST"): ("/provider/tokens", PROVIDER),
    ("/provider/tokens/<int:token_id>/revoke", "POST"): (
        "/provider/tokens/{a_token}/revoke",
        A_ONLY,
    ),
    ("/provider/format", "GET"): ("/provider/format", PUBLIC),
    ("/provider/template.csv", "GET"): ("/provider/template.csv", PUBLIC),
    ("/provider/template.xlsx", "GET"): ("/provider/template.xlsx", PUBLIC),
    # staff review
    ("/review/", "GET"): ("/review/", STAFF),
    ("/review/<int:course_id>", "GET"): ("/review/{a_pending}", STAFF),
    ("/review/<int:course_id>", "POST"): ("/review/{a_pending}", STAFF),
    ("/review/bulk-approve", "POST"): ("/review/bulk-approve", STAFF),
    ("/review/<int:course_id>/revision", "POST"): ("/review/{a_approved}/revision", STAFF),
    ("/review/audit", "GET"): ("/review/audit", STAFF),
    ("/review/audit.csv", "GET"): ("/review/audit.csv", STAFF),
    ("/review/dashboard", "GET"): ("/review/dashboard", STAFF),
    # admin
    ("/admin/", "GET"): ("/admin/", ADMIN),
    ("/admin/categories/<int:category_id>", "GET"): ("/admin/categories/{category}", ADMIN),
    ("/admin/categories/<int:category_id>", "POST"): ("/admin/categories/{category}", ADMIN),
    ("/admin/categories/<int:category_id>/keywords", "POST"): (
        "/admin/categories/{category}/keywords",
        ADMIN,
    ),
    ("/admin/categories/new", "GET"): ("/admin/categories/new", ADMIN),
    ("/admin/categories/new", "POST"): ("/admin/categories/new", ADMIN),
    ("/admin/categories/<int:category_id>/delete", "POST"): (
        "/admin/categories/{category}/delete",
        ADMIN,
    ),
    ("/admin/keywords/<int:keyword_id>/delete", "POST"): (
        "/admin/keywords/{keyword}/delete",
        ADMIN,
    ),
    ("/admin/abbreviations", "GET"): ("/admin/abbreviations", ADMIN),
    ("/admin/abbreviations", "POST"): ("/admin/abbreviations", ADMIN),
    ("/admin/abbreviations/<int:abbreviation_id>/delete", "POST"): (
        "/admin/abbreviations/{abbreviation}/delete",
        ADMIN,
    ),
    ("/admin/requirements", "GET"): ("/admin/requirements", ADMIN),
    ("/admin/requirements/new", "GET"): ("/admin/requirements/new", ADMIN),
    ("/admin/requirements/new", "POST"): ("/admin/requirements/new", ADMIN),
    ("/admin/requirements/<int:set_id>", "GET"): ("/admin/requirements/{requirement_set}", ADMIN),
    ("/admin/requirements/<int:set_id>", "POST"): ("/admin/requirements/{requirement_set}", ADMIN),
    ("/admin/providers", "GET"): ("/admin/providers", ADMIN),
    ("/admin/providers/new", "GET"): ("/admin/providers/new", ADMIN),
    ("/admin/providers/new", "POST"): ("/admin/providers/new", ADMIN),
    ("/admin/providers/<int:provider_id>", "GET"): ("/admin/providers/{provider_c}", ADMIN),
    ("/admin/providers/<int:provider_id>", "POST"): ("/admin/providers/{provider_c}", ADMIN),
    ("/admin/users", "GET"): ("/admin/users", ADMIN),
    ("/admin/users", "POST"): ("/admin/users", ADMIN),
    ("/admin/users/<int:user_id>", "GET"): ("/admin/users/{victim}", ADMIN),
    ("/admin/users/<int:user_id>", "POST"): ("/admin/users/{victim}", ADMIN),
    ("/admin/users/<int:user_id>/password", "POST"): ("/admin/users/{victim}/password", ADMIN),
    ("/admin/users/<int:user_id>/tokens", "POST"): ("/admin/users/{victim}/tokens", ADMIN),
    ("/admin/tokens/<int:token_id>/revoke", "POST"): ("/admin/tokens/{victim_token}/revoke", ADMIN),
    # The API's description (public)
    ("/api/v1/openapi.json", "GET"): ("/api/v1/openapi.json", PUBLIC),
    ("/api/v1/docs", "GET"): ("/api/v1/docs", PUBLIC),
    # Reconciliation API 0.2 (public, cookie-less; an empty POST answers the manifest)
    ("/reconcile", "GET"): ("/reconcile", PUBLIC),
    ("/reconcile", "POST"): ("/reconcile", PUBLIC),
    ("/reconcile/preview", "GET"): ("/reconcile/preview?id={a_approved}", PUBLIC),
    ("/reconcile/view/<path:entity_id>", "GET"): ("/reconcile/view/{a_approved}", PUBLIC),
    ("/reconcile/suggest/entity", "GET"): ("/reconcile/suggest/entity?prefix=fire", PUBLIC),
    ("/reconcile/suggest/type", "GET"): ("/reconcile/suggest/type?prefix=c", PUBLIC),
    ("/reconcile/suggest/property", "GET"): ("/reconcile/suggest/property?prefix=h", PUBLIC),
    ("/reconcile/propose_properties", "GET"): ("/reconcile/propose_properties?type=course", PUBLIC),
    # API (bearer tokens)
    ("/api/v1/me", "GET"): ("/api/v1/me", ANY_USER),
    ("/api/v1/courses", "GET"): ("/api/v1/courses?status=pending", ANY_USER),
    ("/api/v1/courses/<int:course_id>/decision", "POST"): (
        "/api/v1/courses/{a_pending}/decision",
        STAFF,
    ),
    # Provider A's catalog: B's token is refused; staff and admin may act for a provider.
    ("/api/v1/catalogs", "POST"): ("/api/v1/catalogs?provider=provider-a", A_AND_STAFF),
    # Compliance planner: one officer without an account (a bad body is a 422 for everyone).
    ("/api/v1/plan", "POST"): ("/api/v1/plan", PUBLIC),
    ("/plan", "GET"): ("/plan", PUBLIC),
    ("/plan", "POST"): ("/plan", PUBLIC),
    ("/plan/roster", "POST"): ("/plan/roster", ANY_USER),  # a roster needs a sign-in
}


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_an_entry(app):
    routes = _routes(app)
    missing = sorted(routes - TABLE.keys())
    assert not missing, f"routes without an access-table entry: {missing}"
    stale = sorted(TABLE.keys() - routes)
    assert not stale, f"access-table entries for routes that do not exist: {stale}"
    # Every role-checked view declares its roles; the table must agree with the decorator.
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "allowed_roles", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            expected = _expect(TABLE[(rule.rule, method)][1])
            if allowed is not None:
                assert expected["anon"] == "login", (rule.rule, method)
                if "staff" not in allowed:
                    assert expected["staff"] == "deny", (rule.rule, method)
                if "admin" not in allowed:
                    assert expected["admin"] == "deny", (rule.rule, method)
                if "provider" not in allowed:
                    assert expected["provider_a"] == expected["provider_b"] == "deny"


# -- the world --------------------------------------------------------------------------------


@pytest.fixture
def world(app, taxonomy, users, make_user, make_provider, make_course, make_pending_course):
    from catalog.models import (
        Abbreviation,
        CatalogRow,
        CatalogSubmission,
        Category,
        Keyword,
        RequirementSet,
    )
    from catalog.services.accounts import issue_token
    from catalog.services.provider_courses import withdraw_course

    provider_a, provider_b = users["providers"]
    provider_c = make_provider("provider-c")
    a_approved = make_course("Firearms Qualification A", provider="provider-a", hours="2")
    b_approved = make_course("Legal Update B", provider="provider-b", hours="1")
    a_pending = make_pending_course(provider_a, "De-escalation Tactics A", hours="2")
    b_pending = make_pending_course(provider_b, "Implicit Bias B", hours="1")
    a_withdrawn = make_pending_course(provider_a, "Report Writing A", hours="1")
    withdraw_course(
        db.session, provider_a, a_withdrawn.id, users["provider_a"], a_withdrawn.version
    )

    def catalog(provider, name):
        sub = CatalogSubmission(
            provider_id=provider.id,
            filename=name,
            source="upload",
            file_format="csv",
            status="draft",
            column_map={"title": 0, "hours": 1},
            headers=["title", "hours"],
        )
        db.session.add(sub)
        db.session.flush()
        row = CatalogRow(
            catalog_id=sub.id,
            row_number=2,
            raw=["New course", "1"],
            data={"title": "New course", "hours": "1"},
            errors=[],
            suggestion={},
            notes=[],
            error_count=0,
        )
        db.session.add(row)
        db.session.flush()
        return sub, row

    a_catalog, a_row = catalog(provider_a, "a.csv")
    a_confirm, _ = catalog(provider_a, "a-confirm.csv")
    a_discard, _ = catalog(provider_a, "a-discard.csv")
    b_catalog, b_row = catalog(provider_b, "b.csv")
    category = db.session.scalar(sa.select(Category).where(Category.slug == "firearms"))
    keyword = Keyword(category_id=category.id, weight="weak", phrase="table test phrase")
    abbreviation = Abbreviation(
        jurisdiction_id=taxonomy.id, abbreviation="TTP", expansion="table test phrase"
    )
    db.session.add_all([keyword, abbreviation])
    victim = make_user("victim@test.example", "provider", provider_c)
    victim_token, _ = issue_token(db.session, victim, "victim")
    a_token, _ = issue_token(db.session, users["provider_a"], "a-extra")
    tokens = {
        role: issue_token(db.session, users[role], role)[1]
        for role in ("provider_a", "provider_b", "staff", "admin")
    }
    db.session.commit()
    requirement_set = db.session.scalar(sa.select(RequirementSet.id).limit(1))
    return World(
        {
            "a_approved": a_approved.id,
            "b_approved": b_approved.id,
            "a_pending": a_pending.id,
            "a_pending_version": a_pending.version,
            "b_pending": b_pending.id,
            "a_withdrawn": a_withdrawn.id,
            "a_catalog": a_catalog.id,
            "a_row": a_row.id,
            "a_catalog_confirm": a_confirm.id,
            "a_catalog_discard": a_discard.id,
            "b_catalog": b_catalog.id,
            "b_row": b_row.id,
            "category": category.id,
            "keyword": keyword.id,
            "abbreviation": abbreviation.id,
            "requirement_set": requirement_set,
            "provider_c": provider_c.id,
            "victim": victim.id,
            "victim_token": victim_token.id,
            "a_token": a_token.id,
            "tokens": tokens,
            "users": users,
        }
    )


def fingerprint() -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in ("login_failures",):
                continue
            order = [c for c in table.primary_key.columns] or list(table.columns)
            for row in conn.execute(sa.select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


class Callers:
    """One signed-in test client per role; API calls carry that role's bearer token."""

    def __init__(self, app, world, password):
        self.app, self.world, self.password = app, world, password
        self.clients = {}
        for role in ROLES:
            self.clients[role] = app.test_client()
            self.sign_in(role)

    def sign_in(self, role):
        if role == "anon":
            return
        user = self.world["users"][role]
        answer = self.clients[role].post(
            "/login", data={"email": user.email, "password": self.password}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]

    def call(self, role, method, url, data=None):
        headers = {}
        if url.startswith("/api/") and role != "anon":
            headers["Authorization"] = f"Bearer {self.world['tokens'][role]}"
        kwargs = {"headers": headers}
        if method == "POST" and url.startswith("/api/"):
            kwargs["json"] = {}
        elif method == "POST":
            kwargs["data"] = data or {}
        # The `app` fixture keeps an app context open, which each test request reuses: forget
        # the previous request's user, as a fresh request in production does.
        for name in ("_login_user", "api_user"):
            g.pop(name, None)
        answer = self.clients[role].open(url, method=method, **kwargs)
        answer.get_data()  # drain streamed exports so their request context closes in order
        answer.close()
        if url == "/logout" and role != "anon":
            self.sign_in(role)
        return answer


def outcome(answer, url: str, method: str) -> str:
    status = answer.status_code
    location = answer.headers.get("Location", "")
    if url.startswith("/api/") and status == 401:
        return "login"
    if status in (301, 302, 303) and "/login" in location:
        return "login"
    if status in (403, 404):
        return "deny"
    if 200 <= status < 300 or status in (301, 302, 303, 307, 308):
        return "ok"
    if method == "POST" and status in (400, 422):
        return "ok"
    return f"unexpected {status}"


# Run the destructive entries last, and deny-expected roles before allowed ones for each entry.
def _order(key):
    destructive = any(
        word in key[0] for word in ("delete", "revoke", "discard", "confirm", "logout", "password")
    )
    return (destructive, key)


def test_access_table(app, world, password, capsys):
    from catalog.models import Course

    callers = Callers(app, world, password)
    ran: set[tuple[str, str, str]] = set()
    failures = []
    for key in sorted(TABLE, key=_order):
        template, spec = TABLE[key]
        url = template.format(**world.ids)
        expected = _expect(spec)
        method = key[1]
        order = sorted(ROLES, key=lambda r: expected[r] == "ok")
        for role in order:
            before = fingerprint() if expected[role] != "ok" else None
            answer = callers.call(role, method, url)
            got = outcome(answer, url, method)
            ran.add((*key, role))
            if answer.status_code >= 500 or got != expected[role]:
                failures.append(
                    f"{method} {url} as {role}: expected {expected[role]}, got "
                    f"{answer.status_code} {answer.headers.get('Location', '')}"
                )
                continue
            if before is not None:
                db.session.expire_all()
                if fingerprint() != before:
                    failures.append(f"{method} {url} as {role}: refused but changed the database")
            if got == "login" and url.startswith("/api/"):
                body = answer.get_json()
                assert body and set(body) >= {"error", "details"}, (url, body)
    with capsys.disabled():
        print(f"\naccess table: {len(TABLE)} routes x {len(ROLES)} roles = {len(ran)} calls")
    assert not failures, "\n".join(failures)
    # Every (route, method, role) of the table was called: none left out on the way.
    assert ran == {(*key, role) for key in TABLE for role in ROLES}
    # Provider B's objects stayed B's and unpublished pending courses stayed pending.
    assert db.session.get(Course, world["b_pending"]).status == "pending"


CROSS_PROVIDER = [
    # (method, url template, form body): provider B on provider A's objects, plausible bodies
    ("GET", "/provider/catalogs/{a_catalog}", None),
    ("POST", "/provider/catalogs/{a_catalog}/confirm", {}),
    ("POST", "/provider/catalogs/{a_catalog}/discard", {}),
    ("POST", "/provider/catalogs/{a_catalog}/rows", {"row_ids": "{a_row}", "action": "drop"}),
    (
        "POST",
        "/provider/catalogs/{a_catalog}/rows/{a_row}/proposal",
        {"area_hours": "legal-studies:1", "topics": ""},
    ),
    ("GET", "/provider/catalogs/{a_catalog}/columns", None),
    ("POST", "/provider/catalogs/{a_catalog}/columns", {"title": "0", "hours": "1"}),
    ("GET", "/provider/courses/{a_pending}/edit", None),
    (
        "POST",
        "/provider/courses/{a_pending}/edit",
        {"title": "Taken over", "hours": "2", "delivery": "online"},
    ),
    (
        "POST",
        "/provider/courses/{a_approved}/edit",
        {"title": "Taken over", "hours": "2", "delivery": "online"},
    ),
    ("POST", "/provider/courses/{a_pending}/withdraw", {"version": "{a_pending_version}"}),
    ("POST", "/provider/courses/{a_withdrawn}/resubmit", {}),
    ("POST", "/provider/tokens/{a_token}/revoke", {}),
    ("GET", "/courses/{b_pending}", None),  # unpublished: nobody sees it on the public site
]

# B's token on A's objects through the API: (url template, JSON body).
CROSS_PROVIDER_API = [
    ("/api/v1/courses/{a_pending}/decision", {"action": "approve", "version": 1}),
    ("/api/v1/catalogs?provider=provider-a", [{"title": "Injected", "hours": 1}]),
]


def _cross_provider_rules() -> set[tuple[str, str]]:
    """Every (rule, method) of the table on provider A's objects that another provider is refused:
    each must have a cross-provider case below."""
    return {key for key, (_url, spec) in TABLE.items() if spec in (A_ONLY, A_AND_STAFF)}


def test_provider_b_cannot_read_or_change_provider_a_objects(app, world, password):
    """Cross-provider reads and writes with plausible bodies: 403/404 and nothing changed.

    Every case runs (an URL that matches no route fails the test), and together they cover every
    route of the table that only provider A (and staff) may use."""
    callers = Callers(app, world, password)
    adapter = app.url_map.bind("localhost")
    ran: set[tuple[str, str]] = set()
    cases = 0
    for method, template, body in CROSS_PROVIDER:
        url = template.format(**world.ids)
        rule, _args = adapter.match(url.split("?")[0], method=method, return_rule=True)
        data = {k: v.format(**world.ids) for k, v in body.items()} if body else None
        before = fingerprint()
        answer = callers.call("provider_b", method, url, data)
        assert answer.status_code in (403, 404), (method, url, answer.status_code)
        db.session.expire_all()
        assert fingerprint() == before, (method, url)
        ran.add((rule.rule, method))
        cases += 1
    # The API: B's token on A's pending course and on A's catalog.
    token = world["tokens"]["provider_b"]
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for template, body in CROSS_PROVIDER_API:
        url = template.format(**world.ids)
        rule, _args = adapter.match(url.split("?")[0], method="POST", return_rule=True)
        before = fingerprint()
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code in (403, 404), (url, answer.status_code)
        assert set(answer.get_json()) >= {"error", "details"}
        db.session.expire_all()
        assert fingerprint() == before, url
        ran.add((rule.rule, "POST"))
        cases += 1
    assert cases == len(CROSS_PROVIDER) + len(CROSS_PROVIDER_API)
    missing = sorted(_cross_provider_rules() - ran)
    assert not missing, f"routes on provider A's objects with no cross-provider case: {missing}"
    # B's listing shows none of A's courses.
    listed = client.get("/api/v1/courses?status=pending", headers=headers).get_json()["courses"]
    assert [c["id"] for c in listed] == [world["b_pending"]]
    # A browser session does not authenticate the API (it is CSRF-exempt).
    staff_session = callers.clients["staff"]
    assert staff_session.get("/api/v1/courses").status_code == 401
    assert (
        staff_session.post(
            f"/api/v1/courses/{world['a_pending']}/decision",
            json={"action": "approve", "version": 1},
        ).status_code
        == 401
    )

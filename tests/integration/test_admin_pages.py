"""Admin: phrase preview then save (re-suggesting pending courses), abbreviations, requirement
sets, providers, users and tokens; every change audited; admins only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import (
    Abbreviation,
    ApiToken,
    AuditEntry,
    Category,
    Course,
    Keyword,
    Provider,
    RequirementSet,
    User,
)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_exclusion_preview_then_save_resuggests(client, login, users, make_pending_course):
    course = make_pending_course(users["providers"][0], "Crash Investigation Basics", hours="2")
    assert course.suggestion["areas"][0]["slug"] == "technical-studies"
    technical = db.session.scalar(select(Category).where(Category.slug == "technical-studies"))
    login(users["admin"])
    url = f"/admin/categories/{technical.id}/keywords"
    preview = client.post(url, data={"weight": "exclusion", "phrase": "crash investigation"})
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert re.search(r'class="preview-count">1<', html)
    assert "Crash Investigation Basics" in html
    excluded = select(Keyword).where(
        Keyword.phrase == "crash investigation", Keyword.weight == "exclusion"
    )
    assert db.session.scalar(excluded) is None
    assert _actions() == []
    saved = client.post(
        url, data={"weight": "exclusion", "phrase": "crash investigation", "step": "save"}
    )
    assert saved.status_code == 302
    keyword = db.session.scalar(excluded)
    assert keyword.category_id == technical.id
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.suggestion["areas"][0]["score"] < 50  # the exclusion blocks the phrase
    assert course.suggestion_confident is False
    assert _actions() == ["add-keyword"]
    # Removing it again goes through the same preview.
    page = client.post(f"/admin/keywords/{keyword.id}/delete", data={"step": "preview"})
    assert "Remove exclusion phrase" in page.get_data(as_text=True)
    client.post(f"/admin/keywords/{keyword.id}/delete", data={"step": "save"})
    assert db.session.get(Keyword, keyword.id) is None
    assert _actions() == ["add-keyword", "remove-keyword"]
    duplicate = client.post(url, data={"weight": "strong", "phrase": "x"})  # too short
    assert duplicate.status_code == 302


def test_abbreviation_and_category_edit(client, login, users, taxonomy):
    login(users["admin"])
    response = client.post(
        "/admin/abbreviations", data={"abbreviation": "ZZT", "expansion": "zig zag training"}
    )
    assert "Preview" in response.get_data(as_text=True)
    client.post(
        "/admin/abbreviations",
        data={"abbreviation": "ZZT", "expansion": "zig zag training", "step": "save"},
    )
    row = db.session.scalar(select(Abbreviation).where(Abbreviation.abbreviation == "ZZT"))
    assert row.expansion == "zig zag training"
    again = client.post(
        "/admin/abbreviations",
        data={"abbreviation": "ZZT", "expansion": "other", "step": "save"},
        follow_redirects=True,
    )
    assert "already an abbreviation" in again.get_data(as_text=True)
    legal = db.session.scalar(select(Category).where(Category.slug == "legal-studies"))
    client.post(f"/admin/categories/{legal.id}", data={"name": "Legal", "description": "Law"})
    db.session.expire_all()
    assert db.session.get(Category, legal.id).name == "Legal"
    assert _actions() == ["add-abbreviation", "category-edit"]


def test_requirement_set_create_and_edit(client, login, users, taxonomy):
    login(users["admin"])
    data = {
        "name": "CLEE 2027",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "total_hours": "24",
        "approved_provider_min_hours": "8",
        "min-legal-studies": "2",
        "min-firearms": "2",
    }
    assert client.post("/admin/requirements/new", data=data).status_code == 302
    req_set = db.session.scalar(select(RequirementSet).where(RequirementSet.name == "CLEE 2027"))
    assert {r.category.slug: r.min_hours for r in req_set.requirements} == {
        "legal-studies": 2,
        "firearms": 2,
    }
    edit = {**data, "min-legal-studies": "3", "min-firearms": ""}
    assert client.post(f"/admin/requirements/{req_set.id}", data=edit).status_code == 302
    db.session.expire_all()
    req_set = db.session.get(RequirementSet, req_set.id)
    assert {r.category.slug: r.min_hours for r in req_set.requirements} == {"legal-studies": 3}
    bad = client.post("/admin/requirements/new", data={**data, "min-legal-studies": "lots"})
    assert "must be a number" in bad.get_data(as_text=True)
    bad = client.post("/admin/requirements/new", data={**data, "ends_on": "2026-01-01"})
    assert "must end after it starts" in bad.get_data(as_text=True)
    assert _actions() == ["requirements-create", "requirements-edit"]


def test_providers_users_tokens(client, login, users, password):
    login(users["admin"])
    response = client.post(
        "/admin/providers/new", data={"slug": "new-vendor", "name": "New Vendor", "kind": "vendor"}
    )
    assert response.status_code == 302
    vendor = db.session.scalar(select(Provider).where(Provider.slug == "new-vendor"))
    clash = client.post(
        f"/admin/providers/{vendor.id}", data={"slug": "provider-a", "name": "X", "kind": "vendor"}
    )
    assert "already used" in clash.get_data(as_text=True)
    weak = client.post(
        "/admin/users",
        data={
            "email": "v@test.example",
            "role": "provider",
            "provider_id": vendor.id,
            "password": "short",
        },
        follow_redirects=True,
    )
    assert "at least 10 characters" in weak.get_data(as_text=True)
    unbound = client.post(
        "/admin/users",
        data={
            "email": "v@test.example",
            "role": "provider",
            "provider_id": 0,
            "password": password,
        },
        follow_redirects=True,
    )
    assert "must belong to a provider" in unbound.get_data(as_text=True)
    created = client.post(
        "/admin/users",
        data={
            "email": "V@test.example",
            "role": "provider",
            "provider_id": vendor.id,
            "password": password,
        },
    )
    assert created.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "v@test.example"))
    assert user.provider_id == vendor.id
    made = client.post(f"/admin/users/{user.id}/tokens", data={"name": "upload"})
    assert made.status_code == 302  # post/redirect/get
    token_page = client.get(made.location)
    assert token_page.headers["Cache-Control"] == "no-store"
    plain = re.search(r'class="token">(pc_[^<]+)<', token_page.get_data(as_text=True)).group(1)
    api = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert plain not in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    client.post(f"/admin/tokens/{token.id}/revoke")
    api = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 401
    client.post(f"/admin/users/{user.id}/password", data={"password": "Another-Strong-77"})
    client.post(f"/admin/users/{user.id}", data={"role": "provider", "provider_id": vendor.id})
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False  # unchecked box deactivates
    own = client.post(
        f"/admin/users/{users['admin'].id}", data={"role": "staff", "provider_id": 0, "active": "y"}
    )
    assert "cannot remove your own admin role" in own.get_data(as_text=True)
    assert _actions() == [
        "provider-create",
        "user-create",
        "token-create",
        "token-revoke",
        "user-password-reset",
        "user-edit",
    ]


ADMIN_URLS = [
    ("get", "/admin/"),
    ("get", "/admin/categories/1"),
    ("post", "/admin/categories/1/keywords"),
    ("post", "/admin/keywords/1/delete"),
    ("get", "/admin/abbreviations"),
    ("post", "/admin/abbreviations"),
    ("get", "/admin/requirements"),
    ("get", "/admin/requirements/new"),
    ("get", "/admin/providers"),
    ("get", "/admin/providers/new"),
    ("get", "/admin/users"),
    ("post", "/admin/users"),
    ("get", "/admin/users/1"),
    ("post", "/admin/users/1/password"),
    ("post", "/admin/users/1/tokens"),
    ("post", "/admin/tokens/1/revoke"),
]


@pytest.mark.parametrize("method,url", ADMIN_URLS)
def test_only_admins_reach_admin(client, login, users, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(users["staff"])
    assert getattr(client, method)(url).status_code == 403
    client.post("/logout")
    login(users["provider_a"])
    assert getattr(client, method)(url).status_code == 403

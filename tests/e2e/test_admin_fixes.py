"""Issue 15 item 7 in a real browser: after "Create a token" the user form shows the real Active
state, reloading makes no second token; a phrase in another case is refused; an abbreviation in
another case warns; a requirement set whose minimum exceeds its total is refused."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Abbreviation, ApiToken, Category, Keyword, RequirementSet, User


def _sign_in(page, live_server, email, password):
    page.goto(live_server + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click("main form button[type='submit']")
    page.wait_for_load_state()


def test_admin_token_phrases_abbreviations_requirements(
    page, live_server, screenshot, users, taxonomy, password
):
    category = db.session.scalar(select(Category).where(Category.slug == "de-escalation"))
    db.session.add(Keyword(category_id=category.id, weight="strong", phrase="zebra crossing drill"))
    db.session.add(
        Abbreviation(jurisdiction_id=taxonomy.id, abbreviation="ZQX", expansion="zulu quebec")
    )
    db.session.commit()
    ids = {"victim": users["provider_a"].id, "category": category.id}
    admin = users["admin"].email
    sets = db.session.scalar(select(func.count(RequirementSet.id)))
    db.session.remove()
    _sign_in(page, live_server, admin, password)

    page.goto(live_server + f"/admin/users/{ids['victim']}")
    page.get_by_role("button", name="Create a token").click()
    expect(page.locator("code.token")).to_be_visible()
    expect(page.locator("input[name=active]")).to_be_checked()  # the real state, not the POST's
    screenshot("admin-token-created-active-checked")
    page.reload()
    expect(page.locator("code.token")).to_have_count(0)
    expect(page.locator("table.tokens tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".flash-success")).to_contain_text("Saved")
    assert db.session.get(User, ids["victim"]).active is True
    assert db.session.scalar(select(func.count(ApiToken.id))) == 1
    db.session.remove()

    page.goto(live_server + f"/admin/categories/{ids['category']}")
    form = page.locator("form[action$='/keywords']")
    form.locator("select[name=weight]").select_option("strong")
    form.locator("input[name=phrase]").fill("Zebra Crossing DRILL")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-error")).to_contain_text("already a strong phrase")
    screenshot("admin-phrase-other-case-refused")

    page.goto(live_server + "/admin/abbreviations")
    page.fill("input[name=abbreviation]", "zqx")
    page.fill("input[name=expansion]", "something else")
    page.get_by_role("button", name="Preview the change…").click()
    expect(page.locator(".preview-warning")).to_contain_text("ZQX already exists")
    screenshot("admin-abbreviation-case-warning")

    page.goto(live_server + "/admin/requirements/new")
    page.fill("input[name=name]", "CLEE 2031")
    page.fill("input[name=starts_on]", "2031-01-01")
    page.fill("input[name=ends_on]", "2031-12-31")
    page.fill("input[name=total_hours]", "24")
    page.fill("#min-legal-studies", "30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-error")).to_contain_text(
        "Legal Studies: a minimum of 30 h is more than the set's total of 24 h."
    )
    expect(page.locator("#min-legal-studies")).to_have_value("30")  # what was typed is kept
    screenshot("admin-requirement-minimum-over-total")
    assert db.session.scalar(select(func.count(RequirementSet.id))) == sets

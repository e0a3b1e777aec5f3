"""Admin pages (issue 15 item 7) on both databases: creating a token is post/redirect/get and
the user form shows the saved state; phrases differing only in case are refused; an
abbreviation that exists in another case warns; requirement minimums must fit in the total."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Abbreviation, ApiToken, Category, Keyword, RequirementSet, User


def test_token_then_save_keeps_the_user_active(client, login, users):
    login(users["admin"])
    victim = users["provider_a"]
    made = client.post(f"/admin/users/{victim.id}/tokens", data={"name": "feed"})
    assert made.status_code == 302 and made.location.endswith(f"/admin/users/{victim.id}")
    page = client.get(made.location).get_data(as_text=True)
    assert re.search(r'class="token">pc_', page)
    assert re.search(
        r'<input[^>]*checked[^>]*name="active"|<input[^>]*name="active"[^>]*checked', page
    )
    again = client.get(made.location).get_data(as_text=True)  # reload: no token shown, none made
    assert 'class="token"' not in again
    assert db.session.scalar(select(func.count(ApiToken.id))) == 1
    # saving the form as shown (Active ticked) keeps the user active
    client.post(
        f"/admin/users/{victim.id}",
        data={"role": "provider", "provider_id": victim.provider_id, "active": "y"},
    )
    db.session.expire_all()
    assert db.session.get(User, victim.id).active is True


def _category(slug="de-escalation") -> Category:
    return db.session.scalar(select(Category).where(Category.slug == slug))


def test_phrase_in_another_case_is_refused(client, login, users, taxonomy):
    login(users["admin"])
    category = _category()
    db.session.add(Keyword(category_id=category.id, weight="strong", phrase="zebra crossing drill"))
    db.session.commit()
    before = db.session.scalar(select(func.count(Keyword.id)))
    for step in ("preview", "save"):
        answer = client.post(
            f"/admin/categories/{category.id}/keywords",
            data={"weight": "strong", "phrase": "Zebra  Crossing DRILL", "step": step},
            follow_redirects=True,
        )
        assert "already a strong phrase" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Keyword.id))) == before


def test_abbreviation_in_another_case_warns(client, login, users, taxonomy):
    login(users["admin"])
    db.session.add(
        Abbreviation(jurisdiction_id=taxonomy.id, abbreviation="ZQX", expansion="zulu quebec")
    )
    db.session.commit()
    page = client.post(
        "/admin/abbreviations",
        data={"abbreviation": "zqx", "expansion": "something else", "step": "preview"},
    ).get_data(as_text=True)
    assert "ZQX already exists" in page and "differs from zqx only in case" in page
    plain = client.post(
        "/admin/abbreviations",
        data={"abbreviation": "QQZ", "expansion": "new one", "step": "preview"},
    ).get_data(as_text=True)
    assert "already exists" not in plain


def _set_form(**minimums) -> dict:
    data = {
        "name": "CLEE 2031",
        "starts_on": "2031-01-01",
        "ends_on": "2031-12-31",
        "total_hours": "24",
    }
    data.update({f"min-{slug}": value for slug, value in minimums.items()})
    return data


def test_requirement_minimums_must_fit_in_the_total(client, login, users, taxonomy):
    login(users["admin"])
    sets = db.session.scalar(select(func.count(RequirementSet.id)))
    too_big = client.post(
        "/admin/requirements/new",
        data=_set_form(**{"legal-studies": "30"}),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "a minimum of 30 h is more than the set&#39;s total of 24 h" in too_big
    summed = client.post(
        "/admin/requirements/new",
        data=_set_form(
            **{
                "legal-studies": "10",
                "technical-studies": "10",
                "interpersonal-perspectives": "10",
            }
        ),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "core-area minimums add up to 30 h" in summed
    assert db.session.scalar(select(func.count(RequirementSet.id))) == sets
    fine = client.post(
        "/admin/requirements/new", data=_set_form(**{"legal-studies": "2", "de-escalation": "1"})
    )
    assert fine.status_code == 302
    assert db.session.scalar(select(func.count(RequirementSet.id))) == sets + 1

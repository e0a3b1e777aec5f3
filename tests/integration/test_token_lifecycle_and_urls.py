"""Issue 14 class 7: API tokens expire, record their last use (at most once an hour), and can be
revoked by admins and by their owner; only http(s) addresses are stored or reach the JSON-LD;
on both databases."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select, update

from catalog.extensions import db
from catalog.models import ApiToken, Provider
from catalog.models.types import utcnow
from catalog.services import accounts, provider_tokens
from catalog.services.errors import NotFound


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def write(statement) -> None:
    """A direct change from the test, in a fresh transaction (not on a stale SQLite snapshot)."""
    db.session.rollback()
    db.session.execute(statement)
    db.session.commit()


def token_row(prefix_of: str) -> ApiToken:
    db.session.rollback()  # a fresh snapshot: see what the requests committed
    return db.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix_of[:10]))


def test_tokens_expire(app, client, users):
    row, plain = accounts.issue_token(db.session, users["staff"], "t")
    db.session.commit()
    assert row.expires_at is not None
    assert dt.timedelta(days=364) < row.expires_at - utcnow() < dt.timedelta(days=366)
    assert client.get("/api/v1/courses", headers=bearer(plain)).status_code == 200
    write(update(ApiToken).where(ApiToken.id == row.id).values(expires_at=utcnow()))
    response = client.get("/api/v1/courses", headers=bearer(plain))
    assert response.status_code == 401 and "expired" in response.get_json()["error"]


def test_cli_tokens_take_the_configured_lifetime(app_factory, users):
    other = app_factory(API_TOKEN_DAYS=30)
    result = other.test_cli_runner().invoke(args=["create-token", users["staff"].email])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    row = token_row(plain)
    assert dt.timedelta(days=29) < row.expires_at - utcnow() < dt.timedelta(days=31)


def test_last_use_is_written_at_most_once_an_hour(client, users):
    _, plain = accounts.issue_token(db.session, users["staff"], "t")
    db.session.commit()
    assert token_row(plain).last_used_at is None
    client.get("/api/v1/courses", headers=bearer(plain))
    first = token_row(plain).last_used_at
    assert first is not None and utcnow() - first < dt.timedelta(minutes=5)
    half_hour_ago = utcnow() - dt.timedelta(minutes=30)
    write(update(ApiToken).values(last_used_at=half_hour_ago))
    client.get("/api/v1/courses", headers=bearer(plain))
    assert token_row(plain).last_used_at == half_hour_ago  # no write within the hour
    write(update(ApiToken).values(last_used_at=utcnow() - dt.timedelta(hours=2)))
    client.get("/api/v1/courses", headers=bearer(plain))
    assert utcnow() - token_row(plain).last_used_at < dt.timedelta(minutes=5)


def test_a_writing_call_records_its_use_too(client, taxonomy, users):
    _, plain = accounts.issue_token(db.session, users["provider_a"], "t")
    db.session.commit()
    response = client.post(
        "/api/v1/catalogs",
        json=[{"title": "Legal Update", "hours": 1}],
        headers=bearer(plain),
    )
    assert response.status_code == 201, response.get_json()
    assert token_row(plain).last_used_at is not None


def test_owners_revoke_their_own_and_admins_any(client, users):
    own, own_plain = accounts.issue_token(db.session, users["provider_a"], "mine")
    other, other_plain = accounts.issue_token(db.session, users["provider_b"], "theirs")
    db.session.commit()
    with pytest.raises(NotFound):
        provider_tokens.revoke_token(db.session, users["provider_a"], other.id)
    with pytest.raises(NotFound):
        accounts.revoke_token(db.session, users["provider_a"], other.id)
    accounts.revoke_token(db.session, users["provider_a"], own.id)
    accounts.revoke_token(db.session, users["admin"], other.id)
    db.session.commit()
    for plain in (own_plain, other_plain):
        assert client.get("/api/v1/courses", headers=bearer(plain)).status_code == 401


def test_the_owner_revokes_through_the_page(client, users, login):
    row, plain = accounts.issue_token(db.session, users["provider_a"], "mine")
    db.session.commit()
    login(users["provider_a"])
    response = client.post(f"/provider/tokens/{row.id}/revoke")
    assert response.status_code in (302, 303)
    assert token_row(plain).revoked_at is not None


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example", "ftp://x"],
)
def test_admin_cannot_store_a_non_web_provider_address(client, users, login, url):
    login(users["admin"])
    client.post(
        "/admin/providers/new",
        data={"slug": "js-academy", "name": "JS Academy", "kind": "vendor", "url": url},
    )
    stored = db.session.scalar(select(Provider.url).where(Provider.slug == "js-academy"))
    assert stored in (None, "")


def test_a_stored_javascript_address_never_reaches_the_json_ld(client, make_course):
    course = make_course("Firearms Qualification", provider="old-academy")
    write(update(Provider).where(Provider.slug == "old-academy").values(url="javascript:alert(1)"))
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    assert "url" not in data["provider"]
    assert "javascript" not in block.lower()

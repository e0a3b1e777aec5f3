"""The contract CLI commands: success and every failure path, with non-zero exits."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import ApiToken, Provider, User
from catalog.services.accounts import hash_token


def test_create_provider(runner):
    result = runner.invoke(
        args=["create-provider", "mid-mo", "--name", "Mid-MO Academy", "--kind", "academy"]
    )
    assert result.exit_code == 0, result.output
    provider = db.session.scalar(select(Provider).where(Provider.slug == "mid-mo"))
    assert provider.name == "Mid-MO Academy" and provider.kind == "academy"


def test_create_provider_rejects_bad_and_duplicate_slugs(runner, make_provider):
    make_provider("taken")
    dup = runner.invoke(args=["create-provider", "taken", "--name", "X"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad = runner.invoke(args=["create-provider", "Not A Slug", "--name", "X"])
    assert bad.exit_code != 0 and "not a valid slug" in bad.output
    kind = runner.invoke(args=["create-provider", "ok-slug", "--name", "X", "--kind", "spaceship"])
    assert kind.exit_code == 2
    assert db.session.scalar(select(func.count(Provider.id))) == 1


def test_create_user_reads_password_from_stdin(runner, make_provider):
    make_provider("acme")
    result = runner.invoke(
        args=["create-user", "Rev@Post.Example", "--role", "provider", "--provider", "acme"],
        input="Long-Enough-Pass-9\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "rev@post.example"))
    assert user.role == "provider" and user.provider.slug == "acme"
    assert user.check_password("Long-Enough-Pass-9")
    assert "Long-Enough-Pass-9" not in user.password_hash


def test_create_user_failures(runner, make_user):
    make_user("dup@post.example")
    cases = [
        (["create-user", "dup@post.example", "--role", "staff"], "already exists"),
        (["create-user", "new@post.example", "--role", "staff"], "at least 10 characters"),
        (["create-user", "p@post.example", "--role", "provider"], "needs --provider"),
        (
            ["create-user", "p@post.example", "--role", "provider", "--provider", "nope"],
            "Unknown provider",
        ),
        (["create-user", "s@post.example", "--role", "staff", "--provider", "x"], "only for users"),
        (["create-user", "not-an-email", "--role", "staff"], "not a valid email"),
    ]
    for args, message in cases:
        result = runner.invoke(args=args, input="short\n")
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    weak = runner.invoke(
        args=["create-user", "w@post.example", "--role", "staff"], input="aaaaaaaaaaaa\n"
    )
    assert weak.exit_code != 0 and "too easy" in weak.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_create_token_prints_token_on_last_line_and_stores_only_its_hash(runner, make_user, client):
    make_user("api@post.example", "staff")
    result = runner.invoke(args=["create-token", "api@post.example"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    missing = runner.invoke(args=["create-token", "ghost@post.example"])
    assert missing.exit_code != 0 and "No user" in missing.output


def test_api_rejects_unknown_and_revoked_tokens(runner, make_user, client):
    make_user("api@post.example", "staff")
    token = runner.invoke(args=["create-token", "api@post.example"]).output.strip().splitlines()[-1]
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.get_json()["error"]
    ok = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.get_json()["role"] == "staff"
    assert client.get("/api/v1/me").status_code == 401
    stored = db.session.scalar(select(ApiToken))
    from catalog.models.types import utcnow

    stored.revoked_at = utcnow()
    db.session.commit()
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401

"""Every account change goes through catalog.services.accounts and leaves its audit entry, whether
it came from /admin, the provider's own token page or the CLI: who did it, on which row, what
changed (never a password or a token)."""

from __future__ import annotations

import re

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import ApiToken, AuditEntry, Provider, User


def _entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_admin_provider_create_and_edit_are_audited(client, login, users):
    login(users["admin"])
    form = {"slug": "new-vendor", "name": "New Vendor", "kind": "vendor", "approved_provider": "y"}
    assert client.post("/admin/providers/new", data=form).status_code == 302
    vendor = db.session.scalar(select(Provider).where(Provider.slug == "new-vendor"))
    edit = {**form, "name": "Renamed Vendor", "licence_number": "L-9"}
    assert client.post(f"/admin/providers/{vendor.id}", data=edit).status_code == 302
    (created,) = _entries("provider-create")
    (edited,) = _entries("provider-edit")
    assert created.entity_id == edited.entity_id == vendor.id
    assert created.entity_type == "provider" and created.user_id == users["admin"].id
    assert edited.before["name"] == "New Vendor" and edited.after["name"] == "Renamed Vendor"
    assert edited.after["licence_number"] == "L-9" and edited.actor == "admin@test.example"
    # A refused edit (slug clash) writes nothing and changes nothing.
    clash = client.post(f"/admin/providers/{vendor.id}", data={**edit, "slug": "provider-a"})
    assert clash.status_code == 200 and "already used" in clash.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Provider, vendor.id).slug == "new-vendor"
    assert len(_entries("provider-edit")) == 1


def test_admin_user_edit_and_password_reset_are_audited(client, login, users):
    staff = users["staff"]
    login(users["admin"])
    edit = {"role": "admin", "provider_id": 0, "active": "y"}
    assert client.post(f"/admin/users/{staff.id}", data=edit).status_code == 302
    (entry,) = _entries("user-edit")
    assert entry.entity_type == "user" and entry.entity_id == staff.id
    assert entry.before["role"] == "staff" and entry.after["role"] == "admin"
    assert entry.user_id == users["admin"].id
    refused = client.post(f"/admin/users/{staff.id}", data={"role": "provider", "provider_id": 0})
    assert "must belong to a provider" in refused.get_data(as_text=True)
    assert len(_entries("user-edit")) == 1
    reset = client.post(f"/admin/users/{staff.id}/password", data={"password": "Another-Strong-77"})
    assert reset.status_code == 302
    (entry,) = _entries("user-password-reset")
    assert entry.entity_id == staff.id and entry.after == {"email": staff.email}
    assert "Another-Strong-77" not in str(entry.before) + str(entry.after)
    weak = client.post(
        f"/admin/users/{staff.id}/password", data={"password": "short"}, follow_redirects=True
    )
    assert "at least 10 characters" in weak.get_data(as_text=True)
    assert len(_entries("user-password-reset")) == 1


def test_admin_token_creation_is_audited_and_refused_for_a_deactivated_user(client, login, users):
    staff = users["staff"]
    login(users["admin"])
    made = client.post(f"/admin/users/{staff.id}/tokens", data={"name": "nightly  upload"})
    plain = re.search(
        r'class="token">(pc_[^<]+)<', client.get(made.location).get_data(as_text=True)
    )
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == staff.id))
    (entry,) = _entries("token-create")
    assert entry.entity_type == "token" and entry.entity_id == row.id
    assert entry.user_id == users["admin"].id
    assert entry.after == {"user": staff.email, "prefix": row.prefix, "name": "nightly upload"}
    assert plain.group(1) not in str(entry.after)
    client.post(f"/admin/users/{staff.id}", data={"role": "staff", "provider_id": 0})  # deactivate
    refused = client.post(
        f"/admin/users/{staff.id}/tokens", data={"name": "x"}, follow_redirects=True
    )
    assert "is deactivated" in refused.get_data(as_text=True)
    assert len(_entries("token-create")) == 1


def test_provider_users_own_tokens_are_audited_through_the_same_service(client, login, users):
    login(users["provider_a"])
    assert client.post("/provider/tokens", data={"name": "erp"}).status_code == 302
    (entry,) = _entries("token-create")
    assert entry.entity_type == "token" and entry.user_id == users["provider_a"].id
    assert entry.after["name"] == "erp" and entry.note == "Created by the provider user for itself"


def test_cli_accounts_are_audited_with_cli_as_the_actor(runner, password):
    made = runner.invoke(args=["create-provider", "cli-vendor", "--name", "CLI Vendor"])
    assert made.exit_code == 0, made.output
    made = runner.invoke(
        args=["create-user", "ops@post.example", "--role", "staff"], input=password
    )
    assert made.exit_code == 0, made.output
    made = runner.invoke(args=["create-token", "ops@post.example", "--name", "ops"])
    assert made.exit_code == 0, made.output
    user = db.session.scalar(select(User).where(User.email == "ops@post.example"))
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    entries = {e.action: e for e in db.session.scalars(select(AuditEntry))}
    assert set(entries) == {"provider-create", "user-create", "token-create"}
    assert {e.actor for e in entries.values()} == {"cli"}
    assert {e.user_id for e in entries.values()} == {None}
    token = entries["token-create"]
    assert token.entity_type == "token" and token.entity_id == row.id
    assert token.after == {"user": "ops@post.example", "prefix": row.prefix, "name": "ops"}
    assert made.output.strip().splitlines()[-1] not in str(token.after)


def test_cli_refuses_a_token_for_a_deactivated_user_and_writes_nothing(runner, make_user):
    user = make_user("gone@post.example", "staff")
    user.active = False
    db.session.commit()
    refused = runner.invoke(args=["create-token", "gone@post.example"])
    assert refused.exit_code != 0 and "is deactivated" in refused.output
    assert db.session.scalar(select(ApiToken)) is None and _entries("token-create") == []

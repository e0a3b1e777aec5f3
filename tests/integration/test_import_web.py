"""Upload -> (columns) -> preview -> confirm through the provider pages, on both databases."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import AuditEntry, CatalogRow, CatalogSubmission, Course, CourseCategory

DATA = Path(__file__).resolve().parents[1] / "data"


def upload(client, content: bytes, name: str = "catalog.csv"):
    return client.post("/provider/catalogs/new", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def provider_a(taxonomy, users, login):
    login(users["provider_a"])
    return users["providers"][0]


def test_upload_preview_confirm_and_idempotent_reupload(client, provider_a):
    content = (DATA / "import_catalog.csv").read_bytes()
    response = upload(client, content)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    preview_url = response.headers["Location"]
    page = client.get(preview_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Introduction to <mark>De-escalation</mark>" in html
    assert "new course" in html
    catalog = db.session.scalar(select(CatalogSubmission))
    assert catalog.status == "draft" and count(Course) == 0
    response = client.post(f"/provider/catalogs/{catalog.id}/confirm")
    assert response.status_code == 302
    db.session.expire_all()
    assert count(Course, Course.provider_id == provider_a.id) == 4
    assert db.session.get(CatalogSubmission, catalog.id).summary["created"] == 4
    proposed = count(CourseCategory, CourseCategory.source == "proposed")
    assert proposed == 6  # 3 area rows + 3 topics from the file
    assert count(AuditEntry, AuditEntry.action == "import-create") == 4
    # confirming again changes nothing
    client.post(f"/provider/catalogs/{catalog.id}/confirm")
    assert count(Course) == 4
    # the same file again: every row unchanged, nothing created or updated
    response = upload(client, content)
    second = db.session.scalar(select(CatalogSubmission).order_by(CatalogSubmission.id.desc()))
    assert {r.change for r in second.rows} == {"unchanged"}
    client.post(f"/provider/catalogs/{second.id}/confirm")
    db.session.expire_all()
    summary = db.session.get(CatalogSubmission, second.id).summary
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 4)
    assert count(Course) == 4

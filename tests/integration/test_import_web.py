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
    return client.post(
        "/provider/catalogs/new",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


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


def test_failure_in_the_middle_of_confirm_writes_nothing(client, provider_a, monkeypatch):
    from catalog.services.imports import writer

    rows = "".join(f"C-{i},Course number {i} on patrol tactics,1\n" for i in range(8))
    upload(client, ("code,title,hours\n" + rows).encode())
    catalog = db.session.scalar(select(CatalogSubmission))
    monkeypatch.setattr(writer, "WRITE_CHUNK", 2)
    real = writer._course_values
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 4:  # two chunks were inserted before this
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "_course_values", flaky)
    response = client.post(f"/provider/catalogs/{catalog.id}/confirm")
    assert response.status_code == 500
    assert calls["n"] == 5
    db.session.rollback()
    assert count(Course) == 0 and count(CourseCategory) == 0
    assert count(AuditEntry) == 0
    assert db.session.get(CatalogSubmission, catalog.id).status == "draft"
    monkeypatch.setattr(writer, "_course_values", real)
    assert client.post(f"/provider/catalogs/{catalog.id}/confirm").status_code == 302
    assert count(Course) == 8


def test_errors_block_confirm_until_dropped(client, provider_a):
    content = b"title,hours\nGood One,1\n,1\nGood One,2\nBad Hours,0.3\nFine,2\n"
    upload(client, content)
    catalog = db.session.scalar(select(CatalogSubmission))
    html = client.get(f"/provider/catalogs/{catalog.id}").get_data(as_text=True)
    assert "3 row(s) have errors" in html and "disabled" in html
    assert "Duplicate of row 2" in html
    assert client.post(f"/provider/catalogs/{catalog.id}/confirm").status_code == 302
    assert count(Course) == 0  # the server refuses too
    # dropping the first "Good One" makes row 4 valid again (duplicates are re-checked)
    first = db.session.scalar(select(CatalogRow).where(CatalogRow.row_number == 2))
    client.post(f"/provider/catalogs/{catalog.id}/rows", data={"row": first.id, "action": "drop"})
    db.session.expire_all()
    row4 = db.session.scalar(select(CatalogRow).where(CatalogRow.row_number == 4))
    assert row4.errors == [] and row4.change == "new"
    client.post(f"/provider/catalogs/{catalog.id}/rows", data={"action": "drop-errors"})
    client.post(f"/provider/catalogs/{catalog.id}/confirm")
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Course.title))) == ["Fine", "Good One"]
    assert db.session.get(CatalogSubmission, catalog.id).summary["dropped"] == 3


def test_column_mapping_xlsx_and_proposal(client, provider_a):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Class", "Len", "Notes"])
    wb.active.append(["Implicit Bias Awareness", 1, "x"])
    buf = io.BytesIO()
    wb.save(buf)
    response = upload(client, buf.getvalue(), "odd.xlsx")
    catalog = db.session.scalar(select(CatalogSubmission))
    assert response.headers["Location"].endswith(f"/provider/catalogs/{catalog.id}/columns")
    page = client.get(f"/provider/catalogs/{catalog.id}/columns").get_data(as_text=True)
    assert "Implicit Bias Awareness" in page
    response = client.post(
        f"/provider/catalogs/{catalog.id}/columns", data={"title": "0", "hours": "1"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.scalar(select(CatalogRow))
    assert row.data["title"] == "Implicit Bias Awareness" and row.suggestion["areas"]
    client.post(
        f"/provider/catalogs/{catalog.id}/rows/{row.id}/proposal",
        data={"area_hours": "interpersonal-perspectives:1", "topics": "implicit-bias"},
    )
    client.post(f"/provider/catalogs/{catalog.id}/confirm")
    db.session.expire_all()
    course = db.session.scalar(select(Course))
    proposed = {(c.category.slug, c.hours) for c in course.categories if c.source == "proposed"}
    assert ("implicit-bias", None) in proposed and len(proposed) == 2


def test_access_between_providers_and_staff(client, taxonomy, users, login, make_user):
    login(users["provider_a"])
    upload(client, b"title,hours\nA course,1\n")
    catalog = db.session.scalar(select(CatalogSubmission))
    row = db.session.scalar(select(CatalogRow))
    client.post(f"/provider/catalogs/{catalog.id}/confirm")
    course = db.session.scalar(select(Course))
    upload(client, b"title,hours\nAnother,1\n")
    draft = db.session.scalar(select(CatalogSubmission).where(CatalogSubmission.status == "draft"))
    client.post("/logout")
    login(users["provider_b"])
    for method, url in [
        ("get", f"/provider/catalogs/{catalog.id}"),
        ("get", f"/provider/catalogs/{draft.id}/columns"),
        ("post", f"/provider/catalogs/{draft.id}/confirm"),
        ("post", f"/provider/catalogs/{draft.id}/rows"),
        ("post", f"/provider/catalogs/{draft.id}/rows/{row.id}/proposal"),
        ("post", f"/provider/catalogs/{draft.id}/discard"),
        ("get", f"/provider/courses/{course.id}/edit"),
        ("post", f"/provider/courses/{course.id}/edit"),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    client.post("/logout")
    login(users["staff"])
    assert client.get(f"/provider/catalogs/{draft.id}").status_code == 200  # read-only
    assert client.post(f"/provider/catalogs/{draft.id}/confirm").status_code == 403
    assert client.get("/provider/catalogs/new").status_code == 403
    client.post("/logout")
    assert client.get(f"/provider/catalogs/{draft.id}").status_code == 302  # to sign-in


def test_course_form_new_edit_and_live_suggest(client, provider_a):
    data = {
        "title": "Verbal De-escalation for Patrol",
        "hours": "2",
        "delivery": "in-person",
        "area__skill-development": "1",
        "area__interpersonal-perspectives": "1",
        "topics": ["de-escalation"],
    }
    response = client.post("/provider/courses/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    course = db.session.scalar(select(Course))
    assert course.status == "pending" and course.suggestion["areas"]
    bad = client.post("/provider/courses/new", data=dict(data, hours="1.1"))
    assert bad.status_code == 422 and "quarter hours" in bad.get_data(as_text=True)
    dup = client.post(
        "/provider/courses/new", data=dict(data, title="verbal de-escalation for patrol!")
    )
    assert dup.status_code == 422 and "already have a course" in dup.get_data(as_text=True)
    course.status = "approved"
    db.session.commit()
    edit_url = f"/provider/courses/{course.id}/edit"
    client.post(edit_url, data=data)  # nothing changed: stays approved
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "approved"
    client.post(edit_url, data=dict(data, hours="3", **{"area__skill-development": "2"}))
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "pending"
    assert count(AuditEntry, AuditEntry.action == "import-update") == 1
    online_firearms = client.post(
        "/provider/courses/new",
        data=dict(data, title="Pistol basics", delivery="online", topics=["firearms"]),
    )
    assert "must be taught live" in online_firearms.get_data(as_text=True)
    live = client.get("/provider/suggest?title=Introduction+to+De-escalation&hours=1").json
    assert any(t["slug"] == "de-escalation" for t in live["topics"])
    assert {"text": "De-escalation", "mark": True} in live["segments"]
    assert client.get("/provider/suggest?title=" + "x" * 5000).status_code == 200
    assert "provider.js" in client.get("/provider/courses/new").get_data(as_text=True)


def test_a_5000_row_upload_previews_page_by_page_and_confirms(client, provider_a):
    """The size a large vendor sends: the preview shows 100 rows a page with the counts of all."""
    subjects = [
        "Verbal De-escalation",
        "Legal Update",
        "Handgun Qualification",
        "Report Writing",
        "Implicit Bias in Policing",
        "Crisis Intervention",
        "Search and Seizure",
    ]
    lines = ["Course #,Course Title,Length (hrs),Delivery Method"]
    lines += [
        f"V-{i:05d},{subjects[i % len(subjects)]} part {i},{1 + i % 4},online" for i in range(5000)
    ]
    response = upload(client, "\n".join(lines).encode())
    assert response.status_code == 302
    catalog = db.session.scalar(select(CatalogSubmission))
    assert count(CatalogRow, CatalogRow.catalog_id == catalog.id) == 5000

    first = client.get(f"/provider/catalogs/{catalog.id}")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert html.count('name="row" value=') == 100  # one page, not 5,000 rows
    assert "New (5000)" in html and "Rows with errors (0)" in html
    last = client.get(f"/provider/catalogs/{catalog.id}?page=50").get_data(as_text=True)
    assert "part 4999" in last and "part 0<" not in last

    client.post(f"/provider/catalogs/{catalog.id}/confirm")
    assert count(Course, Course.provider_id == provider_a.id) == 5000

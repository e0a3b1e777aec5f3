"""What a bulk import writes (multi-row INSERT on SQLite, COPY on PostgreSQL) reads back through
the ORM exactly as the single-course path would: values, column defaults, JSON evidence, decimal
hours, audit entries; and the courses reach the public search only once approved."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, text

from catalog.extensions import db
from catalog.models import AuditEntry, Course, CourseCategory
from catalog.services.imports.direct import import_table
from catalog.services.imports.files import read_table
from catalog.services.reviewing.decisions import decide
from catalog.serving import import_context

CSV = (
    "code,title,hours,delivery,description,area_hours,topics\n"
    'K-1,"Verbal De-escalation for Patrol",1.25,online,"Tab\tand ""quotes"", back\\\\slash",'
    "interpersonal-perspectives:1.25,de-escalation\n"
    "K-2,Handgun Qualification,4,in-person,,,\n"
    "K-3,Missouri Legal Update 2026,2,live-virtual,Case law,,\n"
)


def _import(provider, user=None):
    table = read_table(CSV.encode(), "catalog.csv", max_rows=100)
    report = import_table(
        db.session,
        provider,
        table,
        import_context(),
        dry_run=False,
        user=user,
        source="cli",
        filename="catalog.csv",
    )
    db.session.commit()
    return report


def test_bulk_written_courses_read_back_like_orm_rows(app, taxonomy, make_provider, make_user):
    provider = make_provider("storage-academy")
    staff = make_user("staff@test.example", "staff")
    report = _import(provider, staff)
    summary = report.as_json()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (3, 0, 0)
    db.session.expire_all()

    courses = {c.provider_code: c for c in db.session.scalars(select(Course))}
    first = courses["K-1"]
    assert first.title == "Verbal De-escalation for Patrol"
    assert first.description == 'Tab\tand "quotes", back\\\\slash'
    assert first.hours == Decimal("1.25") and first.delivery == "online"
    assert (first.status, first.version, first.control_number, first.objectives) == (
        "pending",
        1,
        "",
        "",
    )
    assert first.created_at is not None and first.suggested_at is not None
    assert first.suggestion["topics"] and first.suggestion_score > 0

    rows = db.session.scalars(
        select(CourseCategory).where(CourseCategory.course_id == first.id)
    ).all()
    proposed = {(r.category.slug, r.hours) for r in rows if r.source == "proposed"}
    assert proposed == {("interpersonal-perspectives", Decimal("1.25")), ("de-escalation", None)}
    suggested = [r for r in rows if r.source == "suggested"]
    assert any(r.category.slug == "de-escalation" and r.confident for r in suggested)
    evidence = next(r.evidence for r in suggested if r.category.slug == "de-escalation")
    assert isinstance(evidence, list) and evidence and "De-escalation" in str(evidence)

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "import-create").order_by(AuditEntry.id)
    ).all()
    assert len(entries) == 3 and {e.course_id for e in entries} == {c.id for c in courses.values()}
    assert entries[0].user_id == staff.id and entries[0].actor == staff.email
    assert entries[0].after["catalog_id"] == report.catalog_id

    # ids come from the table's own sequence: a course added afterwards does not collide
    again = _import(provider)
    assert again.as_json()["unchanged"] == 3
    single = Course(
        provider_id=provider.id,
        jurisdiction_id=first.jurisdiction_id,
        title="Later",
        normalised_title="later",
        hours=Decimal(1),
        content_hash="x",
    )
    db.session.add(single)
    db.session.commit()
    assert single.id > max(courses[k].id for k in courses)


def test_imported_courses_are_searchable_only_once_approved(
    app, backend, taxonomy, make_provider, make_user, client
):
    staff = make_user("staff@test.example", "staff")
    _import(make_provider("storage-academy"))
    if backend == "postgresql":  # pending rows no longer cost a tsvector each
        assert db.session.scalar(text("SELECT count(*) FROM search_courses")) == 0
    assert client.get("/courses.json?q=handgun").get_json()["total"] == 0

    course = db.session.scalar(select(Course).where(Course.provider_code == "K-2"))
    decide(db.session, course, "approve", course.version, staff)
    db.session.commit()
    found = client.get("/courses.json?q=handgun").get_json()
    assert found["total"] == 1 and found["courses"][0]["title"] == "Handgun Qualification"

    decide(db.session, course, "reject", course.version, staff, note="Wrong provider")
    db.session.commit()
    assert client.get("/courses.json?q=handgun").get_json()["total"] == 0
    if backend == "postgresql":
        assert db.session.scalar(text("SELECT count(*) FROM search_courses")) == 0
    assert db.session.scalar(select(func.count(Course.id))) == 3

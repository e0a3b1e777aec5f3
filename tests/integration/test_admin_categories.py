"""Admin: adding an area or a topic (validated, audited, known to the engine at once) and deleting
one, refused with what still uses it while anything outside a re-suggestion depends on it."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import (
    AuditEntry,
    Category,
    Course,
    CourseCategory,
    Keyword,
    Requirement,
    RequirementSet,
)
from catalog.services.suggesting import course_input, get_engine

TOPIC = {
    "slug": "crisis-intervention",
    "name": "Crisis Intervention",
    "description": "Responding to people in mental-health crisis.",
    "kind": "topic",
    "default_area": "interpersonal-perspectives",
}
AREA = {"slug": "community-relations", "name": "Community Relations", "kind": "area"}


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _category(slug: str) -> Category | None:
    db.session.expire_all()
    return db.session.scalar(select(Category).where(Category.slug == slug))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _fingerprint() -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(sa.select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _topics(course_id: int) -> list[str]:
    db.session.expire_all()
    return [t["slug"] for t in db.session.get(Course, course_id).suggestion.get("topics", [])]


def _suggests(slug: str, title: str) -> bool:
    engine = get_engine(db.session, _category("legal-studies").jurisdiction)
    result = engine.suggest_many([course_input({"title": title, "hours": "2"})])[0].to_dict()
    return slug in {t["slug"] for t in result["topics"]} | {a["slug"] for a in result["areas"]}


def test_create_area_and_topic_then_the_engine_suggests_the_topic(
    client, login, users, taxonomy, make_pending_course
):
    course = make_pending_course(users["providers"][0], "CIT Crisis Intervention Team Refresher")
    assert "crisis-intervention" not in _topics(course.id)
    login(users["admin"])
    index = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/categories/new"' in index and "New category" in index
    page = client.get("/admin/categories/new")
    assert page.status_code == 200
    assert 'value="interpersonal-perspectives"' in page.get_data(as_text=True)

    created = client.post("/admin/categories/new", data=AREA)
    area = _category("community-relations")
    assert created.status_code == 302
    assert created.headers["Location"].endswith(f"/admin/categories/{area.id}")
    assert (area.kind, area.name, area.default_area_slug, area.live_only) == (
        "area",
        "Community Relations",
        None,
        False,
    )
    assert area.sort_order == 5  # after the four Missouri areas
    # The new area is a choice for a topic's default area straight away.
    assert 'value="community-relations"' in client.get("/admin/categories/new").get_data(
        as_text=True
    )

    saved = client.post(
        "/admin/categories/new", data={**TOPIC, "live_only": "y", "sort_order": "20"}
    )
    topic = _category("crisis-intervention")
    assert saved.status_code == 302
    assert (topic.kind, topic.default_area_slug, topic.live_only, topic.sort_order) == (
        "topic",
        "interpersonal-perspectives",
        True,
        20,
    )
    assert topic.description == TOPIC["description"]
    page = _text(client.get(saved.headers["Location"]))
    assert "Created topic Crisis Intervention" in page
    assert "default area <code>interpersonal-perspectives</code>" in page
    assert "live delivery only" in page
    index = client.get("/admin/").get_data(as_text=True)
    assert f'href="/admin/categories/{topic.id}"' in index
    assert f'href="/admin/categories/{area.id}"' in index

    # The engine knows both at once: the new area is scored for every course.
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert "community-relations" in {a["slug"] for a in course.suggestion["areas"]}
    assert not _suggests("crisis-intervention", "Crisis Intervention Team Refresher")

    # A strong phrase through the existing keyword route makes the engine suggest the topic.
    client.post(
        f"/admin/categories/{topic.id}/keywords",
        data={"weight": "strong", "phrase": "crisis intervention team", "step": "save"},
    )
    assert _suggests("crisis-intervention", "Crisis Intervention Team Refresher")
    assert "crisis-intervention" in _topics(course.id)  # the pending queue was re-suggested
    later = make_pending_course(users["providers"][1], "Crisis Intervention Team for Dispatch")
    assert "crisis-intervention" in _topics(later.id)

    assert _actions() == ["category-create", "category-create", "add-keyword"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.entity_id == topic.id))
    assert entry.entity_type == "category"
    assert entry.user_id == users["admin"].id
    assert entry.after["slug"] == "crisis-intervention"
    assert entry.after["default_area"] == "interpersonal-perspectives"


INVALID = [
    ({"slug": ""}, "Slug", "Enter a slug, e.g. crisis-intervention."),
    ({"slug": "Crisis Intervention"}, "Slug", "Use lower-case letters, digits and single hyphens"),
    ({"slug": "crisis--intervention"}, "Slug", "Use lower-case letters, digits and single hyphens"),
    ({"slug": "-crisis"}, "Slug", "Use lower-case letters, digits and single hyphens"),
    ({"slug": "crisis_intervention"}, "Slug", "Use lower-case letters, digits and single hyphens"),
    ({"slug": "x" * 65}, "Slug", "Field cannot be longer than 64 characters."),
    ({"slug": "firearms"}, "Slug", "The slug firearms is already used by Firearms in Missouri."),
    ({"name": ""}, "Name", "Enter a name."),
    ({"name": "  "}, "Name", "Enter a name."),
    ({"name": "de-escalation"}, "Name", "A category called De-escalation already exists."),
    ({"kind": ""}, "Kind", "Choose area or topic."),
    ({"kind": "subject"}, "Kind", "Choose area or topic."),
    ({"default_area": ""}, "Default area", "A topic needs a default area: the area its hours"),
    ({"default_area": "nowhere"}, "Default area", "nowhere is not an area of Missouri."),
    ({"default_area": "firearms"}, "Default area", "firearms is not an area of Missouri."),
    (
        {**AREA, "default_area": "legal-studies"},
        "Default area",
        "Only a topic has a default area: leave it empty for an area.",
    ),
    (
        {**AREA, "live_only": "y"},
        "Live delivery only",
        "Only a topic can be live-only: an area has no delivery rule.",
    ),
    ({"sort_order": "first"}, "Sort order", "Not a valid integer value."),
    ({"sort_order": "-1"}, "Sort order", "Enter a whole number from 0 to 10000."),
    ({"sort_order": "10001"}, "Sort order", "Enter a whole number from 0 to 10000."),
]


def test_every_validation_error_is_shown_and_nothing_is_saved(client, login, users, taxonomy):
    login(users["admin"])
    before = _fingerprint()
    count = db.session.scalar(select(sa.func.count(Category.id)))
    for overrides, label, message in INVALID:
        response = client.post("/admin/categories/new", data={**TOPIC, **overrides})
        assert response.status_code == 200, overrides
        page = _text(response)
        assert message in page, (overrides, re.findall(r"field-error[^>]*>([^<]*)", page))
        # The message sits under its own field, and what was typed is kept.
        form = page[page.index('class="card narrow new-category"') :]
        field = form[form.index(label) :]
        end = min(field.find(marker) % len(field) for marker in ('<div class="field', "<button"))
        assert message in field[:end], overrides
        if overrides.get("slug"):
            assert f'value="{overrides["slug"]}"' in page
    db.session.expire_all()
    assert db.session.scalar(select(sa.func.count(Category.id))) == count
    assert _fingerprint() == before
    assert _actions() == []


def test_a_duplicate_slug_is_refused_even_in_another_case_of_name(client, login, users, taxonomy):
    login(users["admin"])
    assert client.post("/admin/categories/new", data=AREA).status_code == 302
    again = client.post("/admin/categories/new", data={**AREA, "name": "Community Outreach"})
    assert "The slug community-relations is already used by Community Relations" in _text(again)
    same_name = client.post("/admin/categories/new", data={**AREA, "slug": "community-outreach"})
    assert "A category called Community Relations already exists." in _text(same_name)
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(sa.func.count(Category.id)).where(Category.slug.like("community-%"))
        )
        == 1
    )
    assert _actions() == ["category-create"]


def test_deleting_an_unused_category_previews_then_deletes_with_its_phrases(
    client, login, users, taxonomy, make_pending_course
):
    login(users["admin"])
    client.post("/admin/categories/new", data=TOPIC)
    topic = _category("crisis-intervention")
    client.post(
        f"/admin/categories/{topic.id}/keywords",
        data={"weight": "strong", "phrase": "crisis intervention team", "step": "save"},
    )
    course = make_pending_course(users["providers"][0], "Crisis Intervention Team Basics")
    assert "crisis-intervention" in _topics(course.id)
    page = client.get(f"/admin/categories/{topic.id}").get_data(as_text=True)
    assert f'action="/admin/categories/{topic.id}/delete"' in page

    preview = client.post(f"/admin/categories/{topic.id}/delete", data={"step": "preview"})
    text = _text(preview)
    assert preview.status_code == 200
    assert "Preview: Delete topic “Crisis Intervention” (crisis-intervention)" in text
    assert (
        re.search(r'class="preview-count">1<', text) and "Crisis Intervention Team Basics" in text
    )
    assert ">Delete it</button>" in text
    assert _category("crisis-intervention") is not None  # nothing deleted by the preview
    assert _actions() == ["category-create", "add-keyword"]

    done = client.post(f"/admin/categories/{topic.id}/delete", data={"step": "save"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    assert _category("crisis-intervention") is None
    assert db.session.scalar(select(Keyword).where(Keyword.category_id == topic.id)) is None
    assert (
        db.session.scalar(select(CourseCategory).where(CourseCategory.category_id == topic.id))
        is None
    )
    assert "crisis-intervention" not in _topics(course.id)  # re-suggested without it
    assert not _suggests("crisis-intervention", "Crisis Intervention Team Basics")
    flashed = _text(client.get("/admin/"))
    assert "Saved: Delete topic “Crisis Intervention”" in flashed
    assert f'href="/admin/categories/{topic.id}"' not in flashed
    assert _actions() == ["category-create", "add-keyword", "category-delete"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "category-delete"))
    assert (entry.entity_type, entry.entity_id, entry.user_id) == (
        "category",
        topic.id,
        users["admin"].id,
    )
    assert entry.before["keywords"] == {"strong": ["crisis intervention team"]}
    assert entry.before["default_area"] == "interpersonal-perspectives"
    # Deleting it again finds nothing.
    gone = client.post(f"/admin/categories/{topic.id}/delete", data={"step": "save"})
    assert gone.status_code == 404


def _decide(course: Course, category: Category, source: str = "decided") -> None:
    db.session.add(CourseCategory(course_id=course.id, category_id=category.id, source=source))
    db.session.commit()


def _refused(client, category: Category, step: str) -> str:
    response = client.post(
        f"/admin/categories/{category.id}/delete", data={"step": step}, follow_redirects=True
    )
    assert response.status_code == 200
    assert response.request.path == f"/admin/categories/{category.id}"
    return _text(response)


def test_deleting_a_used_category_is_refused_saying_what_uses_it(
    client, login, users, taxonomy, make_course
):
    login(users["admin"])
    client.post("/admin/categories/new", data=TOPIC)
    topic = _category("crisis-intervention")
    for n in range(2):
        _decide(make_course(f"Crisis Course {n}", hours="2"), topic)
    data = {
        "name": "CLEE 2030",
        "starts_on": "2030-01-01",
        "ends_on": "2030-12-31",
        "total_hours": "24",
        "min-crisis-intervention": "1",
    }
    assert client.post("/admin/requirements/new", data=data).status_code == 302
    actions = _actions()
    before = _fingerprint()
    expected = (
        "Crisis Intervention cannot be deleted: 2 approved courses count toward it; "
        "it is used by requirement set CLEE 2030."
    )
    for step in ("preview", "save"):
        assert expected in _refused(client, topic, step)
        db.session.expire_all()
        assert _fingerprint() == before
    assert _actions() == actions
    page = _text(client.get(f"/admin/categories/{topic.id}"))
    assert "It cannot be deleted while it is in use" in page
    assert "2 approved courses count toward it" in page
    assert f'action="/admin/categories/{topic.id}/delete"' not in page
    # Once the minimum goes and the courses no longer count toward it, it may go.
    req_set = db.session.scalar(select(RequirementSet).where(RequirementSet.name == "CLEE 2030"))
    db.session.execute(sa.delete(Requirement).where(Requirement.requirement_set_id == req_set.id))
    db.session.execute(sa.delete(CourseCategory).where(CourseCategory.category_id == topic.id))
    db.session.commit()
    client.post(f"/admin/categories/{topic.id}/delete", data={"step": "save"})
    assert _category("crisis-intervention") is None


def test_every_kind_of_use_blocks_deletion(
    client, login, users, taxonomy, make_course, make_pending_course
):
    login(users["admin"])
    client.post("/admin/categories/new", data=AREA)
    client.post("/admin/categories/new", data={**TOPIC, "default_area": "community-relations"})
    area, topic = _category("community-relations"), _category("crisis-intervention")
    pending = make_pending_course(users["providers"][0], "Report Writing", hours="1")
    rejected = make_course("Old Crisis Course", status="rejected", areas={"legal-studies": 1})
    withdrawn = make_course("Older Crisis Course", status="withdrawn", areas={"legal-studies": 1})
    _decide(rejected, topic)
    _decide(pending, topic, "proposed")
    _decide(withdrawn, topic, "suggested")
    # A suggestion on a pending course does not block: deleting re-suggests the course.
    _decide(make_pending_course(users["providers"][1], "Patrol Basics"), topic, "suggested")
    text = _refused(client, topic, "save")
    assert (
        "Crisis Intervention cannot be deleted: 1 rejected course records it in its "
        "decision; providers proposed it for 1 course; the engine suggestion kept with 1 "
        "decided course names it."
    ) in text
    assert (
        "Community Relations cannot be deleted: it is the default area of topic "
        "Crisis Intervention."
    ) in _refused(client, area, "preview")
    # A topic that counts only within the area (its parent) blocks it too.
    client.post(
        "/admin/categories/new",
        data={**TOPIC, "slug": "outreach", "name": "Outreach", "default_area": "legal-studies"},
    )
    outreach = _category("outreach")
    outreach.parent_id = area.id
    db.session.commit()
    assert (
        "Community Relations cannot be deleted: it is the default area of topic "
        "Crisis Intervention; it is the parent area of topic Outreach."
    ) in _refused(client, area, "save")
    # Missouri's own areas: requirement minimums, engine settings.
    text = _refused(client, _category("technical-studies"), "save")
    assert "it is used by requirement sets CLEE 2021, CLEE 2022" in text
    assert "the engine settings name it (fallback_area)" in text
    text = _refused(client, _category("legal-studies"), "save")
    assert "the engine settings name it (tie_break_areas" in text
    firearms = _refused(client, _category("skill-development"), "save")
    assert "it is the default area of topics Firearms, De-escalation." in firearms
    assert "parent area" not in firearms  # Firearms has it as parent and default: named once
    assert _actions() == ["category-create"] * 3


def test_the_engine_must_keep_an_area(app, taxonomy):
    """A jurisdiction's last area cannot go: the engine needs one (checked by the service)."""
    from catalog.models import Jurisdiction
    from catalog.services import category_edits

    other = Jurisdiction(code="XX", name="Elsewhere", settings={"fallback_area": ""})
    only = Category(jurisdiction=other, slug="general", kind="area", name="General")
    db.session.add_all([other, only])
    db.session.flush()
    assert category_edits.category_uses(db.session, other, only) == [
        "the matching engine cannot work without it (a taxonomy needs at least one area)"
    ]
    db.session.rollback()


def test_only_admins_may_add_or_delete_categories(client, login, users, taxonomy):
    spare = Category(jurisdiction_id=taxonomy.id, slug="spare-area", kind="area", name="Spare")
    db.session.add(spare)
    db.session.commit()
    calls = [
        ("get", "/admin/categories/new", None),
        ("post", "/admin/categories/new", AREA),
        ("post", f"/admin/categories/{spare.id}/delete", {"step": "save"}),
    ]
    for role in ("anon", "staff", "provider_a"):
        if role != "anon":
            login(users[role])
        for method, url, data in calls:
            before = _fingerprint()
            answer = getattr(client, method)(url, data=data)
            if role == "anon":
                assert answer.status_code == 302 and "/login" in answer.headers["Location"]
            else:
                assert answer.status_code == 403, (role, url)
            db.session.expire_all()
            assert _fingerprint() == before, (role, url)
        client.post("/logout")
    assert _category("community-relations") is None
    assert _category("spare-area") is not None
    assert _actions() == []
    # The same spare area is deletable by an admin (so the refusals above were about the role).
    login(users["admin"])
    client.post(f"/admin/categories/{spare.id}/delete", data={"step": "save"})
    assert _category("spare-area") is None


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_create_and_delete_need_the_csrf_token(app_factory, users, taxonomy, password):
    other = app_factory(WTF_CSRF_ENABLED=True)
    client = other.test_client()
    token = _csrf(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"email": users["admin"].email, "password": password, "csrf_token": token}
    )
    assert client.post("/admin/categories/new", data=AREA).status_code == 400
    with other.app_context():
        assert _category("community-relations") is None
    token = _csrf(client.get("/admin/categories/new").get_data(as_text=True))
    created = client.post("/admin/categories/new", data={**AREA, "csrf_token": token})
    assert created.status_code == 302
    with other.app_context():
        area = _category("community-relations")
        assert area is not None
    url = f"/admin/categories/{area.id}/delete"
    assert client.post(url, data={"step": "save"}).status_code == 400
    with other.app_context():
        assert _category("community-relations") is not None
    page = client.get(f"/admin/categories/{area.id}").get_data(as_text=True)
    assert client.post(url, data={"step": "save", "csrf_token": _csrf(page)}).status_code == 302
    with other.app_context():
        assert _category("community-relations") is None


@pytest.mark.parametrize("kind", ["area", "topic"])
def test_a_new_category_can_be_used_in_a_decision_and_then_blocks_deletion(
    client, login, users, taxonomy, make_pending_course, kind
):
    """End to end: staff decide a pending course with the new category; it now counts."""
    login(users["admin"])
    data = AREA if kind == "area" else TOPIC
    client.post("/admin/categories/new", data=data)
    category = _category(data["slug"])
    course = make_pending_course(users["providers"][0], "Neighbourhood Crisis Work", hours="2")
    form = {"action": "override", "version": course.version, "note": "new category"}
    if kind == "area":
        form["hours-community-relations"] = "2"
    else:
        form.update({"hours-interpersonal-perspectives": "2", "topic": ["crisis-intervention"]})
    response = client.post(f"/review/{course.id}", data=form)
    assert response.status_code in (302, 303), _text(response)[:2000]
    db.session.expire_all()
    decided = {c.category.slug for c in db.session.get(Course, course.id).category_rows("decided")}
    assert data["slug"] in decided
    assert "1 approved course counts toward it" in _refused(client, category, "save")


def test_edits_apply_to_the_category_s_own_jurisdiction(client, login, users, taxonomy):
    """The index lists every jurisdiction: a phrase or a deletion on another one's category must
    not land on the served jurisdiction's category of the same slug."""
    from catalog.models import Jurisdiction

    other = Jurisdiction(code="XX", name="Elsewhere", settings={"fallback_area": "general"})
    general = Category(jurisdiction=other, slug="general", kind="area", name="General")
    twin = Category(jurisdiction=other, slug="legal-studies", kind="area", name="Law")
    db.session.add_all([other, general, twin])
    db.session.commit()
    login(users["admin"])
    client.post(
        f"/admin/categories/{twin.id}/keywords",
        data={"weight": "strong", "phrase": "statute review", "step": "save"},
    )
    db.session.expire_all()
    assert [k.phrase for k in db.session.get(Category, twin.id).keywords] == ["statute review"]
    missouri = db.session.scalar(
        select(Category).where(
            Category.jurisdiction_id == taxonomy.id, Category.slug == "legal-studies"
        )
    )
    assert "statute review" not in missouri.phrases("strong")
    done = client.post(f"/admin/categories/{twin.id}/delete", data={"step": "save"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Category, twin.id) is None
    assert db.session.get(Category, missouri.id) is not None
    assert _actions() == ["add-keyword", "category-delete"]


def test_the_database_refuses_a_delete_the_checks_missed(
    client, login, users, taxonomy, make_course, monkeypatch
):
    """A decision saved between the check and the delete: the foreign key (enforced on SQLite
    too) refuses it, and the page says so instead of failing."""
    from catalog.services import category_edits

    login(users["admin"])
    client.post("/admin/categories/new", data=TOPIC)
    topic = _category("crisis-intervention")
    _decide(make_course("Crisis Course", hours="2"), topic)
    monkeypatch.setattr(category_edits, "category_uses", lambda *args: [])
    before = _fingerprint()
    response = client.post(
        f"/admin/categories/{topic.id}/delete", data={"step": "save"}, follow_redirects=True
    )
    assert response.request.path == f"/admin/categories/{topic.id}"
    assert "Someone changed this meanwhile: nothing was saved." in _text(response)
    db.session.expire_all()
    assert _fingerprint() == before
    assert _category("crisis-intervention") is not None


def test_seeding_again_does_not_bring_back_a_category_staff_deleted(
    client, login, users, taxonomy, tmp_path
):
    from catalog.services.seeding import SEED_DIR, SeedReport, seed_taxonomy

    extra = tmp_path / "taxonomy.toml"
    extra.write_text(
        (SEED_DIR / "mo" / "taxonomy.toml").read_text(encoding="utf-8")
        + '\n[[categories]]\nslug = "crisis-intervention"\nkind = "topic"\n'
        'name = "Crisis Intervention"\ndefault_area = "interpersonal-perspectives"\n'
        'strong = ["crisis intervention team"]\n',
        encoding="utf-8",
    )
    report = SeedReport()
    seed_taxonomy(db.session, extra, report)
    db.session.commit()
    assert report.created == {"categories": 1}
    topic = _category("crisis-intervention")

    login(users["admin"])
    client.post(f"/admin/categories/{topic.id}/delete", data={"step": "save"})
    assert _category("crisis-intervention") is None

    again = SeedReport()
    seed_taxonomy(db.session, extra, again)  # `make run` and every deploy seed again
    db.session.commit()
    assert again.created == {} and _category("crisis-intervention") is None

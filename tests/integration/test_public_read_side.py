"""The public search's read side on both databases: every worker's in-memory copy follows a committed
decision at once; the served jurisdiction's courses only; typo-tolerant search; hyphen = space;
`delivery=remote` (online or live virtual)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from sqlalchemy import event, select

from catalog.extensions import db
from catalog.models import Category, Course, Jurisdiction
from catalog.services.publishing import snapshot as published_index
from catalog.services.reviewing.decisions import decide
from catalog.services.seeding import SEED_DIR, SeedReport, seed_taxonomy


def get_json(client, **params):
    response = client.get("/courses.json", query_string={"per_page": 100, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(client, **params) -> list[int]:
    return [c["id"] for c in get_json(client, **params)["courses"]]


def facet(body, name) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"][name]}


# -- freshness: a decision is in every worker's next search ---------------------------------------


def test_a_decision_is_in_every_workers_next_search(
    app, app_factory, client, make_pending_course, make_provider, make_user
):
    """Two apps on one database stand for two workers (or two app servers): each keeps its own
    copy. A decision committed through one is in the other's very next search."""
    provider = make_provider("mid-mo")
    staff = make_user("reviewer@post.example", "staff")
    pending = make_pending_course(provider, "Verbal De-escalation for Patrol", hours="1")
    other = app_factory()
    other_client = other.test_client()
    assert ids(client, q="de-escalation") == [] == ids(other_client, q="de-escalation")
    before = published_index.read_version(db.session)

    with other.app_context():
        course = db.session.get(Course, pending.id)
        decide(
            db.session,
            course,
            "override",
            course.version,
            db.session.get(type(staff), staff.id),
            areas={"skill-development": Decimal("1")},
            topics=["de-escalation"],
        )
        db.session.commit()

    db.session.rollback()
    assert published_index.read_version(db.session) != before
    for c in (client, other_client):
        body = get_json(c, q="de-escalation")
        assert [x["id"] for x in body["courses"]] == [pending.id]
        assert facet(body, "topic") == {"de-escalation": 1}
        assert facet(body, "provider") == {"mid-mo": 1}
        assert get_json(c, topic="de-escalation")["total"] == 1

    course = db.session.get(Course, pending.id)
    decide(db.session, course, "reject", course.version, staff, note="Out of date.")
    db.session.commit()
    for c in (client, other_client):
        assert ids(c, q="de-escalation") == []
        assert ids(c, topic="de-escalation") == []
        assert c.get(f"/courses/{pending.id}").status_code == 404


def test_provider_and_category_renames_show_at_once(client, make_course, taxonomy):
    course = make_course("Report Writing", provider="old-name", topics=["implicit-bias"])
    assert get_json(client)["facets"]["provider"][0]["label"] == "Old Name"
    provider = course.provider
    provider.name = "New Name"
    category = db.session.scalar(select(Category).where(Category.slug == "implicit-bias"))
    category.name = "Unconscious Bias"
    db.session.commit()
    body = get_json(client)
    assert body["facets"]["provider"][0]["label"] == "New Name"
    assert {v["label"] for v in body["facets"]["topic"]} == {"Unconscious Bias"}
    assert body["courses"][0]["provider_name"] == "New Name"


def test_every_column_a_page_shows_is_in_the_next_search(client, make_course):
    """A page's rows are kept per publish version (sql.page_rows' memo): an edit of any column
    a page shows, on an approved course, is in the very next search (migration 0010)."""
    from catalog.models import CourseCategory

    course = make_course("Report Writing", description="Old words.", url="https://old.example")
    for params in ({}, {"q": "report"}):
        row = get_json(client, **params)["courses"][0]
        assert (row["description"], row["enrol_url"]) == ("Old words.", "https://old.example")
    course.description = "New words."
    course.url = "https://new.example"
    course.control_number = "MO-NEW-1"
    course.provider_code = "RW-9"
    db.session.commit()
    for params in ({}, {"q": "report"}):
        row = get_json(client, **params)["courses"][0]
        assert row["description"] == "New words.", params
        assert row["enrol_url"] == "https://new.example", params
        assert row["control_number"] == "MO-NEW-1", params
        assert row["provider_code"] == "RW-9", params
    decided = db.session.scalar(
        select(CourseCategory).where(
            CourseCategory.course_id == course.id, CourseCategory.source == "decided"
        )
    )
    decided.hours = Decimal("0.5")
    db.session.commit()
    (area,) = get_json(client, q="report")["courses"][0]["areas"]
    assert Decimal(str(area["hours"])) == Decimal("0.5")
    # A pending course's edits do not move the version (imports change thousands of them).
    pending = make_course("Pending Course", status="pending")
    before = published_index.read_version(db.session)
    pending.description = "Edited while pending."
    db.session.commit()
    assert published_index.read_version(db.session) == before


@contextlib.contextmanager
def statements(monkeypatch, engine):
    """Every statement the app sends meanwhile: through SQLAlchemy and through sql.run (the
    search's own, straight on the driver's cursor)."""
    from catalog.services.publishing import sql as psql

    seen: list[str] = []
    real_run = psql.run

    def run(session, statement, params):
        seen.append(statement)
        return real_run(session, statement, params)

    def execute(conn, cursor, statement, *args):
        seen.append(statement)

    with monkeypatch.context() as patched:
        patched.setattr(psql, "run", run)
        event.listen(engine, "before_cursor_execute", execute)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", execute)


def test_a_search_on_a_warm_worker_is_one_statement(app, client, make_course, monkeypatch):
    """The publish version comes with the text match's ids (one statement), and the page's rows
    from the worker's memo once read: the hot path of the public search is one round trip."""
    make_course("Report Writing for Patrol", topics=["implicit-bias"])
    make_course("Report Writing Basics")
    for params in (
        {"q": "report"},
        {"q": "report", "sort": "title"},
        {},
        {"topic": "implicit-bias"},
    ):
        get_json(client, **params)  # the snapshot and the page's rows, read once
        db.session.rollback()  # a new transaction, as each request has one in production
        with statements(monkeypatch, db.engine) as seen:
            body = get_json(client, **params)
        assert body["total"] >= 1
        assert len(seen) == 1, (params, seen)
        assert "search_version" in seen[0]


def test_a_rename_committed_meanwhile_is_in_the_next_search_and_course_page(client, make_course):
    """A request starts from the worker's snapshot without a query (the served jurisdiction,
    its categories) and the search's own statement verifies it: when a category was renamed
    meanwhile, the request runs again on the new snapshot instead of showing the old name."""
    course = make_course("Report Writing", topics=["implicit-bias"])
    category = db.session.scalar(select(Category).where(Category.slug == "implicit-bias"))
    for name, path in (
        ("Unconscious Bias", "/courses.json?q=report"),
        ("Hidden Bias", "/courses.json"),
        ("Bias Awareness", f"/courses/{course.id}"),
        ("Bias in Policing", "/courses?q=report"),
        ("Bias Training", "/courses.csv?q=report"),
    ):
        assert client.get(path).status_code == 200  # the worker's snapshot is current
        category.name = name
        db.session.commit()
        response = client.get(path)
        assert response.status_code == 200, path
        assert name in response.get_data(as_text=True), path
    assert client.get("/courses/999999").status_code == 404


# -- the served jurisdiction only -----------------------------------------------------------------


def texas_course(title: str, provider) -> Course:
    """A Texas course approved through the decision service (with its audit entry)."""
    from catalog.services.courses import normalise_title

    texas = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "TX"))
    course = Course(
        provider=provider,
        jurisdiction=texas,
        title=title,
        normalised_title=normalise_title(title) + " tx",
        hours=Decimal("1"),
        delivery="online",
    )
    db.session.add(course)
    db.session.flush()
    decide(
        db.session,
        course,
        "override",
        course.version,
        None,
        areas={"continuing-education": Decimal("1")},
        topics=[],
        approved_until=dt.date.today() + dt.timedelta(days=30),
    )
    db.session.commit()
    return course


def test_each_state_lists_only_its_own_courses(app, app_factory, client, make_course, taxonomy):
    seed_taxonomy(db.session, SEED_DIR / "tx" / "taxonomy.toml", SeedReport())
    db.session.commit()
    missouri = make_course("De-escalation Basics", provider="mid-mo", delivery="online")
    texas = texas_course("De-escalation Basics", missouri.provider)
    other = texas_course("Lone Star Legal Update", missouri.provider)
    texas_client = app_factory(CATALOG_JURISDICTION="TX").test_client()

    for c, mine, theirs in ((client, missouri.id, texas.id), (texas_client, texas.id, missouri.id)):
        assert ids(c, q="de-escalation") == [mine]
        body = get_json(c)
        listed = {x["id"] for x in body["courses"]}
        assert mine in listed and theirs not in listed
        assert body["total"] == len(listed)
        assert sum(facet(body, "provider").values()) == body["total"]
        assert (
            sum(facet(body, "delivery").values()) - facet(body, "delivery").get("remote", 0)
            == body["total"]
        )
        csv_ids = {
            int(line.split(",")[0])
            for line in c.get("/courses.csv").get_data(as_text=True).splitlines()[1:]
        }
        assert csv_ids == listed
        atom = c.get("/courses.atom").get_data(as_text=True)
        assert f"/courses/{mine}<" in atom and f"/courses/{theirs}<" not in atom
        assert c.get(f"/courses/{mine}").status_code == 200
        assert c.get(f"/courses/{theirs}").status_code == 404
    assert {x["id"] for x in get_json(texas_client)["courses"]} == {texas.id, other.id}
    # The Missouri finder counts Missouri's courses only (one de-escalation course, online).
    start = client.get("/").get_data(as_text=True)
    assert "1 approved course · 1 of one hour · 1 online" in start


# -- typo-tolerant search; hyphen and space ---------------------------------------------------------


def test_a_typo_shows_the_corrected_querys_results(client, make_course):
    bias = make_course("Implicit Bias in Policing", topics=["implicit-bias"]).id
    guns = make_course("Firearms Qualification", topics=["firearms"]).id
    make_course("Legal Update 2026")
    for typed, corrected, wanted in (
        ("implicit bais", "implicit bias", [bias]),
        ("firarms", "firearms", [guns]),
        ("Firearms qualificaton", "firearms qualification", [guns]),
    ):
        body = get_json(client, q=typed)
        assert body["corrected_query"] == corrected, typed
        assert [c["id"] for c in body["courses"]] == wanted, typed
        assert body["close_matches"] is True
        assert any(f"showing results for “{corrected}”" in n for n in body["notices"])
    html = client.get("/courses", query_string={"q": "implicit bais"}).get_data(as_text=True)
    assert "showing results for “implicit bias”" in html and "<mark>" in html
    # Spelled right: no correction; nothing near: nothing, and no error.
    assert get_json(client, q="implicit bias")["corrected_query"] is None
    body = get_json(client, q="qqqzzz")
    assert body["total"] == 0 and body["corrected_query"] is None
    # The correction keeps the filters: a typo with a filter that excludes its courses finds
    # nothing rather than dropping the filter.
    assert get_json(client, q="firarms", topic="implicit-bias")["total"] == 0


def test_hyphen_and_space_find_the_same_courses(client, make_course):
    hyphen = make_course("Use-of-Force Reporting").id
    spaced = make_course("Use of Force Law").id
    make_course("Force Science", description="What officers use in the field.")
    make_course("Legal Update")
    for text in ("use-of-force", "use of force", "Use‐of‐Force", "use-of force"):
        body = get_json(client, q=text)
        assert {c["id"] for c in body["courses"]} >= {hyphen, spaced}, text
        assert body["total"] == get_json(client, q="use of force")["total"], text


# -- remote = online or live virtual ----------------------------------------------------------------


def test_remote_is_online_or_live_virtual(client, make_course):
    online = make_course("De-escalation Online", delivery="online", topics=["de-escalation"]).id
    webinar = make_course(
        "De-escalation Webinar", delivery="live-virtual", topics=["de-escalation"]
    ).id
    make_course("De-escalation Scenarios", delivery="in-person", topics=["de-escalation"])
    make_course("De-escalation Blended", delivery="blended", topics=["de-escalation"])
    body = get_json(client, delivery="remote", topic="de-escalation", hours="1")
    assert {c["id"] for c in body["courses"]} == {online, webinar}
    assert body["notices"] == []
    delivery = {v["value"]: v for v in body["facets"]["delivery"]}
    assert delivery["remote"]["count"] == 2 and delivery["remote"]["selected"] is True
    assert delivery["remote"]["label"] == "Remote (online or live virtual)"
    assert delivery["in-person"]["count"] == 1  # its own filter left out
    assert "delivery=remote" not in delivery["remote"]["url"]  # the link removes it
    plain = facet(get_json(client), "delivery")
    assert plain["remote"] == 2 and plain["online"] == 1 and plain["live-virtual"] == 1
    lines = client.get("/courses.csv?delivery=remote").get_data(as_text=True).splitlines()
    assert {int(line.split(",")[0]) for line in lines[1:]} == {online, webinar}
    page = client.get("/courses?delivery=remote").get_data(as_text=True)
    assert "Remote (online or live virtual)" in page


def test_finder_offers_remote_where_the_rule_allows_it(client, make_course):
    make_course("De-escalation Webinar", delivery="live-virtual", topics=["de-escalation"])
    make_course("Handgun Qualification", delivery="in-person", topics=["firearms"])
    start = client.get("/").get_data(as_text=True)
    assert 'data-remote="de-escalation"' in start
    assert "1 remote (online or live virtual)" in start
    assert 'data-remote="firearms"' not in start  # firearms counts only when taken live
    link = start.split('data-remote="de-escalation"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "delivery=remote" in link and "topic=de-escalation" in link
    body = client.get(link.replace("&amp;", "&").replace("/courses?", "/courses.json?"))
    assert body.get_json()["total"] == 1

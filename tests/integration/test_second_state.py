"""A second state is a data set, not a fork: Texas (seed_data/tx/) served with CATALOG_JURISDICTION=TX.

The same code serves Missouri (the default) and Texas; everything Texan here comes from
seed_data/tx/*.toml through the database. Runs on SQLite and PostgreSQL (the `app` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from catalog import ConfigError, create_app
from catalog.extensions import db
from catalog.models import Category, Course, Jurisdiction, RequirementSet
from catalog.services.accounts import issue_token
from catalog.services.courses import end_of_year
from catalog.services.errors import NotFound
from catalog.services.jurisdictions import default_jurisdiction
from catalog.services.seeding import SEED_DIR, seed_all
from catalog.services.suggesting import get_engine
from catalog.serving import jurisdiction_code, served
from mapping import CourseInput

TEXAS = pytest.mark.app_config(CATALOG_JURISDICTION="TX")

# Texas-style titles and the TCOLE mandate each one is.
TX_TITLES = {
    "TCOLE #1849 De-escalation Techniques": "de-escalation",
    "Cultural Diversity (3939)": "cultural-diversity",
    "Human Trafficking Awareness for Patrol": "human-trafficking",
    "ALERRT Level 1 Active Attack Event Response": "active-shooter",
    "89th Legislative Session Legal Update": "legislative-update",
    "Crisis Intervention 3843": "crisis-intervention",
}
CATALOG = [
    {
        "provider_code": "LS-1849",
        "title": "TCOLE #1849 De-escalation Techniques",
        "hours": 4,
        "delivery": "in-person",
        "description": "Verbal and tactical de-escalation, with an exam.",
    },
    {
        "provider_code": "LS-3939",
        "title": "Cultural Diversity (3939)",
        "hours": 8,
        "delivery": "online",
        "area_hours": "continuing-education:8",
        "topics": ["cultural-diversity"],
    },
    {
        "provider_code": "LS-QUAL",
        "title": "Annual Firearms Proficiency Qualification",
        "hours": 2,
        "delivery": "in-person",
    },
]


def seed(demo: bool = False):
    report = seed_all(db.session, served_code=jurisdiction_code(), demo=demo)
    db.session.commit()
    return report


def tx_slugs() -> set[str]:
    return set(
        db.session.scalars(
            select(Category.slug).join(Jurisdiction).where(Jurisdiction.code == "TX")
        )
    )


def current_unit(code: str, today: dt.date | None = None) -> RequirementSet | None:
    today = today or dt.date.today()
    return db.session.scalar(
        select(RequirementSet)
        .join(Jurisdiction)
        .where(
            Jurisdiction.code == code,
            RequirementSet.starts_on <= today,
            RequirementSet.ends_on >= today,
        )
    )


def tokens(make_provider, make_user) -> dict[str, dict]:
    provider = make_provider("lone-star-academy", "Lone Star Academy")
    out = {}
    for key, user in (
        ("provider", make_user("registrar@lonestar.example", "provider", provider)),
        ("staff", make_user("reviewer@tx.example", "staff")),
    ):
        _, plain = issue_token(db.session, user, "test")
        out[key] = {"Authorization": f"Bearer {plain}"}
    db.session.commit()
    return out


def import_catalog(client, headers, rows=CATALOG):
    return client.post("/api/v1/catalogs", json={"courses": rows}, headers=headers)


def by_code(code: str) -> Course:
    db.session.expire_all()
    return db.session.scalar(select(Course).where(Course.provider_code == code))


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- seed ---------------------------------------------------------------------------------------


@TEXAS
def test_seed_loads_texas_as_data_and_keeps_missouri_first(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    # Demo data is Missouri's (seed_data/seed.toml): not loaded when the app serves Texas.
    assert "Demo data skipped" in first.output and "serves TX" in first.output
    assert db.session.scalar(select(func.count(Course.id))) == 0
    codes = list(db.session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.id)))
    assert codes == ["MO", "TX"]  # seed.toml `first`: Missouri stays the first seeded
    assert served().code == "TX"
    texas = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "TX"))
    assert texas.course_id_label == "TCOLE course number"
    assert tx_slugs() >= {
        "continuing-education",
        "legislative-update",
        "active-shooter",
        "cultural-diversity",
        "special-investigative-topics",
        "crisis-intervention",
        "de-escalation",
        "human-trafficking",
        "crisis-intervention-training-40",
        "canine-encounters",
        "deaf-hard-of-hearing-drivers",
    }
    # Training units from the data: Sept 1 - Aug 31, 40 hours, no Missouri-style grace period;
    # ALERRT hours from the 2023-2025 unit on (SB 1852).
    units = db.session.scalars(
        select(RequirementSet)
        .where(RequirementSet.jurisdiction_id == texas.id)
        .order_by(RequirementSet.starts_on)
    ).all()
    assert [(u.starts_on, u.ends_on) for u in units][:2] == [
        (dt.date(2021, 9, 1), dt.date(2023, 8, 31)),
        (dt.date(2023, 9, 1), dt.date(2025, 8, 31)),
    ]
    assert all(u.total_hours == 40 and u.grace_until is None for u in units)
    minimums = [{r.category.slug: r.min_hours for r in u.requirements} for u in units]
    assert "active-shooter" not in minimums[0] and minimums[1]["active-shooter"] == 16
    assert all(m["continuing-education"] == 40 and "legislative-update" in m for m in minimums)
    # Missouri's periods are unchanged: calendar years with grace to March 15.
    clee = db.session.scalar(select(RequirementSet).where(RequirementSet.name == "CLEE 2025"))
    assert (clee.starts_on, clee.ends_on, clee.grace_until) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
        dt.date(2026, 3, 15),
    )

    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0 and "nothing to add" in again.output


# --- the engine ---------------------------------------------------------------------------------


@TEXAS
def test_engine_suggests_texas_categories_with_evidence(app):
    seed()
    texas = served()
    assert texas.code == "TX"
    known = tx_slugs()
    engine = get_engine(db.session, texas)
    results = engine.suggest_many([CourseInput(title=t, hours=Decimal(4)) for t in TX_TITLES])
    for (title, topic), result in zip(TX_TITLES.items(), results, strict=True):
        found = result.to_dict()
        area = found["areas"][0]
        assert area["slug"] == "continuing-education" and area["hours"] == "4", title
        assert area["confident"] and area["evidence"], title
        topics = {t["slug"]: t for t in found["topics"]}
        assert topic in topics, (title, found["topics"])
        assert topics[topic]["confident"] and topics[topic]["evidence"], title
        assert {a["slug"] for a in found["areas"]} | set(topics) <= known, title
    # A TCOLE course number decides the mandate on its own.
    numbered = results[0].to_dict()["topics"][0]["evidence"][0]
    assert numbered["kind"] == "identifier" and "tcole:1849" in numbered["text"]
    # Texas refuses credit for annual firearms proficiency: not called continuing education.
    qual = engine.suggest(CourseInput(title="Annual Firearms Proficiency Qualification")).to_dict()
    assert not qual["areas"][0]["confident"] and not qual["topics"]
    assert any("blocked" in e["text"] for e in qual["areas"][0]["evidence"])
    # Same code, other data: Missouri's engine reads the same title in Missouri's categories.
    missouri = get_engine(db.session, default_jurisdiction(db.session, "MO"))
    mo = missouri.suggest(CourseInput(title="Cultural Diversity (3939)")).to_dict()
    assert mo["areas"][0]["slug"] == "interpersonal-perspectives"


# --- provider import and staff decisions ----------------------------------------------------------


@TEXAS
def test_provider_import_and_staff_decisions_follow_texas_rules(client, make_provider, make_user):
    seed()
    auth = tokens(make_provider, make_user)
    # A Missouri area is not a Texas area: the whole file is refused, naming the row.
    refused = import_catalog(
        client,
        auth["provider"],
        CATALOG + [{"title": "Legal Update", "hours": 2, "area_hours": "legal-studies:2"}],
    )
    assert refused.status_code == 422, refused.json
    assert refused.json["created"] == 0
    (error,) = refused.json["errors"]
    assert error["row"] == 4 and "legal-studies" in error["message"]  # the 4th course
    assert "continuing-education" in error["message"]
    assert db.session.scalar(select(func.count(Course.id))) == 0

    created = import_catalog(client, auth["provider"])
    assert created.status_code == 201, created.json
    assert created.json["created"] == 3 and created.json["errors"] == []
    deesc, diversity, qual = by_code("LS-1849"), by_code("LS-3939"), by_code("LS-QUAL")
    assert {c.jurisdiction.code for c in (deesc, diversity, qual)} == {"TX"}
    suggested = {t["slug"] for t in deesc.suggestion["topics"]}
    assert "de-escalation" in suggested and deesc.suggestion["areas"][0]["evidence"]

    decide = lambda course, body: client.post(  # noqa: E731
        f"/api/v1/courses/{course.id}/decision",
        json={"version": course.version, **body},
        headers=auth["staff"],
    )
    ok = decide(deesc, {"action": "approve"})
    assert ok.status_code == 200, ok.json
    assert ok.json["areas"] == [{"slug": "continuing-education", "hours": "4"}]
    assert ok.json["topics"] == ["de-escalation"]
    # Approved until the end of the Texas training unit covering today (from the data).
    unit = current_unit("TX")
    expected = unit.ends_on if unit is not None else end_of_year(dt.date.today())
    assert ok.json["approved_until"] == expected.isoformat()
    if unit is not None:
        assert (expected.month, expected.day) == (8, 31)

    for body, message in (
        ({"areas": [{"slug": "legal-studies", "hours": 2}]}, "'legal-studies' is not an area"),
        ({"areas": [{"slug": "continuing-education", "hours": 1}]}, "add up to 1"),
        (
            {"areas": [{"slug": "continuing-education", "hours": 2}], "topics": ["firearms"]},
            "'firearms' is not a topic",
        ),
    ):
        refused = decide(qual, {"action": "override", **body})
        assert refused.status_code == 422, refused.json
        assert message in refused.json["error"], refused.json
    rejected = decide(qual, {"action": "reject", "note": "Annual proficiency earns no CE credit."})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    overridden = decide(
        diversity,
        {
            "action": "override",
            "areas": [{"slug": "continuing-education", "hours": 8}],
            "topics": ["cultural-diversity"],
        },
    )
    assert overridden.status_code == 200, overridden.json
    assert overridden.json["topics"] == ["cultural-diversity"]


# --- public pages ---------------------------------------------------------------------------------


@TEXAS
def test_public_pages_state_the_texas_requirement(client, make_provider, make_user):
    seed()
    auth = tokens(make_provider, make_user)
    assert import_catalog(client, auth["provider"]).status_code == 201
    deesc = by_code("LS-1849")
    approved = client.post(
        f"/api/v1/courses/{deesc.id}/decision",
        json={"action": "approve", "version": deesc.version, "control_number": "1849"},
        headers=auth["staff"],
    )
    assert approved.status_code == 200, approved.json

    start = text_of(client.get("/"))
    unit = current_unit("TX") or db.session.scalar(
        select(RequirementSet)
        .join(Jurisdiction)
        .where(Jurisdiction.code == "TX")
        .order_by(RequirementSet.starts_on.desc())
    )
    assert f"What {unit.name} requires" in start
    assert "<strong>40 hours</strong> in total" in start
    assert "Find approved Texas continuing education courses" in start
    assert "TCOLE continuing education (CE) course catalog." in start
    assert "40-hour training unit" in start
    assert 'data-requirement="active-shooter"' in start and "16 hours needed" in start
    assert 'data-requirement="de-escalation"' in start
    for missouri in ("Missouri", "CLEE", "Legal Studies", 'data-requirement="legal-studies"'):
        assert missouri not in start

    listing = text_of(client.get("/courses?topic=de-escalation"))
    assert "TCOLE #1849 De-escalation Techniques" in listing
    assert "of De-escalation (1849)</strong>, counted inside the 40 hours" in listing
    assert "Approved courses – TCOLE" in listing
    found = client.get("/courses.json?topic=de-escalation").json
    assert [c["id"] for c in found["courses"]] == [deesc.id]
    (area,) = found["courses"][0]["areas"]
    assert area["slug"] == "continuing-education" and Decimal(str(area["hours"])) == 4
    assert found["courses"][0]["topics"] == ["de-escalation"]
    page = text_of(client.get(f"/courses/{deesc.id}"))
    assert "<dt>TCOLE course number</dt>" in page and "– TCOLE</title>" in page
    assert '"propertyID": "TCOLE course number"' in page


# --- Missouri stays as it was ---------------------------------------------------------------------


def test_missouri_default_is_unchanged_by_a_second_state(app, app_factory, tmp_path):
    """Missouri-only seed, pages rendered; then Texas is added: Missouri's pages stay identical."""
    missouri_only = tmp_path / "seed_data"
    shutil.copytree(SEED_DIR, missouri_only, ignore=shutil.ignore_patterns("tx"))
    seed_all(db.session, missouri_only, served_code=jurisdiction_code(), demo=True)
    db.session.commit()
    pages = [
        "/",
        "/courses",
        "/courses?topic=de-escalation",
        "/courses?area=legal-studies",
        "/courses.json?topic=de-escalation",
        "/courses.csv?topic=implicit-bias",
    ]

    def render() -> dict[str, str]:
        # Another app, so each request has its own app context (and `g`), as in production.
        client = app_factory().test_client()
        return {p: text_of(client.get(p)) for p in pages}

    before = render()
    report = seed()  # every folder: adds Texas next to Missouri
    assert report.created.get("jurisdictions") == 1
    assert served().code == "MO"
    after = render()
    assert after == before

    start = after["/"]
    assert "Find approved Missouri CLEE courses" in start
    assert "Missouri POST continuing law enforcement education (CLEE) course catalog." in start
    assert "24-hour year" in start and "TCOLE" not in start and "Continuing Education" not in start
    # The Missouri topic filter finds Missouri courses, not the Texas category of the same slug.
    listing = json.loads(after["/courses.json?topic=de-escalation"])
    assert listing["total"] > 0
    assert {c["areas"][0]["slug"] for c in listing["courses"]} <= {
        "legal-studies",
        "technical-studies",
        "interpersonal-perspectives",
        "skill-development",
    }


# --- a code that does not exist -----------------------------------------------------------------


@pytest.mark.app_config(CATALOG_JURISDICTION="ZZ")
def test_unknown_jurisdiction_code_is_a_clear_error(app, client, runner, users, login):
    seeded = runner.invoke(args=["seed"])
    assert seeded.exit_code == 1
    assert "No jurisdiction 'ZZ' to seed" in seeded.output and "MO, TX" in seeded.output
    assert db.session.scalar(select(func.count(Jurisdiction.id))) == 0  # nothing written

    app.config["CATALOG_JURISDICTION"] = None  # seed as a Missouri deployment would ...
    seed()
    app.config["CATALOG_JURISDICTION"] = "ZZ"  # ... then serve a code that is not there
    with pytest.raises(NotFound) as caught:
        served()
    assert "No jurisdiction 'ZZ' is set up" in caught.value.message
    assert "this database has MO, TX" in caught.value.message
    page = client.get("/")
    assert page.status_code == 404 and "No jurisdiction &#39;ZZ&#39; is set up" in text_of(page)
    api = client.get("/courses.json")
    assert api.status_code == 404 and "CATALOG_JURISDICTION=ZZ" in api.json["error"]
    login(users["staff"])
    queue = client.get("/review/")  # an error, not a silently empty queue
    assert queue.status_code == 404 and "ZZ" in text_of(queue)


def test_jurisdiction_setting_is_validated(database_url, monkeypatch):
    monkeypatch.setenv("CATALOG_JURISDICTION", " tx ")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": database_url})
    assert app.config["CATALOG_JURISDICTION"] == "TX"
    monkeypatch.setenv("CATALOG_JURISDICTION", "")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": database_url})
    assert app.config["CATALOG_JURISDICTION"] is None
    monkeypatch.setenv("CATALOG_JURISDICTION", "Texas!")
    with pytest.raises(ConfigError, match="CATALOG_JURISDICTION"):
        create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": database_url})

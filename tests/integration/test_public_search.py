"""Full-text search of the published catalog on SQLite (FTS5) and PostgreSQL (tsvector, pg_trgm):
hyphen variants, highlighting, index triggers, query syntax never reaching the engine."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.extensions import db
from catalog.models import Category
from catalog.services.courses import set_course_categories
from catalog.services.publishing import search as fulltext
from catalog.services.suggesting import categories_by_slug


def ids(client, **params) -> set[int]:
    response = client.get("/courses.json", query_string={"per_page": 100, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {c["id"] for c in response.get_json()["courses"]}


# -- parsing (no database) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["De-Escalation", "de escalation", "deescalation", "DE‐ESCALATION"]
)
def test_hyphen_variants_parse_to_the_same_query(text):
    parsed = fulltext.parse(text)
    assert parsed.fts5() == '("deescalation" OR "de escalation")'
    assert parsed.websearch_args() == [["deescalation", '"de escalation"']]


def test_hyphen_and_space_give_the_same_words():
    assert fulltext.parse("use-of-force").terms == fulltext.parse("use of force").terms
    assert fulltext.parse("Use‐of‐Force").fts5() == '("use") AND ("of") AND ("force")'


@pytest.mark.parametrize("text", ["", '"', "_ _", "***", "()", "   "])
def test_nothing_searchable_is_none(text):
    assert fulltext.parse(text) is None


def test_marked_escapes_text_and_marks_only_matches():
    html = str(fulltext.marked("<b>\x01De\x02-\x01escalation\x02 & more"))
    assert html == "&lt;b&gt;<mark>De</mark>-<mark>escalation</mark> &amp; more"
    assert str(fulltext.marked("\x01unclosed")) == "<mark>unclosed</mark>"


# -- both databases -------------------------------------------------------------------------------


@pytest.fixture
def deesc(make_course):
    return {
        "hyphen": make_course("Introduction to De-escalation (1 hour)").id,
        "joined": make_course("Deescalation for Patrol Officers").id,
        "spaced": make_course("Street Skills", description="Verbal de escalation under stress.").id,
        "other": make_course("Escalation of Force Reporting").id,
        "unrelated": make_course("Missouri Legal Update 2026").id,
    }


def test_three_spellings_find_the_same_courses(client, deesc):
    wanted = {deesc["hyphen"], deesc["joined"], deesc["spaced"]}
    for text in ("deescalation", "de escalation", "De-Escalation", "DE-ESCALATING"):
        assert ids(client, q=text) == wanted, text


def test_matched_words_are_highlighted(client, deesc):
    html = client.get("/courses", query_string={"q": "de escalation"}).get_data(as_text=True)
    assert re.search(r"<mark>De</mark>-<mark>escalation</mark>|<mark>De-escalation</mark>", html)
    assert "<mark>Deescalation</mark>" in html


def test_relevance_puts_title_matches_first(client, make_course):
    body = make_course("Patrol Procedures", description="Includes a short note on firearms.").id
    title = make_course("Firearms Qualification", delivery="in-person").id
    courses = client.get("/courses.json", query_string={"q": "firearms"}).get_json()["courses"]
    assert [c["id"] for c in courses] == [title, body]


def test_pages_of_a_text_search_follow_the_relevance_order(client, make_course):
    """The page's ids (with their rank) are chosen first and only those rows are read and
    highlighted: pages put together are the one ranked list, each row highlighted."""
    for i in range(4):
        make_course(f"Firearms Qualification {i}", delivery="in-person")
        make_course(f"Patrol Note {i}", description="firearms " + "filler words " * (i + 1))
        make_course(f"Legal Update {i}")
    whole = client.get("/courses.json", query_string={"q": "firearms", "per_page": 100})
    ranked = [c["id"] for c in whole.get_json()["courses"]]
    assert len(ranked) == 8
    csv_ids = [
        int(line.split(",")[0])
        for line in client.get("/courses.csv?q=firearms").get_data(as_text=True).splitlines()[1:]
    ]
    assert csv_ids == ranked
    paged = []
    for page in (1, 2, 3):
        query = {"q": "firearms", "per_page": 3, "page": page}
        courses = client.get("/courses.json", query_string=query).get_json()["courses"]
        paged += [c["id"] for c in courses]
        html = client.get("/courses", query_string=query).get_data(as_text=True)
        assert html.count("<mark>Firearms</mark>") + html.count("<mark>firearms</mark>") >= len(
            courses
        )
    assert paged == ranked


def test_index_follows_title_category_and_delete_changes(app, client, make_course, taxonomy):
    course = make_course("Report Writing Basics")
    assert ids(client, q="report") == {course.id}
    course.title = "Courtroom Testimony"
    db.session.commit()
    assert ids(client, q="report") == set()
    assert ids(client, q="testimony") == {course.id}
    # Category names are searchable: give it the implicit-bias topic.
    assert ids(client, q="implicit bias") == set()
    categories = categories_by_slug(db.session, taxonomy)
    set_course_categories(
        course,
        "decided",
        {"interpersonal-perspectives": course.hours},
        ["implicit-bias"],
        categories,
    )
    db.session.commit()
    assert ids(client, q="implicit bias") == {course.id}
    category = db.session.get(Category, categories["implicit-bias"].id)
    category.name = "Unconscious Bias"
    db.session.commit()
    assert ids(client, q="unconscious") == {course.id}
    db.session.delete(course)
    db.session.commit()
    assert ids(client, q="testimony") == set()


def test_close_matches_when_nothing_matches_exactly(client, deesc):
    # One letter off a word of the catalog: the corrected query's results.
    response = client.get("/courses.json", query_string={"q": "deescalaton"}).get_json()
    assert response["close_matches"] is True
    assert response["corrected_query"] == "deescalation"
    assert deesc["joined"] in {c["id"] for c in response["courses"]}
    assert any("showing results for “deescalation”" in n for n in response["notices"])
    # Too far from any word for a correction: close matches (word beginnings).
    response = client.get("/courses.json", query_string={"q": "deescalatxxxx"}).get_json()
    assert response["close_matches"] is True and response["corrected_query"] is None
    assert deesc["joined"] in {c["id"] for c in response["courses"]}
    assert any("close matches" in n for n in response["notices"])


def test_no_match_is_an_empty_list_not_an_error(client, deesc):
    response = client.get("/courses", query_string={"q": "zzzzqqq xxyyzz"})
    assert response.status_code == 200
    assert "No approved course matches" in response.get_data(as_text=True)


QUERY_TEXT = st.text(
    alphabet=st.sampled_from(list("\"*()^:-+~&|!<>'\\ {}[]NEAROTD-escal\u2010é\x00%_")),
    max_size=40,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=QUERY_TEXT)
def test_search_syntax_characters_never_cause_an_error(client, deesc, text):
    response = client.get("/courses.json", query_string={"q": text})
    assert response.status_code == 200, (text, response.get_data(as_text=True))

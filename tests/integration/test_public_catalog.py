"""The published catalog on both databases: filters and facets, paging edges, invalid arguments,
publication rules on every public surface, requirement finder, bounded SQL per page."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from catalog.extensions import db


def get_json(client, **params):
    response = client.get("/courses.json", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(client, **params) -> set[int]:
    return {c["id"] for c in get_json(client, per_page=100, **params)["courses"]}


@pytest.fixture
def catalog(make_course):
    """A small published catalog covering every facet value we filter on."""
    c = {}
    c["deesc_online"] = make_course(
        "Introduction to De-escalation (1 hour)",
        provider="virtual-academy",
        delivery="online",
        areas={"skill-development": 1},
        topics=["de-escalation"],
    )
    c["deesc_long"] = make_course(
        "De-escalation and Crisis Intervention",
        provider="mid-mo",
        hours="4",
        areas={"skill-development": 2, "interpersonal-perspectives": 2},
        topics=["de-escalation"],
    )
    c["half"] = make_course(
        "De-escalation Roll Call",
        provider="mid-mo",
        hours="0.5",
        areas={"skill-development": Decimal("0.5")},
        topics=["de-escalation"],
    )
    c["firearms"] = make_course(
        "Handgun Qualification",
        provider="mid-mo",
        hours="2",
        delivery="blended",
        areas={"skill-development": 2},
        topics=["firearms"],
    )
    c["bias"] = make_course(
        "Implicit Bias in Policing",
        provider="virtual-academy",
        delivery="online",
        areas={"interpersonal-perspectives": 1},
        topics=["implicit-bias", "racial-profiling"],
    )
    c["legal"] = make_course(
        "Missouri Legal Update",
        provider="virtual-academy",
        hours="2",
        delivery="live-virtual",
        areas={"legal-studies": 2},
    )
    return {k: v.id for k, v in c.items()}


# -- filters ---------------------------------------------------------------------------------------


def test_each_filter(client, catalog):
    c = catalog
    assert ids(client) == set(c.values())
    assert ids(client, topic="de-escalation") == {c["deesc_online"], c["deesc_long"], c["half"]}
    assert ids(client, area="legal-studies") == {c["legal"]}
    assert ids(client, hours="2") == {c["firearms"], c["legal"]}
    assert ids(client, max_hours="1") == {c["deesc_online"], c["half"], c["bias"]}
    assert ids(client, delivery="online") == {c["deesc_online"], c["bias"]}
    assert ids(client, provider="mid-mo") == {c["deesc_long"], c["half"], c["firearms"]}
    assert ids(client, q="handgun") == {c["firearms"]}


def test_or_within_a_facet_and_across_facets(client, catalog):
    c = catalog
    assert ids(client, topic=["de-escalation", "firearms"]) == {
        c["deesc_online"],
        c["deesc_long"],
        c["half"],
        c["firearms"],
    }
    assert ids(client, delivery=["online", "blended"]) == {
        c["deesc_online"],
        c["bias"],
        c["firearms"],
    }
    assert ids(client, topic="de-escalation", delivery="online") == {c["deesc_online"]}
    assert ids(client, topic="de-escalation", hours=["1", "4"]) == {
        c["deesc_online"],
        c["deesc_long"],
    }
    assert ids(client, q="de-escalation", provider="mid-mo", max_hours="1") == {c["half"]}
    assert ids(client, area=["legal-studies", "interpersonal-perspectives"], delivery="online") == {
        c["bias"]
    }


def test_facet_counts_leave_out_their_own_filter(client, catalog):
    data = get_json(client, topic="de-escalation")
    facets = {name: {v["value"]: v for v in values} for name, values in data["facets"].items()}
    assert data["total"] == 3
    # The topic facet still counts other topics (so a second one can be added with OR) ...
    assert facets["topic"]["de-escalation"]["count"] == 3
    assert facets["topic"]["de-escalation"]["selected"] is True
    assert facets["topic"]["firearms"]["count"] == 1
    # ... while the other facets count within the selection.
    assert facets["delivery"]["online"]["count"] == 1
    assert facets["delivery"]["in-person"]["count"] == 2
    assert facets["provider"]["mid-mo"]["count"] == 2
    assert {k: v["count"] for k, v in facets["hours"].items()} == {"0.5": 1, "1": 1, "4": 1}
    assert facets["area"]["skill-development"]["count"] == 3
    # Toggle links add or remove exactly one value and go back to page 1.
    assert "topic=firearms" in facets["topic"]["firearms"]["url"]
    assert "topic=de-escalation" in facets["topic"]["firearms"]["url"]
    assert "topic=" not in facets["topic"]["de-escalation"]["url"]
    follow = client.get(facets["delivery"]["online"]["url"]).get_json()
    assert {c["id"] for c in follow["courses"]} == {catalog["deesc_online"]}


def test_json_contract_shape(client, catalog):
    data = get_json(client, q="introduction")
    assert set(data) >= {"total", "page", "next", "courses"}
    (course,) = data["courses"]
    assert set(course) >= {
        "id",
        "title",
        "provider",
        "provider_name",
        "hours",
        "delivery",
        "areas",
        "topics",
        "url",
        "approved_until",
    }
    assert course["provider"] == "virtual-academy"
    assert course["hours"] == 1
    assert course["areas"] == [{"slug": "skill-development", "hours": 1}]
    assert course["topics"] == ["de-escalation"]
    assert course["url"].endswith(f"/courses/{catalog['deesc_online']}")
    assert dt.date.fromisoformat(course["approved_until"]) >= dt.date.today()


def test_sorting(client, catalog):
    c = catalog

    def by(sort):
        return [x["id"] for x in get_json(client, sort=sort, topic="de-escalation")["courses"]]

    assert by("fit") == [c["deesc_online"], c["half"], c["deesc_long"]]  # one-hour first
    assert by("hours") == [c["half"], c["deesc_online"], c["deesc_long"]]
    assert by("title") == [c["deesc_long"], c["half"], c["deesc_online"]]
    assert by("newest")[0] == c["half"]


# -- paging and invalid arguments -----------------------------------------------------------------


def test_pagination_edges(client, catalog):
    first = get_json(client, per_page=2)
    assert first["total"] == 6 and first["page"] == 1 and len(first["courses"]) == 2
    second = client.get(first["next"]).get_json()
    third = client.get(second["next"]).get_json()
    assert third["next"] is None
    seen = [c["id"] for page in (first, second, third) for c in page["courses"]]
    assert sorted(seen) == sorted(catalog.values())

    past = get_json(client, page=99)
    assert past["courses"] == [] and past["next"] is None and past["total"] == 6
    assert any("past the end" in n for n in past["notices"])
    html = client.get("/courses?page=99").get_data(as_text=True)
    assert "past the end" in html

    assert get_json(client, per_page=1000)["per_page"] == 100
    for bad in (
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"per_page": "x"},
        {"per_page": "0"},
    ):
        response = client.get("/courses.json", query_string=bad)
        assert response.status_code == 400, bad
        assert set(response.get_json()) == {"error", "details"}
        assert list(bad)[0] in response.get_json()["error"]
        html = client.get("/courses", query_string=bad)
        assert html.status_code == 400 and list(bad)[0] in html.get_data(as_text=True)


def test_unknown_filter_values_are_ignored_with_a_notice(client, catalog):
    response = client.get(
        "/courses",
        query_string={
            "area": "astrology",
            "topic": "<script>",
            "hours": "lots",
            "max_hours": "-3",
            "delivery": "carrier-pigeon",
            "provider": "nobody",
            "sort": "random",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for word in ("astrology", "lots", "carrier-pigeon", "nobody", "random", "&lt;script&gt;"):
        assert word in html, word
    assert "<script>" not in html.split("</head>")[1].replace('<script src="', "")
    data = get_json(client, area="astrology", delivery="online")
    assert {c["id"] for c in data["courses"]} == {catalog["deesc_online"], catalog["bias"]}
    assert len(data["notices"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "page=1e9",
        "page=99999999999999999999",
        "per_page=-5",
        "hours=NaN&hours=Infinity&max_hours=1e400",
        "q=%00&provider=%00&area=%00",
        "topic=de-escalation&topic=de-escalation&" + "&".join(f"hours={i}" for i in range(40)),
        "q=" + "x" * 5000,
        "sort=relevance",
    ],
)
def test_odd_arguments_never_500(client, catalog, query):
    for path in ("/courses", "/courses.json", "/courses.csv", "/courses.xlsx", "/courses.atom"):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (200, 400), (path, query, response.status_code)


# -- publication rules ------------------------------------------------------------------------------


def test_unpublished_courses_are_never_shown(client, make_course):
    today = dt.date.today()
    good = make_course("Secret Squirrel Published")
    hidden = [
        make_course("Secret Squirrel Pending", status="pending", approved_until=None),
        make_course("Secret Squirrel Rejected", status="rejected", approved_until=None),
        make_course("Secret Squirrel Withdrawn", status="withdrawn"),
        make_course("Secret Squirrel Expired", approved_until=today - dt.timedelta(days=1)),
        make_course("Secret Squirrel Undated", approved_until=None),
    ]
    hidden_titles = [c.title for c in hidden]
    assert ids(client, q="squirrel") == {good.id}
    assert ids(client) == {good.id}
    assert get_json(client)["total"] == 1
    for path in ("/courses?q=squirrel", "/courses", "/courses.csv", "/courses.atom", "/"):
        body = client.get(path).get_data(as_text=True).replace("<mark>", "").replace("</mark>", "")
        assert good.title in body or path == "/", path
        for title in hidden_titles:
            assert title not in body, (path, title)
    workbook = load_workbook(io.BytesIO(client.get("/courses.xlsx").data), read_only=True)
    cells = {str(v) for row in workbook.active.iter_rows(values_only=True) for v in row}
    assert good.title in cells and not cells & set(hidden_titles)
    assert client.get(f"/courses/{good.id}").status_code == 200
    for course in hidden:
        assert client.get(f"/courses/{course.id}").status_code == 404
    assert client.get("/courses/999999").status_code == 404
    # Expiry is checked against today, not stored state: approved until today is still shown.
    make_course("Secret Squirrel Last Day", approved_until=today)
    assert get_json(client, q="squirrel")["total"] == 2


# -- course page ---------------------------------------------------------------------------------


def test_course_page_and_json_ld_escaping(client, make_course):
    nasty = '</script><script>alert("x")</script> & <!-- Intro'
    course = make_course(
        nasty,
        hours="2",
        delivery="blended",
        areas={"skill-development": 1, "technical-studies": 1},
        topics=["firearms"],
        description="Fires </SCRIPT > too",
        url="javascript:alert(1)",
    )
    response = client.get(f"/courses/{course.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert (
        "javascript:alert" not in html.split("<body>")[-1].replace("&#34;", "")
        or 'href="javascript' not in html
    )
    assert 'href="javascript' not in html
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    assert "<" not in blocks[0] and ">" not in blocks[0] and "&" not in blocks[0]
    data = json.loads(blocks[0])
    assert data["@type"] == "Course"
    assert data["name"] == nasty
    assert data["courseCode"] == course.control_number
    assert data["provider"]["name"] == "Acme Academy"
    assert data["hasCourseInstance"]["courseMode"] == "blended"
    for text in ("Skill Development", "Technical Studies", "Firearms", course.control_number):
        assert text in html


# -- exports ---------------------------------------------------------------------------------------


def test_csv_is_streamed_complete_and_formula_safe(client, make_course):
    for i in range(23):
        make_course(f"Bulk Course {i:02d}")
    dangerous = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
    for title in dangerous:
        make_course(title, description="dangerous")
    response = client.get("/courses.csv?per_page=5")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    import csv

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:9] == [
        "id",
        "title",
        "provider",
        "hours",
        "delivery",
        "areas",
        "topics",
        "url",
        "approved_until",
    ]
    assert len(rows) == 1 + 23 + len(dangerous)  # every row, no paging
    titles = {r[1] for r in rows[1:]}
    for title in dangerous:
        assert "'" + title in titles
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    bulk = next(r for r in rows if r[1] == "Bulk Course 00")
    assert bulk[5] == "skill-development:1" and bulk[3] == "1"

    workbook = load_workbook(io.BytesIO(client.get("/courses.xlsx").data))
    sheet = workbook.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["id", "title", "provider"]
    assert len(values) == 1 + 23 + len(dangerous)
    for row in sheet.iter_rows(min_row=2):
        # Text cells, never formulas; a dangerous title is kept as typed (no visible
        # apostrophe) and marked quote-prefixed so editing it keeps it text.
        assert row[1].data_type == "s"
        assert row[1].quotePrefix == (not row[1].value.startswith("Bulk Course"))
    # (XML turns the carriage return into a line feed.)
    assert {v[1] for v in values[1:]} >= set(dangerous) - {"\rCR"}


def test_atom_feed_lists_newest_approvals_for_the_filters(client, make_course):
    now = dt.datetime(2026, 11, 1, 12, 0)
    older = make_course("Old Firearms", topics=["firearms"], approved_at=now - dt.timedelta(days=9))
    newer = make_course("New Firearms", topics=["firearms"], approved_at=now)
    make_course("Legal Update", areas={"legal-studies": 1}, approved_at=now)
    response = client.get("/courses.atom?topic=firearms")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ElementTree.fromstring(response.data)
    titles = [e.find("a:title", ns).text for e in feed.findall("a:entry", ns)]
    assert titles == [newer.title, older.title]


def test_export_command(runner, make_course, tmp_path):
    make_course("Exported Course", topics=["de-escalation"])
    make_course("Hidden Pending", status="pending", approved_until=None)
    result = runner.invoke(args=["export", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "Exported 1 approved course" in result.output
    text = (tmp_path / "out.csv").read_text()
    assert "Exported Course" in text and "Hidden Pending" not in text
    result = runner.invoke(args=["export", str(tmp_path / "out.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out.json").read_text())
    assert [c["title"] for c in data["courses"]] == ["Exported Course"]
    assert data["courses"][0]["topics"] == ["de-escalation"]
    result = runner.invoke(args=["export", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and "csv or .json" in result.output


# -- requirement finder ----------------------------------------------------------------------------


def test_finder_reads_the_current_requirement_set(client, catalog):
    from catalog.services.requirements import current_set

    period = current_set(db.session, dt.date.today())
    html = client.get("/").get_data(as_text=True)
    assert f"What {period.name} requires" in html
    assert "topic=de-escalation" in html and "area=legal-studies" in html
    assert 'data-requirement="firearms"' in html
    assert "3 approved courses · 1 of one hour · 1 online" in html  # de-escalation card
    # The page follows the data: change the de-escalation minimum.
    requirement = next(r for r in period.requirements if r.category.slug == "de-escalation")
    requirement.min_hours = Decimal(3)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "3 hours needed" in html

    page = client.get("/courses?topic=de-escalation&sort=fit").get_data(as_text=True)
    assert f"{period.name}" in page and "3 hours of De-escalation" in page
    first = page.index("Introduction to De-escalation")
    assert first < page.index("De-escalation Roll Call") < page.index("De-escalation and Crisis")
    assert "chip online" in page  # online courses are marked


def test_firearms_finder_link_keeps_live_delivery_only(client, catalog):
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'href="([^"]*topic=firearms[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "delivery=in-person" in link and "delivery=blended" in link
    page = client.get(link).get_data(as_text=True)
    assert "Handgun Qualification" in page and "Only in-person or blended" in page


# -- bounded SQL -------------------------------------------------------------------------------------


@pytest.fixture
def count_queries(app):
    counter = {"n": 0}

    def listener(conn, cursor, statement, *args, **kwargs):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
            counter["n"] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    yield counter
    event.remove(db.engine, "before_cursor_execute", listener)


def test_queries_per_page_are_bounded(client, catalog, make_course, count_queries):
    urls = [
        "/courses?q=de-escalation&topic=de-escalation&provider=mid-mo",
        "/courses.json?topic=de-escalation&delivery=online&delivery=in-person",
        "/courses",
        "/",
    ]

    def measure() -> list[int]:
        out = []
        for url in urls:
            count_queries["n"] = 0
            assert client.get(url).status_code == 200
            out.append(count_queries["n"])
        return out

    measure()  # warm up: a new PostgreSQL connection runs a few set-up queries of its own
    small = measure()
    for i in range(30):
        make_course(
            f"More De-escalation {i}",
            provider=f"p{i % 7}",
            topics=["de-escalation", "implicit-bias"],
            areas={
                "skill-development": Decimal("0.5"),
                "interpersonal-perspectives": Decimal("0.5"),
            },
        )
    measure()  # the first request after a publish reloads the worker's copy (a few queries)
    large = measure()
    assert large == small
    assert max(large) <= 10, large


def test_facet_links_are_what_url_for_builds(app):
    from flask import url_for

    from catalog.public.routes import _link
    from catalog.services.publishing.query import query_string

    cases = [
        {},
        {"q": 'de-escalation & "bias" 100% é/?#', "topic": ["de-escalation", "firearms"]},
        {"hours": ["0.5", "1"], "max_hours": "2", "provider": ["a+b", "c d"], "page": "3"},
        {"area": ["legal-studies"], "q": "!$'()*,/:;?@=[]"},
    ]
    with app.test_request_context("/courses"):
        for endpoint in ("public.courses", "public.courses_json"):
            link = _link(endpoint)
            for args in cases:
                assert link(query_string(args)) == url_for(endpoint, **args), args


def test_facet_toggle_strings_are_the_toggled_arguments_encoded():
    from decimal import Decimal

    from catalog.services.publishing.query import CourseQuery, query_string

    queries = [
        CourseQuery(),
        CourseQuery(
            q='de-escalation & "bias" 100% é/?#',
            areas=("legal-studies",),
            hours=(Decimal("1.00"), Decimal("0.50")),
            sort="title",
            per_page=50,
            page=3,
        ),
        CourseQuery(
            topics=("firearms",),
            providers=("a+b", "c d"),
            max_hours=Decimal("2"),
            deliveries=("remote",),
        ),
    ]
    values = {
        "area": ["legal-studies", "skill-development"],
        "topic": ["firearms", "implicit-bias"],
        "hours": [Decimal("1.00"), Decimal("4.00")],
        "delivery": ["online", "remote"],
        "provider": ["a+b", "p 3"],
    }
    for query in queries:
        for facet, wanted in values.items():
            assert query.toggled_strings(facet, wanted) == [
                query_string(query.toggled(facet, v)) for v in wanted
            ], (query, facet)

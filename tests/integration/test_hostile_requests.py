"""Hostile requests (issue 8 item 3): search parameters, the decision API, markup in every field.

- Search: /courses, /courses.json and /courses.csv with hypothesis-generated values of every
  parameter (injection-looking text, FTS syntax, NUL and control characters, 100 kB values,
  invalid percent-encoding) never answer 5xx.
- Decision API: random JSON bodies (wrong types, huge numbers, negative/NaN hours, unknown slugs,
  missing version, extra keys) answer 4xx with {"error", "details"} and write nothing unless 200.
- Markup: a provider, courses, catalog rows, users and notes carrying script/img/javascript:
  payloads are shown escaped on every page that renders them; JSON-LD stays one valid JSON
  <script> element; javascript: URLs are never emitted as links.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
import xml.dom.minidom

import pytest
import sqlalchemy as sa
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.extensions import db

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

NASTY = [
    "' OR 1=1 --",
    '" OR ""="',
    "1; DROP TABLE courses; --",
    "NEAR(",
    '"a" * AND',
    "a OR",
    "NOT",
    "*",
    '"',
    "title:firearms",
    "fire^arms",
    "{a b}",
    "a AND (b OR",
    "%",
    "_",
    "\\",
    "\x00",
    "\x01\x1b[31m",
    "\ud7ff\ue000",
    "\u202e",
    "0x7fffffff",
    "-1",
    "1e999",
    "NaN",
    "9" * 400,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "%ZZ",
    "%",
    "%e2%28%a1",
]
PARAMS = [
    "q",
    "area",
    "topic",
    "hours",
    "max_hours",
    "delivery",
    "provider",
    "page",
    "per_page",
    "sort",
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _fresh(client):
    for name in ("_login_user", "api_user"):
        g.pop(name, None)
    return client


@pytest.fixture
def catalog_world(app, taxonomy, make_course):
    make_course(
        "Firearms Qualification",
        provider="acme-academy",
        hours="2",
        areas={"skill-development": "2"},
        topics=["firearms"],
    )
    make_course(
        "Legal Update: Use of Force",
        provider="acme-academy",
        hours="1",
        delivery="online",
        areas={"legal-studies": "1"},
    )
    return app


@SETTINGS
@given(
    params=st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=6),
    path=st.sampled_from(["/courses", "/courses.json", "/courses.csv"]),
)
def test_search_parameters_never_give_a_server_error(catalog_world, client, params, path):
    query = urllib.parse.urlencode(params)
    answer = _fresh(client).get(f"{path}?{query}")
    assert answer.status_code < 500, (path, params, answer.status_code)
    assert answer.status_code in (200, 400), (path, params, answer.status_code)
    body = answer.get_data()
    answer.close()
    if path == "/courses.json" and answer.status_code == 200:
        assert "courses" in json.loads(body)


@pytest.mark.parametrize(
    "raw",
    [
        "q=%ZZ",
        "q=%",
        "q=%e2%28%a1",
        "q=%00",
        "area=%FF%FE",
        "page=%C0%AF",
        "q=a%20NEAR(b",
        "per_page=%2D1",
        "q=" + "x" * 100_000,
        "q=" + "%41" * 30_000,
        "hours=" + "9" * 5000,
        "q=a&q=b&" * 200,
        "provider=" + "%2e%2e%2f" * 100,
        "q=%F0%9F%94%A5%F0",
        "delivery=%0d%0aX:1",
    ],
)
def test_raw_query_strings_never_give_a_server_error(catalog_world, client, raw):
    for path in ("/courses", "/courses.json", "/courses.csv"):
        answer = _fresh(client).get(f"{path}?{raw}")
        assert answer.status_code in (200, 400), (path, raw[:80], answer.status_code)
        answer.get_data()
        answer.close()
        assert "\r\nX:1" not in str(answer.headers)


# -- decision API --------------------------------------------------------------------------------


def _api_state(course_id):
    from catalog.models import AuditEntry, Course, CourseCategory

    db.session.expire_all()
    course = db.session.get(Course, course_id)
    return (
        course.version,
        course.status,
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
        tuple(
            sorted(
                (c.category_id, c.source, str(c.hours))
                for c in db.session.scalars(
                    sa.select(CourseCategory).where(CourseCategory.course_id == course_id)
                )
            )
        ),
    )


AREA_SLUGS = [
    "legal-studies",
    "technical-studies",
    "interpersonal-perspectives",
    "skill-development",
    "firearms",
    "nope",
    "",
    "<b>x</b>",
]
HOURS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["NaN", "-1", "1e400", "0", "0.0000001", "Infinity", "2"]),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda i: st.lists(i, max_size=3) | st.dictionaries(st.text(max_size=5), i, max_size=3),
    max_leaves=8,
)
BODIES = st.one_of(
    ANY,
    st.fixed_dictionaries(
        {
            "action": st.one_of(
                st.sampled_from(["approve", "override", "reject", "APPROVE", ""]), ANY
            )
        },
        optional={
            "version": st.one_of(
                st.integers(min_value=-(10**20), max_value=10**20), ANY, st.just(1)
            ),
            "areas": st.one_of(
                ANY,
                st.lists(
                    st.fixed_dictionaries(
                        {"slug": st.sampled_from(AREA_SLUGS)}, optional={"hours": HOURS}
                    ),
                    max_size=4,
                ),
            ),
            "topics": st.one_of(
                ANY,
                st.lists(
                    st.sampled_from(["firearms", "de-escalation", "legal-studies", "unknown", ""]),
                    max_size=3,
                ),
            ),
            "note": st.one_of(st.text(max_size=50), ANY),
            "approved_until": st.one_of(
                st.sampled_from(["2027-01-01", "2020-01-01", "tomorrow", "9999-99-99", ""]), ANY
            ),
            "control_number": st.one_of(st.text(max_size=20), ANY),
            "extra": ANY,
        },
    ),
)


@pytest.fixture
def decision_world(app, taxonomy, users, make_pending_course):
    from catalog.services.accounts import issue_token

    provider_a, _ = users["providers"]
    course = make_pending_course(provider_a, "Firearms Qualification and Legal Update", hours="2")
    _, token = issue_token(db.session, users["staff"], "hostile")
    db.session.commit()
    return {"course": course.id, "headers": {"Authorization": f"Bearer {token}"}}


@SETTINGS
@given(body=BODIES)
def test_decision_api_random_bodies_answer_4xx_and_write_nothing(client, decision_world, body):
    url = f"/api/v1/courses/{decision_world['course']}/decision"
    before = _api_state(decision_world["course"])
    answer = _fresh(client).post(url, json=body, headers=decision_world["headers"])
    assert answer.status_code < 500, (body, answer.status_code, answer.get_data(as_text=True))
    if answer.status_code == 200:
        version, status, audits, _ = _api_state(decision_world["course"])
        assert version == before[0] + 1 and audits == before[2] + 1 and status != "pending"
        # Put the course back to pending for the next example (a fresh suggestion stays).
        from catalog.models import Course

        course = db.session.get(Course, decision_world["course"])
        course.status = "pending"
        db.session.commit()
        return
    assert 400 <= answer.status_code < 500
    payload = answer.get_json()
    assert set(payload) >= {"error", "details"} and payload["error"], payload
    assert _api_state(decision_world["course"]) == before, body


@pytest.mark.parametrize(
    "raw,content_type",
    [
        (b"[" * 100_000, "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"action": "approve", "version": 1e999}', "application/json"),
        (b'{"action": "approve", "version": NaN}', "application/json"),
        (b"action=approve&version=1", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b"null", "application/json"),
    ],
)
def test_decision_api_unparsable_bodies(client, decision_world, raw, content_type):
    url = f"/api/v1/courses/{decision_world['course']}/decision"
    before = _api_state(decision_world["course"])
    answer = client.post(
        url, data=raw, content_type=content_type, headers=decision_world["headers"]
    )
    assert 400 <= answer.status_code < 500, (raw[:40], answer.status_code)
    assert set(answer.get_json()) >= {"error", "details"}
    assert _api_state(decision_world["course"]) == before


# -- markup in every text field --------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
CLOSE = "</script><b>x"
JS_URL = "javascript:alert(1)"
PAYLOAD = f"{SCRIPT} {IMG} {CLOSE}"
RAW_MARKERS = [SCRIPT, "<img src=x", "</script><b>"]


def _assert_escaped(text: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in text, f"unescaped {marker!r} in {where}"
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", text, re.I), where
    assert not re.search(r"""src\s*=\s*["']?\s*javascript:""", text, re.I), where


@pytest.fixture
def markup_world(app, taxonomy, make_user, make_course, make_pending_course):
    from catalog.models import CatalogRow, CatalogSubmission, Provider
    from catalog.services.reviewing import decisions

    provider = Provider(slug="evil-academy", name=f"Evil {PAYLOAD}", url=JS_URL)
    db.session.add(provider)
    db.session.commit()
    published = make_course(
        f"Firearms {PAYLOAD}",
        provider="evil-academy",
        hours="2",
        description=f"Desc {PAYLOAD}",
        objectives=f"Obj {PAYLOAD}",
        url=JS_URL,
        topics=["firearms"],
        areas={"skill-development": "2"},
    )
    published.provider_code = f"C{IMG}"[:40]
    pending = make_pending_course(
        provider,
        f"De-escalation {PAYLOAD}",
        hours="1",
        description=f"Pending {PAYLOAD}",
        url=JS_URL,
    )
    rejected = make_pending_course(provider, f"Legal {SCRIPT}", hours="1")
    staff = make_user("staff@test.example", "staff")
    make_user("admin@test.example", "admin")
    owner = make_user("owner@test.example", "provider", provider)
    decisions.decide(db.session, rejected, "reject", rejected.version, staff, note=f"No {PAYLOAD}")
    submission = CatalogSubmission(
        provider_id=provider.id,
        filename=f"{SCRIPT}.csv",
        source="upload",
        file_format="csv",
        status="draft",
        column_map={"title": 0, "hours": 1},
        headers=[f"title{SCRIPT}", "hours"],
    )
    db.session.add(submission)
    db.session.flush()
    db.session.add(
        CatalogRow(
            catalog_id=submission.id,
            row_number=2,
            raw=[f"Row {PAYLOAD}", "1"],
            data={"title": f"Row {PAYLOAD}", "hours": "1", "url": JS_URL},
            errors=[{"row": 2, "field": "url", "message": f"bad {IMG}"}],
            suggestion={},
            notes=[f"note {SCRIPT}"],
            error_count=1,
        )
    )
    db.session.commit()
    return {
        "published": published.id,
        "pending": pending.id,
        "submission": submission.id,
        "owner": owner,
        "provider": provider.id,
    }


def test_markup_in_every_field_is_escaped_everywhere(app, markup_world, login, client, password):
    pages = [
        "/courses",
        "/courses?q=firearms",
        f"/courses/{markup_world['published']}",
        "/courses.atom",
        "/",
    ]
    for url in pages:
        answer = _fresh(client).get(url)
        assert answer.status_code == 200, url
        text = answer.get_data(as_text=True)
        _assert_escaped(text, url)
        if url.endswith(".atom"):
            xml.dom.minidom.parseString(answer.get_data())  # still well-formed XML
            assert "alert(1)" in text  # the payload is there, as text
    course_page = _fresh(client).get(f"/courses/{markup_world['published']}").get_data(as_text=True)
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', course_page, re.S)
    assert len(blocks) == 1
    assert len(re.findall(r"<script\b", course_page)) == len(re.findall(r"</script>", course_page))
    data = json.loads(blocks[0])
    assert data["@type"] == "Course" and SCRIPT in data["name"]
    assert JS_URL not in json.dumps(data.get("url", "")) or "javascript" not in str(data.get("url"))

    # Machine formats carry the text as data: valid JSON, CSV with the text, XLSX readable.
    listing = _fresh(client).get("/courses.json").get_json()
    assert any(SCRIPT in c["title"] for c in listing["courses"])
    assert all(
        not str(c.get("url") or "").lower().startswith("javascript:") for c in listing["courses"]
    )
    csv_answer = _fresh(client).get("/courses.csv")
    assert SCRIPT in csv_answer.get_data(as_text=True)
    csv_answer.close()
    from openpyxl import load_workbook

    xlsx = _fresh(client).get("/courses.xlsx")
    cells = [
        c
        for row in load_workbook(io.BytesIO(xlsx.get_data())).active.iter_rows(values_only=True)
        for c in row
        if c
    ]
    assert any(SCRIPT in str(c) for c in cells)

    from catalog.models import User

    staff = db.session.scalar(sa.select(User).where(User.email == "staff@test.example"))
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@test.example"))
    staff_pages = [
        "/review/",
        f"/review/{markup_world['pending']}",
        "/review/audit",
        "/review/dashboard",
        "/review/?q=%3Cscript%3E",
    ]
    admin_pages = [
        "/admin/",
        "/admin/providers",
        f"/admin/providers/{markup_world['provider']}",
        "/admin/users",
    ]
    provider_pages = [
        "/provider/",
        f"/provider/catalogs/{markup_world['submission']}",
        f"/provider/courses/{markup_world['pending']}/edit",
    ]
    for user, urls in (
        (staff, staff_pages),
        (admin, admin_pages),
        (markup_world["owner"], provider_pages),
    ):
        client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
        _fresh(client)
        login(user, password)
        for url in urls:
            answer = _fresh(client).get(url)
            if answer.status_code == 404 and url.startswith("/provider/") and url != "/provider/":
                continue  # upload pages still landing
            assert answer.status_code == 200, (url, answer.status_code)
            _assert_escaped(answer.get_data(as_text=True), url)
        _fresh(client).post("/logout")
    audit_csv = None
    _fresh(client)
    login(staff, password)
    audit_csv = _fresh(client).get("/review/audit.csv")
    body = audit_csv.get_data(as_text=True)
    audit_csv.close()
    assert "alert(1)" in body  # the note is there, as CSV text

"""The planner pages on both databases: one officer's rows and transcript upload, the roster
upload (sign-in, errors with row numbers, the summary, CSV and XLSX with formula-safe cells),
CSRF, and nothing of the officers' data stored."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from catalog.extensions import db

YEAR = dt.date.today().year
DAY = f"{YEAR}-04-02"


@pytest.fixture
def courses(make_course):
    return {
        "ib": make_course(
            "Implicit Bias for Law Enforcement",
            hours="1",
            delivery="online",
            areas={"interpersonal-perspectives": 1},
            topics=["implicit-bias"],
        ),
        "legal": make_course("Missouri Legal Update", hours="4", areas={"legal-studies": 4}),
        "fire": make_course(
            "Handgun Skills", hours="2", areas={"skill-development": 2}, topics=["firearms"]
        ),
    }


def rows(*records):
    data = {}
    for n, record in enumerate(records):
        for key, value in record.items():
            data[f"records-{n}-{key}"] = value
    return data


def test_start_page_links_the_planner(client, taxonomy):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/plan"' in page


def test_page_plans_one_officer(client, courses):
    answer = client.get("/plan")
    assert answer.status_code == 200 and "Compliance planner" in answer.get_data(as_text=True)
    form = rows(
        {"title": "Missouri legal update", "hours": "4", "date": DAY},
        {"title": "Secret in-service", "hours": "2", "date": DAY, "delivery": "in-person"},
    )
    answer = client.post("/plan", data={**form, "action": "plan"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:2000]
    assert "not yet compliant" in page
    assert "1 more hour of implicit bias" in page
    assert "approved course" in page and "not an approved course" in page
    assert f'href="/courses/{courses["ib"].id}"' in page  # in the plan
    assert answer.headers["Cache-Control"] == "no-store"


def test_page_add_course_from_search(client, courses):
    answer = client.post("/plan", data={"q": "implicit bias", "action": "search"})
    page = answer.get_data(as_text=True)
    assert f'value="add-{courses["ib"].id}"' in page
    answer = client.post("/plan", data={"action": f"add-{courses['ib'].id}"})
    page = answer.get_data(as_text=True)
    assert f'<option value="{courses["ib"].id}" selected>' in page


def test_page_row_errors_name_the_row(client, courses):
    form = rows({"title": "Ok", "hours": "2"}, {"title": "Bad", "hours": "many", "date": "soon"})
    answer = client.post("/plan", data={**form, "action": "plan"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Row 2" in page and "not a number of hours" in page and "is not a date" in page


def test_page_transcript_upload(client, courses):
    csv_text = "Course Title,Date,Hours,Delivery\nMissouri Legal Update," + DAY + ",4,in person\n"
    answer = client.post(
        "/plan",
        data={"transcript": (io.BytesIO(csv_text.encode()), "transcript.csv"), "action": "plan"},
        content_type="multipart/form-data",
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:1500]
    assert 'value="Missouri Legal Update"' in page
    assert "Legal Studies: done" in page


def test_page_transcript_errors(client, courses):
    bad = "Course Title,Hours\nA,lots\n"
    answer = client.post(
        "/plan",
        data={"transcript": (io.BytesIO(bad.encode()), "t.csv"), "action": "plan"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "Row 2" in answer.get_data(as_text=True)
    answer = client.post(
        "/plan",
        data={"transcript": (io.BytesIO(b"x"), "t.pdf"), "action": "plan"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422 and "not a transcript file" in answer.get_data(as_text=True)


def test_page_csv_and_xlsx_are_formula_safe(client, courses):
    from openpyxl import load_workbook

    form = rows({"title": '=HYPERLINK("http://x")', "hours": "1", "date": DAY})
    answer = client.post("/plan", data={**form, "action": "csv"})
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    answer = client.post("/plan", data={**form, "action": "xlsx"})
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


ROSTER = (
    "Officer,Course Title,Date,Hours,Delivery\n"
    f"B-1,Missouri Legal Update,{DAY},4,in-person\n"
    f"B-1,Implicit Bias for Law Enforcement,{DAY},1,online\n"
    f"B-2,Handgun Skills,{DAY},2,online\n"
    f"B-3,Agency in-service: radio,{DAY},2,\n"
)


def post_roster(client, text, output="page", name="roster.csv"):
    return client.post(
        "/plan/roster",
        data={"file": (io.BytesIO(text.encode()), name), "output": output},
        content_type="multipart/form-data",
    )


def test_roster_needs_sign_in(client, courses):
    answer = post_roster(client, ROSTER)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_roster_page_csv_xlsx(client, courses, users, login):
    from openpyxl import load_workbook

    login(users["provider_a"])
    answer = post_roster(client, ROSTER)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[:1500]
    assert "0 of 3 officers compliant" in page
    assert "missing-chart" in page and "3 officers" in page  # all three miss the total
    answer = post_roster(client, ROSTER, "csv")
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0] == "officer,compliant,gaps,plan,plan_hours,unmet"
    assert [line.split(",")[0] for line in lines[1:]] == ["B-1", "B-2", "B-3"]
    assert "firearms:2" in lines[2]  # online firearms never counts
    answer = post_roster(client, ROSTER, "xlsx")
    workbook = load_workbook(io.BytesIO(answer.get_data()))
    assert workbook.sheetnames == ["Summary", "Detail"]
    assert workbook["Summary"].max_row == 4
    assert {r[0].value for r in workbook["Detail"].iter_rows(min_row=2)} == {"B-1", "B-2", "B-3"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Course Title,Hours\nA,1\n", "needs a column for Officer"),
        ("Officer,Hours\nB-1,1\n", "Course title"),
        ("Officer,Course Title,Hours\nB-1,A,1\n,B,2\nB-2,C,zero\n", "Row 3"),
        ("Officer,Course Title,Hours\n", "no training records"),
    ],
)
def test_roster_errors(client, courses, users, login, text, expected):
    login(users["staff"])
    answer = post_roster(client, text)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422, page[:800]
    assert expected in page
    if "Row 3" in expected:
        assert "Row 4" in page  # every problem row is named


@pytest.mark.app_config(PLAN_MAX_OFFICERS=2)
def test_roster_size_limit(client, courses, users, login):
    login(users["staff"])
    answer = post_roster(client, ROSTER)
    assert answer.status_code == 422 and "more than 2 officers" in answer.get_data(as_text=True)


def test_pages_store_nothing_of_the_officers(client, courses, users, login):
    login(users["staff"])
    secret = "Officer Zq-" + "93721"
    text = f"Officer,Course Title,Hours\n{secret},Secret Course Qwzx,2\n"
    assert post_roster(client, text).status_code == 200
    client.post(
        "/plan", data={**rows({"title": "Hidden Title Vbnm", "hours": "1"}), "action": "plan"}
    )
    dump = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            dump += [repr(tuple(r)) for r in conn.execute(sa.select(table))]
    text = "\n".join(dump)
    for value in (secret, "Secret Course Qwzx", "Hidden Title Vbnm"):
        assert value not in text


def test_page_form_needs_csrf(app_factory, taxonomy):
    app = app_factory(WTF_CSRF_ENABLED=True)
    answer = app.test_client().post("/plan", data={"action": "plan"})
    assert answer.status_code == 400

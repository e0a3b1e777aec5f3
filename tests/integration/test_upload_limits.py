"""Issue 14 class 1, the clock and the workers: an upload's work is bounded by wall-clock time
(IMPORT_TIME_LIMIT) with a clear error that loses nothing, heavy uploads at once per worker are
bounded (a 503 with Retry-After for one too many, nothing else waits), the matching engine is
built once per key and an import may use one a little older than the latest decision. The clock
is a fake one the tests advance: nothing here is timed. On both databases."""

from __future__ import annotations

import io
import runpy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import serving, uploads
from catalog.extensions import db
from catalog.models import CatalogSubmission, Course
from catalog.services import suggesting
from catalog.services.accounts import issue_token
from catalog.services.imports.deadline import Deadline, TimeLimit
from catalog.services.imports.files import read_table
from catalog.services.imports.rows import PreparedRow, suggest_rows

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float = 1.0):
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def big_csv(rows: int = 3000) -> bytes:
    lines = ["title,hours"] + [f"Firearms Qualification {i},2" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["title", "hours"])
    for i in range(rows):
        workbook.active.append([f"Legal Update {i}", 1])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def slow_clock(monkeypatch):
    """Every upload deadline of the app runs on a clock that moves a second per reading."""
    monkeypatch.setattr(serving, "Deadline", lambda seconds: Deadline(seconds, clock=Clock()))


def test_reading_a_huge_csv_stops_at_the_deadline_with_a_clear_error():
    with pytest.raises(TimeLimit) as caught:
        read_table(big_csv(), "catalog.csv", max_rows=50_000, deadline=Deadline(5, clock=Clock()))
    assert "nothing was saved" in caught.value.message
    assert caught.value.details[0]["field"] == "file"
    # without a limit (the command line) the same file is read
    assert len(read_table(big_csv(), "catalog.csv", max_rows=50_000).rows) == 3000


def test_reading_a_big_xlsx_stops_at_the_deadline():
    with pytest.raises(TimeLimit):
        read_table(xlsx(600), "catalog.xlsx", max_rows=50_000, deadline=Deadline(2, clock=Clock()))


def test_the_engine_run_stops_at_the_deadline(app, taxonomy):
    rows = [PreparedRow(n, {"title": f"Legal Update {n}"}, [], "new") for n in range(1, 600)]
    with pytest.raises(TimeLimit):
        suggest_rows(db.session, taxonomy, rows, deadline=Deadline(1, clock=Clock()))
    suggest_rows(db.session, taxonomy, rows[:3])  # no deadline: suggested
    assert all(r.suggestion for r in rows[:3])


@pytest.mark.app_config(IMPORT_TIME_LIMIT=10)
def test_an_api_upload_past_the_time_limit_is_a_422_and_writes_nothing(
    client, taxonomy, users, slow_clock
):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    response = client.post(
        "/api/v1/catalogs",
        data={"file": (io.BytesIO(big_csv()), "catalog.csv")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "10 seconds an upload may take" in response.get_json()["error"]
    assert db.session.scalar(select(func.count(Course.id))) == 0


@pytest.mark.app_config(IMPORT_TIME_LIMIT=10)
def test_a_web_upload_past_the_time_limit_says_so_and_keeps_no_draft(
    client, taxonomy, users, login, slow_clock
):
    login(users["provider_a"])
    response = client.post(
        "/provider/catalogs/new",
        data={"file": (io.BytesIO(big_csv()), "catalog.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Split the catalog into smaller files" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CatalogSubmission.id))) == 0


def test_the_command_line_import_has_no_time_limit(runner, taxonomy, make_provider, tmp_path):
    make_provider("cli-academy")
    path = tmp_path / "catalog.csv"
    path.write_bytes(big_csv(300))
    result = runner.invoke(
        args=["import-catalog", str(path), "--provider", "cli-academy", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "took longer" not in result.output


@pytest.mark.app_config(UPLOAD_WAIT_SECONDS=0)
def test_one_upload_too_many_is_a_503_with_retry_after_and_nothing_else_waits(
    client, taxonomy, users
):
    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    slot = uploads._pool("catalog", 1)
    assert slot.acquire(timeout=1)  # another upload holds this worker's only slot
    try:
        response = client.post(
            "/api/v1/catalogs?dry_run=1",
            data={"file": (io.BytesIO(big_csv(5)), "catalog.csv")},
            headers=auth,
            content_type="multipart/form-data",
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(uploads.RETRY_AFTER_SECONDS)
        assert (
            "try again" in response.get_json()["error"] or "again" in response.get_json()["error"]
        )
        # pages, reads and the health check do not need a slot
        assert client.get("/healthz").status_code == 200
        assert client.get("/courses").status_code == 200
        assert client.get("/api/v1/courses", headers=auth).status_code == 200
        # the planner's uploads have their own pool
        assert client.post("/api/v1/plan", json={"officers": []}).status_code != 503
    finally:
        slot.release()
    response = client.post(
        "/api/v1/catalogs?dry_run=1",
        data={"file": (io.BytesIO(big_csv(5)), "catalog.csv")},
        headers=auth,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.app_config(UPLOAD_WAIT_SECONDS=0, UPLOAD_HOST_SLOTS=1)
def test_the_host_slot_is_shared_by_every_worker(app, client, taxonomy, users):
    import fcntl

    _, token = issue_token(db.session, users["provider_a"])
    db.session.commit()
    folder = Path(app.instance_path) / "upload-slots"
    folder.mkdir(parents=True, exist_ok=True)
    # another worker process (same instance folder) is working on an upload
    with open(folder / "catalog-0.lock", "w") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        response = client.post(
            "/api/v1/catalogs?dry_run=1",
            data={"file": (io.BytesIO(big_csv(5)), "catalog.csv")},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 503 and response.headers["Retry-After"]
    response = client.post(
        "/api/v1/catalogs?dry_run=1",
        data={"file": (io.BytesIO(big_csv(5)), "catalog.csv")},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    with open(folder / "catalog-0.lock", "w") as after:  # released after the answer
        fcntl.flock(after, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_an_import_may_use_a_recent_engine_but_reviewing_sees_the_new_one(
    app, taxonomy, make_course, monkeypatch
):
    # (engines cached by other tests, for another database with the same count of decisions,
    # are set aside: the cache key is the taxonomy and the decisions' signature)
    monkeypatch.setattr(suggesting, "_CACHE", type(suggesting._CACHE)())
    monkeypatch.setattr(suggesting, "_LATEST", {})
    make_course("Legal Update")
    first = suggesting.get_engine(db.session, taxonomy)
    make_course("Firearms Qualification")  # a new decision: the examples changed
    assert suggesting.get_engine(db.session, taxonomy, max_stale=3600) is first
    fresh = suggesting.get_engine(db.session, taxonomy)
    assert fresh is not first
    assert suggesting.get_engine(db.session, taxonomy) is fresh  # cached, built once


class _Server:
    class log:  # noqa: N801 (gunicorn's server.log)
        lines: list = []

        @classmethod
        def info(cls, *args):
            cls.lines.append(args[0] % args[1:])

        warning = error = info


def test_gunicorn_builds_the_engine_in_the_master_and_serves_with_threads(
    app, taxonomy, make_course, database_url, monkeypatch
):
    make_course("Legal Update")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 4
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CATALOG_ENV", "development")
    monkeypatch.setattr(suggesting, "_CACHE", type(suggesting._CACHE)())
    conf["on_starting"](_Server)
    assert any(line.startswith("Matching engine built") for line in _Server.log.lines)
    # the workers, forked from the master, find it built
    built = next(iter(suggesting._CACHE.values()))
    assert suggesting.get_engine(db.session, taxonomy) is built

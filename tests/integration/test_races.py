"""Races between reviewers, with real concurrency, on SQLite (file, WAL) and PostgreSQL.

Each reviewer is a thread with its own Flask test client, its own API token and therefore its own
app context, scoped session and pooled connection. All of them are released together by a
threading.Barrier and go through the real decision path (POST /api/v1/courses/<id>/decision).
Exactly one must win each race, the others must get a 409 (never "database is locked" or a 500),
and exactly one audit entry must be written per race.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from catalog.db import write_intent
from catalog.extensions import db
from catalog.models import AuditEntry, Course, CourseCategory
from catalog.services.accounts import issue_token
from catalog.services.courses import course_categories

TRIALS = 100
MAX_REVIEWERS = 8
JOIN_TIMEOUT = 120  # a safety net against a hung run, not a timing assertion


def _run_together(callables: list) -> list:
    """Run each callable in its own thread, released at the same instant; return their results
    (or the exception each raised), in order."""
    barrier = threading.Barrier(len(callables))
    results: list = [None] * len(callables)

    def run(i: int, fn) -> None:
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a reviewer thread hung"
    return results


@pytest.fixture
def reviewers(app, make_user):
    """Eight staff members, each with an API token."""
    out = []
    for i in range(MAX_REVIEWERS):
        user = make_user(f"reviewer{i}@test.example", "staff")
        _, plain = issue_token(db.session, user, "race")
        out.append((user.email, {"Authorization": f"Bearer {plain}"}))
    db.session.commit()
    return out


def _decision_body(action: str, version: int, i: int) -> dict:
    if action == "approve":
        return {"action": "approve", "version": version}
    if action == "override":
        return {
            "action": "override",
            "version": version,
            "areas": [{"slug": "technical-studies", "hours": "2"}],
            "topics": [],
            "note": f"override by reviewer {i}",
        }
    return {"action": "reject", "version": version, "note": f"rejected by reviewer {i}"}


def _reset_to_pending(course_id: int) -> int:
    """Put the course back in the queue as a new version (as a provider re-submission would)."""
    db.session.commit()  # no stale read snapshot before the write (SQLite)
    with write_intent():
        _reset_rows(course_id)
        db.session.commit()
    return db.session.scalar(select(Course.version).where(Course.id == course_id))


def _reset_rows(course_id: int) -> None:
    db.session.execute(
        delete(CourseCategory).where(
            CourseCategory.course_id == course_id, CourseCategory.source == "decided"
        )
    )
    db.session.execute(
        update(Course)
        .where(Course.id == course_id)
        .values(
            status="pending",
            version=Course.version + 1,
            approved_at=None,
            approved_until=None,
            decided_at=None,
            decided_by_id=None,
            decision_note="",
        )
    )


def test_concurrent_reviewers_exactly_one_wins(app, users, reviewers, make_pending_course):
    """100 trials, 2..8 reviewers each, mixed approve/override/reject on the same version."""
    course = make_pending_course(users["providers"][0], "Defensive Tactics Refresher", hours="2")
    course_id = course.id
    url = f"/api/v1/courses/{course_id}/decision"
    actions = ("approve", "override", "reject")
    clients = [app.test_client() for _ in range(MAX_REVIEWERS)]
    version = course.version
    tally = {"wins": 0, "conflicts": 0}
    for trial in range(TRIALS):
        n = 2 + trial % (MAX_REVIEWERS - 1)
        if trial:
            version = _reset_to_pending(course_id)
        db.session.remove()  # the main thread holds no transaction during the race
        audit_before = db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.course_id == course_id)
        )
        db.session.remove()

        def attempt(i: int, trial: int = trial, version: int = version):
            body = _decision_body(actions[(trial + i) % 3], version, i)
            response = clients[i].post(url, json=body, headers=reviewers[i][1])
            return response.status_code, response.get_json(), body["action"]

        results = _run_together([lambda i=i: attempt(i) for i in range(n)])

        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"trial {trial} (n={n}): {errors!r}"
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200] + [409] * (n - 1), f"trial {trial} (n={n}): {results!r}"
        for status, body, _ in results:
            if status == 409:
                assert "Nothing was saved" in body["error"], body
                assert "locked" not in body["error"]
        winner = next(i for i, r in enumerate(results) if r[0] == 200)
        win_status, win_body, win_action = results[winner]

        db.session.expire_all()
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.course_id == course_id)
            .order_by(AuditEntry.id.desc())
        ).all()
        assert len(entries) == audit_before + 1, f"trial {trial}: audit entries"
        assert entries[0].actor == reviewers[winner][0]
        assert entries[0].action == win_action
        stored = db.session.get(Course, course_id)
        assert stored.version == version + 1 == win_body["version"]
        expected_status = {"approve": "approved", "override": "approved", "reject": "rejected"}
        assert stored.status == expected_status[win_action] == win_body["status"]
        areas, topics = course_categories(stored, "decided")
        expected_areas = {
            "approve": {"skill-development": Decimal("2")},
            "override": {"technical-studies": Decimal("2")},
            "reject": {},
        }[win_action]
        assert areas == expected_areas, f"trial {trial}: decided rows of {win_action}"
        tally["wins"] += 1
        tally["conflicts"] += n - 1
    assert tally == {"wins": TRIALS, "conflicts": sum(1 + t % 7 for t in range(TRIALS))}


# --- bulk approve against single decisions -------------------------------------------------------


@pytest.fixture
def queue(users, make_pending_course):
    """Pending courses the engine is sure about (bulk approve at 90 takes them all)."""
    a = users["providers"][0]
    titles = [
        "Missouri Legal Update 2025",
        "Crash Investigation Basics",
        "Defensive Tactics Refresher",
        "Implicit Bias for Law Enforcement",
    ]
    return [make_pending_course(a, title, hours="2") for title in titles]


def _items_shown(client) -> str:
    """The id:version list the reviewer's bulk preview of the whole queue offers to approve."""
    html = client.get("/review/").get_data(as_text=True)
    match = re.search(r'name="filters"[^>]*value="([^"]*)"', html)
    assert match, "the queue offers bulk approve"
    preview = client.post(
        "/review/bulk-approve", data={"filters": match.group(1), "min_score": "90"}
    ).get_data(as_text=True)
    return re.search(r'name="items" value="([^"]*)"', preview).group(1)


def _decisions_per_course(course_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(AuditEntry.course_id, AuditEntry.action, AuditEntry.actor)
        .where(AuditEntry.course_id.in_(course_ids))
        .order_by(AuditEntry.id)
    ).all()
    out: dict[int, list[tuple[str, str]]] = {cid: [] for cid in course_ids}
    for course_id, action, actor in rows:
        out[course_id].append((action, actor))
    return out


def test_bulk_approve_skips_courses_another_session_changed_after_the_preview(
    app, users, reviewers, queue, make_pending_course, login, client
):
    """Reviewer 1 sees the queue and the confirmation; reviewer 2, in another session, decides
    one shown course, the provider's re-submission bumps another, and a new course arrives.
    The apply step approves exactly the untouched shown courses and names the others."""
    login(users["staff"])
    items = _items_shown(client)
    assert items.count(":") == len(queue)
    confirm = client.post("/review/bulk-approve", data={"items": items, "min_score": "90"})
    assert confirm.status_code == 200
    assert re.search(r'class="bulk-count">4<', confirm.get_data(as_text=True))

    legal, crash, tactics, bias = queue
    # A second reviewer, over the API from another thread: its own app context and session
    # (a test client in this thread would share the fixture's app context and session).
    other = app.test_client()
    crash_version = crash.version
    [decided] = _run_together(
        [
            lambda: other.post(
                f"/api/v1/courses/{crash.id}/decision",
                json={"action": "reject", "version": crash_version, "note": "duplicate"},
                headers=reviewers[1][1],
            )
        ]
    )
    assert decided.status_code == 200, decided.get_json()
    db.session.commit()  # end this thread's read snapshot before writing (SQLite)
    with write_intent():  # a re-submission of the same course by its provider: a new version
        db.session.execute(
            update(Course).where(Course.id == tactics.id).values(version=Course.version + 1)
        )
        db.session.commit()
    late = make_pending_course(users["providers"][0], "Firearms Qualification", hours="2")
    db.session.commit()

    done = client.post(
        "/review/bulk-approve", data={"items": items, "min_score": "90", "confirm": "1"}
    )
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert re.search(r'class="done-count">2<', page)
    skipped = re.search(r'<table class="data skipped">(.*?)</table>', page, re.S).group(1)
    assert "Crash Investigation Basics" in skipped and "already rejected" in skipped
    assert "Defensive Tactics Refresher" in skipped and "changed since" in skipped
    assert "Firearms Qualification" not in page

    decisions = _decisions_per_course([c.id for c in queue] + [late.id])
    staff = users["staff"].email
    assert decisions == {
        legal.id: [("bulk-approve", staff)],
        crash.id: [("reject", reviewers[1][0])],
        tactics.id: [],
        bias.id: [("bulk-approve", staff)],
        late.id: [],
    }
    statuses = dict(db.session.execute(select(Course.id, Course.status)).all())
    assert statuses == {
        legal.id: "approved",
        crash.id: "rejected",
        tactics.id: "pending",
        bias.id: "approved",
        late.id: "pending",
    }


BULK_TRIALS = 12


def test_bulk_approve_racing_single_decisions(app, users, reviewers, queue, login, client):
    """The apply step of bulk approve and single API decisions on the same courses, released
    together: every course ends with exactly one decision, and the bulk report matches it."""
    login(users["staff"])
    course_ids = [c.id for c in queue]
    others = [app.test_client() for _ in course_ids]
    staff = users["staff"].email
    for trial in range(BULK_TRIALS):
        if trial:
            for cid in course_ids:
                _reset_to_pending(cid)
        versions = dict(
            db.session.execute(
                select(Course.id, Course.version).where(Course.id.in_(course_ids))
            ).all()
        )
        items = ",".join(f"{cid}:{versions[cid]}" for cid in course_ids)
        audit_before = {cid: len(v) for cid, v in _decisions_per_course(course_ids).items()}
        db.session.remove()
        # Reviewers race the bulk apply on a rotating subset of the shown courses.
        contested = [cid for k, cid in enumerate(course_ids) if (k + trial) % 2 == 0]

        def bulk(items: str = items):
            response = client.post(
                "/review/bulk-approve", data={"items": items, "min_score": "90", "confirm": "1"}
            )
            return response.status_code, response.get_data(as_text=True)

        def single(k: int, cid: int, versions: dict = versions):
            response = others[k].post(
                f"/api/v1/courses/{cid}/decision",
                json={"action": "reject", "version": versions[cid], "note": "no"},
                headers=reviewers[k][1],
            )
            return response.status_code, response.get_json()

        results = _run_together(
            [bulk] + [lambda k=k, cid=cid: single(k, cid) for k, cid in enumerate(contested)]
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"trial {trial}: {errors!r}"
        bulk_status, page = results[0]
        assert bulk_status == 200, page[:500]
        done_count = int(re.search(r'class="done-count">(\d+)<', page).group(1))
        single_wins = {
            cid for cid, (status, body) in zip(contested, results[1:], strict=True) if status == 200
        }
        for cid, (status, body) in zip(contested, results[1:], strict=True):
            assert status in (200, 409), (trial, cid, status, body)
        assert done_count == len(course_ids) - len(single_wins), trial

        decisions = _decisions_per_course(course_ids)
        statuses = dict(
            db.session.execute(
                select(Course.id, Course.status).where(Course.id.in_(course_ids))
            ).all()
        )
        for cid in course_ids:
            new = decisions[cid][audit_before[cid] :]
            assert len(new) == 1, (trial, cid, new)
            if cid in single_wins:
                assert new[0] == ("reject", reviewers[contested.index(cid)][0])
                assert statuses[cid] == "rejected"
            else:
                assert new[0] == ("bulk-approve", staff)
                assert statuses[cid] == "approved"
        db.session.remove()


def test_a_write_after_a_stale_read_waits_instead_of_failing(app, users, make_pending_course):
    """A command that reads first and enters write intent later (the import CLI looks up the
    provider, runs the engine, then writes) while reviewers commit decisions: on SQLite the read
    snapshot cannot be upgraded, which failed at once with "database is locked"."""
    course = make_pending_course(users["providers"][0], "Crash Investigation Basics", hours="2")
    course_id = course.id
    db.session.remove()
    with Session(db.engine) as slow, Session(db.engine) as reviewer:
        assert slow.get(Course, course_id).status == "pending"  # a read transaction is open
        with write_intent():  # meanwhile another writer commits
            reviewer.execute(
                update(Course).where(Course.id == course_id).values(decision_note="seen")
            )
            reviewer.commit()
        with write_intent():
            slow.execute(update(Course).where(Course.id == course_id).values(control_number="MO-1"))
            slow.commit()
    db.session.expire_all()
    stored = db.session.get(Course, course_id)
    assert (stored.decision_note, stored.control_number) == ("seen", "MO-1")


def test_a_late_write_lock_view_does_not_block_reviewers_while_it_reads(
    app, users, reviewers, make_pending_course
):
    """A long read-then-write request (an import running the engine) marked late_write_lock:
    a reviewer's decision completes while it is still reading, and its own write still lands."""
    from flask import jsonify

    from catalog.security import late_write_lock

    reading, release = threading.Event(), threading.Event()

    @late_write_lock
    def slow_import():
        db.session.scalar(select(func.count(Course.id)))  # the read phase has begun
        reading.set()
        release.wait(JOIN_TIMEOUT)  # the engine at work
        course = db.session.scalar(select(Course).where(Course.title == "Report Writing"))
        course.decision_note = "imported"
        db.session.commit()
        return jsonify(ok=True)

    app.add_url_rule("/_test/slow-import", view_func=slow_import, methods=["POST"])
    provider = users["providers"][0]
    make_pending_course(provider, "Report Writing", hours="1")
    course = make_pending_course(provider, "Crash Investigation Basics", hours="2")
    decision = {"action": "approve", "version": course.version}
    url = f"/api/v1/courses/{course.id}/decision"
    db.session.remove()

    importer = threading.Thread(
        target=lambda: results.append(app.test_client().post("/_test/slow-import").status_code)
    )
    results: list = []
    importer.start()
    assert reading.wait(JOIN_TIMEOUT)
    reviewer = threading.Thread(
        target=lambda: results.append(
            app.test_client().post(url, json=decision, headers=reviewers[0][1]).status_code
        )
    )
    reviewer.start()
    reviewer.join(JOIN_TIMEOUT)  # a safety net: without the late lock this waits for release
    decided_while_reading = not reviewer.is_alive()
    release.set()
    importer.join(JOIN_TIMEOUT)
    reviewer.join(JOIN_TIMEOUT)
    assert decided_while_reading, "the decision waited for the import's read phase"
    assert results == [200, 200]
    db.session.expire_all()
    notes = dict(db.session.execute(select(Course.title, Course.decision_note)).all())
    assert notes["Report Writing"] == "imported"
    assert db.session.get(Course, course.id).status == "approved"

"""Bounded load test: the public catalog and staff review under load while a big import commits.

    python bench/load.py [--duration 60] [--clients 16] [--approved 5000] [--pending 600]
                         [--import-rows 5000] [--postgres] [--servers 2] [--hostile 4]
                         [--strict]

`--postgres --servers 2` is the scaled-out deployment: two separate gunicorn instances (each
with the shipped settings) on one throw-away PostgreSQL database, the clients spread over both.

Builds a SQLite file (`flask init-db`, `flask seed --no-demo`, then bulk SQL: 5,000 approved
courses, and a few hundred pending ones with the engine's suggestions), a staff user with an API
token, and a 5,000-row catalog CSV. Serves the app with gunicorn (the shipped gunicorn.conf.py,
2 workers, 127.0.0.1 only) and drives it for a fixed time with a bounded pool of client threads
(closed loop, one keep-alive connection each), mixing:

  search      GET /courses?q=...                      (HTML, full-text + facets)
  json        GET /courses.json?<filters>             (full-text and facet filters)
  page        GET /courses/<id>                       (course page with JSON-LD)
  export      GET /courses.csv?provider=...&area=...  (streamed CSV, a filtered subset)
  queue       GET /api/v1/courses?status=pending      (staff token)
  decision    POST /api/v1/courses/<id>/decision      (staff token; approve or override)

while `flask import-catalog` commits the 5,000-row catalog in a subprocess started a few seconds
into the run. Prints requests/s, p50/p95/p99 per kind and overall, errors (any unexpected status;
a 409 on a decision is an expected conflict between reviewers and counted separately), the import's
own time, and whether each target is met: >= 100 requests/s, p95 < 300 ms, zero errors, import
committed.

`--hostile N` adds N uploaders that POST hostile files to /api/v1/catalogs?dry_run=1 in a loop, all
at once, for the whole run (issue 14): an XLSX of a few kilobytes whose used range claims the
whole sheet (a cell in column XFD and one in row 1,048,576), the same with data far right, and a
CSV header of 200,000 columns. Each must be answered (a 4xx with a message) and a monitor polls
/healthz every 0.25 s on its own connection: targets /healthz always under 1 s and no errors. A 503
with Retry-After (the worker's upload slots all busy) counts as an answer; the report gives each
hostile file's time when worked on. Exits 1 on errors or a failed import (with --strict also on a
missed target).
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

TARGET_RPS = 100.0
TARGET_P95_MS = 300.0

SUBJECTS = {
    "De-escalation": ("skill-development", "de-escalation"),
    "Verbal De-escalation": ("interpersonal-perspectives", "de-escalation"),
    "Crisis Intervention": ("interpersonal-perspectives", "de-escalation"),
    "Implicit Bias": ("interpersonal-perspectives", "implicit-bias"),
    "Fair and Impartial Policing": ("interpersonal-perspectives", "implicit-bias"),
    "Racial Profiling": ("legal-studies", "racial-profiling"),
    "Handgun Qualification": ("skill-development", "firearms"),
    "Patrol Rifle": ("skill-development", "firearms"),
    "Legal Update": ("legal-studies", None),
    "Search and Seizure": ("legal-studies", None),
    "Use of Force Law": ("legal-studies", None),
    "Crash Investigation": ("technical-studies", None),
    "Report Writing": ("technical-studies", None),
    "DWI Detection": ("technical-studies", None),
    "Officer Wellness": ("interpersonal-perspectives", None),
    "Ethics": ("interpersonal-perspectives", None),
    "Defensive Tactics": ("skill-development", None),
    "Emergency Vehicle Operations": ("skill-development", None),
    "First Aid and CPR": ("skill-development", None),
    "Domestic Violence Response": ("technical-studies", None),
}
PREFIXES = ["", "Introduction to", "Advanced", "Basic", "Refresher:", "Missouri", "Practical"]
SUFFIXES = ["", "(1 hour)", "for Patrol", "for Supervisors", "2026", "Workshop", "Scenarios"]
DESCRIPTIONS = [
    "Officers practise {s} through case studies and scenario work.",
    "A {h}-hour course on {s} for sworn officers, with a short knowledge check.",
    "Covers policy, case law and field practice of {s}.",
]
DELIVERIES = ["in-person", "online", "live-virtual", "blended"]
LIVE = ("in-person", "blended")
PROVIDERS = 40
SEARCHES = [
    "de-escalation",
    "deescalation",
    "firearms qualification",
    "bias",
    "racial profiling",
    "crisis",
    "legal update",
    "report writing",
    "wellness",
    "search seizure",
]
AREAS = ["legal-studies", "technical-studies", "interpersonal-perspectives", "skill-development"]
TOPICS = ["de-escalation", "implicit-bias", "racial-profiling", "firearms"]

# Share of each request kind in the mix (weights).
MIX = {"search": 25, "json": 25, "page": 30, "export": 5, "queue": 9, "decision": 6}


def course_rows(n: int, seed: int):
    rng = random.Random(seed)
    subjects = list(SUBJECTS)
    for i in range(1, n + 1):
        subject = rng.choice(subjects)
        title = " ".join(x for x in (rng.choice(PREFIXES), subject, rng.choice(SUFFIXES)) if x)
        hours = rng.choice([1, 1, 1, 2, 4, 8, 0.5])
        delivery = rng.choice(DELIVERIES)
        if SUBJECTS[subject][1] == "firearms":
            delivery = rng.choice(LIVE)
        yield {
            "i": i,
            "title": f"{title} #{seed}-{i}",
            "description": rng.choice(DESCRIPTIONS).format(s=subject.lower(), h=hours),
            "hours": hours,
            "delivery": delivery,
            "area": SUBJECTS[subject][0],
            "topic": SUBJECTS[subject][1],
        }


# --- setup ------------------------------------------------------------------------------------


def app_env(url: str, instance: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-load-5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
        "CATALOG_ENV": "production",
        "CATALOG_INSTANCE_PATH": str(instance),
    }


def flask_cmd(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "catalog", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def build_database(url: str, env: dict, approved: int, pending: int) -> None:
    """Schema and taxonomy through the CLI, then courses by bulk SQL (the search triggers index
    them), then the engine's suggestions for the pending ones through the app's service."""
    import sqlalchemy as sa

    from catalog.services.courses import content_hash, normalise_title

    flask_cmd(env, "init-db")
    flask_cmd(env, "seed", "--no-demo")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        jid = conn.execute(sa.text("SELECT id FROM jurisdictions WHERE code='MO'")).scalar()
        cats = dict(
            conn.execute(
                sa.text(  # Missouri's: Texas is seeded too, with its own slugs
                    "SELECT slug, id FROM categories WHERE jurisdiction_id = :j"
                ),
                {"j": jid},
            ).all()
        )
        base = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM providers")).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO providers (id, slug, name, kind, licence_number, approved_provider, "
                "url, contact_email, created_at) VALUES "
                "(:i, :s, :n, 'vendor', '', true, '', '', CURRENT_TIMESTAMP)"
            ),
            [
                {"i": base + p, "s": f"provider-{p}", "n": f"Training Provider {p}"}
                for p in range(1, PROVIDERS + 1)
            ],
        )
        rng = random.Random(3)
        courses, categories = [], []
        rows = list(course_rows(approved + pending, seed=1))
        for row in rows:
            status = "approved" if row["i"] <= approved else "pending"
            fields = {k: row[k] for k in ("title", "hours", "delivery", "description")}
            courses.append(
                {
                    "i": row["i"],
                    "p": base + rng.randint(1, PROVIDERS),
                    "j": jid,
                    "t": row["title"],
                    "nt": normalise_title(row["title"]),
                    "d": row["description"],
                    "h": row["hours"],
                    "dl": row["delivery"],
                    "s": status,
                    "ch": content_hash(fields),
                    "until": "2099-12-31" if status == "approved" else None,
                    "cn": f"MO-L-{row['i']:05d}" if status == "approved" else "",
                }
            )
            if status == "approved":
                categories.append({"c": row["i"], "k": cats[row["area"]], "h": row["hours"]})
                if row["topic"]:
                    categories.append({"c": row["i"], "k": cats[row["topic"]], "h": None})
        conn.execute(
            sa.text(
                "INSERT INTO courses (id, provider_id, jurisdiction_id, title, normalised_title, "
                "description, objectives, hours, delivery, url, status, version, content_hash, "
                "suggestion, suggestion_score, suggestion_confident, control_number, approved_at, "
                "approved_until, decision_note, created_at, updated_at) VALUES (:i, :p, :j, :t, "
                ":nt, :d, '', :h, :dl, '', :s, 1, :ch, '{}', 0, false, :cn, CURRENT_TIMESTAMP, "
                ":until, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            courses,
        )
        conn.execute(
            sa.text(
                "INSERT INTO course_categories (course_id, category_id, source, hours, confident, "
                "evidence) VALUES (:c, :k, 'decided', :h, false, '[]')"
            ),
            categories,
        )
        if conn.dialect.name == "postgresql":  # the rows above chose their ids
            for table in ("providers", "courses"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    suggest_pending(env)


def suggest_pending(env: dict) -> None:
    os.environ.update({k: env[k] for k in ("CATALOG_INSTANCE_PATH",)})
    from sqlalchemy import select

    from catalog import create_app
    from catalog.db import write_intent
    from catalog.extensions import db
    from catalog.models import Course
    from catalog.services.suggesting import suggest_courses
    from catalog.serving import served

    app = create_app(
        {
            "DATABASE_URL": env["DATABASE_URL"],
            "SECRET_KEY": "bench-load-5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
        }
    )
    with app.app_context(), write_intent():
        pending = db.session.scalars(select(Course).where(Course.status == "pending")).all()
        suggest_courses(db.session, served(), pending)
        db.session.commit()
        db.engine.dispose()


def staff_token(env: dict) -> str:
    flask_cmd(
        env,
        "create-user",
        "load-staff@bench.example",
        "--role",
        "staff",
        stdin="Bench-Load-Password-42\n",
    )
    return flask_cmd(env, "create-token", "load-staff@bench.example").strip().splitlines()[-1]


def write_import_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["provider_code", "title", "hours", "delivery", "description"])
        for row in course_rows(n, seed=2):
            writer.writerow(
                [
                    f"IMP-{row['i']:05d}",
                    row["title"],
                    row["hours"],
                    row["delivery"],
                    row["description"],
                ]
            )


# --- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    server_env = {**env, "WEB_CONCURRENCY": "2", "BIND": f"{HOST}:{port}"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
            env=server_env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 240  # the master builds the matching engine before forking
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited: see {log}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"gunicorn did not answer /healthz: see {log}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- load -------------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.started: list[tuple[float, float]] = []  # (start time, latency) of every request
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.conflicts = 0
        self.decided = 0

    def merge(self, latency: dict, started: list, errors: dict, conflicts: int, decided: int):
        with self.lock:
            for kind, values in latency.items():
                self.latency[kind].extend(values)
            self.started.extend(started)
            for kind, values in errors.items():
                self.errors[kind].extend(values)
            self.conflicts += conflicts
            self.decided += decided


class Client:
    """One simulated user: a keep-alive connection and a random walk through the mix."""

    def __init__(self, port: int, token: str, approved: int, rng: random.Random) -> None:
        self.port = port
        self.auth = {"Authorization": f"Bearer {token}"}
        self.approved = approved
        self.rng = rng
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.pending: list[dict] = []
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.started: list[tuple[float, float]] = []
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.conflicts = 0
        self.decided = 0

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = False):
        headers = dict(self.auth) if auth else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            return response.status, payload
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            return None, repr(exc).encode()

    def one(self, kind: str) -> None:
        rng = self.rng
        method, body, auth, expected = "GET", None, False, (200,)
        if kind == "search":
            path = "/courses?" + urllib.parse.urlencode({"q": rng.choice(SEARCHES)})
        elif kind == "json":
            args = {"q": rng.choice(SEARCHES)} if rng.random() < 0.6 else {}
            if rng.random() < 0.5:
                args["area"] = rng.choice(AREAS)
            if rng.random() < 0.4:
                args["topic"] = rng.choice(TOPICS)
            if rng.random() < 0.3:
                args["delivery"] = rng.choice(DELIVERIES)
            args["page"] = rng.choice([1, 1, 1, 2, 3])
            path = "/courses.json?" + urllib.parse.urlencode(args)
        elif kind == "page":
            path = f"/courses/{rng.randint(1, self.approved)}"
        elif kind == "export":
            args = {"provider": f"provider-{rng.randint(1, PROVIDERS)}", "area": rng.choice(AREAS)}
            path = "/courses.csv?" + urllib.parse.urlencode(args)
        elif kind == "queue":
            path = "/api/v1/courses?" + urllib.parse.urlencode(
                {"status": "pending", "per_page": 20, "page": rng.randint(1, 10)}
            )
            auth = True
        else:  # decision
            if not self.pending:
                self.one("queue")
                if not self.pending:
                    return
            course = self.pending.pop(rng.randrange(len(self.pending)))
            path = f"/api/v1/courses/{course['id']}/decision"
            method, auth, expected = "POST", True, (200, 409)
            body = decision_for(course)
        t0 = time.perf_counter()
        status, payload = self.request(method, path, body, auth)
        elapsed = time.perf_counter() - t0
        self.latency[kind].append(elapsed)
        self.started.append((t0, elapsed))
        if status not in expected:
            self.errors[kind].append(f"{method} {path} -> {status}: {payload[:200]!r}")
            return
        if kind == "queue":
            self.pending = [c for c in json.loads(payload)["courses"] if c["status"] == "pending"]
        elif kind == "decision":
            if status == 409:
                self.conflicts += 1
            else:
                self.decided += 1

    def run(self, stop_at: float, stats: Stats) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.perf_counter() < stop_at:
            self.one(self.rng.choices(kinds, weights)[0])
        self.conn.close()
        stats.merge(self.latency, self.started, self.errors, self.conflicts, self.decided)


# --- hostile uploads (issue 14) -----------------------------------------------------------------


def hostile_files() -> list[tuple[str, str, bytes]]:
    """(name, content type, bytes) of the files the independent attack used."""
    import io
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["title", "hours"])
    workbook.active.append(["Firearms Qualification", 2])
    raw = io.BytesIO()
    workbook.save(raw)

    def claim(extra: str) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                body = source.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    xml = body.decode().replace(
                        '<dimension ref="A1:B2" />', '<dimension ref="A1:XFD1048576" />'
                    )
                    xml = xml.replace("</c></row>", "</c>" + extra + "</row>", 1)
                    xml = xml.replace(
                        "</sheetData>", '<row r="1048576"><c r="XFD1048576"/></row></sheetData>'
                    )
                    body = xml.encode()
                target.writestr(info.filename, body)
        return out.getvalue()

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header = ",".join(f"c{n}" for n in range(200_000))
    return [
        ("whole-sheet.xlsx", xlsx, claim('<c r="XFD1"/>')),
        ("far-right.xlsx", xlsx, claim('<c r="XFD1" t="inlineStr"><is><t>x</t></is></c>')),
        ("wide.csv", "text/csv", f"{header}\nA,1\n".encode()),
    ]


def hostile_uploader(port: int, token: str, stop_at: float, out: dict, seed: int) -> None:
    """POST hostile files in a loop until stop_at; count answers, record anything else."""
    files = hostile_files()
    rng = random.Random(seed)
    boundary = "bench-hostile-boundary"
    while time.perf_counter() < stop_at:
        name, ctype, data = rng.choice(files)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: {ctype}\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        t0 = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/api/v1/catalogs?dry_run=1",
                body=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
            )
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            retry_after = response.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as exc:
            status, payload, retry_after = None, repr(exc).encode(), None
        finally:
            conn.close()
        seconds = time.perf_counter() - t0
        out["latency"].append(seconds)
        # A 503 with Retry-After is the server's answer to one upload too many at once (all
        # its upload slots busy): refused in time, nothing lost, so an answer, not an error.
        busy = status == 503 and retry_after is not None
        if status is None or (status >= 500 and not busy):
            out["errors"].append(f"{name} -> {status}: {payload[:200]!r}")
        else:
            out["answers"][status] = out["answers"].get(status, 0) + 1
            if not busy:  # how long one hostile file's work took, per file
                out.setdefault("by_file", {}).setdefault(name, []).append(seconds)


def health_monitor(port: int, stop_at: float, out: list) -> None:
    """GET /healthz every 0.25 s on a fresh connection; record each answer's seconds (or None)."""
    while time.perf_counter() < stop_at:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        t0 = time.perf_counter()
        try:
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        out.append(time.perf_counter() - t0 if ok else None)
        time.sleep(0.25)


def hostile_report(hostile: dict, health: list) -> list[tuple[str, bool, str]]:
    """Print the hostile uploads' answers and /healthz; return the targets."""
    answered = sum(hostile["answers"].values())
    lat = hostile["latency"]
    print(
        f"hostile uploads: {answered} answered {dict(sorted(hostile['answers'].items()))}, "
        f"{len(hostile['errors'])} errors, p50 {percentile(lat, 0.5):.1f} ms, "
        f"max {max(lat, default=0) * 1000:.1f} ms"
    )
    for name, values in sorted(hostile.get("by_file", {}).items()):
        print(
            f"  {name:<18} {len(values):>4} worked on, p50 {percentile(values, 0.5):.0f} ms, "
            f"max {max(values) * 1000:.0f} ms"
        )
    if 503 in hostile["answers"]:
        print(f"  {hostile['answers'][503]} refused with 503 + Retry-After (upload slots busy)")
    for err in hostile["errors"][:5]:
        print(f"  hostile error: {err}")
    good = [h for h in health if h is not None]
    worst = max(good, default=float("inf")) if len(good) == len(health) else float("inf")
    print(
        f"/healthz: {len(health)} polls, {len(health) - len(good)} failed, "
        f"p50 {percentile(good, 0.5):.1f} ms, max {max(good, default=0) * 1000:.1f} ms"
    )
    return [
        (
            "/healthz under 1 s throughout",
            bool(health) and worst < 1.0,
            f"max {worst * 1000:.0f} ms",
        ),
        (
            "every hostile upload answered (no 5xx, no reset)",
            not hostile["errors"] and answered > 0,
            f"{answered} answered, {len(hostile['errors'])} errors",
        ),
    ]


def decision_for(course: dict) -> dict:
    """Approve as suggested when the engine is sure of a live course, else override: all the
    hours to the best suggested area (always within the rules)."""
    if course.get("suggestion_confident") and course["delivery"] in LIVE:
        return {"action": "approve", "version": course["version"], "note": "load test"}
    areas = [s for s in course["suggestions"] if s["kind"] == "area"]
    slug = areas[0]["slug"] if areas else "skill-development"
    return {
        "action": "override",
        "version": course["version"],
        "areas": [{"slug": slug, "hours": course["hours"]}],
        "topics": [],
        "note": "load test",
    }


def percentile(values: list[float], f: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(f * len(values)))] * 1000


def run_import(
    env: dict, csv_path: Path, delay: float, result: dict, api: tuple[int, str] | None = None
) -> None:
    time.sleep(delay)
    t0 = time.perf_counter()
    result["t0"] = t0
    if api is not None:  # POST /api/v1/catalogs with the provider's token, as a file upload
        port, token = api
        boundary = "bench-load-boundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{csv_path.name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + csv_path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        conn = http.client.HTTPConnection(HOST, port, timeout=600)
        conn.request(
            "POST",
            "/api/v1/catalogs",
            body=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        response = conn.getresponse()
        payload = response.read().decode(errors="replace")
        conn.close()
        result.update(
            started=delay,
            seconds=time.perf_counter() - t0,
            returncode=0 if response.status == 201 else response.status,
            stdout=[f"API {response.status}: {payload[:200]}"],
            stderr=payload[-1500:],
        )
        return
    proc = subprocess.run(
        [str(BIN / "flask"), "--app", "catalog", "import-catalog", str(csv_path)]
        + ["--provider", "bench-import"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    result.update(
        started=delay,
        seconds=time.perf_counter() - t0,
        returncode=proc.returncode,
        stdout=proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else [],
        stderr=proc.stderr[-1500:],
    )


def count_imported(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(*) FROM courses c JOIN providers p ON p.id = c.provider_id "
                "WHERE p.slug = 'bench-import'"
            )
        ).scalar()
    engine.dispose()
    return int(n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=16, help="client threads (16)")
    parser.add_argument("--approved", type=int, default=5000)
    parser.add_argument("--pending", type=int, default=600)
    parser.add_argument("--import-rows", type=int, default=5000)
    parser.add_argument("--import-after", type=float, default=5.0, help="seconds into the run")
    parser.add_argument(
        "--import-via",
        choices=("cli", "api"),
        default="cli",
        help="flask import-catalog in a subprocess (default), or POST /api/v1/catalogs",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a throw-away PostgreSQL database (TEST_POSTGRES_URL's server) instead of SQLite",
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="separate gunicorn instances on the one database, clients spread over them (1)",
    )
    parser.add_argument(
        "--hostile",
        type=int,
        default=0,
        help="hostile uploaders posting at once for the whole run (issue 14; e.g. 4)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.duration <= 600:
        parser.error("--clients must be 1..64 and --duration 1..600 seconds")

    if not 1 <= args.servers <= 4:
        parser.error("--servers must be 1..4")
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    pg = postgres_database() if args.postgres else None
    url = pg[2] if pg else f"sqlite:///{work / 'load.db'}"
    env = app_env(url, work / "instance")
    try:
        return run(args, work, url, env)
    finally:
        if pg:
            drop_database(*pg[:2])


def postgres_database():
    """(admin engine, name, URL) of a new PostgreSQL database, dropped by drop_database."""
    import uuid

    import sqlalchemy as sa

    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin_url = admin_url.replace("postgresql://", "postgresql+psycopg://")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return admin, name, url


def drop_database(admin, name: str) -> None:
    import sqlalchemy as sa

    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(args, work: Path, url: str, env: dict) -> int:
    """Build the data, serve it with --servers gunicorn instances and drive them."""
    print(
        f"Building {args.approved:,} approved + {args.pending:,} pending courses in {work} ...",
        flush=True,
    )
    t0 = time.perf_counter()
    build_database(url, env, args.approved, args.pending)
    token = staff_token(env)
    flask_cmd(env, "create-provider", "bench-import", "--name", "Bench Import Academy")
    provider_token = None
    if args.import_via == "api" or args.hostile:
        flask_cmd(
            env,
            "create-user",
            "load-provider@bench.example",
            "--role",
            "provider",
            "--provider",
            "bench-import",
            stdin="Bench-Load-Password-42\n",
        )
        out = flask_cmd(env, "create-token", "load-provider@bench.example")
        provider_token = out.strip().splitlines()[-1]
    csv_path = work / "import.csv"
    write_import_csv(csv_path, args.import_rows)
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)

    ports = [free_port() for _ in range(args.servers)]
    servers = []
    stats = Stats()
    import_result: dict = {}
    try:
        for i, port in enumerate(ports):
            servers.append(start_gunicorn(env, port, work / f"gunicorn-{i + 1}.log"))
        for port in ports:
            warm = Client(port, token, args.approved, random.Random(0))
            for kind in MIX:  # one of each: fail fast on a broken route, and warm both workers
                warm.one(kind)
                warm.one(kind)
            if any(warm.errors.values()):
                for kind, errs in warm.errors.items():
                    for err in errs[:3]:
                        print(f"  warm-up error ({kind}): {err}")
                return 1
        port = ports[0]
        print(
            f"Driving {', '.join(f'127.0.0.1:{p}' for p in ports)} "
            f"({'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}) with "
            f"{args.clients} clients for {args.duration:.0f} s; "
            f"importing {args.import_rows:,} rows from t={args.import_after:.0f} s ...",
            flush=True,
        )
        importer = threading.Thread(
            target=run_import,
            args=(env, csv_path, args.import_after, import_result),
            kwargs={"api": (port, provider_token) if args.import_via == "api" else None},
        )
        started = time.perf_counter()
        stop_at = started + args.duration
        import_result["run_started"] = started
        threads = [
            threading.Thread(
                target=Client(
                    ports[k % len(ports)], token, args.approved, random.Random(k + 1)
                ).run,
                args=(stop_at, stats),
            )
            for k in range(args.clients)
        ]
        hostile = {"answers": {}, "errors": [], "latency": []}
        health: list = []
        if args.hostile:
            threads += [
                threading.Thread(
                    target=hostile_uploader, args=(port, provider_token, stop_at, hostile, k)
                )
                for k in range(args.hostile)
            ]
            threads.append(threading.Thread(target=health_monitor, args=(port, stop_at, health)))
        importer.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        importer.join()
    finally:
        for server in servers:
            stop(server)

    extra = hostile_report(hostile, health) if args.hostile else []
    return report(args, stats, elapsed, import_result, count_imported(url), work, extra)


def report(
    args, stats: Stats, elapsed: float, imp: dict, imported: int, work: Path, extra=()
) -> int:
    everything = [v for values in stats.latency.values() for v in values]
    n_errors = sum(len(v) for v in stats.errors.values())
    print()
    print(
        f"{'kind':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'errors':>7}"
    )
    for kind in [*MIX, "all"]:
        values = everything if kind == "all" else stats.latency.get(kind, [])
        errs = n_errors if kind == "all" else len(stats.errors.get(kind, []))
        print(
            f"{kind:<10} {len(values):>9} {len(values) / elapsed:>8.1f} "
            f"{percentile(values, 0.50):>8.1f} {percentile(values, 0.95):>8.1f} "
            f"{percentile(values, 0.99):>8.1f} {errs:>7}"
        )
    print(
        f"decisions: {stats.decided} applied, {stats.conflicts} expected conflicts (409: another "
        "client decided that version first)"
    )
    import_ok = imp.get("returncode") == 0 and imported == args.import_rows
    finished_in_run = imp.get("started", 0) + imp.get("seconds", 1e9) <= elapsed
    print(
        f"import: {args.import_rows:,} rows, exit {imp.get('returncode')}, "
        f"{imp.get('seconds', float('nan')):.1f} s from t={imp.get('started', 0):.0f} s "
        f"({'committed during the run' if finished_in_run else 'finished after the run'}), "
        f"{imported:,} courses in the database. {' '.join(imp.get('stdout', []))}"
    )
    if imp.get("returncode") != 0:
        print("  import stderr: " + (imp.get("stderr") or "").strip()[-800:])
    for kind, errs in stats.errors.items():
        for err in errs[:5]:
            print(f"  error ({kind}): {err}")
    if "t0" in imp:
        begin, end = imp["t0"], imp["t0"] + imp["seconds"]
        during = [lat for t, lat in stats.started if begin <= t <= end]
        outside = [lat for t, lat in stats.started if not begin <= t <= end]
        for label, values, span in (
            ("while importing", during, min(end, imp["run_started"] + elapsed) - begin),
            ("otherwise", outside, elapsed - (min(end, imp["run_started"] + elapsed) - begin)),
        ):
            print(
                f"  {label:<16} {len(values):>7} requests, {len(values) / max(span, 1e-9):6.1f} "
                f"req/s, p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f}"
                f" ms, p99 {percentile(values, 0.99):.1f} ms"
            )
    rps = len(everything) / elapsed
    p95 = percentile(everything, 0.95)
    targets = [
        (
            f"throughput >= {TARGET_RPS:.0f} req/s for {elapsed:.0f} s",
            rps >= TARGET_RPS,
            f"{rps:.1f} req/s",
        ),
        (f"p95 < {TARGET_P95_MS:.0f} ms", p95 < TARGET_P95_MS, f"{p95:.1f} ms"),
        ("zero errors", n_errors == 0, f"{n_errors} errors"),
        (
            f"import of {args.import_rows:,} rows committed during the run",
            import_ok and finished_in_run,
            f"{imported:,} rows",
        ),
        *extra,
    ]
    print()
    for name, ok, figure in targets:
        print(f"  [{'met' if ok else 'MISSED'}] {name}: {figure}")
    print(f"(work directory {work}{'' if args.keep else ', removed'})")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if n_errors or not import_ok or not all(ok for _, ok, _ in extra):
        return 1
    if args.strict and not all(ok for _, ok, _ in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

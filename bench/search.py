"""Benchmark the public search (`/courses.json?q=...&topic=...`, with total and facet counts).

    python bench/search.py [--rows 100000] [--seconds 20] [--clients 8] [--no-postgres] [--quick]

`--quick` (20,000 rows, 5 s per target) is for iterating; report figures from a full run.

Builds N approved courses (titles from realistic fragments) in a SQLite file, serves the app under
gunicorn (2 workers, 127.0.0.1) and drives it with a bounded pool of client threads for a fixed
time, against, in the same run, on the same data and queries:
  (a) the limit: a few-line WSGI app doing the same FTS5 MATCH (count + LIMIT 20) through plain
      sqlite3 under the same gunicorn;
  (b) Datasette serving the same table with full-text search (`_search=`, two facets).
Then the same app on PostgreSQL (the same rows in a throw-away database), reported beside it.
Prints requests/s, p50 and p99 for each target and the ratios. Servers are killed at the end.
The app and (a), whose ratio is the target, both stay up and are driven in turns (`--slices`
slices of seconds/slices each, alternating), so that load from anything else on the machine falls
on both alike; their figures are over all their slices together.
Every gunicorn target runs from the same scratch directory with the same flags (the repository's
production gunicorn.conf.py, with its access log, is deliberately not picked up by any of them).
PostgreSQL gets ANALYZE after the bulk load: a live database has statistics (autovacuum), and
planning 100,000 fresh rows without any is not what production would see.
"""

from __future__ import annotations

import argparse
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
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

SUBJECTS = {
    "De-escalation": ("skill-development", "de-escalation"),
    "Verbal De-escalation": ("interpersonal-perspectives", "de-escalation"),
    "Deescalation and Crisis Intervention": ("skill-development", "de-escalation"),
    "Crisis Intervention": ("interpersonal-perspectives", "de-escalation"),
    "Implicit Bias": ("interpersonal-perspectives", "implicit-bias"),
    "Fair and Impartial Policing": ("interpersonal-perspectives", "implicit-bias"),
    "Racial Profiling": ("legal-studies", "racial-profiling"),
    "Traffic Stop Data and Racial Profiling": ("technical-studies", "racial-profiling"),
    "Handgun Qualification": ("skill-development", "firearms"),
    "Patrol Rifle": ("skill-development", "firearms"),
    "Low Light Shooting": ("skill-development", "firearms"),
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
    "Child Abuse Investigation": ("technical-studies", None),
}
PREFIXES = ["", "Introduction to", "Advanced", "Basic", "Refresher:", "Missouri", "Practical"]
SUFFIXES = [
    "",
    "(1 hour)",
    "for Patrol",
    "for Supervisors",
    "in Rural Communities",
    "2026",
    "Workshop",
    "Roll Call",
    "Online",
    "Scenarios",
]
DESCRIPTIONS = [
    "Officers practise {s} through case studies and scenario work.",
    "A {h}-hour course on {s} for sworn officers, with a short knowledge check.",
    "Covers policy, case law and field practice of {s}.",
]
DELIVERIES = ["in-person", "online", "live-virtual", "blended"]
QUERIES = [
    ("de-escalation", "de-escalation"),
    ("deescalation", "de-escalation"),
    ("firearms qualification", "firearms"),
    ("bias", "implicit-bias"),
    ("racial profiling", "racial-profiling"),
    ("crisis", "de-escalation"),
]


def generate(n: int, seed: int = 7):
    rng = random.Random(seed)
    subjects = list(SUBJECTS)
    for i in range(1, n + 1):
        subject = rng.choice(subjects)
        title = " ".join(x for x in (rng.choice(PREFIXES), subject, rng.choice(SUFFIXES)) if x)
        hours = rng.choice([1, 1, 1, 2, 4, 8, 0.5])
        description = rng.choice(DESCRIPTIONS).format(s=subject.lower(), h=hours)
        yield i, f"{title} #{i}", description, hours, rng.choice(DELIVERIES), SUBJECTS[subject]


def app_env(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
        "CATALOG_ENV": "production",
    }


def flask(url: str, *args: str) -> None:
    subprocess.run(
        [str(BIN / "flask"), "--app", "catalog", *args],
        env=app_env(url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def load(url: str, n: int) -> None:
    """Schema up to before the search migration, bulk rows, then the search migration (which
    indexes every existing row in one statement), so loading is not N trigger calls."""
    import sqlalchemy as sa

    flask(url, "db", "upgrade", "issue7_search", "-d", str(ROOT / "catalog/migrations"))
    flask(url, "db", "downgrade", "-d", str(ROOT / "catalog/migrations"))
    flask(url, "seed", "--no-demo")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        jid = conn.execute(sa.text("SELECT id FROM jurisdictions WHERE code='MO'")).scalar()
        # Missouri's categories only: other seeded jurisdictions reuse slugs (Texas has its own
        # de-escalation), and the app serves Missouri, the first one seeded.
        cats = dict(
            conn.execute(
                sa.text("SELECT slug, id FROM categories WHERE jurisdiction_id = :j"), {"j": jid}
            ).all()
        )
        for p in range(1, 41):
            conn.execute(
                sa.text(
                    "INSERT INTO providers (id, slug, name, kind, licence_number, "
                    "approved_provider, url, contact_email, created_at) VALUES "
                    "(:i, :s, :n, 'vendor', '', true, '', '', CURRENT_TIMESTAMP)"
                ),
                {"i": p, "s": f"provider-{p}", "n": f"Training Provider {p}"},
            )
        courses, categories = [], []
        rng = random.Random(3)
        for i, title, desc, hours, delivery, (area, topic) in generate(n):
            courses.append(
                {
                    "i": i,
                    "p": rng.randint(1, 40),
                    "j": jid,
                    "t": title,
                    "nt": title.lower(),
                    "d": desc,
                    "h": hours,
                    "dl": delivery,
                }
            )
            categories.append({"c": i, "k": cats[area], "h": hours})
            if topic:
                categories.append({"c": i, "k": cats[topic], "h": None})
        conn.execute(
            sa.text(
                "INSERT INTO courses (id, provider_id, jurisdiction_id, title, normalised_title, "
                "description, objectives, hours, delivery, url, status, version, content_hash, "
                "suggestion, suggestion_score, suggestion_confident, control_number, approved_at, "
                "approved_until, decision_note, created_at, updated_at) VALUES (:i, :p, :j, :t, :nt, "
                ":d, '', :h, :dl, '', 'approved', 1, '', '{}', 0, false, 'MO-B', CURRENT_TIMESTAMP, "
                "'2099-12-31', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
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
    engine.dispose()
    flask(url, "db", "upgrade", "-d", str(ROOT / "catalog/migrations"))
    if url.startswith("postgresql"):
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        engine.dispose()


BASELINE = """
import sqlite3, urllib.parse, json, os
from catalog.services.publishing.search import parse
DB = os.environ["BENCH_SQLITE"]
def app(environ, start_response):
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
    con = sqlite3.connect(DB)
    expr = parse(q).fts5()
    n = con.execute("SELECT count(*) FROM courses_fts WHERE courses_fts MATCH ?", (expr,)).fetchone()[0]
    rows = con.execute("SELECT rowid, title FROM courses_fts WHERE courses_fts MATCH ? ORDER BY rank LIMIT 20", (expr,)).fetchall()
    con.close()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"total": n, "courses": rows}).encode()]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, port: int, cwd=ROOT) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def drive(port: int, paths: list[str], seconds: float, clients: int) -> dict:
    """Closed loop: `clients` threads, each on a keep-alive connection, until the time is up."""
    return summary([run_clients(port, paths, seconds, clients)])


def run_clients(port: int, paths: list[str], seconds: float, clients: int) -> dict:
    """One closed-loop run: the latencies of the good responses, errors, elapsed seconds."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], k
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors[0], "elapsed": time.perf_counter() - started}


def summary(runs: list[dict]) -> dict:
    """requests/s, p50, p99 over one or more runs of the same target."""
    latencies = sorted(x for run in runs for x in run["latencies"])
    elapsed = sum(run["elapsed"] for run in runs)

    def pick(f: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(f * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50": pick(0.50),
        "p99": pick(0.99),
        "n": len(latencies),
        "errors": sum(run["errors"] for run in runs),
    }


def drive_in_turns(
    targets: dict[str, tuple[int, list[str]]], seconds: float, clients: int, slices: int
) -> dict[str, dict]:
    """Drive each (port, paths) target for `seconds` in all, in `slices` alternating turns."""
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    for _ in range(slices):
        for name, (port, paths) in targets.items():
            runs[name].append(run_clients(port, paths, seconds / slices, clients))
    return {name: summary(r) for name, r in runs.items()}


def check(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} -> {response.status}: {body[:300]!r}")
    return json.loads(body)


def check_app(port: int) -> dict:
    """The app's answer to the first bench query, which must be exact matches (a total of 0
    would measure the close-match fallback instead)."""
    sample = check(port, app_paths()[0])
    if not sample["total"] or sample["close_matches"]:
        raise SystemExit(f"the app found no exact match on the bench data: {sample['notices']}")
    return sample


def gunicorn(app: str, env: dict, port: int, cwd=ROOT) -> subprocess.Popen:
    return start(
        [
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env,
        port,
        cwd,
    )


def app_paths() -> list[str]:
    return [f"/courses.json?{urllib.parse.urlencode({'q': q, 'topic': t})}" for q, t in QUERIES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 100_000)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 20)))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 5 s per target")
    parser.add_argument(
        "--slices", type=int, default=4, help="alternating turns of the app and (a)"
    )
    args = parser.parse_args()
    if args.quick:
        args.rows, args.seconds = min(args.rows, 20_000), min(args.seconds, 5.0)
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    db_file = work / "bench.db"
    url = f"sqlite:///{db_file}"
    print(f"Loading {args.rows:,} approved courses into {db_file} ...", flush=True)
    t0 = time.perf_counter()
    load(url, args.rows)
    print(f"  loaded and indexed in {time.perf_counter() - t0:.1f} s", flush=True)
    (work / "baseline_app.py").write_text(BASELINE)
    (work / "metadata.json").write_text(
        json.dumps(
            {
                "databases": {
                    "bench": {"tables": {"courses": {"fts_table": "courses_fts", "fts_pk": "id"}}}
                }
            }
        )
    )
    results: dict[str, dict] = {}
    procs: list[subprocess.Popen] = []
    try:
        port = free_port()
        app_in_scratch = {**app_env(url), "PYTHONPATH": str(ROOT)}
        procs.append(gunicorn("catalog:create_app()", app_in_scratch, port, cwd=work))
        sample = check_app(port)
        print(
            f"  app: q=de-escalation&topic=de-escalation -> total {sample['total']}, "
            f"{len(sample['facets'])} facets",
            flush=True,
        )
        app_port = port

        port = free_port()
        env = {**os.environ, "BENCH_SQLITE": str(db_file), "PYTHONPATH": str(ROOT)}
        procs.append(gunicorn("baseline_app:app", env, port, cwd=work))
        paths = [f"/?{urllib.parse.urlencode({'q': q})}" for q, _ in QUERIES]
        print(f"  (a): total {check(port, paths[0])['total']}", flush=True)
        results.update(
            drive_in_turns(
                {
                    "app (SQLite)": (app_port, app_paths()),
                    "(a) plain sqlite3 FTS5": (port, paths),
                },
                args.seconds,
                args.clients,
                max(1, args.slices),
            )
        )
        stop(procs.pop())
        stop(procs.pop())

        port = free_port()
        procs.append(
            start(
                [
                    str(BIN / "datasette"),
                    "serve",
                    str(db_file),
                    "--port",
                    str(port),
                    "--host",
                    "127.0.0.1",
                    "-m",
                    str(work / "metadata.json"),
                    "--setting",
                    "sql_time_limit_ms",
                    "20000",
                ],
                dict(os.environ),
                port,
            )
        )
        paths = [
            f"/bench/courses.json?{urllib.parse.urlencode({'_search': q, '_facet': 'delivery', '_size': 20})}"
            for q, _ in QUERIES
        ]
        check(port, paths[0])
        results["(b) Datasette"] = drive(port, paths, args.seconds, args.clients)
        stop(procs.pop())

        if not args.no_postgres:
            pg = postgres_database()
            if pg:
                admin, name, pg_url = pg
                try:
                    print("Loading the same rows into PostgreSQL ...", flush=True)
                    load(pg_url, args.rows)
                    port = free_port()
                    pg_env = {**app_env(pg_url), "PYTHONPATH": str(ROOT)}
                    procs.append(gunicorn("catalog:create_app()", pg_env, port, cwd=work))
                    check_app(port)
                    results["app (PostgreSQL)"] = drive(
                        port, app_paths(), args.seconds, args.clients
                    )
                    stop(procs.pop())
                finally:
                    drop_database(admin, name)
    finally:
        for proc in procs:
            stop(proc)
    report(results, args)


def postgres_database():
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(
            PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
            isolation_level="AUTOCOMMIT",
        )
        name = f"bench_search_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - report and carry on with SQLite only
        print(f"PostgreSQL not available ({str(exc).splitlines()[0]}); skipped.")
        return None
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return admin, name, url


def drop_database(admin, name: str) -> None:
    import sqlalchemy as sa

    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def report(results: dict[str, dict], args) -> None:
    print(
        f"\n/courses.json?q=...&topic=... with total and facets; {args.rows:,} rows, "
        f"{args.clients} clients, {args.seconds:g} s each, gunicorn -w 2"
    )
    print(f"{'target':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:<26}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['errors']:>8}")
    app, limit = results.get("app (SQLite)"), results.get("(a) plain sqlite3 FTS5")
    other = results.get("(b) Datasette")
    if app and limit:
        tput = app["rps"] / limit["rps"]
        tail = app["p99"] / limit["p99"]
        print(
            f"\napp / (a): throughput {tput:.2f}x (target >= 0.5x), "
            f"p99 {tail:.2f}x (target <= 2x) -> {'OK' if tput >= 0.5 and tail <= 2 else 'MISSED'}"
        )
    if app and other:
        print(
            f"app / (b) Datasette: throughput {app['rps'] / other['rps']:.1f}x, "
            f"p99 {app['p99'] / other['p99']:.2f}x"
        )
    pg = results.get("app (PostgreSQL)")
    if app and pg:
        print(
            f"PostgreSQL / SQLite app: throughput {pg['rps'] / app['rps']:.2f}x, "
            f"p99 {pg['p99'] / app['p99']:.2f}x"
        )


if __name__ == "__main__":
    main()

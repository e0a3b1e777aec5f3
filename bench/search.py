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
PostgreSQL gets its rows as after an import and its approvals, with no ANALYZE by hand: the
statistics are whatever the app itself keeps (catalog/db.py analyzes after a bulk write).
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
# The mix: words and word pairs of the bench titles and descriptions (every one has matches at
# 1,000 courses), each twice with different facets, cycled by every client: over 100 distinct
# URLs, so that caching a few proves nothing. The baselines get the same words, no facets.
WORDS = [
    "de-escalation",
    "deescalation",
    "verbal de-escalation",
    "crisis",
    "crisis intervention",
    "implicit bias",
    "bias",
    "fair impartial",
    "racial profiling",
    "traffic stop",
    "handgun",
    "handgun qualification",
    "patrol rifle",
    "rifle",
    "low light",
    "shooting",
    "legal update",
    "legal",
    "search seizure",
    "use of force",
    "use-of-force",
    "crash",
    "crash investigation",
    "report writing",
    "report",
    "dwi",
    "dwi detection",
    "wellness",
    "officer wellness",
    "ethics",
    "defensive tactics",
    "emergency vehicle",
    "vehicle operations",
    "first aid",
    "cpr",
    "domestic violence",
    "child abuse",
    "advanced",
    "introduction",
    "refresher",
    "basic",
    "practical",
    "missouri",
    "patrol",
    "supervisors",
    "rural communities",
    "workshop",
    "roll call",
    "scenarios",
    "online",
    "case studies",
    "knowledge check",
    "case law",
]
FACET_SETS = [
    {},
    {"delivery": "online"},
    {"hours": "1"},
    {"delivery": "remote", "hours": "1"},
    {"sort": "title"},
    {"delivery": "in-person"},
    {"sort": "hours"},
    {"max_hours": "2"},
]
MIX = [
    {"q": word, **FACET_SETS[(i * 2 + k) % len(FACET_SETS)]}
    for k in range(2)
    for i, word in enumerate(WORDS)
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
    """SQLite: schema up to before the search migration, bulk rows, then the search migration
    (which indexes every existing row in one statement), so loading is not N trigger calls.

    PostgreSQL: the whole schema first, then the rows in one transaction through the app's
    engine hooks (catalog.db), as an import and its approvals bring them: the triggers fill the
    search tables, and the app's own ANALYZE after a bulk write is the only one (no ANALYZE by
    hand, and this server may run without autovacuum)."""
    import sqlalchemy as sa

    postgresql = url.startswith("postgresql")
    if postgresql:
        import catalog.db  # noqa: F401 - the app's engine hooks (statistics after bulk writes)

        flask(url, "db", "upgrade", "-d", str(ROOT / "catalog/migrations"))
        url = url.replace("postgresql://", "postgresql+psycopg://")
    else:
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
        status, source = ("pending", "suggested") if postgresql else ("approved", "decided")
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
                ":d, '', :h, :dl, '', :st, 1, '', '{}', 0, false, 'MO-B', CURRENT_TIMESTAMP, "
                "'2099-12-31', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            [{**row, "st": status} for row in courses],
        )
        conn.execute(
            sa.text(
                "INSERT INTO course_categories (course_id, category_id, source, hours, confident, "
                "evidence) VALUES (:c, :k, :src, :h, false, '[]')"
            ),
            [{**row, "src": source} for row in categories],
        )
        if postgresql:
            # The approvals, after the import's pending courses and suggestions (which the
            # triggers skip): the search tables fill per row, as they would in the app.
            conn.execute(sa.text("UPDATE courses SET status = 'approved'"))
            conn.execute(sa.text("UPDATE course_categories SET source = 'decided'"))
    engine.dispose()
    if not postgresql:
        flask(url, "db", "upgrade", "-d", str(ROOT / "catalog/migrations"))


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

# (c): the minimal PostgreSQL endpoint: the app's own tsquery (search.match) over the same
# search_courses table, count + ts_rank LIMIT 20, one connection per worker with the app's
# session settings.
BASELINE_PG = """
import json, os, re, urllib.parse
import psycopg
from catalog.services.publishing.search import match, parse
CON = []
def app(environ, start_response):
    if not CON:
        con = psycopg.connect(os.environ["BENCH_PG"], autocommit=True)
        con.execute("SET random_page_cost = 1.1")
        con.execute("SET max_parallel_workers_per_gather = 0")
        CON.append(con)
    q = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
    m = match("postgresql", parse(q))
    tsq = re.sub(r":(ts_[0-9_]+)", r"%(\\1)s", m.ids_sql.split("s.doc @@ ", 1)[1])
    params = {k: v for k, v in m.params.items() if k.startswith("ts_")}
    cur = CON[0].cursor()
    n = cur.execute(f"SELECT count(*) FROM search_courses s WHERE s.doc @@ {tsq}", params).fetchone()[0]
    rows = cur.execute(
        f"SELECT s.course_id, s.title FROM search_courses s WHERE s.doc @@ {tsq} "
        f"ORDER BY ts_rank(s.doc, {tsq}) DESC LIMIT 20", params).fetchall()
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
    return [f"/courses.json?{urllib.parse.urlencode(params)}" for params in MIX]


def text_paths(prefix: str) -> list[str]:
    """The same words for a baseline (which ignores facets), in the same cycle."""
    return [f"{prefix}?{urllib.parse.urlencode({'q': params['q']})}" for params in MIX]


def check_all(port: int, paths: list[str]) -> None:
    """Every query of the mix must find courses as typed (a total of 0 would measure the typo
    and close-match fallbacks instead)."""
    for path in dict.fromkeys(paths):
        body = check(port, path)
        if not body["total"] or body.get("close_matches"):
            raise SystemExit(
                f"{path} found no exact match on the bench data: {body.get('notices')}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=os.environ.get("BENCH_SIZES", "1000,10000,100000"),
        help="comma-separated numbers of approved courses",
    )
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 12)))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 and 10,000 rows, 4 s per target"
    )
    parser.add_argument("--slices", type=int, default=4, help="alternating turns of the targets")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        sizes, args.seconds = [s for s in sizes if s <= 10_000] or [1000], min(args.seconds, 4.0)
    print(f"{len(set(app_paths()))} distinct app URLs, {len(set(text_paths('/')))} distinct words")
    table = []
    for n in sizes:
        results = run_size(n, args)
        report(n, results, args)
        table.append((n, results))
    summary_table(table)


def run_size(n: int, args) -> dict[str, dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    db_file = work / "bench.db"
    url = f"sqlite:///{db_file}"
    print(f"\nLoading {n:,} approved courses into {db_file} ...", flush=True)
    t0 = time.perf_counter()
    load(url, n)
    print(f"  loaded and indexed in {time.perf_counter() - t0:.1f} s", flush=True)
    (work / "baseline_app.py").write_text(BASELINE)
    (work / "baseline_pg.py").write_text(BASELINE_PG)
    procs: list[subprocess.Popen] = []
    targets: dict[str, tuple[int, list[str]]] = {}
    pg = None if args.no_postgres else postgres_database()
    try:
        port = free_port()
        procs.append(
            gunicorn(
                "catalog:create_app()", {**app_env(url), "PYTHONPATH": str(ROOT)}, port, cwd=work
            )
        )
        check_all(port, app_paths())
        targets["app (SQLite)"] = (port, app_paths())
        port = free_port()
        env = {**os.environ, "BENCH_SQLITE": str(db_file), "PYTHONPATH": str(ROOT)}
        procs.append(gunicorn("baseline_app:app", env, port, cwd=work))
        targets["(a) bare sqlite3 FTS5"] = (port, text_paths("/"))
        if pg:
            admin, name, pg_url = pg
            print("  the same rows into PostgreSQL ...", flush=True)
            load(pg_url, n)
            port = free_port()
            procs.append(
                gunicorn(
                    "catalog:create_app()",
                    {**app_env(pg_url), "PYTHONPATH": str(ROOT)},
                    port,
                    cwd=work,
                )
            )
            check_all(port, app_paths())
            targets["app (PostgreSQL)"] = (port, app_paths())
            port = free_port()
            env = {**os.environ, "BENCH_PG": pg_url, "PYTHONPATH": str(ROOT)}
            procs.append(gunicorn("baseline_pg:app", env, port, cwd=work))
            targets["(c) minimal PostgreSQL"] = (port, text_paths("/"))
        for name_, (port, paths) in targets.items():
            if not name_.startswith("app"):
                check(port, paths[0])
        results = drive_in_turns(targets, args.seconds, args.clients, max(1, args.slices))
        for name_, proc in zip(targets, procs, strict=True):
            results[name_]["rss"] = peak_rss_mb(proc.pid)
        return results
    finally:
        for proc in procs:
            stop(proc)
        if pg:
            drop_database(pg[0], pg[1])


def peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM, MB) among the gunicorn master's workers (Linux)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return float("nan")
    peaks = []
    for child in children:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=float("nan"))


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


def report(n: int, results: dict[str, dict], args) -> None:
    print(
        f"\n/courses.json?q=...[&facets] with total and facets; {n:,} rows, "
        f"{args.clients} clients, {args.seconds:g} s each in {args.slices} alternating slices, "
        "gunicorn -w 2"
    )
    print(
        f"{'target':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'peak RSS/worker MB':>20}"
    )
    for name, r in results.items():
        print(
            f"{name:<26}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['errors']:>8}"
            f"{r.get('rss', float('nan')):>20.0f}"
        )


def ratios(n: int, results: dict[str, dict]) -> dict:
    app, fts = results.get("app (SQLite)"), results.get("(a) bare sqlite3 FTS5")
    pg, minimal = results.get("app (PostgreSQL)"), results.get("(c) minimal PostgreSQL")
    out = {
        "sqlite": app["rps"] / fts["rps"],
        "sqlite_p99": app["p99"] / fts["p99"],
        "sqlite_target": 0.8 if n < 10_000 else 1.0,
    }
    if pg and minimal:
        out.update(
            pg=pg["rps"] / minimal["rps"],
            pg_p99=pg["p99"] / minimal["p99"],
            pg_vs_sqlite=pg["rps"] / app["rps"],
        )
    return out


def summary_table(table) -> None:
    print(
        "\n| approved courses | app on SQLite | bare sqlite3 FTS5 | ratio | p99 ratio "
        "| app on PostgreSQL | minimal PostgreSQL | ratio | p99 ratio | PostgreSQL / SQLite app |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, results in table:
        r = ratios(n, results)
        app, fts = results["app (SQLite)"], results["(a) bare sqlite3 FTS5"]
        row = (
            f"| {n:,} | {app['rps']:.0f} req/s (p99 {app['p99']:.0f} ms) | {fts['rps']:.0f} req/s "
            f"(p99 {fts['p99']:.0f} ms) | **{r['sqlite']:.2f}x** (>= {r['sqlite_target']}x) "
            f"| {r['sqlite_p99']:.2f}x (<= 1.5x) |"
        )
        if "pg" in r:
            pg, minimal = results["app (PostgreSQL)"], results["(c) minimal PostgreSQL"]
            row += (
                f" {pg['rps']:.0f} req/s (p99 {pg['p99']:.0f} ms) | {minimal['rps']:.0f} req/s "
                f"(p99 {minimal['p99']:.0f} ms) | **{r['pg']:.2f}x** (>= 1.0x) | {r['pg_p99']:.2f}x "
                f"| {r['pg_vs_sqlite']:.2f}x (>= 0.8x) |"
            )
        else:
            row += " - | - | - | - | - |"
        print(row)


if __name__ == "__main__":
    main()

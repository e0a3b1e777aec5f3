"""Benchmark the catalog import through the CLI against a bare baseline, on SQLite and PostgreSQL.

    python bench/import_catalog.py [--n 50000] [--backends sqlite,postgresql]

For each backend, on a fresh database (migrated, Missouri taxonomy seeded) it times, in the same run:
  cli       `flask --app catalog import-catalog FILE --provider bench` as a subprocess: read, validate,
            match against existing courses, suggest (engine), write courses + categories + audit,
            commit once; peak memory is that subprocess's max RSS
  baseline  csv.DictReader over the same file + ONE bulk insert() of the rows into `courses` +
            ONE rapidfuzz.process.cdist(titles, taxonomy vocabulary) call
and prints cli / baseline. Target: ratio <= 2.5, peak memory < 500 MB. A second CLI run of the same
file (every row unchanged, nothing written) is timed as well, and so is what a provider waits for
in the browser with its first 5,000 rows: the upload (parse, check, suggest, store the draft) and
the first preview page (in-process app, signed in as a provider user).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import itertools
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from match import generate, vocabulary  # noqa: E402
from rapidfuzz import fuzz, process, utils  # noqa: E402

from mapping import Taxonomy, default_taxonomy_path  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FLASK = [sys.executable, "-m", "flask", "--app", "catalog"]
DELIVERY = ["online", "in-person", "Classroom", "Webinar", "blended"]


def write_catalog(path: Path, n: int) -> None:
    rng = random.Random(7)
    titles = generate(n)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Course #", "Course Title", "Length (hrs)", "Delivery Method", "Description"])
        for i, title in enumerate(titles):
            out.writerow(
                [
                    f"B-{i:06d}",
                    f"{title} #{i}",
                    rng.choice(["1", "2", "4", "1.5", "8"]),
                    rng.choice(DELIVERY),
                    "Generated course for the import benchmark.",
                ]
            )


def flask(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*FLASK, *args], env=env, cwd=ROOT, capture_output=True, text=True, input=stdin
    )
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def child_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def baseline(url: str, path: Path, vocab: list[str]) -> float:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    courses = sa.Table("courses", meta, autoload_with=engine)
    with engine.begin() as conn:
        provider_id = conn.execute(
            sa.text("SELECT id FROM providers WHERE slug='baseline'")
        ).scalar()
        jurisdiction_id = conn.execute(sa.text("SELECT id FROM jurisdictions LIMIT 1")).scalar()
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    now = datetime.datetime.now()
    values = [
        {
            "provider_id": provider_id,
            "jurisdiction_id": jurisdiction_id,
            "provider_code": r["Course #"],
            "title": r["Course Title"],
            "normalised_title": r["Course Title"].lower(),
            "description": r["Description"],
            "objectives": "",
            "hours": Decimal(r["Length (hrs)"]),
            "delivery": r["Delivery Method"],
            "url": "",
            "status": "pending",
            "version": 1,
            "content_hash": "",
            "suggestion": {},
            "suggestion_score": 0,
            "suggestion_confident": False,
            "control_number": "",
            "decision_note": "",
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(courses), values)
    process.cdist(
        [r["Course Title"] for r in rows],
        vocab,
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        workers=-1,
        dtype="uint8",
    )
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def run_backend(name: str, url: str, path: Path, n: int, vocab: list[str]) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CATALOG_ENV": "development",
        "SECRET_KEY": "bench-5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
        "MAX_UPLOAD_MB": "100",
        "PYTHONPATH": str(ROOT),
    }
    flask(env, "init-db")
    flask(env, "seed", "--no-demo")
    flask(env, "create-provider", "bench", "--name", "Bench Academy")
    flask(env, "create-provider", "baseline", "--name", "Baseline")
    t_base = baseline(url, path, vocab)
    start = time.perf_counter()
    result = flask(env, "import-catalog", str(path), "--provider", "bench")
    t_cli = time.perf_counter() - start
    rss = child_rss_mb()
    assert f"created {n}," in result.stdout, result.stdout
    start = time.perf_counter()
    again = flask(env, "import-catalog", str(path), "--provider", "bench")
    t_again = time.perf_counter() - start
    assert "created 0, updated 0" in again.stdout, again.stdout
    print(f"[{name}] baseline (csv + 1 bulk insert + 1 cdist) {t_base:7.2f} s")
    print(
        f"[{name}] import-catalog CLI                    {t_cli:7.2f} s   ratio {t_cli / t_base:5.2f}x"
        f"   (target <= 2.5x)"
    )
    print(
        f"[{name}] re-import, all unchanged              {t_again:7.2f} s   ratio {t_again / t_base:5.2f}x"
    )
    print(
        f"[{name}] peak memory of the CLI process (max RSS so far) {rss:6.0f} MB (target < 500 MB)"
    )
    t_upload, t_preview = web_preview(env, url, path)
    print(
        f"[{name}] web: upload 5,000 rows {t_upload:5.2f} s, then the preview page "
        f"{t_preview:5.2f} s"
    )
    return {
        "backend": name,
        "baseline": t_base,
        "cli": t_cli,
        "again": t_again,
        "rss": rss,
        "upload": t_upload,
        "preview": t_preview,
    }


def web_preview(env: dict, url: str, path: Path, rows: int = 5000) -> tuple[float, float]:
    """Seconds for POST /provider/catalogs/new with the first `rows` rows, then the preview page."""
    from catalog import create_app

    password = "bench-password-123"
    flask(env, "create-provider", "web", "--name", "Web Academy")
    flask(
        env,
        "create-user",
        "web@bench.example",
        "--role",
        "provider",
        "--provider",
        "web",
        stdin=password + "\n",
    )
    with path.open(encoding="utf-8") as handle:
        content = "".join(itertools.islice(handle, rows + 1)).encode()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-5f0c9a7e3b1d48e2a6c4f9b0d7e13a5c8b2f6e4d1a9c7b3e",
            "WTF_CSRF_ENABLED": False,
            "MAX_UPLOAD_MB": 100,
        }
    )
    client = app.test_client()
    signed_in = client.post("/login", data={"email": "web@bench.example", "password": password})
    assert signed_in.status_code == 302, signed_in.status_code
    start = time.perf_counter()
    uploaded = client.post(
        "/provider/catalogs/new",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), "catalog.csv")},
    )
    t_upload = time.perf_counter() - start
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:500]
    start = time.perf_counter()
    preview = client.get(uploaded.headers["Location"])
    t_preview = time.perf_counter() - start
    assert preview.status_code == 200 and f"New ({rows})" in preview.get_data(as_text=True)
    with app.app_context():
        from catalog.extensions import db

        db.engine.dispose()
    return t_upload, t_preview


def postgres_url() -> tuple[str, callable] | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report and skip
        print(f"[postgresql] skipped: {str(exc).splitlines()[0]}")
        return None
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    return url, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    vocab = vocabulary(Taxonomy.load(default_taxonomy_path()))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_catalog.csv"
        write_catalog(path, args.n)
        print(f"{args.n} rows, {path.stat().st_size / 1e6:.1f} MB CSV, vocabulary {len(vocab)}")
        for name in args.backends.split(","):
            if name == "sqlite":
                results.append(run_backend(name, f"sqlite:///{tmp}/bench.db", path, args.n, vocab))
            elif name == "postgresql":
                pg = postgres_url()
                if pg is None:
                    continue
                url, drop = pg
                try:
                    results.append(run_backend(name, url, path, args.n, vocab))
                finally:
                    drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

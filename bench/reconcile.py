"""Benchmark the reconciliation service (`POST /reconcile`, type course) as OpenRefine drives it.

    python bench/reconcile.py [--courses 10000] [--records 10000] [--batch 10] [--workers 2]

Builds N approved courses (distinct titles from realistic fragments, 40 providers) in a SQLite
file, serves the app under gunicorn on 127.0.0.1 and sends M free-text training-record titles
(each made from one known course: typos, abbreviations, "(1 hr)", dropped or reordered words, case,
de-escalation spellings) in form-encoded batches of 10, one after another, as OpenRefine does.
Against, in the same run, on the same titles: a bare in-process loop of
`rapidfuzz.process.extractOne(title, course_titles, processor=utils.default_process)` with
token_set_ratio (the app's title scorer) and with WRatio (rapidfuzz's default scorer).

Prints seconds for all records, the ratio service / loop, p50 and p99 per batch, and top-1 accuracy
on the known answers (the top candidate is the course the record was made from), plus how many
records got `match: true` and how many of those were wrong (and of these, how many because the
record lost the very words that tell its course from the one matched: "Applied Implicit Bias 2hr"
made from "Applied Implicit Bias Seminar" when "Applied Implicit Bias" is a course too). The server's rate limit is off for the
run (RECONCILE_RATE_PER_MINUTE=0); the index build (once per worker) is timed apart. On a shared
machine the figures are noisy: compare ratios within one run only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SECRET = secrets.token_hex(32)

from rapidfuzz import fuzz, process, utils  # noqa: E402

SUBJECTS = [
    ("De-escalation", "skill-development", "de-escalation"),
    ("Verbal De-escalation", "interpersonal-perspectives", "de-escalation"),
    ("Crisis Intervention", "interpersonal-perspectives", "de-escalation"),
    ("Implicit Bias", "interpersonal-perspectives", "implicit-bias"),
    ("Fair and Impartial Policing", "interpersonal-perspectives", "implicit-bias"),
    ("Racial Profiling", "legal-studies", "racial-profiling"),
    ("Traffic Stop Data Collection", "technical-studies", "racial-profiling"),
    ("Handgun Qualification", "skill-development", "firearms"),
    ("Patrol Rifle", "skill-development", "firearms"),
    ("Low Light Shooting", "skill-development", "firearms"),
    ("Legal Update", "legal-studies", None),
    ("Search and Seizure", "legal-studies", None),
    ("Use of Force Law", "legal-studies", None),
    ("Crash Investigation", "technical-studies", None),
    ("Report Writing", "technical-studies", None),
    ("DWI Detection", "technical-studies", None),
    ("Officer Wellness", "interpersonal-perspectives", None),
    ("Ethics", "interpersonal-perspectives", None),
    ("Defensive Tactics", "skill-development", None),
    ("Emergency Vehicle Operations", "skill-development", None),
    ("First Aid and CPR", "skill-development", None),
    ("Domestic Violence Response", "technical-studies", None),
    ("Child Abuse Investigation", "technical-studies", None),
    ("Interview and Interrogation", "technical-studies", None),
    ("Narcotics Investigation", "technical-studies", None),
    ("Mental Health Awareness", "interpersonal-perspectives", None),
    ("Active Shooter Response", "skill-development", None),
    ("Evidence Collection", "technical-studies", None),
    ("Community Policing", "interpersonal-perspectives", None),
    ("Juvenile Law", "legal-studies", None),
    ("Courtroom Testimony", "legal-studies", None),
    ("Human Trafficking Awareness", "technical-studies", None),
]
PREFIXES = ["", "Introduction to", "Advanced", "Basic", "Practical", "Applied", "Essentials of"]
AUDIENCES = [
    "",
    "for Patrol Officers",
    "for Supervisors",
    "for Corrections",
    "for Dispatchers",
    "for School Resource Officers",
    "in Rural Communities",
    "for Detectives",
]
FORMS = ["", "Workshop", "Scenarios", "Seminar", "Lab", "Case Studies"]
HOURS = [1, 1, 1, 2, 2, 4, 8]
DELIVERIES = ["in-person", "online", "live-virtual", "blended"]
ABBREVIATIONS = {
    "introduction": "intro",
    "advanced": "adv.",
    "investigation": "invest.",
    "and": "&",
    "officers": "ofcrs",
    "supervisors": "supv",
    "operations": "ops",
    "awareness": "awar.",
    "de-escalation": "deescalation",
    "qualification": "qual",
}


def courses(n: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < n:
        subject, area, topic = rng.choice(SUBJECTS)
        parts = [rng.choice(PREFIXES), subject, rng.choice(FORMS), rng.choice(AUDIENCES)]
        title = " ".join(p for p in parts if p)
        if title.lower() in seen:
            continue
        seen.add(title.lower())
        out.append(
            {
                "id": len(out) + 1,
                "title": title,
                "hours": rng.choice(HOURS),
                "delivery": rng.choice(DELIVERIES),
                "provider": rng.randint(1, 40),
                "area": area,
                "topic": topic,
            }
        )
    return out


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourstn") + word[i + 1 :]


def record(course: dict, rng: random.Random) -> str:
    """A training-record title as an agency's spreadsheet has it, made from one course."""
    words = course["title"].split()
    for _ in range(rng.choice((0, 1, 1, 2))):
        k = rng.randrange(len(words))
        words[k] = typo(words[k], rng)
    if rng.random() < 0.4:
        words = [ABBREVIATIONS.get(w.lower(), w) if rng.random() < 0.6 else w for w in words]
    if rng.random() < 0.2 and len(words) > 3:
        words.pop(rng.randrange(len(words)))
    title = " ".join(words)
    if rng.random() < 0.15 and " for " in title:
        head, _, tail = title.partition(" for ")
        title = f"{tail}: {head}"
    if rng.random() < 0.5:
        h = course["hours"]
        title += rng.choice((f" ({h} hr)", f" - {h} hours", f" {h}hr", f" ({h} Hours)"))
    case = rng.random()
    if case < 0.15:
        title = title.upper()
    elif case < 0.3:
        title = title.lower()
    return title


def build(url: str, rows: list[dict]) -> None:
    import sqlalchemy as sa

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "CATALOG_ENV": "production"}
    for args in (["init-db"], ["seed", "--no-demo"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "catalog", *args],
            env=env,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        jid = conn.execute(sa.text("SELECT id FROM jurisdictions WHERE code='MO'")).scalar()
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
        conn.execute(
            sa.text(
                "INSERT INTO courses (id, provider_id, jurisdiction_id, title, normalised_title, "
                "description, objectives, hours, delivery, url, status, version, content_hash, "
                "suggestion, suggestion_score, suggestion_confident, control_number, approved_at, "
                "approved_until, decision_note, created_at, updated_at) VALUES (:i, :p, :j, :t, "
                ":nt, '', '', :h, :dl, '', 'approved', 1, '', '{}', 0, false, :cn, "
                "CURRENT_TIMESTAMP, '2099-12-31', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            [
                {
                    "i": r["id"],
                    "p": r["provider"],
                    "j": jid,
                    "t": r["title"],
                    "nt": r["title"].lower(),
                    "h": r["hours"],
                    "dl": r["delivery"],
                    "cn": f"MO-B-{r['id']:05d}",
                }
                for r in rows
            ],
        )
        links = [{"c": r["id"], "k": cats[r["area"]], "h": r["hours"]} for r in rows]
        links += [{"c": r["id"], "k": cats[r["topic"]], "h": None} for r in rows if r["topic"]]
        conn.execute(
            sa.text(
                "INSERT INTO course_categories (course_id, category_id, source, hours, confident, "
                "evidence) VALUES (:c, :k, 'decided', :h, false, '[]')"
            ),
            links,
        )
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, batch: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = urllib.parse.urlencode({"queries": json.dumps(batch)})
    conn.request("POST", "/reconcile", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if response.status == 200 else {}


def baseline(titles: list[str], choices: list[str], scorer) -> tuple[float, list[int]]:
    started = time.perf_counter()
    picked = []
    for title in titles:
        found = process.extractOne(title, choices, scorer=scorer, processor=utils.default_process)
        picked.append(found[2] if found else -1)
    return time.perf_counter() - started, picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--courses", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(5)
    rows = courses(args.courses)
    known = [rng.choice(rows) for _ in range(args.records)]
    titles = [record(c, rng) for c in known]
    answers = [c["id"] for c in known]
    choices = [r["title"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()
        build(url, rows)
        print(f"built {len(rows)} approved courses in {time.perf_counter() - t0:.1f} s")
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "CATALOG_ENV": "production",
            "RECONCILE_RATE_PER_MINUTE": "0",
        }
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "300",
                "catalog:create_app()",
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.time() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise SystemExit("gunicorn did not start") from None
                    time.sleep(0.2)
            t0 = time.perf_counter()
            for _ in range(args.workers * 3):  # every worker builds its index once
                status, _ = post(port, {"w": {"query": "warm up"}})
                assert status == 200, status
            warm = time.perf_counter() - t0
            latencies, top, matches, wrong_matches, hidden = [], [], 0, 0, 0
            by_id = {r["id"]: r for r in rows}
            started = time.perf_counter()
            for lo in range(0, len(titles), args.batch):
                batch = {
                    f"q{i}": {"query": titles[i], "type": "course", "limit": 3}
                    for i in range(lo, min(lo + args.batch, len(titles)))
                }
                t = time.perf_counter()
                status, body = post(port, batch)
                latencies.append(time.perf_counter() - t)
                if status != 200:
                    raise SystemExit(f"the service answered {status}")
                for key in batch:
                    i = int(key[1:])
                    result = body[key]["result"]
                    best = int(result[0]["id"]) if result else -1
                    top.append(best == answers[i])
                    if result and result[0]["match"]:
                        matches += 1
                        if best != answers[i]:
                            wrong_matches += 1
                            # The record lost the words that told its course from this one
                            # (the matched title's words are a strict subset of the course's).
                            got = set(by_id[best]["title"].lower().split())
                            hidden += got < set(by_id[answers[i]]["title"].lower().split())
            service_s = time.perf_counter() - started
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    set_s, set_pick = baseline(titles, choices, fuzz.token_set_ratio)
    w_s, w_pick = baseline(titles, choices, fuzz.WRatio)
    ids = [r["id"] for r in rows]
    set_acc = sum(ids[p] == a for p, a in zip(set_pick, answers, strict=True) if p >= 0)
    w_acc = sum(ids[p] == a for p, a in zip(w_pick, answers, strict=True) if p >= 0)
    latencies.sort()
    n = len(titles)

    def pct(f: float) -> float:
        return latencies[min(len(latencies) - 1, int(f * len(latencies)))] * 1000

    print(f"{n} records, {len(latencies)} batches of {args.batch}, {len(rows)} courses")
    print(
        f"(s) service over HTTP      {service_s:7.2f} s  top-1 {sum(top) / n:6.1%}  "
        f"p50 {pct(0.5):6.1f} ms  p99 {pct(0.99):6.1f} ms per batch"
    )
    print(
        f"    match: true on {matches} records, {wrong_matches} of them wrong, {hidden} of those "
        "because the record dropped the words that set its course apart from another"
    )
    print(f"    index build + warm-up {warm:.1f} s ({args.workers} workers)")
    print(f"(a) extractOne token_set   {set_s:7.2f} s  top-1 {set_acc / n:6.1%}")
    print(f"(b) extractOne WRatio      {w_s:7.2f} s  top-1 {w_acc / n:6.1%}")
    print(
        f"ratio (s)/(a) {service_s / set_s:.2f}x   (s)/(b) {service_s / w_s:.2f}x   "
        f"(goal: within 2x, top-1 higher)"
    )


if __name__ == "__main__":
    main()

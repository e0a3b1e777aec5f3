"""Benchmark the compliance planner on a roster against a large catalog (issue 17).

    python bench/plan.py [--officers 1000] [--records 20] [--courses 10000] [--repeat 2]

On a fresh SQLite database (migrated, Missouri seeded, no demo data) with --courses approved
Missouri courses (random titles, area splits, mandated topics, firearms live courses, 40
providers of which most are approved providers), a roster of --officers officers x --records
records, a third of them titles that match no approved course, it times in the same run:
  match     the floor the planner cannot beat: loading the published courses and matching the
            same records (ids, control numbers, titles with rapidfuzz within the provider first,
            the engine's suggestion for the unmatched ones)
  plan      planning.plan_officers on the same roster: loading, matching, status, and one
            optimal integer program (HiGHS) per officer (the published courses are kept per
            process, as in a running server, so both sides read them from memory after the
            warm-up); "planning only" times the status and integer programs alone
and prints plan / match (goal <= 2), the plan's hours against the greedy baseline (largest gap
first) in sum and in the worst case, and the process's peak memory (goal < 500 MB). Timings on a
shared machine are noisy: compare ratios within one run only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from match import generate  # noqa: E402

AREAS = ["legal-studies", "technical-studies", "interpersonal-perspectives", "skill-development"]
TOPICS = ["racial-profiling", "implicit-bias", "de-escalation"]
DELIVERY = ["online", "in-person", "live-virtual", "blended"]
HOURS = [Decimal(h) for h in ("1", "1", "1", "1.5", "2", "2", "2", "3", "4", "4", "8", "16")]


def build_catalog(session, jurisdiction, n: int, rng: random.Random) -> list[dict]:
    """n approved courses with decided categories, bulk inserted; returns their plain rows."""
    from catalog.models import Category, Course, CourseCategory, Provider
    from catalog.services.courses import normalise_title

    providers = [
        Provider(
            slug=f"bench-{i:02d}", name=f"Bench Provider {i:02d}", approved_provider=i % 5 != 0
        )
        for i in range(40)
    ]
    session.add_all(providers)
    session.flush()
    categories = {
        c.slug: c.id
        for c in session.scalars(
            sa.select(Category).where(Category.jurisdiction_id == jurisdiction.id)
        )
    }
    until = dt.date.today() + dt.timedelta(days=365)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows, cats, seen = [], [], set()
    for i, title in enumerate(generate(n, seed=11)):
        provider = providers[rng.randrange(len(providers))]
        key = (provider.id, normalise_title(title))
        if key in seen:
            title = f"{title} {i}"
            key = (provider.id, normalise_title(title))
        seen.add(key)
        hours = rng.choice(HOURS)
        delivery = rng.choice(DELIVERY)
        topics = []
        roll = rng.random()
        if roll < 0.08 and delivery in ("in-person", "blended"):
            areas = {"skill-development": hours}
            topics = ["firearms"]
        elif roll < 0.25:
            topic = rng.choice(TOPICS)
            topics = [topic]
            area = "interpersonal-perspectives" if topic != "de-escalation" else "skill-development"
            areas = {area: hours}
        elif rng.random() < 0.3 and hours >= 2:
            a, b = rng.sample(AREAS, 2)
            half = (hours / 2).quantize(Decimal("0.25"))
            areas = {a: half, b: hours - half}
        else:
            areas = {rng.choice(AREAS): hours}
        rows.append(
            {
                "id": i + 1,
                "provider_id": provider.id,
                "jurisdiction_id": jurisdiction.id,
                "title": title,
                "normalised_title": key[1],
                "hours": hours,
                "delivery": delivery,
                "status": "approved",
                "version": 1,
                "control_number": f"MO-B-{i + 1:06d}",
                "approved_at": now,
                "approved_until": until,
                "created_at": now,
                "updated_at": now,
                "_provider": provider.slug,
            }
        )
        for slug, value in areas.items():
            cats.append(
                {
                    "course_id": i + 1,
                    "category_id": categories[slug],
                    "source": "decided",
                    "hours": value,
                }
            )
        for slug in topics:
            cats.append(
                {
                    "course_id": i + 1,
                    "category_id": categories[slug],
                    "source": "decided",
                    "hours": None,
                }
            )
    session.execute(
        sa.insert(Course), [{k: v for k, v in r.items() if k != "_provider"} for r in rows]
    )
    session.execute(sa.insert(CourseCategory), cats)
    session.commit()
    return rows


def build_roster(courses: list[dict], officers: int, records: int, rng: random.Random):
    """Officers with `records` records each: two thirds taken approved courses (exact or varied
    titles, some by control number), one third titles of no approved course."""
    from catalog.services.planning import Officer, Record

    year = dt.date.today().year
    strangers = [f"Agency in-service {t}" for t in generate(3000, seed=99)]
    roster = []
    for o in range(officers):
        mine = []
        for r in range(records):
            day = dt.date(year, 1 + (o + r) % 11, 1 + r % 28)
            if r % 3 == 2:
                mine.append(Record(title=rng.choice(strangers), hours=rng.choice(HOURS), date=day))
                continue
            c = rng.choice(courses)
            how = rng.random()
            if how < 0.25:
                mine.append(Record(title="", control_number=c["control_number"], date=day))
            elif how < 0.6:
                mine.append(Record(title=c["title"].lower(), provider=c["_provider"], date=day))
            else:
                mine.append(
                    Record(title=c["title"], hours=c["hours"], date=day, delivery=c["delivery"])
                )
        roster.append(Officer(f"officer-{o:05d}", mine))
    return roster


def main(argv: list[str] | None = None) -> int:
    """Build the data, time match and plan, compare with greedy, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=1000)
    ap.add_argument("--records", type=int, default=20)
    ap.add_argument("--courses", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

    from flask_migrate import upgrade

    from catalog import create_app
    from catalog.extensions import db
    from catalog.services import planning
    from catalog.services.planning.offers import load_offers, match_records
    from catalog.services.seeding import SEED_DIR, SeedReport, seed_requirements, seed_taxonomy

    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "ENV": "testing",
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{tmp}/plan.db",
            }
        )
        with app.app_context():
            upgrade()
            report = SeedReport()
            jurisdiction = seed_taxonomy(db.session, SEED_DIR / "mo" / "taxonomy.toml", report)
            seed_requirements(db.session, SEED_DIR / "mo" / "requirements.toml", report)
            db.session.commit()
            courses = build_catalog(db.session, jurisdiction, args.courses, rng)
            roster = build_roster(courses, args.officers, args.records, rng)
            records = [r for o in roster for r in o.records]
            today = dt.date.today()
            print(
                f"{len(courses)} approved courses, {len(roster)} officers x {args.records} records "
                f"({len(records)} records, {sum(1 for r in records if r.title.startswith('Agency'))} "
                "of no approved course)"
            )
            options = planning.Options()
            # warm the engine cache and the imports once, untimed
            planning.plan_officers(db.session, jurisdiction, roster[:2], options, today=today)

            t_match, t_plan = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                offers = load_offers(db.session, jurisdiction, today)
                matches = match_records(db.session, jurisdiction, offers, records)
                t_match.append(time.perf_counter() - t0)
                db.session.rollback()
                t0 = time.perf_counter()
                result = planning.plan_officers(
                    db.session, jurisdiction, roster, options, today=today
                )
                t_plan.append(time.perf_counter() - t0)
                db.session.rollback()
            # the planning proper on the matches already made: status + one MILP per officer
            from catalog.services.planning.planner import Planner
            from catalog.services.planning.rules import load_rules

            t0 = time.perf_counter()
            planner = Planner(load_rules(db.session, jurisdiction, None, today), offers, options)
            at = 0
            for person in roster:
                mine = matches[at : at + len(person.records)]
                at += len(person.records)
                planner.officer(person, mine, lambda cid: f"/courses/{cid}", False)
            t_solve = time.perf_counter() - t0
            matched = sum(1 for m in matches if m.position is not None)
            base, total = min(t_match), min(t_plan)
            print(
                f"match (floor)  {base:7.2f} s   ({matched} of {len(records)} records matched an approved course)"
            )
            print(
                f"planning only  {t_solve:7.2f} s   (status + {len(roster)} integer programs on "
                f"those matches: {t_solve / base:.2f}x of the floor)"
            )
            print(
                f"plan (total)   {total:7.2f} s   ratio plan / match = {total / base:.2f}x  (goal <= 2)"
            )

            with_greedy = planning.plan_officers(
                db.session, jurisdiction, roster, options, today=today, greedy=True
            )
            planned = [int(round(o["plan_hours"] * 100)) for o in with_greedy.officers]
            greedy = [g for g in with_greedy.greedy_cents]
            pairs = [(p, g) for p, g in zip(planned, greedy, strict=True) if g is not None]
            worse = [g - p for p, g in pairs]
            ratios = [g / p for p, g in pairs if p]
            assert all(w >= 0 for w in worse), "greedy beat the optimal plan"
            compliant = sum(1 for o in result.officers if o["compliant"])
            print(
                f"plan hours     {sum(planned) / 100:9.2f} h over {len(planned)} officers "
                f"({compliant} already compliant); greedy {sum(greedy) / 100:9.2f} h "
                f"(+{(sum(greedy) - sum(planned)) / max(sum(planned), 1):.1%})"
            )
            print(
                f"worst case     greedy +{max(worse) / 100:.2f} h for one officer "
                f"(x{max(ratios) if ratios else 1:.2f}); greedy worse for "
                f"{sum(1 for w in worse if w)} of {len(pairs)} officers"
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak memory    {peak:7.0f} MB (process max RSS; goal < 500)")
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

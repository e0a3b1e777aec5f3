"""Benchmark the matching engine against plain fuzzy baselines on generated course titles.

    python bench/match.py [--n 100000] [--sample 5000] [--taxonomy PATH]

Titles are generated from realistic fragments (subjects, prefixes, suffixes, course numbers,
typos); the dev set is not used. In the same run it times:
  engine    mapping.Engine.suggest_many over all titles (rules + batched cdist + scoring)
  learned   the same with a learned layer fitted on --examples staff decisions (generated
            titles labelled by the rules), fitting timed separately
  (a)       thefuzz.process.extractOne(title, vocabulary), one title at a time, timed on a sample
            and extrapolated per title to all titles
  (b)       bare rapidfuzz.process.cdist(titles, vocabulary, scorer=token_set_ratio,
            processor=default_process, workers=-1, dtype=uint8)
and prints the ratios and the engine's peak memory (resource.getrusage max RSS after the engine
run, before the baselines allocate anything).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process, utils  # noqa: E402
from thefuzz import process as thefuzz_process  # noqa: E402

from mapping import CourseInput, Engine, Example, Taxonomy, default_taxonomy_path  # noqa: E402

SUBJECTS = """
Defensive Tactics|Ground Control|Handcuffing Techniques|Weapon Retention|Baton|Expandable Baton
OC Spray|Pepper Spray Exposure|TASER 7|CEW Recertification|Less Lethal Launcher|40mm Impact Munitions
BolaWrap|Patrol Rifle|Handgun Qualification|Pistol Red Dot|Shotgun|Low Light Shooting|Precision Rifle
Sniper|Firearms|Range Day|Live Fire Scenarios|Shoot/Don't Shoot|Force Options Simulator|EVOC
Emergency Vehicle Operations|Pursuit Driving|PIT Maneuver|Motorcycle Operator|First Aid/CPR/AED
TCCC|Tourniquet Application|Stop the Bleed|Naloxone Administration|Active Shooter Response|ALERRT
Room Clearing|Building Search|High Risk Vehicle Stops|Crowd Control|Mobile Field Force|Breaching
Legal Update|Case Law Review|Search and Seizure|Fourth Amendment|Miranda|Probable Cause
Use of Force Law|Civil Liability|Qualified Immunity|Legislative Update|Criminal Code|Juvenile Law
Implied Consent|Orders of Protection|Sunshine Law|Firearms Law|Concealed Carry Permits
Crash Investigation|Crash Reconstruction|Traffic Stops|Radar/Lidar|DWI Detection|SFST|ARIDE|DRE
Report Writing|Interview and Interrogation|Evidence Collection|Crime Scene Processing
Death Investigation|Narcotics Identification|Fentanyl Awareness|Human Trafficking|Child Abuse
Sexual Assault Investigation|Domestic Violence|Stalking|Strangulation|Elder Abuse|Identity Theft
Gangs|Cybercrime|Digital Evidence|Cell Phone Forensics|CJIS Security|NCIC|MULES|NIBRS|Body Worn Camera
ALPR|Policy Review|ICS-100|NIMS|Hazmat Awareness|Terrorism Awareness|School Resource Officer
Field Training Officer|K-9 Handler|Drone Operations|PREA|Communicable Disease|Armorer
Ethics|Professionalism|Cultural Diversity|Cultural Awareness|Procedural Justice|Community Policing
Communication Skills|Verbal Judo|Tactical Communication|Conflict Resolution|Crisis Intervention
CIT|Mental Health Awareness|MHFA|Autism Awareness|Dementia|Veterans and PTSD|Victim Services
Trauma Informed Response|Officer Wellness|Stress Management|Resilience|Peer Support|Suicide Prevention
Emotional Intelligence|Critical Thinking|Duty to Intervene|ABLE|EPIC Peer Intervention
Sexual Harassment|LGBTQ Awareness|Deaf and Hard of Hearing|Leadership|Supervision
Implicit Bias|Unconscious Bias|Fair and Impartial Policing|Bias Awareness|Racial Profiling
Bias-Based Profiling|Racial and Identity Profiling|De-escalation|Deescalation|Descalation
Verbal De-escalation|ICAT|Crisis Communication|DEI in the Workplace|Hate Crimes|Bias Crimes
Financial Crimes|Dispatch Operations|Jail Operations|Officer Safety|LEOKA|Ambush Awareness
Patrol Procedures|Warrant Service|Surveillance|Informant Management|Background Investigations
Fitness|Physical Training|Honor Guard|Fire Extinguisher|Bloodborne Pathogens|Customer Service
""".replace("\n", "|").split("|")
PREFIXES = [
    "",
    "",
    "",
    "Introduction to ",
    "Advanced ",
    "Basic ",
    "Annual ",
    "{year} ",
    "Instructor ",
    "Intermediate ",
    "Principles of ",
    "Practical ",
    "Patrol ",
]
SUFFIXES = [
    "",
    "",
    "",
    " Update",
    " Refresher",
    " (1 hour)",
    " (2 hrs)",
    " - Online",
    " Part II",
    " for Patrol Officers",
    " for Law Enforcement",
    " Train-the-Trainer",
    " In-Service",
    " Certification",
    " Instructor Course",
    " Workshop",
    " - TCOLE #{num}",
    " ({num})",
    " {year}",
    " Level 2",
    " for Supervisors",
    " and Policy",
    " Review",
]
JOINERS = [" and ", " & ", "/", ", ", " - "]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


def generate(n: int, seed: int = 4) -> list[str]:
    """n course titles built from fragments, with combos, course numbers and typos."""
    rng = random.Random(seed)
    subjects = [s.strip() for s in SUBJECTS if s.strip()]
    out = []
    for _ in range(n):
        subject = rng.choice(subjects)
        if rng.random() < 0.3:
            subject += rng.choice(JOINERS) + rng.choice(subjects)
        if rng.random() < 0.08:
            subject = _typo(subject, rng)
        if rng.random() < 0.1:
            subject = subject.upper()
        title = rng.choice(PREFIXES) + subject + rng.choice(SUFFIXES)
        out.append(title.format(year=rng.randrange(2015, 2026), num=rng.randrange(1000, 99999)))
    return out


def vocabulary(tax: Taxonomy) -> list[str]:
    """Every strong and weak keyword of the taxonomy, as written (the baselines' choices)."""
    return sorted({p for c in tax.categories for p in (*c.strong, *c.weak)})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print times, ratios and memory."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=5_000, help="titles timed for baseline (a)")
    ap.add_argument("--taxonomy", default=str(default_taxonomy_path()))
    ap.add_argument("--examples", type=int, default=2_000, help="staff decisions to learn from")
    args = ap.parse_args(argv)
    tax = Taxonomy.load(args.taxonomy)
    titles = generate(args.n)
    vocab = vocabulary(tax)
    courses = [CourseInput(t) for t in titles]
    print(
        f"{args.n} generated titles ({len(set(titles))} distinct), vocabulary {len(vocab)} keywords"
    )

    t0 = time.perf_counter()
    engine = Engine(tax)
    suggestions = engine.suggest_many(courses)
    t_engine = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with_topic = sum(1 for s in suggestions if s.topics)
    del suggestions  # the learned run's memory is measured on its own results

    # the same titles with a learned layer: staff decided args.examples other generated titles
    decided = generate(args.examples, seed=5)
    examples = [
        Example(t, {s.top_area: Decimal(1)}, tuple(s.topic_slugs))
        for t, s in zip(
            decided, Engine(tax).suggest_many([CourseInput(t) for t in decided]), strict=True
        )
    ]
    t0 = time.perf_counter()
    learned_engine = Engine(tax, examples)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    learned_engine.suggest_many(courses)
    t_learned = time.perf_counter() - t0
    learned_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sample = titles[: min(args.sample, len(titles))]
    t0 = time.perf_counter()
    for title in sample:
        thefuzz_process.extractOne(title, vocab)
    t_a_sample = time.perf_counter() - t0
    t_a = t_a_sample / len(sample) * len(titles)

    t0 = time.perf_counter()
    process.cdist(
        titles,
        vocab,
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        workers=-1,
        dtype="uint8",
    )
    t_b = time.perf_counter() - t0

    print(
        f"engine suggest_many          {t_engine:8.2f} s  ({t_engine / len(titles) * 1e6:.1f} "
        f"us/title; {with_topic} titles got a topic)"
    )
    print(
        f"(a) thefuzz extractOne       {t_a:8.2f} s  (timed on {len(sample)} titles: "
        f"{t_a_sample:.2f} s, extrapolated per title to {len(titles)})"
    )
    print(f"(b) rapidfuzz cdist          {t_b:8.2f} s  (token_set_ratio, all titles x vocabulary)")
    print(
        f"engine + learned layer       {t_learned:8.2f} s  ({args.examples} staff decisions; "
        f"fitting and calibrating them took {t_fit:.2f} s, once per decisions version)"
    )
    print(f"speed-up vs (a)              {t_a / t_engine:8.1f} x   (target >= 8)")
    print(f"time vs (b)                  {t_engine / t_b:8.2f} x   (target <= 1.5)")
    print(f"learned: speed-up vs (a)     {t_a / t_learned:8.1f} x   (target >= 8)")
    print(f"learned: time vs (b)         {t_learned / t_b:8.2f} x   (target <= 1.5)")
    print(f"peak memory after engine     {peak_mb:8.0f} MB  (max RSS; target < 500)")
    print(f"peak memory, learned layer   {learned_mb:8.0f} MB  (max RSS; target < 500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

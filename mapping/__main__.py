"""Command line: `python -m mapping suggest ...` and `python -m mapping evaluate FILE.csv`.

Exit codes: 0 on success, 2 on a bad file or bad arguments (the message names the row or column).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from .engine import Engine
from .evaluate import EvaluationError, evaluate, read_courses, read_examples, read_gold
from .experiments import curve, cv_source, learn
from .results import DELIVERY_MODES, CourseInput, Suggestion
from .taxonomy import Taxonomy, TaxonomyError, default_taxonomy_path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mapping", description="POST course category suggestions"
    )
    p.add_argument("--taxonomy", help="taxonomy TOML (default: seed_data/mo/taxonomy.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("suggest", help="suggest areas and topics for a title or a CSV file")
    s.add_argument("title", nargs="?", help="course title")
    s.add_argument(
        "--file", help="CSV with a title column (description, objectives, hours, delivery optional)"
    )
    s.add_argument("--json", action="store_true", help="one JSON object per course")
    s.add_argument("--hours", help="course hours (single title)")
    s.add_argument("--delivery", choices=DELIVERY_MODES, help="delivery mode (single title)")
    s.add_argument("--description", help="course description (single title)")
    s.add_argument(
        "--examples",
        help="CSV of staff decisions to learn from first (title, area or area_hours, topics)",
    )
    s.add_argument("--taxonomy", dest="taxonomy_sub", help=argparse.SUPPRESS)
    e = sub.add_parser("evaluate", help="figures on a gold CSV (title, area, topics)")
    e.add_argument("file")
    e.add_argument("--json", action="store_true", help="one JSON object")
    e.add_argument(
        "--learn",
        type=float,
        metavar="FRACTION",
        help="decide this fraction of the rows as examples and score the rest with and without",
    )
    e.add_argument("--seeds", type=int, default=5, help="random draws to average (--learn)")
    e.add_argument(
        "--curve",
        action="store_true",
        help="teach-me order against random draws at 0.05, 0.10 and 0.25 decided",
    )
    e.add_argument(
        "--order",
        choices=("random", "teach"),
        default="random",
        help="which rows are decided: stratified at random, or in teach-me order",
    )
    e.add_argument(
        "--cv",
        choices=("source",),
        help="cross-validation grouped by source (no source learns from itself)",
    )
    e.add_argument(
        "--folds",
        type=int,
        default=5,
        help="--cv: sources grouped into this many folds (0: one fold per source)",
    )
    e.add_argument("--taxonomy", dest="taxonomy_sub", help=argparse.SUPPRESS)
    return p


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def format_suggestion(s: Suggestion) -> str:
    """Readable text: one line per area, topic and flag."""
    lines = [s.title]
    for a in s.areas:
        hours = "" if a.hours is None else f"{a.hours}h"
        why = a.evidence[0]["text"] if a.evidence else "no evidence"
        lines.append(
            f"  area  {a.slug:<28}{a.score:>4}  {hours:>7}  "
            f"{'confident' if a.confident else 'review':<9}  {why}"
            f"  [runner-up {a.runner_up}, gap {a.gap}]"
        )
    for t in s.topics:
        why = t.evidence[0]["text"] if t.evidence else ""
        lines.append(
            f"  topic {t.slug:<28}{t.score:>4}  {'':>7}  "
            f"{'confident' if t.confident else 'review':<9}  {why}"
        )
    for f in s.flags:
        lines.append(f"  FLAG  {f.code}: {f.message}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    path = args.taxonomy_sub or args.taxonomy or default_taxonomy_path()
    try:
        taxonomy = Taxonomy.load(path)
    except TaxonomyError as exc:
        return _fail(str(exc))
    try:
        if args.command == "evaluate":
            return _evaluate(args, taxonomy)
        examples = read_examples(args.examples, taxonomy) if args.examples else []
        engine = Engine(taxonomy, examples)
        if args.file:
            courses = read_courses(args.file)
        elif args.title:
            courses = [_single(args)]
        else:
            return _fail("suggest needs a TITLE or --file FILE.csv")
    except EvaluationError as exc:
        return _fail(str(exc))
    for s in engine.suggest_many(courses):
        print(json.dumps(s.to_dict()) if args.json else format_suggestion(s))
    return 0


def _evaluate(args: argparse.Namespace, taxonomy: Taxonomy) -> int:
    if args.curve:
        if args.seeds < 1:
            return _fail("--seeds must be at least 1")
        result = curve(read_gold(args.file, taxonomy), taxonomy, args.seeds)
        print(json.dumps(result) if args.json else _format_curve(result))
        return 0
    if args.learn is not None or args.cv:
        if args.learn is not None and not 0 < args.learn < 1:
            return _fail(f"--learn: {args.learn} is not a fraction between 0 and 1")
        if args.seeds < 1:
            return _fail("--seeds must be at least 1")
        rows = read_gold(args.file, taxonomy)
        if args.cv:
            result = cv_source(rows, taxonomy, args.folds)
        else:
            result = learn(rows, taxonomy, args.learn, args.seeds, args.order)
        print(json.dumps(result) if args.json else _format_comparison(result))
        return 0
    report = evaluate(args.file, engine=Engine(taxonomy))
    print(json.dumps(report.to_dict()) if args.json else report.format())
    return 0


def _format_curve(result: dict) -> str:
    keys = ("rest_area_top1", "catalog_area_top1", "rest_topic_precision")
    lines = [f"{'fraction':<10}{'order':<8}" + "".join(f"{k:>24}" for k in keys)]
    for point in result["curve"]:
        for order in ("random", "teach"):
            row = point[order]
            lines.append(
                f"{point['fraction']:<10}{order:<8}" + "".join(f"{row[k]:>24}" for k in keys)
            )
    return "\n".join(lines)


def _format_comparison(result: dict) -> str:
    head = {k: v for k, v in result.items() if k not in ("without", "with", "gain")}
    lines = [", ".join(f"{k} {v}" for k, v in head.items()), ""]
    lines.append(f"{'figure':<28}{'without':>10}{'with':>10}{'gain':>10}")
    for key, value in result["without"].items():
        if key in result["with"] and key in result["gain"]:
            lines.append(f"{key:<28}{value:>10}{result['with'][key]:>10}{result['gain'][key]:>+10}")
    return "\n".join(lines)


def _single(args: argparse.Namespace) -> CourseInput:
    hours = None
    if args.hours:
        try:
            hours = Decimal(args.hours)
        except InvalidOperation:
            raise EvaluationError(f"--hours: not a number: {args.hours!r}") from None
    return CourseInput(args.title, args.description, None, hours, args.delivery)


if __name__ == "__main__":
    sys.exit(main())

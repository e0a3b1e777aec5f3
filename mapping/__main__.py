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
from .evaluate import EvaluationError, evaluate, read_courses
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
    s.add_argument("--taxonomy", dest="taxonomy_sub", help=argparse.SUPPRESS)
    e = sub.add_parser("evaluate", help="figures on a gold CSV (title, area, topics)")
    e.add_argument("file")
    e.add_argument("--json", action="store_true", help="one JSON object")
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
    engine = Engine(taxonomy)
    try:
        if args.command == "evaluate":
            report = evaluate(args.file, engine=engine)
            print(json.dumps(report.to_dict()) if args.json else report.format())
            return 0
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

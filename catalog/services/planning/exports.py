"""The planner's results as CSV and XLSX: one officer (status, records, plan) or a roster (one row
per officer; the XLSX with a summary and a detail sheet). Cells a spreadsheet would run as a
formula are neutralised (CSV: a leading apostrophe; XLSX: always text, quote-prefixed), as in the
catalog's exports. Built in memory for the response, never written anywhere."""

from __future__ import annotations

import csv
import io
import re

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")

OFFICER_HEADER = ["section", "category", "title", "required", "done", "missing", "hours",
                  "course_id", "url", "note"]  # fmt: skip
SUMMARY_HEADER = ["officer", "compliant", "gaps", "plan", "plan_hours", "unmet"]
DETAIL_HEADER = ["officer", "kind", "category", "title", "required", "done", "missing", "hours",
                 "course_id", "url", "note"]  # fmt: skip


def would_run(text: str) -> bool:
    """Text a spreadsheet would evaluate (starts with = + - @, tab or CR; not a plain number)."""
    return text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text)


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and would_run(value):
        return "'" + value
    return value


def officer_rows(result: dict) -> list[list]:
    """One officer's result as rows under OFFICER_HEADER."""
    rows = [["total", "total", "", result["total"]["required"], result["total"]["done"],
             max(0, result["total"]["required"] - result["total"]["done"]), "", "", "", ""]]  # fmt: skip
    for r in result["requirements"]:
        rows.append(["requirement", r["category"], r.get("name", ""), r["required"], r["done"],
                     r["missing"], "", "", "", r.get("message", "")])  # fmt: skip
    for r in result["records"]:
        counted = ";".join(f"{c['category']}:{c['hours']}" for c in r["counted"])
        rows.append(["record", counted, r["title"], "", "", "", r.get("hours", ""),
                     r["matched_course_id"] or "", "", f"score {r['score']}. {r.get('note', '')}".strip()])  # fmt: skip
    for p in result["plan"]:
        toward = ";".join(f"{c['category']}:{c['hours']}" for c in p["counts_toward"])
        rows.append(
            ["plan", toward, p["title"], "", "", "", p["hours"], p["course_id"], p["url"], ""]
        )
    rows.append(["plan total", "", "", "", "", "", result["plan_hours"], "", "", ""])
    for u in result["unmet"]:
        rows.append(["unmet", u["category"], "", "", "", "", "", "", "", u["reason"]])
    return rows


def summary_row(result: dict) -> list:
    """A roster officer's one line: compliant, gaps, plan, plan hours, unmet."""
    gaps = [f"{r['category']}:{r['missing']}" for r in result["requirements"] if r["missing"]]
    missing_total = result["total"]["required"] - result["total"]["done"]
    if missing_total > 0:
        gaps.append(f"total:{missing_total:g}")
    plan = "; ".join(f"{p['course_id']} {p['title']} ({p['hours']} h)" for p in result["plan"])
    unmet = "; ".join(f"{u['category']}: {u['reason']}" for u in result["unmet"])
    return [result["id"], result["compliant"], ";".join(gaps), plan, result["plan_hours"], unmet]


def officer_csv(result: dict) -> str:
    """CSV text of one officer's status, records and plan."""
    return _csv([OFFICER_HEADER, *officer_rows(result)])


def roster_csv(results: list[dict]) -> str:
    """CSV text with one row per officer."""
    return _csv([SUMMARY_HEADER, *(summary_row(r) for r in results)])


def _csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if would_run(text):
        cell.quotePrefix = True
    return cell


def _workbook(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for name, header, rows in sheets:
        sheet = workbook.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def officer_xlsx(result: dict) -> bytes:
    """XLSX of one officer: one sheet with the same rows as the CSV."""
    return _workbook([("Plan", OFFICER_HEADER, officer_rows(result))])


def roster_xlsx(results: list[dict]) -> bytes:
    """XLSX of a roster: a summary sheet (one row per officer) and a detail sheet."""
    detail = []
    for result in results:
        for row in officer_rows(result):
            detail.append([result["id"], *row])
    return _workbook(
        [
            ("Summary", SUMMARY_HEADER, [summary_row(r) for r in results]),
            ("Detail", DETAIL_HEADER, detail),
        ]
    )


def missing_counts(results: list[dict]) -> list[tuple[str, str, int]]:
    """(category, name, officers missing it) per requirement, total included, for the chart."""
    if not results:
        return []
    counts: dict[str, list] = {}
    for r in results[0]["requirements"]:
        counts[r["category"]] = [r.get("name", r["category"]), 0]
    counts["total"] = ["Total", 0]
    for result in results:
        for r in result["requirements"]:
            if r["missing"]:
                counts[r["category"]][1] += 1
        if result["total"]["done"] < result["total"]["required"]:
            counts["total"][1] += 1
    return [(slug, name, n) for slug, (name, n) in counts.items()]

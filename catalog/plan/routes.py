"""The planner pages: parse the form, call the planning service once, render (or send a file).

Officers' records travel only in the form and the response: the page re-sends its rows on every
action (add a course, search, plan, download), nothing is kept on the server.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from catalog.extensions import db
from catalog.permissions import roles_required
from catalog.plan import bp
from catalog.plan.charts import missing_bars, requirement_bars
from catalog.plan.forms import BLANK_ROWS, MAX_ROWS, PlanForm, RosterForm
from catalog.plan.throttle import throttle_anonymous
from catalog.security import late_write_lock
from catalog.services import planning
from catalog.services.errors import Invalid
from catalog.services.planning import exports
from catalog.services.planning.records import record_from_fields
from catalog.services.publishing.listing import CourseQuery, Taxonomy, search
from catalog.serving import served
from catalog.uploads import upload_slot

PLAN_ACTIONS = ("plan", "csv", "xlsx")


def _choices(form, jurisdiction) -> None:
    today = dt.date.today()
    form.period.choices = [SelectChoice("", "Current period")] + [
        SelectChoice(n, n) for n in planning.period_names(db.session, jurisdiction)
    ]
    providers = [
        SelectChoice(slug, name)
        for slug, name in planning.provider_choices(db.session, jurisdiction, today)
    ]
    form.prefer_providers.choices = providers
    form.exclude_providers.choices = providers


def _options(form) -> planning.Options:
    return planning.Options(
        delivery=tuple(form.delivery.data or ()),
        exclude_providers=frozenset(form.exclude_providers.data or ()),
        prefer_providers=frozenset(form.prefer_providers.data or ()),
    )


def _records(form) -> tuple[list, list[dict]]:
    """The page's non-empty rows as records, and their problems (row = the row's number)."""
    records, problems = [], []
    for n, entry in enumerate(form.records.entries, start=1):
        values = {k: (v or "") for k, v in entry.data.items()}
        if not any(str(v).strip() for v in values.values()):
            continue
        record = record_from_fields(values, n, problems, lambda f: f)
        if record is not None:
            records.append(record)
    return records, problems


def _add_row(form, data: dict) -> bool:
    if len(form.records.entries) >= MAX_ROWS:
        return False
    empty = [
        e for e in form.records.entries if not any(str(v or "").strip() for v in e.data.values())
    ]
    if empty:  # fill the first blank row instead of growing the table
        for name, value in data.items():
            getattr(empty[0].form, name).data = value
        return True
    form.records.append_entry(data)
    return True


def _attachment(body, kind: str, name: str) -> Response:
    mimetype = (
        "text/csv; charset=utf-8"
        if kind == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = dt.date.today().isoformat()
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{stamp}.{kind}"',
            "Cache-Control": "no-store",
        },
    )


def _with_choices(roster, form):
    """The roster form with the period and provider choices of the officer form."""
    roster.period.choices = form.period.choices
    roster.prefer_providers.choices = form.prefer_providers.choices
    roster.exclude_providers.choices = form.exclude_providers.choices
    return roster


def _render(form, status: int = 200, **context):
    roster = _with_choices(RosterForm(formdata=None), form)
    response = render_template("plan/index.html", form=form, roster=roster, **context)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/plan", methods=["GET", "POST"])
@late_write_lock
@upload_slot("plan")
def index():
    """One officer: list or upload the training done, see the status and the smallest plan."""
    jurisdiction = served()
    form = PlanForm()
    _choices(form, jurisdiction)
    if request.method == "GET":
        return _render(form)
    if not form.validate_on_submit():
        problems = [
            {"row": None, "field": name, "message": "; ".join(map(str, errors))}
            for name, errors in form.errors.items()
        ]
        return _render(form, 400, problems=problems, message="Some fields could not be read.")
    action = request.form.get("action", "plan")
    answer = _read_transcript(form) or _edit(form, action, jurisdiction.id)
    if answer is not None:
        return answer
    return _plan(form, action if action in PLAN_ACTIONS else "plan", jurisdiction)


def _read_transcript(form):
    """Add an uploaded transcript's records to the rows; the 422 page when it cannot be read,
    else None."""
    upload = form.transcript.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    try:
        officers = planning.read_officers(
            upload.read(), upload.filename, roster=False, max_officers=1, max_records=MAX_ROWS
        )
    except Invalid as exc:
        return _render(form, 422, problems=exc.details, message=exc.message)
    for record in officers[0].records:
        _add_row(form, _row_data(record))
    return None


def _edit(form, action: str, jurisdiction_id: int):
    """The page again after an editing action (add a course, more rows, search), else None."""
    if action.startswith("add-") and action[4:].isdigit():
        _add_row(form, {"course_id": action[4:]})
        return _render(form)
    if action == "more":
        for _ in range(BLANK_ROWS):
            if len(form.records.entries) < MAX_ROWS:
                form.records.append_entry()
        return _render(form)
    if action == "search":
        found = []
        if (form.q.data or "").strip():
            taxonomy = Taxonomy.load(db.session, jurisdiction_id)
            found = search(db.session, CourseQuery(q=form.q.data.strip(), per_page=8), taxonomy)
            found = found.courses
        return _render(form, found=found, searched=True)
    return None


def _plan(form, action: str, jurisdiction):
    """Plan the rows: the page with the status and the plan, or the plan as CSV or XLSX."""
    records, problems = _records(form)
    if problems:
        return _render(
            form, 422, problems=problems, message="Some rows need fixing before planning."
        )
    if not current_user.is_authenticated:
        throttle_anonymous()
    try:
        report = planning.plan_officers(
            db.session,
            jurisdiction,
            [planning.Officer("officer", records)],
            _options(form),
            period=form.period.data or None,
            course_url=lambda cid: url_for("public.course", course_id=cid),
            closest=3,
        )
    except Invalid as exc:
        db.session.rollback()
        return _render(form, 422, problems=exc.details, message=exc.message)
    db.session.rollback()
    result = report.officers[0]
    if action == "csv":
        return _attachment(exports.officer_csv(result), "csv", "training-plan")
    if action == "xlsx":
        return _attachment(exports.officer_xlsx(result), "xlsx", "training-plan")
    _sync_rows(form, result)
    return _render(
        form,
        result=result,
        bars=requirement_bars(result),
        deadline=planning.deadline(report.rules),
        rules=report.rules,
    )


def _row_data(record) -> dict:
    return {
        "course_id": str(record.course_id or ""),
        "title": record.title,
        "hours": format(record.hours, "f") if record.hours is not None else "",
        "date": record.date.isoformat() if record.date else "",
        "provider": record.provider,
        "control_number": record.control_number,
        "delivery": record.delivery or "",
    }


def _sync_rows(form, result: dict) -> None:
    """Attach each planned record's match to its row (the page shows and lets the user change
    it); rows line up with result["records"] through their row numbers."""
    by_row = {r["row"]: r for r in result["records"]}
    for n, entry in enumerate(form.records.entries, start=1):
        entry.match = by_row.get(n)


@bp.post("/plan/roster")
@roles_required("provider", "staff", "admin")
@late_write_lock
@upload_slot("plan")
def roster():
    """An agency roster (signed in): one row per officer, the chart, CSV or XLSX."""
    jurisdiction = served()
    form = PlanForm(formdata=None)
    _choices(form, jurisdiction)
    roster_form = _with_choices(RosterForm(), form)

    def again(status, **context):
        html = render_template("plan/index.html", form=form, roster=roster_form, **context)
        return html, status, {"Cache-Control": "no-store"}

    if not roster_form.validate_on_submit():
        return again(400, roster_message="Choose a roster file and the options again.")
    upload = roster_form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        return again(422, roster_message="Choose a roster file (CSV or XLSX).")
    try:
        report = _plan_roster(upload, roster_form, jurisdiction)
    except Invalid as exc:
        db.session.rollback()
        return again(422, roster_problems=exc.details, roster_message=exc.message)
    db.session.rollback()
    return _roster_answer(report, roster_form.output.data, again)


def _plan_roster(upload, roster_form, jurisdiction):
    """Read the roster file and plan every officer in it (Invalid when it cannot be read)."""
    config = current_app.config
    officers = planning.read_officers(
        upload.read(),
        upload.filename,
        roster=True,
        max_officers=config["PLAN_MAX_OFFICERS"],
        max_records=config["PLAN_MAX_RECORDS"],
    )
    return planning.plan_officers(
        db.session,
        jurisdiction,
        officers,
        _options(roster_form),
        period=roster_form.period.data or None,
        course_url=lambda cid: url_for("public.course", course_id=cid, _external=True),
    )


def _roster_answer(report, output: str, again):
    """The roster's plans as CSV, XLSX or the page (a row per officer, the missing chart)."""
    results = report.officers
    if output == "csv":
        return _attachment(exports.roster_csv(results), "csv", "roster-plan")
    if output == "xlsx":
        return _attachment(exports.roster_xlsx(results), "xlsx", "roster-plan")
    counts = exports.missing_counts(results)
    return again(
        200,
        roster_results=[(r, exports.summary_row(r)) for r in results],
        missing=missing_bars(counts, len(results)),
        compliant=sum(1 for r in results if r["compliant"]),
        deadline=planning.deadline(report.rules),
    )

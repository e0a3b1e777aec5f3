"""Forms of the planner pages (Flask-WTF: CSRF on every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FieldList, Form, FormField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from catalog.models import DELIVERY_MODES
from catalog.services.planning.rules import DELIVERY_WORDS

DELIVERY_CHOICES = [SelectChoice(d, DELIVERY_WORDS[d]) for d in DELIVERY_MODES]
MAX_ROWS = 100
BLANK_ROWS = 5


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RecordForm(Form):
    """One completed training (a row of the page); every field loose text, checked by the
    planning service so the page and the API say the same things."""

    course_id = StringField("Approved course", validators=[Optional(), Length(max=12)])
    title = StringField("Course title", validators=[Optional(), Length(max=500)])
    hours = StringField("Hours", validators=[Optional(), Length(max=20)])
    date = StringField("Date", validators=[Optional(), Length(max=40)])
    provider = StringField("Provider", validators=[Optional(), Length(max=200)])
    control_number = StringField("Control number", validators=[Optional(), Length(max=200)])
    delivery = SelectField(
        "Delivery",
        choices=[SelectChoice("", "not given"), *DELIVERY_CHOICES],
        validate_choice=False,
    )


class Choices(FlaskForm):
    """What the plan may use: period, delivery modes, providers to prefer or exclude."""

    period = SelectField("Period", choices=[], validate_choice=False)
    delivery = MultiCheckboxField("Delivery I can take", choices=DELIVERY_CHOICES)
    prefer_providers = SelectMultipleField("Prefer providers", choices=[], validate_choice=False)
    exclude_providers = SelectMultipleField("Exclude providers", choices=[], validate_choice=False)


class PlanForm(Choices):
    """One officer: rows of records, a transcript file, a course search."""

    records = FieldList(FormField(RecordForm), min_entries=BLANK_ROWS, max_entries=MAX_ROWS)
    transcript = FileField("Or upload a transcript (CSV or XLSX)")
    q = StringField("Find an approved course", validators=[Optional(), Length(max=200)])


class RosterForm(Choices):
    """An agency roster (signed-in users)."""

    file = FileField("Roster file (CSV or XLSX)")
    output = SelectField(
        "Show the result as",
        choices=[
            SelectChoice("page", "this page"),
            SelectChoice("csv", "CSV file"),
            SelectChoice("xlsx", "Excel file (XLSX)"),
        ],
    )

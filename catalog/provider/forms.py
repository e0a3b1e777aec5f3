"""Provider forms: catalog upload, column mapping, row actions, the single-course form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from catalog.services.imports.columns import FIELD_LABELS, FIELDS, REQUIRED_FIELDS


class UploadForm(FlaskForm):
    file = FileField(
        "Catalog file",
        validators=[
            FileRequired("Choose a file to upload."),
            FileAllowed(["csv", "xlsx", "json"], "Upload a .csv, .xlsx or .json file."),
        ],
        description="CSV (comma, semicolon or tab), Excel .xlsx (first sheet) or JSON.",
    )


class ActionForm(FlaskForm):
    """A bare form for POST buttons (CSRF only)."""


class ProposalForm(FlaskForm):
    area_hours = StringField(
        "Area hours",
        validators=[Optional(), Length(max=500)],
        description="e.g. legal-studies:1;skill-development:1",
    )
    topics = StringField(
        "Topics",
        validators=[Optional(), Length(max=500)],
        description="e.g. de-escalation;implicit-bias",
    )


def column_map_form(headers: list[str], current: dict):
    """A form with one select per catalog field, offering the file's columns."""
    choices = [SelectChoice("", "— not in the file —")] + [
        SelectChoice(str(i), h or f"(column {i + 1}, no name)") for i, h in enumerate(headers)
    ]

    class ColumnMapForm(FlaskForm):
        pass

    for name in FIELDS:
        label = FIELD_LABELS[name] + (" (required)" if name in REQUIRED_FIELDS else "")
        setattr(
            ColumnMapForm,
            name,
            SelectField(
                label, choices=choices, default=str(current[name]) if name in current else ""
            ),
        )
    return ColumnMapForm


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


DELIVERY_CHOICES = (
    ("in-person", "In person (classroom or range)"),
    ("online", "Online, self-paced"),
    ("live-virtual", "Live virtual (webinar)"),
    ("blended", "Blended"),
)


def course_form(areas: list, topics: list):
    """The single-course form, with one hours box per area and a checkbox per topic."""

    topic_choices = [SelectChoice(c.slug, c.name) for c in topics]

    class CourseForm(FlaskForm):
        title = StringField("Course title", validators=[Length(max=500)])
        provider_code = StringField(
            "Your course code",
            validators=[Optional(), Length(max=64)],
            description="Optional; used to recognise the course when "
            "you upload your catalog again.",
        )
        hours = StringField(
            "Hours", description="Total contact hours, in quarter hours (e.g. 1, 1.5, 2.25)."
        )
        delivery = SelectField(
            "Delivery",
            choices=[SelectChoice(value, label) for value, label in DELIVERY_CHOICES],
        )
        description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
        objectives = TextAreaField("Learning objectives", validators=[Optional(), Length(max=5000)])
        url = StringField(
            "Web address",
            validators=[Optional(), Length(max=1000)],
            description="Starts with https:// (plain http:// pages are not accepted).",
        )
        topics = MultiCheckboxField("Mandated topics you propose", choices=topic_choices)

    for area in areas:
        setattr(
            CourseForm,
            f"area__{area.slug}",
            StringField(area.name, validators=[Optional(), Length(max=10)]),
        )
    return CourseForm


class TokenForm(FlaskForm):
    """A label for a new API token (to tell one program's token from another's)."""

    name = StringField(
        "Label",
        validators=[Optional(), Length(max=100)],
        default="api",
        description="e.g. the name of the program that will upload your catalog",
    )

"""Forms of the review pages. Area hours and topics are dynamic (taxonomy data), so the decision
form reads them from the request beside the fixed fields; CSRF comes from FlaskForm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

SCORE_CHOICES = [(str(n), f"{n} or more") for n in (95, 90, 85, 80, 75, 70, 60, 50)]


class DecisionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)])
    approved_until = DateField("Approved until", validators=[Optional()])
    control_number = StringField("Control number", validators=[Optional(), Length(max=64)])


class BulkApproveForm(FlaskForm):
    """Bulk approve: `filters` (the queue's query string: every page of that filtered set) or
    `items` (course id:version pairs, e.g. the preview's list); preview first, then confirm=1."""

    items = HiddenField(validators=[Optional()])
    filters = HiddenField(validators=[Optional()])
    min_score = IntegerField(
        "Approve only confident suggestions scoring",
        default=90,
        validators=[DataRequired(), NumberRange(min=0, max=100)],
    )
    confirm = HiddenField(default="")
    back = HiddenField(default="")

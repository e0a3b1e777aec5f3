"""Admin forms (all POST forms keep CSRF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from catalog.forms import FiniteDecimalField as DecimalField
from catalog.models import KEYWORD_WEIGHTS, PROVIDER_KINDS, ROLES
from catalog.services.cleaning import web_address as web_address_or_none


def web_address(form, field) -> None:
    """WTForms validator: an http:// or https:// address (no javascript:, data: ...)."""
    if (field.data or "").strip() and web_address_or_none(field.data) is None:
        raise ValidationError("Enter a web address starting with https:// (or http://).")


EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")
SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Lower-case letters, digits and hyphens.")


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])


class NewCategoryForm(FlaskForm):
    """A new area or topic. The rules that need the database (unique slug, an existing default
    area, topic-only settings) are checked by catalog.services.category_edits.category_problems."""

    slug = StringField(
        "Slug",
        validators=[
            DataRequired(message="Enter a slug, e.g. crisis-intervention."),
            Length(max=64),
        ],
        description="Lower-case words joined by hyphens; used in links and files, kept for good.",
    )
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("", "Choose…"),
            SelectChoice("area", "Area: the course hours are split among the areas"),
            SelectChoice("topic", "Topic: a designation counted inside the hours"),
        ],
        validate_choice=False,
    )
    default_area = SelectField(
        "Default area (topics only)",
        choices=[SelectChoice("", "—")],
        validate_choice=False,
        description="The area a topic's hours usually count toward.",
    )
    live_only = BooleanField("Live delivery only (in person or blended; topics only)")
    sort_order = IntegerField(
        "Sort order",
        validators=[
            Optional(),
            NumberRange(min=0, max=10_000, message="Enter a whole number from 0 to 10000."),
        ],
        description="Position in lists; leave empty to put it after the others of its kind.",
    )


class KeywordForm(FlaskForm):
    """Adding a phrase: first a preview of its effect (step=preview), then save (step=save)."""

    weight = SelectField("Kind", choices=list(KEYWORD_WEIGHTS))
    phrase = StringField("Phrase", validators=[DataRequired(), Length(min=2, max=200)])
    step = HiddenField(default="preview")


class AbbreviationForm(FlaskForm):
    abbreviation = StringField("Abbreviation", validators=[DataRequired(), Length(max=40)])
    expansion = StringField("Stands for", validators=[DataRequired(), Length(max=200)])
    step = HiddenField(default="preview")


class ConfirmForm(FlaskForm):
    step = HiddenField(default="preview")


class RequirementSetForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    starts_on = DateField("Starts on", validators=[DataRequired()])
    ends_on = DateField("Ends on", validators=[DataRequired()])
    grace_until = DateField("Grace period until", validators=[Optional()])
    total_hours = DecimalField(
        "Total hours", places=2, validators=[DataRequired(), NumberRange(min=0, max=1000)]
    )
    approved_provider_min_hours = DecimalField(
        "Minimum hours from an Approved Provider",
        places=2,
        validators=[Optional(), NumberRange(min=0, max=1000)],
    )
    source_url = StringField("Source", validators=[Optional(), Length(max=500), web_address])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.ends_on.data < self.starts_on.data:
            self.ends_on.errors.append("The period must end after it starts.")
            return False
        return ok


class ProviderForm(FlaskForm):
    slug = StringField("Slug", validators=[DataRequired(), Length(max=64), SLUG])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=list(PROVIDER_KINDS))
    licence_number = StringField("Licence number", validators=[Optional(), Length(max=64)])
    approved_provider = BooleanField("Approved Provider (counts toward the 8 hours)", default=True)
    url = StringField("Web site", validators=[Optional(), Length(max=500), web_address])
    contact_email = StringField("Contact email", validators=[Optional(), EMAIL, Length(max=200)])


class UserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    role = SelectField("Role", choices=list(ROLES))
    provider_id = SelectField("Provider (provider users only)", coerce=int, default=0)
    password = PasswordField("Password", validators=[Optional(), Length(max=200)])


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=list(ROLES))
    provider_id = SelectField("Provider (provider users only)", coerce=int, default=0)
    active = BooleanField("Active (may sign in)")


class PasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])


class TokenForm(FlaskForm):
    name = StringField("Label", validators=[Optional(), Length(max=100)], default="api")

"""Form fields shared by the blueprints' forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wtforms import DecimalField

MAX_DECIMAL = Decimal(10) ** 9


class FiniteDecimalField(DecimalField):
    """A DecimalField that takes only finite numbers of sensible size: `NaN`, `sNaN`,
    `Infinity` and `1e999999` are a field error, not a crash in the range validator or the
    database driver."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        value = self.data
        if isinstance(value, Decimal):
            try:
                ok = value.is_finite() and abs(value) < MAX_DECIMAL
            except InvalidOperation:
                ok = False
            if not ok:
                self.data = None
                raise ValueError(self.gettext("Enter an ordinary number of hours."))

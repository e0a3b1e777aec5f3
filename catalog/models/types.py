"""Column types shared by the models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from sqlalchemy import JSON, DateTime, Numeric
from sqlalchemy.orm import mapped_column

# Hours are exact decimals (quarter hours), never floats.
HoursType = Numeric(7, 2, asdecimal=True)
Hours = Annotated[Decimal, mapped_column(HoursType)]


def format_hours(value) -> str:
    """Hours as text, the one format everywhere (pages, exports, messages, audit entries):
    1.00 -> "1", 1.50 -> "1.5", 0.25 -> "0.25"; None or "" -> ""."""
    if value is None or value == "":
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number.normalize(), "f")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Timestamp = Annotated[dt.datetime, mapped_column(DateTime, default=utcnow)]
JsonDict = Annotated[dict, mapped_column(JSON, default=dict)]
JsonList = Annotated[list, mapped_column(JSON, default=list)]

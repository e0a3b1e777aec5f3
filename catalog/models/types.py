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


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Timestamp = Annotated[dt.datetime, mapped_column(DateTime, default=utcnow)]
JsonDict = Annotated[dict, mapped_column(JSON, default=dict)]
JsonList = Annotated[list, mapped_column(JSON, default=list)]

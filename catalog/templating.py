"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask


def format_hours(value) -> str:
    """1.00 -> "1", 1.50 -> "1.5", 0.25 -> "0.25"; None -> ""."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    text = format(number, "f")
    return text


def register_templating(app: Flask) -> None:
    app.add_template_filter(format_hours, "hours")

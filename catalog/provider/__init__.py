from flask import Blueprint

bp = Blueprint("provider", __name__)

from catalog.provider import course_views, routes  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("review", __name__)

from catalog.review import revision_views, routes  # noqa: E402,F401

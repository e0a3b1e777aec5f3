from flask import Blueprint

bp = Blueprint("review", __name__)

from catalog.review import routes  # noqa: E402,F401

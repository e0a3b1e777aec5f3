from flask import Blueprint

bp = Blueprint("provider", __name__)

from catalog.provider import routes  # noqa: E402,F401

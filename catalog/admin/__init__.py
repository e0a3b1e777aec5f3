from flask import Blueprint

bp = Blueprint("admin", __name__)

from catalog.admin import accounts, requirements, routes  # noqa: E402,F401

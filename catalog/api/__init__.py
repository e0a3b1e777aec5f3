from flask import Blueprint

from catalog.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # token-authenticated JSON API: no cookies, no CSRF

from catalog.api import catalogs, courses, openapi, plan, routes  # noqa: E402,F401

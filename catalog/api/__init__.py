from flask import Blueprint

from catalog.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)  # token-authenticated JSON API: no cookies, no CSRF

from catalog.api import routes  # noqa: E402,F401
from catalog.api import catalogs  # noqa: E402,F401
from catalog.api import courses  # noqa: E402,F401

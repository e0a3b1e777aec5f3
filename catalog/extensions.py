"""Unbound extensions; the factory calls init_app on each."""

from flask import current_app, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect as _CSRFProtect

from catalog.db import Base


class CSRFProtect(_CSRFProtect):
    """Flask-WTF's CSRF protection, asking first whether the method needs a token at all: the
    parent looks up the view's exemptions before it, on every GET."""

    def protect(self, apply_exemptions=False):
        if apply_exemptions and request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return  # what the parent returns for a safe method, exempt or not
        super().protect(apply_exemptions=apply_exemptions)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()

"""POST continuing-education course catalog: the Flask application factory."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask.globals import _cv_request

from catalog.config import ConfigError, from_env

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ConfigError", "create_app"]


class CatalogFlask(Flask):
    """Flask whose absolute URLs use PUBLIC_BASE_URL when it is set, whatever Host header a
    request carries (TRUSTED_HOSTS refuses unknown hosts as well)."""

    URL_CACHE_SIZE = 2048

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._url_cache: dict = {}
        self._plain_functions: set = set()

    def create_url_adapter(self, request):
        adapter = super().create_url_adapter(request)
        base = self.config.get("PUBLIC_BASE_URL")
        if base:
            parts = urlsplit(base)
            if adapter is None:
                return self.url_map.bind(parts.netloc, url_scheme=parts.scheme)
            adapter.server_name = parts.netloc
            adapter.url_scheme = parts.scheme
        return adapter

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor=None,
        _method=None,
        _scheme=None,
        _external=None,
        **values,
    ) -> str:
        """Flask's url_for, each URL built once per worker and request root: a page builds the
        same dozen links (navigation, stylesheets, its own routes) on every request, and building
        one is a walk of the routing map (a tenth of a search page). The key holds the root the
        URL is built on (scheme, Host, server name and port, script root: ProxyFix has already
        applied the proxy's) and the value types (page=1 and page=True differ); the cache is
        dropped when full (Host headers are the visitor's to choose). Relative endpoints, URL
        default functions, unhashable values (lists) and builds outside a request go to Flask."""
        ctx = _cv_request.get(None)
        if (
            ctx is None
            or ctx.url_adapter is None
            or endpoint[:1] == "."
            or self.url_default_functions
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        environ = ctx.request.environ
        key = (
            endpoint,
            _anchor,
            _method,
            _scheme,
            _external,
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME"),
            *((name, value.__class__, value) for name, value in values.items()),
        )
        cache = self._url_cache
        try:
            found = cache.get(key)
        except TypeError:  # a list of values: not cached
            found, key = None, None
        if found is None:
            found = super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
            if key is not None:
                if len(cache) >= self.URL_CACHE_SIZE:
                    cache.clear()
                cache[key] = found
        return found

    def ensure_sync(self, func):
        """Flask's, remembering which functions are plain: it asked inspect each time, for each
        hook and the view (eight times per request here)."""
        if func in self._plain_functions:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self._plain_functions) < 4096:  # after_this_request closures
            self._plain_functions.add(func)
        return wrapped


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages, CLI. No I/O beyond that."""
    app = CatalogFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("CATALOG_INSTANCE_PATH") or None,
    )
    app.config.from_mapping(from_env(Path(app.instance_path), config))
    register_converters(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    from catalog.templating import register_templating

    register_templating(app)
    from catalog.errors import register_error_handlers

    register_error_handlers(app)
    from catalog.cli import register_cli

    register_cli(app)
    return app


def register_converters(app: Flask) -> None:
    """`<int:...>` in every route matches only ids a 64-bit column can hold: a 25-digit id is
    a plain 404 instead of an overflow in the database driver."""
    from werkzeug.routing import IntegerConverter

    class BoundedInt(IntegerConverter):
        def __init__(self, map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
            super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    app.url_map.converters["int"] = BoundedInt


def register_extensions(app: Flask) -> None:
    from catalog import models  # (registers every table with the metadata)
    from catalog.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from catalog.auth.sessions import load_user

    login_manager.user_loader(load_user)
    models.User.password_hash_method = app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)


def register_blueprints(app: Flask) -> None:
    from catalog.admin import bp as admin_bp
    from catalog.api import bp as api_bp
    from catalog.auth import bp as auth_bp
    from catalog.plan import bp as plan_bp
    from catalog.provider import bp as provider_bp
    from catalog.public import bp as public_bp
    from catalog.reconcile import bp as reconcile_bp
    from catalog.review import bp as review_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(plan_bp)
    app.register_blueprint(provider_bp, url_prefix="/provider")
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(reconcile_bp)


def register_request_hooks(app: Flask) -> None:
    from catalog.security import register_security
    from catalog.serving import register_settling

    register_security(app)
    register_settling(app)

"""Per-request safety: security headers, SQLite write intent for unsafe methods, template helpers."""

from __future__ import annotations

from flask import Flask, Request, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.utils import cached_property

from catalog.db import LATE, reset_write_intent, set_write_intent
from catalog.services.cleaning import clean_payload, clean_text, has_unwanted

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


class SessionInterface(SecureCookieSessionInterface):
    """Session cookie marked Secure whenever the request came over https (or config says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, request):
        # The reconciliation service is cookie-less: a signed-in browser's session is neither
        # read nor renewed there (no Set-Cookie, no Vary: Cookie), whoever calls it.
        if request.path == "/reconcile" or request.path.startswith("/reconcile/"):
            return self.make_null_session(app)
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            # No cookie: a new empty session, as the parent gives, without building the signing
            # serializer first (most public requests carry no cookie at all).
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if not session and not session.modified:
            # Empty and untouched (an anonymous visitor): no cookie to set or delete, as in the
            # parent, which first looks up seven cookie settings; only "Vary: Cookie" if read.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def _clean_multidict(values):
    if not any(has_unwanted(k) or has_unwanted(v) for k, v in values.items(multi=True)):
        return values
    return ImmutableMultiDict([(clean_text(k), clean_text(v)) for k, v in values.items(multi=True)])


class CleanRequest(Request):
    """The request every view sees: query arguments, form fields and JSON bodies pass through
    the one input-cleaning rule (`catalog.services.cleaning.clean_text`), as uploaded files do
    in the catalog reader. Views, forms and services therefore never see NUL or control
    characters, whichever way the text came in."""

    @cached_property
    def args(self):
        return _clean_multidict(super().args)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None:
            self.__dict__["form"] = _clean_multidict(form)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        payload = super().get_json(force=force, silent=silent, cache=cache)
        try:
            return clean_payload(payload)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("The JSON body is nested too deeply.") from None


def register_security(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.request_class = CleanRequest

    @app.before_request
    def _forget_previous_identity() -> None:
        # Each request resolves its user afresh. (Outside tests every request has its own app
        # context anyway; a test holding one context must not leak a user between requests.)
        g.pop("_login_user", None)
        g.pop("api_user", None)

    @app.before_request
    def _mark_write_intent() -> None:
        intent: bool | str = request.method not in SAFE_METHODS
        view = app.view_functions.get(request.endpoint or "")
        if intent and getattr(view, "late_write_lock", False):
            intent = LATE
        g._write_token = set_write_intent(intent)

    @app.teardown_request
    def _clear_write_intent(exc: BaseException | None) -> None:
        token = g.pop("_write_token", None)
        if token is not None:
            try:
                reset_write_intent(token)
            except ValueError:  # token from another context (streamed responses)
                set_write_intent(False)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        if _personal(request):
            # Signed-in pages and API answers are someone's own: no shared or browser cache
            # keeps them (the back button after sign-out, a proxy between offices).
            headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")
        add_security_headers(headers, request.is_secure)
        return response


def add_security_headers(headers, secure: bool) -> None:
    """The security headers a response does not set itself (a view may set its own policy).
    One pass over the response's few headers: `Headers.setdefault` looked each one up by
    raising and catching a KeyError, four times per response."""
    present = {key.lower() for key, _ in headers.items()}
    policy = None
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
        elif name == "Content-Security-Policy":
            policy = headers.get(name)
    if "x-frame-options" not in present and (policy is None or "frame-ancestors 'none'" in policy):
        # Pages that set their own framing policy (the reconciliation preview) go without.
        headers.add("X-Frame-Options", "DENY")
    if secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", "max-age=31536000")


def _personal(req) -> bool:
    if req.path.startswith("/api/") or g.get("api_user") is not None:
        return True
    if g.get("_login_user") is None and session.get("_user_id") is None:
        # Nobody signed in through this session, and no remember-me cookie to sign in from: an
        # anonymous request (most public pages), answered without loading a user.
        from flask_login.config import COOKIE_NAME

        if current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in req.cookies:
            return False
    from flask_login import current_user

    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # the user could not be loaded (database down): nothing personal shown
        return False


def late_write_lock(view):
    """Mark a writing view whose reads come long before its writes (an import that runs the
    engine first): on SQLite its transaction takes the write lock at the first write instead of
    at BEGIN, so other writers are not kept waiting meanwhile. Its writes then see the latest
    committed data, as on PostgreSQL; guard them as there (version checks, unique indexes)."""
    view.late_write_lock = True
    return view

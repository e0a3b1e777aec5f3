"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py` (the app is catalog:create_app())."""

import multiprocessing
import os

wsgi_app = "catalog:create_app()"
# Loopback unless told otherwise: a reverse proxy in front, or BIND=0.0.0.0:8000 in a container
# (the Dockerfile and compose.yaml set it).
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))  # large catalog imports
graceful_timeout = 30
keepalive = 5
# Bounded request headers; bodies are bounded by MAX_CONTENT_LENGTH in the app.
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# Trust X-Forwarded-* only from the proxy in front (the app applies ProxyFix when
# PROXY_FIX_X_FOR is set); by default trust nobody.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Refuse to start in production while a demo login still takes its published password."""
    from catalog import create_app
    from catalog.extensions import db
    from catalog.services.production import startup_problems

    app = create_app()
    if app.config["ENV_NAME"] != "production":
        return
    with app.app_context():
        try:
            problems = startup_problems(db.session)
        except Exception as exc:  # no database yet: /healthz will say so; nothing to refuse
            server.log.warning("Start-up checks skipped: %s", str(exc).splitlines()[0])
            problems = []
        finally:
            db.session.remove()
            db.engine.dispose()
    if problems:
        for problem in problems:
            server.log.error("Refusing to start: %s", problem)
        raise SystemExit(1)

"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py` (the app is catalog:create_app())."""

import gc
import multiprocessing
import os
import time

wsgi_app = "catalog:create_app()"
# Loopback unless told otherwise: a reverse proxy in front, or BIND=0.0.0.0:8000 in a container
# (the Dockerfile and compose.yaml set it).
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threaded workers: a worker busy with an upload (seconds of CPU, at most UPLOAD_SLOTS at once,
# each bounded by IMPORT_TIME_LIMIT) still answers /healthz and the pages on its other threads.
# More threads than requests in flight, so a health check never queues for a free thread: with 8
# (16 load clients + 4 hostile uploads on 2 workers) /healthz waited up to 9 s, with 24 < 0.85 s.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))  # a worker silent this long is killed
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
    """Refuse to start in production while a demo login still takes its published password; then
    build the matching engine once here, in the master, so that every worker forked from it
    starts with it (fitting on thousands of decisions takes tens of seconds: no request, and no
    worker, pays for it). WARM_ENGINE=0 skips that."""
    from catalog import create_app
    from catalog.extensions import db
    from catalog.services.production import startup_problems
    from catalog.serving import warm_engine

    app = create_app()
    problems = []
    with app.app_context():
        try:
            if app.config["ENV_NAME"] == "production":
                problems = startup_problems(db.session)
            if not problems and os.environ.get("WARM_ENGINE", "1") != "0":
                started = time.monotonic()
                warm_engine()
                server.log.info("Matching engine built in %.1f s", time.monotonic() - started)
        except Exception as exc:  # no database yet: /healthz will say so; nothing to refuse
            server.log.warning("Start-up checks skipped: %s", str(exc).splitlines()[0])
            problems = []
        finally:
            db.session.remove()
            db.engine.dispose()  # no connection crosses the fork into the workers
    if problems:
        for problem in problems:
            server.log.error("Refusing to start: %s", problem)
        raise SystemExit(1)
    # Everything built so far (modules, the matching engine) lives as long as the workers: out
    # of the collector's sight, so that no worker's full collection walks it again (a pause in
    # some request) or writes to its pages (which the workers share with the master until then).
    gc.freeze()


def post_worker_init(worker):
    """In each worker, once its app is loaded and before it takes a request: ask for the public
    pages once (catalog.serving.warm_public), so that no visitor waits for what the first
    requests build (the published catalog's snapshot: 1-3 s at 10,000 courses, the templates),
    then settle it (catalog.serving.settle_process: collect once, freeze what lives as long as the
    worker, as the master does). WARM_PUBLIC=0 skips the requests."""
    if os.environ.get("WARM_PUBLIC", "1") != "0":
        from catalog.serving import warm_public

        started = time.monotonic()
        answers = warm_public(worker.wsgi)
        worker.log.info(
            "Public pages warmed in %.1f s (%s)",
            time.monotonic() - started,
            ", ".join(f"{path} {status}" for path, status in answers),
        )
    from catalog.serving import settle_process

    settle_process()

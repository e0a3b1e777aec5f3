"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py` (the app is catalog:create_app())."""

import multiprocessing
import os

wsgi_app = "catalog:create_app()"
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
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

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CATALOG_ENV=production BIND=0.0.0.0:8000
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY catalog ./catalog
COPY mapping ./mapping
COPY templates ./templates
COPY static ./static
COPY seed_data ./seed_data
COPY gunicorn.conf.py ./
COPY deploy ./deploy
RUN pip install --no-cache-dir -e . && useradd --create-home app && mkdir -p /app/instance && chown app /app/instance
USER app
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["/app/deploy/entrypoint.sh"]

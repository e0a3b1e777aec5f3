#!/bin/sh
# Container start: bring the schema up to date, make sure the taxonomy is there, then serve.
set -e
flask --app catalog init-db
flask --app catalog seed --no-demo
exec gunicorn -c gunicorn.conf.py

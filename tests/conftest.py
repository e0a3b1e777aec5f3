"""Fixtures shared by every test: app and client per database backend, users, logins.

Data-layer tests run on SQLite and on PostgreSQL (a throw-away database created on the server at
127.0.0.1:5432 for this run). Under CI=true an unreachable PostgreSQL fails the run instead of
skipping, and so does any other skip.

`make test` runs the suite in pytest-xdist workers: every worker has its own PostgreSQL
databases (named after the worker), its own SQLite files (pytest's per-worker tmp folders) and
its own instance folder (upload slot lock files), so no worker sees another's data or locks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from catalog import create_app
from catalog.extensions import db

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]
# "gw0", "gw1", ... in a pytest-xdist worker; "main" in a run without workers
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_name(kind: str) -> str:
    """A database name no other worker or concurrent test run on the same server can pick: the
    worker names it in `pg_stat_activity` and in a leftover after a crash, pid and a random part
    keep two runs apart."""
    return f"catalog_{kind}_{WORKER}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failed one: CI must run every test (a missing database,
    browser, tool or data set is a broken CI machine, not a reason to pass). The report is made
    in the worker that ran the test, so this holds under pytest-xdist as in one process."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
    return report


@pytest.fixture(scope="session", autouse=True)
def instance_folder(tmp_path_factory):
    """The app's instance folder for this session (this worker): by default it is the checkout's
    instance/, shared by every worker and by `make run`, and the upload slot lock files there
    made one worker's upload wait for (or be refused because of) another worker's. Subprocesses
    (gunicorn, flask) inherit it through the environment."""
    folder = tmp_path_factory.mktemp("instance")
    before = os.environ.get("CATALOG_INSTANCE_PATH")
    os.environ["CATALOG_INSTANCE_PATH"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("CATALOG_INSTANCE_PATH", None)
    else:
        os.environ["CATALOG_INSTANCE_PATH"] = before


def _postgres_available() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session (this worker), dropped at the end."""
    problem = _postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true but is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = _database_name("test")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def empty_database_url(backend, tmp_path, request):
    """A brand-new, empty database of the current backend (for migration and restore tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips or fails when PostgreSQL is absent
    name = _database_name("empty")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def listening_socket():
    """listen() -> a TCP socket on 127.0.0.1, at a port the system chose, already listening: hand
    it to a server in a subprocess (gunicorn's `-b fd://N` with `pass_fds`). Asking for a free port
    and letting the server bind it later is a race that parallel test workers can lose (the port
    handed out again meanwhile, and a test talking to another worker's server). Closed after the
    test; close it earlier once the subprocess has its copy."""
    opened: list[socket.socket] = []

    def listen() -> socket.socket:
        sock = socket.socket()
        opened.append(sock)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        return sock

    yield listen
    for sock in opened:
        sock.close()


# gunicorn's graceful stop takes up to its graceful_timeout (30 s), then it kills its workers itself
STOP_SECONDS = 60


@pytest.fixture
def spawn():
    """spawn(args, **popen_kwargs) -> the Popen of a server for this test, in its own process
    group. After the test it is stopped (SIGTERM: gunicorn's graceful stop) and always reaped, its
    whole group killed if it has not ended in STOP_SECONDS. A gunicorn worker still importing the
    app when the SIGTERM comes stops only once booted: on a loaded machine (parallel workers) that
    took longer than a fixed 10 s wait, the server was left running, and its Popen turned up as a
    ResourceWarning (an error) in some later test."""
    procs: list[subprocess.Popen] = []

    def start(args, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return create_app(config)


def _migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """Lazily migrated database URL per backend (migrations run once per session)."""
    cache: dict[str, str] = {}

    def get(backend: str, request) -> str:
        if backend not in cache:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
            else:
                url = request.getfixturevalue("postgres_url")
            _migrate(url)
            cache[backend] = url
        return cache[backend]

    return get


def _truncate_all() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, database_urls, request) -> str:
    return database_urls(backend, request)


@pytest.fixture
def app(database_url, request):
    """An app on a clean, migrated database of the current backend."""
    marker = request.node.get_closest_marker("app_config")
    overrides = marker.kwargs if marker else {}
    app = make_app(database_url, **overrides)
    with app.app_context():
        _truncate_all()
        yield app
        db.session.remove()
        _truncate_all()
        db.engine.dispose()


@pytest.fixture
def app_factory(database_url):
    """Build another app on the current test database with extra config (e.g. CSRF on)."""
    built = []

    def build(**overrides):
        other = make_app(database_url, **overrides)
        built.append(other)
        return other

    yield build
    for other in built:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def taxonomy(app):
    """The Missouri taxonomy and requirement sets (no demo data)."""
    from catalog.services.seeding import SEED_DIR, SeedReport, seed_requirements, seed_taxonomy

    report = SeedReport()
    jurisdiction = seed_taxonomy(db.session, SEED_DIR / "mo" / "taxonomy.toml", report)
    seed_requirements(db.session, SEED_DIR / "mo" / "requirements.toml", report)
    db.session.commit()
    return jurisdiction


@pytest.fixture
def make_provider(app):
    from catalog.models import Provider

    def make(slug: str = "acme-academy", name: str | None = None, **kw) -> Provider:
        provider = Provider(slug=slug, name=name or slug.replace("-", " ").title(), **kw)
        db.session.add(provider)
        db.session.commit()
        return provider

    return make


PASSWORD = "Correct-Horse-42"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(app):
    from catalog.models import User

    def make(email: str, role: str = "staff", provider=None, password: str = PASSWORD) -> User:
        user = User(email=email, role=role, provider=provider)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Sign the test client in as the given user (through the real login form)."""

    def do(user, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


@pytest.fixture
def users(app, make_provider, make_user):
    """One user per role, and two providers, for access-control tests."""
    provider_a = make_provider("provider-a")
    provider_b = make_provider("provider-b")
    return {
        "admin": make_user("admin@test.example", "admin"),
        "staff": make_user("staff@test.example", "staff"),
        "provider_a": make_user("a@test.example", "provider", provider_a),
        "provider_b": make_user("b@test.example", "provider", provider_b),
        "providers": (provider_a, provider_b),
    }


FIXTURE_NOTE = "Approved by a test fixture."


def publish(course, areas, topics=(), *, approved_until, control_number: str = ""):
    """Approve a flushed, pending `course` through the decision service (a staff override by the
    system): its decided rows, approval period, control number and audit entry, as in the app.

    An approval that has already ended is decided as of its last day (the service refuses a
    period ending before the day of the decision)."""
    import datetime as dt

    from catalog.services.reviewing.decisions import decide

    today = min(dt.date.today(), approved_until)
    return decide(
        db.session,
        course,
        "override",
        course.version,
        None,
        areas=areas,
        topics=list(topics),
        note=FIXTURE_NOTE,
        approved_until=approved_until,
        control_number=control_number,
        today=today,
    )


@pytest.fixture
def make_course(app, taxonomy):
    """A course with decided categories, published (approved until 30 days ahead) by default.

    Approved courses are decided through the decision service (`publish`), so each carries its
    audit entry; other statuses are stored as given. `approved_until=None` on an approved course
    is a row no decision produces (an undated approval): it is decided, then its date cleared."""
    import datetime as dt
    from decimal import Decimal

    from catalog.models import Course, Provider
    from catalog.models.types import utcnow
    from catalog.services.courses import normalise_title, set_course_categories
    from catalog.services.suggesting import categories_by_slug

    categories = categories_by_slug(db.session, taxonomy)
    counter = {"n": 0}

    def make(
        title: str,
        *,
        provider: str = "acme-academy",
        hours="1",
        delivery="in-person",
        areas=None,
        topics=(),
        status="approved",
        approved_until="default",
        approved_at=None,
        description="",
        objectives="",
        url="",
    ) -> Course:
        found = db.session.scalar(sa.select(Provider).where(Provider.slug == provider))
        if found is None:
            found = Provider(slug=provider, name=provider.replace("-", " ").title())
            db.session.add(found)
        counter["n"] += 1
        hours = Decimal(str(hours))
        course = Course(
            provider=found,
            jurisdiction=taxonomy,
            title=title,
            normalised_title=normalise_title(title) + f" {counter['n']}",
            hours=hours,
            delivery=delivery,
            description=description,
            objectives=objectives,
            url=url,
            status="pending" if status == "approved" else status,
        )
        if approved_until == "default":
            approved_until = dt.date.today() + dt.timedelta(days=30)
        if status != "approved":  # stored as given, as before the service existed
            if areas is not None:
                set_course_categories(course, "decided", areas, list(topics), categories)
            course.approved_until = approved_until
            course.approved_at = approved_at or utcnow()
        areas = {k: Decimal(str(v)) for k, v in (areas or {"skill-development": hours}).items()}
        db.session.add(course)
        db.session.flush()
        control_number = f"MO-T-{course.id:05d}"
        if status == "approved":
            undated = approved_until is None
            until = dt.date.today() if undated else approved_until
            publish(course, areas, topics, approved_until=until, control_number=control_number)
            if undated:
                course.approved_until = None
            if approved_at is not None:
                course.approved_at = approved_at  # the decision's time, for tests of the order
        else:
            course.control_number = control_number
        db.session.commit()
        return course

    return make


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**kw): extra app config for the `app` fixture")


@pytest.fixture
def make_pending_course(app, taxonomy):
    """Create a course of a provider through the services, with the engine's suggestion stored."""
    from decimal import Decimal

    from catalog.models import Course
    from catalog.services.courses import content_hash, normalise_title
    from catalog.services.suggesting import suggest_courses

    def make(provider, title: str, hours="2", delivery: str = "in-person", **kw) -> Course:
        fields = {"title": title, "hours": Decimal(str(hours)), "delivery": delivery, **kw}
        course = Course(
            provider=provider,
            jurisdiction=taxonomy,
            normalised_title=normalise_title(title),
            content_hash=content_hash(fields),
            **fields,
        )
        db.session.add(course)
        db.session.flush()
        suggest_courses(db.session, taxonomy, [course])
        db.session.commit()
        return course

    return make

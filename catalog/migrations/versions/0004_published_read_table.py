"""published-course read table for fast public search filters and facet counts

`search_published` holds one narrow row per approved course (status 'approved' with an
`approved_until`): the columns the public filters and facets need, so the search never joins
course_categories per matching row:

    course_id    the course (primary key, cascade on delete)
    until        approved_until (the query still applies `until >= today`, so expiry needs no job)
    provider_id, hours, delivery
    cats         the decided category ids, sorted and comma-framed: ",3,7," (',' when none), so an
                 area/topic filter is a substring test and needs no join
    facets       hours|delivery|cats, one short key per course, so all facet counts come from one
                 GROUP BY provider_id, facets over the matching rows (a few hundred groups)

It is kept current by triggers on courses and course_categories (like the full-text index), so the
import, review and admin services need not know it exists. Rows of unapproved, rejected or
withdrawn courses are removed. Excluded from autogenerate by env.py (name starts with "search_").

Revision ID: issue7_published
Revises: issue7_search
Create Date: 2026-11-22
"""

from alembic import op

revision = "issue7_published"
down_revision = "issue7_search"
branch_labels = None
depends_on = None

COLUMNS = "course_id, until, provider_id, hours, delivery, cats, facets"


def _sqlite_refresh(course_id: str) -> str:
    cats = (
        "(SELECT coalesce(',' || group_concat(category_id, ',') || ',', ',') FROM "
        f"(SELECT category_id FROM course_categories WHERE course_id = {course_id} "
        "AND source = 'decided' ORDER BY category_id))"
    )
    return (
        f"DELETE FROM search_published WHERE course_id = {course_id}; "
        f"INSERT INTO search_published ({COLUMNS}) "
        "SELECT c.id, c.approved_until, c.provider_id, c.hours, c.delivery, k.cats, "
        "c.hours || '|' || c.delivery || '|' || k.cats "
        f"FROM courses c, (SELECT {cats} AS cats) k "
        f"WHERE c.id = {course_id} AND c.status = 'approved' AND c.approved_until IS NOT NULL;"
    )


SQLITE_TRIGGERS = {
    "search_published_ai": "AFTER INSERT ON courses BEGIN {new} END",
    "search_published_au": (
        "AFTER UPDATE OF status, approved_until, provider_id, hours, delivery ON courses "
        "BEGIN {new} END"
    ),
    "search_published_ad": (
        "AFTER DELETE ON courses BEGIN DELETE FROM search_published WHERE course_id = old.id; END"
    ),
    "search_published_cc_ai": (
        "AFTER INSERT ON course_categories WHEN new.source = 'decided' BEGIN {new_cc} END"
    ),
    "search_published_cc_ad": (
        "AFTER DELETE ON course_categories WHEN old.source = 'decided' BEGIN {old_cc} END"
    ),
    "search_published_cc_au": (
        "AFTER UPDATE OF course_id, category_id, source ON course_categories "
        "WHEN old.source = 'decided' OR new.source = 'decided' BEGIN {old_cc} {new_cc} END"
    ),
}

CREATE_TABLE = (
    "CREATE TABLE search_published ("
    "course_id INTEGER PRIMARY KEY REFERENCES courses(id) ON DELETE CASCADE, "
    "until DATE NOT NULL, provider_id INTEGER NOT NULL, hours NUMERIC(7, 2) NOT NULL, "
    "delivery VARCHAR(16) NOT NULL, cats VARCHAR(400) NOT NULL, facets VARCHAR(450) NOT NULL)"
)


def _upgrade_sqlite() -> None:
    op.execute(CREATE_TABLE)
    parts = {
        "new": _sqlite_refresh("new.id"),
        "new_cc": _sqlite_refresh("new.course_id"),
        "old_cc": _sqlite_refresh("old.course_id"),
    }
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} " + body.format(**parts))
    cats = (
        "(SELECT coalesce(',' || group_concat(category_id, ',') || ',', ',') FROM "
        "(SELECT category_id FROM course_categories WHERE course_id = c.id "
        "AND source = 'decided' ORDER BY category_id))"
    )
    op.execute(
        f"INSERT INTO search_published ({COLUMNS}) "
        "SELECT id, approved_until, provider_id, hours, delivery, cats, "
        "hours || '|' || delivery || '|' || cats FROM ("
        f"SELECT c.id, c.approved_until, c.provider_id, c.hours, c.delivery, {cats} AS cats "
        "FROM courses c WHERE c.status = 'approved' AND c.approved_until IS NOT NULL)"
    )


PG_SELECT = """
  SELECT c.id, c.approved_until, c.provider_id, c.hours, c.delivery, k.cats,
         c.hours::text || '|' || c.delivery || '|' || k.cats
  FROM courses c
  CROSS JOIN LATERAL (
    SELECT coalesce(',' || string_agg(cc.category_id::text, ',' ORDER BY cc.category_id) || ',', ',')
           AS cats
    FROM course_categories cc WHERE cc.course_id = c.id AND cc.source = 'decided'
  ) k
  WHERE c.status = 'approved' AND c.approved_until IS NOT NULL
"""

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION search_published_refresh(cid integer) RETURNS void AS $$
BEGIN
  INSERT INTO search_published ({COLUMNS})
  {PG_SELECT} AND c.id = cid
  ON CONFLICT (course_id) DO UPDATE SET until = EXCLUDED.until,
    provider_id = EXCLUDED.provider_id, hours = EXCLUDED.hours, delivery = EXCLUDED.delivery,
    cats = EXCLUDED.cats, facets = EXCLUDED.facets;
  IF NOT FOUND THEN
    DELETE FROM search_published WHERE course_id = cid;
  END IF;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_published_on_course() RETURNS trigger AS $$
BEGIN
  PERFORM search_published_refresh(NEW.id);
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_published_on_category_row() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.source = 'decided' THEN
    PERFORM search_published_refresh(OLD.course_id);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.source = 'decided' THEN
    PERFORM search_published_refresh(NEW.course_id);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def _upgrade_postgresql() -> None:
    op.execute(CREATE_TABLE.replace("INTEGER PRIMARY KEY", "integer PRIMARY KEY"))
    op.execute(PG_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER search_published_course AFTER INSERT OR UPDATE OF status, approved_until, "
        "provider_id, hours, delivery ON courses "
        "FOR EACH ROW EXECUTE FUNCTION search_published_on_course()"
    )
    op.execute(
        "CREATE TRIGGER search_published_category_row AFTER INSERT OR DELETE OR UPDATE OF "
        "course_id, category_id, source ON course_categories "
        "FOR EACH ROW EXECUTE FUNCTION search_published_on_category_row()"
    )
    op.execute(f"INSERT INTO search_published ({COLUMNS}) {PG_SELECT}")
    # Plans over the new table need statistics now, not when autovacuum next wakes up.
    op.execute("ANALYZE search_published")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_published_category_row ON course_categories")
        op.execute("DROP TRIGGER IF EXISTS search_published_course ON courses")
        op.execute("DROP TABLE IF EXISTS search_published")
        for fn in (
            "search_published_on_category_row()",
            "search_published_on_course()",
            "search_published_refresh(integer)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_published")

"""PostgreSQL: the search triggers skip rows the public search never reads

An import inserts thousands of pending courses with suggested and proposed category rows. The
triggers of issue7_search and issue7_published ran a PL/pgSQL refresh for each of them: a full
tsvector (four to_tsvector calls and GIN updates) into `search_courses` and an INSERT ... SELECT
plus DELETE on `search_published`, for courses that are not published. The public search only
reads approved courses (both tables are joined on `search_published`), so:

- `search_courses` now holds approved courses only (its refresh deletes any other course's row);
- the course triggers fire on INSERT only for an approved course, and on UPDATE only when the
  course was or becomes approved (status is now among the watched columns of `search_courses`);
- the category-row triggers fire on INSERT only for a decided row (as before, DELETE and UPDATE
  always run the refresh, which looks at the old and new rows itself).

`WHEN` conditions are checked in the executor without calling the function, so a pending import
pays nothing. SQLite keeps its triggers (its FTS5 index is cheap to keep and its import is within
target).

Revision ID: pg_import_triggers
Revises: issue7_published
Create Date: 2026-11-30
"""

from alembic import op

revision = "pg_import_triggers"
down_revision = "issue7_published"
branch_labels = None
depends_on = None

APPROVED_NOW = "NEW.status = 'approved'"
APPROVED_EITHER = "OLD.status = 'approved' OR NEW.status = 'approved'"


REFRESH = """
CREATE OR REPLACE FUNCTION search_courses_refresh(cid integer) RETURNS void AS $$
BEGIN
  INSERT INTO search_courses (course_id, title, doc)
  SELECT c.id, c.title,
         setweight(to_tsvector('english', c.title), 'A')
      || setweight(to_tsvector('english', coalesce(n.names, '')), 'B')
      || setweight(to_tsvector('english', c.description || ' ' || c.objectives), 'C')
      || setweight(to_tsvector('english', replace(regexp_replace(lower(c.title || ' ' || c.description || ' ' || c.objectives || ' ' || coalesce(n.names, '')), '[-‐‑‒–—]', '', 'g'), 'de escalat', 'deescalat')), 'D')
  FROM courses c
  LEFT JOIN LATERAL (
    SELECT string_agg(cat.name, ' ') AS names
    FROM course_categories cc JOIN categories cat ON cat.id = cc.category_id
    WHERE cc.course_id = c.id AND cc.source = 'decided'
  ) n ON true
  WHERE c.id = cid{status}
  ON CONFLICT (course_id) DO UPDATE SET title = EXCLUDED.title, doc = EXCLUDED.doc;{delete}
END
$$ LANGUAGE plpgsql;
"""


def _search_courses_refresh(only_approved: bool) -> str:
    """search_courses_refresh of issue7_search, with (upgrade) or without the status rule."""
    if not only_approved:
        return REFRESH.format(status="", delete="")
    return REFRESH.format(
        status=" AND c.status = 'approved'",
        delete="\n  IF NOT FOUND THEN\n    DELETE FROM search_courses WHERE course_id = cid;\n  END IF;",
    )


def _create(name: str, timing: str, table: str, function: str, when: str | None = None) -> None:
    condition = f" WHEN ({when})" if when else ""
    op.execute(
        f"CREATE TRIGGER {name} AFTER {timing} ON {table} FOR EACH ROW{condition} "
        f"EXECUTE FUNCTION {function}()"
    )


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in (
        ("search_courses_course", "courses"),
        ("search_published_course", "courses"),
        ("search_courses_category_row", "course_categories"),
        ("search_published_category_row", "course_categories"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute(_search_courses_refresh(only_approved=True))

    _create(
        "search_courses_course_insert",
        "INSERT",
        "courses",
        "search_courses_on_course",
        APPROVED_NOW,
    )
    _create(
        "search_courses_course_update",
        "UPDATE OF title, description, objectives, status",
        "courses",
        "search_courses_on_course",
        APPROVED_EITHER,
    )
    _create(
        "search_published_course_insert",
        "INSERT",
        "courses",
        "search_published_on_course",
        APPROVED_NOW,
    )
    _create(
        "search_published_course_update",
        "UPDATE OF status, approved_until, provider_id, hours, delivery",
        "courses",
        "search_published_on_course",
        APPROVED_EITHER,
    )
    for prefix in ("search_courses", "search_published"):
        _create(
            f"{prefix}_category_insert",
            "INSERT",
            "course_categories",
            f"{prefix}_on_category_row",
            "NEW.source = 'decided'",
        )
    _create(
        "search_courses_category_change",
        "UPDATE OR DELETE",
        "course_categories",
        "search_courses_on_category_row",
    )
    _create(
        "search_published_category_change",
        "DELETE OR UPDATE OF course_id, category_id, source",
        "course_categories",
        "search_published_on_category_row",
    )
    op.execute(
        "DELETE FROM search_courses s USING courses c "
        "WHERE c.id = s.course_id AND c.status <> 'approved'"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table in (
        ("search_courses_course_insert", "courses"),
        ("search_courses_course_update", "courses"),
        ("search_published_course_insert", "courses"),
        ("search_published_course_update", "courses"),
        ("search_courses_category_insert", "course_categories"),
        ("search_published_category_insert", "course_categories"),
        ("search_courses_category_change", "course_categories"),
        ("search_published_category_change", "course_categories"),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute(_search_courses_refresh(only_approved=False))
    _create(
        "search_courses_course",
        "INSERT OR UPDATE OF title, description, objectives",
        "courses",
        "search_courses_on_course",
    )
    _create(
        "search_courses_category_row",
        "INSERT OR UPDATE OR DELETE",
        "course_categories",
        "search_courses_on_category_row",
    )
    _create(
        "search_published_course",
        "INSERT OR UPDATE OF status, approved_until, provider_id, hours, delivery",
        "courses",
        "search_published_on_course",
    )
    _create(
        "search_published_category_row",
        "INSERT OR DELETE OR UPDATE OF course_id, category_id, source",
        "course_categories",
        "search_published_on_category_row",
    )
    op.execute("SELECT search_courses_refresh(id) FROM courses")

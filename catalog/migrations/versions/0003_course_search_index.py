"""full-text search index for the published catalog

SQLite: an FTS5 table `courses_fts` (porter + unicode61) over title, description, objectives, the names
of the decided categories and a "folded" copy of all of them (lower case, hyphens removed, known
compounds such as "de escalation" joined), kept current by triggers. It is a regular FTS5 table keyed
by the course id rather than an external-content one, because two of its columns (category names and
the folded copy) do not exist in `courses`, and an external-content table's 'delete' needs the exact
old values, which a trigger on course_categories cannot reconstruct.

PostgreSQL: a `search_courses` table (course id, title, weighted tsvector) kept current by triggers,
a GIN index on the tsvector and a pg_trgm GIN index on the title for the fuzzy fallback.

Both are excluded from autogenerate by env.py (names containing "_fts" or starting with "search_").
The folding rules must match catalog/services/search.py (FOLDS); tests check that they do.

Revision ID: issue7_search
Revises: 0002_import
Create Date: 2026-11-22
"""

from alembic import op

revision = "issue7_search"
down_revision = "0002_import"
branch_labels = None
depends_on = None

# (from, to) applied after lower-casing and removing hyphens; keep in step with search.FOLDS.
FOLDS = (("de escalat", "deescalat"),)
HYPHENS = ("-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014")


def _sqlite_fold(expr: str) -> str:
    out = f"lower({expr})"
    for hyphen in HYPHENS:
        out = f"replace({out}, '{hyphen}', '')"
    for old, new in FOLDS:
        out = f"replace({out}, '{old}', '{new}')"
    return out


def _sqlite_insert(course_id: str) -> str:
    names = (
        "(SELECT group_concat(cat.name, ' ') FROM course_categories cc "
        "JOIN categories cat ON cat.id = cc.category_id "
        "WHERE cc.course_id = c.id AND cc.source = 'decided')"
    )
    everything = (
        f"c.title || ' ' || c.description || ' ' || c.objectives || ' ' || coalesce({names}, '')"
    )
    where = f"WHERE c.id = {course_id}" if course_id else ""
    return (
        "INSERT INTO courses_fts(rowid, title, description, objectives, categories, folded) "
        f"SELECT c.id, c.title, c.description, c.objectives, coalesce({names}, ''), "
        f"{_sqlite_fold(everything)} FROM courses c {where};"
    )


def _sqlite_refresh(course_id: str) -> str:
    return f"DELETE FROM courses_fts WHERE rowid = {course_id}; " + _sqlite_insert(course_id)


SQLITE_TRIGGERS = {
    "courses_fts_ai": "AFTER INSERT ON courses BEGIN {refresh_new} END",
    "courses_fts_au": (
        "AFTER UPDATE OF title, description, objectives ON courses BEGIN {refresh_new} END"
    ),
    "courses_fts_ad": "AFTER DELETE ON courses BEGIN DELETE FROM courses_fts WHERE rowid = old.id; END",
    "courses_fts_cc_ai": (
        "AFTER INSERT ON course_categories WHEN new.source = 'decided' BEGIN {refresh_new_cc} END"
    ),
    "courses_fts_cc_ad": (
        "AFTER DELETE ON course_categories WHEN old.source = 'decided' BEGIN {refresh_old_cc} END"
    ),
    "courses_fts_cc_au": (
        "AFTER UPDATE ON course_categories WHEN old.source = 'decided' OR new.source = 'decided' "
        "BEGIN {refresh_old_cc} {refresh_new_cc} END"
    ),
    "courses_fts_cat_au": (
        "AFTER UPDATE OF name ON categories BEGIN "
        "DELETE FROM courses_fts WHERE rowid IN (SELECT course_id FROM course_categories "
        "WHERE category_id = new.id AND source = 'decided'); "
        + _sqlite_insert("").replace(
            ";",
            " WHERE c.id IN (SELECT course_id FROM course_categories "
            "WHERE category_id = new.id AND source = 'decided');",
        )
        + " END"
    ),
}


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE courses_fts USING fts5("
        "title, description, objectives, categories, folded, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    parts = {
        "refresh_new": _sqlite_refresh("new.id"),
        "refresh_new_cc": _sqlite_refresh("new.course_id"),
        "refresh_old_cc": _sqlite_refresh("old.course_id"),
    }
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} " + body.format(**parts))
    op.execute(_sqlite_insert(""))


def _pg_fold(expr: str) -> str:
    out = f"regexp_replace(lower({expr}), '[{''.join(HYPHENS)}]', '', 'g')"
    for old, new in FOLDS:
        out = f"replace({out}, '{old}', '{new}')"
    return out


PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION search_courses_refresh(cid integer) RETURNS void AS $$
BEGIN
  INSERT INTO search_courses (course_id, title, doc)
  SELECT c.id, c.title,
         setweight(to_tsvector('english', c.title), 'A')
      || setweight(to_tsvector('english', coalesce(n.names, '')), 'B')
      || setweight(to_tsvector('english', c.description || ' ' || c.objectives), 'C')
      || setweight(to_tsvector('english', {_pg_fold("c.title || ' ' || c.description || ' ' || c.objectives || ' ' || coalesce(n.names, '')")}), 'D')
  FROM courses c
  LEFT JOIN LATERAL (
    SELECT string_agg(cat.name, ' ') AS names
    FROM course_categories cc JOIN categories cat ON cat.id = cc.category_id
    WHERE cc.course_id = c.id AND cc.source = 'decided'
  ) n ON true
  WHERE c.id = cid
  ON CONFLICT (course_id) DO UPDATE SET title = EXCLUDED.title, doc = EXCLUDED.doc;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_courses_on_course() RETURNS trigger AS $$
BEGIN
  PERFORM search_courses_refresh(NEW.id);
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_courses_on_category_row() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.source = 'decided' THEN
    PERFORM search_courses_refresh(OLD.course_id);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.source = 'decided' THEN
    PERFORM search_courses_refresh(NEW.course_id);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION search_courses_on_category_name() RETURNS trigger AS $$
BEGIN
  PERFORM search_courses_refresh(cc.course_id)
  FROM course_categories cc WHERE cc.category_id = NEW.id AND cc.source = 'decided';
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def _upgrade_postgresql() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE TABLE search_courses ("
        "course_id integer PRIMARY KEY REFERENCES courses(id) ON DELETE CASCADE, "
        "title text NOT NULL, doc tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX search_courses_doc ON search_courses USING gin (doc)")
    op.execute(
        "CREATE INDEX search_courses_title_trgm ON search_courses USING gin (title gin_trgm_ops)"
    )
    op.execute(PG_FUNCTIONS)
    op.execute(
        "CREATE TRIGGER search_courses_course AFTER INSERT OR UPDATE OF title, description, "
        "objectives ON courses FOR EACH ROW EXECUTE FUNCTION search_courses_on_course()"
    )
    op.execute(
        "CREATE TRIGGER search_courses_category_row AFTER INSERT OR UPDATE OR DELETE "
        "ON course_categories FOR EACH ROW EXECUTE FUNCTION search_courses_on_category_row()"
    )
    op.execute(
        "CREATE TRIGGER search_courses_category_name AFTER UPDATE OF name ON categories "
        "FOR EACH ROW EXECUTE FUNCTION search_courses_on_category_name()"
    )
    op.execute("SELECT search_courses_refresh(id) FROM courses")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_courses_category_name ON categories")
        op.execute("DROP TRIGGER IF EXISTS search_courses_category_row ON course_categories")
        op.execute("DROP TRIGGER IF EXISTS search_courses_course ON courses")
        op.execute("DROP TABLE IF EXISTS search_courses")
        for fn in (
            "search_courses_on_category_name()",
            "search_courses_on_category_row()",
            "search_courses_on_course()",
            "search_courses_refresh(integer)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS courses_fts")

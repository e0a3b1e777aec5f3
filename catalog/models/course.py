"""Catalog submissions, their parsed rows, courses and their categories (suggested, proposed, decided)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from catalog.db import Base
from catalog.models.types import HoursType, utcnow

DELIVERY_MODES = ("in-person", "online", "live-virtual", "blended")
LIVE_DELIVERY_MODES = ("in-person", "blended")
COURSE_STATUSES = ("pending", "approved", "rejected", "withdrawn")
SUBMISSION_STATUSES = ("draft", "confirmed", "discarded")
CATEGORY_SOURCES = ("suggested", "proposed", "decided")


class CatalogSubmission(Base):
    """One uploaded catalog file (or API/CLI payload): parsed rows wait here until confirmed."""

    __tablename__ = "catalogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    filename: Mapped[str] = mapped_column(String(255), default="")

    @validates("filename")
    def _clean_filename(self, _key, value):
        # A client-sent name may hold NUL (refused by PostgreSQL) or be any length.
        return re.sub(r"[\x00-\x1f\x7f]", "", value or "")[:255]

    source: Mapped[str] = mapped_column(String(16), default="upload")  # upload | api | cli | form
    file_format: Mapped[str] = mapped_column(String(8), default="csv")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    column_map: Mapped[dict] = mapped_column(JSON, default=dict)
    # The file's header row, kept so the user can map columns without uploading again.
    headers: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)

    provider = relationship("Provider")
    uploaded_by = relationship("User")
    rows: Mapped[list[CatalogRow]] = relationship(
        back_populates="catalog", cascade="all, delete-orphan", order_by="CatalogRow.row_number"
    )

    def __repr__(self) -> str:
        return f"<CatalogSubmission {self.id} {self.status}>"


class CatalogRow(Base):
    """A parsed row of a submission with its errors and the engine's suggestion (for the preview)."""

    __tablename__ = "catalog_rows"
    __table_args__ = (
        UniqueConstraint("catalog_id", "row_number"),
        Index("ix_catalog_rows_catalog_id_error_count", "catalog_id", "error_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_id: Mapped[int] = mapped_column(ForeignKey("catalogs.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    # Number of errors, so the preview can filter and count without reading JSON in SQL.
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # The row's cells as read from the file (re-parsed when the user maps columns).
    raw: Mapped[list] = mapped_column(JSON, default=list)
    # Remarks that are not errors, e.g. near-duplicate titles ({"kind", "message", ...}).
    notes: Mapped[list] = mapped_column(JSON, default=list)
    suggestion: Mapped[dict] = mapped_column(JSON, default=dict)
    dropped: Mapped[bool] = mapped_column(Boolean, default=False)
    change: Mapped[str] = mapped_column(String(16), default="")  # new | changed | unchanged
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), default=None
    )

    catalog: Mapped[CatalogSubmission] = relationship(back_populates="rows")


class Course(Base):
    """A provider's course and its POST decision. `version` guards against lost updates."""

    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("provider_id", "provider_code"),
        UniqueConstraint("provider_id", "normalised_title"),
        Index("ix_courses_status_approved_until", "status", "approved_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    catalog_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogs.id", ondelete="SET NULL"), default=None
    )
    provider_code: Mapped[str | None] = mapped_column(String(64), default=None)
    title: Mapped[str] = mapped_column(String(500))
    normalised_title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[Decimal] = mapped_column(HoursType)
    delivery: Mapped[str] = mapped_column(String(16), default="in-person")
    url: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    # The engine's latest suggestion (full to_dict() with evidence) and its headline numbers.
    suggestion: Mapped[dict] = mapped_column(JSON, default=dict)
    suggestion_score: Mapped[int] = mapped_column(Integer, default=0)
    suggestion_confident: Mapped[bool] = mapped_column(Boolean, default=False)
    suggested_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)

    # The decision.
    control_number: Mapped[str] = mapped_column(String(64), default="")
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    approved_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    # A provider's change to an approved course that waits for review while the approved version
    # stays published (services/revisions.py); revision_at is set while it waits.
    revision: Mapped[dict | None] = mapped_column(JSON, default=None)
    revision_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None, index=True)

    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    provider = relationship("Provider")
    jurisdiction = relationship("Jurisdiction")
    decided_by = relationship("User")
    categories: Mapped[list[CourseCategory]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def category_rows(self, source: str) -> list[CourseCategory]:
        return [c for c in self.categories if c.source == source]

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r} {self.status}>"


class CourseCategory(Base):
    """An area (with hours) or topic of a course, as suggested by the engine, proposed by the
    provider or decided by staff."""

    __tablename__ = "course_categories"
    __table_args__ = (
        UniqueConstraint("course_id", "source", "category_id"),
        Index("ix_course_categories_category_source", "category_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(16))
    hours: Mapped[Decimal | None] = mapped_column(HoursType, default=None)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    confident: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[list] = mapped_column(JSON, default=list)

    course: Mapped[Course] = relationship(back_populates="categories")
    category = relationship("Category")

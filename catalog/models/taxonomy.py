"""Jurisdictions, their categories and vocabulary, and yearly requirement sets (all staff-editable data)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.db import Base
from catalog.models.types import HoursType

CATEGORY_KINDS = ("area", "topic")
KEYWORD_WEIGHTS = ("strong", "weak", "exclusion", "identifier", "qualifier")


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    regulator: Mapped[str] = mapped_column(String(200), default="")
    course_id_label: Mapped[str] = mapped_column(String(80), default="Control number")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    categories: Mapped[list[Category]] = relationship(
        back_populates="jurisdiction", order_by="Category.sort_order"
    )
    abbreviations: Mapped[list[Abbreviation]] = relationship(
        back_populates="jurisdiction", order_by="Abbreviation.abbreviation"
    )
    requirement_sets: Mapped[list[RequirementSet]] = relationship(
        back_populates="jurisdiction", order_by="RequirementSet.starts_on"
    )

    def __repr__(self) -> str:
        return f"<Jurisdiction {self.code}>"


class Category(Base):
    """An area (hours partition the course) or a topic designation (counted inside the hours)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), default=None)
    default_area_slug: Mapped[str | None] = mapped_column(String(64), default=None)
    live_only: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="categories")
    parent: Mapped[Category | None] = relationship(remote_side=[id])
    keywords: Mapped[list[Keyword]] = relationship(
        back_populates="category", cascade="all, delete-orphan", order_by="Keyword.phrase"
    )

    def phrases(self, weight: str) -> list[str]:
        return [k.phrase for k in self.keywords if k.weight == weight]

    def __repr__(self) -> str:
        return f"<Category {self.slug} ({self.kind})>"


class Keyword(Base):
    """A phrase of a category: strong (decides), weak (adds), exclusion (blocks), identifier, or
    qualifier (a word that makes the category's keyword a modifier of another subject)."""

    __tablename__ = "keywords"
    __table_args__ = (UniqueConstraint("category_id", "weight", "phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    weight: Mapped[str] = mapped_column(String(16))
    phrase: Mapped[str] = mapped_column(String(200))

    category: Mapped[Category] = relationship(back_populates="keywords")

    def __repr__(self) -> str:
        return f"<Keyword {self.weight} {self.phrase!r}>"


class Abbreviation(Base):
    __tablename__ = "abbreviations"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "abbreviation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    abbreviation: Mapped[str] = mapped_column(String(40))
    expansion: Mapped[str] = mapped_column(String(200))

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="abbreviations")


class RequirementSet(Base):
    """What an officer needs in one period (e.g. CLEE 2025: 24 h, calendar year, grace to Mar 15)."""

    __tablename__ = "requirement_sets"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    period_kind: Mapped[str] = mapped_column(String(32), default="calendar_year")
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    grace_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    total_hours: Mapped[Decimal] = mapped_column(HoursType)
    approved_provider_min_hours: Mapped[Decimal | None] = mapped_column(HoursType, default=None)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="requirement_sets")
    requirements: Mapped[list[Requirement]] = relationship(
        back_populates="requirement_set", cascade="all, delete-orphan", order_by="Requirement.id"
    )

    def __repr__(self) -> str:
        return f"<RequirementSet {self.name}>"


class Requirement(Base):
    """A minimum within a requirement set, optionally limited to some delivery modes."""

    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("requirement_set_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_set_id: Mapped[int] = mapped_column(
        ForeignKey("requirement_sets.id", ondelete="CASCADE")
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    min_hours: Mapped[Decimal] = mapped_column(HoursType)
    counts_within_total: Mapped[bool] = mapped_column(Boolean, default=True)
    delivery_modes: Mapped[list] = mapped_column(JSON, default=list)
    applies_to: Mapped[str] = mapped_column(String(200), default="")

    requirement_set: Mapped[RequirementSet] = relationship(back_populates="requirements")
    category: Mapped[Category] = relationship()

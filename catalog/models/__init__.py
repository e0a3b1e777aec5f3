"""Every model, re-exported so Alembic and callers see one namespace."""

from catalog.models.audit import AuditEntry, LoginFailure
from catalog.models.course import (
    CATEGORY_SOURCES,
    COURSE_STATUSES,
    DELIVERY_MODES,
    LIVE_DELIVERY_MODES,
    CatalogRow,
    CatalogSubmission,
    Course,
    CourseCategory,
)
from catalog.models.people import PROVIDER_KINDS, ROLES, ApiToken, Provider, User
from catalog.models.taxonomy import (
    CATEGORY_KINDS,
    KEYWORD_WEIGHTS,
    Abbreviation,
    Category,
    Jurisdiction,
    Keyword,
    Requirement,
    RequirementSet,
)

__all__ = [
    "CATEGORY_KINDS",
    "CATEGORY_SOURCES",
    "COURSE_STATUSES",
    "DELIVERY_MODES",
    "KEYWORD_WEIGHTS",
    "LIVE_DELIVERY_MODES",
    "PROVIDER_KINDS",
    "ROLES",
    "Abbreviation",
    "ApiToken",
    "AuditEntry",
    "CatalogRow",
    "CatalogSubmission",
    "Category",
    "Course",
    "CourseCategory",
    "Jurisdiction",
    "Keyword",
    "LoginFailure",
    "Provider",
    "Requirement",
    "RequirementSet",
    "User",
]

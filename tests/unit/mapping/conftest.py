"""Fixtures for the matcher tests: the Missouri taxonomy and one engine (no app, no database)."""

from __future__ import annotations

import pytest

from mapping import Engine, Taxonomy, default_taxonomy_path


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(default_taxonomy_path())


@pytest.fixture(scope="session")
def engine(taxonomy: Taxonomy) -> Engine:
    return Engine(taxonomy)

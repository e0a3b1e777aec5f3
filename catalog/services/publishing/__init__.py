"""The published list: its query, search, facets, SQL and the requirement finder."""

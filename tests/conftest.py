"""Shared fixtures. Tests run on real PostgreSQL and Redis (see README: running the tests)."""

"""Alembic migrations for Lodestar (shipped inside the package so `lodestar migrate` works)."""

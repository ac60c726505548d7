"""Alembic migrations for the store's schema."""

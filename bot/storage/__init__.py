"""Persistence: SQLAlchemy async engine, tables and repositories."""

"""Understand: a question into typed frames (units, years, items, columns, operation)."""

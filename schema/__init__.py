"""The GraphQL surface (strawberry): types, queries, error codes."""

from schema.api import build_schema

__all__ = ["build_schema"]

"""The error codes every surface answers with: GraphQL's `extensions.code`, the HTTP reports' JSON `code`.

Each error also carries a message in Chinese and English; these names are the part clients branch on.
"""

from __future__ import annotations

BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
FORBIDDEN = "FORBIDDEN"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
INTERNAL = "INTERNAL_SERVER_ERROR"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
RATE_LIMITED = "RATE_LIMITED"

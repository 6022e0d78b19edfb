"""The service's log lines: one line per event, `key=value` (logfmt), with no query strings in the access log.

The rule: a log line never spans lines (a traceback is one escaped `exc="…"` value), so a line is an event that
tools can split on; and nothing a client sent as data is printed — an HTTP access line shows the path without its
query string (a GET to /graphql carries its variables there). Personal numbers that reach a message anyway are
masked by `core.privacy.RedactingFilter`, which every handler carries beside this formatter.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime


def _quoted(value: str) -> str:
    """A logfmt value: bare when it is one plain word, else double-quoted with `\\`, `"` and line breaks escaped."""
    if value and not any(c in value for c in ' ="\\\n\r\t'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


#: uvicorn's access records: their arguments, by name.
ACCESS_FIELDS = ("client", "method", "path", "http", "status")


class KeyValueFormatter(logging.Formatter):
    """`ts=… level=… logger=… msg="…" [exc="…"]`, always on one line; an access record as its own keys
    (`client=… method=… path=… http=… status=…`)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        parts = [f"ts={stamp}", f"level={record.levelname}", f"logger={record.name}"]
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == len(ACCESS_FIELDS):
            parts += [f"{key}={_quoted(str(value))}" for key, value in zip(ACCESS_FIELDS, args, strict=True)]
        else:
            parts.append(f"msg={_quoted(record.getMessage())}")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(f"exc={_quoted(record.exc_text)}")
        if record.stack_info:
            parts.append(f"stack={_quoted(self.formatStack(record.stack_info))}")
        return " ".join(parts)


class NoQueryStrings(logging.Filter):
    """uvicorn's access log without query strings: its record's arguments are (client, method, path, version,
    status); the path is cut at `?`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Cut the path argument of an access record; never drops a record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True

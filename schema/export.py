"""`schema.graphql`, exported from the code (run `python -m schema.export`; a test checks it is current)."""

from __future__ import annotations

import sys

from graph.settings import PROJECT_ROOT
from schema.api import build_schema

SDL = PROJECT_ROOT / "schema.graphql"


def render() -> str:
    """The schema in SDL, with a trailing newline."""
    return build_schema().as_str() + "\n"


def main() -> None:
    """Write schema.graphql (or, with --check, exit 1 when it differs from the code)."""
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if SDL.exists() and SDL.read_text(encoding="utf-8") == text else 1)
    SDL.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

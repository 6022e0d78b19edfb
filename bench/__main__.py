"""`python -m bench [startup] [make-test] [load-small] [load-city] [load-province] [writes] [api] [access] [page]`:
run, write docs/benchmarks.md. `page --page-profile small` measures the page on the small city instead of the city."""

from __future__ import annotations

import argparse
import logging

from bench import access, api, load, page, startup, writes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    choices = ["startup", "make-test", "load-small", "load-city", "load-province", "writes", "api", "access", "page"]
    parser.add_argument("names", nargs="*", default=["startup", "load-city"], choices=choices)
    parser.add_argument("--page-profile", default="city", choices=["small", "city", "province"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if "startup" in args.names or "make-test" in args.names:
        startup.main(with_startup="startup" in args.names, with_make_test="make-test" in args.names)
    profiles = [n.removeprefix("load-") for n in args.names if n.startswith("load-")]
    if profiles:
        load.main(profiles)
    if "writes" in args.names:
        writes.main()
    if "api" in args.names:
        api.main()
    if "access" in args.names:
        access.main()
    if "page" in args.names:
        page.main(args.page_profile)


if __name__ == "__main__":
    main()

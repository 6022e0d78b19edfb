"""`python -m bench [startup] [make-test] [load-small] [load-city] [load-province] [writes] [api] [history] [access]
[page] [traffic] [recovery]`: run, write docs/benchmarks.md. `page --page-profile small` measures the page on the small city instead of
the city. `traffic --quick --traffic-profile small` is a check run of the traffic benchmark (it writes nothing)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bench import access, api, history, load, page, recovery, startup, traffic, writes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    choices = [
        "startup",
        "make-test",
        "load-small",
        "load-city",
        "load-province",
        "writes",
        "api",
        "history",
        "access",
        "page",
        "traffic",
        "recovery",
    ]
    parser.add_argument("names", nargs="*", default=["startup", "load-city"], choices=choices)
    parser.add_argument("--page-profile", default="city", choices=["small", "city", "province"])
    parser.add_argument("--traffic-profile", default="city", choices=["small", "city"])
    parser.add_argument("--quick", action="store_true", help="traffic: short phases, results printed, not written")
    parser.add_argument("--seconds", type=float, default=None, help="traffic: seconds per phase (default 60; quick 10)")
    parser.add_argument("--traffic-users", default="20,100", help="traffic: the two numbers of users (default 20,100)")
    parser.add_argument("--store", type=Path, default=None, help="traffic: keep the loaded store here between runs")
    parser.add_argument("--think", type=float, default=traffic.THINK, help="traffic: a user's mean think time, s")
    parser.add_argument("--label", default="current", help="traffic: the name the run is kept under (before, after…)")
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
    if "history" in args.names:
        history.main()
    if "access" in args.names:
        access.main()
    if "page" in args.names:
        page.main(args.page_profile)
    if "traffic" in args.names:
        traffic.main(
            args.traffic_profile, args.quick, args.seconds, args.store, args.label, args.traffic_users, args.think
        )
    if "recovery" in args.names:
        recovery.main()


if __name__ == "__main__":
    main()

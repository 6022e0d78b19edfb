"""`python -m bench [startup] [make-test]`: run benchmarks, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import logging

from bench import startup


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=["startup"], choices=["startup", "make-test"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    startup.main(with_make_test="make-test" in args.names)


if __name__ == "__main__":
    main()

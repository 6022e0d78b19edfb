"""API benchmark on the `city` profile, side by side with @neo4j/graphql on the same Neo4j and data.

One command (`python -m bench api`): generate the city, load it into a fresh local Neo4j through
`grassroots load`, serve our app with uvicorn and the peer (web/peer/neo4j-graphql.mjs, graphql-yoga)
with Node, then time the same requests over HTTP on loopback, interleaved so both see the same
noise. Medians and p95 of RUNS requests after WARMUP; ratios are ours / peer in the same run.
With NEO4J_URI set, the database there is used as it is (it must hold the city profile).
Our requests are signed in as an admin of the whole city (`bench.signin`: the account is made in the
benchmark's database, its bearer token signed by the started service's own data directory).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bench.database import profile_database
from bench.report import write_section
from bench.signin import Account, bearer, ensure, first_city
from core.access import Role
from core.model import GAP_KINDS
from graph.local import free_port
from graph.settings import PROJECT_ROOT, Settings

RUNS = 25
WARMUP = 3
#: The account our requests are signed in as: an admin of the whole city.
ADMIN = "bench-admin"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def _ours(uri: str, password: str, data_dir: Path) -> Iterator[str]:
    from server import create_app

    # One account sends every request, back to back: its per-minute shares (database time, cost) are lifted, as
    # this measures a request's speed; `bench traffic` measures the shares among many accounts.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        NEO4J_URI=uri,
        NEO4J_PASSWORD=password,
        GRASSROOTS_DATA_DIR=data_dir,
        GRASSROOTS_ACCOUNT_DB_SECONDS=0,
        GRASSROOTS_COST_PER_MINUTE=0,
        # The benchmarks warm up with rounds of their own: the service's background read of the store
        # (graph/warmup.py) would run into their measured rounds.
        GRASSROOTS_WARM_UP=False,
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _peer(uri: str, password: str, jwt_key: str | None = None) -> Iterator[str]:
    """The @neo4j/graphql peer; with `jwt_key`, its own @authorization on (web/peer/neo4j-graphql.mjs)."""
    port = free_port()
    env = {**os.environ, "NEO4J_URI": uri, "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": password, "PORT": str(port)}
    env.pop("PEER_JWT_KEY", None)
    if jwt_key is not None:
        env["PEER_JWT_KEY"] = jwt_key
    proc = subprocess.Popen(
        ["node", "peer/neo4j-graphql.mjs"],
        cwd=PROJECT_ROOT / "web",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"the @neo4j/graphql peer did not start: {line}{proc.stdout.read()[:2000]}")
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _post(
    client: httpx.Client,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[float, dict[str, Any]]:
    """One request: seconds it took, and its data (any error stops the benchmark)."""
    t0 = time.perf_counter()
    response = client.post(url, json={"query": query, "variables": variables or {}}, headers=headers)
    elapsed = time.perf_counter() - t0
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{url}: {str(body)[:500]}")
    return elapsed, body["data"]


def _time(calls: dict[str, Callable[[], tuple[float, Any]]]) -> dict[str, list[float]]:
    """Interleave the calls RUNS times after WARMUP rounds; seconds per call name."""
    for _ in range(WARMUP):
        for call in calls.values():
            call()
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(RUNS):
        for name, call in calls.items():
            out[name].append(call()[0])
    return out


def _queries(client: httpx.Client, ours: str) -> dict[str, str]:
    city = _post(client, ours, "{ cities { code } }")[1]["cities"][0]["code"]
    street = _post(client, ours, '{ city(code: "%s") { districts { streets { code } } } }' % city)[1]
    street_code = street["city"]["districts"][0]["streets"][0]["code"]
    communities = _post(client, ours, '{ street(code: "%s") { communities { code } } }' % street_code)[1]
    community = communities["street"]["communities"][0]["code"]
    household = _post(client, ours, '{ gaps(scope: "%s", kinds: [household_without_central_household], first: 1) '
                      "{ edges { node { entity { code } } } } }" % community)[1]  # fmt: skip
    return {"city": city, "street": street_code, "community": community,
            "household": household["gaps"]["edges"][0]["node"]["entity"]["code"]}  # fmt: skip


NESTED_OURS = (
    '{ street(code: "%s") { name communities { name grids { name gridBranches { name buildingGroups { name } } } } } }'
)
NESTED_PEER = (
    '{ streets(where: {code: {eq: "%s"}}) { name communities { name grids { name branches { name groups '
    "{ name } } } } } }"
)
COUNTS_OURS = (
    '{ coverage(scope: "%s", metrics: [compounds, buildings, groups, households]) '
    "{ scope { figures { metric units covered } } } }"
)
_ANY = '{code: {startsWith: ""}}'
COUNTS_PEER = (
    '{ c: compoundsConnection(where: {cityCode: {eq: "%(c)s"}}) { aggregate { count { nodes } } }'
    ' cc: compoundsConnection(where: {cityCode: {eq: "%(c)s"}, OR: [{branches: {some: %(any)s}},'
    " {grids: {some: {branches: {some: %(any)s}}}}]}) { aggregate { count { nodes } } }"
    ' b: buildingsConnection(where: {cityCode: {eq: "%(c)s"}}) { aggregate { count { nodes } } }'
    ' bc: buildingsConnection(where: {cityCode: {eq: "%(c)s"}, groups: {some: %(any)s}}) { aggregate { count { nodes } } }'
    " g: buildingGroupsConnection { aggregate { count { nodes } } }"
    " gc: buildingGroupsConnection(where: {centralHouseholds: {some: %(any)s}}) { aggregate { count { nodes } } }"
    ' h: householdsConnection(where: {cityCode: {eq: "%(c)s"}}) { aggregate { count { nodes } } }'
    ' hc: householdsConnection(where: {cityCode: {eq: "%(c)s"}, OR: [{contactedBy: {some: %(any)s}},'
    " {centralHere: {some: %(any)s}}]}) { aggregate { count { nodes } } } }"
)


def _peer_counts(data: dict[str, Any]) -> dict[str, tuple[int, int]]:
    n = {k: v["aggregate"]["count"]["nodes"] for k, v in data.items()}
    return {"compounds": (n["c"], n["cc"]), "buildings": (n["b"], n["bc"]), "groups": (n["g"], n["gc"]),
            "households": (n["h"], n["hc"])}  # fmt: skip


def run() -> dict[str, Any]:
    """Measure; return the numbers (also written to docs/benchmarks.md)."""
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, profile_database(Path(tmp), "city") as db:
        uri, password, facts = db.uri, db.password, db.manifest
        data_dir = Path(tmp) / "data"
        ensure(uri, password, Account(ADMIN, Role.ADMIN, first_city(uri, password)))
        headers = bearer(data_dir, ADMIN)  # sent to the peer too, which ignores it
        with (
            _ours(uri, password, data_dir) as ours,
            _peer(uri, password) as peer,
            httpx.Client(timeout=120, headers=headers) as client,
        ):
            q = _queries(client, ours)
            ours_counts = {f["metric"]: (f["units"], f["covered"]) for f in
                           _post(client, ours, COUNTS_OURS % q["city"])[1]["coverage"]["scope"]["figures"]}  # fmt: skip
            peer_counts = _peer_counts(_post(client, peer, COUNTS_PEER % {"c": q["city"], "any": _ANY})[1])
            if ours_counts != peer_counts:
                raise RuntimeError(f"the two servers disagree: ours {ours_counts}, peer {peer_counts}")
            counted = _post(client, ours, '{ gaps(scope: "%s", first: 0) { counts { kind count } } }' % q["city"])[1]
            gap_counts = {c["kind"]: c["count"] for c in counted["gaps"]["counts"]}
            if facts is not None and gap_counts != facts["gaps"]:
                raise RuntimeError(f"gaps differ from the manifest: {gap_counts} vs {facts['gaps']}")
            calls: dict[str, Callable[[], tuple[float, Any]]] = {
                "coverage, whole city": lambda: _post(
                    client,
                    ours,
                    '{ coverage(scope: "%s") { scope { figures '
                    "{ metric units covered rate } } children { area { code name } figures { metric units covered "
                    "rate } } } }" % q["city"],
                ),
                "coverage, one street (per community)": lambda: _post(
                    client,
                    ours,
                    '{ coverage(scope: "%s") '
                    "{ children { area { name } figures { metric units covered } } } }" % q["street"],
                ),
                "coverage, one community (per grid, live)": lambda: _post(
                    client,
                    ours,
                    '{ coverage(scope: "%s") '
                    "{ children { area { name } figures { metric units covered } } } }" % q["community"],
                ),
                "network depth 3 around a community": lambda: _post(
                    client,
                    ours,
                    '{ network(root: "%s", depth: 3) '
                    "{ truncated nodes { id type label gaps households } edges { source target type } } }"
                    % q["community"],
                ),
                "responsibilityChain of a household": lambda: _post(
                    client,
                    ours,
                    '{ responsibilityChain(code: "%s") '
                    "{ links { level organization { name } head { name } } partnerUnits { name } } }" % q["household"],
                ),
                "nested street→…→groups: ours": lambda: _post(client, ours, NESTED_OURS % q["street"]),
                "nested street→…→groups: @neo4j/graphql": lambda: _post(client, peer, NESTED_PEER % q["street"]),
                "4 coverage counts, city: ours": lambda: _post(client, ours, COUNTS_OURS % q["city"]),
                "4 coverage counts, city: @neo4j/graphql": lambda: _post(
                    client, peer, COUNTS_PEER % {"c": q["city"], "any": _ANY}
                ),
            }
            for kind in GAP_KINDS:
                calls[f"gaps first page: {kind}"] = lambda kind=kind: _post(
                    client,
                    ours,
                    '{ gaps(scope: "%s", kinds: [%s], first: 50) { totalCount '
                    "edges { node { entity { code name } street { name } community { name } grid { name } "
                    "responsible { name } } } } }" % (q["city"], kind),
                )
            times = _time(calls)
    return {
        "times": times,
        "counts": ours_counts,
        "codes": q,
        "gaps": gap_counts,
        "manifest_checked": facts is not None,
    }


def main() -> None:
    result = run()
    times = result["times"]
    rows = ["| request | p50 | p95 | target |", "|---|---|---|---|"]
    targets = {"coverage, whole city": 0.300, "nested street→…→groups: ours": 0.200}
    for name, values in times.items():
        if name.startswith("gaps first page"):
            continue
        target = targets.get(name)
        mark = "" if target is None else (f"≤ {target * 1000:.0f} ms " + ("✔" if _p(values, 0.5) <= target else "✘"))
        rows.append(f"| {name} | {_p(values, 0.5) * 1000:.0f} ms | {_p(values, 0.95) * 1000:.0f} ms | {mark} |")
    gaps = {k.removeprefix("gaps first page: "): v for k, v in times.items() if k.startswith("gaps first page")}
    gap_rows = ["| gap kind | p50 | p95 |", "|---|---|---|"]
    gap_rows += [f"| `{k}` | {_p(v, 0.5) * 1000:.0f} ms | {_p(v, 0.95) * 1000:.0f} ms |" for k, v in gaps.items()]
    nested = statistics.median(times["nested street→…→groups: ours"]) / statistics.median(
        times["nested street→…→groups: @neo4j/graphql"]
    )
    counts = statistics.median(times["4 coverage counts, city: ours"]) / statistics.median(
        times["4 coverage counts, city: @neo4j/graphql"]
    )
    body = "\n".join(
        [
            "## GraphQL API / 接口 (city profile)",
            "",
            f"`python -m bench api`: the city profile loaded into a fresh local Neo4j; our service (uvicorn) and "
            f"the peer, @neo4j/graphql 7.6.3 on graphql-yoga (web/peer/neo4j-graphql.mjs), on the same Neo4j; HTTP on "
            f"loopback, ours signed in as an admin of the whole city (a bearer token; its per-minute shares of "
            f"database time and cost lifted, as one account sends everything), requests interleaved, {RUNS} "
            f"timed after {WARMUP} warm-up rounds each.",
            "",
            *rows,
            "",
            f"**Ratios, ours / @neo4j/graphql, same run (lower is better):** nested street query **{nested:.2f}**; "
            f"four whole-city coverage counts **{counts:.3f}** — ours sums the communities' coverage rollups (kept "
            "current by every load and edit), the peer counts live; both return the same numbers, checked in the run: "
            + ", ".join(f"{k} {c}/{u}" for k, (u, c) in result["counts"].items())
            + ".",
            "",
            (
                "`gaps` counted every injected gap of the generated city exactly, kind by kind (checked against its "
                "manifest in the run): "
                if result["manifest_checked"]
                else "Gap counts: "
            )
            + ", ".join(f"{k} {v:,}" for k, v in result["gaps"].items())
            + ".",
            "",
            "First page (50) of each gap kind over the whole city:",
            "",
            *gap_rows,
        ]
    )
    write_section("api", body)
    print(body)
    json.dump({k: v for k, v in result.items() if k != "times"}, sys.stdout, ensure_ascii=False)

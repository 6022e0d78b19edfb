"""Access-control benchmark: what reading as a street's viewer costs beside reading as the city's admin.

One command (`python -m bench access`): the city profile loaded into a fresh local Neo4j (or NEO4J_URI as it is),
two accounts added to it — an admin of the whole city and a `viewer` of one street — and the same requests,
the same documents with the same variables, sent as each, alternated request by request (which caller goes
first alternates every round) so both see the same noise. Every request lies inside the street: both callers get
the same answer (checked in the run), and the only difference is the scope in the Cypher (`graph.entities.in_scope`
and `node_map` for the street's viewer, the city's for the admin). Medians of RUNS rounds after WARMUP; the ratio
is viewer / admin per request and, overall, their geometric mean.

Beside it, @neo4j/graphql (web/peer/neo4j-graphql.mjs) on the same Neo4j, with its own `@authorization` filtering
on the same rule (an HS256 JWT whose `streetCode` claim is the viewer's street; every area-bound type filtered on
`streetCode`) and without it, with the equivalent requests (the same rows, checked in the run against ours).
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt

from access.accounts import account_of
from access.tokens import Signer, secret
from bench.api import ADMIN, _ours, _peer, _post
from bench.database import profile_database
from bench.report import write_section
from bench.signin import TTL, Account, bearer, ensure, first_city
from core.access import Role
from graph.driver import Graph
from graph.settings import Settings

RUNS = 100
WARMUP = 5
#: Times the sign-in steps are measured in-process.
SIGN_IN_RUNS = 500
#: The street's viewer (the admin of the whole city is `bench.api.ADMIN`).
VIEWER = "bench-viewer"
#: The goal: reading as the street's viewer costs at most 10 % more than reading as the city's admin.
GOAL = 1.10

Canon = Callable[[dict[str, Any]], Any]


def _same(data: dict[str, Any]) -> Any:
    return data


@dataclass(frozen=True)
class Request:
    """One request, ours and (where @neo4j/graphql can ask it) the peer's, with what both return made comparable."""

    name: str
    ours: str
    variables: tuple[str, ...]  # keys of the run's codes (`_codes`), passed as the variables of the same names
    peer: str | None = None
    ours_canon: Canon = _same
    peer_canon: Canon = _same


# ---------------------------------------------------------------- the requests

COMMUNITY = "query($community: String!) { community(code: $community) { code name } }"
COMMUNITY_PEER = "query($community: String!) { communities(where: {code: {eq: $community}}) { code name } }"

BUILDING = "query($building: String!) { building(code: $building) { code name households { code room } } }"
BUILDING_PEER = (
    "query($building: String!) { buildings(where: {code: {eq: $building}}) "
    "{ code name households(sort: [{code: ASC}]) { code room } } }"
)

STREET = (
    "query($street: String!) { street(code: $street) { name communities { name grids { name "
    "gridBranches { name buildingGroups { name } } } } } }"
)
_BY_CODE = "(sort: [{code: ASC}])"
STREET_PEER = (
    "query($street: String!) { streets(where: {code: {eq: $street}}) { name communities%(s)s { name grids%(s)s "
    "{ name gridBranches: branches%(s)s { name buildingGroups: groups%(s)s { name } } } } } }" % {"s": _BY_CODE}
)

COMMUNITY_DEEP = (
    "query($community: String!) { community(code: $community) { name grids { name gridBranches { name "
    "buildingGroups { name centralHouseholds { code name } } } } } }"
)
COMMUNITY_DEEP_PEER = (
    "query($community: String!) { communities(where: {code: {eq: $community}}) { name grids%(s)s { name "
    "gridBranches: branches%(s)s { name buildingGroups: groups%(s)s { name centralHouseholds%(s)s { code name } } } "
    "} } }" % {"s": _BY_CODE}
)

#: The page's own search (web/static/app/api.js SEARCH), for a community's name.
SEARCH = (
    "query($name: String!) { search(name: $name, types: [Street, Community, Grid], first: 20) "
    "{ totalCount edges { node { code type typeName label } } } }"
)
_NAMED = "(where: {name: {contains: $name}}, sort: [{code: ASC}], limit: 20) { code name }"
_COUNT = "(where: {name: {contains: $name}}) { aggregate { count { nodes } } }"
SEARCH_PEER = (
    f"query($name: String!) {{ streets{_NAMED} communities{_NAMED} grids{_NAMED} "
    f"s: streetsConnection{_COUNT} c: communitiesConnection{_COUNT} g: gridsConnection{_COUNT} }}"
)

PREFIX = (
    "query($prefix: String!) { search(codePrefix: $prefix, types: [Compound], first: 50) "
    "{ totalCount edges { node { code label } } } }"
)
PREFIX_PEER = (
    "query($prefix: String!) { compounds(where: {code: {startsWith: $prefix}}, sort: [{code: ASC}], limit: 50) "
    "{ code name } n: compoundsConnection(where: {code: {startsWith: $prefix}}) { aggregate { count { nodes } } } }"
)

#: The page's drawing of a community (web/static/app/api.js NETWORK, its default depth and budget).
NETWORK = (
    "query($community: String!) { network(root: $community, depth: 3, maxNodes: 1000, households: false) { "
    "root truncated nodes { id code type typeName label level depth gaps households householdsWithoutCentral } "
    "edges { id source target type } } }"
)

#: The page's coverage of the street (web/static/app/api.js COVERAGE, without asOf: a run may cross midnight).
COVERAGE = (
    "query($street: String!) { coverage(scope: $street) { "
    "scope { level area { code name } figures { metric description units covered uncovered rate gapKind } } "
    "children { level area { code name } figures { metric units covered uncovered rate gapKind } } } }"
)
COVERAGE_LIVE = (
    "query($community: String!) { coverage(scope: $community) { "
    "children { area { name } figures { metric units covered } } } }"
)
COUNTS = (
    "query($street: String!) { coverage(scope: $street, metrics: [compounds, buildings, groups, households]) "
    "{ scope { figures { metric units covered } } } }"
)
_ANY = '{code: {startsWith: ""}}'
_IN = "streetCode: {eq: $street}"
COUNTS_PEER = (
    f"query($street: String!) {{ c: compoundsConnection(where: {{{_IN}}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" cc: compoundsConnection(where: {{{_IN}, OR: [{{branches: {{some: {_ANY}}}}},"
    f" {{grids: {{some: {{branches: {{some: {_ANY}}}}}}}}}]}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" b: buildingsConnection(where: {{{_IN}}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" bc: buildingsConnection(where: {{{_IN}, groups: {{some: {_ANY}}}}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" g: buildingGroupsConnection(where: {{{_IN}}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" gc: buildingGroupsConnection(where: {{{_IN}, centralHouseholds: {{some: {_ANY}}}}})"
    " { aggregate { count { nodes } } }"
    f" h: householdsConnection(where: {{{_IN}}}) {{ aggregate {{ count {{ nodes }} }} }}"
    f" hc: householdsConnection(where: {{{_IN}, OR: [{{contactedBy: {{some: {_ANY}}}}},"
    f" {{centralHere: {{some: {_ANY}}}}}]}}) {{ aggregate {{ count {{ nodes }} }} }} }}"
)
GAPS = (
    "query($street: String!) { gaps(scope: $street, first: 50) { totalCount counts { kind count } "
    "edges { node { entity { code name } community { name } grid { name } rule responsible { name } } } } }"
)
#: The page's responsibility chain (web/static/app/api.js CHAIN), of a household, in the caller's own scope.
CHAIN = (
    "query($household: String!) { responsibilityChain(code: $household) { complete "
    "subject { type typeName code name } street { code name } community { code name } compound { code name } "
    "links { level levelName broken organization { type typeName code name } head { name role } } "
    "partnerUnits { code name kind reportedOn committeeMember services hours } } }"
)
#: A signed-in request that reads nothing: what signing in costs every request (token, account read).
FLOOR = "{ __typename }"
FLOOR_NAME = "signed-in floor: { __typename }"
COUNTS_NAME = "4 coverage counts of the street"


def _first(key: str) -> Canon:
    return lambda data: data[key][0] if data[key] else None


def _search_ours(data: dict[str, Any]) -> Any:
    found = data["search"]
    return found["totalCount"], sorted(e["node"]["code"] for e in found["edges"])


def _search_peer(data: dict[str, Any]) -> Any:
    total = sum(data[k]["aggregate"]["count"]["nodes"] for k in ("s", "c", "g"))
    return total, sorted(row["code"] for k in ("streets", "communities", "grids") for row in data[k])


def _prefix_ours(data: dict[str, Any]) -> Any:
    found = data["search"]
    return found["totalCount"], [(e["node"]["code"], e["node"]["label"]) for e in found["edges"]]


def _prefix_peer(data: dict[str, Any]) -> Any:
    return data["n"]["aggregate"]["count"]["nodes"], [(r["code"], r["name"]) for r in data["compounds"]]


def _counts_ours(data: dict[str, Any]) -> Any:
    return {f["metric"]: (f["units"], f["covered"]) for f in data["coverage"]["scope"]["figures"]}


def _counts_peer(data: dict[str, Any]) -> Any:
    n = {k: v["aggregate"]["count"]["nodes"] for k, v in data.items()}
    return {"compounds": (n["c"], n["cc"]), "buildings": (n["b"], n["bc"]), "groups": (n["g"], n["gc"]),
            "households": (n["h"], n["hc"])}  # fmt: skip


REQUESTS: tuple[Request, ...] = (
    Request("look-up: a community by code", COMMUNITY, ("community",), COMMUNITY_PEER,
            lambda d: d["community"], _first("communities")),
    Request("nested: a building → its households", BUILDING, ("building",), BUILDING_PEER,
            lambda d: d["building"], _first("buildings")),
    Request("nested: street → communities → grids → branches → groups", STREET, ("street",), STREET_PEER,
            lambda d: d["street"], _first("streets")),
    Request("nested: community → grids → branches → groups → central households", COMMUNITY_DEEP, ("community",),
            COMMUNITY_DEEP_PEER, lambda d: d["community"], _first("communities")),
    Request("search: a community's name (the page's search)", SEARCH, ("name",), SEARCH_PEER, _search_ours,
            _search_peer),
    Request("search: compounds by code prefix", PREFIX, ("prefix",), PREFIX_PEER, _prefix_ours, _prefix_peer),
    Request(COUNTS_NAME, COUNTS, ("street",), COUNTS_PEER, _counts_ours, _counts_peer),
    Request("network depth 3 around a community (the page's)", NETWORK, ("community",)),
    Request("coverage of the street, per community (the page's)", COVERAGE, ("street",)),
    Request("coverage of a community, per grid (live)", COVERAGE_LIVE, ("community",)),
    Request("gaps of the street, first page", GAPS, ("street",)),
    Request("responsibilityChain of a household (the page's)", CHAIN, ("household",)),
)  # fmt: skip


# ---------------------------------------------------------------- the run


def _codes(client: httpx.Client, ours: str, admin: dict[str, str]) -> dict[str, str]:
    """The street (the first of the first district, as the API benchmark's) and what the requests name in it."""

    def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return _post(client, ours, query, variables, admin)[1]

    city = ask("{ cities { code } }")["cities"][0]["code"]
    tree = ask("query($c: String!) { city(code: $c) { districts { streets { code } } } }", {"c": city})
    street = tree["city"]["districts"][0]["streets"][0]["code"]
    communities = ask("query($s: String!) { street(code: $s) { communities { code name } } }", {"s": street})
    community = communities["street"]["communities"][0]["code"]
    name = next(  # a community's name found once in the whole city: the same answer for both callers
        c["name"]
        for c in communities["street"]["communities"]
        if ask(SEARCH, {"name": c["name"]})["search"]["totalCount"] == 1
    )
    gap = ask("query($c: String!) { gaps(scope: $c, kinds: [household_without_central_household], first: 1) "
              "{ edges { node { entity { code } } } } }", {"c": community})  # fmt: skip
    grids = ask("query($c: String!) { community(code: $c) { grids { buildings { code } } } }", {"c": community})
    return {
        "city": city,
        "street": street,
        "community": community,
        "name": name,
        "prefix": f"XQ-{street[:9]}",  # compounds' codes: XQ-<community code>-NN; a street's communities share 9 digits
        "household": gap["gaps"]["edges"][0]["node"]["entity"]["code"],
        "building": next(b["code"] for g in grids["community"]["grids"] for b in g["buildings"]),
    }


def _peer_token(key: str, street: str) -> dict[str, str]:
    """The peer's bearer token for the street's viewer: the same rule, as a claim @authorization reads."""
    now = datetime.now(UTC)
    claims = {"sub": VIEWER, "streetCode": street, "iat": now, "exp": now + TTL}
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='HS256')}"}


@dataclass
class Servers:
    """Where each side answers, and the headers each caller sends."""

    client: httpx.Client
    ours: str
    peer_off: str
    peer_on: str
    admin: dict[str, str]
    viewer: dict[str, str]
    peer_viewer: dict[str, str]


def _calls(s: Servers, codes: dict[str, str]) -> dict[str, dict[str, Callable[[], tuple[float, Any]]]]:
    """request name → side → the call: ours as admin and as viewer; the peer without and with authorization."""
    out: dict[str, dict[str, Callable[[], tuple[float, Any]]]] = {}
    for r in (*REQUESTS, Request(FLOOR_NAME, FLOOR, ())):
        variables = {v: codes[v] for v in r.variables}
        sides: dict[str, Callable[[], tuple[float, Any]]] = {
            "admin": lambda r=r, v=variables: _post(s.client, s.ours, r.ours, v, s.admin),
            "viewer": lambda r=r, v=variables: _post(s.client, s.ours, r.ours, v, s.viewer),
        }
        if r.peer is not None:
            sides["peer off"] = lambda r=r, v=variables: _post(s.client, s.peer_off, r.peer, v, s.peer_viewer)  # type: ignore[arg-type]
            sides["peer on"] = lambda r=r, v=variables: _post(s.client, s.peer_on, r.peer, v, s.peer_viewer)  # type: ignore[arg-type]
        out[r.name] = sides
    return out


def _check(calls: dict[str, dict[str, Callable[[], tuple[float, Any]]]]) -> dict[str, int]:
    """Both callers get the same answer; the peer the same with and without authorization, and the same rows as
    ours. Returns, per request, the size of its answer (JSON characters) as a reminder of what it reads."""
    by_name = {r.name: r for r in REQUESTS}
    sizes = {}
    for name, sides in calls.items():
        answers = {side: call()[1] for side, call in sides.items()}
        if answers["admin"] != answers["viewer"]:
            raise RuntimeError(f"{name}: the admin and the street's viewer got different answers")
        sizes[name] = len(json.dumps(answers["admin"], ensure_ascii=False))
        if "peer on" not in answers:
            continue
        if answers["peer off"] != answers["peer on"]:
            raise RuntimeError(f"{name}: the peer answers differently with authorization on")
        r = by_name[name]
        ours, theirs = r.ours_canon(answers["viewer"]), r.peer_canon(answers["peer on"])
        if ours != theirs:
            raise RuntimeError(f"{name}: ours and the peer's differ: {str(ours)[:300]} vs {str(theirs)[:300]}")
    return sizes


def _time(calls: dict[str, dict[str, Callable[[], tuple[float, Any]]]]) -> dict[str, dict[str, list[float]]]:
    """RUNS rounds after WARMUP: each request on every side back to back — our two callers, then the peer off and
    on — each pair's order reversed every other round, so each side of a pair takes each place equally often."""
    out: dict[str, dict[str, list[float]]] = {name: {side: [] for side in sides} for name, sides in calls.items()}
    for round_ in range(WARMUP + RUNS):
        for name, sides in calls.items():
            for pair in (("admin", "viewer"), ("peer off", "peer on")):
                for side in pair if round_ % 2 == 0 else reversed(pair):
                    if side not in sides:
                        continue
                    elapsed = sides[side]()[0]
                    if round_ >= WARMUP:
                        out[name][side].append(elapsed)
    return out


def _sign_in_cost(uri: str, password: str, data_dir: Path) -> dict[str, float]:
    """Seconds, in-process (medians of SIGN_IN_RUNS): checking a bearer token, reading its account as it is now
    (what `access.web.Authenticator` does for every request), and an empty read transaction for comparison."""

    async def measure() -> dict[str, float]:
        graph = Graph(Settings(_env_file=None, NEO4J_URI=uri, NEO4J_PASSWORD=password))  # type: ignore[call-arg]
        signer = Signer(secret(data_dir))
        token = signer.issue(VIEWER, TTL)
        out: dict[str, list[float]] = {"token": [], "account": [], "empty": []}
        try:
            for round_ in range(SIGN_IN_RUNS + WARMUP):
                t0 = time.perf_counter()
                claims = signer.check(token)
                t1 = time.perf_counter()
                await account_of(graph, claims)
                t2 = time.perf_counter()
                await graph.read_rows("RETURN 1 AS ok")
                t3 = time.perf_counter()
                if round_ >= WARMUP:
                    out["token"].append(t1 - t0)
                    out["account"].append(t2 - t1)
                    out["empty"].append(t3 - t2)
        finally:
            await graph.close()
        return {k: statistics.median(v) for k, v in out.items()}

    return asyncio.run(measure())


def run() -> dict[str, Any]:
    """Measure; return the numbers (also written to docs/benchmarks.md)."""
    with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp, profile_database(Path(tmp), "city") as db:
        data_dir, key = Path(tmp) / "data", secrets.token_hex(32)
        city = first_city(db.uri, db.password)
        ensure(db.uri, db.password, Account(ADMIN, Role.ADMIN, city))
        admin = bearer(data_dir, ADMIN)
        with (
            _ours(db.uri, db.password, data_dir) as ours,
            _peer(db.uri, db.password) as peer_off,
            _peer(db.uri, db.password, jwt_key=key) as peer_on,
            httpx.Client(timeout=120) as client,
        ):
            codes = _codes(client, ours, admin)
            ensure(db.uri, db.password, Account(VIEWER, Role.VIEWER, codes["street"]))
            servers = Servers(client, ours, peer_off, peer_on, admin, bearer(data_dir, VIEWER),
                              _peer_token(key, codes["street"]))  # fmt: skip
            calls = _calls(servers, codes)
            sizes = _check(calls)
            times = _time(calls)
        sign_in = _sign_in_cost(db.uri, db.password, data_dir)
    return {"codes": codes, "sizes": sizes, "times": times, "sign_in": sign_in, "fresh": db.fresh}


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def _ratio(times: dict[str, list[float]], top: str, bottom: str) -> float:
    """median(top) / median(bottom)."""
    return statistics.median(times[top]) / statistics.median(times[bottom])


def _paired(times: dict[str, list[float]], top: str, bottom: str) -> float:
    """The median of the rounds' own ratios (each pair ran back to back: the host's drift cancels)."""
    return statistics.median(t / b for t, b in zip(times[top], times[bottom], strict=True))


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _ours_table(result: dict[str, Any]) -> list[str]:
    times, sizes = result["times"], result["sizes"]
    named = [r.name for r in REQUESTS]
    rows = [
        "| request | answer | admin of the city | viewer of the street | viewer / admin | the same, round by round |",
        "|---|---|---|---|---|---|",
    ]
    for name in [*named, FLOOR_NAME]:
        t = times[name]
        rows.append(f"| {name} | {sizes[name]:,} B | {_ms(t['admin'])} | {_ms(t['viewer'])} | "
                    f"**{_ratio(t, 'viewer', 'admin'):.3f}** | {_paired(t, 'viewer', 'admin'):.3f} |")  # fmt: skip
    overall = _geomean([_ratio(times[n], "viewer", "admin") for n in named])
    paired = _geomean([_paired(times[n], "viewer", "admin") for n in named])
    mark = "✔" if overall <= GOAL else "✘"
    cost = result["sign_in"]
    return [
        *rows,
        "",
        f"**Overall, viewer / admin (geometric mean of the {len(named)} requests): {overall:.3f}** (round by round: "
        f"{paired:.3f}) — goal ≤ {GOAL:.2f} {mark}.",
        "",
        "What signing in costs every request, either caller (the floor above includes it): checking the bearer "
        f"token {cost['token'] * 1e6:.0f} µs, reading the account as it is now (`access.accounts.account_of`, one "
        f"read transaction) {cost['account'] * 1000:.2f} ms — an empty read transaction alone "
        f"{cost['empty'] * 1000:.2f} ms (in-process, {SIGN_IN_RUNS} times each, medians).",
    ]


def _peer_table(result: dict[str, Any]) -> list[str]:
    times = result["times"]
    named = [r.name for r in REQUESTS if r.peer is not None]
    rows = [
        "| request | ours, viewer | @neo4j/graphql, no authorization | @neo4j/graphql, @authorization | "
        "its on / off | ours, viewer / its, on |",
        "|---|---|---|---|---|---|",
    ]
    for name in named:
        t = times[name]
        rows.append(f"| {name} | {_ms(t['viewer'])} | {_ms(t['peer off'])} | {_ms(t['peer on'])} | "
                    f"**{_ratio(t, 'peer on', 'peer off'):.3f}** | **{_ratio(t, 'viewer', 'peer on'):.3f}** |")  # fmt: skip
    reads = [n for n in named if n != COUNTS_NAME]
    return [
        *rows,
        "",
        f"**Overall (geometric means of these {len(named)}):** @neo4j/graphql's authorization on / off "
        f"**{_geomean([_ratio(times[n], 'peer on', 'peer off') for n in named]):.3f}** (round by round "
        f"{_geomean([_paired(times[n], 'peer on', 'peer off') for n in named]):.3f}); ours, viewer / admin, on the "
        f"same requests **{_geomean([_ratio(times[n], 'viewer', 'admin') for n in named]):.3f}**; ours as the "
        f"viewer / @neo4j/graphql with authorization **{_geomean([_ratio(times[n], 'viewer', 'peer on') for n in named]):.3f}**"
        f", or **{_geomean([_ratio(times[n], 'viewer', 'peer on') for n in reads]):.3f}** without the coverage "
        "counts (ours sums the communities' rollups, kept current by every load and edit; the peer counts live).",
    ]


def report(result: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md: ours by caller, then the peer without and with its authorization."""
    codes = result["codes"]
    held = "the city profile loaded into a fresh local Neo4j" if result["fresh"] else "the database at NEO4J_URI"
    return "\n".join(
        [
            "## Access control / 访问控制: a street's viewer beside the city's admin (city profile)",
            "",
            f"`python -m bench access`: {held}; our service (uvicorn) and @neo4j/graphql 7.6.3 on graphql-yoga "
            "(web/peer/neo4j-graphql.mjs) twice — without authorization, and with its own `@authorization` filter on "
            'every area-bound type (`streetCode: {eq: "$jwt.streetCode"}`, an HS256 JWT carrying the street) — all '
            f"on the same Neo4j. Two accounts added to it: `{ADMIN}`, admin of the city `{codes['city']}`, and "
            f"`{VIEWER}`, viewer of the street `{codes['street']}`. Every request lies inside that street (community "
            f"`{codes['community']}`, building `{codes['building']}`, household `{codes['household']}`, the name "
            f"{codes['name']}, the code prefix `{codes['prefix']}`), sent as the same document with the same variables "
            "by both callers, which got the same answers (checked in the run): the only difference is the scope the "
            "Cypher narrows to. The peer's requests return the same rows as ours (checked), with and without its "
            f"authorization, and carry the viewer's JWT either way. HTTP on loopback; {RUNS} rounds after {WARMUP} "
            "warm-up rounds, each request on every side back to back (our two callers, then the peer off and on), "
            "which of each pair goes first alternating; medians, and ratios of medians in the same run (round by round: the median of each round's own "
            "ratio); answer: the size of our JSON.",
            "",
            *_ours_table(result),
            "",
            "Side by side with @neo4j/graphql, the requests it can ask (a drawing, coverage per child area, gaps and "
            "chains have no generated equivalent):",
            "",
            *_peer_table(result),
        ]
    )


def main() -> None:
    result = run()
    body = report(result)
    write_section("access", body)
    print(body)
    json.dump({k: v for k, v in result.items() if k != "times"}, sys.stdout, ensure_ascii=False)

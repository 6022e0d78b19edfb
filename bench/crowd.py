"""The traffic benchmark's users: signed-in people clicking through the page, asking the API, downloading audits.

Each user is one asyncio task with its own account (its own bearer token: per-account limits see one person each)
and its own seeded `random.Random`, so a run's mix is the same every time. A user first loads the page (the
area tree, `AREA_TREE`), then loops: think (uniform around `think` seconds), pick an action by its weight, send
its requests, as web/static/app/*.js sends them (the same GraphQL documents, the same variables):

- open a scope (main.js `pick`): `coverage` and, for a community or a grid, its `network` (one request with its
  levels of detail) at once, then its monthly `coverageHistory` (a street, district or city is drawn from
  `coverage`'s children: no network);
- the tree (tree.js): a community's grids; the search box: a community's name, two characters of it;
- a node of the last drawing (details.js): its responsibility chain, an area's coverage, or `node(id)`;
  expand it (main.js `expand`): `network` depth 1 around it;
- the API's typical queries (bench/access.py): a street's first page of gaps, the nested street, a building;
- the audit workbook (main.js's link): `/reports/audit.xlsx?scope=` a community, sometimes the street, for the
  roles that may download it.

Every request lands in a `Recorder` (start, end, name, outcome). A request is *ok* when it is answered 2xx and,
for GraphQL, without `errors`; otherwise its outcome names the failure: `HTTP 503 SERVICE_UNAVAILABLE`,
`200 QUERY_TIMEOUT`, `ReadTimeout`…
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

# ---------------------------------------------------------------- the page's documents (web/static/app/api.js)

AREA_TREE = """{
  me { login name role roleName scope { code name } canWrite canReadAuditLog canDownloadAudits seesPersonalData }
  cities { code name districts { code name streets { code name communities { code name } } } }
  gapKinds: __type(name: "GapKind") { enumValues { name description } }
  metrics: __type(name: "CoverageMetric") { enumValues { name description } }
}"""
GRIDS = "query($code: String!) { community(code: $code) { code grids { code name } } }"
SEARCH = """query($name: String!) {
  search(name: $name, types: [Street, Community, Grid], first: 20) {
    totalCount edges { node { code type typeName label } }
  }
}"""
NETWORK = """query($root: String!, $depth: Int!, $max: Int!, $households: Boolean!, $levels: [LevelOfDetail!]) {
  network(root: $root, depth: $depth, maxNodes: $max, households: $households, levelsOfDetail: $levels) {
    root truncated levelOfDetail
    nodes { id code type typeName label level depth gaps households householdsWithoutCentral
      hidden { type typeName count gaps level } }
    edges { id source target type }
  }
}"""
COVERAGE = """query($scope: String!) {
  coverage(scope: $scope) {
    asOf
    scope { level area { code name } figures { metric description units covered uncovered rate gapKind } }
    children { level area { code name } figures { metric units covered uncovered rate gapKind } }
  }
}"""
HISTORY = """query($scope: String!, $to: Date) {
  coverageHistory(scope: $scope, to: $to, every: MONTH) { points { asOf figures { metric units covered rate } } }
}"""
CHAIN = """query($code: String!, $scope: String) {
  responsibilityChain(code: $code, scope: $scope) {
    complete
    subject { type typeName code name }
    street { code name } community { code name } compound { code name }
    links { level levelName broken organization { type typeName code name } head { name role } }
    partnerUnits { code name kind reportedOn committeeMember services hours }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Entity { code type typeName label } } }"
#: main.js: hops drawn from the scope (only a community or a grid is drawn as a network), the budgets.
DEPTH = {"community": 4, "grid": 4}
BUDGET, EXPAND_BUDGET = 150, 300
#: main.js LADDER: a scope's levels of detail, asked in one request (each level's budget is the page's BUDGET
#: here; a small window asks less).
LADDER = {
    "community": [
        ["Community", "CommunityCommittee", "Grid", "GridBranch", "Compound", "BuildingGroup"],
        ["Community", "CommunityCommittee", "Grid", "GridBranch", "Compound"],
        ["Community", "CommunityCommittee", "Grid", "GridBranch"],
    ],
    "grid": [
        ["Grid", "GridBranch", "BuildingGroup", "Compound", "Building", "CentralHousehold"],
        ["Grid", "GridBranch", "BuildingGroup", "Compound", "Building"],
        ["Grid", "GridBranch", "BuildingGroup", "Compound"],
    ],
}
#: The type of a collapsed drawing's nodes: a street's child areas are communities, a district's streets.
CHILD_TYPE = {"street": "Community", "district": "Street", "city": "District"}
CHAIN_TYPES = {"Household", "Building", "Compound"}
AREA_TYPES = {"District", "Street", "Community", "Grid"}

# ---------------------------------------------------------------- the API's typical queries (bench/access.py)

GAPS = (
    "query($street: String!) { gaps(scope: $street, first: 50) { totalCount counts { kind count } "
    "edges { node { entity { code name } community { name } grid { name } rule responsible { name } } } } }"
)
STREET = (
    "query($street: String!) { street(code: $street) { name communities { name grids { name "
    "gridBranches { name buildingGroups { name } } } } } }"
)
BUILDING = "query($building: String!) { building(code: $building) { code name households { code room } } }"

#: Actions and their weights (shares of a user's actions).
WEIGHTS = {
    "open": 30,
    "grids": 8,
    "search": 8,
    "details": 20,
    "expand": 10,
    "api": 21,
    "audit": 3,
}
#: An audit download names a community, or (this share of them) the user's street.
AUDIT_STREET_SHARE = 0.2
#: Seconds a request may take before the user gives up on it (counted as `ReadTimeout`…).
TIMEOUT = 30.0


@dataclass
class Sample:
    """One request: when it started and ended (perf_counter), what it was, and its outcome ("ok" or a failure)."""

    start: float
    end: float
    name: str
    outcome: str

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass
class Recorder:
    """Every request of a phase, and how many are in flight right now."""

    samples: list[Sample] = field(default_factory=list)
    in_flight: int = 0

    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome for s in self.samples if not s.ok)


def _graphql_outcome(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} (not JSON)"
    code = _code_of(body)
    if response.status_code // 100 != 2:
        return f"HTTP {response.status_code} {code}".rstrip()
    if body.get("errors"):
        return f"{response.status_code} {code or 'errors'}"
    return "ok"


def _code_of(body: Any) -> str:
    """The error code a JSON body names: GraphQL's `errors[0].extensions.code`, or the reports' `error.code`."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str((errors[0].get("extensions") or {}).get("code", ""))
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code", ""))
    return ""


@dataclass
class User:
    """One person: an account (its headers), what it may do, and what the page has shown it so far."""

    login: str
    headers: dict[str, str]
    audits: bool  # the role may download the audit workbook
    rng: random.Random
    streets: list[str] = field(default_factory=list)
    communities: list[dict[str, str]] = field(default_factory=list)
    areas: list[tuple[str, str]] = field(default_factory=list)  # (code, level) of the cities and districts
    grids: dict[str, list[str]] = field(default_factory=dict)
    scope: str | None = None  # the scope open on the page
    nodes: list[dict[str, Any]] = field(default_factory=list)  # the last drawing's nodes
    buildings: list[str] = field(default_factory=list)


class Crowd:
    """`n` users on one HTTP client, recording into a `Recorder`, until `stop` is set."""

    def __init__(self, client: httpx.AsyncClient, users: list[User], recorder: Recorder, think: float) -> None:
        self.client = client
        self.users = users
        self.recorder = recorder
        self.think = think

    # ------------------------------------------------------------ requests
    async def _send(self, user: User, name: str, request: httpx.Request, graphql: bool) -> httpx.Response | None:
        rec = self.recorder
        rec.in_flight += 1
        start = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = await self.client.send(request, stream=not graphql)
            if graphql:
                outcome = _graphql_outcome(response)
            else:
                try:
                    async for _ in response.aiter_bytes():
                        pass
                finally:
                    await response.aclose()
                outcome = "ok" if response.status_code // 100 == 2 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
            response = None
        finally:
            rec.in_flight -= 1
        rec.samples.append(Sample(start, time.perf_counter(), name, outcome))
        return response if outcome == "ok" else None

    async def gql(self, user: User, name: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """A GraphQL request as the page sends it; its data, or None when it failed."""
        request = self.client.build_request(
            "POST",
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**user.headers, "accept": "application/graphql-response+json, application/json"},
        )
        response = await self._send(user, name, request, graphql=True)
        return None if response is None else response.json()["data"]

    async def download(self, user: User, name: str, path: str) -> None:
        request = self.client.build_request("GET", path, headers=user.headers)
        await self._send(user, name, request, graphql=False)

    # ------------------------------------------------------------ actions
    async def load_page(self, user: User) -> None:
        """The page's first request: who I am, the area tree in my scope."""
        data = await self.gql(user, "page: area tree", AREA_TREE)
        if data is None:
            return
        user.streets.clear()
        user.communities.clear()
        user.areas.clear()
        mine = data["me"]["scope"]["code"]  # the tree starts here (tree.js `rootAt`): the areas above are not picked
        codes = {a["code"] for c in data["cities"] for a in (c, *c["districts"])}
        codes |= {s["code"] for c in data["cities"] for d in c["districts"] for s in d["streets"]}
        above_all = mine not in codes  # a scope above the cities (a province, the whole graph)
        for city in data["cities"]:
            in_city = above_all or city["code"] == mine
            if in_city:
                user.areas.append((city["code"], "city"))
            for district in city["districts"]:
                in_district = in_city or district["code"] == mine
                if in_district:
                    user.areas.append((district["code"], "district"))
                for street in district["streets"]:
                    if in_district or street["code"] == mine:
                        user.streets.append(street["code"])
                        user.communities += street["communities"]

    async def open_scope(self, user: User, community: bool = False, area: tuple[str, str] | None = None) -> None:
        """main.js `pick`: coverage and (a community or grid) the network at once, then the history (the page asks
        for it once the picture is painted).

        `community`: open one of the user's communities; `area`: open this (code, level), as a double-click on a
        collapsed drawing's child area does.
        """
        rng = user.rng
        roll = 1.0 if community else rng.random()
        if roll < 0.05 and user.areas:
            code, level = rng.choice(user.areas)
        elif roll < 0.25 and user.streets:
            code, level = rng.choice(user.streets), "street"
        elif roll < 0.35 and user.grids:
            code, level = rng.choice(rng.choice(list(user.grids.values())) or [""]), "grid"
        else:
            code, level = rng.choice(user.communities)["code"], "community"
        if not code:
            code, level = rng.choice(user.communities)["code"], "community"
        if area is not None:
            code, level = area
        user.scope = code
        asked = [self.gql(user, f"page: coverage of a {level}", COVERAGE, {"scope": code})]
        if level in DEPTH:
            levels = [{"types": types, "maxNodes": BUDGET} for types in LADDER[level]]
            variables = {"root": code, "depth": DEPTH[level], "max": BUDGET, "households": False, "levels": levels}
            asked.append(self.gql(user, f"page: network of a {level}", NETWORK, variables))
        answers = await asyncio.gather(*asked)
        await self.gql(user, f"page: coverage history of a {level}", HISTORY, {"scope": code, "to": None})
        network = answers[1] if len(answers) > 1 else None
        if network is not None and not network["network"]["truncated"]:
            user.nodes = network["network"]["nodes"]
            user.buildings = [n["code"] for n in user.nodes if n["type"] == "Building"] or user.buildings
        elif answers[0] is not None and level not in DEPTH:
            # main.js `drawCollapsed`: the child areas are the drawing's nodes (a click asks their coverage).
            kind = CHILD_TYPE.get(level, "Street")
            user.nodes = [
                {"code": c["area"]["code"], "type": kind, "id": ""} for c in answers[0]["coverage"]["children"]
            ] or user.nodes

    async def grids(self, user: User) -> None:
        """tree.js: opening a community's row lists its grids."""
        community = user.rng.choice(user.communities)["code"]
        data = await self.gql(user, "page: a community's grids", GRIDS, {"code": community})
        if data is not None and data["community"] is not None:
            user.grids[community] = [g["code"] for g in data["community"]["grids"]]

    async def search(self, user: User) -> None:
        """tree.js: the search box, two characters of a community's name."""
        name = user.rng.choice(user.communities)["name"]
        at = user.rng.randrange(max(1, len(name) - 1))
        await self.gql(user, "page: search", SEARCH, {"name": name[at : at + 2]})

    async def details(self, user: User) -> None:
        """details.js: a node of the drawing: its chain, an area's coverage, or the node by its id."""
        if not user.nodes:
            await self.open_scope(user)
            return
        node = user.rng.choice(user.nodes)
        if node["type"] in CHAIN_TYPES:
            variables = {"code": node["code"], "scope": user.scope}
            await self.gql(user, "page: responsibility chain", CHAIN, variables)
        elif node["type"] in AREA_TYPES:
            await self.gql(user, "page: coverage of a node", COVERAGE, {"scope": node["code"]})
        else:
            await self.gql(user, "page: node by id", NODE, {"id": node["id"]})

    async def expand(self, user: User) -> None:
        """main.js `expand`: one hop around a node (with households around a building)."""
        if not user.nodes:
            await self.open_scope(user)
            return
        node = user.rng.choice(user.nodes)
        if not node["id"]:
            # A collapsed drawing's child area: a double-click opens it.
            await self.open_scope(user, area=(node["code"], node["type"].lower()))
            return
        households = node["type"] in ("Building", "CentralHousehold")
        variables = {"root": node["code"], "depth": 1, "max": EXPAND_BUDGET, "households": households}
        await self.gql(user, "page: expand a node", NETWORK, variables)

    async def api(self, user: User) -> None:
        """The API's typical queries (bench/access.py): gaps of a street, the nested street, a building."""
        street = user.rng.choice(user.streets)
        roll = user.rng.random()
        if roll < 0.45:
            await self.gql(user, "api: gaps of a street, first 50", GAPS, {"street": street})
        elif roll < 0.75 or not user.buildings:
            await self.gql(user, "api: nested street", STREET, {"street": street})
        else:
            building = user.rng.choice(user.buildings)
            await self.gql(user, "api: a building's households", BUILDING, {"building": building})

    async def audit(self, user: User) -> None:
        """main.js's link: the audit workbook of a community, or of the user's street."""
        if not user.audits:
            await self.api(user)
            return
        if user.rng.random() < AUDIT_STREET_SHARE:
            scope, name = user.rng.choice(user.streets), "audit.xlsx of a street"
        else:
            scope, name = user.rng.choice(user.communities)["code"], "audit.xlsx of a community"
        await self.download(user, name, f"/reports/audit.xlsx?scope={scope}")

    # ------------------------------------------------------------ the loop
    async def live(self, user: User, stop: asyncio.Event, delay: float) -> None:
        """One user until `stop`: load the page, then think and act."""
        actions = {
            "open": self.open_scope,
            "grids": self.grids,
            "search": self.search,
            "details": self.details,
            "expand": self.expand,
            "api": self.api,
            "audit": self.audit,
        }
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        if await _sleep(stop, delay):
            return
        while not stop.is_set() and not user.communities:
            await self.load_page(user)
            if not user.communities and await _sleep(stop, 1.0):
                return
        while not stop.is_set():
            if await _sleep(stop, user.rng.uniform(0.5 * self.think, 1.5 * self.think)):
                return
            await actions[user.rng.choices(names, weights)[0]](user)

    async def run(self, stop: asyncio.Event, ramp: float = 2.0) -> None:
        """All users, started over `ramp` seconds, until `stop` (each finishes the action it is in)."""
        n = len(self.users)
        await asyncio.gather(*(self.live(u, stop, ramp * i / max(1, n)) for i, u in enumerate(self.users)))


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when it was."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True

"""A generated city in the import format, with deliberately injected gaps and a manifest of them.

`generate(profile, seed)` builds every sheet's rows (Chinese headers, as a department's workbook
has them) from the report's figures; `write_demo` writes them as an .xlsx workbook or a CSV
folder, and `manifest` counts every gap kind by the rules in docs/model.md, computed from the
generated rows themselves, so tests can check that the API finds exactly these.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.codes import id_check_char, own_code_area, uscc_check_char
from core.inert import csv_field, needs_text_type, text_cell
from core.model import GAP_KINDS, SHEETS, SHEETS_BY_KEY
from loaders.read import EXCEL_MAX_ROWS

# ---------------------------------------------------------------- profiles


@dataclass(frozen=True)
class Profile:
    """Sizes of a generated city (per city; a province has several)."""

    name: str
    cities: int
    districts: int
    streets: int
    communities: int
    grids: int
    compounds: int
    units: int
    red_stations: int
    list_entries: int
    households: tuple[int, int] = (3000, 5000)


PROFILES = {
    "small": Profile("small", 1, 1, 1, 4, 18, 16, 12, 5, 600),
    "city": Profile("city", 1, 5, 28, 515, 2486, 2260, 3700, 609, 120_000),
    "province": Profile("province", 10, 5, 28, 515, 2486, 2260, 3700, 609, 120_000),
}

#: Injected gap rates (share of the eligible entities), documented in docs/model.md.
RATES = {
    "grid_without_branch": 0.04,
    "building_without_group": 0.03,
    "group_without_central_household": 0.04,
    "household_without_central_household": 0.08,
    "branch_under_three_full_members": 0.03,
    "branch_without_committee": 0.05,
    "expired_committee_term": 0.04,
    "community_size_out_of_range": 0.05,
    "compound_without_property_company": 0.03,
    "unit_never_reported": 0.05,
    "member_never_reported": 0.08,
    "need_unserved": 0.10,
    "community_without_service_center": 0.02,
    "open_block_building": 0.05,
}

# ---------------------------------------------------------------- names
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文辉玉兰海燕红"
    "梅晓东春梅德胜宏伟佳怡子涵浩然欣怡雨轩梓萱俊杰思远国庆卫东永红"
)
PLACES = [
    "汉江",
    "襄水",
    "檀溪",
    "鼓楼",
    "昭明",
    "隆中",
    "古城",
    "岘山",
    "鹿门",
    "米公",
    "卧龙",
    "清河",
    "长虹",
    "春园",
    "人民",
    "解放",
    "建设",
    "友谊",
    "和平",
    "胜利",
    "光明",
    "幸福",
    "新华",
    "团结",
    "东风",
    "前进",
    "红光",
    "朝阳",
    "长征",
    "滨江",
    "望江",
    "华侨",
    "民主",
    "中原",
    "铁佛",
    "樊西",
    "屏襄",
    "定中",
    "太平",
    "紫贞",
    "营盘",
    "永安",
    "柿铺",
    "米庄",
    "王寨",
    "牛首",
    "東津",
    "刘集",
    "张湾",
    "伙牌",
    "龙王",
    "双沟",
    "石桥",
    "黄集",
    "峪山",
    "程河",
    "朱集",
    "古驿",
]
COMPOUND_SUFFIX = ("小区", "花园", "家园", "苑", "名都", "佳苑", "新村", "公寓", "华府", "嘉园")
UNIT_NAMES = (
    ("机关", "1", ("市{p}局", "{p}区人民政府办公室", "市{p}事务中心", "{p}街道办事处", "市{p}委员会")),
    ("企事业单位", "9", ("襄阳{p}实业有限公司", "{p}医院", "{p}中学", "襄阳{p}电力有限公司", "{p}供水有限公司")),
    ("两新组织", "5", ("{p}社会工作服务中心", "{p}律师事务所", "{p}志愿者协会", "{p}商会", "{p}养老服务中心")),
)
NEED_TITLES = (
    "老旧小区加装电梯协调",
    "独居老人探访",
    "儿童课后托管",
    "楼道堆物清理",
    "法律咨询",
    "义诊",
    "助餐服务",
    "路灯维修",
)
RESOURCE_TITLES = ("法律服务", "医疗义诊", "助学辅导", "文化活动场地", "志愿服务队", "心理疏导", "技能培训", "物资捐赠")


def _person(rng: random.Random) -> str:
    """A drawn name: a surname and one or two given characters."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, region: str) -> str:
    """A valid ID number registered in `region` (its first six digits), born 1940–2001."""
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 62))
    body = f"{region[:6]}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_check_char(body)


def _uscc(rng: random.Random, first: str, region: str, n: int) -> str:
    """A valid credit code: authority `first`, `region`'s six digits, a drawn organization code (last char by `n`)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    org = "".join(rng.choice(alphabet) for _ in range(8)) + alphabet[n % 31]
    body = first + "1" + region[:6] + org
    return body + uscc_check_char(body)


# ---------------------------------------------------------------- generation


@dataclass
class Dataset:
    """Rows per sheet key; each row a dict keyed by the English header of each column."""

    profile: str
    seed: int
    as_of: date
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, sheet: str, **values: Any) -> None:
        """Append one row."""
        self.rows[sheet].append(values)


def profile_of(profile: str | Profile) -> Profile:
    """A profile given by its name in `PROFILES`, or one made for the occasion (a test's own sizes)."""
    return profile if isinstance(profile, Profile) else PROFILES[profile]


def generate_cities(profile_name: str | Profile, seed: int, as_of: date | None = None) -> Iterator[Dataset]:
    """The profile's cities one at a time (a province does not fit in memory at once)."""
    profile = profile_of(profile_name)
    rng = random.Random(seed)
    for city_no in range(profile.cities):
        ds = Dataset(profile.name, seed, as_of or date.today())
        _city(ds, profile, rng, city_no)
        _secretaries(ds)
        _living_elsewhere(ds)
        yield ds


def _secretaries(ds: Dataset) -> None:
    """Each community committee and street working committee gets a secretary (书记): the first full member
    living in its community (for a street: in its first community) who holds no other role."""
    busy = {r["member_code"] for r in ds.rows["Role"]}
    by_community: dict[str, list[str]] = defaultdict(list)
    for m in ds.rows["PartyMember"]:
        if m["status"] == "正式党员" and m["code"] not in busy:
            by_community[m["code"][3:15]].append(m["code"])
    first_community: dict[str, str] = {}
    for c in ds.rows["Community"]:
        first_community.setdefault(c["street_code"], c["code"])
    committees = [(cc["code"], cc["community_code"], cc.get("term_start")) for cc in ds.rows["CommunityCommittee"]]
    for w in ds.rows["StreetWorkingCommittee"]:
        committees.append((w["code"], first_community.get(w["street_code"], ""), None))
    for org, community, since in committees:
        candidates = by_community.get(community)
        if candidates:
            ds.add("Role", member_code=candidates.pop(0), organization_code=org, role="书记", since=since or "")


#: Members living outside the generated area (issue 25): their names and the addresses they live at.
ELSEWHERE = (("李居远", "湖北省武汉市江岸区沿江大道88号"), ("王外住", "湖北省宜昌市西陵区夷陵大道16号"))


def _living_elsewhere(ds: Dataset) -> None:
    """Two members per street living outside the generated area, in its first community, with no household: one
    placed by that community's first branch (probationary, so no branch's count of full members changes), one
    by the community's code alone. Neither is in service and no random number is drawn, so every other row, every
    gap and every coverage figure of the city stays as it was."""
    first: dict[str, str] = {}
    for c in ds.rows["Community"]:
        first.setdefault(c["street_code"], c["code"])
    branches: dict[str, str] = {}
    for b in ds.rows["GridBranch"]:
        branches.setdefault(own_code_area(b["code"]), b["code"])
    for community in first.values():
        for n, (name, address) in enumerate(ELSEWHERE, start=1):
            branch = branches.get(community, "") if n == 1 else ""
            body = f"{community[:6]}19800101{n:03d}"  # registered in the district, born 1980-01-01
            ds.add("PartyMember", code=f"DY-{community}-{900000 + n:06d}", name=name,
                   id_number=body + id_check_char(body), status="预备党员" if branch else "正式党员", in_service="否",
                   joined_at=ds.as_of - timedelta(days=400), phone="", address=address, branch_code=branch,
                   household_code="", unit_code="", community_code="" if branch else community)  # fmt: skip


def generate(profile_name: str | Profile, seed: int, as_of: date | None = None) -> Dataset:
    """A whole generated area in one dataset (for profiles that fit in memory)."""
    merged = Dataset(profile_of(profile_name).name, seed, as_of or date.today())
    for ds in generate_cities(profile_name, seed, as_of):
        for key, rows in ds.rows.items():
            merged.rows[key].extend(rows)
    return merged


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` positive counts, roughly even."""
    base = [total // parts] * parts
    for i in rng.sample(range(parts), total % parts):
        base[i] += 1
    return base


def _pick(rng: random.Random, items: list[Any], rate: float) -> set[int]:
    """Indexes of round(rate × n) items, at random."""
    if len(items) < 2 or rate <= 0:
        return set()
    return set(rng.sample(range(len(items)), max(1, round(rate * len(items)))))


# ---------------------------------------------------------------- one city, level by level

#: District numbers (a district code's 5th–6th digits); a city has the first `Profile.districts` of them.
_DISTRICT_NUMBERS = (2, 6, 7, 71, 72, 73, 81, 82, 83, 84)
#: Households on each floor of a building's unit (单元).
_ROOMS_PER_FLOOR = 2


@dataclass
class _City:
    """One city while it is generated: what each level made that later levels are built on.

    Every draw comes from the one `rng`, so the same seed gives the same city only while the functions
    below draw in the same order: `_city` calls them in that order, and none may reorder its own draws.
    """

    ds: Dataset
    profile: Profile
    rng: random.Random
    code: str
    communities: list[str] = field(default_factory=list)
    committee_of: dict[str, str] = field(default_factory=dict)  # community → its community committee
    grids_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # community → grids
    compounds_of: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # community → compounds
    compound_grids: dict[str, list[str]] = field(default_factory=dict)  # compound → the grids it lies on
    buildings_of_grid: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    homes_of_building: dict[str, list[str]] = field(default_factory=dict)
    households: dict[str, dict[str, Any]] = field(default_factory=dict)  # code → Household row, once all exist
    units: list[str] = field(default_factory=list)  # credit codes
    members: int = 0  # party members numbered so far (one numbering across the city)
    volunteers: list[tuple[str, str]] = field(default_factory=list)  # (member, community) of reported members

    def add_member(self, community: str, **details: Any) -> str:
        """Add the city's next party member (see `_member`); return the member's code."""
        self.members += 1
        return _member(self.ds, self.rng, community, self.members, **details)


def _city(ds: Dataset, p: Profile, rng: random.Random, city_no: int) -> None:
    """One city: its areas, their organizations, places, people, then the three lists.

    The order of these calls is the order of the draws from `rng`: moving one changes every city generated.
    """
    city = _City(ds, p, rng, _city_code(city_no))
    streets = _streets(city, _districts(city, city_no))
    _communities(city, streets)
    _community_organizations(city)
    _grids(city)
    _compounds(city)
    _property_services(city)
    _inherited_central_city(city)
    _red_stations(city)
    _buildings(city)
    plan = _branch_plan(city)
    city.units = _units(city)  # drawn between the branch plan and the branches: the seeded order
    _branches(city, plan)
    _in_service_members(city)
    _lists(city)


# -------------------------------- areas


def _city_code(city_no: int) -> str:
    """The city's area code: 4206… (襄阳) to 4209… for the first four cities, 4284… onwards after them."""
    return f"42{6 + city_no:02d}00000000" if city_no < 4 else f"42{80 + city_no:02d}00000000"


def _districts(city: _City, city_no: int) -> list[str]:
    """The city (the first is 襄阳市, the others get a drawn name) and its districts; return their codes."""
    name = "襄阳市" if city_no == 0 else f"{city.rng.choice(PLACES)}市"
    city.ds.add("City", code=city.code, name=name)
    districts = []
    for i, num in enumerate(_DISTRICT_NUMBERS[: city.profile.districts]):
        code = f"{city.code[:4]}{num:02d}000000"
        name = f"{PLACES[(i * 7 + city_no) % len(PLACES)]}区"
        city.ds.add("District", code=code, name=name, city_code=city.code)
        districts.append(code)
    return districts


def _streets(city: _City, districts: list[str]) -> list[str]:
    """The profile's streets spread evenly over the districts, each with its working committee (街道大工委)."""
    streets = []
    counts = _spread(city.profile.streets, city.profile.districts, city.rng)
    for district, count in zip(districts, counts, strict=True):
        for j in range(count):
            code = f"{district[:6]}{j + 1:03d}000"
            name = f"{city.rng.choice(PLACES)}{'街道' if j % 5 else '路街道'}"
            city.ds.add("Street", code=code, name=name, district_code=district)
            streets.append(code)
            city.ds.add("StreetWorkingCommittee", code=f"DGW-{code}-01", name="街道大工委", street_code=code)
    return streets


def _communities(city: _City, streets: list[str]) -> None:
    """The profile's communities spread evenly over the streets, all in the central city (中心城区)."""
    counts = _spread(city.profile.communities, city.profile.streets, city.rng)
    for street, count in zip(streets, counts, strict=True):
        for j in range(count):
            code = f"{street[:9]}{j + 1:03d}"
            name = f"{city.rng.choice(PLACES)}{city.rng.choice(PLACES)}社区"
            city.ds.add("Community", code=code, name=name, street_code=street, central_city="是")
            city.communities.append(code)


def _grids(city: _City) -> None:
    """The profile's grids spread evenly over the communities (第1网格, 第2网格, … in each)."""
    counts = _spread(city.profile.grids, city.profile.communities, city.rng)
    for c, count in zip(city.communities, counts, strict=True):
        for j in range(count):
            grid = f"WG-{c}-{j + 1:02d}"
            city.ds.add("Grid", code=grid, name=f"第{j + 1}网格", community_code=c)
            city.grids_of[c].append(grid)


# -------------------------------- community organizations


def _term_start(rng: random.Random, as_of: date, expired: bool) -> date:
    """When a committee's current term began: 30 days to 3 years ago, or for an `expired` one over six years
    ago, so that its 5-year term has ended."""
    if expired:
        return as_of - timedelta(days=rng.randrange(6 * 365 + 30, 8 * 365))
    return as_of - timedelta(days=rng.randrange(30, 3 * 365))


def _previous_term(start: date, code: str) -> date:
    """When the term before the current one began: five years before it and up to 200 days more (re-elections run
    late), the same for the same code (no draw from the generator's random stream, so the rest stays as it was)."""
    late = sum(map(ord, code)) % 200
    return start.replace(year=start.year - 5, day=min(start.day, 28)) - timedelta(days=late)


def _community_organizations(city: _City) -> None:
    """Each community's widened party committee (社区大党委), a share past its term (`expired_committee_term`);
    its residents' committee; its service center (党群服务中心), missing in a share
    (`community_without_service_center`)."""
    rng, ds = city.rng, city.ds
    expired = _pick(rng, city.communities, RATES["expired_committee_term"])
    no_center = _pick(rng, city.communities, RATES["community_without_service_center"])
    for i, c in enumerate(city.communities):
        committee = f"SQDW-{c}-01"
        city.committee_of[c] = committee
        term_start = _term_start(rng, ds.as_of, expired=i in expired)
        ds.add(
            "CommunityCommittee",
            code=committee,
            name="社区党委",
            widened="是",
            term_start=term_start,
            term_years=5,
            previous_term_start=_previous_term(term_start, committee),
            community_code=c,
            working_committee_code=f"DGW-{c[:9]}000-01",
        )
        ds.add("ResidentsCommittee", code=f"JWH-{c}-01", name="社区居民委员会", community_code=c)
        if i not in no_center:
            area = rng.randrange(300, 1500)
            ds.add("ServiceCenter", code=f"DQZX-{c}-01", name="党群服务中心", area_m2=area, community_code=c)


# -------------------------------- compounds and their services


def _compounds(city: _City) -> None:
    """The profile's compounds spread evenly over the communities, each on its community's grids in turn; one
    in ten (by chance) is big enough to span the next grid too."""
    rng = city.rng
    counts = _spread(city.profile.compounds, city.profile.communities, rng)
    for c, count in zip(city.communities, counts, strict=True):
        grids = city.grids_of[c]
        for j in range(count):
            x = f"XQ-{c}-{j + 1:02d}"
            covering = [grids[j % len(grids)]]
            if len(grids) > 1 and rng.random() < 0.1:
                covering.append(grids[(j + 1) % len(grids)])
            city.compound_grids[x] = covering
            city.ds.add(
                "Compound",
                code=x,
                name=f"{rng.choice(PLACES)}{rng.choice(COMPOUND_SUFFIX)}",
                address=f"{rng.choice(PLACES)}路{rng.randrange(1, 300)}号",
                central_city="是",
                community_code=c,
                grid_codes=";".join(covering),
            )
            city.compounds_of[c].append(x)


def _property_services(city: _City) -> None:
    """Property companies, one per eight compounds (at least three); every compound but a share
    (`compound_without_property_company`) is managed by a drawn one; seven in ten (by chance) have an owners'
    committee."""
    rng, ds = city.rng, city.ds
    companies = [_uscc(rng, "9", city.code, i) for i in range(max(3, len(city.compound_grids) // 8))]
    for i, code in enumerate(companies):
        ds.add("PropertyCompany", credit_code=code, name=f"襄阳{rng.choice(PLACES)}物业服务有限公司{i + 1:03d}")
    compounds = list(city.compound_grids)
    unmanaged = _pick(rng, compounds, RATES["compound_without_property_company"])
    for i, x in enumerate(compounds):
        if i not in unmanaged:
            company = rng.choice(companies)
            since = ds.as_of - timedelta(days=rng.randrange(100, 3000))
            ds.add("PropertyService", company_code=company, compound_code=x, since=since)
        if rng.random() < 0.7:
            start = ds.as_of - timedelta(days=rng.randrange(30, 1500))
            ds.add("OwnersCommittee", code=f"YWH-{x[3:]}", name="业主委员会", compound_code=x, term_start=start)


def _inherited_central_city(city: _City) -> None:
    """The city's first compound with no property company in force (else its first) leaves its 中心城区 flag blank:
    it inherits its community's ("是"), so the property figure and gap count it only through the inheritance.
    No draw: the seeded order stays."""
    ds = city.ds
    mine = {x for xs in city.compounds_of.values() for x in xs}
    managed = {r["compound_code"] for r in ds.rows["PropertyService"] if not r.get("until")}
    rows = [r for r in ds.rows["Compound"] if r["code"] in mine]
    blank = next((r for r in rows if r["code"] not in managed), rows[0])
    blank["central_city"] = ""


#: Which red station (by its number in the city, from 0) belongs to a street rather than a community.
STREET_STATION = 1


def _red_stations(city: _City) -> None:
    """The profile's red stations (红色驿站), in every third compound (going round when there are too few); the
    second is a street-level one, in its compound's street and no compound (`STREET_STATION`)."""
    compounds = list(city.compound_grids)
    for i in range(city.profile.red_stations):
        x = compounds[(i * 3) % len(compounds)]
        area = x[3:12] + "000" if i == STREET_STATION else x[3:15]
        city.ds.add(
            "RedStation",
            code=f"HSYZ-{area}-{i + 1:04d}",
            name=f"{city.rng.choice(PLACES)}红色驿站",
            community_code=area,
            compound_code="" if i == STREET_STATION else x,
        )


# -------------------------------- buildings and households


def _buildings(city: _City) -> None:
    """Buildings and households, community by community: 3100–4899 households in each, except a share
    (`community_size_out_of_range`) given 1200–2899 or 5200–6999, outside the rule's 3000–5000."""
    rng = city.rng
    out_of_range = _pick(rng, city.communities, RATES["community_size_out_of_range"])
    for i, c in enumerate(city.communities):
        if i in out_of_range:
            target = rng.choice((rng.randrange(1200, 2900), rng.randrange(5200, 7000)))
        else:
            target = rng.randrange(3100, 4900)
        _community_buildings(city, c, target)
    city.households = {r["code"]: r for r in city.ds.rows["Household"]}


def _community_buildings(city: _City, c: str, target: int) -> None:
    """Buildings in community `c` until it holds exactly `target` households. They go round its compounds, on
    the compound's first grid; a building stands in an open block instead (no compound, on the community's
    grids in turn) by chance (`open_block_building`), and always when the community has no compound."""
    rng = city.rng
    compounds = city.compounds_of[c] or [None]
    grids = city.grids_of[c]
    made = number = 0
    while made < target:
        number += 1
        x = compounds[number % len(compounds)]
        open_block = x is None or rng.random() < RATES["open_block_building"]
        grid = grids[number % len(grids)] if open_block else city.compound_grids[x][0]
        units, floors = rng.randrange(1, 5), rng.choice((6, 7, 11, 18, 26))
        count = min(units * floors * _ROOMS_PER_FLOOR, target - made)
        b = f"LD-{c}-{number:04d}"
        city.ds.add(
            "Building",
            code=b,
            name=f"{number}栋",
            floors=floors,
            units=units,
            grid_code=grid,
            compound_code="" if open_block else x,
        )
        city.buildings_of_grid[grid].append(b)
        city.homes_of_building[b] = _households(city, b, floors, count)
        made += count


def _households(city: _City, building: str, floors: int, count: int) -> list[str]:
    """`count` households of `building`, filling it unit by unit and floor by floor, each of 1–5 people; their
    codes are the building's with unit, floor and room (`HU-<community>-<building>-<u><ff><rr>`)."""
    homes = []
    for k in range(count):
        unit, rest = divmod(k, floors * _ROOMS_PER_FLOOR)
        floor, room = divmod(rest, _ROOMS_PER_FLOOR)
        code = f"HU-{building[3:]}-{unit + 1}{floor + 1:02d}{room + 1:02d}"
        city.ds.add(
            "Household",
            code=code,
            unit=f"{unit + 1}单元",
            room=f"{floor + 1}{room + 1:02d}",
            size=city.rng.randrange(1, 6),
            building_code=building,
            central_household_code="",
        )
        homes.append(code)
    return homes


# -------------------------------- branches, groups, central households


@dataclass(frozen=True)
class _BranchPlan:
    """Which grids get a branch, and which branches are made to break a rule."""

    grid_of: dict[str, str]  # branch → the grid it covers, in grid order
    under_three: set[str]  # fewer than three full members
    no_committee: set[str]  # seven or more full members and no committee
    expired: set[str]  # past its term


def _branch_plan(city: _City) -> _BranchPlan:
    """A branch on every grid but a share (`grid_without_branch`). Of the branches a share is kept under three
    full members (`branch_under_three_full_members`); of the others a share gets seven or more and no
    committee (`branch_without_committee`); of all a share is past its term (`expired_committee_term`)."""
    rng = city.rng
    grids = [g for c in city.communities for g in city.grids_of[c]]
    branchless = _pick(rng, grids, RATES["grid_without_branch"])
    grid_of = {f"DZB-{g[3:15]}-{g[-2:]}": g for i, g in enumerate(grids) if i not in branchless}
    branches = list(grid_of)
    under_three = {branches[i] for i in _pick(rng, branches, RATES["branch_under_three_full_members"])}
    rest = [b for b in branches if b not in under_three]
    no_committee = {rest[i] for i in _pick(rng, rest, RATES["branch_without_committee"])}
    expired = {branches[i] for i in _pick(rng, branches, RATES["expired_committee_term"])}
    return _BranchPlan(grid_of, under_three, no_committee, expired)


def _branches(city: _City, plan: _BranchPlan) -> None:
    """Every planned branch, in grid order, with its members, groups and central households."""
    homes_of_community: dict[str, list[str]] = defaultdict(list)
    for h in city.households:
        homes_of_community[h[3:15]].append(h)
    for branch, grid in plan.grid_of.items():
        _branch(city, plan, branch, grid, homes_of_community[grid[3:15]])


def _branch(city: _City, plan: _BranchPlan, branch: str, grid: str, community_homes: list[str]) -> None:
    """A grid branch (网格党支部) over its grid and the compounds on it: 3–24 full members (0–2 if planned under
    three, 7–24 if planned without committee) and 0–2 probationary ones, living on the grid (in
    `community_homes` if it has no buildings); a committee when it has seven full members and is not planned
    without; a term (expired if planned); its first member as secretary; then its groups."""
    rng, ds = city.rng, city.ds
    c = grid[3:15]
    if branch in plan.under_three:
        full = rng.randrange(0, 3)
    elif branch in plan.no_committee:
        full = rng.randrange(7, 25)
    else:
        full = rng.randrange(3, 25)
    start = _term_start(rng, ds.as_of, expired=branch in plan.expired)
    ds.add(
        "GridBranch",
        code=branch,
        name=f"第{int(grid[-2:])}网格党支部",
        dual_report="是",
        has_committee="是" if full >= 7 and branch not in plan.no_committee else "否",
        term_start=start,
        term_years=5,
        previous_term_start=_previous_term(start, branch),
        committee_code=city.committee_of[c],
        grid_codes=grid,
        compound_codes=";".join(sorted({x for x, gs in city.compound_grids.items() if grid in gs})),
    )
    homes = [h for b in city.buildings_of_grid[grid] for h in city.homes_of_building[b]] or community_homes
    members = _branch_members(city, branch, c, full, homes)
    if members:
        ds.add("Role", member_code=members[0], organization_code=branch, role="书记", since=start)
    _groups(city, branch, grid, members, start)


def _branch_members(city: _City, branch: str, c: str, full: int, homes: list[str]) -> list[str]:
    """`full` full members, then 0–2 probationary ones, each with a mobile number and a home drawn from
    `homes`; return their codes."""
    rng = city.rng
    members = []
    for k in range(full + rng.randrange(0, 3)):
        status = "正式党员" if k < full else "预备党员"
        phone = f"13{rng.randrange(100000000, 999999999)}"
        members.append(city.add_member(c, home=rng.choice(homes), status=status, branch=branch, phone=phone))
    return members


def _groups(city: _City, branch: str, grid: str, members: list[str], since: date) -> None:
    """Party groups (党小组) over the grid's buildings, two buildings each; a building is left out of every group
    by chance (`building_without_group`). Each group's leader is drawn from the branch's members; a group gets
    central households unless left without by chance (`group_without_central_household`)."""
    rng, ds = city.rng, city.ds
    c = grid[3:15]
    buildings = city.buildings_of_grid[grid]
    lonely = {b for b in buildings if rng.random() < RATES["building_without_group"]}
    covered = [b for b in buildings if b not in lonely]
    for n, first in enumerate(range(0, len(covered), 2)):
        group = f"DXZ-{c}-{grid[-2:]}{n + 1:02d}"
        bs = covered[first : first + 2]
        ds.add("BuildingGroup", code=group, name=f"第{n + 1}党小组", branch_code=branch, building_codes=";".join(bs))
        if members:
            ds.add("Role", member_code=rng.choice(members), organization_code=group, role="组长", since=since)
        if rng.random() < RATES["group_without_central_household"]:
            continue
        _central_households(city, group, c, [h for b in bs for h in city.homes_of_building[b]])


def _central_households(city: _City, group: str, c: str, homes: list[str]) -> None:
    """The group's households in runs of 10–15, each run kept in touch with by a central household (党员中心户):
    a new member living in the run's first home. After the first run, a run is left without one by chance
    (`household_without_central_household`)."""
    rng = city.rng
    pos = number = 0
    while pos < len(homes):
        number += 1
        size = rng.randrange(10, 16)
        run = homes[pos : pos + size]
        pos += size
        if rng.random() < RATES["household_without_central_household"] and number > 1:
            continue  # these households stay unlinked
        home = run[0]
        code = f"ZXH-{c}-{group[-4:]}{number:03d}"
        city.add_member(c, home=home)
        city.ds.add(
            "CentralHousehold",
            code=code,
            name=f"{city.households[home]['room']}党员中心户",
            since=city.ds.as_of - timedelta(days=rng.randrange(30, 2000)),
            group_code=group,
            household_code=home,
        )
        for h in run[1:]:
            city.households[h]["central_household_code"] = code


# -------------------------------- people


def _member(
    ds: Dataset,
    rng: random.Random,
    community: str,
    number: int,
    *,
    home: str,
    status: str = "正式党员",
    in_service: bool = False,
    branch: str = "",
    unit: str = "",
    phone: str = "",
    years: int = 40,
) -> str:
    """Add one party member living in `home`; return the member's code."""
    code = f"DY-{community}-{number:06d}"
    ds.add(
        "PartyMember",
        code=code,
        name=_person(rng),
        id_number=_id_number(rng, community),
        status=status,
        in_service="是" if in_service else "否",
        joined_at=ds.as_of - timedelta(days=rng.randrange(400, years * 365)),
        phone=phone,
        branch_code=branch,
        household_code=home,
        unit_code=unit,
    )
    return code


def _in_service_members(city: _City) -> None:
    """In-service members (在职党员), one per 20 households and at least 20, each a member at a unit and living
    in a drawn home; all but a share (`member_never_reported`) reported to their home community (双报到)
    and serve there as volunteers."""
    rng, ds = city.rng, city.ds
    homes = list(city.households)
    count = max(20, len(homes) // 20)
    never = _pick(rng, list(range(count)), RATES["member_never_reported"])
    for i in range(count):
        home = rng.choice(homes)
        c = home[3:15]
        member = city.add_member(c, home=home, in_service=True, unit=rng.choice(city.units), years=30)
        if i not in never:
            reported = ds.as_of - timedelta(days=rng.randrange(1, 900))
            ds.add("MemberReport", member_code=member, community_code=c, date=reported, receipt_returned="是")
            city.volunteers.append((member, c))


def _units(city: _City) -> list[str]:
    """The profile's units (机关, 企事业单位, 两新组织 in turn), each a member unit of a community's widened
    committee (the communities in turn); all but a share (`unit_never_reported`) reported to that community.
    Return their credit codes."""
    p, rng, ds = city.profile, city.rng, city.ds
    codes = []
    never = _pick(rng, list(range(p.units)), RATES["unit_never_reported"])
    for i in range(p.units):
        kind, first, patterns = UNIT_NAMES[i % 3]
        code = _uscc(rng, first, city.code, i)
        c = city.communities[i % len(city.communities)]
        name = rng.choice(patterns).format(p=rng.choice(PLACES)) + f"({i + 1})"
        address = f"{rng.choice(PLACES)}路{rng.randrange(1, 500)}号"
        ds.add("Unit", credit_code=code, name=name, kind=kind, address=address)
        since = ds.as_of - timedelta(days=rng.randrange(100, 2000))
        ds.add("UnitMembership", unit_code=code, committee_code=city.committee_of[c], since=since)
        if i not in never:
            reported = ds.as_of - timedelta(days=rng.randrange(1, 900))
            ds.add("UnitReport", unit_code=code, community_code=c, date=reported, receipt_returned="是")
        codes.append(code)
    return codes


# -------------------------------- the three lists


def _lists(city: _City) -> None:
    """The three lists (三张清单): of the profile's entries, 37.5% are needs, all served but a share
    (`need_unserved`); a service for each served need, and resources for the rest. Providers are the
    community's reported volunteers and the units."""
    needs = int(city.profile.list_entries * 0.375)
    unserved = _pick(city.rng, list(range(needs)), RATES["need_unserved"])
    served = needs - len(unserved)
    volunteers: dict[str, list[str]] = defaultdict(list)
    for member, c in city.volunteers:
        volunteers[c].append(member)
    _resources(city, volunteers, city.profile.list_entries - needs - served)
    _needs(city, volunteers, needs, unserved)


def _provider(rng: random.Random, volunteers: list[str], units: list[str], volunteer: bool) -> str:
    """A drawn volunteer when `volunteer` and the community has any, else a drawn unit."""
    return rng.choice(volunteers) if volunteers and volunteer else rng.choice(units)


def _resources(city: _City, volunteers: dict[str, list[str]], count: int) -> None:
    """`count` resources (资源清单), the communities in turn; every other one offered by a volunteer of its
    community (when it has any), the others by a unit."""
    for i in range(count):
        c = city.communities[i % len(city.communities)]
        provider = _provider(city.rng, volunteers[c], city.units, volunteer=i % 2 == 1)
        city.ds.add(
            "Resource",
            code=f"ZY-{c}-{i + 1:06d}",
            title=city.rng.choice(RESOURCE_TITLES),
            category="志愿服务",
            community_code=c,
            provider_code=provider,
        )


def _needs(city: _City, volunteers: dict[str, list[str]], count: int, unserved: set[int]) -> None:
    """`count` needs (需求清单), the communities in turn, each claimed by a provider and fulfilled by its service
    except the `unserved`. Providers are volunteers of the need's community, except every fourth need (and
    every need of a community without volunteers), taken up by a unit."""
    rng, ds = city.rng, city.ds
    for i in range(count):
        c = city.communities[i % len(city.communities)]
        provider = _provider(rng, volunteers[c], city.units, volunteer=i % 4 != 0)  # drawn for every need
        raised = ds.as_of - timedelta(days=rng.randrange(10, 700))
        need = f"XU-{c}-{i + 1:06d}"
        ds.add(
            "Need",
            code=need,
            title=rng.choice(NEED_TITLES),
            category="民生",
            raised_at=raised,
            community_code=c,
            claimed_by_code="" if i in unserved else provider,
        )
        if i not in unserved:
            ds.add(
                "Service",
                code=f"FW-{c}-{i + 1:06d}",
                title=f"{rng.choice(NEED_TITLES)}服务",
                date=raised + timedelta(days=rng.randrange(0, 9)),
                hours=rng.choice((1, 1.5, 2, 3, 4)),
                community_code=c,
                provider_code=provider,
                need_code=need,
            )


# ---------------------------------------------------------------- the manifest

_Rows = dict[str, list[dict[str, Any]]]


def manifest(ds: Dataset) -> dict[str, Any]:
    """Entity counts and the exact count of every gap kind, by the rules of docs/model.md."""
    rows = ds.rows
    gaps = {
        **_coverage_gaps(rows),
        **_organization_gaps(rows, ds.as_of),
        **_place_gaps(rows),
        **_service_gaps(rows),
    }
    assert set(gaps) == set(GAP_KINDS)
    return {
        "profile": ds.profile,
        "seed": ds.seed,
        "asOf": ds.as_of.isoformat(),
        "rates": RATES,
        "entities": {s.key: len(rows.get(s.key, [])) for s in SHEETS},
        "gaps": gaps,
    }


def _codes(cell: Any) -> list[str]:
    """The codes of a `;`-separated cell."""
    return [x for x in str(cell or "").split(";") if x]


def _coverage_gaps(rows: _Rows) -> dict[str, int]:
    """Places no organization reaches: a compound no branch covers (itself or a grid it lies on), a building in
    no group, a group without a central household, a household no central household keeps in touch with (nor
    is one)."""
    covered_grids = {g for r in rows["GridBranch"] for g in _codes(r["grid_codes"])}
    covered_compounds = {x for r in rows["GridBranch"] for x in _codes(r["compound_codes"])}
    grouped = {b for r in rows["BuildingGroup"] for b in _codes(r["building_codes"])}
    groups_with_ch = {r["group_code"] for r in rows["CentralHousehold"]}
    ch_homes = {r["household_code"] for r in rows["CentralHousehold"]}
    return {
        "compound_without_branch": sum(
            1
            for r in rows["Compound"]
            if r["code"] not in covered_compounds and not set(_codes(r["grid_codes"])) & covered_grids
        ),
        "building_without_group": sum(1 for r in rows["Building"] if r["code"] not in grouped),
        "group_without_central_household": sum(1 for r in rows["BuildingGroup"] if r["code"] not in groups_with_ch),
        "household_without_central_household": sum(
            1 for r in rows["Household"] if not r["central_household_code"] and r["code"] not in ch_homes
        ),
    }


def _organization_gaps(rows: _Rows, as_of: date) -> dict[str, int]:
    """Organizations breaking their own rules: a branch with fewer than three full members, one with seven or
    more and no committee, a community committee or branch whose term (start + years, default 5) ended
    before `as_of`."""
    full = Counter(r["branch_code"] for r in rows["PartyMember"] if r["branch_code"] and r["status"] == "正式党员")
    return {
        "branch_under_three_full_members": sum(1 for r in rows["GridBranch"] if full[r["code"]] < 3),
        "branch_without_committee": sum(
            1 for r in rows["GridBranch"] if full[r["code"]] >= 7 and r["has_committee"] != "是"
        ),
        "expired_committee_term": sum(
            1
            for key in ("CommunityCommittee", "GridBranch")
            for r in rows[key]
            if r.get("term_start") and _term_end(r["term_start"], int(r.get("term_years") or 5)) < as_of
        ),
    }


def _place_gaps(rows: _Rows) -> dict[str, int]:
    """A community outside 3000–5000 households; a central-city compound (its own flag, else its community's) with
    no property company in force."""
    households = Counter(r["code"][3:15] for r in rows["Household"])
    managed = {r["compound_code"] for r in rows["PropertyService"] if not r.get("until")}
    central = {r["code"]: r["central_city"] for r in rows["Community"]}  # a blank compound inherits its community's
    return {
        "community_size_out_of_range": sum(1 for r in rows["Community"] if not 3000 <= households[r["code"]] <= 5000),
        "compound_without_property_company": sum(
            1
            for r in rows["Compound"]
            if (r["central_city"] or central.get(r["community_code"], "")) == "是" and r["code"] not in managed
        ),
    }


def _service_gaps(rows: _Rows) -> dict[str, int]:
    """Service not reached: a member unit or an in-service member that never reported (双报到), a need no
    service fulfils, a community without a service center."""
    reported_units = {r["unit_code"] for r in rows["UnitReport"]}
    member_units = {r["unit_code"] for r in rows["UnitMembership"]}
    reported_members = {r["member_code"] for r in rows["MemberReport"]}
    served = {r["need_code"] for r in rows["Service"] if r.get("need_code")}
    centers = {r["community_code"] for r in rows["ServiceCenter"]}
    return {
        "unit_never_reported": len(member_units - reported_units),
        "member_never_reported": sum(
            1 for r in rows["PartyMember"] if r["in_service"] == "是" and r["code"] not in reported_members
        ),
        "need_unserved": sum(1 for r in rows["Need"] if r["code"] not in served),
        "community_without_service_center": sum(1 for r in rows["Community"] if r["code"] not in centers),
    }


def _term_end(start: date | str, years: int) -> date:
    """The day a term begun on `start` ends after `years` (a term begun on 29 February ends on the 28th)."""
    d = start if isinstance(start, date) else date.fromisoformat(str(start))
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# ---------------------------------------------------------------- output


def headers(key: str) -> list[tuple[str, str]]:
    """(row-dict key — the English header —, Chinese header) of a sheet, in column order."""
    return [(i.en, i.zh) for i in SHEETS_BY_KEY[key].items]


def _cell(value: Any) -> Any:
    """A value as written to a cell: dates as YYYY-MM-DD."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def _xlsx_cell(ws: Any, value: Any) -> Any:
    """A value as written to a workbook cell: text that openpyxl would make a formula is typed as text."""
    value = _cell(value)
    return text_cell(WriteOnlyCell(ws, value=value)) if needs_text_type(value) else value


def merge_manifests(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Cities are disjoint: a province's counts are the sums of its cities'."""
    out = dict(parts[0])
    out["entities"] = dict(Counter())
    out["gaps"] = dict(Counter())
    for part in parts:
        for section in ("entities", "gaps"):
            for k, v in part[section].items():
                out[section][k] = out[section].get(k, 0) + v
    return out


def write_demo(profile_name: str | Profile, seed: int, out: Path, as_of: date | None = None) -> dict[str, Any]:
    """Generate and write: an .xlsx workbook when `out` ends in .xlsx, else a CSV folder; returns the manifest.

    The manifest is written beside it (`<name>.manifest.json`, or `manifest.json` in the folder).
    """
    out = Path(out)
    xlsx = out.suffix.lower() == ".xlsx"
    if xlsx and profile_of(profile_name).cities > 1:
        raise ValueError("多个城市只能输出为 CSV 文件夹 / a multi-city profile is written as a CSV folder (--out DIR)")
    parts = []
    if xlsx:
        ds = generate(profile_name, seed, as_of)
        dataset_to_xlsx(ds, out)
        parts.append(manifest(ds))
        manifest_path = out.with_suffix(".manifest.json")
    else:
        out.mkdir(parents=True, exist_ok=True)
        for i, ds in enumerate(generate_cities(profile_name, seed, as_of)):
            _write_csv(ds, out, append=i > 0)
            parts.append(manifest(ds))
        manifest_path = out / "manifest.json"
    result = merge_manifests(parts)
    manifest_path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return result


def dataset_to_xlsx(ds: Dataset, out: Path) -> None:
    """Write every sheet, Chinese headers first, as one .xlsx workbook (refused past Excel's row limit)."""
    too_big = [k for k, v in ds.rows.items() if len(v) >= EXCEL_MAX_ROWS]
    if too_big:
        raise ValueError(
            f"工作表行数超过 Excel 上限 / {', '.join(too_big)} exceed Excel's {EXCEL_MAX_ROWS:,} rows: "
            "write a CSV folder instead (--out DIR)"
        )
    wb = Workbook(write_only=True)
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.zh)
        cols = headers(sheet.key)
        ws.append([zh for _, zh in cols])
        for row in ds.rows.get(sheet.key, []):
            ws.append([_xlsx_cell(ws, row.get(k, "")) for k, _ in cols])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)


def _write_csv(ds: Dataset, out: Path, append: bool) -> None:
    """Write every sheet as `<key>.csv` in `out`: headers first, or, with `append`, more rows after the last."""
    for sheet in SHEETS:
        cols = headers(sheet.key)
        with (out / f"{sheet.key}.csv").open("a" if append else "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            if not append:
                w.writerow([zh for _, zh in cols])
            for row in ds.rows.get(sheet.key, []):
                w.writerow([csv_field(_cell(row.get(k, ""))) for k, _ in cols])

"""A generated city in the import format, with deliberately injected gaps and a manifest of them.

`generate(profile, seed)` builds every sheet's rows (Chinese headers, as a department's workbook
has them) from the report's figures; `write_dataset` writes them as an .xlsx workbook or a CSV
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

from core.codes import id_check_char, uscc_check_char
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
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, region: str) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 62))
    body = f"{region[:6]}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + id_check_char(body)


def _uscc(rng: random.Random, first: str, region: str, n: int) -> str:
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


def generate_cities(profile_name: str, seed: int, as_of: date | None = None) -> Iterator[Dataset]:
    """The profile's cities one at a time (a province does not fit in memory at once)."""
    profile = PROFILES[profile_name]
    rng = random.Random(seed)
    for city_no in range(profile.cities):
        ds = Dataset(profile_name, seed, as_of or date.today())
        _city(ds, profile, rng, city_no)
        _secretaries(ds)
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


def generate(profile_name: str, seed: int, as_of: date | None = None) -> Dataset:
    """A whole generated area in one dataset (for profiles that fit in memory)."""
    merged = Dataset(profile_name, seed, as_of or date.today())
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


def _city(ds: Dataset, p: Profile, rng: random.Random, city_no: int) -> None:
    as_of = ds.as_of
    city_code = f"42{6 + city_no:02d}00000000" if city_no < 4 else f"42{80 + city_no:02d}00000000"
    city_name = "襄阳市" if city_no == 0 else f"{rng.choice(PLACES)}市"
    ds.add("City", code=city_code, name=city_name)
    district_nums = [2, 6, 7, 71, 72, 73, 81, 82, 83, 84][: p.districts]
    districts = []
    for i, num in enumerate(district_nums):
        code = f"{city_code[:4]}{num:02d}000000"
        ds.add("District", code=code, name=f"{PLACES[(i * 7 + city_no) % len(PLACES)]}区", city_code=city_code)
        districts.append(code)

    streets = []
    for d_idx, count in enumerate(_spread(p.streets, p.districts, rng)):
        for j in range(count):
            code = f"{districts[d_idx][:6]}{j + 1:03d}000"
            ds.add(
                "Street",
                code=code,
                name=f"{rng.choice(PLACES)}{'街道' if j % 5 else '路街道'}",
                district_code=districts[d_idx],
            )
            streets.append(code)
            ds.add("StreetWorkingCommittee", code=f"DGW-{code}-01", name="街道大工委", street_code=code)

    communities: list[str] = []
    for s_idx, count in enumerate(_spread(p.communities, p.streets, rng)):
        for j in range(count):
            code = f"{streets[s_idx][:9]}{j + 1:03d}"
            ds.add(
                "Community",
                code=code,
                name=f"{rng.choice(PLACES)}{rng.choice(PLACES)}社区",
                street_code=streets[s_idx],
                central_city="是",
            )
            communities.append(code)

    # committees, residents' committees, service centers
    expired_cc = _pick(rng, communities, RATES["expired_committee_term"])
    no_center = _pick(rng, communities, RATES["community_without_service_center"])
    community_committee = {}
    for i, c in enumerate(communities):
        cc = f"SQDW-{c}-01"
        community_committee[c] = cc
        start = (
            as_of - timedelta(days=rng.randrange(6 * 365 + 30, 8 * 365))
            if i in expired_cc
            else as_of - timedelta(days=rng.randrange(30, 3 * 365))
        )
        ds.add(
            "CommunityCommittee",
            code=cc,
            name="社区党委",
            widened="是",
            term_start=start,
            term_years=5,
            community_code=c,
            working_committee_code=f"DGW-{c[:9]}000-01",
        )
        ds.add("ResidentsCommittee", code=f"JWH-{c}-01", name="社区居民委员会", community_code=c)
        if i not in no_center:
            ds.add(
                "ServiceCenter",
                code=f"DQZX-{c}-01",
                name="党群服务中心",
                area_m2=rng.randrange(300, 1500),
                community_code=c,
            )

    # grids and compounds
    grids_of: dict[str, list[str]] = defaultdict(list)
    for c_idx, count in enumerate(_spread(p.grids, p.communities, rng)):
        c = communities[c_idx]
        for j in range(count):
            g = f"WG-{c}-{j + 1:02d}"
            ds.add("Grid", code=g, name=f"第{j + 1}网格", community_code=c)
            grids_of[c].append(g)
    compounds_of: dict[str, list[str]] = defaultdict(list)
    compound_grids: dict[str, list[str]] = {}
    for c_idx, count in enumerate(_spread(p.compounds, p.communities, rng)):
        c = communities[c_idx]
        gs = grids_of[c]
        for j in range(count):
            x = f"XQ-{c}-{j + 1:02d}"
            covering = [gs[j % len(gs)]]
            if len(gs) > 1 and rng.random() < 0.1:  # a big compound spans two grids
                covering.append(gs[(j + 1) % len(gs)])
            compound_grids[x] = covering
            ds.add(
                "Compound",
                code=x,
                name=f"{rng.choice(PLACES)}{rng.choice(COMPOUND_SUFFIX)}",
                address=f"{rng.choice(PLACES)}路{rng.randrange(1, 300)}号",
                central_city="是",
                community_code=c,
                grid_codes=";".join(covering),
            )
            compounds_of[c].append(x)

    # property companies
    companies = [_uscc(rng, "9", city_code, i) for i in range(max(3, len(compound_grids) // 8))]
    for i, code in enumerate(companies):
        ds.add("PropertyCompany", credit_code=code, name=f"襄阳{rng.choice(PLACES)}物业服务有限公司{i + 1:03d}")
    compound_list = list(compound_grids)
    unmanaged = _pick(rng, compound_list, RATES["compound_without_property_company"])
    for i, x in enumerate(compound_list):
        if i not in unmanaged:
            ds.add(
                "PropertyService",
                company_code=rng.choice(companies),
                compound_code=x,
                since=as_of - timedelta(days=rng.randrange(100, 3000)),
            )
        if rng.random() < 0.7:
            ds.add(
                "OwnersCommittee",
                code=f"YWH-{x[3:]}",
                name="业主委员会",
                compound_code=x,
                term_start=as_of - timedelta(days=rng.randrange(30, 1500)),
            )
    for i in range(p.red_stations):
        x = compound_list[(i * 3) % len(compound_list)]
        ds.add(
            "RedStation",
            code=f"HSYZ-{x[3:15]}-{i + 1:04d}",
            name=f"{rng.choice(PLACES)}红色驿站",
            community_code=x[3:15],
            compound_code=x,
        )

    # buildings and households, per community sized 3000-5000 (some injected outside)
    out_of_range = _pick(rng, communities, RATES["community_size_out_of_range"])
    per_city_households = 0
    buildings_of_grid: dict[str, list[str]] = defaultdict(list)
    households_of_building: dict[str, list[str]] = {}
    for c_idx, c in enumerate(communities):
        if c_idx in out_of_range:
            target = rng.choice((rng.randrange(1200, 2900), rng.randrange(5200, 7000)))
        else:
            target = rng.randrange(3100, 4900)
        made = 0
        b_no = 0
        xs = compounds_of[c] or [None]
        while made < target:
            b_no += 1
            x = xs[b_no % len(xs)]
            open_block = x is None or rng.random() < RATES["open_block_building"]
            grid = grids_of[c][b_no % len(grids_of[c])] if open_block or x is None else compound_grids[x][0]
            units, floors = rng.randrange(1, 5), rng.choice((6, 7, 11, 18, 26))
            per_floor = 2
            count = min(units * floors * per_floor, target - made)
            b = f"LD-{c}-{b_no:04d}"
            ds.add(
                "Building",
                code=b,
                name=f"{b_no}栋",
                floors=floors,
                units=units,
                grid_code=grid,
                compound_code="" if open_block else x,
            )
            buildings_of_grid[grid].append(b)
            hs = []
            for k in range(count):
                unit, rest = divmod(k, floors * per_floor)
                floor, room = divmod(rest, per_floor)
                h = f"HU-{c}-{b_no:04d}-{unit + 1}{floor + 1:02d}{room + 1:02d}"
                ds.add(
                    "Household",
                    code=h,
                    unit=f"{unit + 1}单元",
                    room=f"{floor + 1}{room + 1:02d}",
                    size=rng.randrange(1, 6),
                    building_code=b,
                    central_household_code="",
                )
                hs.append(h)
            households_of_building[b] = hs
            made += count
        per_city_households += made

    # branches: one per grid, but some grids have none
    all_grids = [g for c in communities for g in grids_of[c]]
    branchless = _pick(rng, all_grids, RATES["grid_without_branch"])
    branches = []
    branch_grid = {}
    for i, g in enumerate(all_grids):
        if i in branchless:
            continue
        c = g[3:15]
        br = f"DZB-{c}-{g[-2:]}"
        branches.append(br)
        branch_grid[br] = g
    under_three = {branches[i] for i in _pick(rng, branches, RATES["branch_under_three_full_members"])}
    rest = [b for b in branches if b not in under_three]
    no_committee = {rest[i] for i in _pick(rng, rest, RATES["branch_without_committee"])}
    expired_br = {branches[i] for i in _pick(rng, branches, RATES["expired_committee_term"])}

    unit_codes = _units(ds, p, rng, city_code, communities, community_committee)
    household_rows = {r["code"]: r for r in ds.rows["Household"]}
    homes_of_community: dict[str, list[str]] = defaultdict(list)
    for h in household_rows:
        homes_of_community[h[3:15]].append(h)
    member_no = 0
    volunteers: list[tuple[str, str]] = []
    for br in branches:
        g = branch_grid[br]
        c = g[3:15]
        grid_compounds = sorted({x for x, gs in compound_grids.items() if g in gs})
        if br in under_three:
            full = rng.randrange(0, 3)
        elif br in no_committee:
            full = rng.randrange(7, 25)
        else:
            full = rng.randrange(3, 25)
        has_committee = full >= 7 and br not in no_committee
        start = (
            as_of - timedelta(days=rng.randrange(6 * 365 + 30, 8 * 365))
            if br in expired_br
            else as_of - timedelta(days=rng.randrange(30, 3 * 365))
        )
        ds.add(
            "GridBranch",
            code=br,
            name=f"第{int(g[-2:])}网格党支部",
            dual_report="是",
            has_committee="是" if has_committee else "否",
            term_start=start,
            term_years=5,
            committee_code=community_committee[c],
            grid_codes=g,
            compound_codes=";".join(grid_compounds),
        )
        homes = [h for b in buildings_of_grid[g] for h in households_of_building[b]] or homes_of_community[c]
        members = []
        for k in range(full + rng.randrange(0, 3)):
            member_no += 1
            status = "正式党员" if k < full else "预备党员"
            phone = f"13{rng.randrange(100000000, 999999999)}"
            members.append(
                _member(ds, rng, c, member_no, home=rng.choice(homes), status=status, branch=br, phone=phone)
            )
        if members:
            ds.add("Role", member_code=members[0], organization_code=br, role="书记", since=start)
        # groups over the grid's buildings
        buildings = buildings_of_grid[g]
        lonely = {b for b in buildings if rng.random() < RATES["building_without_group"]}
        covered = [b for b in buildings if b not in lonely]
        for n, start_i in enumerate(range(0, len(covered), 2)):
            grp = f"DXZ-{c}-{g[-2:]}{n + 1:02d}"
            bs = covered[start_i : start_i + 2]
            ds.add("BuildingGroup", code=grp, name=f"第{n + 1}党小组", branch_code=br, building_codes=";".join(bs))
            if members:
                ds.add("Role", member_code=rng.choice(members), organization_code=grp, role="组长", since=start)
            if rng.random() < RATES["group_without_central_household"]:
                continue
            group_homes = [h for b in bs for h in households_of_building[b]]
            pos = 0
            ch_no = 0
            while pos < len(group_homes):
                ch_no += 1
                size = rng.randrange(10, 16)
                chunk = group_homes[pos : pos + size]
                pos += size
                if rng.random() < RATES["household_without_central_household"] and ch_no > 1:
                    continue  # these households stay unlinked
                home = chunk[0]
                ch = f"ZXH-{c}-{grp[-4:]}{ch_no:03d}"
                member_no += 1
                _member(ds, rng, c, member_no, home=home)
                ds.add(
                    "CentralHousehold",
                    code=ch,
                    name=f"{household_rows[home]['room']}党员中心户",
                    since=as_of - timedelta(days=rng.randrange(30, 2000)),
                    group_code=grp,
                    household_code=home,
                )
                for h in chunk[1:]:
                    household_rows[h]["central_household_code"] = ch
    # in-service members (双报到 volunteers): membership at their employer, living in the communities
    all_homes = list(household_rows)
    in_service_count = max(20, per_city_households // 20)
    never = _pick(rng, list(range(in_service_count)), RATES["member_never_reported"])
    for i in range(in_service_count):
        member_no += 1
        home = rng.choice(all_homes)
        c = home[3:15]
        m = _member(ds, rng, c, member_no, home=home, in_service=True, unit=rng.choice(unit_codes), years=30)
        if i not in never:
            ds.add(
                "MemberReport",
                member_code=m,
                community_code=c,
                date=as_of - timedelta(days=rng.randrange(1, 900)),
                receipt_returned="是",
            )
            volunteers.append((m, c))
    _lists(ds, p, rng, communities, volunteers, unit_codes)


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


def _units(
    ds: Dataset, p: Profile, rng: random.Random, city_code: str, communities: list[str], committees: dict[str, str]
) -> list[str]:
    codes = []
    never = _pick(rng, list(range(p.units)), RATES["unit_never_reported"])
    for i in range(p.units):
        kind, first, patterns = UNIT_NAMES[i % 3]
        code = _uscc(rng, first, city_code, i)
        c = communities[i % len(communities)]
        name = rng.choice(patterns).format(p=rng.choice(PLACES)) + f"({i + 1})"
        ds.add(
            "Unit", credit_code=code, name=name, kind=kind, address=f"{rng.choice(PLACES)}路{rng.randrange(1, 500)}号"
        )
        ds.add(
            "UnitMembership",
            unit_code=code,
            committee_code=committees[c],
            since=ds.as_of - timedelta(days=rng.randrange(100, 2000)),
        )
        if i not in never:
            ds.add(
                "UnitReport",
                unit_code=code,
                community_code=c,
                date=ds.as_of - timedelta(days=rng.randrange(1, 900)),
                receipt_returned="是",
            )
        codes.append(code)
    return codes


def _lists(
    ds: Dataset,
    p: Profile,
    rng: random.Random,
    communities: list[str],
    volunteers: list[tuple[str, str]],
    units: list[str],
) -> None:
    needs = int(p.list_entries * 0.375)
    unserved = _pick(rng, list(range(needs)), RATES["need_unserved"])
    served = needs - len(unserved)
    resources = p.list_entries - needs - served
    by_community: dict[str, list[str]] = defaultdict(list)
    for m, c in volunteers:
        by_community[c].append(m)
    for i in range(resources):
        c = communities[i % len(communities)]
        provider = rng.choice(by_community[c]) if by_community[c] and i % 2 else rng.choice(units)
        ds.add(
            "Resource",
            code=f"ZY-{c}-{i + 1:06d}",
            title=rng.choice(RESOURCE_TITLES),
            category="志愿服务",
            community_code=c,
            provider_code=provider,
        )
    for i in range(needs):
        c = communities[i % len(communities)]
        # a quarter of the needs are taken up by partner units (双报到 units serve where they report)
        provider = rng.choice(by_community[c]) if by_community[c] and i % 4 else rng.choice(units)
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


def manifest(ds: Dataset) -> dict[str, Any]:
    """Entity counts and the exact count of every gap kind, by the rules of docs/model.md."""
    rows = ds.rows
    split = lambda v: [x for x in str(v or "").split(";") if x]  # noqa: E731
    gaps: dict[str, int] = {}
    branch_covers_grid = {g for r in rows["GridBranch"] for g in split(r["grid_codes"])}
    branch_covers_compound = {x for r in rows["GridBranch"] for x in split(r["compound_codes"])}
    gaps["compound_without_branch"] = sum(
        1
        for r in rows["Compound"]
        if r["code"] not in branch_covers_compound and not set(split(r["grid_codes"])) & branch_covers_grid
    )
    grouped = {b for r in rows["BuildingGroup"] for b in split(r["building_codes"])}
    gaps["building_without_group"] = sum(1 for r in rows["Building"] if r["code"] not in grouped)
    groups_with_ch = {r["group_code"] for r in rows["CentralHousehold"]}
    gaps["group_without_central_household"] = sum(1 for r in rows["BuildingGroup"] if r["code"] not in groups_with_ch)
    ch_homes = {r["household_code"] for r in rows["CentralHousehold"]}
    gaps["household_without_central_household"] = sum(
        1 for r in rows["Household"] if not r["central_household_code"] and r["code"] not in ch_homes
    )
    full = Counter(r["branch_code"] for r in rows["PartyMember"] if r["branch_code"] and r["status"] == "正式党员")
    gaps["branch_under_three_full_members"] = sum(1 for r in rows["GridBranch"] if full[r["code"]] < 3)
    gaps["branch_without_committee"] = sum(
        1 for r in rows["GridBranch"] if full[r["code"]] >= 7 and r["has_committee"] != "是"
    )
    gaps["expired_committee_term"] = sum(
        1
        for key in ("CommunityCommittee", "GridBranch")
        for r in rows[key]
        if r.get("term_start") and _term_end(r["term_start"], int(r.get("term_years") or 5)) < ds.as_of
    )
    households = Counter(r["code"][3:15] for r in rows["Household"])
    gaps["community_size_out_of_range"] = sum(1 for r in rows["Community"] if not 3000 <= households[r["code"]] <= 5000)
    managed = {r["compound_code"] for r in rows["PropertyService"] if not r.get("until")}
    gaps["compound_without_property_company"] = sum(
        1 for r in rows["Compound"] if r["central_city"] == "是" and r["code"] not in managed
    )
    reported_units = {r["unit_code"] for r in rows["UnitReport"]}
    member_units = {r["unit_code"] for r in rows["UnitMembership"]}
    gaps["unit_never_reported"] = len(member_units - reported_units)
    reported_members = {r["member_code"] for r in rows["MemberReport"]}
    gaps["member_never_reported"] = sum(
        1 for r in rows["PartyMember"] if r["in_service"] == "是" and r["code"] not in reported_members
    )
    served = {r["need_code"] for r in rows["Service"] if r.get("need_code")}
    gaps["need_unserved"] = sum(1 for r in rows["Need"] if r["code"] not in served)
    centers = {r["community_code"] for r in rows["ServiceCenter"]}
    gaps["community_without_service_center"] = sum(1 for r in rows["Community"] if r["code"] not in centers)
    assert set(gaps) == set(GAP_KINDS)
    return {
        "profile": ds.profile,
        "seed": ds.seed,
        "asOf": ds.as_of.isoformat(),
        "rates": RATES,
        "entities": {s.key: len(rows.get(s.key, [])) for s in SHEETS},
        "gaps": gaps,
    }


def _term_end(start: date | str, years: int) -> date:
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
    if isinstance(value, date):
        return value.isoformat()
    return value


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


def write_demo(profile_name: str, seed: int, out: Path, as_of: date | None = None) -> dict[str, Any]:
    """Generate and write: an .xlsx workbook when `out` ends in .xlsx, else a CSV folder; returns the manifest.

    The manifest is written beside it (`<name>.manifest.json`, or `manifest.json` in the folder).
    """
    out = Path(out)
    xlsx = out.suffix.lower() == ".xlsx"
    if xlsx and PROFILES[profile_name].cities > 1:
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
            ws.append([_cell(row.get(k, "")) for k, _ in cols])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)


def _write_csv(ds: Dataset, out: Path, append: bool) -> None:
    for sheet in SHEETS:
        cols = headers(sheet.key)
        with (out / f"{sheet.key}.csv").open("a" if append else "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            if not append:
                w.writerow([zh for _, zh in cols])
            for row in ds.rows.get(sheet.key, []):
                w.writerow([_cell(row.get(k, "")) for k, _ in cols])

"""The organization graph's model: one declarative definition that everything else reads.

Every entity is a node label with a stable, unique `code`; every sheet of the import workbook is
either a node sheet (one row a node, with link columns naming other nodes by code) or a link
sheet (one row a dated relationship between two nodes). The loader's validation and Cypher, the
blank template, the GraphQL types and `docs/model.md` (with its diagram) are all derived from
`SHEETS`, so they cannot drift apart. Sheets come in model order: a sheet's rows may name the nodes of
earlier sheets freely; a link naming a later sheet (`later_links`) is checked once that sheet is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache


class Kind(StrEnum):
    """Value kinds a column can hold; each has its own conversion and check (`loaders.cells`)."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    AREA_CODE = "area_code"  # 统计用区划代码, 12 digits
    USCC = "uscc"  # 统一社会信用代码, GB 32100-2015
    ID_NUMBER = "id_number"  # 身份证号, GB 11643-1999 (sensitive)
    CODE = "code"  # the project's own codes: PREFIX-<12-digit area code>-<local part>
    ENUM = "enum"


@dataclass(frozen=True)
class Column:
    """A property column: graph property `name`, Chinese and English headers, kind and bounds."""

    name: str
    zh: str
    en: str
    kind: Kind = Kind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()  # for ENUM: the accepted (Chinese) values
    minimum: float | None = None
    maximum: float | None = None
    sensitive: bool = False  # personal information (PIPL): masked unless the role allows
    past: bool = False  # a date that cannot lie in the future (reports, services, joining)
    digits: bool = False  # a string of digits (a phone): must be typed as text, Excel would make it a number
    doc: str = ""

    @property
    def as_text(self) -> bool:
        """Digits that must arrive as text: an ID number, an area or credit code, a phone. Excel stores digits
        typed into a cell as a number and keeps 15 of them (`loaders.hints` says how to fix it)."""
        return self.digits or self.kind in (Kind.ID_NUMBER, Kind.AREA_CODE, Kind.USCC)


@dataclass(frozen=True)
class Link:
    """A column that names other nodes by code, written as relationships from (or to) the row's node."""

    zh: str
    en: str
    rel: str
    targets: tuple[str, ...]  # labels the code may name
    required: bool = False
    many: bool = False  # several codes separated by ; or ,
    incoming: bool = False  # (target)-[rel]->(row node) instead of (row node)-[rel]->(target)
    parent: bool = False  # the row's place in the hierarchy (its area path is inherited from it)
    same_area: str = ""  # "community" or "street": the target must lie in the row's own community or street
    doc: str = ""
    #: The row's area may come from this link's target when the parent link (and every earlier `locates` link)
    #: is empty: a member living outside the loaded area is placed by its branch, else by its community.
    locates: bool = False


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: a node sheet (`label` set) or a link sheet (`source`/`target` set)."""

    key: str  # English sheet name, also the CSV file stem
    zh: str  # Chinese sheet name
    doc: str
    label: str = ""  # node sheets
    prefix: str = ""  # own-code prefix (CODE kind), e.g. WG for grids
    code_kind: Kind = Kind.CODE
    area_level: str = ""  # for AREA_CODE entities: city, district, street or community
    columns: tuple[Column, ...] = ()
    links: tuple[Link, ...] = ()
    # link sheets
    rel: str = ""
    source: Link | None = None
    target: Link | None = None
    gaps: tuple[str, ...] = field(default=())
    #: Date columns besides `since` before which the row's fact is not yet in force (a member's joining day,
    #: a report's date, a need's raising day, a service's day). See `starts`.
    starts_with: tuple[str, ...] = field(default=())
    #: What identifies a row that leaves its code blank (自然键): column names and at most one link (`Link.en`,
    #: first: the row's place, named by its target's code or natural key). See `natural_parts` and
    #: `loaders.natural`; a sheet with a natural key has an optional code column (`_keyed`).
    natural_key: tuple[str, ...] = field(default=())

    @property
    def is_node(self) -> bool:
        """True for node sheets."""
        return bool(self.label)

    @property
    def ends(self) -> tuple[Link, ...]:
        """A link sheet's source and target links; empty for node sheets."""
        return (self.source, self.target) if self.source is not None and self.target is not None else ()

    @property
    def all_links(self) -> tuple[Link, ...]:
        """Source and target (link sheets), then the link columns."""
        return (*self.ends, *self.links)

    @property
    def items(self) -> tuple[Column | Link, ...]:
        """Every column in sheet order: source and target, property columns, link columns, then the validity
        columns every node sheet was given (`_dated`: last, so a workbook made before them keeps its order)."""
        own = tuple(c for c in self.columns if not _added(c))
        return (*self.ends, *own, *self.links, *(c for c in self.columns if _added(c)))

    @property
    def starts(self) -> tuple[str, ...]:
        """The date properties that must all lie on or before a day for the row's fact to be in force then."""
        names = {c.name for c in self.columns}
        return tuple(n for n in ("since", *self.starts_with) if n in names)

    @property
    def ended_by(self) -> str | None:
        """The date property after which the row's fact is no longer in force (`until`), if the sheet has one."""
        return "until" if any(c.name == "until" for c in self.columns) else None

    @property
    def natural_parts(self) -> tuple[Column | Link, ...]:
        """The columns and link of `natural_key`, in its order (empty when the sheet has none)."""
        items = {c.name: c for c in self.columns} | {lk.en: lk for lk in self.links}
        return tuple(items[name] for name in self.natural_key)

    @property
    def parent(self) -> Link | None:
        """The link that places the node in the hierarchy, if any."""
        return next((link for link in self.links if link.parent), None)

    @property
    def places(self) -> tuple[Link, ...]:
        """The links that may give the node its area, in order: the parent, then the `locates` links. The first
        one a row fills decides its area; when there are several, a row must fill at least one."""
        parent = self.parent
        return (*((parent,) if parent is not None else ()), *(lk for lk in self.links if lk.locates))


CODE = Column("code", "编码", "code", Kind.CODE, required=True, doc="稳定编码 / stable code")
NAME = Column("name", "名称", "name", required=True)
SINCE = Column("since", "起始日期", "since", Kind.DATE, doc="开始日期(含)/ in force from (inclusive)")
UNTIL = Column(
    "until", "终止日期", "until", Kind.DATE, doc="结束日期(含),空:仍有效 / in force until (inclusive); empty: in force"
)
#: Every node sheet's validity (added by `_dated` where a sheet does not declare its own).
FOUNDED = Column(
    "since", "起始日期", "since", Kind.DATE,
    doc="成立、建成、设立或迁入日期(含),空:一直有效 / founded, built, designated or moved in (inclusive); empty: ever",
)  # fmt: skip
ENDED = Column(
    "until", "终止日期", "until", Kind.DATE,
    doc="撤销、拆除、卸任或迁出的最后一天,空:仍有效 / the last day in force (dissolved, demolished, moved out); "
    "empty: still in force",
)  # fmt: skip
TERM_START = Column("termStart", "本届起始日期", "term_start", Kind.DATE, doc="本届委员会任期开始 / current term began")
TERM_YEARS = Column("termYears", "任期年限", "term_years", Kind.INT, minimum=1, maximum=10)
FULL_SINCE = Column(
    "fullSince", "转正日期", "full_since", Kind.DATE, past=True,
    doc="正式党员转正之日,此前按预备党员计;空为一直是正式党员 / the day a full member was confirmed, probationary "
    "before it; empty: full throughout",
)  # fmt: skip
PREVIOUS_TERM = Column(
    "previousTermStart", "上届起始日期", "previous_term_start", Kind.DATE,
    doc="上一届任期开始(任期年限同本届),用于判定本届开始前的日期是否超期未换届 / the previous term began (same term "
    "years): judges a day before the current term began",
)  # fmt: skip

ORG_LABELS = ("StreetWorkingCommittee", "CommunityCommittee", "GridBranch", "BuildingGroup")
PROVIDERS = ("PartyMember", "Unit")


def _area(code: Column) -> Column:
    return Column(code.name, code.zh, code.en, Kind.AREA_CODE, required=True, doc="统计用区划代码 / 12-digit area code")


_SHEETS: tuple[Sheet, ...] = (
    # ------------------------------------------------------------------ areas
    Sheet(
        "City",
        "市",
        "城市 / the city",
        label="City",
        code_kind=Kind.AREA_CODE,
        area_level="city",
        columns=(_area(CODE), NAME),
    ),
    Sheet(
        "District",
        "区",
        "区(县、市) / district or county",
        label="District",
        code_kind=Kind.AREA_CODE,
        area_level="district",
        columns=(_area(CODE), NAME),
        links=(Link("所属市编码", "city_code", "IN", ("City",), required=True, parent=True),),
    ),
    Sheet(
        "Street",
        "街道",
        "街道(乡镇) / street (subdistrict)",
        label="Street",
        code_kind=Kind.AREA_CODE,
        area_level="street",
        columns=(_area(CODE), NAME),
        links=(Link("所属区编码", "district_code", "IN", ("District",), required=True, parent=True),),
    ),
    Sheet(
        "Community",
        "社区",
        "社区 / community (target 3000-5000 households)",
        label="Community",
        code_kind=Kind.AREA_CODE,
        area_level="community",
        columns=(
            _area(CODE),
            NAME,
            Column("centralCity", "是否中心城区", "central_city", Kind.BOOL, doc="中心城区 / in the central city"),
        ),
        links=(Link("所属街道编码", "street_code", "IN", ("Street",), required=True, parent=True),),
        gaps=("community_size_out_of_range", "community_without_service_center"),
    ),
    Sheet(
        "Grid",
        "网格",
        "网格 / grid (多网合一)",
        label="Grid",
        prefix="WG",
        columns=(CODE, NAME),
        links=(Link("所属社区编码", "community_code", "IN", ("Community",), required=True, parent=True),),
    ),
    Sheet(
        "Compound",
        "小区",
        "小区 / residential compound",
        label="Compound",
        prefix="XQ",
        columns=(
            CODE,
            NAME,
            Column("address", "地址", "address"),
            Column(
                "centralCity",
                "是否中心城区",
                "central_city",
                Kind.BOOL,
                doc="空则随所属社区;社区也空则物业覆盖不计入(导入时提示)/ empty: as its community's; both empty: "
                "left out of the property figure",
            ),
        ),
        links=(
            Link("所属社区编码", "community_code", "IN", ("Community",), required=True, parent=True),
            Link(
                "所属网格编码",
                "grid_codes",
                "COVERS",
                ("Grid",),
                many=True,
                incoming=True,
                same_area="community",
                doc="可多个 / several",
            ),
        ),
        gaps=("compound_without_branch", "compound_without_property_company"),
    ),
    Sheet(
        "Building",
        "楼栋",
        "楼栋 / building",
        label="Building",
        prefix="LD",
        natural_key=("compound_code", "number"),
        columns=(
            CODE,
            NAME,
            Column(
                "number",
                "楼号",
                "number",
                doc="小区内的楼号,如 3栋;无编码时与所属小区一起识别楼栋 / the building's "
                "number in its compound (3栋); without a code, it and the compound identify the building",
            ),
            Column("floors", "层数", "floors", Kind.INT, minimum=1, maximum=200),
            Column("units", "单元数", "units", Kind.INT, minimum=1, maximum=50),
        ),
        links=(
            Link("所属网格编码", "grid_code", "IN", ("Grid",), required=True, parent=True),
            Link(
                "所属小区编码",
                "compound_code",
                "IN_COMPOUND",
                ("Compound",),
                same_area="community",
                doc="开放式楼栋可空 / empty: open block",
            ),
        ),
        gaps=("building_without_group",),
    ),
    # ------------------------------------------------------------------ organizations
    Sheet(
        "StreetWorkingCommittee",
        "街道大工委",
        "街道\u201c大工委\u201d / street working committee",
        label="StreetWorkingCommittee",
        natural_key=("street_code", "name"),
        prefix="DGW",
        columns=(CODE, NAME),
        links=(Link("所属街道编码", "street_code", "LEADS", ("Street",), required=True, parent=True),),
    ),
    Sheet(
        "CommunityCommittee",
        "社区党委",
        "社区党委(大党委) / community party committee",
        label="CommunityCommittee",
        natural_key=("community_code", "name"),
        prefix="SQDW",
        columns=(
            CODE,
            NAME,
            Column("widened", "是否大党委", "widened", Kind.BOOL, doc="吸纳兼职委员单位 / takes in member units"),
            TERM_START,
            TERM_YEARS,
            PREVIOUS_TERM,
        ),
        links=(
            Link("所属社区编码", "community_code", "LEADS", ("Community",), required=True, parent=True),
            Link("上级大工委编码", "working_committee_code", "UNDER", ("StreetWorkingCommittee",), same_area="street"),
        ),
        gaps=("expired_committee_term",),
    ),
    Sheet(
        "GridBranch",
        "网格党支部",
        "网格(小区)党支部 / grid or compound party branch",
        label="GridBranch",
        natural_key=("committee_code", "name"),
        prefix="DZB",
        columns=(
            CODE,
            NAME,
            Column("dualReport", "是否双报到支部", "dual_report", Kind.BOOL),
            Column("hasCommittee", "是否设支委会", "has_committee", Kind.BOOL, doc="支部委员会 / branch committee"),
            TERM_START,
            TERM_YEARS,
            PREVIOUS_TERM,
        ),
        links=(
            Link("上级社区党委编码", "committee_code", "UNDER", ("CommunityCommittee",), required=True, parent=True),
            Link("覆盖网格编码", "grid_codes", "COVERS", ("Grid",), many=True, same_area="community"),
            Link("覆盖小区编码", "compound_codes", "COVERS", ("Compound",), many=True, same_area="community"),
        ),
        gaps=("branch_under_three_full_members", "branch_without_committee", "expired_committee_term"),
    ),
    Sheet(
        "BuildingGroup",
        "楼栋党小组",
        "楼栋(单元)党小组 / building or unit party group",
        label="BuildingGroup",
        natural_key=("branch_code", "name"),
        prefix="DXZ",
        columns=(CODE, NAME),
        links=(
            Link("所属党支部编码", "branch_code", "UNDER", ("GridBranch",), required=True, parent=True),
            Link("覆盖楼栋编码", "building_codes", "COVERS", ("Building",), many=True, same_area="community"),
        ),
        gaps=("group_without_central_household",),
    ),
    Sheet(
        "CentralHousehold",
        "党员中心户",
        "党员中心户 / party-member central household",
        label="CentralHousehold",
        natural_key=("group_code", "name"),
        prefix="ZXH",
        columns=(CODE, NAME, SINCE),
        links=(
            Link("所属党小组编码", "group_code", "UNDER", ("BuildingGroup",), required=True, parent=True),
            Link("所在住户编码", "household_code", "AT", ("Household",), required=True, same_area="community"),
        ),
    ),
    # ------------------------------------------------------------------ households
    # After the organizations: a household names its central household, an earlier sheet, so a first
    # load makes that link with the household (2 M of them in a city) and not by a pass of its own.
    Sheet(
        "Household",
        "住户",
        "户 / household",
        label="Household",
        prefix="HU",
        natural_key=("building_code", "unit", "room"),
        columns=(
            CODE,
            Column("unit", "单元", "unit"),
            Column("room", "门牌号", "room"),
            Column("size", "人口数", "size", Kind.INT, minimum=0, maximum=50),
        ),
        links=(
            Link("所属楼栋编码", "building_code", "IN", ("Building",), required=True, parent=True),
            Link(
                "联系党员中心户编码",
                "central_household_code",
                "CONTACTS",
                ("CentralHousehold",),
                incoming=True,
                same_area="community",
                doc="联系本户的党员中心户 / the central household keeping in touch",
            ),
        ),
        gaps=("household_without_central_household",),
    ),
    # ------------------------------------------------------------------ partners and people
    Sheet(
        "Unit",
        "共建单位",
        "共建单位 / partner unit (机关、企事业单位、\u201c两新\u201d组织)",
        label="Unit",
        code_kind=Kind.USCC,
        columns=(
            Column("code", "统一社会信用代码", "credit_code", Kind.USCC, required=True),
            NAME,
            Column("kind", "单位类型", "kind", Kind.ENUM, required=True, choices=("机关", "企事业单位", "两新组织")),
            Column("address", "地址", "address"),
        ),
        gaps=("unit_never_reported",),
    ),
    Sheet(
        "PartyMember",
        "党员",
        "党员 / party member",
        label="PartyMember",
        prefix="DY",
        natural_key=("idNumber",),
        starts_with=("joinedAt",),
        columns=(
            CODE,
            NAME,
            Column("idNumber", "身份证号", "id_number", Kind.ID_NUMBER, sensitive=True),
            Column("status", "党员类别", "status", Kind.ENUM, required=True, choices=("正式党员", "预备党员")),
            Column("inService", "是否在职党员", "in_service", Kind.BOOL),
            Column("joinedAt", "入党日期", "joined_at", Kind.DATE, past=True),
            FULL_SINCE,
            Column("phone", "联系电话", "phone", sensitive=True, digits=True),
            Column(
                "address",
                "居住地址",
                "address",
                sensitive=True,
                doc="住在本地区以外(无住户编码)时填写 / where a member living outside the loaded area lives",
            ),
        ),
        # Where a member counts (per-area access): the household's area; without one the branch's; without
        # either the community named. One of the three must be given (`Sheet.places`).
        links=(
            Link(
                "党组织关系所在支部编码",
                "branch_code",
                "MEMBER_OF",
                ("GridBranch",),
                locates=True,
                doc="在职党员的组织关系在工作单位,可空;无住户时据此定所属社区 / empty for in-service members "
                "(membership at the employer); without a household it places the member",
            ),
            Link(
                "居住住户编码",
                "household_code",
                "LIVES_IN",
                ("Household",),
                parent=True,
                doc="住在本地区以外可空 / empty for a member living outside the loaded area",
            ),
            Link("工作单位信用代码", "unit_code", "WORKS_AT", ("Unit",)),
            Link(
                "所属社区编码",
                "community_code",
                "IN",
                ("Community",),
                locates=True,
                same_area="community",
                doc="住户和支部都空时必填,定所属社区 / required when household and branch are both empty: places "
                "the member",
            ),
        ),
        gaps=("member_never_reported",),
    ),
    Sheet(
        "ResidentsCommittee",
        "居委会",
        "居民委员会 / residents' committee",
        label="ResidentsCommittee",
        natural_key=("community_code", "name"),
        prefix="JWH",
        columns=(CODE, NAME),
        links=(Link("所属社区编码", "community_code", "SERVES", ("Community",), required=True, parent=True),),
    ),
    Sheet(
        "OwnersCommittee",
        "业委会",
        "业主委员会 / owners' committee",
        label="OwnersCommittee",
        natural_key=("compound_code", "name"),
        prefix="YWH",
        columns=(CODE, NAME, TERM_START),
        links=(Link("所属小区编码", "compound_code", "OF", ("Compound",), required=True, parent=True),),
    ),
    Sheet(
        "PropertyCompany",
        "物业服务公司",
        "物业服务公司 / property company",
        label="PropertyCompany",
        code_kind=Kind.USCC,
        columns=(Column("code", "统一社会信用代码", "credit_code", Kind.USCC, required=True), NAME),
    ),
    Sheet(
        "ServiceCenter",
        "党群服务中心",
        "党群服务中心 / party-masses service center",
        label="ServiceCenter",
        prefix="DQZX",
        columns=(CODE, NAME, Column("area", "面积(平方米)", "area_m2", Kind.FLOAT, minimum=0, maximum=100000)),
        links=(Link("所属社区编码", "community_code", "IN", ("Community",), required=True, parent=True),),
    ),
    Sheet(
        "RedStation",
        "红色驿站",
        "红色驿站 / red station",
        label="RedStation",
        prefix="HSYZ",
        columns=(CODE, NAME, Column("address", "地址", "address")),
        links=(
            Link(
                "所属社区或街道编码",
                "community_code",
                "IN",
                ("Community", "Street"),
                required=True,
                parent=True,
                doc="街道级驿站填街道编码(只在街道范围内可见)/ a street-level station names its street (seen in the "
                "street's scope, in no community's)",
            ),
            Link("所在小区编码", "compound_code", "IN_COMPOUND", ("Compound",), same_area="community"),
        ),
    ),
    # ------------------------------------------------------------------ the three lists
    Sheet(
        "Resource",
        "资源清单",
        "资源清单 / resources offered",
        label="Resource",
        prefix="ZY",
        columns=(CODE, Column("title", "内容", "title", required=True), Column("category", "类别", "category")),
        links=(
            Link("所属社区编码", "community_code", "FOR", ("Community",), required=True, parent=True),
            Link(
                "提供方编码", "provider_code", "OFFERED_BY", PROVIDERS, required=True, doc="党员或单位 / member or unit"
            ),
        ),
    ),
    Sheet(
        "Need",
        "需求清单",
        "需求清单 / needs raised",
        label="Need",
        prefix="XU",
        starts_with=("raisedAt",),
        columns=(
            CODE,
            Column("title", "内容", "title", required=True),
            Column("category", "类别", "category"),
            Column("raisedAt", "提出日期", "raised_at", Kind.DATE, required=True, past=True),
        ),
        links=(
            Link("所属社区编码", "community_code", "RAISED_IN", ("Community",), required=True, parent=True),
            Link("认领方编码", "claimed_by_code", "CLAIMED_BY", PROVIDERS, doc="认领的党员或单位 / who claimed it"),
        ),
        gaps=("need_unserved",),
    ),
    Sheet(
        "Service",
        "服务清单",
        "服务清单 / services delivered (服务登记卡)",
        label="Service",
        prefix="FW",
        starts_with=("date",),
        columns=(
            CODE,
            Column("title", "内容", "title", required=True),
            Column("date", "服务日期", "date", Kind.DATE, required=True, past=True),
            Column("hours", "服务时长(小时)", "hours", Kind.FLOAT, required=True, minimum=0, maximum=24),
        ),
        links=(
            Link("所属社区编码", "community_code", "IN", ("Community",), required=True, parent=True),
            Link("服务提供方编码", "provider_code", "DELIVERED_BY", PROVIDERS, required=True),
            Link("对应需求编码", "need_code", "FULFILS", ("Need",), same_area="community"),
        ),
    ),
    # ------------------------------------------------------------------ dated relationships
    Sheet(
        "Role",
        "任职",
        "党员任职 / roles held (书记、委员、组长...)",
        rel="HOLDS",
        source=Link("党员编码", "member_code", "HOLDS", ("PartyMember",), required=True),
        target=Link("组织编码", "organization_code", "HOLDS", ORG_LABELS, required=True),
        columns=(
            Column(
                "role",
                "职务",
                "role",
                Kind.ENUM,
                required=True,
                choices=("书记", "副书记", "委员", "组长", "楼栋长", "单元长"),
            ),
            SINCE,
            UNTIL,
        ),
    ),
    Sheet(
        "UnitMembership",
        "兼职委员单位",
        "大工委/大党委成员单位 / member units of working and widened committees",
        rel="MEMBER_UNIT_OF",
        source=Link("单位信用代码", "unit_code", "MEMBER_UNIT_OF", ("Unit",), required=True),
        target=Link(
            "大工委或社区党委编码",
            "committee_code",
            "MEMBER_UNIT_OF",
            ("StreetWorkingCommittee", "CommunityCommittee"),
            required=True,
        ),
        columns=(SINCE, UNTIL),
    ),
    Sheet(
        "UnitReport",
        "单位报到",
        "单位党组织\u201c双报到\u201d / unit reports to the community where it sits",
        rel="REPORTED_TO",
        source=Link("单位信用代码", "unit_code", "REPORTED_TO", ("Unit",), required=True),
        target=Link("报到社区编码", "community_code", "REPORTED_TO", ("Community",), required=True),
        columns=(
            Column("date", "报到日期", "date", Kind.DATE, required=True, past=True),
            Column("receiptReturned", "回执是否已反馈", "receipt_returned", Kind.BOOL),
            UNTIL,
        ),
        starts_with=("date",),
    ),
    Sheet(
        "MemberReport",
        "党员报到",
        "在职党员\u201c双报到\u201d / in-service members report to the community where they live",
        rel="REPORTED_TO",
        source=Link("党员编码", "member_code", "REPORTED_TO", ("PartyMember",), required=True),
        target=Link("报到社区编码", "community_code", "REPORTED_TO", ("Community",), required=True),
        columns=(
            Column("date", "报到日期", "date", Kind.DATE, required=True, past=True),
            Column("receiptReturned", "回执是否已反馈", "receipt_returned", Kind.BOOL),
            UNTIL,
        ),
        starts_with=("date",),
    ),
    Sheet(
        "PropertyService",
        "物业服务",
        "物业服务公司服务小区 / property company manages compound",
        rel="MANAGES",
        source=Link("物业公司信用代码", "company_code", "MANAGES", ("PropertyCompany",), required=True),
        target=Link("小区编码", "compound_code", "MANAGES", ("Compound",), required=True),
        columns=(SINCE, UNTIL),
    ),
)


def _added(column: Column) -> bool:
    """One of the validity columns `_dated` gives a node sheet that does not declare its own."""
    return column is FOUNDED or column is ENDED


def _dated(sheet: Sheet) -> Sheet:
    """A node sheet with its validity columns: `since` and `until` after its own columns, unless it has them."""
    if not sheet.is_node:
        return sheet
    names = {c.name for c in sheet.columns}
    extra = tuple(c for c in (FOUNDED, ENDED) if c.name not in names)
    return replace(sheet, columns=(*sheet.columns, *extra))


#: The code column of a sheet with a natural key: optional in the import, where a blank one is assigned by the
#: loader (`loaders.natural`); every node still has its code.
KEYED_CODE = replace(CODE, required=False)


def _keyed(sheet: Sheet) -> Sheet:
    """A sheet with a natural key: its code column optional (`KEYED_CODE`). Its key's link, if any, comes first,
    names one label by an outgoing relationship (the graph finds the node through it: `graph.natural`)."""
    if not sheet.natural_key:
        return sheet
    links = [p for p in sheet.natural_parts if isinstance(p, Link)]
    assert len(links) <= 1, sheet.key
    assert not links or sheet.natural_parts[0] is links[0], sheet.key
    assert all(len(lk.targets) == 1 and not lk.many and not lk.incoming for lk in links), sheet.key
    columns = tuple(KEYED_CODE if c is CODE else c for c in sheet.columns)
    return replace(sheet, columns=columns)


#: The model: every sheet, in order; every node sheet and every link sheet carries its validity (`starts`,
#: `ended_by`), so every fact can be asked about as of a day (graph/validity.py).
SHEETS: tuple[Sheet, ...] = tuple(_keyed(_dated(s)) for s in _SHEETS)
SHEETS_BY_KEY: dict[str, Sheet] = {s.key: s for s in SHEETS}
NODE_SHEETS: tuple[Sheet, ...] = tuple(s for s in SHEETS if s.is_node)
LINK_SHEETS: tuple[Sheet, ...] = tuple(s for s in SHEETS if not s.is_node)
SHEET_BY_LABEL: dict[str, Sheet] = {s.label: s for s in NODE_SHEETS}
LABELS: frozenset[str] = frozenset(SHEET_BY_LABEL)

#: Gap kinds (the generator's manifest and the API's GapKind use these names).
GAP_KINDS: tuple[str, ...] = (
    "compound_without_branch",
    "building_without_group",
    "group_without_central_household",
    "household_without_central_household",
    "branch_under_three_full_members",
    "branch_without_committee",
    "expired_committee_term",
    "community_size_out_of_range",
    "compound_without_property_company",
    "unit_never_reported",
    "member_never_reported",
    "need_unserved",
    "community_without_service_center",
)


@cache
def later_links(sheet: Sheet) -> tuple[Link, ...]:
    """`sheet`'s links naming a node sheet that comes later in the model (a central household's household).

    Validation checks them once that sheet is read; a first load writes them with the later sheet's nodes.
    Each names one label: a code is resolved to its label before the label's sheet is read."""
    later = {s.label for s in SHEETS[SHEETS.index(sheet) :] if s.is_node}
    return tuple(lk for lk in sheet.all_links if any(t in later for t in lk.targets))


for _sheet in SHEETS:
    assert all(len(lk.targets) == 1 for lk in later_links(_sheet)), _sheet.key


#: How a relationship type reads between its two ends, in the model's direction ({a}: the relationship's start,
#: {b}: its end), Chinese and English: "楼栋归属小区 / building in compound". A link sheet reads as its sheet's name.
REL_PHRASES: dict[str, tuple[str, str]] = {
    "IN": ("{a}属于{b}", "{a} in {b}"),
    "IN_COMPOUND": ("{a}归属{b}", "{a} in {b}"),
    "COVERS": ("{a}覆盖{b}", "{a} covers {b}"),
    "LEADS": ("{a}领导{b}", "{a} leads {b}"),
    "UNDER": ("{a}隶属{b}", "{a} under {b}"),
    "AT": ("{a}位于{b}", "{a} at {b}"),
    "CONTACTS": ("{a}联系{b}", "{a} keeps in touch with {b}"),
    "MEMBER_OF": ("{a}组织关系在{b}", "{a} member of {b}"),
    "LIVES_IN": ("{a}居住于{b}", "{a} lives in {b}"),
    "WORKS_AT": ("{a}工作于{b}", "{a} works at {b}"),
    "SERVES": ("{a}服务{b}", "{a} serves {b}"),
    "OF": ("{a}属于{b}", "{a} of {b}"),
    "FOR": ("{a}面向{b}", "{a} for {b}"),
    "OFFERED_BY": ("{a}由{b}提供", "{a} offered by {b}"),
    "RAISED_IN": ("{a}提出于{b}", "{a} raised in {b}"),
    "CLAIMED_BY": ("{a}由{b}认领", "{a} claimed by {b}"),
    "DELIVERED_BY": ("{a}由{b}提供", "{a} delivered by {b}"),
    "FULFILS": ("{a}回应{b}", "{a} fulfils {b}"),
}


def label_words(label: str) -> str:
    """A label in plain English words: "GridBranch" -> "grid branch"."""
    return "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in label).strip()


def link_phrase(label: str, link: Link, target: str) -> tuple[str, str]:
    """A link column's relationships in words, Chinese and English, in the model's direction (an `incoming` link
    starts at its target): ("网格覆盖小区", "grid covers compound")."""
    a, b = (target, label) if link.incoming else (label, target)
    zh, en = REL_PHRASES[link.rel]
    return (
        zh.format(a=SHEET_BY_LABEL[a].zh, b=SHEET_BY_LABEL[b].zh),
        en.format(a=label_words(a), b=label_words(b)),
    )


for _sheet in NODE_SHEETS:
    assert all(lk.rel in REL_PHRASES for lk in _sheet.links), _sheet.key

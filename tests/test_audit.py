"""The audit workbook: cell by cell against the hand-made street, then against the `small` city and the API.

The hand-made tests come first in this module: their fixture loads the hand-made street and writes its
reports (CLI and HTTP) before the `small` fixture replaces the graph with the generated city.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.model import GAP_KINDS, SHEET_BY_LABEL, SHEETS
from graph.driver import Graph
from graph.gaps import RULES
from graph.metrics import METRICS
from graph.migrations import migrate
from graph.scope import Scope
from graph.settings import Settings
from loaders.demo import dataset_to_xlsx
from loaders.load import load_file
from reports.audit import (
    COUNT_HEADER,
    FIGURE_COLUMNS,
    GAP_HEADER,
    KIND_SHEET,
    SUMMARY_SHEET,
    OutsideScope,
    Sheet,
    Table,
    build_audit,
    redact,
    sheets,
)
from reports.files import EXCEL_ROWS, XLSX_MEDIA, TooManyRows, display_width, sheet_rows, write_xlsx
from tests import handmade
from tests.helpers import bearer, clear, data_of, ensure_account, run_cli

STREET = handmade.S
AS_OF = handmade.AS_OF.isoformat()
LEVEL_HEADER = "层级 level"


# ---------------------------------------------------------------- reading a workbook back


def open_xlsx(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def rows_after(ws: Worksheet, first_header: str) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """The header row whose first cell is `first_header`, and the rows below it up to the first empty one."""
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    header = [c for c in rows[start] if c is not None]
    body = []
    for r in rows[start + 1 :]:
        if r[0] is None:
            break
        body.append(r[: len(header)])
    return header, body


def gap_rows(ws: Worksheet) -> list[tuple[Any, ...]]:
    header, body = rows_after(ws, GAP_HEADER[0])
    assert tuple(header) == GAP_HEADER
    return body


def all_values(wb: Workbook) -> dict[str, list[tuple[Any, ...]]]:
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def coverage_rows(wb: Workbook) -> dict[str | None, dict[str, Any]]:
    """The summary's coverage table: per area code, its level, name and (units, covered, rate) per metric."""
    header, body = rows_after(wb[SUMMARY_SHEET], LEVEL_HEADER)
    assert len(header) == 3 + 3 * len(METRICS)
    out: dict[str | None, dict[str, Any]] = {}
    for r in body:
        figures = {m.key: tuple(r[3 + 3 * i : 6 + 3 * i]) for i, m in enumerate(METRICS)}
        out[r[1]] = {"level": r[0], "name": r[2], "figures": figures}
    return out


def gap_counts(wb: Workbook) -> dict[str, int]:
    header, body = rows_after(wb[SUMMARY_SHEET], COUNT_HEADER[0])
    assert tuple(header) == COUNT_HEADER
    assert body[-1][0] == "合计 total"
    assert body[-1][1] == sum(r[1] for r in body[:-1])
    return {r[2]: r[1] for r in body[:-1]}


def expected_figure(units: int, covered: int) -> tuple[int, int, float | None]:
    return units, covered, (covered / units if units else None)


# ---------------------------------------------------------------- the hand-made street


@dataclass
class Handmade:
    street_xlsx: bytes  # written by the CLI
    street_zip: bytes  # written by the CLI, --format csv
    street_http: bytes  # GET /reports/audit.xlsx
    community_xlsx: bytes  # GET /reports/audit.xlsx for community A
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def hand(graph: Graph, client: AsyncClient, settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """The hand-made street loaded like any department's workbook, and its audit reports."""
    await migrate(graph)
    await clear(graph)
    tmp = tmp_path_factory.mktemp("audit-handmade")
    source = tmp / "handmade.xlsx"
    dataset_to_xlsx(handmade.dataset(), source)
    assert (await load_file(source, graph)).skipped == 0
    xlsx, zipped = tmp / "古城街道.xlsx", tmp / "street.zip"
    for out, extra in ((xlsx, ()), (zipped, ("--format", "csv"))):
        done = await asyncio.to_thread(
            run_cli, settings, "audit", "--scope", STREET, "--out", str(out), "--as-of", AS_OF, *extra
        )
        assert done.returncode == 0, done.stderr
        assert "已写出审计报告 / audit written" in done.stdout
    http = await client.get("/reports/audit.xlsx", params={"scope": STREET, "asOf": AS_OF})
    assert http.status_code == 200, http.text
    community = await client.get("/reports/audit.xlsx", params={"scope": handmade.A, "asOf": AS_OF})
    assert community.status_code == 200, community.text
    return Handmade(xlsx.read_bytes(), zipped.read_bytes(), http.content, community.content, dict(http.headers))


def _names() -> dict[str, tuple[str, str | None]]:
    """code → (label, name) of every node row of the hand-made input (a list entry's name is its title)."""
    out = {}
    rows = handmade.dataset().rows
    for sheet in SHEETS:
        if not sheet.label:  # a link sheet
            continue
        code_column = next(c.en for c in sheet.columns if c.name == "code")
        for row in rows.get(sheet.key, []):
            out[row[code_column]] = (sheet.label, row.get("name") or row.get("title"))
    return out


async def test_summary_of_the_handmade_street_is_the_hand_count(hand: Handmade) -> None:
    wb = open_xlsx(hand.street_xlsx)
    names = _names()
    title = [c for c in next(wb[SUMMARY_SHEET].iter_rows(max_row=2, values_only=True)) if c]
    assert "古城街道" in title[0]
    assert STREET in title[0]
    assert AS_OF in str(wb[SUMMARY_SHEET]["A2"].value)
    got = coverage_rows(wb)
    total = {
        m.key: tuple(sum(handmade.COVERAGE[c][m.key][i] for c in (handmade.A, handmade.B)) for i in (0, 1))
        for m in METRICS
    }
    expected = {
        STREET: {"level": "街道(合计)", "name": "古城街道",
                 "figures": {k: expected_figure(*v) for k, v in total.items()}},
        **{c: {"level": "社区", "name": names[c][1], "figures": {k: expected_figure(*v) for k, v in figs.items()}}
           for c, figs in handmade.COVERAGE.items()},
    }  # fmt: skip
    assert got == expected
    assert list(got) == [STREET, handmade.A, handmade.B]  # the scope first, then its children by code
    assert gap_counts(wb) == handmade.GAPS


async def test_every_gap_row_of_the_handmade_street_is_the_hand_found_one(hand: Handmade) -> None:
    wb = open_xlsx(hand.street_xlsx)
    names = _names()

    def name(code: str | None) -> str | None:
        return None if code is None else names[code][1]

    assert wb.sheetnames == [SUMMARY_SHEET, *(KIND_SHEET[k] for k in GAP_KINDS)]
    for kind, found in handmade.GAP_ROWS.items():
        expected = []
        for number, (code, street, community, grid, compound, org) in enumerate(found, start=1):
            label = names[code][0]
            rule = next(r for r in RULES if r.kind == kind and r.label == label)
            org_label = names[org][0]
            expected.append((
                number, name(street), name(community), name(grid), name(compound),
                SHEET_BY_LABEL[label].zh, code, name(code), rule.zh, rule.source,
                SHEET_BY_LABEL[org_label].zh, org, name(org),
            ))  # fmt: skip
        assert gap_rows(wb[KIND_SHEET[kind]]) == expected, kind
    assert sum(len(v) for v in handmade.GAP_ROWS.values()) == sum(handmade.GAPS.values())


async def test_a_community_audit_has_a_row_per_grid_as_counted_by_hand(hand: Handmade) -> None:
    wb = open_xlsx(hand.community_xlsx)
    got = coverage_rows(wb)
    grids = handmade.GRID_COVERAGE[handmade.A]
    assert list(got) == [handmade.A, *grids]
    assert got[handmade.A]["figures"] == {k: expected_figure(*v) for k, v in handmade.COVERAGE[handmade.A].items()}
    for grid, figures in grids.items():
        row = got[grid]
        assert row["level"] == "网格"
        for m in METRICS:  # a grid holds no community-level entities: those cells stay empty
            assert row["figures"][m.key] == (expected_figure(*figures[m.key]) if m.key in figures else (None,) * 3)
    assert gap_counts(wb) == {k: sum(1 for r in v if r[2] == handmade.A) for k, v in handmade.GAP_ROWS.items()}


async def test_cli_and_http_write_the_same_workbook(hand: Handmade) -> None:
    assert all_values(open_xlsx(hand.street_http)) == all_values(open_xlsx(hand.street_xlsx))
    assert hand.headers["content-type"] == XLSX_MEDIA
    disposition = hand.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert f'filename="audit-{STREET}-{AS_OF}.xlsx"' in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"审计报告-古城街道-{STREET}-{AS_OF}.xlsx"
    assert encoded.isascii()


async def test_the_workbook_is_formatted_to_print(hand: Handmade) -> None:
    wb = open_xlsx(hand.street_xlsx)
    assert len(set(wb.sheetnames)) == len(wb.sheetnames) == 1 + len(GAP_KINDS)
    for ws in wb.worksheets:
        assert len(ws.title) <= 31
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1
        assert ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert ws.print_title_rows
        assert ws.oddHeader.center.text == f"街道 古城街道({STREET}) · {ws.title} · 判定日期 {AS_OF}"
        assert "&P" in ws.oddFooter.center.text
    summary = wb[SUMMARY_SHEET]
    header_row = next(c.row for c in summary["A"] if c.value == LEVEL_HEADER)
    assert summary.freeze_panes == f"D{header_row + 1}"
    assert summary.auto_filter.ref.startswith(f"A{header_row}:")
    assert summary.print_title_rows == f"${header_row - 1}:${header_row}"
    assert all(c.font.b for c in summary[header_row] if c.value)
    first_rate = summary.cell(header_row + 1, 6)
    assert summary.cell(header_row, 6).value == FIGURE_COLUMNS[2]
    assert first_rate.number_format == "0.0%"
    assert isinstance(first_rate.value, float)
    for kind, found in handmade.GAP_ROWS.items():
        ws = wb[KIND_SHEET[kind]]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:M{1 + len(found)}"
        assert ws.print_title_rows == "$1:$1"
        assert all(c.font.b for c in ws[1])
        for column in ws.iter_cols(min_row=2):
            letter = column[0].column_letter
            widest = max((display_width(c.value) for c in column), default=0)
            assert ws.column_dimensions[letter].width >= min(widest, 36), (kind, letter)
    households = wb[KIND_SHEET["household_without_central_household"]]
    # a community's name, 4 CJK characters, is as wide as 8 Latin ones
    assert households.column_dimensions["C"].width >= display_width("檀溪社区") == 8


async def test_the_csv_zip_holds_every_table_of_the_workbook(hand: Handmade) -> None:
    wb = open_xlsx(hand.street_xlsx)
    with zipfile.ZipFile(io.BytesIO(hand.street_zip)) as z:
        names = z.namelist()
        files = {n: z.read(n) for n in names}
        assert AS_OF in z.comment.decode()
    assert names == [f"00-{SUMMARY_SHEET}-覆盖率.csv", f"01-{SUMMARY_SHEET}-空白点数.csv"] + [
        f"{i:02d}-{KIND_SHEET[k]}.csv" for i, k in enumerate(GAP_KINDS, start=2)
    ]
    for data in files.values():
        assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens the Chinese correctly
    tables = {n: list(csv.reader(io.StringIO(d.decode("utf-8-sig")))) for n, d in files.items()}
    coverage = tables[names[0]]
    assert coverage[0][3] == f"{METRICS[0].zh} {METRICS[0].key} {FIGURE_COLUMNS[0]}"
    in_xlsx = coverage_rows(wb)
    for line in coverage[1:]:
        row = in_xlsx[line[1]]
        assert line[0] == row["level"]
        assert line[2] == row["name"]
        for i, m in enumerate(METRICS):
            units, covered, rate = row["figures"][m.key]
            assert line[3 + 3 * i : 6 + 3 * i] == [str(units), str(covered), "" if rate is None else f"{rate:.1%}"]
    assert len(coverage) == 1 + len(in_xlsx)
    assert {r[2]: int(r[1]) for r in tables[names[1]][1:-1]} == handmade.GAPS
    for kind in GAP_KINDS:
        lines = tables[f"{2 + GAP_KINDS.index(kind):02d}-{KIND_SHEET[kind]}.csv"]
        assert tuple(lines[0]) == GAP_HEADER
        as_text = [["" if v is None else str(v) for v in r] for r in gap_rows(wb[KIND_SHEET[kind]])]
        assert lines[1:] == as_text, kind


async def test_a_failed_cli_audit_writes_nothing(hand: Handmade, settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    unknown = await asyncio.to_thread(run_cli, settings, "audit", "--scope", "420602099000", "--out", str(out))
    assert unknown.returncode == 1
    assert "找不到范围 420602099000 / no area with code 420602099000" in unknown.stderr
    invalid = await asyncio.to_thread(run_cli, settings, "audit", "--scope", "12345", "--out", str(out))
    assert invalid.returncode == 1
    assert "范围编码无效" in invalid.stderr
    assert "invalid scope" in invalid.stderr
    bad_day = await asyncio.to_thread(
        run_cli, settings, "audit", "--scope", STREET, "--out", str(out), "--as-of", "2026-13-01"
    )
    assert bad_day.returncode == 1
    assert "日期无效 / invalid date" in bad_day.stderr
    assert os.listdir(tmp_path) == []  # no report, no temporary file


# ---------------------------------------------------------------- the generated `small` city

CITY = "420600000000"


def _street(small: dict[str, Any]) -> str:
    return small["data"].rows["Street"][0]["code"]


async def _download(client: AsyncClient, suffix: str, **params: str) -> bytes:
    response = await client.get(f"/reports/audit.{suffix}", params=params)
    assert response.status_code == 200, response.text
    return response.content


async def test_small_city_gap_sheets_count_the_manifest(client: AsyncClient, small: dict[str, Any]) -> None:
    wb = open_xlsx(await _download(client, "xlsx", scope=CITY))
    manifest = small["manifest"]["gaps"]
    for kind in GAP_KINDS:
        rows = gap_rows(wb[KIND_SHEET[kind]])
        assert len(rows) == manifest[kind], kind
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert len({(r[6], r[8]) for r in rows}) == len(rows)  # each entity once per rule
    assert gap_counts(wb) == manifest


COVERAGE = """query($s: String!) { coverage(scope: $s) {
  scope { area { code name } figures { metric units covered rate } }
  children { area { code name } figures { metric units covered rate } } } }"""


def _api_figures(area: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    by_metric = {f["metric"]: (f["units"], f["covered"], f["rate"]) for f in area["figures"]}
    return {m.key: by_metric.get(m.key, (None, None, None)) for m in METRICS}


@pytest.mark.parametrize("level", ["street", "community"])
async def test_small_city_summary_is_what_the_coverage_api_says(
    client: AsyncClient, small: dict[str, Any], level: str
) -> None:
    code = _street(small) if level == "street" else small["data"].rows["Community"][0]["code"]
    wb = open_xlsx(await _download(client, "xlsx", scope=code))
    api = (await data_of(client, COVERAGE, s=code))["coverage"]
    got = coverage_rows(wb)
    areas = [api["scope"], *api["children"]]
    assert list(got) == [a["area"]["code"] for a in areas]
    for area in areas:
        row = got[area["area"]["code"]]
        assert row["name"] == area["area"]["name"]
        assert row["figures"] == _api_figures(area)
    for m in METRICS:  # the children's rows add up to the scope's
        units = sum(r["figures"][m.key][0] or 0 for c, r in got.items() if c != code)
        covered = sum(r["figures"][m.key][1] or 0 for c, r in got.items() if c != code)
        if level == "street" or m.key not in ("serviceCenters", "partnerReported"):
            assert (units, covered) == got[code]["figures"][m.key][:2], m.key
    assert len(got) > 2


async def test_http_workbook_is_the_module_built_one(graph: Graph, client: AsyncClient, small: dict[str, Any]) -> None:
    street = _street(small)
    downloaded = open_xlsx(await _download(client, "xlsx", scope=street))
    report = await build_audit(graph, Scope.parse(street), date.today().isoformat())
    buffer = io.BytesIO()
    write_xlsx(sheets(report), buffer)
    assert all_values(downloaded) == all_values(open_xlsx(buffer.getvalue()))
    assert {s.name: sheet_rows(s) for s in sheets(report)} == {ws.title: ws.max_row for ws in downloaded.worksheets}
    assert sum(len(gap_rows(downloaded[KIND_SHEET[k]])) for k in GAP_KINDS) == sum(len(g) for g in report.gaps.values())


async def test_http_csv_zip_matches_the_workbook(client: AsyncClient, small: dict[str, Any]) -> None:
    street = _street(small)
    response = await client.get("/reports/audit.zip", params={"scope": street})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].endswith(".zip")
    wb = open_xlsx(await _download(client, "xlsx", scope=street))
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        for i, kind in enumerate(GAP_KINDS, start=2):
            text = z.read(f"{i:02d}-{KIND_SHEET[kind]}.csv").decode("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text)))
            assert len(lines) - 1 == len(gap_rows(wb[KIND_SHEET[kind]])), kind


@pytest.mark.parametrize(
    ("path", "status", "zh", "en"),
    [
        ("/reports/audit.xlsx?scope=420602099000", 404, "找不到范围 420602099000", "no area with code 420602099000"),
        ("/reports/audit.zip?scope=WG-420602001001-99", 404, "找不到范围", "no area with code"),
        ("/reports/audit.xlsx", 400, "缺少参数 scope", "missing parameter scope"),
        ("/reports/audit.xlsx?scope=", 400, "缺少参数 scope", "missing parameter scope"),
        ("/reports/audit.xlsx?scope=12345", 400, "范围编码无效", "invalid scope"),
        ("/reports/audit.xlsx?scope=420600000000&asOf=2026-02-30", 400, "日期无效", "invalid asOf"),
        ("/reports/audit.pdf?scope=420600000000", 404, "没有这种报告格式", "no report audit.pdf"),
    ],
)
async def test_bad_requests_get_a_bilingual_json_error(
    client: AsyncClient, small: dict[str, Any], path: str, status: int, zh: str, en: str
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]["message"]
    assert message.index(zh) < message.index(en)  # Chinese first, English beside it


async def test_a_caller_reads_only_inside_its_scope(
    graph: Graph, settings: Settings, small: dict[str, Any], anonymous: AsyncClient
) -> None:
    mine, other = (c["code"] for c in small["data"].rows["Community"][:2])
    with pytest.raises(OutsideScope, match="无权查看该范围"):
        await build_audit(graph, Scope.parse(_street(small)), date.today().isoformat(), allowed=Scope.parse(mine))
    await ensure_account(graph, "audit.mine", "auditor", mine)
    await ensure_account(graph, "viewer.mine", "viewer", mine)
    auditor, viewer = bearer(settings, "audit.mine"), bearer(settings, "viewer.mine")
    refused = await anonymous.get("/reports/audit.xlsx", params={"scope": other}, headers=auditor)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    allowed = await anonymous.get("/reports/audit.xlsx", params={"scope": mine}, headers=auditor)
    assert allowed.status_code == 200
    # a viewer reads inside its scope, but downloads no audit workbook
    denied = await anonymous.get("/reports/audit.xlsx", params={"scope": mine}, headers=viewer)
    assert denied.status_code == 403
    assert "查看者" in denied.json()["error"]["message"]


def _all_text(wb: Workbook) -> str:
    return "\n".join(str(v) for rows in all_values(wb).values() for r in rows for v in r if v is not None)


async def test_no_personal_identifier_is_shown_unmasked(
    graph: Graph, client: AsyncClient, small: dict[str, Any]
) -> None:
    members = small["data"].rows["PartyMember"]
    secrets = [str(m[k]) for m in members for k in ("id_number", "phone") if m.get(k)]
    assert len(secrets) > len(members)  # every member has an ID number, some a phone
    # A name typed with the member's ID number and phone in it (it happens) must still come out masked:
    # a member listed among the gaps (in service, never reported) gets such a name for the while.
    reported = {r["member_code"] for r in small["data"].rows["MemberReport"]}
    member = next(m for m in members if m["in_service"] == "是" and m["code"] not in reported)
    phone = next(str(m["phone"]) for m in members if m.get("phone"))
    typed = f"{member['name']} {member['id_number']} {phone}"
    await graph.write_rows(
        "MATCH (m:PartyMember {code: $code}) SET m.name = $name", {"code": member["code"], "name": typed}
    )
    try:
        workbook = open_xlsx(await _download(client, "xlsx", scope=CITY))
        with zipfile.ZipFile(io.BytesIO(await _download(client, "zip", scope=CITY))) as z:
            csv_text = "\n".join(z.read(n).decode("utf-8-sig") for n in z.namelist())
    finally:
        await graph.write_rows(
            "MATCH (m:PartyMember {code: $code}) SET m.name = $name", {"code": member["code"], "name": member["name"]}
        )
    text = _all_text(workbook)
    for secret in secrets:
        assert secret not in text
        assert secret not in csv_text
    rows = gap_rows(workbook[KIND_SHEET["member_never_reported"]])
    shown = next(r[7] for r in rows if r[6] == member["code"])
    assert shown == redact(typed)
    assert shown.startswith(member["name"])
    assert member["id_number"][:6] + "********" + member["id_number"][14:] in shown
    assert phone[:3] + "****" + phone[-4:] in shown


def test_redact_masks_id_and_phone_numbers_but_not_codes() -> None:
    assert redact("张三 11010519491231002X 13812345678") == "张三 110105********002X 138****5678"
    assert redact("电话 0710-3456789") == "电话 071*****6789"
    # codes are not personal: a unit's credit code, an area code, a member code stay as they are
    for code in (handmade.UNIT_1, "420602001001", "DY-420602001001-000001", "HU-420602001001-0001-101"):
        assert redact(code) == code
    assert redact(None) is None


def test_a_sheet_longer_than_excel_allows_is_refused_before_writing() -> None:
    table = Table("long", GAP_HEADER, [(1,) * len(GAP_HEADER)] * EXCEL_ROWS)
    out = io.BytesIO()
    with pytest.raises(TooManyRows, match=r"超过 Excel 上限.*narrow the scope or ask for CSV"):
        write_xlsx([Sheet("long", [table])], out)
    assert out.getvalue() == b""
    table.rows.pop()
    assert sheet_rows(Sheet("long", [table])) == EXCEL_ROWS  # the header and every row just fit

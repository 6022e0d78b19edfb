"""Every answer of the service masks ID and phone numbers typed into free text (issue 21, PIPL).

The hand-made street (tests/handmade.py) is loaded with personal numbers written into its names — areas,
grids, compounds, buildings, organizations, members, units, needs — in the ways people write them ("+86 138
1234 5678", "4206 0219 9001 0112 3X", …). The GraphQL answers that carry names (places, entity and person
references, the responsible organization, partner units, network labels), the audit log and an edit's answer,
and the audit workbook with its file name show none of them unmasked. Entities' own fields are
`schema.entities.make_entity`'s and are tested with it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook

from core.areas import path
from core.codes import id_check_char
from core.privacy import redact
from graph.driver import Graph
from graph.migrations import migrate
from loaders.demo import dataset_to_xlsx
from loaders.load import load_file
from tests import handmade
from tests.helpers import clear, data_of, gql

A, B, STREET = handmade.A, handmade.B, "420602001000"
AS_OF = handmade.AS_OF.isoformat()
ID = "42060219900101123" + id_check_char("42060219900101123")
#: Personal numbers as people type them into a name; each must leave masked.
TYPED = (
    "+86 138 1234 5678",
    "(+86)139-8765-4321",
    "0086 137.2468.1357",
    "136 1122 3344",
    f"{ID[:4]} {ID[4:8]} {ID[8:12]} {ID[12:16]} {ID[16:]}",
    f"{ID[:6]}-{ID[6:14]}-{ID[14:]}",
    "11010519491231002X",
    "15012345678",
)
#: Their digits, whole and without the country prefix: none may show anywhere either.
DIGITS = tuple(re.sub(r"\D", "", t.replace("+86", "")).removeprefix("0086") for t in TYPED)


def _typed_names() -> Any:
    """The hand-made street with a personal number typed into every name (and a need's title)."""
    ds = handmade.dataset()
    n = 0
    for rows in ds.rows.values():
        for row in rows:
            for column in ("name", "title"):
                if row.get(column):
                    row[column] = f"{row[column]} 联系 {TYPED[n % len(TYPED)]}"
                    n += 1
    return ds


@pytest.fixture(scope="module")
async def typed(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    await migrate(graph)
    await clear(graph)
    path = tmp_path_factory.mktemp("privacy") / "typed.xlsx"
    dataset_to_xlsx(_typed_names(), path)
    result = await load_file(path, graph)
    assert result.skipped == 0
    return path


def _assert_masked(text: str, where: str) -> None:
    for written, digits in zip(TYPED, DIGITS, strict=True):
        assert written not in text, (where, written)
        assert digits not in text, (where, digits)


def test_the_typed_numbers_are_what_redact_masks() -> None:
    for written in TYPED:
        assert "*" in redact(written)
    assert DIGITS[0] == "13812345678"
    assert DIGITS[4] == ID


PLACES = "{ code name }"
REFS = "{ type code name }"


async def test_places_and_references_are_masked(client: AsyncClient, typed: Path) -> None:
    query = (
        "query($s: String!, $d: Date) {"
        "  coverage(scope: $s, asOf: $d) { scope { area %s } children { area %s } }"
        "  gaps(scope: $s, first: 500, asOf: $d) { edges { node {"
        "    entity %s street %s community %s grid %s compound %s responsible { type code name } } } }"
        "  partnerNetwork(scope: $s) { scope %s }"
        "}"
    ) % (PLACES, PLACES, REFS, PLACES, PLACES, PLACES, PLACES, PLACES)
    data = await data_of(client, query, s=STREET, d=AS_OF)
    text = json.dumps(data, ensure_ascii=False)
    _assert_masked(text, "coverage, gaps, partnerNetwork")
    assert data["coverage"]["scope"]["area"]["name"] == redact(f"古城街道 联系 {TYPED[2]}")
    names = [e["node"]["entity"]["name"] for e in data["gaps"]["edges"] if e["node"]["entity"]["name"]]
    assert names
    assert all("*" in name for name in names if "联系" in name)
    assert "138 **** 5678" in text or "139-****-4321" in text


async def test_a_responsibility_chain_is_masked(client: AsyncClient, typed: Path) -> None:
    query = (
        "query($c: String!, $d: Date) { responsibilityChain(code: $c, asOf: $d) {"
        "  subject %s street %s community %s compound %s"
        "  links { levelName organization %s head { code name role } }"
        "  partnerUnits { code name kind } } }"
    ) % (REFS, PLACES, PLACES, PLACES, REFS)
    heads, units = [], []
    for household in (f"HU-{A}-0001-102", f"HU-{B}-0002-101"):
        data = await data_of(client, query, c=household, d=AS_OF)
        chain = data["responsibilityChain"]
        _assert_masked(json.dumps(data, ensure_ascii=False), household)
        heads += [link["head"]["name"] for link in chain["links"] if link["head"]]
        units += [unit["name"] for unit in chain["partnerUnits"]]
    assert heads
    assert units
    assert all("*" in name for name in heads + units)  # every name has a number typed into it


async def test_network_labels_are_masked(client: AsyncClient, typed: Path) -> None:
    query = (
        "query($r: String!, $d: Date) {"
        "  network(root: $r, depth: 6, maxNodes: 2000, households: true, asOf: $d) { nodes { code type label } } }"
    )
    for root in (STREET, A, f"DZB-{A}-01"):
        data = await data_of(client, query, r=root, d=AS_OF)
        nodes = data["network"]["nodes"]
        assert len(nodes) > 1
        _assert_masked(json.dumps(data, ensure_ascii=False), root)
        assert any("*" in n["label"] for n in nodes)


async def test_an_edit_and_the_audit_log_are_masked(client: AsyncClient, graph: Graph, typed: Path) -> None:
    code = f"DZB-{A}-01"
    typed_name = f"檀溪第1网格党支部 书记手机 {TYPED[0]} 身份证 {TYPED[4]}"
    body = await gql(
        client,
        "mutation($i: GridBranchInput!) { updateGridBranch(input: $i) { code before after } }",
        i={"code": code, "name": typed_name},
    )
    assert "errors" not in body, body
    _assert_masked(json.dumps(body, ensure_ascii=False), "updateGridBranch")
    assert body["data"]["updateGridBranch"]["after"]["name"] == redact(typed_name)
    # an entry written before free text was masked in storage is masked when read
    raw = json.dumps({"code": code, "name": typed_name, "note": TYPED[6]}, ensure_ascii=False)
    await graph.write_rows(
        "CREATE (a:_Audit {id: randomUUID(), at: datetime(), actor: 'earlier', action: 'update GridBranch', "
        "label: 'GridBranch', code: $code, before: $raw, after: $raw}) SET a += $area",
        {"code": code, "raw": raw, "area": path(A, "community")},  # filed under its community, as edits are
    )
    log = await data_of(client, "query($c: String!) { auditLog(code: $c) { actor action before after } }", c=code)
    entries = log["auditLog"]
    assert {e["actor"] for e in entries} >= {"earlier"}
    assert len(entries) >= 2
    _assert_masked(json.dumps(log, ensure_ascii=False), "auditLog")
    earlier = next(e for e in entries if e["actor"] == "earlier")
    assert earlier["after"]["name"] == redact(typed_name)
    assert earlier["after"]["note"] == redact(TYPED[6])
    stored = await graph.read_rows(
        "MATCH (a:_Audit {code: $code}) WHERE a.actor <> 'earlier' RETURN a.before AS before, a.after AS after",
        {"code": code},
    )
    _assert_masked(json.dumps(stored, ensure_ascii=False), "the stored audit entry")


async def test_the_audit_workbook_and_its_file_name_are_masked(client: AsyncClient, typed: Path) -> None:
    for suffix in ("xlsx", "zip"):
        response = await client.get(f"/reports/audit.{suffix}", params={"scope": STREET, "asOf": AS_OF})
        assert response.status_code == 200, response.text
        disposition = unquote(response.headers["content-disposition"])
        _assert_masked(disposition, f"audit.{suffix} file name")
        if suffix == "xlsx":
            wb = load_workbook(io.BytesIO(response.content))
            cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
            headers = [ws.oddHeader.center.text or "" for ws in wb.worksheets]
            text = "\n".join(cells + headers)
            assert "*" in text
        else:
            with zipfile.ZipFile(io.BytesIO(response.content)) as z:
                text = "\n".join(z.read(n).decode("utf-8-sig") for n in z.namelist()) + "\n".join(z.namelist())
        _assert_masked(text, f"audit.{suffix}")


async def test_entity_names_are_masked_on_every_way_to_them(client: AsyncClient, typed: Path) -> None:
    """Look-ups (prefetched and batched), search and dated relationships show names with their numbers masked,
    even to an admin (the personal-data grant unmasks ID-number and phone columns, not free text)."""
    query = (
        "query($s: String!) {"
        "  street(code: $s) { name communities { name grids { name } compounds { name buildings { name } } } }"
        '  search(name: "联系", first: 200) {'
        "    edges { node { label ... on Unit { name unitReports { community { name } } } } } }"
        "  cities { name districts { name streets { name } } }"
        "}"
    )
    data = await data_of(client, query, s=STREET)
    text = json.dumps(data, ensure_ascii=False)
    _assert_masked(text, "entities")
    assert "*" in data["street"]["name"]
    assert len(data["search"]["edges"]) > 5

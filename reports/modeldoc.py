"""`docs/model.md`, generated from `core.model` (run `python -m reports.modeldoc`; a test checks it is current)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from core.model import (
    CODE,
    ENDED,
    FOUNDED,
    KEYED_CODE,
    LINK_SHEETS,
    NODE_SHEETS,
    SHEET_BY_LABEL,
    SINCE,
    UNTIL,
    Column,
    Kind,
    Sheet,
)
from graph.gaps import rules_of
from graph.metrics import METRICS
from graph.settings import PROJECT_ROOT
from loaders.demo import ELSEWHERE, PROFILES, RATES
from loaders.hints import EXCEL_DIGITS

DOC = PROJECT_ROOT / "docs" / "model.md"
#: Columns every sheet shares: their notes are not repeated under each sheet.
SHARED = (CODE, KEYED_CODE, FOUNDED, ENDED, SINCE, UNTIL)


def _kind(column: Column) -> str:
    text = column.kind.value
    if column.kind is Kind.ENUM:
        text += " (" + " / ".join(column.choices) + ")"
    if column.sensitive:
        text += ", sensitive"
    return text


def render() -> str:
    """The whole document."""
    out = [
        "# 数据模型 / The graph model",
        "",
        "_Generated from `core/model.py` by `python -m reports.modeldoc`; do not edit by hand._",
        "",
        "Every node has a unique `code`. Area-bound nodes also carry `cityCode`, `districtCode`, `streetCode` and",
        "`communityCode` (inherited from their parent), so every read can be scoped to an area inside its Cypher.",
        "",
        "## Diagram / 关系图",
        "",
        "```mermaid",
        "flowchart BT",
    ]
    for sheet in NODE_SHEETS:
        out.append(f'  {sheet.label}["{sheet.zh}<br/>{sheet.label}"]')
    for sheet in NODE_SHEETS:
        for link in sheet.links:
            for target in link.targets:
                a, b = (target, sheet.label) if link.incoming else (sheet.label, target)
                arrow = "==>" if link.parent else "-->"
                out.append(f"  {a} {arrow}|{link.rel}| {b}")
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        for a in sheet.source.targets:
            for b in sheet.target.targets:
                out.append(f"  {a} -.->|{sheet.rel}| {b}")
    out += ["```", "", "Thick arrows: the parent (hierarchy) link; dotted: dated relationships from link sheets.", ""]
    out += ["## Nodes / 节点", ""]
    for sheet in NODE_SHEETS:
        out += [f"### {sheet.label} — {sheet.zh}", "", sheet.doc, ""]
        code = f"`{sheet.prefix}-<12-digit area code>-<local>`" if sheet.prefix else sheet.code_kind.value
        out += [f"Code: {code}. Import sheet: `{sheet.zh}` or `{sheet.key}`.", ""]
        out += _natural_key(sheet)
        out += ["| property | 列名 | header | kind | required |", "|---|---|---|---|---|"]
        for c in sheet.columns:
            required = "yes" if c.required else "或自然键 / or the natural key" if c is KEYED_CODE else ""
            out.append(f"| `{c.name}` | {c.zh} | `{c.en}` | {_kind(c)} | {required} |")
        if sheet.links:
            out += ["", "| relationship | 列名 | header | to | required |", "|---|---|---|---|---|"]
            for link in sheet.links:
                direction = "←" if link.incoming else "→"
                many = " (several)" if link.many else ""
                targets = ", ".join(link.targets)
                out.append(
                    f"| {direction} `{link.rel}`{many} | {link.zh} | `{link.en}` | {targets} | "
                    f"{'yes' if link.required else ''} |"
                )
        notes = [f"- `{i.en}`: {i.doc}" for i in sheet.items if i.doc and not (isinstance(i, Column) and i in SHARED)]
        out += ["", *notes] if notes else []
        out += _places_note(sheet)
        out.append("")
    out += ["## Dated relationships / 关系表", ""]
    for sheet in LINK_SHEETS:
        assert sheet.source is not None
        assert sheet.target is not None
        props = ", ".join(f"`{c.name}` ({c.zh})" for c in sheet.columns)
        out.append(
            f"- **{sheet.key} — {sheet.zh}**: ({'|'.join(sheet.source.targets)})-[`{sheet.rel}` {{{props}}}]->"
            f"({'|'.join(sheet.target.targets)}). {sheet.doc}"
        )
    out += ["", "## Entry rules / 录入规则", ""]
    out += _entry_rules()
    out += ["", "## Gap kinds / 空白点类型", ""]
    out += ["Defined in `graph/gaps.py` (one Cypher condition per kind and label); the API's `GapKind` and the"]
    out += ["demo manifest use the same names.", ""]
    out += ["| kind | entity | rule | source | who should act |", "|---|---|---|---|---|"]
    for rule in rules_of():
        out.append(
            f"| `{rule.kind}` | {rule.label} | {rule.zh} / {rule.en} | {rule.source} | {_who(rule.responsible)} |"
        )
    out += ["", "## Coverage metrics / 覆盖率指标", ""]
    out += ["Defined in `graph/metrics.py`; `coverage(scope:)` reports each for the scope and every child area.", ""]
    out += ["| metric | counts | uncovered are the gap |", "|---|---|---|"]
    for m in METRICS:
        out.append(f"| `{m.key}` | {m.zh} / {m.en} | {f'`{m.gap}`' if m.gap else '—'} |")
    out += ["", f"Labels: {len(SHEET_BY_LABEL)}; link sheets: {len(LINK_SHEETS)}.", ""]
    out += _demo_section()
    return "\n".join(out)


def _natural_key(sheet: Sheet) -> list[str]:
    """A node sheet's natural key (`Sheet.natural_key`), when it has one: what identifies a row without a code."""
    if not sheet.natural_key:
        return []
    parts = " + ".join(f"{p.zh} `{p.en}`" for p in sheet.natural_parts)
    return [
        f"自然键 / Natural key: {parts}. 编码可空:按自然键在工作簿和数据库中识别,新行由导入分配 "
        f"`{sheet.prefix}-<区划代码>-N<序号>` / the code may be blank: the row is found by its key (workbook, then "
        f"graph), a new one is assigned `{sheet.prefix}-<area code>-N<number>`.",
        "",
    ]


def _entry_rules() -> list[str]:
    """The rules a cell is judged by beyond its kind (`loaders.hints`), with the columns they apply to."""
    digits = [f"{s.zh}.{c.zh}" for s in NODE_SHEETS for c in s.columns if c.as_text and c.name != "code"]
    return [
        "- Digits that must be text (" + "、".join(digits) + ", and every code column): a cell Excel stored as a",
        "  number is refused with 请将该列设为文本格式 / format the column as text when it is an ID number, has more",
        f"  than {EXCEL_DIGITS} digits (Excel keeps {EXCEL_DIGITS}), fails its check, or reads in scientific notation.",
        "- A personal cell still holding an error workbook's mask (`*`) is refused: retype it from the source.",
        "- Every problem names its sheet, row, column letter and header (C列 身份证号 / column C), and why.",
        "- 自然键 / Natural keys: a row whose code is blank is identified by its sheet's natural key (above); two",
        "  such rows with one key are refused (自然键重复 / duplicate natural key, an ID number masked). A link cell",
        "  may name such a row by its key, parts joined by `/` (`XQ-420602001001-01/3栋/2/301`; a member: the ID",
        "  number); a row that has a code is named by its code. See docs/import.md.",
    ]


def _places_note(sheet: Sheet) -> list[str]:
    """The rule placing a node with several `places` in its area (a party member), Chinese first."""
    if len(sheet.places) < 2:
        return []
    zh = " → ".join(lk.zh for lk in sheet.places)
    en = " → ".join(f"`{lk.en}`" for lk in sheet.places)
    return [
        "",
        f"**所属区域 / Where it counts**: 按 {zh} 的顺序,第一个填写的编码决定其所属社区(及街道、区、市),按区域的",
        "访问权限据此限定;都不填的行被拒绝,错误指明工作表、行和列;所属社区编码须与住户或支部同一社区。住在本地区以外的",
        "党员不填住户,只填支部或社区编码,居住地址(个人信息,无权限者脱敏)可填在「居住地址」;这样的党员不计入任何网格",
        "(社区覆盖率中计入「无网格」),也不影响住户、中心户的覆盖率。",
        f"/ The first of {en} a row fills gives its community (and street, district, city), which per-area access",
        "reads; a row filling none is refused, naming sheet, row and column; a community code must be the household's",
        "or the branch's community. A member living outside the loaded area gives no household, only a branch or a",
        "community, and may give the address (personal data, masked without the right); such a member lies in no grid",
        "(counted under 'no grid' in a community's coverage) and changes no household or central-household figure.",
    ]


def _who(expression: str) -> str:
    """The organization labels a responsible-organization expression can return, in order."""
    labels = re.findall(r"\(o:(\w+)\)", expression)
    return " → ".join(dict.fromkeys(labels)) or "the committee it joined / 所加入的委员会"


def _demo_section() -> list[str]:
    out = ["## The generated city / 演示城市", "", "`grassroots demo --profile small|city|province --seed N`.", ""]
    out += ["| profile | cities | streets | communities | grids | compounds | units | red stations | list entries |"]
    out += ["|---|---|---|---|---|---|---|---|---|"]
    for p in PROFILES.values():
        out.append(
            f"| {p.name} | {p.cities} | {p.streets * p.cities} | {p.communities * p.cities} | {p.grids * p.cities} | "
            f"{p.compounds * p.cities} | {p.units * p.cities} | {p.red_stations * p.cities} | "
            f"{p.list_entries * p.cities:,} |"
        )
    out += [
        "",
        "Households: 3000-5000 per community, except the injected out-of-range ones. Members living outside the",
    ]
    out += [
        f"generated area: {len(ELSEWHERE)} per street, in its first community, no household (one placed by a branch,"
    ]
    out += ["one by the community's code), changing no gap or figure.", ""]
    out += ["Injected rates (share of the eligible entities; the manifest has the exact resulting counts):", ""]
    out += ["| rate | value |", "|---|---|"]
    out += [f"| `{k}` | {v:.0%} |" for k, v in RATES.items()]
    out.append("")
    return out


def main() -> None:
    """Write docs/model.md (or check it with --check)."""
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if DOC.exists() and DOC.read_text(encoding="utf-8") == text else 1)
    Path(DOC).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

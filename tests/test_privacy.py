"""Masking personal numbers in free text (`core.privacy.redact`) and in logs (`RedactingFilter`); no Neo4j.

An ID or mobile number typed into a name, note or address is masked however it is written — whole, in groups
with spaces, dashes or dots, behind +86 — and nothing else is: the project's own codes, area codes, credit
codes, dates and counts come out as they went in. The integration side (every answer of the service) is in
tests/test_privacy_paths.py.
"""

from __future__ import annotations

import io
import logging
import logging.config
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from cli import _logging, _uvicorn_logging
from core.codes import id_check_char, uscc_check_char
from core.model import SHEETS
from core.privacy import RedactingFilter, mask_id_number, mask_phone, redact, redact_logs, redact_value
from loaders.demo import generate, headers
from loaders.load import validate_file
from loaders.problems import Problem
from loaders.workbooks import write_error_workbook
from tests import handmade


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


ID = _id("42060219900101123")  # born 1990-01-01 in 襄城区
ID_X = "11010519491231002X"  # a valid one ending in X
assert _id("11010519491231002") == ID_X
PHONE = "13812345678"


# ---------------------------------------------------------------- compact forms (as before)


def test_compact_id_and_phone_numbers_are_masked_as_mask_masks_them() -> None:
    assert redact(f"张三 {ID_X} {PHONE}") == f"张三 {mask_id_number(ID_X)} {mask_phone(PHONE)}"
    assert redact(f"张三{ID}") == "张三420602********" + ID[-4:]
    assert redact(f"电话:{PHONE}。") == "电话:138****5678。"
    assert redact("电话 0710-3456789") == "电话 071*****6789"  # a landline is masked whole, as before
    assert redact("ID" + ID_X.lower()) == "ID110105********002x"
    assert redact(PHONE + "x") == "138****5678x"  # a letter after the number does not hide it
    assert redact(None) is None
    assert redact("") == ""


# ---------------------------------------------------------------- spaced, dashed, dotted, +86


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("+86 138-1234-5678", "+86 138-****-5678"),
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("138.1234.5678", "138.****.5678"),
        ("138 - 1234 - 5678", "138 - **** - 5678"),
        ("138  1234  5678", "138  ****  5678"),
        ("1381 234 5678", "138* *** 5678"),
        ("138 12345678", "138 ****5678"),
        ("1381234 5678", "138**** 5678"),
        ("(+86)13812345678", "(+86)138****5678"),
        ("(+86) 138 1234 5678", "(+86) 138 **** 5678"),
        ("（+86）138-1234-5678", "（+86）138-****-5678"),
        ("（86）13812345678", "（86）138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86-13812345678", "+86-138****5678"),
        ("0086 138 1234 5678", "0086 138 **** 5678"),
        ("008613812345678", "0086138****5678"),
        ("86-138-1234-5678", "86-138-****-5678"),
        ("86 13812345678", "86 138****5678"),
        ("＋86 138－1234－5678", "＋86 138－****－5678"),
        ("138\u00a01234\u00a05678", "138\u00a0****\u00a05678"),
        ("138\u30001234\u30005678", "138\u3000****\u30005678"),
        ("138–1234–5678", "138–****–5678"),
    ],
)
def test_a_mobile_number_is_masked_however_it_is_written(typed: str, shown: str) -> None:
    assert redact(typed) == shown
    assert redact(f"王五 {typed} (手机)") == f"王五 {shown} (手机)"
    assert redact(f"联系人:{typed};") == f"联系人:{shown};"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("4206 0219 9001 0112 3" + ID[-1], "4206 02** **** **12 3" + ID[-1]),
        ("420602 19900101 123" + ID[-1], "420602 ******** 123" + ID[-1]),
        ("420602-19900101-123" + ID[-1], "420602-********-123" + ID[-1]),
        ("420602 1990 0101 123" + ID[-1], "420602 **** **** 123" + ID[-1]),
        ("420 602 199 001 011 23" + ID[-1], "420 602 *** *** **1 23" + ID[-1]),
        ("1101 0519 4912 3100 2X", "1101 05** **** **00 2X"),
        ("110105.19491231.002x", "110105.********.002x"),
        ("110105 1949 1231 002X", "110105 **** **** 002X"),
    ],
)
def test_an_id_number_is_masked_in_groups_too(typed: str, shown: str) -> None:
    assert redact(typed) == shown
    assert redact(f"身份证号 {typed},住址") == f"身份证号 {shown},住址"


def test_numbers_side_by_side_are_each_masked() -> None:
    masked_id, masked_phone = mask_id_number(ID_X), mask_phone(PHONE)
    assert redact(f"{ID_X} {PHONE}") == f"{masked_id} {masked_phone}"
    assert redact(f"{PHONE} {ID_X}") == f"{masked_phone} {masked_id}"
    assert redact(f"{ID_X}{PHONE}") == f"{masked_id}{masked_phone}"  # nothing between: the X ends the ID
    assert redact(f"{PHONE}/{ID_X}") == f"{masked_phone}/{masked_id}"
    assert redact("138 1234 5678 1101 0519 4912 3100 2X") == "138 **** 5678 1101 05** **** **00 2X"
    assert redact(f"{PHONE} 2 楼") == f"{masked_phone} 2 楼"  # a count after the number
    assert redact(f"101 室 {PHONE}") == f"101 室 {masked_phone}"
    assert redact(f"101 {PHONE}") == f"101 {masked_phone}"  # a room number before it
    assert redact(f"张三 {PHONE},李四 139 8765 4321") == f"张三 {masked_phone},李四 139 **** 4321"


def test_masking_twice_changes_nothing_more() -> None:
    for text in (f"{ID_X} {PHONE}", "+86 138-1234-5678", "4206 0219 9001 0112 3" + ID[-1], "0710-3456789"):
        once = redact(text)
        assert redact(once) == once


# ---------------------------------------------------------------- what is not a personal number


@pytest.mark.parametrize(
    "text",
    [
        "420602001001",  # an area code
        "420602001000",
        "130602001001",  # an area code starting like a mobile number (河北)
        "HU-420602001001-0001",
        "HU-420602001001-0001-101",
        "DY-420602001001-000001",
        "DY-420602199001-011234",  # an own code whose digits would read as an ID number born 1990-01-01
        "WG-130602001001-03",
        "XQ-420602001001-13812345678",  # a local part that looks like a phone is still part of a code
        "420602001001-000001",  # an area code and a serial: 18 digits, but no birth date
        "420602001001 0001",
        handmade.UNIT_1,  # credit codes: letters between the digits
        handmade.COMPANY,
        "91420600MA4K0AB12X",
        "2024-05-01",
        "2024.05.01",
        "2024 05 01",
        "2024年5月1日 13:45",
        "2024-05-01 13:45:12",
        "2024-05-01T13:45:12+08:00",
        "2023-01-01 至 2024-12-31",
        "20230101-20241231",
        "共 1,234 户,13,812,345,678 元",  # counts with thousands separators
        "1 3 5 7 9 11 13 15 17 19",  # a list of building numbers
        "1栋2单元301室",
        "第1网格党支部",
        "楼层 6 单元 2 户数 12",
        "127.0.0.1:8000",
        "192.168.100.138",
        "V1.2.3.4567",
        "138 123 45678",  # not a way mobile numbers are grouped
        "1234567890123456",  # 16 digits: no ID number
        "12345678901234567890",  # 20 digits: no ID number either
        "138123456789",  # 12 digits: too long for a mobile number
    ],
)
def test_codes_dates_and_counts_are_left_alone(text: str) -> None:
    assert redact(text) == text
    assert redact(f"名称 {text} 备注") == f"名称 {text} 备注"


def test_every_value_of_a_generated_city_but_the_personal_columns_is_left_alone() -> None:
    data = generate("small", 3)
    personal = {(sheet.key, c.en) for sheet in SHEETS for c in sheet.columns if c.sensitive}
    assert personal == {("PartyMember", "id_number"), ("PartyMember", "phone"), ("PartyMember", "address")}
    numbers = personal - {("PartyMember", "address")}  # an address is masked as its column's, not found by `redact`
    changed = set()
    for key, rows in data.rows.items():
        for row in rows:
            for column, value in row.items():
                if value is not None and value != "" and redact(str(value)) != str(value):
                    changed.add((key, column))
    assert changed == numbers
    members = data.rows["PartyMember"]
    assert all(redact(m["id_number"]) == mask_id_number(m["id_number"]) for m in members if m["id_number"])
    phones = [str(m["phone"]) for m in members if m.get("phone")]
    assert phones
    for phone in phones:
        spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        assert redact(f"+86 {spaced}") == f"+86 {phone[:3]} **** {phone[7:]}"


def test_credit_codes_of_every_shape_the_generator_makes_stay() -> None:
    for body in ("91420600MA0000001", "12420600MB1234567", "52420600MJ0000123"):
        code = body + uscc_check_char(body)
        assert redact(f"单位 {code}") == f"单位 {code}"


def test_json_like_values_are_redacted_throughout() -> None:
    value = {
        "name": "张三 138 1234 5678",
        "codes": ["HU-420602001001-0001", f"备注 {ID_X}"],
        "floors": 6,
        "since": None,
        "nested": {"address": "幸福路 1 号 +86 13812345678"},
    }
    assert redact_value(value) == {
        "name": "张三 138 **** 5678",
        "codes": ["HU-420602001001-0001", f"备注 {mask_id_number(ID_X)}"],
        "floors": 6,
        "since": None,
        "nested": {"address": "幸福路 1 号 +86 138****5678"},
    }


# ---------------------------------------------------------------- the loader's problems and error workbook


def test_a_problem_never_holds_a_typed_number() -> None:
    problem = Problem("楼栋", 3, "D", "138 1234 5678", f"无效的数字 {PHONE}", f"not a number: {ID_X}")
    assert problem.value == "138 **** 5678"
    assert PHONE not in problem.reason_zh
    assert ID_X not in problem.reason_en
    assert "1234" not in str(problem).replace("HU-", "")
    assert Problem("网格", 2, "C", "420602009999", "未知", "unknown").value == "420602009999"  # codes stay


def _zh(key: str) -> list[str]:
    return [zh for _, zh in headers(key)]


async def test_the_error_workbook_and_the_problems_show_no_typed_number(tmp_path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {
        "市": [_zh("City"), ["420600000000", "襄阳市"]],
        "区": [_zh("District"), ["420602000000", "襄城区", "420600000000"]],
        "街道": [_zh("Street"), ["420602001000", "古城街道", "420602000000"]],
        "社区": [_zh("Community"), ["420602001001", "檀溪社区", "是", "420602001000"]],
        "网格": [
            _zh("Grid"),
            ["WG-420602001001-01", "第1网格", "+86 138 1234 5678"],  # a phone typed where a code belongs
            ["WG-420602001001-02", "第2网格", "4206 0219 9001 0112 3" + ID[-1]],
        ],
        "楼栋": [
            _zh("Building"),
            ["LD-420602001001-0001", "1栋", "", "138-1234-5678", "2", "WG-420602001001-01", ""],  # floors
        ],
    }
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    plan = await validate_file(path, None)
    assert plan.problems
    secrets = ("138 1234 5678", "138-1234-5678", "4206 0219 9001 0112 3" + ID[-1], "1234", "9001")
    shown = "\n".join(str(p) for p in plan.problems)
    assert "138 **** 5678" in shown or "138-****-5678" in shown
    for secret in secrets:
        assert secret not in shown
    out = tmp_path / "typed.errors.xlsx"
    assert write_error_workbook(plan, out) >= 2
    book = load_workbook(out)
    text = "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert "第1网格" in text  # the rejected rows are there, their numbers masked
    for secret in secrets:
        assert secret not in text


def test_error_workbook_cells_stay_text(tmp_path: Path) -> None:
    """A rejected cell typed as a formula is written as text, never as a formula the workbook would run."""
    from openpyxl import Workbook as Book

    from loaders.workbooks import _put_inert

    book = Book()
    ws = book.active
    ws.append(["header"])
    _put_inert(ws, 2, [3, '=HYPERLINK("http://evil.example","x")', "plain"])
    out = tmp_path / "inert.xlsx"
    book.save(out)
    cell = load_workbook(out).active["B2"]
    assert cell.data_type == "s"
    assert cell.value.startswith("=HYPERLINK")


# ---------------------------------------------------------------- logs


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    redact_logs(handler)
    logger = logging.getLogger("tests.privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_log_record_is_redacted_in_its_message_arguments_and_traceback(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = captured
    log.info("member %s phone %s count %d", "张三 138 1234 5678", f"+86 {PHONE}", 12)
    log.info("typed in the message: %s", ID_X)
    log.info("a mapping: %(name)s", {"name": f"李四 {PHONE}"})
    log.info("an int argument: %d", int(PHONE))
    log.info(Problem("网格", 2, "C", PHONE, "无效", "invalid"))
    log.warning(f"an f-string {ID_X} and %s", "1101 0519 4912 3100 2X")
    try:
        raise ValueError(f"bad cell {PHONE} / {ID_X}")
    except ValueError:
        log.exception("failed for %s", "138-1234-5678")
    log.info("with its stack", stack_info=True)
    text = stream.getvalue()
    for secret in (PHONE, ID_X, "138 1234 5678", "138-1234-5678", "1101 0519 4912 3100 2X"):
        assert secret not in text, secret
    assert "member 张三 138 **** 5678 phone +86 138****5678 count 12" in text
    assert "a mapping: 李四 138****5678" in text
    assert "an int argument: 138****5678" in text
    assert "ValueError: bad cell 138****5678 / 110105********002X" in text
    assert "Traceback" in text


def test_a_record_with_nothing_to_mask_keeps_its_arguments() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:50000", "GET", "/graphql?q=1", "1.1", 200), None)  # fmt: skip
    assert RedactingFilter().filter(record)
    assert record.args == ("127.0.0.1:50000", "GET", "/graphql?q=1", "1.1", 200)


def test_redact_logs_puts_one_filter_on_each_handler() -> None:
    handler = logging.StreamHandler(io.StringIO())
    redact_logs(handler)
    redact_logs(handler)
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


def test_the_command_lines_logging_redacts_the_root_handlers() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)  # basicConfig then leaves the root's handlers as they are
    filters = {h: list(h.filters) for h in root.handlers}
    try:
        _logging()
        logging.getLogger("grassroots.test").warning("电话 %s", "+86 138 1234 5678")
    finally:
        root.removeHandler(handler)
        for h, kept in filters.items():
            h.filters[:] = kept
    assert "电话 +86 138 **** 5678" in stream.getvalue()


def test_uvicorns_access_log_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    for name in names:  # dictConfig replaces these loggers' handlers: put the test's own back afterwards
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "handlers", list(logger.handlers))
        monkeypatch.setattr(logger, "propagate", logger.propagate)
        monkeypatch.setattr(logger, "level", logger.level)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)  # the access handler's stream, resolved by dictConfig
    monkeypatch.setattr(sys, "stderr", stream)
    logging.config.dictConfig(_uvicorn_logging())
    path = "/graphql?query=%7Bx%7D&name=138%201234%205678&id=" + ID_X
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", path, "1.1", 200)
    logging.getLogger("uvicorn.error").error("bad request for 138 1234 5678")
    text = stream.getvalue()
    # one key=value line per request, the path without its query string (a GET's variables are data)
    assert "client=127.0.0.1:50000 method=GET path=/graphql http=1.1 status=200" in text
    assert ID_X not in text
    assert "1234%205678" not in text
    assert "query=" not in text
    assert 'msg="bad request for 138 **** 5678"' in text
    assert len(text.strip().splitlines()) == 2

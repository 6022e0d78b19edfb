"""Identifier checks: 统一社会信用代码 (GB 32100-2015), 身份证号 (GB 11643-1999), the project's own codes.

Each `check_*` returns None when the value is valid, or a (Chinese, English) reason when it is not; a
reason never repeats an ID number. The `*_check_char` helpers compute check characters (the demo generator
makes valid codes with them). Area codes (统计用区划代码) are `core.areas`'.
"""

from __future__ import annotations

import re
import time
from datetime import date
from operator import mul

from core.areas import PROVINCES, Reason, check_area_code

# ---------------------------------------------------------------- 统一社会信用代码
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC = re.compile(f"[{USCC_ALPHABET}]{{18}}")


def uscc_check_char(first17: str) -> str:
    """The 18th character of a 统一社会信用代码."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(code: str) -> Reason | None:
    """18 characters over 0-9ABCDEFGHJKLMNPQRTUWXY with the GB 32100-2015 check character."""
    if len(code) != 18:
        return ("统一社会信用代码应为18位", f"a unified social credit code has 18 characters, not {len(code)}")
    if not _USCC.fullmatch(code):
        bad = sorted({c for c in code if c not in USCC_ALPHABET})
        return (
            f"含有不允许的字符 {''.join(bad)}(不含I、O、Z、S、V)",
            f"characters {''.join(bad)!r} are not allowed (the alphabet excludes I, O, Z, S, V)",
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return (f"校验码错误,应为 {expected}", f"wrong check character: expected {expected}")
    return None


_today: tuple[float, date] = (float("-inf"), date.min)


def today() -> date:
    """`date.today()`, asked of the clock at most once a second (validation checks millions of dates)."""
    global _today
    now = time.monotonic()
    if now - _today[0] >= 1.0:
        _today = (now, date.today())
    return _today[1]


# ---------------------------------------------------------------- 身份证号
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID = re.compile(r"\d{17}[\dX]")


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a 身份证号."""
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError(f"17 digits expected, got {first17!r}")
    return ID_CHECK[sum(map(mul, map(int, first17), ID_WEIGHTS)) % 11]


def check_id_number(value: str) -> Reason | None:
    """18 characters, a real birth date, and the MOD 11-2 check character. Never echoes the value."""
    if not _ID.fullmatch(value):
        return ("身份证号应为17位数字加1位数字或X", "an ID number is 17 digits and a digit or X")
    if int(value[:2]) not in PROVINCES:
        return ("身份证号地区码不存在", "the ID number's region prefix does not exist")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return ("身份证号出生日期无效", "the ID number's birth date is not a real date")
    if born.year < 1900 or born > today():
        return ("身份证号出生日期不合理", "the ID number's birth date is out of range")
    expected = id_check_char(value[:17])
    if value[17] != expected:
        return ("身份证号校验码错误", "the ID number's check character is wrong")
    return None


# ---------------------------------------------------------------- the project's own codes
_OWN = re.compile(r"(?P<prefix>[A-Z]{2,4})-(?P<area>\d{12})-(?P<local>[0-9A-Z]{1,12}(?:-[0-9A-Z]{1,12}){0,3})")


def own_code_area(code: str) -> str:
    """The 12-digit area code inside a well-formed own code (`check_own_code`): the area the entity lies in."""
    return code.split("-", 2)[1]


def check_own_code(code: str, prefix: str) -> Reason | None:
    """PREFIX-<12-digit area code>-<local part>, e.g. WG-420602001001-03 for a grid."""
    m = _OWN.fullmatch(code)
    if m is None:
        return (
            f"编码格式应为 {prefix}-12位区划代码-序号",
            f"expected {prefix}-<12-digit area code>-<local part> (capital letters, digits and '-')",
        )
    if m[1] != prefix:
        return (f"编码前缀应为 {prefix},实为 {m[1]}", f"the prefix must be {prefix}, not {m[1]}")
    reason = check_area_code(m[2])
    if reason is not None:
        return (f"编码中的区划代码无效:{reason[0]}", f"the area code inside is invalid: {reason[1]}")
    return None


# ---------------------------------------------------------------- codes the loader allocates
#: A code the loader allocated for a row without one (`loaders.natural`) has a local part of this letter and a
#: number: `LD-420602001001-N0001`. A department's own codes should not take this form.
ASSIGNED = "N"


def assigned_stem(prefix: str, area: str) -> str:
    """The start of the codes allocated to `prefix` rows in the area with the 12-digit code `area`."""
    return f"{prefix}-{area}-{ASSIGNED}"


def assigned_code(stem: str, number: int) -> str:
    """The `number`-th code allocated after `stem` (`assigned_stem`): four digits at least."""
    return f"{stem}{number:04d}"

"""Passwords: argon2id hashes (argon2-cffi's defaults), a policy for new ones, and generated ones.

A password is never stored, logged or echoed; only its hash is kept (`graph.accounts`).
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: The shortest password an account may get.
MIN_LENGTH = 10
#: Characters of generated passwords: letters and digits a person can read back without confusing (no 0/O, 1/l/I).
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_HASHER = PasswordHasher()
#: Verified against when a login does not exist, so an unknown login costs as much time as a wrong password.
_DUMMY = _HASHER.hash("grassroots: no such account")


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _HASHER.hash(password)


def verify(hash_: str | None, password: str) -> bool:
    """Whether `password` matches `hash_` (None: no account — the same work is done, and False returned)."""
    try:
        return _HASHER.verify(hash_ or _DUMMY, password) and hash_ is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_problem(password: str, login: str) -> str | None:
    """Why `password` may not be used (Chinese / English), or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符 / a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "密码首尾不能有空白 / a password cannot begin or end with white space"
    if login.lower() in password.lower():
        return "密码不能包含登录名 / a password cannot contain the login"
    if len(set(password)) < 5:
        return "密码过于简单 / the password is too simple (fewer than 5 different characters)"
    return None


def generate() -> str:
    """A new random password: 16 characters, about 93 bits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))

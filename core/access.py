"""Who may do what: the four roles, what each is granted, and the rule that every grant is bound to a scope.

An account has one role and one scope (a city, district, street, community or grid code); whatever it may do,
it may do only inside that scope. A `pii` flag on an editor's or auditor's account lets it see ID numbers and
phones unmasked; an admin always may, a viewer never.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """An account's role."""

    ADMIN = "admin"
    EDITOR = "editor"
    AUDITOR = "auditor"
    VIEWER = "viewer"

    @property
    def zh(self) -> str:
        """The role's Chinese name."""
        return {"admin": "管理员", "editor": "编辑", "auditor": "审计员", "viewer": "查看者"}[self.value]


@dataclass(frozen=True)
class Grants:
    """What an account may do inside its scope."""

    write: bool  # mutations and loads
    manage_accounts: bool  # add, disable, reset accounts whose scope lies inside its own
    audit_log: bool  # read the `_Audit` log of edits
    audit_workbook: bool  # download the audit workbook
    personal_data: bool  # see ID numbers and phones unmasked


def grants(role: Role, pii: bool = False) -> Grants:
    """What `role` may do (every role reads inside its scope); `pii` unmasks personal data for an editor or
    an auditor, never for a viewer."""
    if role is Role.ADMIN:
        return Grants(write=True, manage_accounts=True, audit_log=True, audit_workbook=True, personal_data=True)
    if role is Role.EDITOR:
        return Grants(write=True, manage_accounts=False, audit_log=True, audit_workbook=True, personal_data=pii)
    if role is Role.AUDITOR:
        return Grants(write=False, manage_accounts=False, audit_log=True, audit_workbook=True, personal_data=pii)
    return Grants(write=False, manage_accounts=False, audit_log=False, audit_workbook=False, personal_data=False)

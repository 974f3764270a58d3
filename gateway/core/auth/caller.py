"""The authenticated caller, as every service and query builder sees it."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.enums import UserType


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    username: str
    type: UserType

    @property
    def is_admin(self) -> bool:
        return self.type is UserType.ADMIN

    @property
    def is_manager(self) -> bool:
        """ADMIN or PL: may manage master data (a PL only that of their teams)."""
        return self.type in (UserType.ADMIN, UserType.PL)

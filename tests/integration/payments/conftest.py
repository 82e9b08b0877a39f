"""The payments tests book and walk as the bookings tests do: the same callers (an owner, a
verified walker available every day, an admin) and the owner's saved card."""

from tests.integration.bookings.conftest import admin, card, owner, walker

__all__ = ["admin", "card", "owner", "walker"]

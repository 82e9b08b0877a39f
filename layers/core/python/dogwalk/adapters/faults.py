"""Named places where the platform can be made to fail as a crash would, for the tests that prove
a crash loses nothing: a Lambda that dies between the payment gateway's answer and our commit, say.

The code marks such a place with `faults.point("bookings.captured")`; a test arms it with
`with faults.injected("bookings.captured"): ...` and the next pass through it raises. Nothing else
arms a point (no setting or environment variable does), and an unarmed point is one dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_armed: dict[str, BaseException] = {}

# the places the code offers (a test arming any other name is a mistake, refused)
POINTS = frozenset({"bookings.captured", "tips.charged", "payments.refunded", "payouts.transferred"})


class InjectedFault(RuntimeError):
    """What an armed point raises unless the test gave its own error."""


def point(name: str) -> None:
    error = _armed.get(name)
    if error is not None:
        raise error


@contextmanager
def injected(name: str, error: BaseException | None = None) -> Iterator[None]:
    if name not in POINTS:
        raise ValueError(f"no fault point {name!r}; the code offers {sorted(POINTS)}")
    _armed[name] = error or InjectedFault(f"injected fault at {name}: the container died here")
    try:
        yield
    finally:
        _armed.pop(name, None)

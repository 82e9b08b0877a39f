"""The price of a walk: one pure function, used by quotes, search and bookings alike.

base = walker's price * duration / 30; each dog after the first adds 50 % of base; a surge of
20 % of base + extra dogs when booked under 24 h ahead, and 15 % of it on a Saturday or Sunday
in the walker's timezone; the service fee is 10 % of that subtotal and the platform's. All in
integer cents, each line rounded half up on its own, the total the sum of the lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

EXTRA_DOG_SHARE = Decimal("0.50")
SHORT_NOTICE_SURGE = Decimal("0.20")
WEEKEND_SURGE = Decimal("0.15")
SERVICE_FEE_SHARE = Decimal("0.10")
SHORT_NOTICE = timedelta(hours=24)
DURATIONS_MIN = (30, 45, 60, 90, 120)


@dataclass(frozen=True)
class Line:
    code: str
    description: str
    amount_cents: int


@dataclass(frozen=True)
class Quote:
    base_cents: int
    extra_dog_cents: int
    surge_cents: int
    service_fee_cents: int
    total_cents: int
    currency: str
    lines: tuple[Line, ...]

    @property
    def walker_share_cents(self) -> int:
        """What the walker earns: everything but the service fee."""
        return self.total_cents - self.service_fee_cents


def _cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quote(
    *,
    price_cents_per_30min: int,
    duration_min: int,
    dog_count: int,
    start: datetime,
    booked_at: datetime,
    timezone: str,
    currency: str = "USD",
) -> Quote:
    if duration_min not in DURATIONS_MIN:
        raise ValueError(f"duration must be one of {DURATIONS_MIN} minutes")
    if dog_count < 1 or price_cents_per_30min < 0:
        raise ValueError("at least one dog, and a price that is not negative")
    base_cents = _cents(Decimal(price_cents_per_30min) * duration_min / 30)
    # from the base line as shown, so the quote can be checked by hand (151.5 → 152 base, 76 a dog)
    extra_dog_cents = _cents(base_cents * EXTRA_DOG_SHARE * (dog_count - 1))
    walked = Decimal(base_cents + extra_dog_cents)
    lines = [Line("base", f"{duration_min}-minute walk", base_cents)]
    if extra_dog_cents:
        lines.append(Line("extra_dogs", f"{dog_count - 1} more dog(s) at 50 %", extra_dog_cents))
    surge_cents = 0
    if start - booked_at < SHORT_NOTICE:
        short_notice = _cents(walked * SHORT_NOTICE_SURGE)
        lines.append(Line("surge_short_notice", "booked under 24 hours ahead (+20 %)", short_notice))
        surge_cents += short_notice
    if start.astimezone(ZoneInfo(timezone)).weekday() >= 5:
        weekend = _cents(walked * WEEKEND_SURGE)
        lines.append(Line("surge_weekend", "Saturday or Sunday (+15 %)", weekend))
        surge_cents += weekend
    subtotal = base_cents + extra_dog_cents + surge_cents
    service_fee_cents = _cents(Decimal(subtotal) * SERVICE_FEE_SHARE)
    lines.append(Line("service_fee", "service fee (10 %)", service_fee_cents))
    return Quote(
        base_cents=base_cents,
        extra_dog_cents=extra_dog_cents,
        surge_cents=surge_cents,
        service_fee_cents=service_fee_cents,
        total_cents=subtotal + service_fee_cents,
        currency=currency,
        lines=tuple(lines),
    )

"""The price of a walk: the lines add up, nothing is negative, more minutes or more dogs never cost
less, each extra dog is half the base, surges apply under 24 h ahead and on the walker's weekend,
the fee is 10 % rounded half up; and a few quotes worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dogwalk.marketplace import pricing

TIMEZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "Pacific/Kiritimati"]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

prices = st.integers(min_value=100, max_value=100_000)
durations = st.sampled_from(pricing.DURATIONS_MIN)
dog_counts = st.integers(min_value=1, max_value=6)
starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
lead_times = st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(days=30))
timezones = st.sampled_from(TIMEZONES)


def half_up(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quote(
    price: int = 2000,
    duration: int = 60,
    dogs: int = 1,
    start: datetime = datetime(2026, 12, 9, 15, 0, tzinfo=UTC),  # a Wednesday
    booked_at: datetime = NOW,
    timezone: str = "America/New_York",
) -> pricing.Quote:
    return pricing.quote(
        price_cents_per_30min=price,
        duration_min=duration,
        dog_count=dogs,
        start=start,
        booked_at=booked_at,
        timezone=timezone,
    )


def codes(q: pricing.Quote) -> list[str]:
    return [line.code for line in q.lines]


@given(prices, durations, dog_counts, starts, lead_times, timezones)
def test_the_total_is_the_sum_of_the_lines_and_nothing_is_negative(
    price: int, duration: int, dogs: int, start: datetime, lead: timedelta, timezone: str
) -> None:
    q = quote(price, duration, dogs, start, start - lead, timezone)

    assert q.total_cents == sum(line.amount_cents for line in q.lines)
    assert q.total_cents == q.base_cents + q.extra_dog_cents + q.surge_cents + q.service_fee_cents
    assert all(line.amount_cents >= 0 for line in q.lines)
    assert min(q.base_cents, q.extra_dog_cents, q.surge_cents, q.service_fee_cents) >= 0
    assert q.walker_share_cents == q.total_cents - q.service_fee_cents
    assert q.currency == "USD"


@given(prices, dog_counts, starts, lead_times, timezones)
def test_a_longer_walk_never_costs_less(price: int, dogs: int, start: datetime, lead: timedelta, timezone: str) -> None:
    totals = [
        quote(price, duration, dogs, start, start - lead, timezone).total_cents for duration in pricing.DURATIONS_MIN
    ]

    assert totals == sorted(totals)


@given(prices, durations, starts, lead_times, timezones)
def test_another_dog_never_costs_less(
    price: int, duration: int, start: datetime, lead: timedelta, timezone: str
) -> None:
    totals = [quote(price, duration, dogs, start, start - lead, timezone).total_cents for dogs in range(1, 7)]

    assert totals == sorted(totals)


@given(prices, durations, dog_counts)
def test_each_extra_dog_adds_half_the_base(price: int, duration: int, dogs: int) -> None:
    q = quote(price, duration, dogs)

    assert q.base_cents == half_up(Decimal(price) * duration / 30)
    assert q.extra_dog_cents == half_up(Decimal(q.base_cents) * (dogs - 1) / 2)
    assert ("extra_dogs" in codes(q)) == (dogs > 1)


@given(prices, durations, dog_counts, st.timedeltas(min_value=timedelta(seconds=-3600), max_value=timedelta(days=3)))
def test_the_short_notice_surge_applies_only_under_24_hours_ahead(
    price: int, duration: int, dogs: int, lead: timedelta
) -> None:
    start = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
    q = quote(price, duration, dogs, start, start - lead, "America/New_York")

    short_notice = [line for line in q.lines if line.code == "surge_short_notice"]
    if lead < timedelta(hours=24):
        assert [line.amount_cents for line in short_notice] == [
            half_up(Decimal(q.base_cents + q.extra_dog_cents) * Decimal("0.20"))
        ]
    else:
        assert short_notice == []


def test_the_short_notice_boundary_is_exactly_24_hours() -> None:
    start = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)

    assert "surge_short_notice" not in codes(quote(start=start, booked_at=start - timedelta(hours=24)))
    assert "surge_short_notice" in codes(
        quote(start=start, booked_at=start - timedelta(hours=24) + timedelta(seconds=1))
    )


@pytest.mark.parametrize(
    ("start", "timezone", "weekend"),
    [
        # Saturday 00:30 in Tokyo is Friday 15:30 in UTC
        (datetime(2026, 12, 11, 15, 30, tzinfo=UTC), "Asia/Tokyo", True),
        (datetime(2026, 12, 11, 15, 30, tzinfo=UTC), "UTC", False),
        # Monday 00:30 in Tokyo is still Sunday in UTC
        (datetime(2026, 12, 13, 15, 30, tzinfo=UTC), "Asia/Tokyo", False),
        (datetime(2026, 12, 13, 15, 30, tzinfo=UTC), "UTC", True),
        # Sunday 23:30 in New York is Monday 04:30 in UTC
        (datetime(2026, 12, 14, 4, 30, tzinfo=UTC), "America/New_York", True),
        (datetime(2026, 12, 14, 4, 30, tzinfo=UTC), "Europe/London", False),
    ],
    ids=["sat-tokyo", "fri-utc", "mon-tokyo", "sun-utc", "sun-new-york", "mon-london"],
)
def test_the_weekend_surge_is_decided_in_the_walkers_timezone(start: datetime, timezone: str, weekend: bool) -> None:
    q = quote(start=start, booked_at=start - timedelta(days=7), timezone=timezone)

    assert ("surge_weekend" in codes(q)) == weekend
    assert q.surge_cents == (half_up(Decimal(q.base_cents) * Decimal("0.15")) if weekend else 0)


@given(prices, durations, dog_counts, starts, lead_times, timezones)
def test_the_service_fee_is_ten_percent_of_the_subtotal_rounded_half_up(
    price: int, duration: int, dogs: int, start: datetime, lead: timedelta, timezone: str
) -> None:
    q = quote(price, duration, dogs, start, start - lead, timezone)
    subtotal = q.base_cents + q.extra_dog_cents + q.surge_cents

    assert q.service_fee_cents == (subtotal + 5) // 10
    assert q.lines[-1].code == "service_fee"


def test_a_saturday_walk_of_two_dogs_booked_12_hours_ahead() -> None:
    start = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)  # Saturday 10:00 in New York

    q = quote(price=2000, duration=60, dogs=2, start=start, booked_at=start - timedelta(hours=12))

    assert [(line.code, line.amount_cents) for line in q.lines] == [
        ("base", 4000),
        ("extra_dogs", 2000),
        ("surge_short_notice", 1200),  # 20 % of 6000
        ("surge_weekend", 900),  # 15 % of 6000
        ("service_fee", 810),  # 10 % of 8100
    ]
    assert (q.base_cents, q.extra_dog_cents, q.surge_cents, q.service_fee_cents, q.total_cents) == (
        4000,
        2000,
        2100,
        810,
        8910,
    )


def test_a_plain_weekday_half_hour_booked_days_ahead() -> None:
    q = quote(price=1500, duration=30, dogs=1)

    assert [(line.code, line.amount_cents) for line in q.lines] == [("base", 1500), ("service_fee", 150)]
    assert q.total_cents == 1650


def test_a_fee_of_half_a_cent_rounds_up() -> None:
    q = quote(price=1005, duration=30, dogs=1)  # fee 100.5

    assert (q.service_fee_cents, q.total_cents) == (101, 1106)


def test_an_odd_price_for_45_minutes_with_four_dogs() -> None:
    q = quote(price=101, duration=45, dogs=4)  # base 151.5 → 152; three extra dogs at 76 each

    assert (q.base_cents, q.extra_dog_cents, q.service_fee_cents, q.total_cents) == (152, 228, 38, 418)


@pytest.mark.parametrize(("duration", "dogs"), [(50, 1), (0, 1), (60, 0)])
def test_durations_not_offered_and_no_dogs_are_refused(duration: int, dogs: int) -> None:
    with pytest.raises(ValueError):
        quote(duration=duration, dogs=dogs)

"""PUT /v1/notifications/preferences: the channels each event type goes to, quiet hours (push and
SMS wait for their end; email and the inbox do not) and the timezone they are read in.

The body replaces what was saved: an event type not named keeps its default channels (or gets
them back), no `quiet_hours` means none, no `timezone` means UTC. An empty list silences an event
type everywhere but the inbox, which always gets everything."""

from datetime import time
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, WithJsonSchema, model_validator

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.events.outbox import EVENT_TYPES
from dogwalk.notifications import preferences

route = Route(__name__)


def _one_of(known: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"not a known {what}: one of {', '.join(known)}")
        return value

    return AfterValidator(check)


def _distinct(channels: list[str]) -> list[str]:
    if len(set(channels)) != len(channels):
        raise ValueError("a channel is named twice")
    return channels


def _iana(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA timezone, e.g. America/New_York") from None
    return name


EventType = Annotated[
    str, _one_of(EVENT_TYPES, "event type"), WithJsonSchema({"type": "string", "enum": list(EVENT_TYPES)})
]
Channel = Annotated[
    str,
    _one_of(preferences.CHANNELS, "channel"),
    WithJsonSchema({"type": "string", "enum": list(preferences.CHANNELS)}),
]
Channels = Annotated[
    list[Channel],
    Field(max_length=len(preferences.CHANNELS), json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"), Field(examples=["22:00"])]


class QuietHoursIn(Write):
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end are the same time")
        return self


class PreferencesIn(Write):
    channels: dict[EventType, Channels]
    quiet_hours: QuietHoursIn | None = None
    timezone: Annotated[
        str, Field(min_length=1, max_length=64, examples=["America/New_York"]), AfterValidator(_iana)
    ] = "UTC"


class QuietHoursOut(BaseModel):
    start: str
    end: str


class PreferencesOut(BaseModel):
    channels: dict[str, list[str]]
    quiet_hours: QuietHoursOut | None
    timezone: str


@route.handle
def put_notification_preferences(chosen: PreferencesIn) -> PreferencesOut:
    quiet = chosen.quiet_hours
    saved = preferences.save(
        route.principal.user_id,
        chosen.channels,
        (time.fromisoformat(quiet.start), time.fromisoformat(quiet.end)) if quiet else None,
        chosen.timezone,
    )
    return PreferencesOut.model_validate(preferences.as_view(saved))


lambda_handler = route.lambda_handler

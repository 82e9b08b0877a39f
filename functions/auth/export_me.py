"""GET /v1/auth/me/export: everything the platform holds about the caller, in the API's own shapes.

Paged so that a user with years of walks stays within Lambda's 6 MB answer: each page is the whole
document with its lists cut at a byte budget (DOGWALK_EXPORT_PAGE_BYTES, 2 MB), and `next_cursor`
names the rest: `?cursor=` answers the next page, until it is null. Concatenating the pages' lists
gives every list whole (dogwalk.auth.export)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.auth import export
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import (
    Home,
    NotificationOut,
    PaymentMethod,
    PaymentStatus,
    QuoteOut,
    Size,
    Vaccination,
    WalkerProfileOut,
)
from dogwalk.edge.views import UserView

route = Route(__name__)


class Identity(BaseModel):
    provider: Literal["apple", "google"]
    subject: str
    email: str | None
    created_at: datetime
    last_used_at: datetime


class ExportedDog(BaseModel):
    id: str
    owner_id: str
    name: str
    breed: str | None
    size: Size
    birth_date: str | None
    notes: str | None
    vaccinated: bool
    medical_notes: str | None
    feeding: str | None
    vaccinations: list[Vaccination]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class Window(BaseModel):
    weekday: int
    start: str
    end: str


class TimeOff(BaseModel):
    id: str
    start: datetime
    end: datetime


class Submission(BaseModel):
    id: str
    documents: list[dict[str, Any]]
    submitted_at: datetime


class Booking(BaseModel):
    id: str
    status: str
    owner_id: str
    walker_id: str
    dog_ids: list[str]
    start: datetime
    end: datetime
    pickup: dict[str, Any]
    price: QuoteOut | None
    payment: dict[str, str | None]
    series_id: str | None
    notes: str | None


class Payment(BaseModel):
    booking_id: str
    status: PaymentStatus
    authorized_cents: int
    captured_cents: int
    refunded_cents: int
    tip_cents: int
    currency: str


class Tip(BaseModel):
    booking_id: str
    owner_id: str
    walker_id: str
    amount_cents: int
    currency: str
    status: str
    refunded_cents: int
    created_at: datetime


class Review(BaseModel):
    booking_id: str
    owner_id: str
    walker_id: str
    rating: int
    comment: str | None
    created_at: datetime


class Fix(BaseModel):
    lat: float
    lon: float
    tst: int


class Walk(BaseModel):
    id: str
    booking_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    distance_m: float
    duration_s: int
    points: int
    events: dict[str, int]
    dropped: dict[str, int]
    last_position: Fix | None
    pace_min_per_km: float | None
    note: str | None = None  # the walker's, given at completion


class Payout(BaseModel):
    id: str
    period: str
    amount_cents: int
    currency: str
    status: str
    transfer_id: str | None
    reversed_cents: int
    paid_at: datetime | None
    created_at: datetime


class Device(BaseModel):
    id: str
    platform: Literal["fcm", "apns"]
    token: str
    created_at: datetime


class Conversation(BaseModel):
    id: str
    owner_id: str
    walker_id: str
    last_message_at: datetime | None
    unread: int
    created_at: datetime
    blocked_at: datetime | None


class Message(BaseModel):
    """A message of one of your conversations, yours or the other party's (`erased`: its sender's
    account was deleted)."""

    id: str
    conversation_id: str
    sender_id: str
    text: str
    erased: bool
    sent_at: datetime


class Preferences(BaseModel):
    channels: dict[str, list[str]]  # what you chose; event types not named get the defaults
    quiet_hours: dict[str, str] | None
    timezone: str


class Export(BaseModel):
    exported_at: datetime
    profile: UserView
    walker_profile: WalkerProfileOut | None
    preferences: Preferences | None
    home: Home | None
    identities: list[Identity]
    dogs: list[ExportedDog]
    availability: list[Window]
    time_off: list[TimeOff]
    verification_submissions: list[Submission]
    bookings: list[Booking]
    payments: list[Payment]
    payment_methods: list[PaymentMethod]
    tips: list[Tip]
    reviews: list[Review]
    walks: list[Walk]
    payouts: list[Payout]
    notifications: list[NotificationOut]
    devices: list[Device]
    conversations: list[Conversation]
    messages: list[Message]
    next_cursor: str | None


@route.handle
def export_me(cursor: Annotated[str | None, Query(max_length=1024)] = None) -> Export:
    return Export.model_validate(export.export_page(route.principal.user_id, cursor))


lambda_handler = route.lambda_handler

"""Request and response models that several endpoints share (models at the edges: the domain
takes and returns plain values). Writes forbid unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StringConstraints

from dogwalk.edge.views import UserView, user_view

if TYPE_CHECKING:
    from dogwalk.auth.accounts import Tokens
    from dogwalk.bookings.lifecycle import WalkRequest
    from dogwalk.marketplace.pricing import Quote

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# what the schema can say of the policy; common passwords and the email are checked by the domain
NewPassword = Annotated[str, StringConstraints(min_length=12, max_length=128)]
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenPair(BaseModel):
    user: UserView
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="seconds the access token lives")


def token_pair(tokens: Tokens) -> TokenPair:
    """The answer of register, login and refresh."""
    return TokenPair(
        user=user_view(tokens.user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


Size = Literal["small", "medium", "large", "giant"]
# bodies are JSON: a number is a number and a date is a string (pydantic would also take "40" and 0)
Latitude = Annotated[StrictFloat, Field(ge=-90, le=90)]
Longitude = Annotated[StrictFloat, Field(ge=-180, le=180)]


def _text_only(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 / RFC 3339 string")
    return value


IsoDate = Annotated[date, BeforeValidator(_text_only)]
Instant = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class Vaccination(Write):
    kind: str = Field(min_length=1, max_length=100, description="e.g. rabies, DHPP, bordetella")
    expires_on: IsoDate


# a dog's care, what its walker reads around the walk (GET /v1/bookings/{id}/care)
MedicalNotes = Annotated[str, StringConstraints(max_length=2000)]
Feeding = Annotated[str, StringConstraints(max_length=1000)]
Vaccinations = Annotated[list[Vaccination], Field(max_length=20)]


class DogOut(BaseModel):
    id: str
    owner_id: str
    name: str
    breed: str | None
    size: Size
    birth_date: date | None
    notes: str | None
    vaccinated: bool
    medical_notes: str | None
    feeding: str | None
    vaccinations: list[Vaccination]
    created_at: datetime
    updated_at: datetime


class DogPage(BaseModel):
    items: list[DogOut]
    next_cursor: str | None


Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$"), Field(description="E.164")]


class Contact(Write):
    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = Field(min_length=1, max_length=200)
    phone: Phone


class Home(Write):
    """The owner's home (PUT and GET /v1/owners/me/home, and what the booked walker reads). The
    access instructions, the lockbox code and the emergency contact are encrypted at rest, and left
    out of the model's repr (Powertools' debug log prints a route's arguments)."""

    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(extra="forbid", defer_build=True)

    address: str = Field(min_length=1, max_length=500)
    access_instructions: str | None = Field(default=None, min_length=1, max_length=2000, repr=False)
    lockbox_code: str | None = Field(default=None, min_length=1, max_length=100, repr=False)
    emergency_contact: Contact = Field(repr=False)
    vet: Contact | None = None


class ServiceArea(BaseModel):
    lat: Latitude
    lon: Longitude
    radius_km: StrictFloat = Field(gt=0, le=25)


class PublicWalker(BaseModel):
    id: str
    name: str
    bio: str
    price_cents_per_30min: int
    verified: bool
    rating_avg: float | None
    rating_count: int
    completed_walks: int
    # accepted walks never started (cancelled an hour after their start): what owners weigh as reliability
    no_shows: int
    service_area: ServiceArea


def public_walker(row: dict[str, Any]) -> PublicWalker:
    return PublicWalker(
        id=row["id"],
        name=row["name"],
        bio=row["bio"],
        price_cents_per_30min=row["price_cents_per_30min"],
        verified=row["verification"] == "verified",
        rating_avg=row["rating_avg"],
        rating_count=row["rating_count"],
        completed_walks=row["completed_walks"],
        no_shows=row["no_shows"],
        service_area=ServiceArea(lat=row["lat"], lon=row["lon"], radius_km=row["radius_km"]),
    )


class QuoteLine(BaseModel):
    code: str
    description: str
    amount_cents: int


class QuoteOut(BaseModel):
    base_cents: int
    extra_dog_cents: int
    surge_cents: int
    service_fee_cents: int
    total_cents: int
    currency: str
    lines: list[QuoteLine]


def quote_out(quote: Quote) -> QuoteOut:
    return QuoteOut.model_validate(quote, from_attributes=True)


class PaymentMethod(BaseModel):
    """A saved card as the apps see it: never more of the card than the gateway's description."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    created_at: datetime


class BookingPayment(BaseModel):
    """Where a booking's money stands (`GET /v1/bookings/{id}/payment`, and what a refund by
    support answers); always authorized = captured + released, refunded = released + refunded."""

    status: Literal[
        "scheduled", "authorized", "failed", "captured", "voided", "refunded", "partially_refunded", "disputed"
    ]
    authorized_cents: int
    captured_cents: int
    refunded_cents: int
    tip_cents: int
    currency: str


class Pickup(Write):
    lat: Latitude
    lon: Longitude
    address: str | None = Field(default=None, max_length=500)


class WalkIn(Write):
    """What a quote and a booking request share."""

    walker_id: str = Field(min_length=36, max_length=36)
    dog_ids: list[Annotated[str, StringConstraints(min_length=36, max_length=36)]] = Field(min_length=1, max_length=6)
    start: Instant
    duration_min: Literal[30, 45, 60, 90, 120]
    pickup: Pickup

    def walk_for(self, owner_id: str) -> WalkRequest:
        from dogwalk.bookings.lifecycle import WalkRequest

        return WalkRequest(
            owner_id=owner_id,
            walker_id=self.walker_id,
            dog_ids=list(dict.fromkeys(self.dog_ids)),
            start=self.start,
            duration_min=self.duration_min,
            pickup_lat=self.pickup.lat,
            pickup_lon=self.pickup.lon,
            pickup_address=self.pickup.address,
        )


# where a booking's money stands (API.md, "Payments"; `scheduled` and `failed`: "When the hold is placed")
PaymentStatus = Literal[
    "scheduled", "authorized", "failed", "captured", "voided", "refunded", "partially_refunded", "disputed"
]


class WalkerProfileOut(BaseModel):
    """A walker's own profile, as they set it (and as their export holds it)."""

    id: str
    name: str
    bio: str
    price_cents_per_30min: int
    service_area: ServiceArea
    max_dogs: int
    accepted_sizes: list[Size]
    timezone: str
    verification: str


class NotificationOut(BaseModel):
    """One notification of the in-app inbox (and of the export)."""

    id: str
    event_type: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class ConversationOut(BaseModel):
    """A conversation of an owner and a walker, as one of its two parties sees it (`unread`: theirs)."""

    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(defer_build=True)

    id: str
    owner_id: str
    walker_id: str
    last_message_at: datetime | None
    unread: int


class MessageOut(BaseModel):
    """One message of a conversation (also what the WebSocket's `message` push carries)."""

    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(defer_build=True)

    id: str
    sender_id: str
    text: str = Field(description="empty once the sender's account was deleted")
    photo: dict[str, Any] | None = Field(default=None, description="the attached walk photo (not available yet)")
    sent_at: datetime


def message_out(row: dict[str, Any]) -> MessageOut:
    return MessageOut(id=row["id"], sender_id=row["sender_id"], text=row["text"], sent_at=row["sent_at"])


class PaymentState(BaseModel):
    """A booking's `payment` in its view."""

    status: PaymentStatus | None  # None: a booking written without a payment (tests and benchmarks only)


class BookingOut(BaseModel):
    id: str
    status: str
    owner_id: str
    walker_id: str
    dog_ids: list[str]
    start: datetime
    end: datetime
    pickup: dict[str, Any]
    price: QuoteOut
    payment: PaymentState
    series_id: str | None = None
    notes: str | None = None
    refund_cents: int | None = None


def booking_out(row: dict[str, Any]) -> BookingOut:
    return BookingOut(
        id=row["id"],
        status=row["status"],
        owner_id=row["owner_id"],
        walker_id=row["walker_id"],
        dog_ids=row["dog_ids"],
        start=row["start"],
        end=row["end"],
        pickup={"lat": row["pickup_lat"], "lon": row["pickup_lon"], "address": row["pickup_address"]},
        price=QuoteOut.model_validate(row["price"]),
        payment=PaymentState(status=row["payment_status"]),
        series_id=row["series_id"],
        notes=row["notes"],
        refund_cents=row.get("refund_cents"),
    )


class ChangeOut(BaseModel):
    """A change of a booking asked by its owner (`proposed` until its walker answers; `superseded`
    by a newer one; `applied` at once to a request)."""

    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(defer_build=True)

    id: str
    booking_id: str
    status: Literal["proposed", "accepted", "declined", "superseded", "applied"]
    start: datetime
    end: datetime
    duration_min: int
    dog_ids: list[str]
    quote: QuoteOut
    created_at: datetime
    decided_at: datetime | None = None


class SeriesOut(BaseModel):
    """A weekly series and its walks by start time; ending one answers the walks from `from` on,
    each cancelled one with its `refund_cents`."""

    # built on first use: only the functions that answer it pay for its schema at cold start
    model_config = ConfigDict(defer_build=True)

    id: str
    owner_id: str
    walker_id: str
    bookings: list[BookingOut]


def series_out(series: dict[str, Any]) -> SeriesOut:
    return SeriesOut(id=series["id"], owner_id=series["owner_id"], walker_id=series["walker_id"],
                     bookings=[booking_out(row) for row in series["bookings"]])  # fmt: skip

"""Column types shared by every feature's models."""
import enum
from datetime import UTC, datetime, time

import sqlalchemy as sa

# Row ids are 32-bit INTEGER columns: URLs and API bodies refuse anything larger.
MAX_ID = 2**31 - 1


def utcnow():
    return datetime.now(UTC)


def start_of_utc_day(now=None):
    """Midnight UTC of the day `now` (default: now) falls on: where daily limits and caps start counting."""
    return datetime.combine((now or utcnow()).astimezone(UTC).date(), time(), tzinfo=UTC)


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry their translated label: `DONE = "done", _l("Done")`."""

    def __new__(cls, value, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def record_type(obj):
    """The name activity and audit rows give a record's kind: the model's name in snake case.

    Category -> "category", AccountLink -> "account_link". (Table names won't
    do: "categories" minus its "s" is no word.)
    """
    name = type(obj).__name__
    return "".join(f"_{ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))


class UTCDateTime(sa.TypeDecorator):
    """A timestamp that always comes back timezone-aware in UTC.

    SQLite keeps no zone, PostgreSQL does; this makes both read the same.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def str_enum(enum_class: type[enum.StrEnum], length=24, name=None):
    """A StrEnum stored as its plain value in a VARCHAR with a CHECK constraint.

    `name` names the constraint; give one when a table has two columns of the same enum.
    """
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        name=name or enum_class.__name__.lower(),
    )

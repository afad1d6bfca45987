"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, DateTime, Integer, Numeric, String, bindparam, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, TypeDecorator, TypeEngine


class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, text on SQLite (whose REAL would round it)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 4) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        # Positional notation ("0.00000001", not "1E-8"): `total` reads the digits after the point.
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class ExactDecimal(Money):
    """A decimal that also keeps its written scale: ``0.01`` and ``0.0100`` come back as written.

    PostgreSQL's unconstrained NUMERIC keeps the scale of each value (a fixed-scale NUMERIC would pad
    ``0.01`` to ``0.0100``); SQLite keeps the text. For values whose form matters, e.g. rates that an
    export must write back exactly as they were imported.
    """

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(asdecimal=True))


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Keys(TypeDecorator[list[Any]]):
    """A list of string keys bound as one parameter: a text[] on PostgreSQL, a JSON array on SQLite."""

    impl = String
    cache_ok = True
    item: type[TypeEngine[Any]] = String

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(ARRAY(self.item()))

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        return json.dumps(value) if dialect.name == "sqlite" else value


class _Ids(_Keys):
    """A list of integer ids bound as one parameter: an integer[] on PostgreSQL, a JSON array on SQLite."""

    cache_ok = True
    item = Integer


class _Among(FunctionElement[bool]):
    """column among keys: see `among`."""

    inherit_cache = True
    name = "among"
    type = Boolean()


@compiles(_Among)
def _among_default(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} = ANY({keys})"


@compiles(_Among, "sqlite")
def _among_sqlite(element: _Among, compiler: SQLCompiler, **kw: Any) -> str:
    column, keys = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{column} IN (SELECT value FROM json_each({keys}))"


def among(column: Any, keys: Iterable[str] | Iterable[int]) -> ColumnElement[bool]:
    """`column IN keys` with the keys (strings, or integer ids) as one parameter, not one a key: a thousand
    accounts in a statement that scopes six tables would otherwise be six thousand parameters to render,
    send and plan."""
    kind = _Ids() if isinstance(column.type, Integer) else _Keys()
    return _Among(column, bindparam(None, sorted(keys), type_=kind))


class _Total(TypeDecorator[Decimal]):
    """What `total` answers: PostgreSQL's exact NUMERIC sum as is; on SQLite "whole:fraction", two integer
    sums (see `_sum_sqlite`)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            whole, fraction = str(value).split(":")
            return Decimal(whole) + Decimal(fraction).scaleb(-self.places)
        return Decimal(str(value))


class _Sum(FunctionElement[Decimal]):
    """SUM of a Money column, exact: see `total`. Its clauses: the column, and its places as a literal (so
    they are part of the statement's cache key)."""

    inherit_cache = True
    name = "total"


@compiles(_Sum)
def _sum_default(element: _Sum, compiler: SQLCompiler, **kw: Any) -> str:
    value, _ = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"SUM({value})"


@compiles(_Sum, "sqlite")
def _sum_sqlite(element: _Sum, compiler: SQLCompiler, **kw: Any) -> str:
    # Money is text on SQLite, whose SUM would add floats. Exact instead: the whole parts and the digits
    # after the point (padded to `places`) are summed as integers, and joined by the result type.
    value, places = (compiler.process(clause, **kw) for clause in element.clauses)
    text = f"CAST({value} AS TEXT)"
    fraction = f"substr(substr({text}, instr({text} || '.', '.') + 1) || '{'0' * int(places)}', 1, {places})"
    return f"(SUM(CAST({text} AS INTEGER)) || ':' || SUM(CAST({fraction} AS INTEGER)))"


def total(column: Any, places: int) -> ColumnElement[Decimal]:
    """The exact sum of a non-negative Money column of at most `places` decimal places (NULL over no
    rows)."""
    summed = _Sum(column, literal_column(str(places)))
    summed.type = _Total(places)
    return summed

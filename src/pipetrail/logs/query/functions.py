"""Scalar functions of the query language (numeric, string, datetime, IP, general).

Every function takes already evaluated arguments and returns None when an argument is
missing or of the wrong kind, rather than failing the query.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipetrail.logs.query.lexer import Duration
from pipetrail.logs.query.values import Timestamp, as_number, as_text

Impl = Callable[[list[Any]], Any]


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    impl: Impl
    duration_arg: int | None = None  # index of an argument that must be a duration literal


def floor_time(ms: int, duration: Duration) -> Timestamp | None:
    if duration.months:
        try:
            moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        total = moment.year * 12 + moment.month - 1
        total -= total % duration.months
        year, month = divmod(total, 12)
        try:
            start = datetime(year, month + 1, 1, tzinfo=UTC)
        except ValueError:
            return None
        return Timestamp(int(start.timestamp()) * 1000)
    return Timestamp(ms - ms % duration.millis)


def ceil_time(ms: int, duration: Duration) -> Timestamp | None:
    floor = floor_time(ms, duration)
    if floor is None or floor == ms:
        return floor
    if duration.millis:
        return Timestamp(floor + duration.millis)
    moment = datetime.fromtimestamp(floor / 1000, tz=UTC)
    total = moment.year * 12 + moment.month - 1 + duration.months
    year, month = divmod(total, 12)
    try:
        return Timestamp(int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp()) * 1000)
    except ValueError:
        return None


def _time_arg(value: Any) -> int | None:
    number = as_number(value)
    if number is None or not math.isfinite(number):
        return None
    return int(number)


def _numeric(fn: Callable[[float], float]) -> Impl:
    def apply(args: list[Any]) -> Any:
        number = as_number(args[0])
        if number is None:
            return None
        try:
            result = fn(number)
        except (ValueError, OverflowError):
            return None
        return result
    return apply


def _rounding(fn: Callable[[float], int]) -> Impl:
    def apply(args: list[Any]) -> Any:
        number = as_number(args[0])
        if number is None or not math.isfinite(number):
            return None
        return fn(number)
    return apply


def _extreme(pick: Callable[..., Any]) -> Impl:
    def apply(args: list[Any]) -> Any:
        numbers = [n for n in (as_number(a) for a in args) if n is not None]
        return pick(numbers) if numbers else None
    return apply


def _text(fn: Callable[[str], Any]) -> Impl:
    def apply(args: list[Any]) -> Any:
        text = as_text(args[0])
        return None if text is None else fn(text)
    return apply


def _trim(side: str) -> Impl:
    def apply(args: list[Any]) -> Any:
        text = as_text(args[0])
        if text is None:
            return None
        chars = as_text(args[1]) if len(args) > 1 else None
        if side == "left":
            return text.lstrip(chars)
        if side == "right":
            return text.rstrip(chars)
        return text.strip(chars)
    return apply


def _substr(args: list[Any]) -> Any:
    text = as_text(args[0])
    start = as_number(args[1])
    if text is None or start is None:
        return None
    begin = max(0, int(start))
    if len(args) > 2:
        length = as_number(args[2])
        if length is None:
            return None
        return text[begin:begin + max(0, int(length))]
    return text[begin:]


def _replace(args: list[Any]) -> Any:
    text, old, new = (as_text(a) for a in args)
    if text is None or old is None or new is None or old == "":
        return text
    return text.replace(old, new)


def _strcontains(args: list[Any]) -> Any:
    text, part = as_text(args[0]), as_text(args[1])
    if text is None or part is None:
        return None
    return 1 if part in text else 0


def _concat(args: list[Any]) -> Any:
    return "".join(as_text(a) or "" for a in args)


def _coalesce(args: list[Any]) -> Any:
    for value in args:
        if value is not None:
            return value
    return None


def _isempty(args: list[Any]) -> Any:
    return args[0] is None or as_text(args[0]) == ""


def _isblank(args: list[Any]) -> Any:
    text = as_text(args[0])
    return text is None or text.strip() == ""


def _datefloor(args: list[Any]) -> Any:
    ms = _time_arg(args[0])
    return None if ms is None else floor_time(ms, args[1])


def _dateceil(args: list[Any]) -> Any:
    ms = _time_arg(args[0])
    return None if ms is None else ceil_time(ms, args[1])


def _from_millis(args: list[Any]) -> Any:
    ms = _time_arg(args[0])
    return None if ms is None else Timestamp(ms)


def _to_millis(args: list[Any]) -> Any:
    return _time_arg(args[0])


def _ip(version: int | None) -> Impl:
    def apply(args: list[Any]) -> Any:
        text = as_text(args[0])
        if text is None:
            return False
        try:
            address = ipaddress.ip_address(text.strip())
        except ValueError:
            return False
        return version is None or address.version == version
    return apply


def _in_subnet(version: int | None) -> Impl:
    def apply(args: list[Any]) -> Any:
        text, subnet = as_text(args[0]), as_text(args[1])
        if text is None or subnet is None:
            return False
        try:
            address = ipaddress.ip_address(text.strip())
            network = ipaddress.ip_network(subnet.strip(), strict=False)
        except ValueError:
            return False
        if version is not None and address.version != version:
            return False
        return address.version == network.version and address in network
    return apply


def _log(value: float) -> float:
    return math.log(value)


FUNCTIONS: dict[str, Function] = {f.name: f for f in [
    Function("abs", 1, 1, _numeric(abs)),
    Function("ceil", 1, 1, _rounding(math.ceil)),
    Function("floor", 1, 1, _rounding(math.floor)),
    Function("greatest", 1, None, _extreme(max)),
    Function("least", 1, None, _extreme(min)),
    Function("log", 1, 1, _numeric(_log)),
    Function("sqrt", 1, 1, _numeric(math.sqrt)),
    Function("ispresent", 1, 1, lambda args: args[0] is not None),
    Function("coalesce", 1, None, _coalesce),
    Function("isempty", 1, 1, _isempty),
    Function("isblank", 1, 1, _isblank),
    Function("concat", 1, None, _concat),
    Function("ltrim", 1, 2, _trim("left")),
    Function("rtrim", 1, 2, _trim("right")),
    Function("trim", 1, 2, _trim("both")),
    Function("strlen", 1, 1, _text(len)),
    Function("toupper", 1, 1, _text(str.upper)),
    Function("tolower", 1, 1, _text(str.lower)),
    Function("substr", 2, 3, _substr),
    Function("replace", 3, 3, _replace),
    Function("strcontains", 2, 2, _strcontains),
    Function("datefloor", 2, 2, _datefloor, duration_arg=1),
    Function("dateceil", 2, 2, _dateceil, duration_arg=1),
    Function("frommillis", 1, 1, _from_millis),
    Function("tomillis", 1, 1, _to_millis),
    Function("isvalidip", 1, 1, _ip(None)),
    Function("isvalidipv4", 1, 1, _ip(4)),
    Function("isvalidipv6", 1, 1, _ip(6)),
    Function("isipinsubnet", 2, 2, _in_subnet(None)),
    Function("isipv4insubnet", 2, 2, _in_subnet(4)),
    Function("isipv6insubnet", 2, 2, _in_subnet(6)),
]}

# bin(period) is datefloor(@timestamp, period); the compiler rewrites it.
BIN = Function("bin", 1, 1, lambda args: None, duration_arg=0)

"""Wildcard matching: ``*`` (any run of characters) and ``?`` (one character).

Three flavours, as IAM has them:

* strings (``StringLike``, actions): ``*`` and ``?`` match any characters;
* ARNs (``Resource``, ``ArnLike``): the name is split into five components,
  ``arn:<partition>:<service>:<workspace>:<resource>``, and a wildcard in one of the
  first four never crosses a ``:``; the resource component keeps any further colons
  and its wildcards match them. A pattern with fewer components ends in a component
  that takes the rest of the name (``arn:pipetrail:jobs:*`` covers every jobs ARN).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipetrail.access.variables import Resolved, Wildcard

ARN_FIXED_COMPONENTS = 4  # colons before the resource component


def string_regex(parts: Resolved) -> str:
    out: list[str] = []
    for part in parts:
        if part is Wildcard.ANY:
            out.append(".*")
        elif part is Wildcard.ONE:
            out.append(".")
        else:
            out.append(re.escape(part))
    return "".join(out)


def arn_regex(parts: Resolved) -> str:
    colons = sum(part.count(":") for part in parts if isinstance(part, str))
    last = min(colons, ARN_FIXED_COMPONENTS)
    component = 0
    out: list[str] = []
    for part in parts:
        if isinstance(part, Wildcard):
            free = component >= last
            if part is Wildcard.ANY:
                out.append(".*" if free else "[^:]*")
            else:
                out.append("." if free else "[^:]")
            continue
        pieces = part.split(":")
        for n, piece in enumerate(pieces):
            if n:
                out.append(":")
                component += 1
            out.append(re.escape(piece))
    return "".join(out)


def any_of(regexes: list[str]) -> str:
    """One regex matching any of ``regexes`` (each one whole)."""
    if len(regexes) == 1:
        return regexes[0]
    return "(?:" + "|".join(regexes) + ")"


@lru_cache(maxsize=4096)
def compiled(regex: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``regex`` compiled for whole-string matching (cached: used per request)."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(regex, flags)

"""Findings and the registry of heuristics that produce them.

A heuristic is a plain function that takes a :class:`~pipetrail.spark.analysis.SparkReport`
and yields :class:`Finding` objects, marked with :func:`heuristic` to give it a name::

    from pipetrail.spark.findings import Finding, heuristic

    @heuristic("too-many-jobs", "More than 1,000 jobs in one application")
    def too_many_jobs(report):
        if len(report.jobs) > 1000:
            yield Finding("too-many-jobs", "medium", "Many small jobs",
                          {"jobs": len(report.jobs)}, "Batch the actions of the driver loop.")

Built-in heuristics (:mod:`pipetrail.spark.heuristics`) are written and loaded exactly
like that: :func:`default_registry` adds that module, then every object published under
the ``pipetrail.spark_heuristics`` entry-point group (a heuristic function or a module
holding some), so an installed package extends ``pipetrail spark analyze`` without any
change here. A heuristic that raises does not stop the others; the error becomes a
warning of the report.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

if TYPE_CHECKING:
    from pipetrail.spark.analysis import SparkReport

Json = dict[str, Any]
Severity = Literal["high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low", "info")
ENTRY_POINT_GROUP = "pipetrail.spark_heuristics"
BUILTIN_MODULE = "pipetrail.spark.heuristics"


@dataclass(frozen=True)
class Finding:
    """One problem found in an application, with the figures that show it."""

    heuristic: str
    severity: Severity
    title: str
    evidence: Json
    recommendation: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, "
                             f"not {self.severity!r}")

    def to_json(self) -> Json:
        return {"heuristic": self.heuristic, "severity": self.severity, "title": self.title,
                "evidence": self.evidence, "recommendation": self.recommendation}


class Heuristic(Protocol):
    """A function marked with :func:`heuristic`."""

    heuristic_name: str
    heuristic_description: str
    __name__: str

    def __call__(self, report: SparkReport) -> Iterable[Finding]: ...


HeuristicFunc = Callable[["SparkReport"], Iterable[Finding]]


def heuristic(name: str, description: str = "") -> Callable[[HeuristicFunc], Heuristic]:
    """Mark a function as a heuristic called ``name`` (it is not registered anywhere)."""
    def mark(func: HeuristicFunc) -> Heuristic:
        marked = cast(Heuristic, func)
        marked.heuristic_name = name
        marked.heuristic_description = description or (func.__doc__ or "").strip().split("\n")[0]
        return marked
    return mark


def is_heuristic(obj: object) -> bool:
    return callable(obj) and isinstance(getattr(obj, "heuristic_name", None), str)


@dataclass
class Registry:
    """An ordered set of heuristics, by name."""

    _heuristics: dict[str, Heuristic] = field(default_factory=dict)

    def add(self, obj: object) -> None:
        """Add a heuristic, or every heuristic of a module (in the order it defines them)."""
        if isinstance(obj, types.ModuleType):
            for value in vars(obj).values():
                if is_heuristic(value):
                    self.add(value)
            return
        if not is_heuristic(obj):
            raise TypeError(f"{obj!r} is not a heuristic (mark it with @heuristic(name))")
        h = cast(Heuristic, obj)
        self._heuristics[h.heuristic_name] = h

    def remove(self, name: str) -> None:
        self._heuristics.pop(name, None)

    def names(self) -> list[str]:
        return list(self._heuristics)

    def __iter__(self) -> Iterator[Heuristic]:
        return iter(list(self._heuristics.values()))

    def __len__(self) -> int:
        return len(self._heuristics)

    def run(self, report: SparkReport) -> list[Finding]:
        """Every finding of every heuristic, most severe first."""
        found: list[Finding] = []
        for h in self:
            try:
                found.extend(h(report))
            except Exception as exc:  # a broken heuristic must not hide the others
                report.source["warnings"].append(
                    f"heuristic {h.heuristic_name!r} failed: {type(exc).__name__}: {exc}")
        return sorted(found, key=lambda f: SEVERITIES.index(f.severity))


def default_registry() -> Registry:
    """Built-in heuristics, then those installed under :data:`ENTRY_POINT_GROUP`."""
    registry = Registry()
    registry.add(importlib.import_module(BUILTIN_MODULE))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        registry.add(ep.load())
    return registry

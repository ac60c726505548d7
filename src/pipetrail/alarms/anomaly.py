"""Anomaly-detection bands learned from a metric's history.

CloudWatch trains a machine-learning model (hourly, daily and weekly seasonality and
trend) on up to two weeks of a metric and draws ``ANOMALY_DETECTION_BAND(m1, k)`` around
it, ``k`` being a number of "standard deviations". Pipetrail's model is smaller, robust,
and explained in full here:

* **Seasonality by calendar bucket.** Each datapoint falls in an hour-of-week bucket
  (weekly seasonality), an hour-of-day bucket (daily) or one global bucket (none), in the
  model's time zone (UTC by default). Weekly is used when the history covers at least two
  weeks, daily when it covers at least two days, otherwise none (the history covers the
  time from its first period start to its last one, plus the typical gap between periods,
  so 14 days of 5-minute values cover two weeks).
* **Centre = median** of the bucket's values. A bucket with fewer than
  ``min_bucket_points`` values borrows the next coarser level (weekly -> daily -> global).
* **Spread = 1.4826 x MAD** of the residuals (value minus its bucket's centre), an
  estimate of the standard deviation that a few outliers cannot inflate. It is the
  bucket's own when the bucket holds at least ``min_spread_points`` values, otherwise the
  pooled spread of all residuals. When the MAD is 0 (mostly identical values) the mean
  absolute residual x 1.2533 is used instead; the spread never goes below 0.1 % of the
  centre's magnitude (nor below 1e-9), so a constant metric still gets a (thin) band.
* **Band = centre +/- width x spread**, optionally clipped to ``[clip_min, clip_max]``
  (CloudWatch clips some AWS metrics at 0 or 100 %; Pipetrail only when asked).
* **Not modelled:** trend (a metric that grows steadily drifts out of its band until the
  model is retrained on recent history), holidays, and changes of level inside the
  training window. Periods excluded from training (``exclude``) are skipped.
* **Readiness:** with fewer than ``min_points`` training values the model gives no band,
  and an alarm then treats the period as missing.

Train on the same statistic and period the alarm evaluates, for example the last 14 days
of per-period values.
"""

from __future__ import annotations

import enum
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipetrail.model.errors import ValidationError

MAD_TO_SIGMA = 1.4826
MEAN_ABS_TO_SIGMA = 1.2533
RELATIVE_SPREAD_FLOOR = 0.001
ABSOLUTE_SPREAD_FLOOR = 1e-9
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


@dataclass(frozen=True)
class Band:
    """The expected range of one period's value."""

    lower: float
    upper: float


class Seasonality(enum.StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


_COARSER = {Seasonality.WEEKLY: Seasonality.DAILY, Seasonality.DAILY: Seasonality.NONE}


@dataclass(frozen=True)
class _Bucket:
    center: float
    spread: float
    count: int


@dataclass(frozen=True)
class AnomalyModel:
    """A trained band model; ``band(timestamp)`` gives the band of one period."""

    width: float
    seasonality: Seasonality
    timezone: str
    training_points: int
    ready: bool
    clip_min: float | None = None
    clip_max: float | None = None
    levels: Mapping[Seasonality, Mapping[int, _Bucket]] = field(default_factory=dict)
    min_bucket_points: int = 3

    def band(self, timestamp: int) -> Band | None:
        """The band for the period starting at ``timestamp`` (ms), or None when not ready."""
        if not self.ready:
            return None
        zone = _zone(self.timezone)
        level: Seasonality | None = self.seasonality
        while level is not None:
            bucket = self.levels.get(level, {}).get(_bucket_key(timestamp, level, zone))
            if bucket is not None and bucket.count >= self.min_bucket_points:
                return self._band(bucket)
            level = _COARSER.get(level)
        bucket = self.levels.get(Seasonality.NONE, {}).get(0)
        return self._band(bucket) if bucket is not None else None

    def bands(self, timestamps: Iterable[int]) -> dict[int, Band]:
        """Bands for several periods (periods without a band are left out)."""
        result: dict[int, Band] = {}
        for timestamp in timestamps:
            band = self.band(timestamp)
            if band is not None:
                result[timestamp] = band
        return result

    def with_width(self, width: float) -> AnomalyModel:
        """The same model drawn with another band width."""
        _check_width(width)
        return AnomalyModel(
            float(width), self.seasonality, self.timezone, self.training_points, self.ready,
            self.clip_min, self.clip_max, self.levels, self.min_bucket_points,
        )

    def _band(self, bucket: _Bucket) -> Band:
        lower = bucket.center - self.width * bucket.spread
        upper = bucket.center + self.width * bucket.spread
        if self.clip_min is not None:
            lower, upper = max(lower, self.clip_min), max(upper, self.clip_min)
        if self.clip_max is not None:
            lower, upper = min(lower, self.clip_max), min(upper, self.clip_max)
        return Band(lower, upper)


def train(
    history: Mapping[int, float],
    *,
    width: float = 2.0,
    timezone: str = "UTC",
    exclude: Sequence[tuple[int, int]] = (),
    min_points: int = 24,
    min_bucket_points: int = 3,
    min_spread_points: int = 20,
    clip_min: float | None = None,
    clip_max: float | None = None,
) -> AnomalyModel:
    """Learn a band model from ``history``: period start (ms) -> statistic value.

    ``exclude`` holds [start, end) ranges (ms) left out of training, for example an
    incident or a deployment.
    """
    _check_width(width)
    zone = _zone(timezone)
    for start, end in exclude:
        if start >= end:
            raise ValidationError(f"excluded range [{start}, {end}) is empty")
    if clip_min is not None and clip_max is not None and clip_min > clip_max:
        raise ValidationError("clip_min must not be above clip_max")
    points = sorted(
        (ts, float(value)) for ts, value in history.items()
        if not any(start <= ts < end for start, end in exclude)
    )
    if len(points) < min_points:
        return AnomalyModel(float(width), Seasonality.NONE, timezone, len(points), False,
                            clip_min, clip_max)
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(points)]
    span = points[-1][0] - points[0][0] + int(statistics.median(gaps))
    if span >= 2 * WEEK_MS:
        seasonality = Seasonality.WEEKLY
    elif span >= 2 * DAY_MS:
        seasonality = Seasonality.DAILY
    else:
        seasonality = Seasonality.NONE
    levels: dict[Seasonality, dict[int, _Bucket]] = {}
    level: Seasonality | None = seasonality
    while level is not None:
        levels[level] = _fit_level(points, level, zone, min_bucket_points, min_spread_points)
        level = _COARSER.get(level)
    return AnomalyModel(float(width), seasonality, timezone, len(points), True,
                        clip_min, clip_max, levels, min_bucket_points)


def _fit_level(
    points: Sequence[tuple[int, float]],
    level: Seasonality,
    zone: tzinfo,
    min_bucket_points: int,
    min_spread_points: int,
) -> dict[int, _Bucket]:
    grouped: dict[int, list[float]] = defaultdict(list)
    for ts, value in points:
        grouped[_bucket_key(ts, level, zone)].append(value)
    centers = {key: statistics.median(values) for key, values in grouped.items()}
    pooled_residuals = [
        value - centers[key] for key, values in grouped.items() for value in values
        if len(values) >= min_bucket_points
    ]
    if not pooled_residuals:
        pooled_residuals = [value - centers[key] for key, values in grouped.items()
                            for value in values]
    pooled = _robust_spread(pooled_residuals)
    buckets: dict[int, _Bucket] = {}
    for key, values in grouped.items():
        center = centers[key]
        if len(values) >= min_spread_points:
            spread = _robust_spread([value - center for value in values])
        else:
            spread = pooled
        spread = max(spread, abs(center) * RELATIVE_SPREAD_FLOOR, ABSOLUTE_SPREAD_FLOOR)
        buckets[key] = _Bucket(center, spread, len(values))
    return buckets


def _robust_spread(residuals: Sequence[float]) -> float:
    if not residuals:
        return 0.0
    middle = statistics.median(residuals)
    deviations = [abs(r - middle) for r in residuals]
    mad = statistics.median(deviations)
    if mad > 0:
        return MAD_TO_SIGMA * mad
    return MEAN_ABS_TO_SIGMA * statistics.fmean(deviations)


def _bucket_key(timestamp: int, level: Seasonality, zone: tzinfo) -> int:
    if level is Seasonality.NONE:
        return 0
    local = datetime.fromtimestamp(timestamp / 1000, tz=zone)
    if level is Seasonality.DAILY:
        return local.hour
    return local.weekday() * 24 + local.hour


def _zone(name: str) -> tzinfo:
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r}") from None


def _check_width(width: object) -> None:
    if isinstance(width, bool) or not isinstance(width, int | float) or not width > 0:
        raise ValidationError(f"the band width must be a positive number, got {width!r}")
    if width == float("inf"):
        raise ValidationError("the band width must be finite")

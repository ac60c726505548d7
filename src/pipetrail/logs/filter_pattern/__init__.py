"""CloudWatch Logs filter patterns: unstructured terms, ``%regex%``, JSON and space-delimited.

``compile_pattern(text)`` gives a :class:`FilterPattern`; its ``match(message)`` returns a
:class:`PatternMatch` (with the values metric filters read) or None. See
``docs/log-languages.md`` for the syntax and the exact semantics.
"""

from pipetrail.logs.filter_pattern.pattern import (
    MAX_PATTERN_LENGTH,
    FilterPattern,
    PatternMatch,
    ValueSelector,
    compile_pattern,
    parse_value_selector,
)

__all__ = [
    "MAX_PATTERN_LENGTH",
    "FilterPattern",
    "PatternMatch",
    "ValueSelector",
    "compile_pattern",
    "parse_value_selector",
]

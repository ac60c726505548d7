"""Redaction: secrets are masked in log events before they are stored.

Built-in rules (:mod:`.rules`) find AWS access keys and secret keys, passwords in URLs,
DSNs and ``key=value`` text, bearer tokens, Authorization headers, JWTs, GitHub and Slack
tokens; :mod:`.pem` masks private keys (PEM blocks, also when printed line by line);
:mod:`.custom` adds one's own regular expressions. :class:`StreamRedactor` applies them
to the events of each stream in order (see ``docs/logs.md``).
"""

from pipetrail.logs.redaction.custom import compile_patterns
from pipetrail.logs.redaction.pem import PemTracker
from pipetrail.logs.redaction.redactor import Redactor, StreamRedactor
from pipetrail.logs.redaction.rules import BUILTIN_RULES, mask

__all__ = ["BUILTIN_RULES", "PemTracker", "Redactor", "StreamRedactor", "compile_patterns",
           "mask"]

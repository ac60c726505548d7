"""Parsing query text into :class:`~pipetrail.logs.query.ast.Query`.

Commands are joined with ``|``. Expression precedence, loosest first: ``or``, ``and``,
``not``, comparisons (``= != < <= > >= like =~ in``), ``+ -``, ``* / %``, unary ``-``,
``^``.
"""

from __future__ import annotations

import dataclasses

import regex

from pipetrail.logs.query import ast
from pipetrail.logs.query.aggregates import AGGREGATES
from pipetrail.logs.query.functions import BIN, FUNCTIONS
from pipetrail.logs.query.lexer import (
    DURATION,
    EOF,
    FIELD,
    IDENT,
    NUMBER,
    OP,
    STRING,
    Lexer,
    Token,
)
from pipetrail.logs.syntax import SyntaxProblem

MAX_QUERY_LENGTH = 10_000
MAX_RESULT_ROWS = 10_000
MAX_NESTING = 64
MAX_REGEX_LENGTH = 2_000

COMMANDS = ("fields", "display", "filter", "stats", "sort", "limit", "parse", "dedup")
UNSUPPORTED = {
    "pattern": "pattern (automatic clustering)", "diff": "diff", "anomaly": "anomaly",
    "unmask": "unmask", "filterindex": "filterIndex", "unnest": "unnest",
    "lookup": "lookup", "join": "join", "source": "SOURCE",
}
KEYWORDS = frozenset({"and", "or", "not", "like", "in", "by", "as", "asc", "desc"})
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")


def parse_query(text: str) -> ast.Query:
    """Parse query text; bad text raises ``SyntaxProblem`` pointing at the problem."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lex = Lexer(text)
        self.depth = 0
        self.in_stats = False
        self.in_aggregate = False
        self.after_stats = False

    # -- helpers ------------------------------------------------------------------------

    def error(self, problem: str, at: int) -> SyntaxProblem:
        return SyntaxProblem("query", self.text, at, problem)

    def expect_op(self, op: str, what: str) -> Token:
        token = self.lex.peek()
        if not token.is_op(op):
            raise self.error(f"expected {what}", token.start)
        return self.lex.next()

    def source(self, node: ast.Node) -> str:
        return self.text[node.start:node.end].strip()

    def at_command_end(self) -> bool:
        token = self.lex.peek()
        return token.kind == EOF or token.is_op("|")

    # -- commands -----------------------------------------------------------------------

    def parse(self) -> ast.Query:
        if len(self.text) > MAX_QUERY_LENGTH:
            raise self.error(f"a query is at most {MAX_QUERY_LENGTH} characters",
                             MAX_QUERY_LENGTH)
        commands: list[ast.Command] = []
        if self.lex.peek().kind == EOF:
            raise self.error("the query is empty; start with a command such as fields or "
                             "filter", self.lex.peek().start)
        while True:
            commands.append(self.command())
            token = self.lex.peek()
            if token.kind == EOF:
                break
            if not token.is_op("|"):
                raise self.error("expected '|' before the next command", token.start)
            self.lex.next()
        self.check_order(commands)
        return ast.Query(self.text, tuple(commands))

    def command(self) -> ast.Command:
        token = self.lex.next()
        word = token.text.lower() if token.kind == IDENT else ""
        if word in UNSUPPORTED:
            raise self.error(f"the {UNSUPPORTED[word]} command is not supported", token.start)
        if word in ("head", "tail"):
            raise self.error(f"{word} is replaced by limit", token.start)
        if word not in COMMANDS:
            shown = token.text or "the end of the query"
            raise self.error(f"expected a command ({', '.join(COMMANDS)}), found {shown!r}",
                             token.start)
        if self.at_command_end():
            raise self.error(f"{word} needs arguments", token.end)
        command: ast.Command = getattr(self, f"cmd_{word}")(token)
        if not self.at_command_end():
            extra = self.lex.peek()
            raise self.error(f"unexpected {extra.text!r}; expected '|' or the end of the query",
                             extra.start)
        return command

    def cmd_fields(self, token: Token) -> ast.Command:
        items = [self.projection()]
        while self.lex.peek().is_op(","):
            self.lex.next()
            items.append(self.projection())
        return ast.FieldsCmd(token.start, self.lex.peek().start, tuple(items))

    def cmd_display(self, token: Token) -> ast.Command:
        names = self.name_list()
        return ast.DisplayCmd(token.start, self.lex.peek().start, tuple(names))

    def cmd_dedup(self, token: Token) -> ast.Command:
        names = self.name_list()
        return ast.DedupCmd(token.start, self.lex.peek().start, tuple(names))

    def cmd_filter(self, token: Token) -> ast.Command:
        return ast.FilterCmd(token.start, self.lex.peek().start, self.expression())

    def cmd_limit(self, token: Token) -> ast.Command:
        count = self.lex.next()
        if count.kind != NUMBER or not isinstance(count.value, int):
            raise self.error("limit takes a whole number, like limit 20", count.start)
        if not 1 <= count.value <= MAX_RESULT_ROWS:
            raise self.error(f"limit is between 1 and {MAX_RESULT_ROWS}", count.start)
        return ast.LimitCmd(token.start, count.end, count.value)

    def cmd_sort(self, token: Token) -> ast.Command:
        keys = [self.sort_key()]
        while self.lex.peek().is_op(","):
            self.lex.next()
            keys.append(self.sort_key())
        return ast.SortCmd(token.start, self.lex.peek().start, tuple(keys))

    def sort_key(self) -> ast.SortKey:
        expr = self.expression()
        descending = False
        nxt = self.lex.peek()
        if nxt.is_word("asc", "desc"):
            self.lex.next()
            descending = nxt.text.lower() == "desc"
        return ast.SortKey(expr, descending)

    def cmd_stats(self, token: Token) -> ast.Command:
        self.in_stats = True
        try:
            aggregates = [self.projection()]
            while self.lex.peek().is_op(","):
                self.lex.next()
                aggregates.append(self.projection())
        finally:
            self.in_stats = False
        for item in aggregates:
            self.check_aggregate_projection(item.expr)
        by: list[ast.Projection] = []
        if self.lex.peek().is_word("by"):
            self.lex.next()
            by.append(self.projection())
            while self.lex.peek().is_op(","):
                self.lex.next()
                by.append(self.projection())
        self.after_stats = True
        return ast.StatsCmd(token.start, self.lex.peek().start, tuple(aggregates), tuple(by))

    def cmd_parse(self, token: Token) -> ast.Command:
        nxt = self.lex.peek()
        source: ast.Node
        if nxt.kind == STRING or nxt.is_op("/"):
            source = ast.FieldRef(token.end, token.end, "@message")
        else:
            source = self.primary()
        pattern_token = self.lex.peek()
        if pattern_token.kind == STRING:
            self.lex.next()
            glob = pattern_token.value
            stars = glob.count("*")
            if stars == 0:
                raise self.error("a parse pattern needs at least one * to capture",
                                 pattern_token.start)
            as_token = self.lex.peek()
            if not as_token.is_word("as"):
                raise self.error(f"expected 'as' and {stars} field name"
                                 f"{'s' if stars > 1 else ''} for the * in the pattern",
                                 as_token.start)
            self.lex.next()
            names = self.name_list()
            if len(names) != stars:
                raise self.error(f"the pattern has {stars} * but {len(names)} field name"
                                 f"{'s follow' if len(names) != 1 else ' follows'} 'as'",
                                 as_token.start)
            compiled = regex.compile(glob_to_regex(glob), regex.DOTALL)
            return ast.ParseCmd(token.start, self.lex.peek().start, source, compiled,
                                tuple(names), tuple(range(1, stars + 1)))
        if pattern_token.is_op("/"):
            node = self.regex_literal()
            groups = sorted(node.compiled.groupindex.items(), key=lambda item: item[1])
            if not groups:
                raise self.error("a parse regex needs named groups, like (?<level>\\w+)",
                                 node.start)
            if self.lex.peek().is_word("as"):
                raise self.error("a parse regex names its fields with (?<name>...) groups; "
                                 "'as' is for * patterns", self.lex.peek().start)
            return ast.ParseCmd(token.start, self.lex.peek().start, source, node.compiled,
                                tuple(name for name, _ in groups),
                                tuple(number for _, number in groups))
        raise self.error('expected a pattern: "text with * to capture" or /regex with '
                         "(?<name>...) groups/", pattern_token.start)

    def name_list(self) -> list[str]:
        names = [self.name()]
        while self.lex.peek().is_op(","):
            self.lex.next()
            names.append(self.name())
        return names

    def name(self) -> str:
        token = self.lex.next()
        if token.kind == FIELD or (token.kind == IDENT and token.text.lower() not in KEYWORDS):
            return str(token.value)
        raise self.error("expected a field name", token.start)

    def projection(self) -> ast.Projection:
        expr = self.expression()
        name = self.source(expr)
        if isinstance(expr, ast.FieldRef):
            name = expr.name
        if self.lex.peek().is_word("as"):
            self.lex.next()
            name = self.name()
        return ast.Projection(expr, name)

    def check_order(self, commands: list[ast.Command]) -> None:
        for index, command in enumerate(commands):
            if isinstance(command, ast.DedupCmd):
                for later in commands[index + 1:]:
                    if not isinstance(later, ast.LimitCmd):
                        raise self.error("only limit may follow dedup", later.start)

    def check_aggregate_projection(self, expr: ast.Node) -> None:
        if not _contains_aggregate(expr):
            raise self.error("stats needs an aggregate function such as count(*), avg(x) "
                             "or pct(x, 95)", expr.start)
        stray = _field_outside_aggregate(expr)
        if stray is not None:
            raise self.error(f"{stray.name!r} is outside an aggregate function; group by it "
                             "with 'by' instead", stray.start)

    # -- expressions --------------------------------------------------------------------

    def expression(self) -> ast.Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"the expression nests deeper than {MAX_NESTING} levels",
                             self.lex.peek().start)
        try:
            return self.or_expr()
        finally:
            self.depth -= 1

    def or_expr(self) -> ast.Node:
        left = self.and_expr()
        while self.lex.peek().is_word("or"):
            self.lex.next()
            right = self.and_expr()
            left = ast.Binary(left.start, right.end, "or", left, right)
        return left

    def and_expr(self) -> ast.Node:
        left = self.not_expr()
        while self.lex.peek().is_word("and"):
            self.lex.next()
            right = self.not_expr()
            left = ast.Binary(left.start, right.end, "and", left, right)
        return left

    def not_expr(self) -> ast.Node:
        token = self.lex.peek()
        if token.is_word("not"):
            self.lex.next()
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.error(f"the expression nests deeper than {MAX_NESTING} levels",
                                 token.start)
            try:
                operand = self.not_expr()
            finally:
                self.depth -= 1
            return ast.Unary(token.start, operand.end, "not", operand)
        return self.comparison()

    def comparison(self) -> ast.Node:
        left = self.additive()
        token = self.lex.peek()
        negated = False
        if token.is_word("not") and self.lex.peek(1).is_word("like", "in"):
            self.lex.next()
            negated = True
            token = self.lex.peek()
        if token.kind == OP and token.text in COMPARISONS and not negated:
            self.lex.next()
            right = self.additive()
            return ast.Binary(left.start, right.end, token.text, left, right)
        if (token.is_op("=~") and not negated) or token.is_word("like"):
            self.lex.next()
            pattern = self.like_pattern()
            return ast.Like(left.start, pattern.end, left, pattern, negated)
        if token.is_word("in"):
            self.lex.next()
            items, end = self.list_literal()
            return ast.InList(left.start, end, left, items, negated)
        return left

    def like_pattern(self) -> ast.Node:
        token = self.lex.peek()
        if token.kind == STRING:
            self.lex.next()
            return ast.Literal(token.start, token.end, token.value)
        if token.is_op("/"):
            return self.regex_literal()
        raise self.error('expected /regex/ or "text" after like', token.start)

    def regex_literal(self) -> ast.RegexLit:
        token = self.lex.read_regex()
        source = str(token.value)
        if not source:
            raise self.error("the regular expression is empty", token.start)
        if len(source) > MAX_REGEX_LENGTH:
            raise self.error(f"a regular expression is at most {MAX_REGEX_LENGTH} characters",
                             token.start)
        try:
            compiled = regex.compile(source)
        except regex.error as exc:
            offset = int(getattr(exc, "pos", None) or 0)
            message = getattr(exc, "msg", None) or str(exc)
            raise self.error(f"bad regular expression: {message}",
                             token.start + 1 + min(offset, len(source))) from None
        except (ValueError, OverflowError, RecursionError) as exc:
            raise self.error(f"bad regular expression: {exc}", token.start + 1) from None
        return ast.RegexLit(token.start, token.end, source, compiled)

    def list_literal(self) -> tuple[tuple[ast.Node, ...], int]:
        self.expect_op("[", "'[' to start the list after in")
        items: list[ast.Node] = []
        if not self.lex.peek().is_op("]"):
            items.append(self.additive())
            while self.lex.peek().is_op(","):
                self.lex.next()
                items.append(self.additive())
        close = self.expect_op("]", "',' or ']' in the list")
        return tuple(items), close.end

    def additive(self) -> ast.Node:
        left = self.multiplicative()
        while self.lex.peek().is_op("+", "-"):
            op = self.lex.next().text
            right = self.multiplicative()
            left = ast.Binary(left.start, right.end, op, left, right)
        return left

    def multiplicative(self) -> ast.Node:
        left = self.unary()
        while self.lex.peek().is_op("*", "/", "%"):
            op = self.lex.next().text
            right = self.unary()
            left = ast.Binary(left.start, right.end, op, left, right)
        return left

    def unary(self) -> ast.Node:
        token = self.lex.peek()
        if token.is_op("-"):
            self.lex.next()
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise self.error(f"the expression nests deeper than {MAX_NESTING} levels",
                                 token.start)
            try:
                operand = self.unary()
            finally:
                self.depth -= 1
            if isinstance(operand, ast.Literal) and isinstance(operand.value, (int, float)) \
                    and not isinstance(operand.value, bool):
                return ast.Literal(token.start, operand.end, -operand.value)
            return ast.Unary(token.start, operand.end, "-", operand)
        return self.power()

    def power(self) -> ast.Node:
        base = self.primary()
        if self.lex.peek().is_op("^"):
            self.lex.next()
            exponent = self.unary()
            return ast.Binary(base.start, exponent.end, "^", base, exponent)
        return base

    def primary(self) -> ast.Node:
        token = self.lex.peek()
        if token.kind == NUMBER:
            self.lex.next()
            return ast.Literal(token.start, token.end, token.value)
        if token.kind == STRING:
            self.lex.next()
            return ast.Literal(token.start, token.end, token.value)
        if token.kind == DURATION:
            raise self.error("a duration such as 5m only goes in bin(), datefloor() or "
                             "dateceil()", token.start)
        if token.kind == FIELD:
            self.lex.next()
            return ast.FieldRef(token.start, token.end, str(token.value))
        if token.kind == IDENT:
            if token.text.lower() in KEYWORDS:
                raise self.error(f"expected a value, found the keyword {token.text!r}",
                                 token.start)
            self.lex.next()
            if self.lex.peek().is_op("("):
                return self.call(token)
            return ast.FieldRef(token.start, token.end, token.text)
        if token.is_op("("):
            self.lex.next()
            inner = self.expression()
            close = self.expect_op(")", "')'")
            return _with_span(inner, token.start, close.end)
        if token.kind == EOF:
            raise self.error("the query ends where a value was expected", token.start)
        raise self.error(f"expected a value, found {token.text!r}", token.start)

    def call(self, name_token: Token) -> ast.Node:
        name = name_token.text.lower()
        self.expect_op("(", "'('")
        if name in AGGREGATES:
            return self.aggregate_call(name_token, name)
        function = BIN if name == "bin" else FUNCTIONS.get(name)
        if function is None:
            raise self.error(f"unknown function {name_token.text!r}", name_token.start)
        args: list[ast.Node] = []
        if not self.lex.peek().is_op(")"):
            while True:
                if function.duration_arg == len(args):
                    args.append(self.duration_argument(name_token.text))
                else:
                    args.append(self.expression())
                if not self.lex.peek().is_op(","):
                    break
                self.lex.next()
        close = self.expect_op(")", "',' or ')' after the function's arguments")
        self.check_arity(name_token, function.min_args, function.max_args, len(args))
        if name == "bin":
            timestamp = ast.FieldRef(name_token.start, name_token.start, "@timestamp")
            return ast.Call(name_token.start, close.end, "datefloor", (timestamp, args[0]))
        return ast.Call(name_token.start, close.end, name, tuple(args))

    def duration_argument(self, function: str) -> ast.Node:
        token = self.lex.next()
        if token.kind != DURATION:
            raise self.error(f"{function}() takes a time period such as 5m, 1h or 1d here",
                             token.start)
        return ast.DurationLit(token.start, token.end, token.value)

    def aggregate_call(self, name_token: Token, name: str) -> ast.Node:
        spec = AGGREGATES[name]
        if self.in_aggregate:
            raise self.error("aggregate functions cannot be nested", name_token.start)
        if not self.in_stats and not self.after_stats:
            raise self.error(f"{name_token.text}() is an aggregate function; use it in stats",
                             name_token.start)
        self.in_aggregate = True
        try:
            args: list[ast.Node] = []
            token = self.lex.peek()
            if token.is_op("*"):
                if not spec.allows_star:
                    raise self.error(f"{name_token.text}(*) is not allowed; name a field",
                                     token.start)
                self.lex.next()
                args.append(ast.Star(token.start, token.end))
            elif not token.is_op(")"):
                while True:
                    args.append(self.expression())
                    if not self.lex.peek().is_op(","):
                        break
                    self.lex.next()
            close = self.expect_op(")", "',' or ')' after the function's arguments")
        finally:
            self.in_aggregate = False
        self.check_arity(name_token, spec.min_args, spec.max_args, len(args))
        if name == "pct":
            percent = args[1]
            if not (isinstance(percent, ast.Literal) and isinstance(percent.value, (int, float))
                    and 0 <= percent.value <= 100):
                raise self.error("pct takes a percentile between 0 and 100 as a number, like "
                                 "pct(latency, 95)", percent.start)
        node = ast.AggCall(name_token.start, close.end, name, tuple(args))
        if not self.in_stats:
            # After stats, count(*) and friends name the columns stats produced.
            return ast.FieldRef(node.start, node.end, self.source(node))
        return node

    def check_arity(self, token: Token, low: int, high: int | None, count: int) -> None:
        if count < low or (high is not None and count > high):
            if high is None:
                wanted = f"at least {low}"
            elif low == high:
                wanted = str(low)
            else:
                wanted = f"{low} to {high}"
            raise self.error(f"{token.text}() takes {wanted} argument"
                             f"{'' if wanted == '1' else 's'}, not {count}", token.start)


def glob_to_regex(glob: str) -> str:
    """``parse`` glob: each ``*`` captures lazily, except a ``*`` ending the pattern."""
    parts = glob.split("*")
    pieces: list[str] = []
    for index, part in enumerate(parts):
        pieces.append(regex.escape(part))
        if index < len(parts) - 1:
            last = index == len(parts) - 2 and parts[-1] == ""
            pieces.append("(.*)" if last else "(.*?)")
    return "".join(pieces)


def _with_span(node: ast.Node, start: int, end: int) -> ast.Node:
    """The same node, spanning its parentheses (for column names)."""
    return dataclasses.replace(node, start=start, end=end)


def _children(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.Unary):
        return [node.operand]
    if isinstance(node, ast.Binary):
        return [node.left, node.right]
    if isinstance(node, ast.Like):
        return [node.operand, node.pattern]
    if isinstance(node, ast.InList):
        return [node.operand, *node.items]
    if isinstance(node, (ast.Call, ast.AggCall)):
        return list(node.args)
    return []


def _contains_aggregate(node: ast.Node) -> bool:
    if isinstance(node, ast.AggCall):
        return True
    return any(_contains_aggregate(child) for child in _children(node))


def _field_outside_aggregate(node: ast.Node) -> ast.FieldRef | None:
    if isinstance(node, ast.AggCall):
        return None
    if isinstance(node, ast.FieldRef):
        return node
    for child in _children(node):
        found = _field_outside_aggregate(child)
        if found is not None:
            return found
    return None

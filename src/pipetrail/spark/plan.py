"""SQL physical plans: the node graph the Spark UI draws, and what a plan reads and writes.

:func:`build_graph` numbers the nodes of a ``sparkPlanInfo`` tree exactly as Spark's
``SparkPlanGraph`` does (so node ids equal the REST API's ``nodes[].nodeId``):
``WholeStageCodegen`` nodes become clusters around their children, ``InputAdapter`` and
query-stage wrappers are skipped, re-used exchanges and subqueries become extra edges.

:func:`reads_of` and :func:`writes_of` turn scan and write-command nodes into
:class:`DatasetRead` / :class:`DatasetWrite` records (format, paths or table, columns,
filters, mode), parsed from the node metadata and the ``simpleString`` Spark prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from sys import intern
from typing import Any

Json = dict[str, Any]

_WSCG = "WholeStageCodegen"
_PASS_THROUGH = ("TableCacheQueryStage", "ResultQueryStage")
_QUERY_STAGES = ("BroadcastQueryStage", "ShuffleQueryStage")


@dataclass
class PlanMetric:
    name: str
    accumulator_id: int
    metric_type: str


@dataclass
class PlanNode:
    """A node of the plan graph (a cluster for ``WholeStageCodegen``)."""

    node_id: int
    name: str
    desc: str
    metrics: list[PlanMetric]
    metadata: dict[str, str]
    cluster_nodes: list[PlanNode] | None = None
    codegen_id: int | None = None


@dataclass
class PlanGraph:
    nodes: list[PlanNode] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)

    def all_nodes(self) -> list[PlanNode]:
        """Every node, clusters after their members (``SparkPlanGraph.allNodes``)."""
        out: list[PlanNode] = []
        for node in self.nodes:
            if node.cluster_nodes is not None:
                out.extend(node.cluster_nodes)
            out.append(node)
        return out


def plan_metrics(info: Json) -> list[PlanMetric]:
    """The metrics of a plan node; an entry without an integer accumulator id is ignored."""
    metrics = info.get("metrics") or []
    if not isinstance(metrics, list):
        raise TypeError("plan node 'metrics' must be an array")
    return [PlanMetric(intern(str(m.get("name", ""))), m["accumulatorId"],
                       intern(str(m.get("metricType", "sum"))))
            for m in metrics if isinstance(m, dict) and type(m.get("accumulatorId")) is int]


def build_graph(plan_info: Json) -> PlanGraph:
    """The node graph of a ``sparkPlanInfo`` tree, numbered as Spark numbers it."""
    graph = PlanGraph()
    counter = iter(range(1 << 62))
    exchanges: dict[Any, PlanNode] = {}
    keys: dict[int, Any] = {}

    def key(info: Json) -> Any:
        # SparkPlanInfo equality: node name, simple string and children (not metrics).
        cached = keys.get(id(info))
        if cached is None:
            cached = (info.get("nodeName"), info.get("simpleString"),
                      tuple(key(c) for c in info.get("children") or ()))
            keys[id(info)] = cached
        return cached

    def visit(info: Json, parent: PlanNode | None, cluster: PlanNode | None) -> None:
        while True:
            if not isinstance(info, dict):
                raise TypeError("a plan node must be an object")
            name = str(info.get("nodeName", ""))
            children = info.get("children") or []
            if not isinstance(children, list):
                raise TypeError("plan node 'children' must be an array")
            if name.startswith(_WSCG) and children:
                node = PlanNode(next(counter), intern(name),
                                intern(str(info.get("simpleString", ""))),
                                plan_metrics(info), {}, cluster_nodes=[])
                graph.nodes.append(node)
                info, cluster = children[0], node
                continue
            if name == "InputAdapter" and children:
                info, cluster = children[0], None
                continue
            if name in _QUERY_STAGES and children:
                reused = exchanges.get(key(children[0]))
                if reused is not None:
                    if parent is not None:
                        graph.edges.append((reused.node_id, parent.node_id))
                    return
                info, cluster = children[0], None
                continue
            if name in _PASS_THROUGH and children:
                info, cluster = children[0], None
                continue
            if name == "Subquery":
                if cluster is not None:
                    cluster = None
                    continue
                reused = exchanges.get(key(info))
                if reused is not None:
                    if parent is not None and (reused.node_id, parent.node_id) not in graph.edges:
                        graph.edges.append((reused.node_id, parent.node_id))
                    return
            if name == "ReusedSubquery" and children:
                info = children[0]
                continue
            if name == "ReusedExchange" and children:
                reused = exchanges.get(key(children[0]))
                if reused is not None:
                    if parent is not None:
                        graph.edges.append((reused.node_id, parent.node_id))
                    return
            break
        metadata = info.get("metadata") or {}
        # Interned: executions of the same query repeat the same plan text.
        node = PlanNode(next(counter), intern(name), intern(str(info.get("simpleString", ""))),
                        plan_metrics(info),
                        {intern(str(k)): intern(str(v)) for k, v in metadata.items()}
                        if isinstance(metadata, dict) else {})
        if cluster is None:
            graph.nodes.append(node)
        else:
            assert cluster.cluster_nodes is not None
            cluster.cluster_nodes.append(node)
            node.codegen_id = _codegen_id(cluster.name)
        if "Exchange" in name or name == "Subquery":
            exchanges[key(info)] = node
        if parent is not None:
            graph.edges.append((node.node_id, parent.node_id))
        for child in children:
            visit(child, node, cluster)

    visit(plan_info, None, None)
    return graph


def _codegen_id(name: str) -> int | None:
    match = re.fullmatch(r"WholeStageCodegen \((\d+)\)", name.strip())
    return int(match.group(1)) if match else None


# -- what a plan reads and writes ------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    type: str

    def to_json(self) -> Json:
        return {"name": self.name, "type": self.type}


@dataclass
class DatasetRead:
    """A scan of a file-based or table source in a SQL execution's plan."""

    node_id: int
    node_name: str
    format: str | None
    paths: list[str]
    path_count: int | None
    table: str | None
    columns: list[Column]
    pushed_filters: list[str]
    partition_filters: list[str]
    data_filters: list[str]
    rows: int | None = None
    files: int | None = None
    bytes: int | None = None

    def to_json(self) -> Json:
        return {
            "nodeId": self.node_id, "nodeName": self.node_name, "format": self.format,
            "paths": self.paths, "pathCount": self.path_count, "table": self.table,
            "columns": [c.to_json() for c in self.columns],
            "pushedFilters": self.pushed_filters, "partitionFilters": self.partition_filters,
            "dataFilters": self.data_filters, "rows": self.rows, "files": self.files,
            "bytes": self.bytes,
        }


@dataclass
class DatasetWrite:
    """A write command (file output, table insert or create-as-select) in a plan."""

    node_id: int
    command: str
    format: str | None
    path: str | None
    table: str | None
    mode: str | None
    columns: list[str]
    partition_columns: list[str]
    rows: int | None = None
    files: int | None = None
    bytes: int | None = None

    def to_json(self) -> Json:
        return {
            "nodeId": self.node_id, "command": self.command, "format": self.format,
            "path": self.path, "table": self.table, "mode": self.mode, "columns": self.columns,
            "partitionColumns": self.partition_columns, "rows": self.rows, "files": self.files,
            "bytes": self.bytes,
        }


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets, parentheses, angle brackets and backquotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "([<{":
            depth += 1
        elif ch in ")]>}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail or parts:
        parts.append(tail)
    return [p for p in parts if p]


def bracket_list(text: str | None) -> list[str]:
    """``"[a, f(b, c)]"`` → ``["a", "f(b, c)"]``; ``None`` or ``"[]"`` → ``[]``."""
    if not text:
        return []
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return split_top(text)


def schema_columns(schema: str | None) -> list[Column]:
    """Top-level fields of a ``struct<name:type,…>`` read schema."""
    if not schema:
        return []
    schema = schema.strip()
    if schema.startswith("struct<") and schema.endswith(">"):
        schema = schema[7:-1]
    columns = []
    for part in split_top(schema):
        name, _, typ = _split_field(part)
        if name:
            columns.append(Column(name, typ))
    return columns


def _split_field(field_text: str) -> tuple[str, str, str]:
    if field_text.startswith("`"):
        end = field_text.find("`", 1)
        while end != -1 and field_text[end + 1:end + 2] == "`":  # doubled quote inside a name
            end = field_text.find("`", end + 2)
        if end != -1:
            return field_text[1:end].replace("``", "`"), ":", field_text[end + 2:]
    name, sep, typ = field_text.partition(":")
    return name, sep, typ


_LOCATION = re.compile(r"^\s*(\w+)(?:\((\d+) paths?\))?\[(.*)\]\s*$", re.S)
# A catalog table as a scan node names it: ``spark_catalog.default.events``, with
# backquotes when a part needs them.
_TABLE_NAME = re.compile(r"^(?:`[^`]+`|[\w$-]+)(?:\.(?:`[^`]+`|[\w$-]+))*$")
_KNOWN_FORMATS = {"csv": "CSV", "parquet": "Parquet", "orc": "ORC", "json": "JSON",
                  "text": "Text", "avro": "Avro", "binaryfile": "BinaryFile", "delta": "Delta"}


def parse_location(location: str | None) -> tuple[list[str], int | None]:
    """``InMemoryFileIndex(2 paths)[file:/a, ...]`` → (listed paths, total path count)."""
    if not location:
        return [], None
    match = _LOCATION.match(location)
    if not match:
        return [location.strip()], None
    paths = [p for p in split_top(match.group(3)) if p != "..."]
    count = int(match.group(2)) if match.group(2) else len(paths)
    return paths, count


def _simple_fields(simple: str) -> dict[str, str]:
    """``Key: value`` pairs of a scan's simple string (used when metadata is missing)."""
    out: dict[str, str] = {}
    for part in split_top(simple):
        key, sep, value = part.partition(": ")
        if sep and re.fullmatch(r"[A-Za-z]+", key.split()[-1] if key.split() else ""):
            out[key.split()[-1]] = value
    return out


def is_scan(node: PlanNode) -> bool:
    name = node.name.strip()
    return (name.startswith(("Scan ", "BatchScan", "FileScan"))
            or "Location" in node.metadata or "ReadSchema" in node.metadata)


def reads_of(graph: PlanGraph, totals: dict[int, float]) -> list[DatasetRead]:
    """Every scan in the plan, with rows/files/bytes from the aggregated metrics."""
    reads = []
    for node in graph.all_nodes():
        if not is_scan(node):
            continue
        meta = dict(node.metadata) or _simple_fields(node.desc)
        words = node.name.strip().split(None, 2)
        fmt = meta.get("Format") or (words[1] if len(words) > 1 else None)
        if fmt is not None:
            fmt = _KNOWN_FORMATS.get(fmt.lower(), fmt)
        table = words[2] if len(words) > 2 and words[0] == "Scan" else None
        if table is not None and not _TABLE_NAME.match(table):
            table = None  # "Scan JDBCRelation(T) [numPartitions=1]" names no catalog table
        paths, count = parse_location(meta.get("Location"))
        read = DatasetRead(
            node_id=node.node_id, node_name=node.name.strip(), format=fmt, paths=paths,
            path_count=count, table=table, columns=schema_columns(meta.get("ReadSchema")),
            pushed_filters=bracket_list(meta.get("PushedFilters")),
            partition_filters=bracket_list(meta.get("PartitionFilters")),
            data_filters=bracket_list(meta.get("DataFilters")),
        )
        read.rows = _metric(node, totals, "number of output rows")
        read.files = _metric(node, totals, "number of files read")
        read.bytes = _metric(node, totals, "size of files read")
        reads.append(read)
    return reads


_WRITE_COMMANDS = (
    "InsertIntoHadoopFsRelationCommand", "InsertIntoHiveTable", "InsertIntoDataSourceCommand",
    "InsertIntoDataSourceDirCommand", "InsertIntoHiveDirCommand", "SaveIntoDataSourceCommand",
    "CreateDataSourceTableAsSelectCommand", "CreateHiveTableAsSelectCommand",
    "OptimizedCreateHiveTableAsSelectCommand", "AppendData", "OverwriteByExpression",
    "OverwritePartitionsDynamic", "WriteToDataSourceV2", "CreateTableAsSelect",
    "AtomicCreateTableAsSelect", "ReplaceTableAsSelect", "AtomicReplaceTableAsSelect",
    "ReplaceData", "WriteDelta",
)
_MODES = {"Overwrite", "Append", "ErrorIfExists", "Ignore"}


def _write_command(node: PlanNode) -> str | None:
    name = node.name.strip()
    if name.startswith("Execute "):
        name = name[len("Execute "):]
    return name if name in _WRITE_COMMANDS else None


def writes_of(graph: PlanGraph, totals: dict[int, float]) -> list[DatasetWrite]:
    """Every write command in the plan, with rows/files/bytes written."""
    writes = []
    for node in graph.all_nodes():
        command = _write_command(node)
        if command is None:
            continue
        desc = node.desc.strip()
        prefix = node.name.strip()
        args = split_top(desc[len(prefix):] if desc.startswith(prefix) else desc)
        write = DatasetWrite(node.node_id, command, None, None, None, None, [], [])
        for i, arg in enumerate(args):
            if arg in _MODES:
                write.mode = arg
            elif arg.lower() in _KNOWN_FORMATS:
                write.format = _KNOWN_FORMATS[arg.lower()]
            elif arg.endswith(("FileFormat", "Provider", "Serde")):
                write.format = arg.rsplit(".", 1)[-1]
            elif arg.startswith("[") and arg.endswith("]"):
                items = bracket_list(arg)
                if items and all("=" in x for x in items):
                    options = dict(x.split("=", 1) for x in items)
                    write.path = write.path or options.get("path")
                    write.table = write.table or options.get("dbtable")
                elif items and all("#" in x for x in items):
                    write.partition_columns = [x.split("#", 1)[0] for x in items]
                elif items:
                    write.columns = items
            elif arg.startswith("`"):
                write.table = write.table or arg.replace("`", "")
            elif i == 0 and command == "InsertIntoHadoopFsRelationCommand":
                write.path = arg
            elif i == 0 and re.fullmatch(r"\w+(\.\w+)+", arg):
                write.table = write.table or arg
        write.rows = _metric(node, totals, "number of output rows")
        write.files = _metric(node, totals, "number of written files")
        write.bytes = _metric(node, totals, "written output")
        writes.append(write)
    return writes


def joins_of(graph: PlanGraph) -> Iterator[Json]:
    """Join nodes with their strategy and join type."""
    for node in graph.all_nodes():
        name = node.name.strip()
        if "Join" not in name and name != "CartesianProduct":
            continue
        args = split_top(node.desc[len(name):]) if node.desc.startswith(name) else []
        join_type = next((a for a in args if a in _JOIN_TYPES), None)
        if join_type is None:
            join_type = next((w for a in args for w in a.split() if w in _JOIN_TYPES), None)
        yield {"nodeId": node.node_id, "strategy": name, "joinType": join_type,
               "desc": node.desc[:500]}


_JOIN_TYPES = {"Inner", "Cross", "LeftOuter", "RightOuter", "FullOuter", "LeftSemi",
               "LeftAnti", "ExistenceJoin"}


def _metric(node: PlanNode, totals: dict[int, float], name: str) -> int | None:
    for metric in node.metrics:
        if metric.name.strip() == name and metric.accumulator_id in totals:
            return int(totals[metric.accumulator_id])
    return None

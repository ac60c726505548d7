"""Plan graphs and the parsing of scans and writes."""

from __future__ import annotations

from typing import Any

from pipetrail.spark.plan import (
    Column,
    PlanMetric,
    bracket_list,
    build_graph,
    parse_location,
    reads_of,
    schema_columns,
    split_top,
    writes_of,
)


def node(name: str, *children: dict[str, Any], simple: str | None = None,
         metadata: dict[str, str] | None = None, metrics: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    return {"nodeName": name, "simpleString": simple or name, "children": list(children),
            "metadata": metadata or {}, "metrics": metrics or []}


def test_graph_numbering_clusters_and_reused_exchanges() -> None:
    scan = node("Scan parquet ", metrics=[{"name": "number of output rows",
                                            "accumulatorId": 7, "metricType": "sum"}])
    exchange = node("Exchange", node("WholeStageCodegen (1)", node("Filter", node(
        "InputAdapter", scan))), simple="Exchange hashpartitioning(k#1, 200)")
    plan = node("AdaptiveSparkPlan", node("SortMergeJoin",
                                          node("ShuffleQueryStage", exchange),
                                          node("ReusedExchange", exchange)))
    graph = build_graph(plan)
    names = [(n.node_id, n.name, n.codegen_id) for n in graph.all_nodes()]
    assert names == [(0, "AdaptiveSparkPlan", None), (1, "SortMergeJoin", None),
                     (2, "Exchange", None), (4, "Filter", 1),
                     (3, "WholeStageCodegen (1)", None), (5, "Scan parquet ", None)]
    # The re-used exchange is an edge to the existing node, not a new node.
    assert graph.edges == [(1, 0), (2, 1), (4, 2), (5, 4), (2, 1)]
    assert graph.all_nodes()[-1].metrics == [PlanMetric("number of output rows", 7, "sum")]


def test_split_and_lists() -> None:
    assert split_top("a, f(b, c), [x, y], `q,r`") == ["a", "f(b, c)", "[x, y]", "`q,r`"]
    assert bracket_list("[IsNotNull(a), EqualTo(b,1)]") == ["IsNotNull(a)", "EqualTo(b,1)"]
    assert bracket_list("[]") == [] and bracket_list(None) == []


def test_schema_columns() -> None:
    schema = "struct<id:bigint,`odd, name`:string,m:map<string,array<int>>,d:decimal(10,2)>"
    assert schema_columns(schema) == [
        Column("id", "bigint"), Column("odd, name", "string"),
        Column("m", "map<string,array<int>>"), Column("d", "decimal(10,2)")]
    assert schema_columns("struct<>") == []


def test_locations() -> None:
    assert parse_location("InMemoryFileIndex(1 paths)[file:/data/a]") == (["file:/data/a"], 1)
    assert parse_location("InMemoryFileIndex(3 paths)[s3a://b/x, s3a://b/y, ...]") == (
        ["s3a://b/x", "s3a://b/y"], 3)
    assert parse_location("CatalogFileIndex[hdfs://nn/warehouse/t]") == (
        ["hdfs://nn/warehouse/t"], 1)


def test_scan_metadata_and_metrics() -> None:
    scan = node("Scan parquet spark_catalog.sales.orders", metadata={
        "Format": "Parquet", "Location": "InMemoryFileIndex(1 paths)[s3a://lake/orders]",
        "ReadSchema": "struct<id:bigint,amount:double>",
        "PushedFilters": "[IsNotNull(amount), GreaterThan(amount,10.0)]",
        "PartitionFilters": "[]", "DataFilters": "[isnotnull(amount#2), (amount#2 > 10.0)]"},
        metrics=[{"name": "number of output rows", "accumulatorId": 1, "metricType": "sum"},
                 {"name": "number of files read", "accumulatorId": 2, "metricType": "sum"},
                 {"name": "size of files read", "accumulatorId": 3, "metricType": "size"}])
    (read,) = reads_of(build_graph(scan), {1: 500, 2: 3, 3: 4096})
    assert read.to_json() == {
        "nodeId": 0, "nodeName": "Scan parquet spark_catalog.sales.orders", "format": "Parquet",
        "paths": ["s3a://lake/orders"], "pathCount": 1, "table": "spark_catalog.sales.orders",
        "columns": [{"name": "id", "type": "bigint"}, {"name": "amount", "type": "double"}],
        "pushedFilters": ["IsNotNull(amount)", "GreaterThan(amount,10.0)"],
        "partitionFilters": [], "dataFilters": ["isnotnull(amount#2)", "(amount#2 > 10.0)"],
        "rows": 500, "files": 3, "bytes": 4096}


def test_write_commands() -> None:
    insert = node("Execute InsertIntoHadoopFsRelationCommand", simple=(
        "Execute InsertIntoHadoopFsRelationCommand s3a://lake/out, false, [day#3], Parquet, "
        "[compression=snappy, path=s3a://lake/out], Append, `spark_catalog`.`db`.`out`, "
        "[id, amount, day]"), metrics=[
        {"name": "number of written files", "accumulatorId": 5, "metricType": "sum"}])
    ctas = node("Execute CreateDataSourceTableAsSelectCommand", simple=(
        "Execute CreateDataSourceTableAsSelectCommand `spark_catalog`.`db`.`t2`, "
        "ErrorIfExists, [a, b]"))
    jdbc = node("Execute SaveIntoDataSourceCommand", simple=(
        "Execute SaveIntoDataSourceCommand "
        "org.apache.spark.sql.execution.datasources.jdbc.JdbcRelationProvider, "
        "[url=*********(redacted), dbtable=public.events], Append"))
    writes = writes_of(build_graph(node("Union", insert, ctas, jdbc)), {5: 12})
    first, second, third = (w.to_json() for w in writes)
    assert first == {"nodeId": 1, "command": "InsertIntoHadoopFsRelationCommand",
                     "format": "Parquet", "path": "s3a://lake/out",
                     "table": "spark_catalog.db.out", "mode": "Append",
                     "columns": ["id", "amount", "day"], "partitionColumns": ["day"],
                     "rows": None, "files": 12, "bytes": None}
    assert (second["table"], second["mode"], second["columns"]) == (
        "spark_catalog.db.t2", "ErrorIfExists", ["a", "b"])
    assert (third["table"], third["mode"], third["format"]) == (
        "public.events", "Append", "JdbcRelationProvider")

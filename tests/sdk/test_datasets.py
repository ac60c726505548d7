"""Dataset URIs: one spelling per dataset; SQL names from connections and queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import assume, given
from hypothesis import strategies as st

from pipetrail.sdk.capture.sql import connection_location, query_uri, table_uri
from pipetrail.sdk.datasets import (
    dataset_uri,
    file_target,
    file_targets,
    jdbc_location,
    query_table,
    size_of,
    table_name,
    url_location,
)


@pytest.mark.parametrize(("given_", "expected"), [
    ("/data/in.csv", "file:///data/in.csv"),
    ("/data/../data/./in.csv", "file:///data/in.csv"),
    ("/data/out/", "file:///data/out"),
    ("file:/data/in.csv", "file:///data/in.csv"),
    ("file:///data/in.csv", "file:///data/in.csv"),
    ("file://localhost/data/in.csv", "file:///data/in.csv"),
    ("file://nas/share/x", "file://nas/share/x"),
    ("s3a://bucket/key/part.parquet", "s3://bucket/key/part.parquet"),
    ("S3N://Bucket/key/", "s3://bucket/key"),
    ("s3://AKIA:secret@bucket/key", "s3://bucket/key"),
    ("https://host:8443/a.csv?X-Amz-Signature=abc#frag", "https://host:8443/a.csv"),
    ("abfss://container@account.dfs.core.windows.net/p/", "abfss://container@account.dfs.core.windows.net/p"),
    ("hdfs://namenode:8020/warehouse/t", "hdfs://namenode:8020/warehouse/t"),
    ("/data/*.csv", "file:///data/*.csv"),
])
def test_uris(given_: str, expected: str) -> None:
    assert dataset_uri(given_) == expected


def test_relative_paths_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert dataset_uri("in.csv") == f"file://{tmp_path}/in.csv"
    assert dataset_uri(Path("sub") / "x.parquet") == f"file://{tmp_path}/sub/x.parquet"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dataset_uri("~/y.json") == f"file://{tmp_path}/y.json"


def test_what_is_not_a_dataset(tmp_path: Path) -> None:
    import io

    assert file_target(None) is None
    assert file_target(io.StringIO("a,b\n1,2\n")) is None
    assert file_target("a,b\n1,2\n") is None  # data passed as text
    assert file_target(b"/bytes/path") is None
    with open(tmp_path / "f.csv", "w") as handle:
        assert file_target(handle) == f"file://{tmp_path}/f.csv"
    assert file_targets([str(tmp_path / "a"), io.BytesIO(), tmp_path / "b"]) == [
        f"file://{tmp_path}/a", f"file://{tmp_path}/b"]


def test_sizes_of_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "part-0.parquet").write_bytes(b"x" * 10)
    (tmp_path / "t" / "year=2026").mkdir()
    (tmp_path / "t" / "year=2026" / "part-1.parquet").write_bytes(b"x" * 5)
    (tmp_path / "t" / "_SUCCESS").write_bytes(b"")
    (tmp_path / "t" / ".part-0.parquet.crc").write_bytes(b"crc")
    assert size_of(dataset_uri(tmp_path / "t" / "part-0.parquet")) == 10
    assert size_of(dataset_uri(tmp_path / "t")) == 15
    assert size_of(dataset_uri(tmp_path / "absent")) is None
    assert size_of("s3://bucket/key") is None


@pytest.mark.parametrize(("url", "expected"), [
    ("jdbc:postgresql://db.example:5432/shop?user=etl&password=secret",
     ("postgresql", "db.example:5432/shop")),
    ("jdbc:mysql://h/sales", ("mysql", "h/sales")),
    ("jdbc:sqlite:/srv/data/x.db", ("sqlite", "srv/data/x.db")),
    ("jdbc:derby:/srv/derby;create=true", ("derby", "/srv/derby")),
])
def test_jdbc_urls(url: str, expected: tuple[str, str]) -> None:
    assert jdbc_location(url) == expected


def test_database_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert url_location("postgresql+psycopg://u:pw@h:5433/db") == ("postgresql", "h:5433/db")
    assert url_location("sqlite:///rel.db") == ("sqlite", f"{tmp_path}/rel.db".lstrip("/"))
    assert url_location("sqlite:////abs/x.db") == ("sqlite", "abs/x.db")
    assert url_location("sqlite://") == ("sqlite", "memory")


def test_connections(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    con = sqlite3.connect(path)
    location = str(path).lstrip("/")
    assert connection_location(con) == ("sqlite", location)
    assert table_uri(con, "orders") == f"sql://sqlite/{location}/orders"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    assert table_uri(engine, "orders", schema="main") == f"sql://sqlite/{location}/main.orders"
    with engine.connect() as connection:
        assert connection_location(connection) == ("sqlite", location)
    pg = sqlalchemy.create_engine("postgresql+psycopg://etl:pw@db:5432/shop")
    assert table_uri(pg, '"Orders"', "sales") == "sql://postgresql/db:5432/shop/sales.Orders"
    assert connection_location(sqlite3.connect(":memory:")) == ("sqlite", "memory")
    assert query_uri(con, "orders") == (f"sql://sqlite/{location}/orders", None)
    uri, query = query_uri(con, "select * from a join b using (id)")
    assert uri == f"sql://sqlite/{location}" and query is not None
    con.close()


@pytest.mark.parametrize(("query", "table"), [
    ("select a from t", "t"),
    ("SELECT a, b FROM \"S\".\"T\" WHERE x IN (1, 2) ORDER BY a;", "S.T"),
    ("select * from orders o where o.note = 'from elsewhere'", "orders"),
    ("select count(*) from [dbo].[Orders] group by k", "dbo.Orders"),
    ("select * from a join b on a.id = b.id", None),
    ("select * from a, b", None),
    ("select (select max(x) from c) from a", None),
    ("select * from a where id in (select id from b)", None),
    ("with x as (select 1) select * from x", None),
    ("select a from t union select a from u", None),
    ("insert into t values (1)", None),
])
def test_the_one_table_of_a_simple_select(query: str, table: str | None) -> None:
    assert query_table(query) == table


def test_table_names_lose_their_quotes() -> None:
    assert table_name('"public"."Orders"') == "public.Orders"
    assert table_name("`db`.`t`") == "db.t"
    assert table_name("a.b") == "a.b"


@given(st.text())
def test_any_text_gives_a_uri(text: str) -> None:
    uri = dataset_uri(text)
    assert isinstance(uri, str) and ":" in uri
    assert file_target(text) is None or file_target(text) == uri
    query_table(text)
    table_name(text)
    jdbc_location(text)
    url_location(text)


@given(st.sampled_from(["s3", "s3a", "gs", "hdfs", "https", "file"]), st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1))
def test_scheme_uris_never_keep_query_strings(scheme: str, rest: str) -> None:
    assume("Zq9" not in rest)
    uri = dataset_uri(f"{scheme}://bucket/{rest}?token=Zq9")
    assert "Zq9" not in uri
    assert uri.startswith(("s3://", "gs://", "hdfs://", "https://", "file://"))

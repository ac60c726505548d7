"""pandas: ``read_csv/table/json/parquet/feather/orc/sql*`` and ``DataFrame.to_*``.

Installed when the job imports pandas. The top-level readers (``pd.read_csv``) and the
writer methods of ``DataFrame`` (and ``Series`` where it has them) are wrapped.
Columns of a read are the result's: named index levels (``index_col=``) first, then the
columns, so ``usecols=``/``columns=`` narrow them. A read that returns an iterator
(``chunksize=``, ``iterator=True``) records no rows or columns (``details.chunked``).
A writer given no path (``to_csv()`` returning text) or an in-memory buffer writes no
dataset and is not recorded.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from pipetrail.sdk.capture.frames import FrameAccess
from pipetrail.sdk.capture.sql import query_uri, table_uri
from pipetrail.sdk.capture.wrapping import Access, argument, patch
from pipetrail.sdk.datasets import file_target

LIBRARY = "pandas"
# reader → (format, name of its path argument)
FILE_READERS = {
    "read_csv": ("csv", "filepath_or_buffer"),
    "read_table": ("csv", "filepath_or_buffer"),
    "read_json": ("json", "path_or_buf"),
    "read_parquet": ("parquet", "path"),
    "read_feather": ("feather", "path"),
    "read_orc": ("orc", "path"),
}
# writer method → (format, name of its path argument, classes that have it)
FILE_WRITERS = {
    "to_csv": ("csv", "path_or_buf", ("DataFrame", "Series")),
    "to_json": ("json", "path_or_buf", ("DataFrame", "Series")),
    "to_parquet": ("parquet", "path", ("DataFrame",)),
    "to_feather": ("feather", "path", ("DataFrame",)),
    "to_orc": ("orc", "path", ("DataFrame",)),
}


def frame_measure(result: Any, index: bool = True) -> tuple[int | None, list[str] | None]:
    """Rows and columns of a DataFrame or Series (None, None for anything else)."""
    if not hasattr(result, "index") or not hasattr(result, "__len__"):
        return None, None
    names: list[str] = []
    if index:
        names.extend(str(n) for n in result.index.names if n is not None)
    if hasattr(result, "columns"):
        names.extend(str(c) for c in result.columns)
    elif getattr(result, "name", None) is not None:
        names.append(str(result.name))
    return len(result), names


def _measure_read(result: Any) -> tuple[int | None, list[str] | None]:
    return frame_measure(result)


def _file_reader(function: str, fmt: str, param: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        uri = file_target(argument(args, kwargs, 0, param))
        if uri is None:
            return None
        access = FrameAccess([uri], "read", LIBRARY, function, fmt, _measure_read)
        if kwargs.get("chunksize") is not None or kwargs.get("iterator"):
            access.details["chunked"] = True
        return access
    return plan


def _file_writer(function: str, fmt: str, param: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        frame = args[0]
        uri = file_target(argument(args, kwargs, 1, param))
        if uri is None:
            return None
        index = kwargs.get("index", True) is not False
        mode = str(kwargs.get("mode", "w"))
        access = FrameAccess([uri], "write", LIBRARY, function, fmt,
                             lambda f: frame_measure(f, index), frame=frame,
                             append="a" in mode)
        if "a" in mode:
            access.details["mode"] = "append"
        return access
    return plan


def _sql_reader(function: str) -> Any:
    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
        con = argument(args, kwargs, 1, "con")
        if function == "read_sql_table":
            uri = table_uri(con, str(argument(args, kwargs, 0, "table_name")),
                            kwargs.get("schema"))
            query = None
        else:
            uri, query = query_uri(con, argument(args, kwargs, 0, "sql"))
        access = FrameAccess([uri], "read", LIBRARY, function, "sql", _measure_read)
        if query:
            access.details["query"] = query
        if kwargs.get("chunksize") is not None:
            access.details["chunked"] = True
        return access
    return plan


def _sql_writer(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Access | None:
    frame = args[0]
    uri = table_uri(argument(args, kwargs, 2, "con"), str(argument(args, kwargs, 1, "name")),
                    kwargs.get("schema"))
    index = kwargs.get("index", True) is not False
    access = FrameAccess([uri], "write", LIBRARY, "to_sql", "sql",
                         lambda f: frame_measure(f, index), frame=frame)
    access.details["mode"] = str(kwargs.get("if_exists", "fail"))
    return access


def install(pandas: ModuleType) -> None:
    for function, (fmt, param) in FILE_READERS.items():
        patch(pandas, function, _file_reader(function, fmt, param))
    for function in ("read_sql", "read_sql_query", "read_sql_table"):
        patch(pandas, function, _sql_reader(function))
    for function, (fmt, param, owners) in FILE_WRITERS.items():
        for owner in owners:
            patch(getattr(pandas, owner), function, _file_writer(function, fmt, param))
    for owner in ("DataFrame", "Series"):
        patch(getattr(pandas, owner), "to_sql", _sql_writer)

"""The athlete's warehouse as a DuckDB file or Parquet files, for their own SQL.

Rows are streamed: each table is read with `.iterator()` and written in Arrow record batches of
CHUNK rows, so memory stays bounded by one batch whatever the history's size. The file is built
in a temporary folder of this machine (DuckDB needs a path), never in the file storage.
"""

from __future__ import annotations

import json
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from accounts.models import Athlete
from warehouse.exporting import Column, ExportTable, columns
from warehouse.models import Activity
from warehouse.signals import export_tables_registered

CHUNK = 2000
FORMATS = ("duckdb", "parquet")

_ARROW: dict[str, pa.DataType] = {
    "int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"), "local_ts": pa.timestamp("us"), "date": pa.date32(),
    "json": pa.json_(pa.string()),
}

ACTIVITIES = ExportTable(
    name="activities",
    description="one row per activity: Strava's summary columns (metres, seconds, metres per second)",
    rows=lambda athlete: Activity.objects.filter(athlete=athlete).order_by("start_date", "id"),
    columns=columns(
        {
            "activity_id": "int", "name": "str", "sport_type": "str", "type": "str", "start_date": "ts",
            "start_date_local": "local_ts", "start_day": "date", "timezone": "str", "distance": "float",
            "moving_time": "int", "elapsed_time": "int", "total_elevation_gain": "float", "elev_high": "float",
            "elev_low": "float", "average_speed": "float", "max_speed": "float", "average_cadence": "float",
            "average_watts": "float", "weighted_average_watts": "int", "max_watts": "int", "kilojoules": "float",
            "device_watts": "bool", "has_heartrate": "bool", "average_heartrate": "float", "max_heartrate": "float",
            "calories": "float", "achievement_count": "int", "kudos_count": "int", "comment_count": "int",
            "athlete_count": "int", "photo_count": "int", "gear_id": "str", "gear_name": "str", "external_id": "str",
            "upload_id": "int", "private": "bool", "visibility": "str", "trainer": "bool", "commute": "bool",
            "manual": "bool", "flagged": "bool", "workout_type": "int", "start_lat": "float", "start_lng": "float",
            "end_lat": "float", "end_lng": "float", "source": "str", "description": "str", "summary_polyline": "str",
            "detail_fetched_at": "ts",
        },
        activity_id="strava_id",
    ),
)

ACTIVITY_DETAILS = ExportTable(
    name="activity_details",
    description="one row per activity whose details were fetched: Strava's DetailedActivity as JSON",
    rows=lambda athlete: Activity.objects.filter(athlete=athlete, detail__isnull=False).order_by("start_date", "id"),
    columns=columns({"activity_id": "int", "detail": "json"}, activity_id="strava_id"),
)


@dataclass
class ExportResult:
    path: Path  # the file written (a .duckdb file, or a .zip of .parquet files)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def export_tables() -> list[ExportTable]:
    """The warehouse's own tables, then those apps above it registered (segments)."""
    return [ACTIVITIES, ACTIVITY_DETAILS, *export_tables_registered()]


def warehouse_export(*, athlete: Athlete, fmt: str, folder: Path, chunk: int = CHUNK) -> ExportResult:
    """Write the athlete's tables into `folder` as `stravasync-<strava id>.duckdb` or `.parquet.zip`."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    started = time.monotonic()
    stem = f"stravasync-{athlete.strava_id}"
    if fmt == "duckdb":
        result = _duckdb(athlete, folder / f"{stem}.duckdb", chunk)
    else:
        result = _parquet_zip(athlete, folder / f"{stem}.parquet.zip", chunk)
    result.seconds = time.monotonic() - started
    return result


def export_folder() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder on this machine for building an export (where uploads spool, if set)."""
    return tempfile.TemporaryDirectory(prefix="stravasync-export-", dir=settings.FILE_UPLOAD_TEMP_DIR or None)


# --- writers ----------------------------------------------------------------------------------------
def _schema(table: ExportTable) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.kind]) for c in table.columns])


def _value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.clean is not None:
        value = column.clean(value)
    if column.kind == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if column.kind == "local_ts" and isinstance(value, datetime):
        return value.replace(tzinfo=None)  # stored as if UTC: the wall-clock time where it happened
    return value


def _batches(table: ExportTable, athlete: Athlete, chunk: int, counted: dict[str, int]) -> Iterator[pa.RecordBatch]:
    schema = _schema(table)
    rows = table.rows(athlete).values_list(*(c.lookup for c in table.columns)).iterator(chunk_size=chunk)
    counted[table.name] = 0
    buffer: list[tuple[Any, ...]] = []

    def batch() -> pa.RecordBatch:
        cells = list(zip(*buffer, strict=True)) if buffer else [() for _ in table.columns]
        arrays = [pa.array([_value(c, v) for v in values], type=_ARROW[c.kind])
                  for c, values in zip(table.columns, cells, strict=True)]
        counted[table.name] += len(buffer)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    for row in rows:
        buffer.append(row)
        if len(buffer) >= chunk:
            yield batch()
            buffer = []
    if buffer:
        yield batch()


def _duckdb(athlete: Athlete, path: Path, chunk: int) -> ExportResult:
    result = ExportResult(path=path)
    # A cap on DuckDB's own buffers: past it, it writes finished blocks to the file instead of holding them.
    connection = duckdb.connect(str(path), config={"memory_limit": "128MB"})
    try:
        for table in export_tables():
            if not table.name.isidentifier():  # names come from code; SQL cannot take them as parameters
                raise ValueError(f"table name {table.name!r}")
            # One batch at a time, handed over from this thread: DuckDB would pull a lazy reader from
            # threads of its own, where Django's connection (thread-local) is another one.
            connection.register("incoming_rows", pa.Table.from_batches([], schema=_schema(table)))
            connection.execute(f"CREATE TABLE {table.name} AS SELECT * FROM incoming_rows")  # noqa: S608
            connection.unregister("incoming_rows")
            for batch in _batches(table, athlete, chunk, result.rows):
                connection.register("incoming_rows", pa.Table.from_batches([batch]))
                connection.execute(f"INSERT INTO {table.name} SELECT * FROM incoming_rows")  # noqa: S608
                connection.unregister("incoming_rows")
            if table.description:
                comment = table.description.replace("'", "''")
                connection.execute(f"COMMENT ON TABLE {table.name} IS '{comment}'")
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    return result


def _parquet_zip(athlete: Athlete, path: Path, chunk: int) -> ExportResult:
    result = ExportResult(path=path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # Parquet compresses itself (zstd)
        for table in export_tables():
            part = path.parent / f"{table.name}.parquet"
            with pq.ParquetWriter(part, _schema(table), compression="zstd") as writer:
                for batch in _batches(table, athlete, chunk, result.rows):
                    writer.write_batch(batch)
            archive.write(part, arcname=part.name)
            part.unlink()
    return result

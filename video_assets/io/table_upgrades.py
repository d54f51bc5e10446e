"""A release's table specs against the tables an earlier release wrote: new columns added, the rest refused.

Before each write, the stored table's columns are compared with its spec
(``tables.py``):

* a column the spec has and the table lacks (an additive change) is added
  (``ALTER TABLE … ADD COLUMNS``, nullable, with the spec's meaning as its
  comment); the rows written before hold NULL in it. The days those rows
  belong to (every day the table held, for a daily table; every row, for the
  all-time table) are recorded in the table property ``video_assets.backfill``
  until a write replaces them: the materialization and the ``columns_backfilled``
  check name them, with the command that fills them;
* a column whose type changed, or that the spec no longer has (removed or
  renamed), stops the step before anything is written, naming the table, the
  column, both types and how to rebuild the table.

Nothing here reads rows but the partition column of the days held, once, on
the write that adds a column.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from video_assets.sql_names import quote_identifier, string_literal
from video_assets.tables import rewrite_selection, table_spec

BACKFILL_PROPERTY = "video_assets.backfill"


class IncompatibleTableChange(dg.Failure):
    """The stored table and this release's spec differ in a way no write can reconcile; the message says how to."""


@dataclass(frozen=True)
class Backfill:
    """Columns added by an upgrade, and the days (daily table) or rows (all-time table) that hold NULL in them."""

    table: str
    columns: tuple[str, ...]
    days: tuple[str, ...] = ()
    all_rows: bool = False

    @property
    def pending(self) -> bool:
        return bool(self.columns) and (self.all_rows or bool(self.days))

    def command(self) -> str:
        """What fills the NULLs: a backfill of the days, or a full rebuild of an all-time table."""
        return materialize_command(self.table, None if self.all_rows else f"{self.days[0]}...{self.days[-1]}")

    def describe(self) -> str:
        held = "every row written before the upgrade holds" if self.all_rows else f"the days {day_ranges(self.days)} hold"
        return (
            f"{self.table}: {', '.join(self.columns)} added by an upgrade; {held} NULL in "
            f"{'it' if len(self.columns) == 1 else 'them'} until rewritten. Fill them with: {self.command()}"
        )

    def to_json(self) -> str:
        return json.dumps({"columns": list(self.columns), "days": day_ranges(self.days), "all_rows": self.all_rows})

    @classmethod
    def from_json(cls, table: str, text: str | None) -> "Backfill":
        if not text:
            return cls(table, ())
        value = json.loads(text)
        return cls(table, tuple(value["columns"]), tuple(expand_ranges(value["days"])), bool(value["all_rows"]))


@dataclass
class TableUpgrade:
    """What a write must know of its table's upgrade: the backfill still due before and after it."""

    table: str
    before: Backfill
    properties: dict | None = None  # the table's properties, read once; None for a table not there yet

    def after_write(self, spark, location, written_days: list[str] | None, rebuilt: bool) -> Backfill:
        """The backfill left once ``written_days`` (or the whole table, when ``rebuilt``) hold the new columns.

        Stores it in the table property (removed once nothing is left); returns it.
        """
        before = self.before
        if not before.columns:
            return before
        if rebuilt:
            after = Backfill(self.table, ())
        else:
            after = Backfill(self.table, before.columns, tuple(d for d in before.days if d not in set(written_days or ())),
                             before.all_rows)
        if after != before:
            _store(spark, location, after)
        return after


def day_ranges(days: tuple[str, ...] | list[str]) -> str:
    """Sorted days as compact ranges: ``2024-01-01..2024-01-03, 2024-01-05``."""
    ranges, ordered = [], sorted(set(days))
    for day in ordered:
        if ranges and date.fromisoformat(day) - date.fromisoformat(ranges[-1][1]) == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(first if first == last else f"{first}..{last}" for first, last in ranges)


def expand_ranges(text: str) -> list[str]:
    days = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("..")
        day, end = date.fromisoformat(first), date.fromisoformat(last or first)
        while day <= end:
            days.append(day.isoformat())
            day += timedelta(days=1)
    return days


def prepare(spark, location, name: str, log, *, full_rewrite: bool) -> TableUpgrade:
    """Before a write of ``name``: refuses an incompatible stored table, adds the spec's new columns.

    A table that does not exist yet needs nothing (the write creates it as
    the spec says); nor does one that the write replaces whole
    (``full_rewrite``, with its schema), whose due backfill it completes.
    """
    spec = table_spec(name)
    if not location.exists(spark):
        return TableUpgrade(name, Backfill(name, ()))
    properties = {row["key"]: row["value"] for row in spark.sql(f"SHOW TBLPROPERTIES {location.sql_name}").collect()}
    before = Backfill.from_json(name, properties.get(BACKFILL_PROPERTY))
    if full_rewrite:
        return TableUpgrade(name, before, properties)
    stored = {f.name.lower(): f for f in location.read(spark).schema.fields}
    wanted = {c.name.lower(): c for c in spec.columns}
    problems = [
        f"column {column.name} is {_type(stored[key].dataType)} in the table and {_type(column.type)} in this release"
        for key, column in wanted.items()
        if key in stored and stored[key].dataType.simpleString() != column.type.simpleString()
    ] + [
        f"column {stored[key].name} ({_type(stored[key].dataType)}) is in the table but no longer in this release"
        for key in stored
        if key not in wanted
    ]
    if problems:
        raise IncompatibleTableChange(
            description=(
                f"{name} at {location.name} was written by a release whose columns differ: {'; '.join(problems)}. "
                "Nothing was written. A changed type or a removed or renamed column cannot be applied to the rows "
                f"already there: move the table aside (or drop it), then rebuild it: `{_rebuild_command(name)}` "
                "(docs/operating.md, 'Upgrading')."
            ),
            metadata={"table": location.name, "differences": dg.MetadataValue.json(problems)},
        )
    added = [column for key, column in wanted.items() if key not in stored]
    if not added:
        return TableUpgrade(name, before, properties)
    definitions = ", ".join(f"{quote_identifier(c.name)} {c.type.simpleString()} COMMENT {string_literal(c.meaning)}" for c in added)
    if spec.partition_column:
        held = location.read(spark).select(spec.partition_column).distinct().collect()
        days = tuple(sorted({*before.days, *(row[0].isoformat() for row in held if row[0] is not None)}))
        backfill = Backfill(name, (*before.columns, *(c.name for c in added)), days)
    else:
        backfill = Backfill(name, (*before.columns, *(c.name for c in added)), all_rows=True)
    log.warning(f"{name}: this release adds {', '.join(c.name for c in added)}; adding to {location.name}")
    spark.sql(f"ALTER TABLE {location.sql_name} ADD COLUMNS ({definitions})")
    _store(spark, location, backfill)
    return TableUpgrade(name, backfill, properties)


def _store(spark, location, backfill: Backfill) -> None:
    if backfill.pending:
        spark.sql(f"ALTER TABLE {location.sql_name} SET TBLPROPERTIES ({string_literal(BACKFILL_PROPERTY)} = "
                  f"{string_literal(backfill.to_json())})")
    else:
        spark.sql(f"ALTER TABLE {location.sql_name} UNSET TBLPROPERTIES IF EXISTS ({string_literal(BACKFILL_PROPERTY)})")


def _type(data_type) -> str:
    return data_type.simpleString().upper()


def _rebuild_command(name: str) -> str:
    return materialize_command(name, "FIRST...LAST" if table_spec(name).partition_column else None)


def materialize_command(name: str, partition_range: str | None) -> str:
    """The Dagster CLI command that rewrites ``name``: over ``partition_range`` (``A...B``) with what is
    downstream of it, or whole (an unpartitioned table, None)."""
    select = "dagster asset materialize -m video_assets.definitions --select"
    if partition_range is None:
        return f"{select} {name}"
    return f"{select} '{rewrite_selection(name)}' --partition-range {partition_range}"

"""Names in SQL text: the one place a table name, a path or a column becomes part of a statement.

Warehouse folders, source tables and columns come from a YAML file or an
environment variable. Pasted between backticks as they are, a backtick in a
value ends the name and the rest of the value is read as SQL
(``/lake/events` LIMIT 100 --`` reads 100 rows), and a doubled one names
another table than the DataFrame writer writes. Here every name is quoted
with its backticks doubled, so the statement names exactly the value; a
value that cannot be a name is refused when the configuration is read
(:func:`parse_table_reference`), before anything runs.
"""

import re
from dataclasses import dataclass

# One part of a dotted name: a plain identifier, or any text between backticks (a backtick inside doubled).
_PLAIN_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED_PART = re.compile(r"`((?:[^`]|``)+)`")
# Spark's own spelling of a Delta table by path: delta.`/path` (the path's backticks doubled).
_DELTA_PATH = re.compile(r"^delta\.`((?:[^`]|``)+)`$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ACCEPTED_TABLE = (
    "a table name catalog.schema.table (or schema.table): letters, digits and _, a part with other characters "
    "between backticks; or a Delta path: a folder, /Volumes/..., s3://..., or delta.`/path`"
)
ACCEPTED_SCHEMA = (
    "a folder or URI (data/warehouse, /Volumes/..., s3://...) or a Unity Catalog schema catalog.schema "
    "(letters, digits and _, a part with other characters between backticks)"
)


def quote_identifier(name: str) -> str:
    """``name`` as one SQL identifier: between backticks, a backtick inside doubled (``a`b`` -> ```a``b```)."""
    return "`" + name.replace("`", "``") + "`"


def string_literal(text: str) -> str:
    """``text`` as a SQL string literal: between single quotes, a quote or backslash inside escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def delta_path_sql(path: str) -> str:
    """The Delta table at ``path`` as SQL names it: ``delta.`<path>```."""
    return f"delta.{quote_identifier(path)}"


def dotted_sql(parts: tuple[str, ...]) -> str:
    """A multi-part name (catalog, schema, table) as SQL names it, each part quoted."""
    return ".".join(quote_identifier(part) for part in parts)


def split_dotted_name(text: str) -> tuple[str, ...] | None:
    """The parts of ``a.b.c`` (a part may be backticked: ```my-cat`.s.t``), or None when it is not one."""
    parts, position = [], 0
    while True:
        quoted = _QUOTED_PART.match(text, position)
        plain = _PLAIN_PART.match(text, position)
        if quoted:
            parts.append(quoted.group(1).replace("``", "`"))
            position = quoted.end()
        elif plain:
            parts.append(plain.group(0))
            position = plain.end()
        else:
            return None
        if position == len(text):
            return tuple(parts)
        if text[position] != ".":
            return None
        position += 1


@dataclass(frozen=True)
class TableReference:
    """A table named by its catalog name (``parts``) or by a Delta ``path``: exactly one of the two is set."""

    parts: tuple[str, ...] = ()
    path: str | None = None

    @property
    def is_path(self) -> bool:
        return self.path is not None

    @property
    def text(self) -> str:
        """The table as a person writes it: the path, or the dotted name with the parts that need it quoted."""
        if self.path is not None:
            return self.path
        return ".".join(part if _PLAIN_PART.fullmatch(part) else quote_identifier(part) for part in self.parts)

    @property
    def sql(self) -> str:
        """The table as SQL names it, every part quoted: ``delta.`<path>``` or ```c`.`s`.`t```."""
        return delta_path_sql(self.path) if self.path is not None else dotted_sql(self.parts)


def is_path_like(text: str) -> bool:
    """True for a folder or URI (it holds ``/`` or a scheme), false for a dotted catalog name."""
    return "/" in text or ":" in text.split("/")[0]


def parse_table_reference(text: str) -> TableReference:
    """A configured source table: a catalog name of 1-3 parts, a Delta path, or ``delta.`/path```.

    Raises ``ValueError`` saying what is accepted when ``text`` is neither,
    or holds a control character (a line break cannot be part of a name).
    """
    if _CONTROL.search(text):
        raise ValueError(f"it holds a control character; expected {ACCEPTED_TABLE}")
    spelled = _DELTA_PATH.match(text)
    if spelled:
        return TableReference(path=spelled.group(1).replace("``", "`"))
    if text.lower().startswith("delta.`"):
        raise ValueError(f"delta.`...` must hold one path between backticks; expected {ACCEPTED_TABLE}")
    if is_path_like(text):
        return TableReference(path=text)
    parts = split_dotted_name(text)
    if parts is None or len(parts) > 3:
        raise ValueError(f"it is not a table name; expected {ACCEPTED_TABLE}")
    return TableReference(parts=parts)


def parse_warehouse(text: str) -> TableReference:
    """A configured warehouse: a folder or URI (``path``), or a Unity Catalog ``catalog.schema`` (two ``parts``).

    A bare word without a dot is a folder (relative to the project root).
    Raises ``ValueError`` saying what is accepted otherwise.
    """
    if _CONTROL.search(text):
        raise ValueError(f"it holds a control character; expected {ACCEPTED_SCHEMA}")
    if is_path_like(text) or ("." not in text and "`" not in text):
        return TableReference(path=text)
    parts = split_dotted_name(text)
    if parts is None or len(parts) != 2:
        raise ValueError(f"it is neither a folder nor a schema catalog.schema; expected {ACCEPTED_SCHEMA}")
    return TableReference(parts=parts)

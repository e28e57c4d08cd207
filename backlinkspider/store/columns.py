"""Long lists of rows stored by column: what a summary's chunks hold.

A chunk of 10,000 referring domains as BSON documents is 60,000 fields that the server
and the client each parse one by one (350 ms to read a domain's 41,323 on the embedded
server). By column it is a few values: the names joined by newlines (a domain name has
none), numbers as packed int64 or float64 (NaN for a missing one), ObjectIds as 12 bytes
each (zeros for none). A reader splits the names, picks the rows it wants, and builds only
those.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from bson import ObjectId

STR, INT, FLOAT, OID = "str", "int", "float", "oid"
_NO_OID = bytes(12)


def pack_rows(rows: list[dict], schema: Mapping[str, str]) -> dict:
    """``rows`` (each with every field of ``schema``: name -> STR, INT, FLOAT or OID) by column."""
    packed: dict = {}
    for name, kind in schema.items():
        values: list[Any] = [row.get(name) for row in rows]
        if kind == STR:
            packed[name] = "\n".join(values)
        elif kind == INT:
            packed[name] = array("q", values).tobytes()
        elif kind == FLOAT:
            packed[name] = array("d", (math.nan if v is None else v for v in values)).tobytes()
        else:
            packed[name] = b"".join(_NO_OID if v is None else v.binary for v in values)
    return packed


def names(packed: dict, field: str) -> list[str]:
    """The STR column ``field`` as a list."""
    text = packed[field]
    return text.split("\n") if text else []


def unpack_rows(packed: dict, schema: Mapping[str, str], which: Iterable[int]) -> list[dict]:
    """The rows at positions ``which`` (in order), as dicts."""
    columns: dict[str, Any] = {}
    for name, kind in schema.items():
        if kind == STR:
            columns[name] = names(packed, name)
        elif kind in (INT, FLOAT):
            column = array("q" if kind == INT else "d")
            column.frombytes(packed[name])
            columns[name] = column
        else:
            columns[name] = packed[name]
    rows = []
    for i in which:
        row: dict = {}
        for name, kind in schema.items():
            column = columns[name]
            if kind == FLOAT:
                value = column[i]
                row[name] = None if math.isnan(value) else value
            elif kind == OID:
                raw = bytes(column[i * 12 : i * 12 + 12])
                row[name] = None if raw == _NO_OID else ObjectId(raw)
            else:
                row[name] = column[i]
        rows.append(row)
    return rows

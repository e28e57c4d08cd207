"""Rows stored by column (store/columns.py): what goes in comes out, missing values too."""

from __future__ import annotations

import bson
from bson import ObjectId

from backlinkspider.store.columns import FLOAT, INT, OID, STR, names, pack_rows, unpack_rows

SCHEMA = {"domain": STR, "live": INT, "authority": FLOAT, "best": OID}


def test_rows_come_back_as_they_went_in_through_bson():
    rows = [
        {"domain": "example.org", "live": 3, "authority": 40.5, "best": ObjectId()},
        {"domain": "xn--bcher-kva.de", "live": 0, "authority": None, "best": None},
        {"domain": "janedoe.blogspot.com", "live": -1, "authority": 0.0, "best": ObjectId()},
    ]
    packed = bson.decode(bson.encode({"c": pack_rows(rows, SCHEMA)}))["c"]
    assert names(packed, "domain") == [r["domain"] for r in rows]
    assert unpack_rows(packed, SCHEMA, range(3)) == rows
    assert unpack_rows(packed, SCHEMA, [2, 0]) == [rows[2], rows[0]]


def test_an_empty_list_is_empty():
    packed = pack_rows([], SCHEMA)
    assert names(packed, "domain") == [] and unpack_rows(packed, SCHEMA, []) == []

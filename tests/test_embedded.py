import pymongo
import pytest

from backlinkspider import embedded
from backlinkspider.embedded import EmbeddedMongo, EmbeddedMongoError


def test_second_start_on_the_same_directory_adopts_the_running_server(tmp_path):
    first = EmbeddedMongo(tmp_path)
    uri = first.start()
    try:
        second = EmbeddedMongo(tmp_path)
        assert second.start() == uri
        second.stop()  # not its server: must leave it running
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        client.t.c.insert_one({"x": 1})
        assert client.t.c.count_documents({}) == 1
        client.close()
    finally:
        first.stop()
    assert not (tmp_path / embedded.STATE_FILE).exists()


def test_data_survives_a_restart(tmp_path):
    server = EmbeddedMongo(tmp_path)
    client = pymongo.MongoClient(server.start())
    client.t.c.insert_one({"kept": True})
    client.close()
    server.stop()
    client = pymongo.MongoClient(server.start())
    try:
        assert client.t.c.find_one({}, {"_id": 0}) == {"kept": True}
    finally:
        client.close()
        server.stop()


def test_missing_server_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "EXECUTABLE", "no-such-secantusd")
    with pytest.raises(EmbeddedMongoError, match="MONGO_URI"):
        EmbeddedMongo(tmp_path).start()

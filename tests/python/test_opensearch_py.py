"""Drives a running tandem node through the official opensearch-py client, unchanged.

The node's address comes from TANDEM_URL. Covers what a user of the client does first: create
an index with mappings, bulk-load 10,000 documents, search with several query types and
aggregations, update, delete, and the error cases the client maps to its exception classes.
"""

import os

import pytest
from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError

DOCS = 10_000
INDEX = "pytest-logs"


@pytest.fixture(scope="module")
def client():
    url = os.environ["TANDEM_URL"]
    client = OpenSearch(hosts=[url], timeout=60)
    if client.indices.exists(index=INDEX):
        client.indices.delete(index=INDEX)
    client.indices.create(
        index=INDEX,
        body={
            "settings": {"number_of_shards": 2, "number_of_replicas": 0},
            "mappings": {
                "properties": {
                    "message": {"type": "text"},
                    "host": {"type": "keyword"},
                    "status": {"type": "integer"},
                    "size": {"type": "long"},
                    "@timestamp": {"type": "date"},
                }
            },
        },
    )
    actions = (
        {
            "_index": INDEX,
            "_id": str(n),
            "_source": {
                "message": f"request {n} served {'fast' if n % 3 else 'slowly'}",
                "host": f"host-{n % 10}",
                "status": 500 if n % 50 == 0 else 200,
                "size": n,
                "@timestamp": f"2024-01-{1 + n % 28:02d}T12:00:00Z",
            },
        }
        for n in range(DOCS)
    )
    indexed, errors = helpers.bulk(client, actions, chunk_size=1000)
    assert indexed == DOCS and not errors
    client.indices.refresh(index=INDEX)
    yield client
    client.indices.delete(index=INDEX)


def test_info_identifies_an_opensearch_2_node(client):
    info = client.info()
    assert info["version"]["distribution"] == "opensearch"
    assert info["version"]["number"].startswith("2.")


def test_count_sees_every_bulk_document(client):
    assert client.count(index=INDEX)["count"] == DOCS


def test_match_term_range_and_bool_queries(client):
    slow = client.search(index=INDEX, body={"query": {"match": {"message": "slowly"}}})
    assert slow["hits"]["total"]["value"] == len(range(0, DOCS, 3))
    errors = client.search(index=INDEX, body={"query": {"term": {"status": 500}}, "size": 0})
    assert errors["hits"]["total"]["value"] == DOCS // 50
    ranged = client.search(index=INDEX, body={"query": {"range": {"size": {"gte": 100, "lt": 200}}}})
    assert ranged["hits"]["total"]["value"] == 100
    combined = client.search(
        index=INDEX,
        body={
            "query": {
                "bool": {
                    "must": [{"match": {"message": "fast"}}],
                    "filter": [{"term": {"host": "host-1"}}],
                    "must_not": [{"range": {"size": {"gte": 5000}}}],
                }
            },
            "size": 5,
            "sort": [{"size": "desc"}],
        },
    )
    hits = combined["hits"]["hits"]
    assert len(hits) == 5
    assert [hit["_source"]["size"] for hit in hits] == sorted(
        (hit["_source"]["size"] for hit in hits), reverse=True
    )
    assert all(hit["_source"]["host"] == "host-1" for hit in hits)


def test_aggregations(client):
    response = client.search(
        index=INDEX,
        body={
            "size": 0,
            "aggs": {
                "hosts": {"terms": {"field": "host", "size": 20}},
                "mean_size": {"avg": {"field": "size"}},
                "per_day": {"date_histogram": {"field": "@timestamp", "calendar_interval": "day"}},
            },
        },
    )
    aggregations = response["aggregations"]
    assert len(aggregations["hosts"]["buckets"]) == 10
    assert all(bucket["doc_count"] == DOCS // 10 for bucket in aggregations["hosts"]["buckets"])
    assert aggregations["mean_size"]["value"] == pytest.approx((DOCS - 1) / 2)
    assert len(aggregations["per_day"]["buckets"]) == 28


def test_get_update_and_delete(client):
    document = client.get(index=INDEX, id="42")
    assert document["found"] and document["_source"]["size"] == 42
    updated = client.update(index=INDEX, id="42", body={"doc": {"size": 4242}})
    assert updated["result"] == "updated"
    assert client.get(index=INDEX, id="42")["_source"]["size"] == 4242
    deleted = client.delete(index=INDEX, id="42")
    assert deleted["result"] == "deleted"
    with pytest.raises(NotFoundError):
        client.get(index=INDEX, id="42")


def test_errors_map_to_client_exceptions(client):
    with pytest.raises(NotFoundError):
        client.get(index="no-such-index", id="1")
    with pytest.raises(ConflictError):
        client.create(index=INDEX, id="7", body={"size": 7})
    with pytest.raises(RequestError):
        client.search(index=INDEX, body={"query": {"no_such_query": {}}})
    with pytest.raises(RequestError):
        client.indices.create(index="Bad-Name")

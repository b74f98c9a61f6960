//! Searches across several shards and indices: merged hits and totals, merged aggregations,
//! partial and total shard failures, and `_count`.

use serde_json::{json, Value};

use super::{ids, sorted, strings, Cluster};

fn mapping() -> Value {
    json!({"properties": {"n": {"type": "long"}, "tag": {"type": "keyword"}, "text": {"type": "text"}}})
}

fn doc(n: i64, tag: &str) -> Value {
    json!({"n": n, "tag": tag, "text": format!("word{}", n % 3)})
}

/// Index `a` in two shards (even `n` on shard 0, odd on shard 1) and index `b` in one.
fn cluster() -> Cluster {
    let mut cluster = Cluster::new();
    let shard0: Vec<(String, Value)> = (0..10)
        .filter(|n| n % 2 == 0)
        .map(|n| (format!("a{n}"), doc(n, "x")))
        .collect();
    let shard1: Vec<(String, Value)> = (0..10)
        .filter(|n| n % 2 == 1)
        .map(|n| (format!("a{n}"), doc(n, if n < 5 { "x" } else { "y" })))
        .collect();
    let index_b: Vec<(String, Value)> = (10..13).map(|n| (format!("b{n}"), doc(n, "z"))).collect();
    for (index, docs) in [("a", shard0), ("a", shard1), ("b", index_b)] {
        let borrowed: Vec<(&str, Value)> = docs
            .iter()
            .map(|(id, d)| (id.as_str(), d.clone()))
            .collect();
        cluster.add_shard(index, mapping(), &borrowed);
    }
    cluster
}

#[test]
fn hits_merge_across_shards_by_sort_values() {
    let c = cluster();
    let body = c.search(json!({"sort": [{"n": "desc"}], "size": 5}));
    assert_eq!(ids(&body), strings(&["b12", "b11", "b10", "a9", "a8"]));
    assert_eq!(body["hits"]["total"]["value"], 13);
    assert_eq!(
        body["_shards"],
        json!({"total": 3, "successful": 3, "skipped": 0, "failed": 0})
    );
    assert_eq!(body["hits"]["hits"][0]["_index"], "b");
    assert_eq!(body["hits"]["hits"][4]["_index"], "a");
    let page = c.search(json!({"sort": ["n"], "from": 4, "size": 4}));
    assert_eq!(ids(&page), strings(&["a4", "a5", "a6", "a7"]));
}

#[test]
fn equal_scores_break_ties_by_shard_then_document() {
    let c = cluster();
    let body = c.search(json!({"size": 13}));
    assert_eq!(ids(&body)[..3], strings(&["a0", "a2", "a4"])[..]);
    assert_eq!(ids(&body)[5..7], strings(&["a1", "a3"])[..]);
    let scored = c.search(json!({"query": {"match": {"text": "word1"}}, "size": 20}));
    assert_eq!(sorted(ids(&scored)), strings(&["a1", "a4", "a7", "b10"]));
}

#[test]
fn aggregations_merge_across_shards_and_indices() {
    let c = cluster();
    let body = c.search(json!({"size": 0, "aggs": {
        "tags": {"terms": {"field": "tag"}},
        "total": {"sum": {"field": "n"}},
        "hist": {"histogram": {"field": "n", "interval": 5}}
    }}));
    let aggs = &body["aggregations"];
    assert_eq!(
        aggs["tags"]["buckets"],
        json!([{"key": "x", "doc_count": 7}, {"key": "y", "doc_count": 3}, {"key": "z", "doc_count": 3}])
    );
    assert_eq!(aggs["total"]["value"], 78.0);
    assert_eq!(
        aggs["hist"]["buckets"],
        json!([{"key": 0.0, "doc_count": 5}, {"key": 5.0, "doc_count": 5}, {"key": 10.0, "doc_count": 3}])
    );
}

#[test]
fn terms_shard_size_pruning_reports_error_bounds() {
    let mut c = Cluster::new();
    let first: Vec<(String, Value)> = ["p", "p", "p", "q", "q", "r"]
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("f{i}"), doc(i as i64, t)))
        .collect();
    let second: Vec<(String, Value)> = ["r", "r", "r", "q", "s"]
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("s{i}"), doc(i as i64, t)))
        .collect();
    for docs in [first, second] {
        let borrowed: Vec<(&str, Value)> = docs
            .iter()
            .map(|(id, d)| (id.as_str(), d.clone()))
            .collect();
        c.add_shard("idx", mapping(), &borrowed);
    }
    let body = c.search(
        json!({"size": 0, "aggs": {"t": {"terms": {"field": "tag", "size": 1, "shard_size": 1}}}}),
    );
    let terms = &body["aggregations"]["t"];
    assert_eq!(
        terms["buckets"],
        json!([{"key": "p", "doc_count": 3}]),
        "ties break by key"
    );
    assert_eq!(terms["doc_count_error_upper_bound"], 6);
    assert_eq!(terms["sum_other_doc_count"], 8);
}

#[test]
fn a_failing_shard_is_reported_while_others_answer() {
    let mut c = Cluster::new();
    c.add_shard(
        "numbers",
        json!({"properties": {"f": {"type": "long"}}}),
        &[("n1", json!({"f": 1}))],
    );
    c.add_shard(
        "words",
        json!({"properties": {"f": {"type": "keyword"}}}),
        &[("w1", json!({"f": "abc"}))],
    );
    let body = c.search(json!({"query": {"term": {"f": "abc"}}}));
    assert_eq!(ids(&body), strings(&["w1"]));
    assert_eq!(body["_shards"]["failed"], 1);
    assert_eq!(body["_shards"]["successful"], 1);
    let failure = &body["_shards"]["failures"][0];
    assert_eq!(failure["index"], "numbers");
    assert_eq!(failure["reason"]["type"], "query_shard_exception");
    let error = c.search_error(
        json!({"query": {"term": {"f": {"value": "abc", "boost": 1}}}, "sort": ["nope"]}),
    );
    let rendered = error.to_json();
    assert_eq!(
        rendered["error"]["type"],
        "search_phase_execution_exception"
    );
    assert_eq!(rendered["error"]["phase"], "query");
    assert_eq!(
        rendered["error"]["failed_shards"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn count_sums_shards() {
    let c = cluster();
    assert_eq!(
        c.count(json!({})),
        json!({"count": 13, "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0}})
    );
    assert_eq!(
        c.count(json!({"query": {"range": {"n": {"gte": 8}}}}))["count"],
        5
    );
    let mut request = crate::CountRequest::new(super::NOW_MILLIS);
    request.apply_params([("q", "tag:y")]).expect("params");
    let counted = crate::count(&request, &c.targets()).expect("count");
    assert_eq!(counted["count"], 3);
}

#[test]
fn searching_no_shards_returns_an_empty_result() {
    let c = Cluster::new();
    let body = c.search(json!({"aggs": {"m": {"max": {"field": "n"}}}}));
    assert_eq!(body["hits"]["total"], json!({"value": 0, "relation": "eq"}));
    assert_eq!(body["aggregations"]["m"], json!({"value": null}));
    assert_eq!(body["_shards"]["total"], 0);
}

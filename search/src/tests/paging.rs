//! Sorting, pagination, `search_after`, `_source` filtering, totals and hit metadata.

use serde_json::{json, Value};

use super::{ids, strings, Cluster};

fn cluster() -> Cluster {
    let mapping = json!({"properties": {
        "name": {"type": "keyword"},
        "n": {"type": "long"},
        "score": {"type": "float"},
        "at": {"type": "date"},
        "ok": {"type": "boolean"},
        "text": {"type": "text"},
        "user": {"properties": {"first": {"type": "keyword"}, "secret": {"type": "keyword"}}}
    }});
    let docs: Vec<(String, Value)> = (0..25)
        .map(|i| {
            let mut doc = json!({
                "name": format!("name-{:02}", 24 - i),
                "n": i % 5,
                "at": 1_704_067_200_000i64 + i * 3_600_000,
                "ok": i % 2 == 0,
                "text": if i % 3 == 0 { "red fox" } else { "red red red dog" },
                "user": {"first": format!("u{i}"), "secret": "s"}
            });
            if i % 4 != 0 {
                doc["score"] = json!(i as f64 / 2.0);
            }
            (format!("d{i:02}"), doc)
        })
        .collect();
    let borrowed: Vec<(&str, Value)> = docs
        .iter()
        .map(|(id, doc)| (id.as_str(), doc.clone()))
        .collect();
    Cluster::single(mapping, &borrowed)
}

fn sort_values(body: &Value) -> Vec<Value> {
    body["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["sort"].clone())
        .collect()
}

#[test]
fn size_defaults_to_ten_and_from_pages() {
    let c = cluster();
    let body = c.search(json!({}));
    assert_eq!(body["hits"]["hits"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        body["hits"]["total"],
        json!({"value": 25, "relation": "eq"})
    );
    assert_eq!(body["hits"]["max_score"], 1.0);
    assert_eq!(
        body["_shards"],
        json!({"total": 1, "successful": 1, "skipped": 0, "failed": 0})
    );
    assert_eq!(body["timed_out"], false);
    let all = ids(&c.search(json!({"sort": ["name"], "size": 25})));
    let page = ids(&c.search(json!({"sort": ["name"], "from": 20, "size": 10})));
    assert_eq!(page, all[20..].to_vec());
    let none = c.search(json!({"size": 0}));
    assert_eq!(none["hits"]["hits"], json!([]));
    assert_eq!(none["hits"]["max_score"], Value::Null);
    assert_eq!(none["hits"]["total"]["value"], 25);
}

#[test]
fn sorting_by_fields_prints_sort_values_and_null_scores() {
    let c = cluster();
    let body = c.search(json!({"sort": [{"n": "desc"}, {"name": {"order": "asc"}}], "size": 3}));
    assert_eq!(
        sort_values(&body),
        vec![
            json!([4, "name-00"]),
            json!([4, "name-05"]),
            json!([4, "name-10"])
        ]
    );
    assert_eq!(body["hits"]["hits"][0]["_score"], Value::Null);
    assert_eq!(body["hits"]["max_score"], Value::Null);
    let dates = c.search(json!({"sort": [{"at": "desc"}], "size": 1}));
    assert_eq!(
        sort_values(&dates),
        vec![json!([1_704_067_200_000i64 + 24 * 3_600_000])]
    );
    let flags = c.search(json!({"sort": ["ok", "_doc"], "size": 1}));
    assert_eq!(ids(&flags), strings(&["d01"]));
    assert_eq!(
        sort_values(&flags)[0],
        json!([0, 1]),
        "booleans sort as 0 and 1"
    );
    let tracked = c.search(json!({"sort": ["n"], "track_scores": true, "size": 1}));
    assert_eq!(tracked["hits"]["hits"][0]["_score"], 1.0);
}

#[test]
fn missing_values_sort_last_unless_asked_first() {
    let c = cluster();
    let last = c.search(json!({"sort": [{"score": "desc"}], "size": 25}));
    let last_ids = ids(&last);
    assert_eq!(&last_ids[..2], &strings(&["d23", "d22"])[..]);
    assert_eq!(last_ids[24], "d24");
    assert_eq!(last["hits"]["hits"][24]["sort"], json!([null]));
    let first = c.search(
        json!({"sort": [{"score": {"order": "asc", "missing": "_first"}}, "name"], "size": 8}),
    );
    assert_eq!(
        ids(&first)[..7],
        strings(&["d24", "d20", "d16", "d12", "d08", "d04", "d00"])[..]
    );
    assert_eq!(first["hits"]["hits"][7]["sort"], json!([0.5, "name-23"]));
}

#[test]
fn score_sort_breaks_ties_by_document_order() {
    let c = cluster();
    let body = c.search(json!({"query": {"match": {"text": "fox"}}, "size": 3}));
    assert_eq!(ids(&body), strings(&["d00", "d03", "d06"]));
    let red = c.search(json!({"query": {"match": {"text": "red"}}, "size": 1}));
    assert_eq!(red["hits"]["max_score"], red["hits"]["hits"][0]["_score"]);
    assert!(red["hits"]["hits"][0].get("sort").is_none());
}

#[test]
fn search_after_continues_a_sorted_walk_without_duplicates() {
    let c = cluster();
    let mut walked = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut body = json!({"sort": [{"n": "asc"}, {"name": "desc"}], "size": 4});
        if let Some(after) = &after {
            body["search_after"] = after.clone();
        }
        let page = c.search(body);
        let page_ids = ids(&page);
        if page_ids.is_empty() {
            break;
        }
        after = page["hits"]["hits"]
            .as_array()
            .and_then(|hits| hits.last())
            .map(|hit| hit["sort"].clone());
        walked.extend(page_ids);
    }
    let full = ids(&c.search(json!({"sort": [{"n": "asc"}, {"name": "desc"}], "size": 25})));
    assert_eq!(walked, full);
    let absent = c.search(json!({"sort": ["name"], "search_after": ["name-10a"], "size": 2}));
    assert_eq!(
        sort_values(&absent),
        vec![json!(["name-11"]), json!(["name-12"])]
    );
    let error = c.search_error(json!({"sort": ["name"], "search_after": ["x"], "from": 2}));
    assert_eq!(error.status(), 400);
}

#[test]
fn source_filtering_and_metadata() {
    let c = cluster();
    let body = c.search(json!({"query": {"ids": {"values": ["d03"]}}, "_source": {"includes": ["user.*", "n"], "excludes": ["user.secret"]}}));
    assert_eq!(
        body["hits"]["hits"][0]["_source"],
        json!({"n": 3, "user": {"first": "u3"}})
    );
    let off = c.search(json!({"query": {"ids": {"values": ["d03"]}}, "_source": false, "version": true, "seq_no_primary_term": true}));
    let hit = &off["hits"]["hits"][0];
    assert!(hit.get("_source").is_none());
    assert_eq!(
        (hit["_index"].clone(), hit["_id"].clone()),
        (json!("idx"), json!("d03"))
    );
    assert_eq!(
        (
            hit["_version"].clone(),
            hit["_seq_no"].clone(),
            hit["_primary_term"].clone()
        ),
        (json!(1), json!(3), json!(1))
    );
    let whole = c.search(json!({"query": {"ids": {"values": ["d00"]}}}));
    assert_eq!(whole["hits"]["hits"][0]["_source"]["text"], "red fox");
}

#[test]
fn totals_follow_track_total_hits() {
    let c = cluster();
    assert_eq!(
        c.search(json!({"track_total_hits": 10}))["hits"]["total"],
        json!({"value": 10, "relation": "gte"})
    );
    assert_eq!(
        c.search(json!({"track_total_hits": 100}))["hits"]["total"],
        json!({"value": 25, "relation": "eq"})
    );
    assert!(c.search(json!({"track_total_hits": false}))["hits"]
        .get("total")
        .is_none());
    let mut request = crate::SearchRequest::new(super::NOW_MILLIS);
    request
        .apply_params([("rest_total_hits_as_int", "true")])
        .expect("params");
    let body = crate::search(&request, &c.targets()).expect("search").body;
    assert_eq!(body["hits"]["total"], 25);
}

#[test]
fn min_score_drops_low_scoring_hits_from_hits_and_total() {
    let c = cluster();
    let all = c.search(json!({"query": {"match": {"text": "red"}}, "size": 25}));
    let scores: Vec<f64> = all["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["_score"].as_f64().unwrap_or(0.0))
        .collect();
    let threshold = (scores[0] + scores[scores.len() - 1]) / 2.0;
    let kept = scores.iter().filter(|s| **s >= threshold).count();
    let filtered =
        c.search(json!({"query": {"match": {"text": "red"}}, "min_score": threshold, "size": 25}));
    assert_eq!(filtered["hits"]["total"]["value"], kept as u64);
}

#[test]
fn result_window_and_sort_errors() {
    let c = cluster();
    let error = c.search_error(json!({"from": 9995, "size": 10}));
    let body = error.to_json();
    assert_eq!(body["status"], 400);
    assert_eq!(
        body["error"]["root_cause"][0]["type"],
        "illegal_argument_exception"
    );
    assert!(body["error"]["root_cause"][0]["reason"].as_str().unwrap_or("").starts_with(
        "Result window is too large, from + size must be less than or equal to: [10000] but was [10005]."
    ));
    let unmapped = c.search_error(json!({"sort": ["nope"]})).to_json();
    assert_eq!(
        unmapped["error"]["root_cause"][0]["reason"],
        "No mapping found for [nope] in order to sort on"
    );
    let ok = c.search(json!({"sort": [{"nope": {"unmapped_type": "long"}}, "name"], "size": 1}));
    assert_eq!(ids(&ok), strings(&["d24"]));
    let text = c.search_error(json!({"sort": ["text"]})).to_json();
    assert!(text["error"]["root_cause"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .starts_with("Text fields are not optimised"));
}

#[test]
fn keyword_order_search_after_and_terms_hold_across_segments_and_updates() {
    let c = Cluster::single(
        json!({"properties": {"k": {"type": "keyword"}, "n": {"type": "long"}}}),
        &[
            ("1", json!({"k": "m", "n": 1})),
            ("2", json!({"k": "c", "n": 2})),
        ],
    );
    let engine = c.engine(0);
    super::write_doc(engine, "3", &json!({"k": "x", "n": 3}));
    super::write_doc(engine, "4", &json!({"k": "a", "n": 4}));
    super::write_doc(engine, "1", &json!({"k": "z", "n": 5}));
    engine.refresh(false).expect("refresh");
    assert!(
        engine.searcher().segment_readers().len() >= 2,
        "the test needs several segments"
    );
    let body = c.search(json!({"sort": ["k"]}));
    assert_eq!(ids(&body), strings(&["4", "2", "3", "1"]));
    let after = c.search(json!({"sort": ["k"], "search_after": ["d"], "size": 2}));
    assert_eq!(sort_values(&after), vec![json!(["x"]), json!(["z"])]);
    let aggs = c.search(json!({"size": 0, "aggs": {"k": {"terms": {"field": "k", "order": {"_key": "asc"}}}, "n": {"sum": {"field": "n"}}}}));
    let keys: Vec<Value> = aggs["aggregations"]["k"]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["key"].clone())
        .collect();
    assert_eq!(keys, vec![json!("a"), json!("c"), json!("x"), json!("z")]);
    assert_eq!(aggs["aggregations"]["n"]["value"], 14.0);
    assert_eq!(aggs["hits"]["total"]["value"], 4);
}

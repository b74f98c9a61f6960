//! Aggregations on a real shard: terms, metrics, histograms, date histograms, sub-aggregations,
//! typed keys and errors.

use serde_json::{json, Value};

use super::Cluster;

fn cluster() -> Cluster {
    let mapping = json!({"properties": {
        "color": {"type": "keyword"},
        "size": {"type": "integer"},
        "price": {"type": "double"},
        "sold": {"type": "boolean"},
        "at": {"type": "date"},
        "day": {"type": "date", "format": "yyyy-MM-dd"},
        "name": {"type": "text"}
    }});
    Cluster::single(
        mapping,
        &[
            (
                "1",
                json!({"color": "red", "size": 1, "price": 10.0, "sold": true, "at": "2024-01-01T01:00:00Z", "day": "2024-01-01", "name": "a"}),
            ),
            (
                "2",
                json!({"color": "red", "size": 2, "price": 20.0, "sold": false, "at": "2024-01-01T13:00:00Z", "day": "2024-01-03"}),
            ),
            (
                "3",
                json!({"color": ["blue", "red"], "size": 2, "price": 30.0, "sold": true, "at": "2024-01-15T00:00:00Z"}),
            ),
            (
                "4",
                json!({"color": "green", "size": 7, "price": 45.5, "at": "2024-03-02T00:00:00Z"}),
            ),
            ("5", json!({"color": "blue", "size": 9})),
        ],
    )
}

fn aggs(cluster: &Cluster, aggs: Value) -> Value {
    cluster.search(json!({"size": 0, "aggs": aggs}))["aggregations"].clone()
}

fn keys_and_counts(agg: &Value) -> Vec<(Value, u64)> {
    agg["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| (b["key"].clone(), b["doc_count"].as_u64().expect("count")))
        .collect()
}

#[test]
fn terms_counts_documents_per_value_in_count_order() {
    let c = cluster();
    let result = aggs(&c, json!({"colors": {"terms": {"field": "color"}}}));
    assert_eq!(
        result["colors"],
        json!({"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": [
            {"key": "red", "doc_count": 3}, {"key": "blue", "doc_count": 2}, {"key": "green", "doc_count": 1}
        ]})
    );
    let top = aggs(
        &c,
        json!({"colors": {"terms": {"field": "color", "size": 1}}}),
    );
    assert_eq!(top["colors"]["sum_other_doc_count"], 3);
    let by_key = aggs(
        &c,
        json!({"colors": {"terms": {"field": "color", "order": {"_key": "desc"}, "min_doc_count": 2}}}),
    );
    assert_eq!(
        keys_and_counts(&by_key["colors"]),
        vec![(json!("red"), 3), (json!("blue"), 2)]
    );
}

#[test]
fn terms_keys_are_typed_by_field() {
    let c = cluster();
    let result = aggs(
        &c,
        json!({
            "sizes": {"terms": {"field": "size", "size": 2}},
            "prices": {"terms": {"field": "price", "order": {"_key": "asc"}, "size": 1}},
            "sold": {"terms": {"field": "sold"}},
            "days": {"terms": {"field": "day"}}
        }),
    );
    assert_eq!(
        keys_and_counts(&result["sizes"]),
        vec![(json!(2), 2), (json!(1), 1)]
    );
    assert_eq!(result["prices"]["buckets"][0]["key"], json!(10.0));
    assert_eq!(
        result["sold"]["buckets"][0],
        json!({"key": 1, "key_as_string": "true", "doc_count": 2})
    );
    assert_eq!(
        result["days"]["buckets"][0],
        json!({"key": 1_704_067_200_000i64, "key_as_string": "2024-01-01", "doc_count": 1})
    );
}

#[test]
fn metrics_report_values_and_null_when_empty() {
    let c = cluster();
    let result = aggs(
        &c,
        json!({
            "min": {"min": {"field": "price"}}, "max": {"max": {"field": "price"}},
            "avg": {"avg": {"field": "size"}}, "sum": {"sum": {"field": "size"}},
            "count": {"value_count": {"field": "color"}}, "stats": {"stats": {"field": "price"}},
            "first": {"min": {"field": "at"}}, "none": {"avg": {"field": "nope"}}, "zero": {"sum": {"field": "nope"}}
        }),
    );
    assert_eq!(result["min"], json!({"value": 10.0}));
    assert_eq!(result["max"], json!({"value": 45.5}));
    assert_eq!(result["avg"], json!({"value": 4.2}));
    assert_eq!(result["sum"], json!({"value": 21.0}));
    assert_eq!(result["count"], json!({"value": 6}));
    assert_eq!(
        result["stats"],
        json!({"count": 4, "min": 10.0, "max": 45.5, "avg": 26.375, "sum": 105.5})
    );
    assert_eq!(
        result["first"],
        json!({"value": 1_704_070_800_000.0, "value_as_string": "2024-01-01T01:00:00.000Z"})
    );
    assert_eq!(result["none"], json!({"value": null}));
    assert_eq!(result["zero"], json!({"value": 0.0}));
    let filtered = c.search(json!({"size": 0, "query": {"term": {"color": "green"}}, "aggs": {"m": {"max": {"field": "size"}}}}));
    assert_eq!(filtered["aggregations"]["m"]["value"], 7.0);
}

#[test]
fn histogram_fills_gaps_unless_min_doc_count() {
    let c = cluster();
    let result = aggs(
        &c,
        json!({"h": {"histogram": {"field": "size", "interval": 3}}}),
    );
    assert_eq!(
        keys_and_counts(&result["h"]),
        vec![
            (json!(0.0), 3),
            (json!(3.0), 0),
            (json!(6.0), 1),
            (json!(9.0), 1)
        ]
    );
    let sparse = aggs(
        &c,
        json!({"h": {"histogram": {"field": "size", "interval": 3, "min_doc_count": 1}}}),
    );
    assert_eq!(keys_and_counts(&sparse["h"]).len(), 3);
    let bounded = aggs(
        &c,
        json!({"h": {"histogram": {"field": "price", "interval": 20, "extended_bounds": {"min": 0, "max": 100}}}}),
    );
    assert_eq!(keys_and_counts(&bounded["h"]).len(), 6);
}

#[test]
fn date_histogram_uses_calendar_and_fixed_intervals() {
    let c = cluster();
    let months = aggs(
        &c,
        json!({"m": {"date_histogram": {"field": "at", "calendar_interval": "month"}}}),
    );
    assert_eq!(
        months["m"]["buckets"],
        json!([
            {"key_as_string": "2024-01-01T00:00:00.000Z", "key": 1_704_067_200_000i64, "doc_count": 3},
            {"key_as_string": "2024-02-01T00:00:00.000Z", "key": 1_706_745_600_000i64, "doc_count": 0},
            {"key_as_string": "2024-03-01T00:00:00.000Z", "key": 1_709_251_200_000i64, "doc_count": 1}
        ])
    );
    let halves = aggs(
        &c,
        json!({"d": {"date_histogram": {"field": "at", "fixed_interval": "12h", "min_doc_count": 1}}}),
    );
    assert_eq!(
        keys_and_counts(&halves["d"])
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>(),
        vec![1, 1, 1, 1]
    );
    let weeks = aggs(
        &c,
        json!({"w": {"date_histogram": {"field": "at", "interval": "week", "min_doc_count": 1, "format": "yyyy-MM-dd"}}}),
    );
    assert_eq!(weeks["w"]["buckets"][1]["key_as_string"], "2024-01-15");
    let days = aggs(
        &c,
        json!({"d": {"date_histogram": {"field": "day", "calendar_interval": "1d"}}}),
    );
    assert_eq!(days["d"]["buckets"][0]["key_as_string"], "2024-01-01");
    assert_eq!(keys_and_counts(&days["d"]).len(), 3);
    let zoned = aggs(
        &c,
        json!({"d": {"date_histogram": {"field": "at", "calendar_interval": "day", "time_zone": "-02:00", "min_doc_count": 1}}}),
    );
    assert_eq!(
        zoned["d"]["buckets"][0]["key"],
        json!(1_704_067_200_000i64 - 86_400_000 + 7_200_000)
    );
    assert_eq!(
        zoned["d"]["buckets"][0]["key_as_string"],
        "2023-12-31T00:00:00.000-02:00"
    );
}

#[test]
fn sub_aggregations_compute_per_bucket_and_can_order_terms() {
    let c = cluster();
    let result = aggs(
        &c,
        json!({"colors": {
            "terms": {"field": "color", "order": {"avg_price": "desc"}},
            "aggs": {"avg_price": {"avg": {"field": "price"}}, "sizes": {"terms": {"field": "size"}}}
        }}),
    );
    let buckets = result["colors"]["buckets"].as_array().expect("buckets");
    assert_eq!(buckets[0]["key"], "green");
    assert_eq!(buckets[0]["avg_price"]["value"], 45.5);
    assert_eq!(buckets[1]["key"], "blue");
    assert_eq!(buckets[1]["avg_price"]["value"], 30.0);
    assert_eq!(
        buckets[2]["sizes"]["buckets"][0],
        json!({"key": 2, "doc_count": 2})
    );
    let nested = aggs(
        &c,
        json!({"m": {"date_histogram": {"field": "at", "calendar_interval": "month"}, "aggs": {"c": {"value_count": {"field": "color"}}}}}),
    );
    assert_eq!(nested["m"]["buckets"][1]["c"], json!({"value": 0}));
    assert_eq!(nested["m"]["buckets"][0]["c"], json!({"value": 4}));
}

#[test]
fn typed_keys_and_meta_are_rendered() {
    let c = cluster();
    let mut request = crate::SearchRequest::from_json(
        &json!({"size": 0, "aggs": {"c": {"terms": {"field": "color"}, "meta": {"k": 1}}, "s": {"terms": {"field": "size"}}, "p": {"avg": {"field": "price"}}}}),
        super::NOW_MILLIS,
    )
    .expect("request");
    request
        .apply_params([("typed_keys", "true")])
        .expect("params");
    let body = crate::search(&request, &c.targets()).expect("search").body;
    let aggregations = body["aggregations"].as_object().expect("aggregations");
    let names: Vec<&String> = aggregations.keys().collect();
    assert_eq!(names, vec!["sterms#c", "lterms#s", "avg#p"]);
    assert_eq!(aggregations["sterms#c"]["meta"], json!({"k": 1}));
}

#[test]
fn aggregation_errors_match_opensearch() {
    let c = cluster();
    let text = c
        .search_error(json!({"aggs": {"t": {"terms": {"field": "name"}}}}))
        .to_json();
    assert_eq!(
        text["error"]["root_cause"][0]["type"],
        "illegal_argument_exception"
    );
    assert!(text["error"]["root_cause"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .starts_with("Text fields are not optimised"));
    let keyword_avg = c
        .search_error(json!({"aggs": {"a": {"avg": {"field": "color"}}}}))
        .to_json();
    assert_eq!(
        keyword_avg["error"]["root_cause"][0]["reason"],
        "Field [color] of type [keyword] is not supported for aggregation [avg]"
    );
    let unknown = c.search_error(json!({"aggs": {"a": {"percentiles": {"field": "size"}}}}));
    assert_eq!(
        (unknown.error_type(), unknown.reason().as_str()),
        (
            "parsing_exception",
            "Unknown aggregation type [percentiles]"
        )
    );
    let bad_interval = c.search_error(
        json!({"aggs": {"d": {"date_histogram": {"field": "at", "calendar_interval": "2d"}}}}),
    );
    assert_eq!(
        bad_interval.reason(),
        "The supplied interval [2d] could not be parsed as a calendar interval."
    );
    let too_many = c.search_error(
        json!({"aggs": {"h": {"histogram": {"field": "price", "interval": 0.0001}}}}),
    );
    assert_eq!(too_many.error_type(), "too_many_buckets_exception");
    let unmapped = aggs(
        &c,
        json!({"u": {"terms": {"field": "nope"}}, "h": {"date_histogram": {"field": "nope", "fixed_interval": "1d"}}}),
    );
    assert_eq!(unmapped["u"]["buckets"], json!([]));
    assert_eq!(unmapped["h"]["buckets"], json!([]));
}

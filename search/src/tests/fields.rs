//! `docvalue_fields`, `stored_fields` and `rest_total_hits_as_int` on real shards.

use serde_json::json;

use super::Cluster;
use crate::SearchError;

fn cluster() -> Cluster {
    Cluster::single(
        json!({"properties": {
            "when": {"type": "date", "format": "yyyy-MM-dd"},
            "tag": {"type": "keyword", "store": true},
            "body": {"type": "text"},
            "f": {"type": "float"},
            "n": {"type": "long"}
        }}),
        &[(
            "1",
            json!({"when": "2024-01-02", "tag": ["b", "a", "b"], "body": "hello", "f": 1.1, "n": [7, 2], "count": 1}),
        )],
    )
}

#[test]
fn docvalue_fields_print_column_values_sorted_in_the_field_format() {
    let c = cluster();
    let hit = &c.search(json!({"docvalue_fields": ["n", "tag", "when", "count", "missing"]}))
        ["hits"]["hits"][0];
    assert_eq!(hit["fields"]["n"], json!([2, 7]));
    assert_eq!(hit["fields"]["tag"], json!(["a", "b"]));
    assert_eq!(hit["fields"]["when"], json!(["2024-01-02"]));
    assert_eq!(hit["fields"]["count"], json!([1]));
    assert!(hit["fields"].get("missing").is_none());
    assert!(hit["_source"].is_object(), "docvalue_fields keep _source");
    let float = &c.search(json!({"docvalue_fields": ["f"]}))["hits"]["hits"][0]["fields"]["f"][0];
    assert_eq!(
        float.as_f64(),
        Some(f64::from(1.1f32)),
        "floats print as Lucene keeps them"
    );
}

#[test]
fn docvalue_formats_and_wildcards() {
    let c = cluster();
    let hit = &c.search(json!({"docvalue_fields": [
        {"field": "n", "format": "#.0"},
        {"field": "when", "format": "epoch_millis"},
        {"field": "count", "format": "use_field_mapping"}
    ]}))["hits"]["hits"][0];
    assert_eq!(hit["fields"]["n"], json!(["2.0", "7.0"]));
    assert_eq!(hit["fields"]["when"], json!(["1704153600000"]));
    assert_eq!(hit["fields"]["count"], json!([1]));
    let wild = &c.search(json!({"docvalue_fields": ["*"]}))["hits"]["hits"][0]["fields"];
    assert!(wild.get("body").is_none(), "text fields have no doc values");
    assert_eq!(wild["tag"], json!(["a", "b"]));
}

#[test]
fn docvalue_fields_refuse_text_fields_and_formats_a_type_lacks() {
    let c = cluster();
    for body in [
        json!({"docvalue_fields": ["body"]}),
        json!({"docvalue_fields": [{"field": "tag", "format": "x"}]}),
        json!({"docvalue_fields": [{"field": "n", "format": "0.0E0"}]}),
    ] {
        let error = c.search_error(body.clone());
        assert!(
            matches!(error, SearchError::AllShardsFailed { phase: "fetch", .. }),
            "{body}: {error:?}"
        );
        assert_eq!(error.status(), 400, "{body}");
    }
}

#[test]
fn stored_fields_hide_source_unless_listed_and_return_stored_values() {
    let c = cluster();
    let hit = &c.search(json!({"stored_fields": ["tag", "body"]}))["hits"]["hits"][0];
    assert!(hit.get("_source").is_none());
    assert_eq!(hit["fields"]["tag"], json!(["b", "a", "b"]));
    assert!(hit["fields"].get("body").is_none(), "body is not stored");
    let with_source = &c.search(json!({"stored_fields": ["body", "_source"]}))["hits"]["hits"][0];
    assert_eq!(with_source["_source"]["body"], "hello");
    let explicit =
        &c.search(json!({"stored_fields": ["body"], "_source": ["n"]}))["hits"]["hits"][0];
    assert_eq!(explicit["_source"], json!({"n": [7, 2]}));
    let none = &c.search(json!({"stored_fields": "_none_"}))["hits"]["hits"][0];
    assert!(none.get("_id").is_none() && none.get("_source").is_none());
    assert_eq!(none["_index"], "idx");
}

#[test]
fn docvalue_and_stored_fields_come_from_url_parameters_too() {
    let c = cluster();
    let mut request = crate::SearchRequest::new(super::NOW_MILLIS);
    request
        .apply_params([("docvalue_fields", "n,count"), ("stored_fields", "tag")])
        .expect("params");
    let body = crate::search(&request, &c.targets()).expect("search").body;
    let hit = &body["hits"]["hits"][0];
    assert_eq!(hit["fields"]["n"], json!([2, 7]));
    assert_eq!(hit["fields"]["tag"], json!(["b", "a", "b"]));
    assert!(hit.get("_source").is_none());
}

#[test]
fn totals_as_int_need_an_exact_count() {
    let c = cluster();
    let mut request = crate::SearchRequest::new(super::NOW_MILLIS);
    let error = request
        .apply_params([
            ("rest_total_hits_as_int", "true"),
            ("track_total_hits", "100"),
        ])
        .expect_err("inexact totals cannot print as a number");
    assert_eq!(
        error.to_string(),
        "[rest_total_hits_as_int] cannot be used if the tracking of total hits is not accurate, got 100"
    );
    let mut exact = crate::SearchRequest::new(super::NOW_MILLIS);
    exact
        .apply_params([
            ("rest_total_hits_as_int", "true"),
            ("track_total_hits", "true"),
        ])
        .expect("exact totals print as a number");
    let body = crate::search(&exact, &c.targets()).expect("search").body;
    assert_eq!(body["hits"]["total"], 1);
}

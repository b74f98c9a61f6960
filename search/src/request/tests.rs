//! Request parsing tests: top-level keys, paging, URL parameters and their errors.

use serde_json::json;

use super::*;
use crate::ast::{QueryAst, Scalar};

const NOW: i64 = 1_700_000_000_000;

fn parse(body: serde_json::Value) -> SearchRequest {
    SearchRequest::from_json(&body, NOW).unwrap_or_else(|error| panic!("{body}: {error}"))
}

fn parse_error(body: serde_json::Value) -> SearchError {
    SearchRequest::from_json(&body, NOW).expect_err("request should fail")
}

#[test]
fn an_empty_body_is_match_all_with_default_paging() {
    let request = parse(json!({}));
    assert_eq!(request.query, QueryAst::match_all());
    assert_eq!((request.from, request.size), (0, 10));
    assert_eq!(request.track_total_hits, TrackTotalHits::UpTo(10_000));
    assert!(request.source.is_identity());
    assert_eq!(request, SearchRequest::new(NOW));
}

#[test]
fn every_supported_key_parses() {
    let request = parse(json!({
        "query": {"term": {"a": 1}},
        "from": 0, "size": 5,
        "sort": [{"n": "desc"}],
        "_source": {"includes": ["a*"]},
        "track_total_hits": true,
        "track_scores": true,
        "search_after": [5],
        "aggs": {"m": {"max": {"field": "n"}}},
        "min_score": 0.5,
        "version": true,
        "seq_no_primary_term": true,
        "timeout": "1s",
        "explain": false
    }));
    assert_eq!(request.size, 5);
    assert_eq!(request.sort.as_ref().map(Vec::len), Some(1));
    assert_eq!(request.source.includes, vec!["a*".to_string()]);
    assert_eq!(request.track_total_hits, TrackTotalHits::Exact);
    assert_eq!(request.search_after, Some(vec![Some(Scalar::Int(5))]));
    assert_eq!(request.aggs.len(), 1);
    assert_eq!(request.min_score, Some(0.5));
    assert!(request.version && request.seq_no_primary_term && request.track_scores);
}

#[test]
fn unknown_keys_fail_like_opensearch() {
    assert_eq!(
        parse_error(json!({"qeury": {}})).reason(),
        "Unknown key for a START_OBJECT in [qeury]."
    );
    assert_eq!(
        parse_error(json!({"foo": 1})).reason(),
        "Unknown key for a VALUE_NUMBER in [foo]."
    );
    assert_eq!(
        parse_error(json!({"foo": "x"})).reason(),
        "Unknown key for a VALUE_STRING in [foo]."
    );
    assert_eq!(
        parse_error(json!({"foo": [1]})).reason(),
        "Unknown key for a START_ARRAY in [foo]."
    );
    assert_eq!(
        parse_error(json!({"foo": 1})).error_type(),
        "parsing_exception"
    );
    let unsupported = parse_error(json!({"highlight": {"fields": {}}}));
    assert_eq!(
        unsupported.reason(),
        "request key [highlight] is not supported"
    );
    assert_eq!(
        parse_error(json!({"explain": true})).reason(),
        "request key [explain] is not supported"
    );
}

#[test]
fn paging_and_tracking_values_are_checked() {
    let negative = parse_error(json!({"from": -1}));
    assert_eq!(
        (negative.error_type(), negative.reason().as_str()),
        (
            "illegal_argument_exception",
            "[from] parameter cannot be negative, found [-1]"
        )
    );
    assert_eq!(
        parse_error(json!({"size": "x"})).error_type(),
        "x_content_parse_exception"
    );
    assert_eq!(
        parse(json!({"track_total_hits": 100})).track_total_hits,
        TrackTotalHits::UpTo(100)
    );
    assert_eq!(
        parse(json!({"track_total_hits": false})).track_total_hits,
        TrackTotalHits::Disabled
    );
    assert_eq!(
        parse(json!({"track_total_hits": -1})).track_total_hits,
        TrackTotalHits::Disabled
    );
    assert!(parse_error(json!({"track_total_hits": -5}))
        .reason()
        .contains("must be positive or equals to -1"));
}

#[test]
fn search_after_requires_from_zero_and_matching_sort_keys() {
    let error = parse_error(json!({"from": 1, "sort": ["a"], "search_after": [1]}));
    assert_eq!(
        error.reason(),
        "[from] parameter must be set to 0 when [search_after] is used"
    );
    let error = parse_error(json!({"sort": ["a", "b"], "search_after": [1]}));
    assert_eq!(
        error.reason(),
        "search_after has 1 value(s) but sort has 2."
    );
    assert!(parse_error(json!({"search_after": 1}))
        .reason()
        .contains("array"));
}

#[test]
fn url_parameters_win_over_the_body() {
    let mut request = parse(json!({"size": 3, "query": {"match_none": {}}}));
    request
        .apply_params([
            ("size", "7"),
            ("from", "2"),
            ("q", "title:fox"),
            ("sort", "n:desc"),
            ("_source", "a,b"),
            ("track_total_hits", "true"),
            ("typed_keys", "true"),
        ])
        .expect("params apply");
    assert_eq!((request.from, request.size), (2, 7));
    assert!(matches!(request.query, QueryAst::Match(ref m) if m.field == "title"));
    assert_eq!(
        request.sort.as_ref().map(|s| s[0].order),
        Some(SortOrder::Desc)
    );
    assert_eq!(
        request.source.includes,
        vec!["a".to_string(), "b".to_string()]
    );
    assert_eq!(request.track_total_hits, TrackTotalHits::Exact);
    assert!(request.typed_keys);
    let mut request = SearchRequest::new(NOW);
    request
        .apply_params([
            ("q", "fox"),
            ("df", "body"),
            ("default_operator", "AND"),
            ("_source", "false"),
        ])
        .expect("q params");
    assert!(matches!(request.query, QueryAst::Match(ref m) if m.field == "body"));
    assert!(!request.source.enabled);
}

#[test]
fn bad_url_parameters_are_refused() {
    let mut request = SearchRequest::new(NOW);
    let error = request
        .apply_params([("size", "ten")])
        .expect_err("bad size");
    assert_eq!(
        error.reason(),
        "Failed to parse int parameter [size] with value [ten]"
    );
    let error = SearchRequest::new(NOW)
        .apply_params([("q", "a AND (")])
        .expect_err("bad q");
    assert_eq!(error.error_type(), "parsing_exception");
    let error = SearchRequest::new(NOW)
        .apply_params([("version", "maybe")])
        .expect_err("bad flag");
    assert_eq!(error.error_type(), "illegal_argument_exception");
}

#[test]
fn count_accepts_query_only() {
    let request =
        CountRequest::from_json(&json!({"query": {"match_none": {}}}), NOW).expect("count");
    assert_eq!(request.query, QueryAst::MatchNone);
    let error = CountRequest::from_json(&json!({"size": 1}), NOW).expect_err("size on count");
    assert_eq!(error.reason(), "request does not support [size]");
    let mut request = CountRequest::new(NOW);
    request
        .apply_params([("q", "x"), ("df", "f")])
        .expect("q on count");
    assert!(matches!(request.query, QueryAst::Match(_)));
}

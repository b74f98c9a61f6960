//! Parsing tests: every query type's accepted forms and every error, without tantivy.

use serde_json::json;

use super::parse_query;
use crate::ast::*;
use crate::error::SearchError;

fn parse(json: serde_json::Value) -> QueryAst {
    parse_query(&json).unwrap_or_else(|error| panic!("{json} should parse: {error}"))
}

fn parse_error(json: serde_json::Value) -> SearchError {
    match parse_query(&json) {
        Ok(query) => panic!("{json} should fail, parsed as {query:?}"),
        Err(error) => error,
    }
}

fn check_error(json: serde_json::Value, error_type: &str, reason: &str) {
    let error = parse_error(json);
    assert_eq!(error.error_type(), error_type, "{error}");
    assert_eq!(error.reason(), reason);
    assert_eq!(error.status(), 400);
}

fn field_match(field: &str, text: &str) -> MatchQuery {
    MatchQuery {
        field: field.into(),
        query: Scalar::Str(text.into()),
        operator: Operator::Or,
        minimum_should_match: None,
        zero_terms: ZeroTerms::None,
        analyzer: Analyzer::Default,
        lenient: false,
        boost: 1.0,
    }
}

#[test]
fn match_all_and_match_none_take_boost_only() {
    assert_eq!(
        parse(json!({"match_all": {}})),
        QueryAst::MatchAll { boost: 1.0 }
    );
    assert_eq!(
        parse(json!({"match_all": {"boost": 2}})),
        QueryAst::MatchAll { boost: 2.0 }
    );
    assert_eq!(parse(json!({"match_none": {}})), QueryAst::MatchNone);
    check_error(
        json!({"match_all": {"foo": 1}}),
        "parsing_exception",
        "[match_all] query does not support [foo]",
    );
}

#[test]
fn match_accepts_the_short_and_the_long_form() {
    assert_eq!(
        parse(json!({"match": {"title": "Quick fox"}})),
        QueryAst::Match(field_match("title", "Quick fox"))
    );
    let long = parse(json!({"match": {"title": {
        "query": "quick fox", "operator": "AND", "minimum_should_match": "75%",
        "zero_terms_query": "all", "lenient": true, "boost": 1.5, "_name": "n"
    }}}));
    let QueryAst::Match(query) = long else {
        panic!("match expected")
    };
    assert_eq!(query.operator, Operator::And);
    assert_eq!(
        query.minimum_should_match,
        Some(MinimumShouldMatch::Percent(75))
    );
    assert_eq!(query.zero_terms, ZeroTerms::All);
    assert!(query.lenient);
    assert_eq!(query.boost, 1.5);
    let number = parse(json!({"match": {"count": 5}}));
    assert_eq!(
        number,
        QueryAst::Match(MatchQuery {
            query: Scalar::Int(5),
            ..field_match("count", "")
        })
    );
}

#[test]
fn match_errors_name_what_is_wrong() {
    check_error(
        json!({"match": {"a": "x", "b": "y"}}),
        "parsing_exception",
        "[match] query doesn't support multiple fields, found [a] and [b]",
    );
    check_error(
        json!({"match": {"a": {"foo": 1}}}),
        "parsing_exception",
        "[match] query does not support [foo]",
    );
    check_error(
        json!({"match": {"a": {"operator": "and"}}}),
        "illegal_argument_exception",
        "[match] requires query value",
    );
    check_error(
        json!({"match": {"a": {"query": "x", "operator": "xor"}}}),
        "illegal_argument_exception",
        "operator needs to be either [and] or [or], but not [xor]",
    );
    check_error(
        json!({"match": {"a": {"query": "x", "fuzziness": "AUTO"}}}),
        "parsing_exception",
        "[match] query parameter [fuzziness] is not supported",
    );
    check_error(
        json!({"match": {"a": {"query": "x", "minimum_should_match": "3<90%"}}}),
        "parsing_exception",
        "[match] query: unsupported [minimum_should_match] value [3<90%], expected an integer or a percentage",
    );
    check_error(
        json!({"match": {"a": {"query": "x", "analyzer": "french"}}}),
        "parsing_exception",
        "[match] analyzer [french] not found",
    );
    check_error(
        json!({"match": {"a": ["x"]}}),
        "parsing_exception",
        "[match] query does not support an array or object as [query]",
    );
}

#[test]
fn match_phrase_parses_slop() {
    let parsed = parse(json!({"match_phrase": {"body": {"query": "a b", "slop": 2}}}));
    let QueryAst::MatchPhrase(phrase) = parsed else {
        panic!("phrase expected")
    };
    assert_eq!((phrase.field.as_str(), phrase.slop), ("body", 2));
    check_error(
        json!({"match_phrase": {"body": {"query": "a", "slop": -1}}}),
        "parsing_exception",
        "[match_phrase] query: [slop] must be a non-negative integer, found [-1]",
    );
}

#[test]
fn multi_match_parses_fields_with_boosts_and_types() {
    let parsed = parse(json!({"multi_match": {
        "query": "x", "fields": ["title^2", "body", "tags*"], "type": "most_fields", "tie_breaker": 0.3
    }}));
    let QueryAst::MultiMatch(query) = parsed else {
        panic!("multi_match expected")
    };
    assert_eq!(query.kind, MultiMatchType::MostFields);
    assert_eq!(
        query.fields[0],
        FieldBoost {
            pattern: "title".into(),
            boost: 2.0
        }
    );
    assert_eq!(query.fields[2].pattern, "tags*");
    assert!((query.tie_breaker - 0.3).abs() < 1e-6);
    check_error(
        json!({"multi_match": {"fields": ["a"]}}),
        "illegal_argument_exception",
        "No text specified for multi_match query",
    );
    check_error(
        json!({"multi_match": {"query": "x", "type": "cross_fields"}}),
        "parsing_exception",
        "[multi_match] query type [cross_fields] is not supported",
    );
}

#[test]
fn term_accepts_value_objects_and_case_insensitivity() {
    assert_eq!(
        parse(json!({"term": {"status": "Active"}})),
        QueryAst::Term {
            field: "status".into(),
            value: Scalar::Str("Active".into()),
            case_insensitive: false,
            boost: 1.0
        }
    );
    assert_eq!(
        parse(json!({"term": {"n": {"value": 5, "boost": 2.0, "case_insensitive": true}}})),
        QueryAst::Term {
            field: "n".into(),
            value: Scalar::Int(5),
            case_insensitive: true,
            boost: 2.0
        }
    );
    check_error(
        json!({"term": {"n": {"boost": 2.0}}}),
        "illegal_argument_exception",
        "[term] query requires a value",
    );
    check_error(
        json!({"term": {"n": {"value": 1, "x": 2}}}),
        "parsing_exception",
        "[term] query does not support [x]",
    );
    check_error(
        json!({"term": {"n": {"value": 1, "boost": -1}}}),
        "illegal_argument_exception",
        "negative [boost] are not allowed in [term]",
    );
}

#[test]
fn terms_takes_one_field_with_an_array() {
    assert_eq!(
        parse(json!({"terms": {"tag": ["a", 1, true], "boost": 3}})),
        QueryAst::Terms {
            field: "tag".into(),
            values: vec![Scalar::Str("a".into()), Scalar::Int(1), Scalar::Bool(true)],
            boost: 3.0
        }
    );
    check_error(
        json!({"terms": {"a": ["x"], "b": ["y"]}}),
        "parsing_exception",
        "[terms] query does not support multiple fields, found [a] and [b]",
    );
    check_error(
        json!({"terms": {"a": "x"}}),
        "parsing_exception",
        "[terms] query does not support [a]",
    );
    check_error(
        json!({"terms": {"a": {"index": "i", "id": "1", "path": "p"}}}),
        "parsing_exception",
        "[terms] query lookup (index, id, path) is not supported",
    );
}

#[test]
fn terms_refuses_more_values_than_the_limit() {
    let values: Vec<u32> = (0..=crate::limits::TERMS_QUERY_VALUES_MAX as u32).collect();
    let error = parse_error(json!({"terms": {"n": values}}));
    assert_eq!(error.error_type(), "illegal_argument_exception");
    assert!(error
        .reason()
        .contains("has exceeded the allowed maximum of [65536]"));
}

#[test]
fn range_reads_both_forms_of_bounds() {
    let parsed = parse(json!({"range": {"age": {"gte": 10, "lt": "20", "boost": 2}}}));
    let QueryAst::Range(range) = parsed else {
        panic!("range expected")
    };
    assert_eq!(
        range.lower,
        Some(RangeBound {
            value: Scalar::Int(10),
            inclusive: true
        })
    );
    assert_eq!(
        range.upper,
        Some(RangeBound {
            value: Scalar::Str("20".into()),
            inclusive: false
        })
    );
    let legacy = parse(json!({"range": {"age": {"from": 1, "to": 5, "include_upper": false}}}));
    let QueryAst::Range(range) = legacy else {
        panic!("range expected")
    };
    assert_eq!(range.lower.map(|b| b.inclusive), Some(true));
    assert_eq!(range.upper.map(|b| b.inclusive), Some(false));
    let dates =
        parse(json!({"range": {"t": {"gt": "now-1d", "format": "yyyy", "time_zone": "+01:00"}}}));
    let QueryAst::Range(range) = dates else {
        panic!("range expected")
    };
    assert_eq!(range.format.as_deref(), Some("yyyy"));
    assert_eq!(range.time_zone.as_deref(), Some("+01:00"));
    check_error(
        json!({"range": {"age": {"gte": 1, "foo": 2}}}),
        "parsing_exception",
        "[range] query does not support [foo]",
    );
    check_error(
        json!({"range": {"age": 5}}),
        "parsing_exception",
        "[range] query malformed, no start_object after query name",
    );
}

#[test]
fn exists_ids_prefix_and_wildcard_parse() {
    assert_eq!(
        parse(json!({"exists": {"field": "f"}})),
        QueryAst::Exists {
            field: "f".into(),
            boost: 1.0
        }
    );
    check_error(
        json!({"exists": {}}),
        "parsing_exception",
        "[exists] must be provided with a [field]",
    );
    assert_eq!(
        parse(json!({"ids": {"values": ["1", 2]}})),
        QueryAst::Ids {
            values: vec!["1".into(), "2".into()],
            boost: 1.0
        }
    );
    assert_eq!(
        parse(json!({"prefix": {"user": {"value": "ki", "case_insensitive": true}}})),
        QueryAst::Prefix {
            field: "user".into(),
            value: "ki".into(),
            case_insensitive: true,
            boost: 1.0
        }
    );
    assert_eq!(
        parse(json!({"wildcard": {"user": {"wildcard": "k*y"}}})),
        QueryAst::Wildcard {
            field: "user".into(),
            pattern: "k*y".into(),
            case_insensitive: false,
            boost: 1.0
        }
    );
    assert_eq!(
        parse(json!({"wildcard": {"user": "k?y"}})),
        QueryAst::Wildcard {
            field: "user".into(),
            pattern: "k?y".into(),
            case_insensitive: false,
            boost: 1.0
        }
    );
}

#[test]
fn bool_takes_objects_or_arrays_in_every_clause() {
    let parsed = parse(json!({"bool": {
        "must": {"match_all": {}},
        "filter": [{"term": {"a": 1}}, {"term": {"b": 2}}],
        "should": [{"term": {"c": 3}}],
        "must_not": {"match_none": {}},
        "minimum_should_match": 1,
        "boost": 2
    }}));
    let QueryAst::Bool(query) = parsed else {
        panic!("bool expected")
    };
    assert_eq!(
        (
            query.must.len(),
            query.filter.len(),
            query.should.len(),
            query.must_not.len()
        ),
        (1, 2, 1, 1)
    );
    assert_eq!(
        query.minimum_should_match,
        Some(MinimumShouldMatch::Count(1))
    );
    assert_eq!(query.boost, 2.0);
    check_error(
        json!({"bool": {"shoud": []}}),
        "parsing_exception",
        "[bool] query does not support [shoud]",
    );
}

#[test]
fn constant_score_and_dis_max_parse() {
    assert_eq!(
        parse(json!({"constant_score": {"filter": {"match_all": {}}, "boost": 1.2}})),
        QueryAst::ConstantScore {
            filter: Box::new(QueryAst::match_all()),
            boost: 1.2
        }
    );
    check_error(
        json!({"constant_score": {}}),
        "parsing_exception",
        "[constant_score] requires a 'filter' element",
    );
    let parsed = parse(json!({"dis_max": {"queries": [{"match_all": {}}], "tie_breaker": 0.7}}));
    assert!(matches!(parsed, QueryAst::DisMax { ref queries, .. } if queries.len() == 1));
}

#[test]
fn unknown_and_malformed_query_objects_are_refused() {
    check_error(
        json!({"fuzzy": {"a": "b"}}),
        "parsing_exception",
        "unknown query [fuzzy]",
    );
    check_error(
        json!({"nested": {}}),
        "parsing_exception",
        "unknown query [nested]",
    );
    check_error(
        json!({}),
        "parsing_exception",
        "query malformed, empty clause found",
    );
    check_error(
        json!({"match_all": {}, "term": {"a": 1}}),
        "parsing_exception",
        "[match_all] malformed query, expected [END_OBJECT] but found [FIELD_NAME]",
    );
    check_error(
        json!("match_all"),
        "parsing_exception",
        "[_na] query malformed, must start with start_object",
    );
    check_error(
        json!({"bool": {"must": [{"nope": {}}]}}),
        "parsing_exception",
        "unknown query [nope]",
    );
}

#[test]
fn queries_nested_beyond_the_depth_limit_are_refused() {
    let mut query = json!({"match_all": {}});
    for _ in 0..=crate::limits::QUERY_DEPTH_MAX {
        query = json!({"bool": {"must": query}});
    }
    let error = parse_error(query);
    assert_eq!(error.error_type(), "parsing_exception");
    assert!(error.reason().contains("nested too deeply"));
}

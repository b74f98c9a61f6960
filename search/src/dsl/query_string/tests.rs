//! Tests of the `query_string` syntax: clause rules, fields, phrases, ranges, wildcards, errors.

use serde_json::json;

use crate::ast::*;
use crate::dsl::parse_query;

fn parse(text: &str) -> QueryAst {
    parse_with(json!({"query_string": {"query": text, "default_field": "body"}}))
}

fn parse_with(json: serde_json::Value) -> QueryAst {
    parse_query(&json).unwrap_or_else(|error| panic!("{json} should parse: {error}"))
}

fn word(field: &str, text: &str) -> QueryAst {
    QueryAst::Match(MatchQuery {
        field: field.into(),
        query: Scalar::Str(text.into()),
        operator: Operator::Or,
        minimum_should_match: None,
        zero_terms: ZeroTerms::None,
        analyzer: Analyzer::Default,
        lenient: false,
        boost: 1.0,
    })
}

fn bool_of(must: Vec<QueryAst>, should: Vec<QueryAst>, must_not: Vec<QueryAst>) -> QueryAst {
    QueryAst::Bool(BoolQuery {
        must,
        should,
        must_not,
        boost: 1.0,
        ..BoolQuery::default()
    })
}

#[test]
fn a_single_term_is_a_match_on_the_default_field() {
    assert_eq!(parse("quick"), word("body", "quick"));
    assert_eq!(parse("title:quick"), word("title", "quick"));
    assert_eq!(parse("user.name:bob"), word("user.name", "bob"));
}

#[test]
fn or_is_the_default_and_and_makes_both_sides_required() {
    assert_eq!(
        parse("a b"),
        bool_of(vec![], vec![word("body", "a"), word("body", "b")], vec![])
    );
    assert_eq!(
        parse("a AND b"),
        bool_of(vec![word("body", "a"), word("body", "b")], vec![], vec![])
    );
    assert_eq!(
        parse("a && b"),
        bool_of(vec![word("body", "a"), word("body", "b")], vec![], vec![])
    );
    assert_eq!(
        parse("a OR b AND c"),
        bool_of(
            vec![word("body", "b"), word("body", "c")],
            vec![word("body", "a")],
            vec![]
        )
    );
}

#[test]
fn not_minus_and_plus_set_clause_occurrence() {
    assert_eq!(
        parse("a NOT b"),
        bool_of(vec![], vec![word("body", "a")], vec![word("body", "b")])
    );
    assert_eq!(
        parse("+a -b c"),
        bool_of(
            vec![word("body", "a")],
            vec![word("body", "c")],
            vec![word("body", "b")]
        )
    );
    assert_eq!(
        parse("!b"),
        bool_of(vec![], vec![], vec![word("body", "b")])
    );
    assert_eq!(
        parse("a AND NOT b"),
        bool_of(vec![word("body", "a")], vec![], vec![word("body", "b")])
    );
}

#[test]
fn default_operator_and_follows_lucene_rules() {
    let and = |text: &str| {
        parse_with(
            json!({"query_string": {"query": text, "default_field": "body", "default_operator": "AND"}}),
        )
    };
    let required = |t: &str| {
        QueryAst::Match(MatchQuery {
            operator: Operator::And,
            ..match word("body", t) {
                QueryAst::Match(m) => m,
                _ => unreachable!(),
            }
        })
    };
    assert_eq!(
        and("a b"),
        bool_of(vec![required("a"), required("b")], vec![], vec![])
    );
    assert_eq!(
        and("a OR b"),
        bool_of(vec![], vec![required("a"), required("b")], vec![])
    );
}

#[test]
fn parentheses_group_and_apply_a_field_to_the_group() {
    assert_eq!(
        parse("title:(a OR b) AND c"),
        bool_of(
            vec![
                bool_of(vec![], vec![word("title", "a"), word("title", "b")], vec![]),
                word("body", "c")
            ],
            vec![],
            vec![]
        )
    );
}

#[test]
fn phrases_keep_their_slop_and_boost() {
    let parsed = parse("\"quick fox\"~2^3");
    let QueryAst::MatchPhrase(phrase) = parsed else {
        panic!("phrase expected: {parsed:?}")
    };
    assert_eq!(
        (phrase.field.as_str(), phrase.slop, phrase.boost),
        ("body", 2, 3.0)
    );
    let QueryAst::MatchPhrase(phrase) = parse("title:\"a \\\"b\\\"\"") else {
        panic!("phrase expected")
    };
    assert_eq!(phrase.query, Scalar::Str("a \"b\"".into()));
}

#[test]
fn wildcards_become_prefix_or_wildcard_queries() {
    assert_eq!(
        parse("qui*"),
        QueryAst::Prefix {
            field: "body".into(),
            value: "qui".into(),
            case_insensitive: false,
            boost: 1.0
        }
    );
    assert_eq!(
        parse("q?i*k"),
        QueryAst::Wildcard {
            field: "body".into(),
            pattern: "q?i*k".into(),
            case_insensitive: false,
            boost: 1.0
        }
    );
    assert_eq!(
        parse("title:*"),
        QueryAst::Exists {
            field: "title".into(),
            boost: 1.0
        }
    );
    assert_eq!(
        parse("_exists_:title"),
        QueryAst::Exists {
            field: "title".into(),
            boost: 1.0
        }
    );
    assert_eq!(parse("*"), QueryAst::match_all());
    let escaped = parse("a\\*b");
    assert_eq!(escaped, word("body", "a*b"));
}

#[test]
fn ranges_and_comparisons_parse_with_open_ends() {
    let QueryAst::Range(range) = parse("age:[10 TO *]") else {
        panic!("range expected")
    };
    assert_eq!(
        range.lower,
        Some(RangeBound {
            value: Scalar::Str("10".into()),
            inclusive: true
        })
    );
    assert_eq!(range.upper, None);
    let QueryAst::Range(range) = parse("age:{1 TO 5]") else {
        panic!("range expected")
    };
    assert_eq!(range.lower.map(|b| b.inclusive), Some(false));
    assert_eq!(range.upper.map(|b| b.inclusive), Some(true));
    let QueryAst::Range(range) = parse("age:>=18") else {
        panic!("range expected")
    };
    assert_eq!(
        range.lower,
        Some(RangeBound {
            value: Scalar::Str("18".into()),
            inclusive: true
        })
    );
    let QueryAst::Range(range) = parse("date:<2024-01-01") else {
        panic!("range expected")
    };
    assert_eq!(
        range.upper,
        Some(RangeBound {
            value: Scalar::Str("2024-01-01".into()),
            inclusive: false
        })
    );
}

#[test]
fn without_default_field_terms_search_every_field_leniently() {
    let parsed = parse_with(json!({"query_string": {"query": "fox"}}));
    let QueryAst::MultiMatch(query) = parsed else {
        panic!("multi_match expected")
    };
    assert_eq!(
        query.fields,
        vec![FieldBoost {
            pattern: "*".into(),
            boost: 1.0
        }]
    );
    assert!(query.lenient);
    let fields =
        parse_with(json!({"query_string": {"query": "fox", "fields": ["title^2", "body"]}}));
    let QueryAst::MultiMatch(query) = fields else {
        panic!("multi_match expected")
    };
    assert_eq!(query.fields.len(), 2);
    assert!(!query.lenient);
}

#[test]
fn syntax_errors_and_unsupported_syntax_are_refused() {
    for text in [
        "(a", "a)", "\"open", "a AND", "title:", "fuzzy~2", "/re/", "[1 TO", "a\\",
    ] {
        let json = json!({"query_string": {"query": text}});
        let error = parse_query(&json).expect_err(text);
        assert_eq!(error.error_type(), "parsing_exception", "{text}");
        assert!(
            error.reason().starts_with("Failed to parse query ["),
            "{text}: {error}"
        );
    }
    let leading = json!({"query_string": {"query": "*ab", "allow_leading_wildcard": false}});
    assert!(parse_query(&leading).is_err());
    let missing = parse_query(&json!({"query_string": {}})).expect_err("no query");
    assert_eq!(
        missing.reason(),
        "[query_string] must be provided with a [query]"
    );
}

#[test]
fn deep_parentheses_are_refused() {
    let text = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    let error = parse_query(&json!({"query_string": {"query": text}})).expect_err("too deep");
    assert!(error.reason().contains("nested too deeply"));
}

//! Full-text queries: `match`, `match_phrase`, `multi_match` and the options of `query_string`
//! (its syntax lives in `query_string`).
//!
//! This module must never analyse text: analysis depends on the field's type, known only when a
//! shard compiles the query.

use serde_json::Value;

use super::params::{self, unknown_param, unsupported_param};
use super::query_string::{self, QueryStringOptions};
use crate::ast::{
    Analyzer, FieldBoost, MatchQuery, MultiMatchQuery, MultiMatchType, Operator, PhraseQuery,
    QueryAst, ZeroTerms, BOOST_DEFAULT,
};
use crate::error::SearchError;

/// Parameters accepted for compatibility that change nothing in tandem.
const IGNORED_PARAMS: &[&str] = &[
    "_name",
    "auto_generate_synonyms_phrase_query",
    "prefix_length",
    "max_expansions",
    "fuzzy_transpositions",
    "analyze_wildcard",
    "enable_position_increments",
    "max_determinized_states",
    "escape",
    "rewrite",
    "fuzzy_rewrite",
];

pub(super) fn match_query(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "match";
    let (field, body) = params::single_field(NAME, json)?;
    let mut query = MatchQuery {
        field: field.to_string(),
        query: crate::ast::Scalar::Str(String::new()),
        operator: Operator::Or,
        minimum_should_match: None,
        zero_terms: ZeroTerms::None,
        analyzer: Analyzer::Default,
        lenient: false,
        boost: BOOST_DEFAULT,
    };
    let Value::Object(options) = body else {
        query.query = params::scalar(NAME, "query", body)?;
        return Ok(QueryAst::Match(query));
    };
    let mut text = None;
    for (key, value) in options {
        match key.as_str() {
            "query" => text = Some(params::scalar(NAME, key, value)?),
            "operator" => query.operator = params::operator(NAME, value)?,
            "minimum_should_match" => {
                query.minimum_should_match = Some(params::minimum_should_match(NAME, value)?)
            }
            "zero_terms_query" => query.zero_terms = params::zero_terms(NAME, value)?,
            "analyzer" => query.analyzer = params::analyzer(NAME, value)?,
            "lenient" => query.lenient = params::boolean(NAME, key, value)?,
            "boost" => query.boost = params::boost(NAME, value)?,
            "fuzziness" => params::no_fuzziness(NAME, value)?,
            "cutoff_frequency" => return Err(unsupported_param(NAME, key)),
            ignored if IGNORED_PARAMS.contains(&ignored) => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    query.query =
        text.ok_or_else(|| SearchError::IllegalArgument(format!("[{NAME}] requires query value")))?;
    Ok(QueryAst::Match(query))
}

pub(super) fn match_phrase(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "match_phrase";
    let (field, body) = params::single_field(NAME, json)?;
    let mut query = PhraseQuery {
        field: field.to_string(),
        query: crate::ast::Scalar::Str(String::new()),
        slop: 0,
        analyzer: Analyzer::Default,
        zero_terms: ZeroTerms::None,
        lenient: false,
        boost: BOOST_DEFAULT,
    };
    let Value::Object(options) = body else {
        query.query = params::scalar(NAME, "query", body)?;
        return Ok(QueryAst::MatchPhrase(query));
    };
    let mut text = None;
    for (key, value) in options {
        match key.as_str() {
            "query" => text = Some(params::scalar(NAME, key, value)?),
            "slop" => query.slop = params::unsigned(NAME, key, value)?,
            "analyzer" => query.analyzer = params::analyzer(NAME, value)?,
            "zero_terms_query" => query.zero_terms = params::zero_terms(NAME, value)?,
            "boost" => query.boost = params::boost(NAME, value)?,
            ignored if IGNORED_PARAMS.contains(&ignored) => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    query.query =
        text.ok_or_else(|| SearchError::IllegalArgument(format!("[{NAME}] requires query value")))?;
    Ok(QueryAst::MatchPhrase(query))
}

pub(super) fn multi_match(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "multi_match";
    let options = params::object(NAME, json)?;
    let mut query = MultiMatchQuery {
        fields: Vec::new(),
        query: crate::ast::Scalar::Str(String::new()),
        kind: MultiMatchType::BestFields,
        operator: Operator::Or,
        minimum_should_match: None,
        tie_breaker: 0.0,
        slop: 0,
        zero_terms: ZeroTerms::None,
        analyzer: Analyzer::Default,
        lenient: false,
        boost: BOOST_DEFAULT,
    };
    let mut text = None;
    for (key, value) in options {
        match key.as_str() {
            "query" => text = Some(params::scalar(NAME, key, value)?),
            "fields" => query.fields = field_list(NAME, value)?,
            "type" => query.kind = multi_match_type(value)?,
            "operator" => query.operator = params::operator(NAME, value)?,
            "minimum_should_match" => {
                query.minimum_should_match = Some(params::minimum_should_match(NAME, value)?)
            }
            "tie_breaker" => query.tie_breaker = params::float(NAME, key, value)?,
            "slop" => query.slop = params::unsigned(NAME, key, value)?,
            "zero_terms_query" => query.zero_terms = params::zero_terms(NAME, value)?,
            "analyzer" => query.analyzer = params::analyzer(NAME, value)?,
            "lenient" => query.lenient = params::boolean(NAME, key, value)?,
            "boost" => query.boost = params::boost(NAME, value)?,
            "fuzziness" => params::no_fuzziness(NAME, value)?,
            "cutoff_frequency" => return Err(unsupported_param(NAME, key)),
            ignored if IGNORED_PARAMS.contains(&ignored) => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    query.query = text.ok_or_else(|| {
        SearchError::IllegalArgument("No text specified for multi_match query".into())
    })?;
    Ok(QueryAst::MultiMatch(query))
}

fn multi_match_type(value: &Value) -> Result<MultiMatchType, SearchError> {
    let name = params::string("multi_match", "type", value)?;
    match name.as_str() {
        "best_fields" => Ok(MultiMatchType::BestFields),
        "most_fields" => Ok(MultiMatchType::MostFields),
        "phrase" => Ok(MultiMatchType::Phrase),
        "cross_fields" | "phrase_prefix" | "bool_prefix" => Err(SearchError::Parsing(format!(
            "[multi_match] query type [{name}] is not supported"
        ))),
        _ => Err(SearchError::Parsing(format!(
            "[multi_match] query does not allow type [{name}]"
        ))),
    }
}

/// `fields`: a string or an array of strings, each maybe with `^boost`.
fn field_list(query: &str, value: &Value) -> Result<Vec<FieldBoost>, SearchError> {
    let names: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    names
        .into_iter()
        .map(|name| {
            let text = params::string(query, "fields", name)?;
            let (pattern, boost) = params::field_with_boost(query, &text)?;
            Ok(FieldBoost { pattern, boost })
        })
        .collect()
}

pub(super) fn query_string(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "query_string";
    let body = params::object(NAME, json)?;
    let mut options = QueryStringOptions::default();
    let mut text = None;
    let mut default_field = None;
    let mut fields = None;
    for (key, value) in body {
        match key.as_str() {
            "query" => text = Some(params::string(NAME, key, value)?),
            "default_field" => default_field = Some(params::string(NAME, key, value)?),
            "fields" => fields = Some(field_list(NAME, value)?),
            "default_operator" => options.default_operator = params::operator(NAME, value)?,
            "lenient" => options.lenient = Some(params::boolean(NAME, key, value)?),
            "allow_leading_wildcard" => {
                options.allow_leading_wildcard = params::boolean(NAME, key, value)?
            }
            "phrase_slop" => options.phrase_slop = params::unsigned(NAME, key, value)?,
            "analyzer" => options.analyzer = params::analyzer(NAME, value)?,
            "tie_breaker" => options.tie_breaker = params::float(NAME, key, value)?,
            "time_zone" => options.time_zone = Some(params::string(NAME, key, value)?),
            "boost" => options.boost = params::boost(NAME, value)?,
            "type" if value.as_str() == Some("best_fields") => {}
            "fuzziness" => params::no_fuzziness(NAME, value)?,
            "type"
            | "quote_analyzer"
            | "quote_field_suffix"
            | "minimum_should_match"
            | "auto_generate_phrase_queries"
            | "split_on_whitespace" => return Err(unsupported_param(NAME, key)),
            ignored if IGNORED_PARAMS.contains(&ignored) => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    let text = text.ok_or_else(|| {
        SearchError::Parsing("[query_string] must be provided with a [query]".into())
    })?;
    options.fields = match (fields, default_field) {
        (Some(fields), _) if !fields.is_empty() => fields,
        (_, Some(field)) => vec![FieldBoost {
            pattern: field,
            boost: BOOST_DEFAULT,
        }],
        _ => Vec::new(),
    };
    query_string::parse(&text, &options)
}

//! The OpenSearch query DSL: JSON in, [`QueryAst`] out.
//!
//! Parsing is pure and shard-independent: it checks the shape of every query object (known
//! keys, value types, one field per single-field query) and keeps values as written, leaving
//! type-dependent meaning to `compile`. Unknown query types fail with OpenSearch's
//! `unknown query [x]`, unknown parameters with `[x] query does not support [y]`, and features
//! tandem lacks with `[x] query parameter [y] is not supported`, so nothing is ever silently
//! answered wrong. This module must never look at a mapping or at tantivy.

mod compound;
mod full_text;
mod params;
pub(crate) mod query_string;
mod term_level;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub(crate) use params::{
    analyzer as params_analyzer, plain as params_plain, scalar as params_scalar,
};

use crate::ast::QueryAst;
use crate::error::SearchError;
use crate::limits::QUERY_DEPTH_MAX;

/// Parses one query object such as `{"match": {"title": "x"}}`.
pub fn parse_query(json: &Value) -> Result<QueryAst, SearchError> {
    parse_at(json, 0)
}

/// Parses a query nested `depth` levels deep.
pub(crate) fn parse_at(json: &Value, depth: usize) -> Result<QueryAst, SearchError> {
    if depth > QUERY_DEPTH_MAX {
        return Err(SearchError::Parsing(format!(
            "query is nested too deeply: more than [{QUERY_DEPTH_MAX}] levels"
        )));
    }
    let Value::Object(object) = json else {
        return Err(SearchError::Parsing(
            "[_na] query malformed, must start with start_object".into(),
        ));
    };
    let mut entries = object.iter();
    let Some((name, body)) = entries.next() else {
        return Err(SearchError::Parsing(
            "query malformed, empty clause found".into(),
        ));
    };
    if entries.next().is_some() {
        return Err(SearchError::Parsing(format!(
            "[{name}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]"
        )));
    }
    let child = depth + 1;
    match name.as_str() {
        "match_all" => compound::match_all(body),
        "match_none" => compound::match_none(body),
        "bool" => compound::bool_query(body, child),
        "constant_score" => compound::constant_score(body, child),
        "dis_max" => compound::dis_max(body, child),
        "match" => full_text::match_query(body),
        "match_phrase" => full_text::match_phrase(body),
        "multi_match" => full_text::multi_match(body),
        "query_string" => full_text::query_string(body),
        "term" => term_level::term(body),
        "terms" => term_level::terms(body),
        "range" => term_level::range(body),
        "exists" => term_level::exists(body),
        "ids" => term_level::ids(body),
        "prefix" => term_level::prefix(body),
        "wildcard" => term_level::wildcard(body),
        unknown => Err(SearchError::Parsing(format!("unknown query [{unknown}]"))),
    }
}

/// Parses a clause list that may be one query object or an array of them (`bool` clauses).
pub(crate) fn parse_clauses(json: &Value, depth: usize) -> Result<Vec<QueryAst>, SearchError> {
    match json {
        Value::Array(items) => items.iter().map(|item| parse_at(item, depth)).collect(),
        single => Ok(vec![parse_at(single, depth)?]),
    }
}

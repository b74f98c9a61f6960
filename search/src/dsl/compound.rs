//! Compound and trivial queries: `bool`, `constant_score`, `dis_max`, `match_all`,
//! `match_none`.
//!
//! This module must never decide scoring; it records the structure for `compile`.

use serde_json::Value;

use super::params::{self, unknown_param};
use super::{parse_at, parse_clauses};
use crate::ast::{BoolQuery, QueryAst, BOOST_DEFAULT};
use crate::error::SearchError;

pub(super) fn match_all(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "match_all";
    let mut boost = BOOST_DEFAULT;
    for (key, value) in params::object(NAME, json)? {
        match key.as_str() {
            "boost" => boost = params::boost(NAME, value)?,
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    Ok(QueryAst::MatchAll { boost })
}

pub(super) fn match_none(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "match_none";
    for (key, value) in params::object(NAME, json)? {
        match key.as_str() {
            "boost" => {
                params::boost(NAME, value)?;
            }
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    Ok(QueryAst::MatchNone)
}

pub(super) fn bool_query(json: &Value, depth: usize) -> Result<QueryAst, SearchError> {
    const NAME: &str = "bool";
    let mut query = BoolQuery {
        boost: BOOST_DEFAULT,
        ..BoolQuery::default()
    };
    for (key, value) in params::object(NAME, json)? {
        match key.as_str() {
            "must" => query.must.extend(parse_clauses(value, depth)?),
            "filter" => query.filter.extend(parse_clauses(value, depth)?),
            "should" => query.should.extend(parse_clauses(value, depth)?),
            "must_not" | "mustNot" => query.must_not.extend(parse_clauses(value, depth)?),
            "minimum_should_match" => {
                query.minimum_should_match = Some(params::minimum_should_match(NAME, value)?)
            }
            "boost" => query.boost = params::boost(NAME, value)?,
            "adjust_pure_negative" => {
                params::boolean(NAME, key, value)?;
            }
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    Ok(QueryAst::Bool(query))
}

pub(super) fn constant_score(json: &Value, depth: usize) -> Result<QueryAst, SearchError> {
    const NAME: &str = "constant_score";
    let mut filter = None;
    let mut boost = BOOST_DEFAULT;
    for (key, value) in params::object(NAME, json)? {
        match key.as_str() {
            "filter" => filter = Some(parse_at(value, depth)?),
            "boost" => boost = params::boost(NAME, value)?,
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    let filter = filter.ok_or_else(|| {
        SearchError::Parsing("[constant_score] requires a 'filter' element".into())
    })?;
    Ok(QueryAst::ConstantScore {
        filter: Box::new(filter),
        boost,
    })
}

pub(super) fn dis_max(json: &Value, depth: usize) -> Result<QueryAst, SearchError> {
    const NAME: &str = "dis_max";
    let mut queries = None;
    let mut tie_breaker = 0.0;
    let mut boost = BOOST_DEFAULT;
    for (key, value) in params::object(NAME, json)? {
        match key.as_str() {
            "queries" => queries = Some(parse_clauses(value, depth)?),
            "tie_breaker" => tie_breaker = params::float(NAME, key, value)?,
            "boost" => boost = params::boost(NAME, value)?,
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    let queries = queries.ok_or_else(|| {
        SearchError::Parsing("[dis_max] requires 'queries' field with at least one clause".into())
    })?;
    Ok(QueryAst::DisMax {
        queries,
        tie_breaker,
        boost,
    })
}

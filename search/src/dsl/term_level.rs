//! Term-level queries: `term`, `terms`, `range`, `exists`, `ids`, `prefix`, `wildcard`.
//!
//! Values stay as written; this module must never convert them by field type.

use serde_json::{Map, Value};

use super::params::{self, unknown_param, unsupported_param};
use crate::ast::{QueryAst, RangeBound, RangeQuery, Scalar, BOOST_DEFAULT};
use crate::error::SearchError;
use crate::limits::TERMS_QUERY_VALUES_MAX;

pub(super) fn term(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "term";
    let (field, body) = params::single_field(NAME, json)?;
    let (value, case_insensitive, boost) = value_with_options(NAME, body, &["value"])?;
    Ok(QueryAst::Term {
        field: field.to_string(),
        value,
        case_insensitive,
        boost,
    })
}

pub(super) fn prefix(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "prefix";
    let (field, body) = params::single_field(NAME, json)?;
    let (value, case_insensitive, boost) = value_with_options(NAME, body, &["value", "prefix"])?;
    Ok(QueryAst::Prefix {
        field: field.to_string(),
        value: value.as_text(),
        case_insensitive,
        boost,
    })
}

pub(super) fn wildcard(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "wildcard";
    let (field, body) = params::single_field(NAME, json)?;
    let (value, case_insensitive, boost) = value_with_options(NAME, body, &["value", "wildcard"])?;
    Ok(QueryAst::Wildcard {
        field: field.to_string(),
        pattern: value.as_text(),
        case_insensitive,
        boost,
    })
}

/// The `{"field": value}` or `{"field": {"value": v, "boost": b, ...}}` forms.
fn value_with_options(
    query: &str,
    body: &Value,
    value_keys: &[&str],
) -> Result<(Scalar, bool, f32), SearchError> {
    let Value::Object(options) = body else {
        return Ok((params::scalar(query, "value", body)?, false, BOOST_DEFAULT));
    };
    let mut value = None;
    let mut case_insensitive = false;
    let mut boost = BOOST_DEFAULT;
    for (key, option) in options {
        match key.as_str() {
            key if value_keys.contains(&key) => value = Some(params::scalar(query, key, option)?),
            "boost" => boost = params::boost(query, option)?,
            "case_insensitive" => case_insensitive = params::boolean(query, key, option)?,
            "_name" | "rewrite" => {}
            unknown => return Err(unknown_param(query, unknown)),
        }
    }
    let value = value
        .ok_or_else(|| SearchError::IllegalArgument(format!("[{query}] query requires a value")))?;
    Ok((value, case_insensitive, boost))
}

pub(super) fn terms(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "terms";
    let body = params::object(NAME, json)?;
    let mut field_values: Option<(&str, &Value)> = None;
    let mut boost = BOOST_DEFAULT;
    for (key, value) in body {
        match key.as_str() {
            "boost" => boost = params::boost(NAME, value)?,
            "_name" | "value_type" => {}
            field => {
                if let Some((previous, _)) = field_values {
                    return Err(SearchError::Parsing(format!(
                        "[{NAME}] query does not support multiple fields, found [{previous}] and [{field}]"
                    )));
                }
                field_values = Some((field, value));
            }
        }
    }
    let (field, values) = field_values.ok_or_else(|| {
        SearchError::Parsing(format!("[{NAME}] query requires a field with values"))
    })?;
    let Value::Array(items) = values else {
        return match values {
            Value::Object(_) => Err(SearchError::Parsing(
                "[terms] query lookup (index, id, path) is not supported".into(),
            )),
            _ => Err(SearchError::Parsing(format!(
                "[{NAME}] query does not support [{field}]"
            ))),
        };
    };
    if items.len() > TERMS_QUERY_VALUES_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "The number of terms [{}] used in the Terms Query request has exceeded the allowed maximum of [{TERMS_QUERY_VALUES_MAX}]. This maximum can be set by changing the [index.max_terms_count] index level setting.",
            items.len()
        )));
    }
    let values = items
        .iter()
        .map(|item| params::scalar(NAME, field, item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryAst::Terms {
        field: field.to_string(),
        values,
        boost,
    })
}

pub(super) fn range(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "range";
    let (field, body) = params::single_field(NAME, json)?;
    let options = params::object(NAME, body)?;
    let mut query = RangeQuery {
        field: field.to_string(),
        lower: None,
        upper: None,
        format: None,
        time_zone: None,
        boost: BOOST_DEFAULT,
    };
    let legacy = legacy_inclusion(options)?;
    for (key, value) in options {
        let bound = |inclusive: bool| -> Result<Option<RangeBound>, SearchError> {
            if value.is_null() {
                return Ok(None);
            }
            let value = params::scalar(NAME, key, value)?;
            Ok(Some(RangeBound { value, inclusive }))
        };
        match key.as_str() {
            "gt" => query.lower = bound(false)?,
            "gte" => query.lower = bound(true)?,
            "lt" => query.upper = bound(false)?,
            "lte" => query.upper = bound(true)?,
            "from" => query.lower = bound(legacy.0)?,
            "to" => query.upper = bound(legacy.1)?,
            "include_lower" | "include_upper" | "_name" => {}
            "format" => query.format = Some(params::string(NAME, key, value)?),
            "time_zone" => query.time_zone = Some(params::string(NAME, key, value)?),
            "boost" => query.boost = params::boost(NAME, value)?,
            "relation" => match value.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("intersects") | Some("within") | Some("contains") => {}
                _ => return Err(unsupported_param(NAME, key)),
            },
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    Ok(QueryAst::Range(query))
}

/// `include_lower`/`include_upper` for the legacy `from`/`to` form (both default to true).
fn legacy_inclusion(options: &Map<String, Value>) -> Result<(bool, bool), SearchError> {
    let flag = |key: &str| -> Result<bool, SearchError> {
        options
            .get(key)
            .map_or(Ok(true), |value| params::boolean("range", key, value))
    };
    Ok((flag("include_lower")?, flag("include_upper")?))
}

pub(super) fn exists(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "exists";
    let options = params::object(NAME, json)?;
    let mut field = None;
    let mut boost = BOOST_DEFAULT;
    for (key, value) in options {
        match key.as_str() {
            "field" => field = Some(params::string(NAME, key, value)?),
            "boost" => boost = params::boost(NAME, value)?,
            "_name" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    let field = field
        .ok_or_else(|| SearchError::Parsing("[exists] must be provided with a [field]".into()))?;
    Ok(QueryAst::Exists { field, boost })
}

pub(super) fn ids(json: &Value) -> Result<QueryAst, SearchError> {
    const NAME: &str = "ids";
    let options = params::object(NAME, json)?;
    let mut values = Vec::new();
    let mut boost = BOOST_DEFAULT;
    for (key, value) in options {
        match key.as_str() {
            "values" => {
                let Value::Array(items) = value else {
                    return Err(SearchError::Parsing(
                        "[ids] query: [values] must be an array".into(),
                    ));
                };
                if items.len() > TERMS_QUERY_VALUES_MAX {
                    return Err(SearchError::IllegalArgument(format!(
                        "[ids] query lists [{}] values, more than the maximum of [{TERMS_QUERY_VALUES_MAX}]",
                        items.len()
                    )));
                }
                for item in items {
                    values.push(params::scalar(NAME, key, item)?.as_text());
                }
            }
            "boost" => boost = params::boost(NAME, value)?,
            "_name" | "type" => {}
            unknown => return Err(unknown_param(NAME, unknown)),
        }
    }
    Ok(QueryAst::Ids { values, boost })
}

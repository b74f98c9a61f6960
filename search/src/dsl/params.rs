//! Typed readers for query parameters, each failing with the message OpenSearch gives.
//!
//! This module owns value-shape checks shared by every query parser; it must never know what a
//! particular query means.

use serde_json::{Map, Value};

use crate::ast::{Analyzer, MinimumShouldMatch, Operator, Scalar, ZeroTerms};
use crate::error::SearchError;

/// `[query] query does not support [key]`.
pub(crate) fn unknown_param(query: &str, key: &str) -> SearchError {
    SearchError::Parsing(format!("[{query}] query does not support [{key}]"))
}

/// `[query] query parameter [key] is not supported`: OpenSearch knows it, tandem does not.
pub(crate) fn unsupported_param(query: &str, key: &str) -> SearchError {
    SearchError::Parsing(format!(
        "[{query}] query parameter [{key}] is not supported"
    ))
}

/// The body of a query that must be an object.
pub(crate) fn object<'a>(
    query: &str,
    json: &'a Value,
) -> Result<&'a Map<String, Value>, SearchError> {
    json.as_object().ok_or_else(|| {
        SearchError::Parsing(format!(
            "[{query}] query malformed, no start_object after query name"
        ))
    })
}

/// The single `field: body` entry of a single-field query (`term`, `match`, `range` ...).
pub(crate) fn single_field<'a>(
    query: &str,
    json: &'a Value,
) -> Result<(&'a str, &'a Value), SearchError> {
    let body = object(query, json)?;
    let mut entries = body.iter();
    let Some((field, value)) = entries.next() else {
        return Err(SearchError::Parsing(format!(
            "[{query}] query malformed, no field to search"
        )));
    };
    if let Some((other, _)) = entries.next() {
        return Err(SearchError::Parsing(format!(
            "[{query}] query doesn't support multiple fields, found [{field}] and [{other}]"
        )));
    }
    Ok((field.as_str(), value))
}

/// A scalar value (string, number, boolean).
pub(crate) fn scalar(query: &str, key: &str, value: &Value) -> Result<Scalar, SearchError> {
    match value {
        Value::String(text) => Ok(Scalar::Str(text.clone())),
        Value::Bool(flag) => Ok(Scalar::Bool(*flag)),
        Value::Number(number) => Ok(match number.as_i64() {
            Some(whole) => Scalar::Int(whole),
            None => Scalar::Float(number.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::Null => Err(SearchError::IllegalArgument(format!(
            "[{query}] query: [{key}] cannot be null"
        ))),
        _ => Err(SearchError::Parsing(format!(
            "[{query}] query does not support an array or object as [{key}]"
        ))),
    }
}

/// A float parameter given as a number or numeric string (`boost`, `tie_breaker`).
pub(crate) fn float(query: &str, key: &str, value: &Value) -> Result<f32, SearchError> {
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(number) if number.is_finite() => Ok(number as f32),
        _ => Err(SearchError::Parsing(format!(
            "[{query}] query: [{key}] must be a number, found [{}]",
            plain(value)
        ))),
    }
}

/// A boost: a finite, non-negative float.
pub(crate) fn boost(query: &str, value: &Value) -> Result<f32, SearchError> {
    let boost = float(query, "boost", value)?;
    if boost < 0.0 {
        return Err(SearchError::IllegalArgument(format!(
            "negative [boost] are not allowed in [{query}]"
        )));
    }
    Ok(boost)
}

/// A non-negative integer parameter given as a number or numeric string (`slop`).
pub(crate) fn unsigned(query: &str, key: &str, value: &Value) -> Result<u32, SearchError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .and_then(|number| u32::try_from(number).ok())
        .ok_or_else(|| {
            SearchError::Parsing(format!(
                "[{query}] query: [{key}] must be a non-negative integer, found [{}]",
                plain(value)
            ))
        })
}

/// A boolean parameter given as a boolean or `"true"`/`"false"`.
pub(crate) fn boolean(query: &str, key: &str, value: &Value) -> Result<bool, SearchError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        other => Err(SearchError::Parsing(format!(
            "[{query}] query: failed to parse [{key}]: Failed to parse value [{}] as only [true] or [false] are allowed.",
            plain(other)
        ))),
    }
}

/// A string parameter.
pub(crate) fn string(query: &str, key: &str, value: &Value) -> Result<String, SearchError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(SearchError::Parsing(format!(
            "[{query}] query: [{key}] must be a string, found [{}]",
            plain(other)
        ))),
    }
}

/// `operator` / `default_operator`: `or` or `and`, any case.
pub(crate) fn operator(query: &str, value: &Value) -> Result<Operator, SearchError> {
    let text = string(query, "operator", value)?;
    match text.to_ascii_lowercase().as_str() {
        "or" => Ok(Operator::Or),
        "and" => Ok(Operator::And),
        _ => Err(SearchError::IllegalArgument(format!(
            "operator needs to be either [and] or [or], but not [{text}]"
        ))),
    }
}

/// `minimum_should_match`: an integer, or a string holding an integer or a percentage.
/// OpenSearch's combinations (`3<90%`) are refused rather than misread.
pub(crate) fn minimum_should_match(
    query: &str,
    value: &Value,
) -> Result<MinimumShouldMatch, SearchError> {
    let invalid = || {
        SearchError::Parsing(format!(
            "[{query}] query: unsupported [minimum_should_match] value [{}], expected an integer or a percentage",
            plain(value)
        ))
    };
    match value {
        Value::Number(number) => number
            .as_i64()
            .map(MinimumShouldMatch::Count)
            .ok_or_else(invalid),
        Value::String(text) => {
            let text = text.trim();
            if let Some(percent) = text.strip_suffix('%') {
                percent
                    .trim()
                    .parse::<i64>()
                    .map(MinimumShouldMatch::Percent)
                    .map_err(|_| invalid())
            } else {
                text.parse::<i64>()
                    .map(MinimumShouldMatch::Count)
                    .map_err(|_| invalid())
            }
        }
        _ => Err(invalid()),
    }
}

/// `zero_terms_query`: `none` or `all`.
pub(crate) fn zero_terms(query: &str, value: &Value) -> Result<ZeroTerms, SearchError> {
    let text = string(query, "zero_terms_query", value)?;
    match text.to_ascii_lowercase().as_str() {
        "none" => Ok(ZeroTerms::None),
        "all" => Ok(ZeroTerms::All),
        _ => Err(SearchError::Parsing(format!(
            "[{query}] query: unsupported zero_terms_query value [{text}]"
        ))),
    }
}

/// `analyzer`: the analysers tandem has; anything else is an error, not a silent substitute.
pub(crate) fn analyzer(query: &str, value: &Value) -> Result<Analyzer, SearchError> {
    let name = string(query, "analyzer", value)?;
    match name.as_str() {
        "standard" | "default" | "simple" => Ok(Analyzer::Default),
        "keyword" => Ok(Analyzer::Keyword),
        "whitespace" => Ok(Analyzer::Whitespace),
        _ => Err(SearchError::Parsing(format!(
            "[{query}] analyzer [{name}] not found"
        ))),
    }
}

/// `fuzziness`: only "no fuzziness" is accepted.
pub(crate) fn no_fuzziness(query: &str, value: &Value) -> Result<(), SearchError> {
    match value {
        Value::Number(number) if number.as_f64() == Some(0.0) => Ok(()),
        Value::String(text) if text == "0" => Ok(()),
        _ => Err(unsupported_param(query, "fuzziness")),
    }
}

/// A JSON value as OpenSearch quotes it in messages: strings without quotes.
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Splits `title^2` into the field and its boost.
pub(crate) fn field_with_boost(query: &str, text: &str) -> Result<(String, f32), SearchError> {
    match text.rsplit_once('^') {
        Some((field, boost)) => {
            let parsed = boost
                .parse::<f32>()
                .ok()
                .filter(|b| b.is_finite() && *b >= 0.0);
            let boost = parsed.ok_or_else(|| {
                SearchError::Parsing(format!("[{query}] query: invalid boost in field [{text}]"))
            })?;
            Ok((field.to_string(), boost))
        }
        None => Ok((text.to_string(), crate::ast::BOOST_DEFAULT)),
    }
}

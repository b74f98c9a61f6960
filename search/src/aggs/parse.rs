//! Parsing `aggs` / `aggregations` JSON into [`AggRequest`]s.
//!
//! Unknown aggregation types fail with `Unknown aggregation type [x]`, unknown parameters with
//! `[type] unknown field [x]`, and parameters tandem does not implement name themselves. This
//! module must never look at a mapping.

use serde_json::{Map, Value};

use super::{AggKind, AggRequest, BucketOrder, HistogramAgg, MetricKind, TermsAgg};
use crate::dsl::params_plain as plain;
use crate::error::SearchError;
use crate::limits::{AGG_BUCKETS_MAX, AGG_DEPTH_MAX, TERMS_AGG_SIZE_DEFAULT};

/// Parses the value of `aggs`.
pub(crate) fn parse_aggs(json: &Value) -> Result<Vec<AggRequest>, SearchError> {
    parse_level(json, 0)
}

fn parse_level(json: &Value, depth: usize) -> Result<Vec<AggRequest>, SearchError> {
    if depth >= AGG_DEPTH_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "aggregations are nested more than [{AGG_DEPTH_MAX}] levels deep"
        )));
    }
    let Value::Object(named) = json else {
        return Err(SearchError::Parsing(
            "Aggregation definition must be an object".into(),
        ));
    };
    named
        .iter()
        .map(|(name, body)| parse_one(name, body, depth))
        .collect()
}

fn parse_one(name: &str, body: &Value, depth: usize) -> Result<AggRequest, SearchError> {
    if name.contains(['[', ']', '>']) {
        return Err(SearchError::Parsing(format!(
            "Invalid aggregation name [{name}]. Aggregation names can contain any character except '[', ']', and '>'"
        )));
    }
    let Value::Object(object) = body else {
        return Err(SearchError::Parsing(format!(
            "Expected [START_OBJECT] under [{name}], but got a [{}] in [{name}]",
            crate::request::token_name(body)
        )));
    };
    let mut kind = None;
    let mut subs = Vec::new();
    let mut meta = None;
    for (key, value) in object {
        match key.as_str() {
            "aggs" | "aggregations" => subs = parse_level(value, depth + 1)?,
            "meta" => meta = Some(value.clone()),
            type_name => {
                if let Some((previous, _)) = &kind {
                    return Err(SearchError::Parsing(format!(
                        "Found two aggregation type definitions in [{name}]: [{previous}] and [{type_name}]"
                    )));
                }
                kind = Some((type_name.to_string(), parse_kind(name, type_name, value)?));
            }
        }
    }
    let (type_name, kind) = kind.ok_or_else(|| {
        SearchError::Parsing(format!("Missing definition for aggregation [{name}]"))
    })?;
    if matches!(kind, AggKind::Metric { .. }) && !subs.is_empty() {
        return Err(SearchError::Parsing(format!(
            "Aggregator [{name}] of type [{type_name}] cannot accept sub-aggregations"
        )));
    }
    Ok(AggRequest {
        name: name.to_string(),
        kind,
        subs,
        meta,
    })
}

fn parse_kind(name: &str, type_name: &str, body: &Value) -> Result<AggKind, SearchError> {
    let Value::Object(params) = body else {
        return Err(SearchError::Parsing(format!(
            "[{type_name}] aggregation [{name}] must be an object"
        )));
    };
    let metric = match type_name {
        "min" => Some(MetricKind::Min),
        "max" => Some(MetricKind::Max),
        "avg" => Some(MetricKind::Avg),
        "sum" => Some(MetricKind::Sum),
        "value_count" => Some(MetricKind::ValueCount),
        "stats" => Some(MetricKind::Stats),
        _ => None,
    };
    if let Some(metric) = metric {
        return metric_agg(type_name, metric, params);
    }
    match type_name {
        "terms" => terms_agg(name, params).map(AggKind::Terms),
        "histogram" => histogram_agg(name, params).map(AggKind::Histogram),
        "date_histogram" => {
            super::parse_dates::date_histogram_agg(name, params).map(AggKind::DateHistogram)
        }
        unknown => Err(SearchError::Parsing(format!(
            "Unknown aggregation type [{unknown}]"
        ))),
    }
}

pub(super) fn unknown_field(type_name: &str, key: &str) -> SearchError {
    SearchError::XContentParse(format!("[{type_name}] unknown field [{key}]"))
}

pub(super) fn unsupported(type_name: &str, key: &str) -> SearchError {
    SearchError::Parsing(format!(
        "[{type_name}] aggregation parameter [{key}] is not supported"
    ))
}

pub(super) fn required_field(field: Option<String>) -> Result<String, SearchError> {
    field.ok_or_else(|| {
        SearchError::IllegalArgument(
            "Required one of fields [field, script], but none were specified.".into(),
        )
    })
}

pub(super) fn text(type_name: &str, key: &str, value: &Value) -> Result<String, SearchError> {
    value.as_str().map(str::to_string).ok_or_else(|| {
        SearchError::XContentParse(format!(
            "[{type_name}] failed to parse field [{key}]: expected a string, found [{}]",
            plain(value)
        ))
    })
}

fn number(type_name: &str, key: &str, value: &Value) -> Result<f64, SearchError> {
    let parsed = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed.filter(|n| n.is_finite()).ok_or_else(|| {
        SearchError::XContentParse(format!(
            "[{type_name}] failed to parse field [{key}]: expected a number, found [{}]",
            plain(value)
        ))
    })
}

pub(super) fn count(type_name: &str, key: &str, value: &Value) -> Result<u64, SearchError> {
    let parsed = number(type_name, key, value)?;
    if parsed < 0.0 || parsed.fract() != 0.0 {
        return Err(SearchError::IllegalArgument(format!(
            "[{key}] must be a non-negative integer in [{type_name}], found [{}]",
            plain(value)
        )));
    }
    Ok(parsed as u64)
}

fn metric_agg(
    type_name: &str,
    metric: MetricKind,
    params: &Map<String, Value>,
) -> Result<AggKind, SearchError> {
    let mut field = None;
    for (key, value) in params {
        match key.as_str() {
            "field" => field = Some(text(type_name, key, value)?),
            "format" | "value_type" => {}
            "missing" | "script" => return Err(unsupported(type_name, key)),
            unknown => return Err(unknown_field(type_name, unknown)),
        }
    }
    Ok(AggKind::Metric {
        metric,
        field: required_field(field)?,
    })
}

fn terms_agg(name: &str, params: &Map<String, Value>) -> Result<TermsAgg, SearchError> {
    const TYPE: &str = "terms";
    let mut agg = TermsAgg {
        field: String::new(),
        size: TERMS_AGG_SIZE_DEFAULT,
        shard_size: None,
        min_doc_count: 1,
        order: BucketOrder::Count { descending: true },
    };
    let mut field = None;
    for (key, value) in params {
        match key.as_str() {
            "field" => field = Some(text(TYPE, key, value)?),
            "size" => agg.size = bucket_count(TYPE, name, key, value)?,
            "shard_size" => agg.shard_size = Some(bucket_count(TYPE, name, key, value)?),
            "min_doc_count" => agg.min_doc_count = count(TYPE, key, value)?,
            "order" => agg.order = order(TYPE, value)?,
            "shard_min_doc_count"
            | "show_term_doc_count_error"
            | "execution_hint"
            | "collect_mode"
            | "value_type"
            | "format" => {}
            "missing" | "script" | "include" | "exclude" => return Err(unsupported(TYPE, key)),
            unknown => return Err(unknown_field(TYPE, unknown)),
        }
    }
    agg.field = required_field(field)?;
    if agg.min_doc_count == 0 {
        return Err(unsupported(TYPE, "min_doc_count: 0"));
    }
    Ok(agg)
}

fn bucket_count(
    type_name: &str,
    name: &str,
    key: &str,
    value: &Value,
) -> Result<usize, SearchError> {
    let parsed = count(type_name, key, value)?;
    if parsed == 0 {
        return Err(SearchError::IllegalArgument(format!(
            "[{key}] must be greater than 0. Found [0] in [{name}]"
        )));
    }
    Ok(usize::try_from(parsed)
        .unwrap_or(usize::MAX)
        .min(AGG_BUCKETS_MAX))
}

/// `order`: `{"_count": "desc"}`, `{"_key": "asc"}`, `{"metric": "desc"}`, or a one-element
/// array of these (multi-criteria orders are refused).
pub(super) fn order(type_name: &str, value: &Value) -> Result<BucketOrder, SearchError> {
    let object = match value {
        Value::Object(object) => object,
        Value::Array(items) if items.len() == 1 => return order(type_name, &items[0]),
        _ => return Err(unsupported(type_name, "order")),
    };
    let mut entries = object.iter();
    let (Some((key, direction)), None) = (entries.next(), entries.next()) else {
        return Err(unsupported(type_name, "order"));
    };
    let descending = match direction.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("asc") => false,
        Some("desc") => true,
        _ => {
            return Err(SearchError::Parsing(format!(
                "Unknown order direction [{}]",
                plain(direction)
            )))
        }
    };
    Ok(match key.as_str() {
        "_count" => BucketOrder::Count { descending },
        "_key" | "_term" | "_time" => BucketOrder::Key { descending },
        metric => BucketOrder::Metric {
            name: metric.to_string(),
            descending,
        },
    })
}

fn histogram_agg(name: &str, params: &Map<String, Value>) -> Result<HistogramAgg, SearchError> {
    const TYPE: &str = "histogram";
    let mut agg = HistogramAgg {
        field: String::new(),
        interval: 0.0,
        offset: 0.0,
        min_doc_count: 0,
        extended_bounds: None,
        order: BucketOrder::Key { descending: false },
    };
    let mut field = None;
    for (key, value) in params {
        match key.as_str() {
            "field" => field = Some(text(TYPE, key, value)?),
            "interval" => agg.interval = number(TYPE, key, value)?,
            "offset" => agg.offset = number(TYPE, key, value)?,
            "min_doc_count" => agg.min_doc_count = count(TYPE, key, value)?,
            "extended_bounds" => {
                let bounds = value.as_object().ok_or_else(|| unsupported(TYPE, key))?;
                let end = |k: &str| bounds.get(k).map(|v| number(TYPE, k, v)).transpose();
                agg.extended_bounds = match (end("min")?, end("max")?) {
                    (Some(min), Some(max)) => Some((min, max)),
                    _ => return Err(unsupported(TYPE, "extended_bounds without min and max")),
                };
            }
            "order" => agg.order = order(TYPE, value)?,
            "format" => {}
            "keyed" | "missing" | "script" | "hard_bounds" => return Err(unsupported(TYPE, key)),
            unknown => return Err(unknown_field(TYPE, unknown)),
        }
    }
    agg.field = required_field(field)?;
    if agg.interval <= 0.0 {
        return Err(SearchError::IllegalArgument(format!(
            "[interval] must be >0 for histogram aggregation [{name}]"
        )));
    }
    Ok(agg)
}

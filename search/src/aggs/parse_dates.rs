//! Parsing `date_histogram`: its intervals (`fixed_interval`, `calendar_interval`, the legacy
//! `interval`), `offset`, `time_zone` and `extended_bounds`. This module must never look at a
//! mapping.

use serde_json::{Map, Value};

use super::parse::{count, order, required_field, text, unknown_field, unsupported};
use super::{BucketOrder, DateHistogramAgg, DateInterval};
use crate::datemath::parse_time_zone;
use crate::dates::CalendarUnit;
use crate::dsl::params_plain as plain;
use crate::error::SearchError;

pub(super) fn date_histogram_agg(
    name: &str,
    params: &Map<String, Value>,
) -> Result<DateHistogramAgg, SearchError> {
    const TYPE: &str = "date_histogram";
    let mut agg = DateHistogramAgg {
        field: String::new(),
        interval: DateInterval::Fixed(1),
        offset_millis: 0,
        zone_offset_millis: 0,
        min_doc_count: 0,
        format: None,
        extended_bounds: None,
        order: BucketOrder::Key { descending: false },
    };
    let mut field = None;
    let mut interval = None;
    for (key, value) in params {
        match key.as_str() {
            "field" => field = Some(text(TYPE, key, value)?),
            "fixed_interval" => interval = Some(fixed_interval(&text(TYPE, key, value)?)?),
            "calendar_interval" => interval = Some(calendar_interval(&text(TYPE, key, value)?)?),
            "interval" => interval = Some(legacy_interval(value)?),
            "offset" => agg.offset_millis = signed_duration(&text(TYPE, key, value)?)?,
            "time_zone" => {
                let zone = text(TYPE, key, value)?;
                agg.zone_offset_millis =
                    parse_time_zone(&zone).map_err(SearchError::IllegalArgument)?;
            }
            "min_doc_count" => agg.min_doc_count = count(TYPE, key, value)?,
            "format" => agg.format = Some(text(TYPE, key, value)?),
            "extended_bounds" => agg.extended_bounds = Some(date_bounds(value)?),
            "order" => agg.order = order(TYPE, value)?,
            "keyed" | "missing" | "script" | "hard_bounds" => return Err(unsupported(TYPE, key)),
            unknown => return Err(unknown_field(TYPE, unknown)),
        }
    }
    agg.field = required_field(field)?;
    agg.interval = interval.ok_or_else(|| {
        SearchError::IllegalArgument(format!(
            "Required one of fields [fixed_interval, calendar_interval, interval] for date_histogram aggregation [{name}]"
        ))
    })?;
    Ok(agg)
}

fn date_bounds(value: &Value) -> Result<(crate::ast::Scalar, crate::ast::Scalar), SearchError> {
    let invalid = || unsupported("date_histogram", "extended_bounds without min and max");
    let bounds = value.as_object().ok_or_else(invalid)?;
    let end = |key: &str| -> Result<crate::ast::Scalar, SearchError> {
        let value = bounds.get(key).ok_or_else(invalid)?;
        crate::dsl::params_scalar("date_histogram", key, value)
    };
    Ok((end("min")?, end("max")?))
}

/// `30s`, `5m`, `1h`, `2d`, `500ms` (no calendar units), in millis.
pub(super) fn fixed_interval(text: &str) -> Result<DateInterval, SearchError> {
    duration_millis(text)
        .filter(|millis| *millis > 0)
        .map(DateInterval::Fixed)
        .ok_or_else(|| {
            SearchError::IllegalArgument(format!(
                "failed to parse setting [date_histogram.fixedInterval] with value [{text}] as a time value: unit is missing or unrecognized"
            ))
        })
}

fn calendar_interval(text: &str) -> Result<DateInterval, SearchError> {
    CalendarUnit::from_interval(text)
        .map(DateInterval::Calendar)
        .ok_or_else(|| {
            SearchError::IllegalArgument(format!(
                "The supplied interval [{text}] could not be parsed as a calendar interval."
            ))
        })
}

/// The deprecated `interval`: a calendar unit when it names one, else fixed (also millis).
fn legacy_interval(value: &Value) -> Result<DateInterval, SearchError> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .filter(|millis| *millis > 0)
            .map(DateInterval::Fixed)
            .ok_or_else(|| SearchError::IllegalArgument(format!("Invalid interval [{number}]"))),
        Value::String(text) => match CalendarUnit::from_interval(text) {
            Some(unit) => Ok(DateInterval::Calendar(unit)),
            None => fixed_interval(text),
        },
        other => Err(SearchError::IllegalArgument(format!(
            "Invalid interval [{}]",
            plain(other)
        ))),
    }
}

fn duration_millis(text: &str) -> Option<i64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let amount: i64 = text[..digits_end].parse().ok()?;
    let unit_millis = match &text[digits_end..] {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    amount.checked_mul(unit_millis)
}

fn signed_duration(text: &str) -> Result<i64, SearchError> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    duration_millis(rest)
        .map(|millis| sign * millis)
        .ok_or_else(|| {
            SearchError::IllegalArgument(format!("failed to parse [offset] value [{text}]"))
        })
}

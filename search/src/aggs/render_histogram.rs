//! Rendering `histogram` and `date_histogram` buckets: empty buckets filled between the first
//! and last key (and `extended_bounds`) when `min_doc_count` is 0, keys printed as doubles or
//! as epoch millis with `key_as_string` in the requested format and zone. This module must
//! never read columns.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tandem_storage::mapping::DateFormat;

use super::collect::{date_bucket, next_date_bucket};
use super::merge::{sort_buckets, Bucket, Buckets, Key};
use super::plan::ValueStyle;
use super::render::{bucket_json, empty_bucket, key_fields, RenderContext};
use super::{AggRequest, BucketOrder, DateHistogramAgg, HistogramAgg};
use crate::ast::Scalar;
use crate::datemath::{parse_date_math, DateMathContext};
use crate::dates::format_in_zone;
use crate::error::SearchError;
use crate::limits::AGG_BUCKETS_MAX;

/// Buckets in key order, with empty ones filled over `[first, last]` when `fill` is set.
fn filled(
    map: BTreeMap<Key, Bucket>,
    fill: Option<(Key, Key)>,
    next: impl Fn(&Key) -> Key,
    request: &AggRequest,
) -> Result<Vec<(Key, Bucket)>, SearchError> {
    let Some((first, last)) = fill else {
        return Ok(map.into_iter().collect());
    };
    let mut map = map;
    let mut out = Vec::new();
    let mut key = first;
    while key <= last {
        if out.len() >= AGG_BUCKETS_MAX {
            let cause = super::collect::too_many_buckets(out.len() + 1);
            return Err(SearchError::TooManyBuckets(cause.reason));
        }
        let bucket = map.remove(&key).unwrap_or_else(|| empty_bucket(request));
        let following = next(&key);
        out.push((key, bucket));
        key = following;
    }
    // Buckets outside the filled range (none when the range covers the data) keep their place.
    out.extend(map);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn finish_histogram(
    ordered: Vec<(Key, Bucket)>,
    zone_millis: i64,
    min_doc_count: u64,
    order: &BucketOrder,
    style: &ValueStyle,
    request: &AggRequest,
    context: &mut RenderContext,
) -> Result<Map<String, Value>, SearchError> {
    let mut ordered: Vec<(Key, Bucket)> = ordered
        .into_iter()
        .filter(|(_, b)| b.doc_count >= min_doc_count)
        .collect();
    if *order != (BucketOrder::Key { descending: false }) {
        sort_buckets(&mut ordered, order, &request.subs);
    }
    context.count_buckets(ordered.len())?;
    let mut rendered = Vec::with_capacity(ordered.len());
    for (key, bucket) in ordered {
        let mut object = Map::new();
        match (&key, style) {
            (Key::Long(millis), ValueStyle::Date { format }) => {
                object.insert(
                    "key_as_string".into(),
                    Value::from(format_in_zone(*millis, format, zone_millis)),
                );
                object.insert("key".into(), Value::from(*millis));
            }
            _ => key_fields(&key, style, &mut object),
        }
        rendered.push(bucket_json(object, bucket, request, context)?);
    }
    let mut object = Map::new();
    object.insert("buckets".into(), Value::Array(rendered));
    Ok(object)
}

pub(super) fn render_histogram(
    histogram: &HistogramAgg,
    request: &AggRequest,
    buckets: Buckets,
    context: &mut RenderContext,
) -> Result<Map<String, Value>, SearchError> {
    let bucket_of = |value: f64| {
        ((value - histogram.offset) / histogram.interval).floor() * histogram.interval
            + histogram.offset
    };
    let index_of = |key: &Key| match key {
        Key::Double(value) => ((value - histogram.offset) / histogram.interval).round(),
        _ => 0.0,
    };
    let mut fill = None;
    if histogram.min_doc_count == 0 {
        let data = buckets
            .map
            .keys()
            .next()
            .zip(buckets.map.keys().next_back())
            .map(|(a, b)| (index_of(a), index_of(b)));
        let bounds = histogram.extended_bounds.map(|(min, max)| {
            (
                index_of(&Key::Double(bucket_of(min))),
                index_of(&Key::Double(bucket_of(max))),
            )
        });
        let range = match (data, bounds) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (data, bounds) => data.or(bounds),
        };
        if let Some((first, last)) = range {
            if last - first >= AGG_BUCKETS_MAX as f64 {
                let cause = super::collect::too_many_buckets((last - first) as usize + 1);
                return Err(SearchError::TooManyBuckets(cause.reason));
            }
            let key_at = |index: f64| Key::Double(index * histogram.interval + histogram.offset);
            fill = Some((key_at(first), key_at(last)));
        }
    }
    let next =
        |key: &Key| Key::Double((index_of(key) + 1.0) * histogram.interval + histogram.offset);
    let ordered = filled(buckets.map, fill, next, request)?;
    finish_histogram(
        ordered,
        0,
        histogram.min_doc_count,
        &histogram.order,
        &ValueStyle::Double,
        request,
        context,
    )
}

pub(super) fn render_date_histogram(
    histogram: &DateHistogramAgg,
    request: &AggRequest,
    buckets: Buckets,
    context: &mut RenderContext,
) -> Result<Map<String, Value>, SearchError> {
    let field_format = match &buckets.style {
        ValueStyle::Date { format } => format.clone(),
        _ => tandem_storage::mapping::date::DEFAULT_DATE_FORMAT.to_string(),
    };
    let style = ValueStyle::Date {
        format: histogram
            .format
            .clone()
            .unwrap_or_else(|| field_format.clone()),
    };
    let (interval, offset, zone) = (
        histogram.interval,
        histogram.offset_millis,
        histogram.zone_offset_millis,
    );
    let mut fill = None;
    if histogram.min_doc_count == 0 {
        let key_millis = |key: Option<&Key>| match key {
            Some(Key::Long(millis)) => Some(*millis),
            _ => None,
        };
        let data =
            key_millis(buckets.map.keys().next()).zip(key_millis(buckets.map.keys().next_back()));
        let bounds = match &histogram.extended_bounds {
            Some((min, max)) => {
                let format = DateFormat::parse(&field_format)
                    .unwrap_or_else(|_| DateFormat::default_format());
                let min = bound_millis(min, &format, context.now_millis, false)?;
                let max = bound_millis(max, &format, context.now_millis, true)?;
                Some((
                    date_bucket(min, interval, offset, zone),
                    date_bucket(max, interval, offset, zone),
                ))
            }
            None => None,
        };
        let range = match (data, bounds) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (data, bounds) => data.or(bounds),
        };
        fill = range.map(|(first, last)| (Key::Long(first), Key::Long(last)));
    }
    let next = |key: &Key| match key {
        Key::Long(start) => Key::Long(next_date_bucket(*start, interval, offset, zone)),
        other => other.clone(),
    };
    let ordered = filled(buckets.map, fill, next, request)?;
    finish_histogram(
        ordered,
        zone,
        histogram.min_doc_count,
        &histogram.order,
        &style,
        request,
        context,
    )
}

fn bound_millis(
    value: &Scalar,
    format: &DateFormat,
    now_millis: i64,
    round_up: bool,
) -> Result<i64, SearchError> {
    match value {
        Scalar::Int(millis) => Ok(*millis),
        Scalar::Float(millis) => Ok(*millis as i64),
        Scalar::Str(text) => {
            let context = DateMathContext {
                now_millis,
                round_up,
                zone_offset_millis: 0,
            };
            parse_date_math(text, format, context).map_err(SearchError::IllegalArgument)
        }
        Scalar::Bool(flag) => Err(SearchError::IllegalArgument(format!(
            "invalid extended_bounds value [{flag}]"
        ))),
    }
}

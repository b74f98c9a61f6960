//! Final aggregation results in OpenSearch's shapes: `{"value": ..}` for metrics (`null` when
//! no value), `buckets` with typed `key`, `key_as_string` and `doc_count` for bucket
//! aggregations, `doc_count_error_upper_bound` and `sum_other_doc_count` for `terms`, empty
//! buckets filled between the first and last histogram bucket when `min_doc_count` is 0.
//!
//! Rendering counts every bucket it prints against `AGG_BUCKETS_MAX`. This module must never
//! read columns.

use serde_json::{Map, Value};

use super::merge::{sort_buckets, AggValue, Bucket, Buckets, Key, MetricAcc};
use super::plan::ValueStyle;
use super::{AggKind, AggRequest, MetricKind, TermsAgg};
use crate::dates::format_date;
use crate::error::SearchError;
use crate::limits::AGG_BUCKETS_MAX;

/// What rendering needs besides the values.
pub(crate) struct RenderContext {
    pub(crate) typed_keys: bool,
    pub(crate) now_millis: i64,
    buckets: usize,
}

impl RenderContext {
    pub(crate) fn new(typed_keys: bool, now_millis: i64) -> RenderContext {
        RenderContext {
            typed_keys,
            now_millis,
            buckets: 0,
        }
    }

    pub(super) fn count_buckets(&mut self, count: usize) -> Result<(), SearchError> {
        self.buckets += count;
        if self.buckets > AGG_BUCKETS_MAX {
            let cause = super::collect::too_many_buckets(self.buckets);
            return Err(SearchError::TooManyBuckets(cause.reason));
        }
        Ok(())
    }
}

/// Renders the merged aggregations, in request order.
pub(crate) fn render_aggs(
    requests: &[AggRequest],
    values: Vec<AggValue>,
    context: &mut RenderContext,
) -> Result<Value, SearchError> {
    let mut object = Map::new();
    for (request, value) in requests.iter().zip(values) {
        let name = if context.typed_keys {
            format!("{}#{}", typed_prefix(request, &value), request.name)
        } else {
            request.name.clone()
        };
        object.insert(name, render_node(request, value, context)?);
    }
    Ok(Value::Object(object))
}

fn typed_prefix(request: &AggRequest, value: &AggValue) -> &'static str {
    match (&request.kind, value) {
        (AggKind::Metric { metric, .. }, _) => metric.name(),
        (AggKind::Histogram(_), _) => "histogram",
        (AggKind::DateHistogram(_), _) => "date_histogram",
        (AggKind::Terms(_), AggValue::Buckets(buckets)) => match buckets.style {
            ValueStyle::Keyword => "sterms",
            ValueStyle::Double => "dterms",
            ValueStyle::Unmapped => "umterms",
            _ => "lterms",
        },
        (AggKind::Terms(_), AggValue::Metric(_)) => "sterms",
    }
}

fn render_node(
    request: &AggRequest,
    value: AggValue,
    context: &mut RenderContext,
) -> Result<Value, SearchError> {
    let mut object = Map::new();
    if let Some(meta) = &request.meta {
        object.insert("meta".into(), meta.clone());
    }
    let body = match (&request.kind, value) {
        (AggKind::Metric { metric, .. }, AggValue::Metric(acc)) => render_metric(*metric, &acc),
        (AggKind::Terms(terms), AggValue::Buckets(buckets)) => {
            render_terms(terms, request, buckets, context)?
        }
        (AggKind::Histogram(histogram), AggValue::Buckets(buckets)) => {
            super::render_histogram::render_histogram(histogram, request, buckets, context)?
        }
        (AggKind::DateHistogram(histogram), AggValue::Buckets(buckets)) => {
            super::render_histogram::render_date_histogram(histogram, request, buckets, context)?
        }
        // Values are built from the same request tree, so kinds always agree.
        _ => Map::new(),
    };
    object.extend(body);
    Ok(Value::Object(object))
}

fn number(value: Option<f64>) -> Value {
    value.map_or(Value::Null, Value::from)
}

fn render_metric(metric: MetricKind, acc: &MetricAcc) -> Map<String, Value> {
    let mut object = Map::new();
    let date_format = match &acc.style {
        ValueStyle::Date { format } => Some(format.as_str()),
        _ => None,
    };
    if metric == MetricKind::Stats {
        object.insert("count".into(), Value::from(acc.count));
        for (name, kind) in [
            ("min", MetricKind::Min),
            ("max", MetricKind::Max),
            ("avg", MetricKind::Avg),
            ("sum", MetricKind::Sum),
        ] {
            object.insert(name.into(), number(acc.value(kind)));
        }
        return object;
    }
    if metric == MetricKind::ValueCount {
        object.insert("value".into(), Value::from(acc.count));
        return object;
    }
    let value = acc.value(metric);
    object.insert("value".into(), number(value));
    if let (Some(value), Some(format), MetricKind::Min | MetricKind::Max | MetricKind::Avg) =
        (value, date_format, metric)
    {
        object.insert(
            "value_as_string".into(),
            Value::from(format_date(value as i64, format)),
        );
    }
    object
}

/// `key` (and `key_as_string` where OpenSearch prints one) of a bucket.
pub(super) fn key_fields(key: &Key, style: &ValueStyle, object: &mut Map<String, Value>) {
    match (key, style) {
        (Key::Str(text), _) => {
            object.insert("key".into(), Value::from(text.clone()));
        }
        (Key::Double(number), _) => {
            object.insert("key".into(), Value::from(*number));
        }
        (Key::Long(number), ValueStyle::Boolean) => {
            object.insert("key".into(), Value::from(*number));
            object.insert(
                "key_as_string".into(),
                Value::from(if *number != 0 { "true" } else { "false" }),
            );
        }
        (Key::Long(millis), ValueStyle::Date { format }) => {
            object.insert("key".into(), Value::from(*millis));
            object.insert(
                "key_as_string".into(),
                Value::from(format_date(*millis, format)),
            );
        }
        (Key::Long(number), _) => {
            object.insert("key".into(), Value::from(*number));
        }
    }
}

pub(super) fn bucket_json(
    mut object: Map<String, Value>,
    bucket: Bucket,
    request: &AggRequest,
    context: &mut RenderContext,
) -> Result<Value, SearchError> {
    object.insert("doc_count".into(), Value::from(bucket.doc_count));
    let subs = render_aggs(&request.subs, bucket.subs, context)?;
    if let Value::Object(subs) = subs {
        object.extend(subs);
    }
    Ok(Value::Object(object))
}

pub(super) fn empty_bucket(request: &AggRequest) -> Bucket {
    Bucket {
        doc_count: 0,
        subs: request
            .subs
            .iter()
            .map(|sub| AggValue::empty(sub, ValueStyle::Unmapped))
            .collect(),
    }
}

fn render_terms(
    terms: &TermsAgg,
    request: &AggRequest,
    buckets: Buckets,
    context: &mut RenderContext,
) -> Result<Map<String, Value>, SearchError> {
    let bucketed: u64 = buckets.map.values().map(|b| b.doc_count).sum();
    let mut ordered: Vec<(Key, Bucket)> = buckets
        .map
        .into_iter()
        .filter(|(_, b)| b.doc_count >= terms.min_doc_count)
        .collect();
    sort_buckets(&mut ordered, &terms.order, &request.subs);
    ordered.truncate(terms.size);
    context.count_buckets(ordered.len())?;
    let returned: u64 = ordered.iter().map(|(_, b)| b.doc_count).sum();
    let mut rendered = Vec::with_capacity(ordered.len());
    for (key, bucket) in ordered {
        let mut object = Map::new();
        key_fields(&key, &buckets.style, &mut object);
        rendered.push(bucket_json(object, bucket, request, context)?);
    }
    let mut object = Map::new();
    object.insert(
        "doc_count_error_upper_bound".into(),
        Value::from(buckets.error_upper_bound),
    );
    object.insert(
        "sum_other_doc_count".into(),
        Value::from(buckets.other_doc_count + bucketed - returned),
    );
    object.insert("buckets".into(), Value::Array(rendered));
    Ok(object)
}

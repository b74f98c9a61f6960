//! Aggregations: the request tree, its parser, per-segment collection, merging across segments
//! and shards, and rendering in OpenSearch's response shapes.
//!
//! tandem computes aggregations itself over the `_kw` fast-field columns rather than through
//! tantivy's aggregation module, because OpenSearch semantics it lacks matter to clients:
//! calendar intervals and Monday weeks in `date_histogram`, typed keys (`1` vs `1.0` vs
//! `"true"`), `key_as_string` in the field's format, shard-size pruning with
//! `doc_count_error_upper_bound`, and empty-bucket filling. Flow: `parse` (pure) builds
//! [`AggRequest`]s; `plan` binds them to one shard's mapping; `collect` fills per-segment state;
//! `merge` folds segments and shards; `render` produces JSON. This module must never run the
//! query itself: it only sees matching documents.

mod collect;
mod merge;
mod parse;
mod parse_dates;
mod plan;
mod render;
mod render_histogram;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub(crate) use collect::SegmentAggs;
pub(crate) use merge::ShardAggs;
pub(crate) use merge::{merge_all, AggValue};
pub(crate) use parse::parse_aggs;
pub(crate) use plan::{plan_aggs, style_of as plan_style, AggPlan, ValueStyle};
pub(crate) use render::{render_aggs, RenderContext};

use crate::ast::Scalar;
pub use crate::dates::CalendarUnit;

/// One named aggregation with its sub-aggregations.
#[derive(Debug, Clone, PartialEq)]
pub struct AggRequest {
    /// The name the response uses.
    pub name: String,
    /// What it computes.
    pub kind: AggKind,
    /// Sub-aggregations, computed per bucket.
    pub subs: Vec<AggRequest>,
    /// `meta`, echoed back in the response.
    pub meta: Option<Value>,
}

/// The aggregation types tandem computes.
#[derive(Debug, Clone, PartialEq)]
pub enum AggKind {
    /// One value per document set.
    Metric {
        /// Which metric.
        metric: MetricKind,
        /// The dotted field path.
        field: String,
    },
    /// Buckets by distinct value.
    Terms(TermsAgg),
    /// Buckets by numeric interval.
    Histogram(HistogramAgg),
    /// Buckets by time interval.
    DateHistogram(DateHistogramAgg),
}

/// Single- and multi-value metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Smallest value (`null` when none).
    Min,
    /// Largest value (`null` when none).
    Max,
    /// Mean (`null` when none).
    Avg,
    /// Sum (0 when none).
    Sum,
    /// Number of values.
    ValueCount,
    /// count, min, max, avg and sum together.
    Stats,
}

impl MetricKind {
    /// OpenSearch's type name (also the `typed_keys` prefix).
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Min => "min",
            MetricKind::Max => "max",
            MetricKind::Avg => "avg",
            MetricKind::Sum => "sum",
            MetricKind::ValueCount => "value_count",
            MetricKind::Stats => "stats",
        }
    }
}

/// How buckets are ordered.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketOrder {
    /// By document count (ties by key ascending).
    Count {
        /// Largest first.
        descending: bool,
    },
    /// By key.
    Key {
        /// Largest first.
        descending: bool,
    },
    /// By a single-value metric sub-aggregation (ties by key ascending).
    Metric {
        /// The sub-aggregation's name.
        name: String,
        /// Largest first.
        descending: bool,
    },
}

/// A `terms` aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct TermsAgg {
    /// The dotted field path.
    pub field: String,
    /// Buckets returned.
    pub size: usize,
    /// Buckets each shard keeps before merging (`None`: OpenSearch's `size * 1.5 + 10`).
    pub shard_size: Option<usize>,
    /// Buckets with fewer documents are dropped.
    pub min_doc_count: u64,
    /// Bucket order.
    pub order: BucketOrder,
}

/// A `histogram` aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramAgg {
    /// The dotted field path.
    pub field: String,
    /// Bucket width (> 0).
    pub interval: f64,
    /// Shift of bucket boundaries.
    pub offset: f64,
    /// Buckets with fewer documents are dropped; 0 fills gaps with empty buckets.
    pub min_doc_count: u64,
    /// Range empty buckets are filled over, beyond the data.
    pub extended_bounds: Option<(f64, f64)>,
    /// Bucket order.
    pub order: BucketOrder,
}

/// A `date_histogram` interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DateInterval {
    /// A fixed number of milliseconds (`fixed_interval`).
    Fixed(i64),
    /// One calendar unit (`calendar_interval`).
    Calendar(CalendarUnit),
}

/// A `date_histogram` aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct DateHistogramAgg {
    /// The dotted field path.
    pub field: String,
    /// Bucket width.
    pub interval: DateInterval,
    /// Shift of bucket boundaries, in millis.
    pub offset_millis: i64,
    /// Fixed time zone offset, in millis east of UTC.
    pub zone_offset_millis: i64,
    /// Buckets with fewer documents are dropped; 0 fills gaps with empty buckets.
    pub min_doc_count: u64,
    /// Format of `key_as_string` (default: the field's).
    pub format: Option<String>,
    /// Range empty buckets are filled over, as written (millis or dates).
    pub extended_bounds: Option<(Scalar, Scalar)>,
    /// Bucket order.
    pub order: BucketOrder,
}

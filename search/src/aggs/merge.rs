//! Mergeable aggregation state: what a segment hands over, what a shard sums up, and how
//! shards combine, including OpenSearch's per-shard `shard_size` pruning of `terms` buckets
//! that yields `doc_count_error_upper_bound` and `sum_other_doc_count`.
//!
//! Keys here are final (strings resolved from dictionary ordinals, numbers typed). This module
//! must never read columns and never print JSON.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::plan::ValueStyle;
use super::{AggKind, AggRequest, BucketOrder, MetricKind};

/// A bucket key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    Long(i64),
    Double(f64),
    Str(String),
}

impl Eq for Key {}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Long(a), Key::Long(b)) => a.cmp(b),
            (Key::Double(a), Key::Double(b)) => a.total_cmp(b),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            (Key::Long(a), Key::Double(b)) => (*a as f64).total_cmp(b),
            (Key::Double(a), Key::Long(b)) => a.total_cmp(&(*b as f64)),
            (Key::Str(_), _) => Ordering::Greater,
            (_, Key::Str(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Running count, sum, min and max of values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricAcc {
    pub(crate) count: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) style: ValueStyle,
}

impl MetricAcc {
    pub(crate) fn new(style: ValueStyle) -> MetricAcc {
        MetricAcc {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            style,
        }
    }

    pub(crate) fn add(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    fn merge(&mut self, other: MetricAcc) {
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        if self.style == ValueStyle::Unmapped {
            self.style = other.style;
        }
    }

    /// The single value a metric reports (`None` prints as `null`).
    pub(crate) fn value(&self, metric: MetricKind) -> Option<f64> {
        match metric {
            MetricKind::ValueCount => Some(self.count as f64),
            MetricKind::Sum => Some(self.sum),
            _ if self.count == 0 => None,
            MetricKind::Min => Some(self.min),
            MetricKind::Max => Some(self.max),
            MetricKind::Avg | MetricKind::Stats => Some(self.sum / self.count as f64),
        }
    }
}

/// One bucket: its document count and its sub-aggregations (in request order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bucket {
    pub(crate) doc_count: u64,
    pub(crate) subs: Vec<AggValue>,
}

/// The buckets of a bucket aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Buckets {
    pub(crate) map: BTreeMap<Key, Bucket>,
    /// Documents in buckets shards dropped (`shard_size`).
    pub(crate) other_doc_count: u64,
    /// Upper bound of documents a dropped bucket may have missed.
    pub(crate) error_upper_bound: u64,
    pub(crate) style: ValueStyle,
}

/// The state of one aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AggValue {
    Metric(MetricAcc),
    Buckets(Buckets),
}

impl AggValue {
    /// The state of an aggregation that saw no document.
    pub(crate) fn empty(request: &AggRequest, style: ValueStyle) -> AggValue {
        match request.kind {
            AggKind::Metric { .. } => AggValue::Metric(MetricAcc::new(style)),
            _ => AggValue::Buckets(Buckets {
                map: BTreeMap::new(),
                other_doc_count: 0,
                error_upper_bound: 0,
                style,
            }),
        }
    }

    /// Folds `other` (the same aggregation elsewhere) into this one.
    pub(crate) fn merge(&mut self, other: AggValue) {
        match (self, other) {
            (AggValue::Metric(mine), AggValue::Metric(theirs)) => mine.merge(theirs),
            (AggValue::Buckets(mine), AggValue::Buckets(theirs)) => {
                mine.other_doc_count += theirs.other_doc_count;
                mine.error_upper_bound += theirs.error_upper_bound;
                if mine.style == ValueStyle::Unmapped {
                    mine.style = theirs.style;
                }
                for (key, bucket) in theirs.map {
                    match mine.map.get_mut(&key) {
                        Some(existing) => {
                            existing.doc_count += bucket.doc_count;
                            merge_all(&mut existing.subs, bucket.subs);
                        }
                        None => {
                            mine.map.insert(key, bucket);
                        }
                    }
                }
            }
            // Both sides come from the same request tree, so kinds always agree.
            _ => debug_assert!(false, "aggregation kinds differ between shards"),
        }
    }
}

/// Folds `others` into `values`, position by position.
pub(crate) fn merge_all(values: &mut [AggValue], others: Vec<AggValue>) {
    debug_assert_eq!(values.len(), others.len());
    for (value, other) in values.iter_mut().zip(others) {
        value.merge(other);
    }
}

/// One shard's aggregation state, top level in request order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ShardAggs {
    pub(crate) values: Vec<AggValue>,
}

impl ShardAggs {
    /// Applies OpenSearch's shard-level `terms` pruning before shards merge: each shard keeps
    /// its best `shard_size` buckets; the rest count as `sum_other_doc_count`, and the last
    /// kept count bounds the error of a count-ordered aggregation.
    pub(crate) fn prune_for_merge(&mut self, requests: &[AggRequest]) {
        prune_level(&mut self.values, requests);
    }
}

fn prune_level(values: &mut [AggValue], requests: &[AggRequest]) {
    for (value, request) in values.iter_mut().zip(requests) {
        let AggValue::Buckets(buckets) = value else {
            continue;
        };
        if let AggKind::Terms(terms) = &request.kind {
            let shard_size = terms
                .shard_size
                .unwrap_or(terms.size + terms.size / 2 + 10)
                .max(terms.size);
            if buckets.map.len() > shard_size {
                let mut ordered: Vec<(Key, Bucket)> =
                    std::mem::take(&mut buckets.map).into_iter().collect();
                sort_buckets(&mut ordered, &terms.order, &request.subs);
                let dropped = ordered.split_off(shard_size);
                buckets.other_doc_count += dropped.iter().map(|(_, b)| b.doc_count).sum::<u64>();
                if matches!(terms.order, BucketOrder::Count { descending: true }) {
                    buckets.error_upper_bound += ordered.last().map_or(0, |(_, b)| b.doc_count);
                }
                buckets.map = ordered.into_iter().collect();
            }
        }
        for bucket in buckets.map.values_mut() {
            prune_level(&mut bucket.subs, &request.subs);
        }
    }
}

/// Sorts buckets by `order`, ties by key ascending (OpenSearch's tie-break).
pub(crate) fn sort_buckets(
    buckets: &mut [(Key, Bucket)],
    order: &BucketOrder,
    subs: &[AggRequest],
) {
    let metric_index = match order {
        BucketOrder::Metric { name, .. } => subs.iter().position(|sub| &sub.name == name),
        _ => None,
    };
    let metric_of = |bucket: &Bucket| -> Option<f64> {
        let index = metric_index?;
        let AggKind::Metric { metric, .. } = subs[index].kind else {
            return None;
        };
        match &bucket.subs[index] {
            AggValue::Metric(acc) => acc.value(metric),
            AggValue::Buckets(_) => None,
        }
    };
    buckets.sort_by(|(key_a, a), (key_b, b)| {
        let primary = match order {
            BucketOrder::Count { descending } => {
                directed(a.doc_count.cmp(&b.doc_count), *descending)
            }
            BucketOrder::Key { descending } => directed(key_a.cmp(key_b), *descending),
            BucketOrder::Metric { descending, .. } => match (metric_of(a), metric_of(b)) {
                (Some(x), Some(y)) => directed(x.total_cmp(&y), *descending),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
        };
        primary.then_with(|| key_a.cmp(key_b))
    });
}

fn directed(ordering: Ordering, descending: bool) -> Ordering {
    if descending {
        ordering.reverse()
    } else {
        ordering
    }
}

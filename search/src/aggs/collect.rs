//! Per-segment aggregation: columns opened once per segment, buckets keyed by cheap local keys
//! (dictionary ordinals, value bits, bucket starts) while documents stream in, resolved into
//! final keys when the segment is done.
//!
//! The number of buckets a segment creates is capped by `AGG_BUCKETS_MAX`; past it the segment
//! stops creating buckets and reports `too_many_buckets_exception`. This module must never
//! merge across segments or print JSON.

use std::collections::{BTreeMap, HashMap};

use tantivy::columnar::{Column, NumericalType, StrColumn};
use tantivy::{DateTime, DocId, SegmentReader};

use super::merge::{AggValue, Bucket, Buckets, Key, MetricAcc};
use super::plan::{AggPlan, PlanNode, ValueStyle};
use super::{AggKind, DateInterval};
use crate::dates::{add_units, floor_to};
use crate::error::{FailureCause, FailureKind};
use crate::limits::AGG_BUCKETS_MAX;

const NANOS_PER_MILLI: i64 = 1_000_000;

/// One field's column in one segment.
enum SegColumn {
    Missing,
    Str(StrColumn),
    I64(Column<i64>),
    F64(Column<f64>),
    Date(Column<DateTime>),
    Bool(Column<bool>),
}

impl SegColumn {
    fn open(
        reader: &SegmentReader,
        column: &str,
        style: &ValueStyle,
    ) -> tantivy::Result<SegColumn> {
        let fast = reader.fast_fields();
        Ok(match style {
            ValueStyle::Unmapped => SegColumn::Missing,
            ValueStyle::Keyword => fast.str(column)?.map_or(SegColumn::Missing, SegColumn::Str),
            ValueStyle::Long => crate::columns::numeric_column(reader, column, NumericalType::I64)?
                .map_or(SegColumn::Missing, SegColumn::I64),
            ValueStyle::Double => {
                crate::columns::numeric_column(reader, column, NumericalType::F64)?
                    .map_or(SegColumn::Missing, SegColumn::F64)
            }
            ValueStyle::Date { .. } => fast
                .column_opt::<DateTime>(column)?
                .map_or(SegColumn::Missing, SegColumn::Date),
            ValueStyle::Boolean => fast
                .column_opt::<bool>(column)?
                .map_or(SegColumn::Missing, SegColumn::Bool),
        })
    }

    /// The document's values as numbers (keywords: their ordinals), pushed into `out`.
    fn numbers(&self, doc: DocId, out: &mut Vec<f64>) {
        out.clear();
        match self {
            SegColumn::Missing => {}
            SegColumn::Str(column) => out.extend(column.term_ords(doc).map(|ord| ord as f64)),
            SegColumn::I64(column) => out.extend(column.values_for_doc(doc).map(|v| v as f64)),
            SegColumn::F64(column) => out.extend(column.values_for_doc(doc)),
            SegColumn::Date(column) => out.extend(
                column
                    .values_for_doc(doc)
                    .map(|v| (v.into_timestamp_nanos().div_euclid(NANOS_PER_MILLI)) as f64),
            ),
            SegColumn::Bool(column) => {
                out.extend(column.values_for_doc(doc).map(|v| u8::from(v) as f64))
            }
        }
    }

    /// The document's distinct local keys for a `terms` aggregation.
    fn term_keys(&self, doc: DocId, out: &mut Vec<u64>) {
        out.clear();
        match self {
            SegColumn::Missing => {}
            SegColumn::Str(column) => out.extend(column.term_ords(doc)),
            SegColumn::I64(column) => out.extend(column.values_for_doc(doc).map(|v| v as u64)),
            SegColumn::F64(column) => out.extend(column.values_for_doc(doc).map(f64::to_bits)),
            SegColumn::Date(column) => out.extend(
                column
                    .values_for_doc(doc)
                    .map(|v| v.into_timestamp_nanos().div_euclid(NANOS_PER_MILLI) as u64),
            ),
            SegColumn::Bool(column) => out.extend(column.values_for_doc(doc).map(u64::from)),
        }
        out.sort_unstable();
        out.dedup();
    }

    /// The final key of a local `terms` key.
    fn resolve(&self, local: u64) -> Key {
        match self {
            SegColumn::Str(column) => {
                let mut text = String::new();
                // An ordinal read from this column always names a term of its dictionary.
                let _found = column.ord_to_str(local, &mut text);
                Key::Str(text)
            }
            SegColumn::F64(_) => Key::Double(f64::from_bits(local)),
            _ => Key::Long(local as i64),
        }
    }
}

/// One aggregation node bound to a segment.
struct SegNode {
    column: SegColumn,
    plan: PlanNode,
    subs: Vec<SegNode>,
}

/// Segment-local state of one aggregation.
enum SegState {
    Metric(MetricAcc),
    Buckets(HashMap<u64, SegBucket>),
}

struct SegBucket {
    doc_count: u64,
    subs: Vec<SegState>,
}

/// All aggregations of a request, collecting one segment.
pub(crate) struct SegmentAggs {
    nodes: Vec<SegNode>,
    states: Vec<SegState>,
    buckets_created: usize,
    numbers: Vec<f64>,
    keys: Vec<u64>,
}

impl SegmentAggs {
    pub(crate) fn open(plan: &AggPlan, reader: &SegmentReader) -> tantivy::Result<SegmentAggs> {
        let nodes = plan
            .nodes
            .iter()
            .map(|node| seg_node(node, reader))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let states = nodes.iter().map(empty_state).collect();
        Ok(SegmentAggs {
            nodes,
            states,
            buckets_created: 0,
            numbers: Vec::new(),
            keys: Vec::new(),
        })
    }

    pub(crate) fn collect(&mut self, doc: DocId) {
        let mut scratch = Scratch {
            numbers: &mut self.numbers,
            keys: &mut self.keys,
            buckets_created: &mut self.buckets_created,
        };
        for (node, state) in self.nodes.iter().zip(self.states.iter_mut()) {
            collect_node(node, state, doc, &mut scratch);
        }
    }

    /// The segment's state with final keys, or the bucket-limit failure.
    pub(crate) fn harvest(self) -> Result<Vec<AggValue>, FailureCause> {
        if self.buckets_created > AGG_BUCKETS_MAX {
            return Err(too_many_buckets(self.buckets_created));
        }
        Ok(self
            .nodes
            .iter()
            .zip(self.states)
            .map(|(node, state)| finish(node, state))
            .collect())
    }
}

pub(crate) fn too_many_buckets(count: usize) -> FailureCause {
    FailureCause {
        kind: FailureKind::TooManyBuckets,
        reason: format!(
            "Trying to create too many buckets. Must be less than or equal to: [{AGG_BUCKETS_MAX}] but was [{count}]. This limit can be set by changing the [search.max_buckets] cluster level setting."
        ),
    }
}

fn seg_node(plan: &PlanNode, reader: &SegmentReader) -> tantivy::Result<SegNode> {
    let column = SegColumn::open(reader, &plan.source.column, &plan.source.style)?;
    let subs = plan
        .subs
        .iter()
        .map(|sub| seg_node(sub, reader))
        .collect::<tantivy::Result<Vec<_>>>()?;
    Ok(SegNode {
        column,
        plan: plan.clone(),
        subs,
    })
}

fn empty_state(node: &SegNode) -> SegState {
    match node.plan.request.kind {
        AggKind::Metric { .. } => SegState::Metric(MetricAcc::new(node.plan.source.style.clone())),
        _ => SegState::Buckets(HashMap::new()),
    }
}

struct Scratch<'a> {
    numbers: &'a mut Vec<f64>,
    keys: &'a mut Vec<u64>,
    buckets_created: &'a mut usize,
}

fn collect_node(node: &SegNode, state: &mut SegState, doc: DocId, scratch: &mut Scratch<'_>) {
    match state {
        SegState::Metric(acc) => {
            node.column.numbers(doc, scratch.numbers);
            for value in scratch.numbers.iter() {
                acc.add(*value);
            }
        }
        SegState::Buckets(buckets) => {
            bucket_keys(node, doc, scratch);
            let keys = std::mem::take(scratch.keys);
            for key in &keys {
                if !buckets.contains_key(key) {
                    *scratch.buckets_created += 1;
                    if *scratch.buckets_created > AGG_BUCKETS_MAX {
                        continue;
                    }
                    let subs = node.subs.iter().map(empty_state).collect();
                    buckets.insert(*key, SegBucket { doc_count: 0, subs });
                }
                let Some(bucket) = buckets.get_mut(key) else {
                    continue;
                };
                bucket.doc_count += 1;
                for (sub, sub_state) in node.subs.iter().zip(bucket.subs.iter_mut()) {
                    collect_node(sub, sub_state, doc, scratch);
                }
            }
            *scratch.keys = keys;
        }
    }
}

/// The document's distinct bucket keys for a bucket aggregation.
fn bucket_keys(node: &SegNode, doc: DocId, scratch: &mut Scratch<'_>) {
    match &node.plan.request.kind {
        AggKind::Terms(_) | AggKind::Metric { .. } => node.column.term_keys(doc, scratch.keys),
        AggKind::Histogram(histogram) => {
            node.column.numbers(doc, scratch.numbers);
            scratch.keys.clear();
            for value in scratch.numbers.iter() {
                let start = ((value - histogram.offset) / histogram.interval).floor()
                    * histogram.interval
                    + histogram.offset;
                scratch.keys.push(start.to_bits());
            }
            scratch.keys.sort_unstable();
            scratch.keys.dedup();
        }
        AggKind::DateHistogram(histogram) => {
            node.column.numbers(doc, scratch.numbers);
            scratch.keys.clear();
            for value in scratch.numbers.iter() {
                let start = date_bucket(
                    *value as i64,
                    histogram.interval,
                    histogram.offset_millis,
                    histogram.zone_offset_millis,
                );
                scratch.keys.push(start as u64);
            }
            scratch.keys.sort_unstable();
            scratch.keys.dedup();
        }
    }
}

/// The start (UTC millis) of the date bucket holding `millis`.
pub(crate) fn date_bucket(millis: i64, interval: DateInterval, offset: i64, zone: i64) -> i64 {
    let local = millis + zone - offset;
    let start = match interval {
        DateInterval::Fixed(width) => local - local.rem_euclid(width),
        DateInterval::Calendar(unit) => floor_to(local, unit),
    };
    start + offset - zone
}

/// The start of the date bucket after the one starting at `start`.
pub(crate) fn next_date_bucket(start: i64, interval: DateInterval, offset: i64, zone: i64) -> i64 {
    match interval {
        DateInterval::Fixed(width) => start + width,
        DateInterval::Calendar(unit) => add_units(start + zone - offset, 1, unit) + offset - zone,
    }
}

fn finish(node: &SegNode, state: SegState) -> AggValue {
    match state {
        SegState::Metric(acc) => AggValue::Metric(acc),
        SegState::Buckets(local) => {
            let mut map = BTreeMap::new();
            for (key, bucket) in local {
                let final_key = match &node.plan.request.kind {
                    AggKind::Histogram(_) => Key::Double(f64::from_bits(key)),
                    AggKind::DateHistogram(_) => Key::Long(key as i64),
                    _ => node.column.resolve(key),
                };
                let subs = node
                    .subs
                    .iter()
                    .zip(bucket.subs)
                    .map(|(sub, state)| finish(sub, state))
                    .collect();
                map.insert(
                    final_key,
                    Bucket {
                        doc_count: bucket.doc_count,
                        subs,
                    },
                );
            }
            AggValue::Buckets(Buckets {
                map,
                other_doc_count: 0,
                error_upper_bound: 0,
                style: node.plan.source.style.clone(),
            })
        }
    }
}

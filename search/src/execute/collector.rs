//! One pass over a shard's matches: the total count, the best `from + size` hits by the sort
//! keys (after `search_after`, above `min_score`), the maximum score, and the aggregations.
//!
//! Each segment keeps at most twice the needed hits before pruning to the best ones and
//! remembering the worst kept key, so later documents that cannot enter are rejected without
//! allocation. This module must never fetch stored documents.

use std::cmp::Ordering;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::sort::{compare_local, compare_values, Local, SegSort, SortKey, SortValue};
use crate::aggs::{merge_all, AggPlan, AggValue, SegmentAggs};
use crate::ast::Scalar;
use crate::error::FailureCause;

/// A hit candidate from one shard.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) values: Vec<SortValue>,
    pub(crate) score: Score,
    pub(crate) segment: SegmentOrdinal,
    pub(crate) doc: DocId,
}

/// What one shard found.
#[derive(Debug)]
pub(crate) struct ShardFruit {
    pub(crate) total: u64,
    pub(crate) max_score: Option<Score>,
    pub(crate) hits: Vec<Candidate>,
    pub(crate) aggs: Option<Vec<AggValue>>,
}

/// What to collect on one shard.
pub(crate) struct ShardCollector {
    pub(crate) keys: Arc<Vec<SortKey>>,
    pub(crate) top_k: usize,
    pub(crate) needs_scores: bool,
    pub(crate) min_score: Option<Score>,
    pub(crate) search_after: Option<Vec<Option<Scalar>>>,
    pub(crate) aggs: Option<Arc<AggPlan>>,
    /// Shard-level document number of each segment's first document (for `_doc`).
    pub(crate) segment_bases: Vec<u32>,
}

impl ShardCollector {
    pub(crate) fn segment_bases(searcher: &Searcher) -> Vec<u32> {
        let mut base = 0u32;
        searcher
            .segment_readers()
            .iter()
            .map(|reader| {
                let start = base;
                base = base.saturating_add(reader.max_doc());
                start
            })
            .collect()
    }
}

fn compare_entries(a: &Entry, b: &Entry, keys: &[SortKey]) -> Ordering {
    compare_local(&a.values, &b.values, keys).then(a.doc.cmp(&b.doc))
}

struct Entry {
    values: Vec<Local>,
    score: Score,
    doc: DocId,
}

/// Collection state of one segment.
pub(crate) struct SegmentCollect {
    keys: Arc<Vec<SortKey>>,
    columns: Vec<SegSort>,
    after: Option<Vec<Local>>,
    top_k: usize,
    needs_scores: bool,
    min_score: Option<Score>,
    segment: SegmentOrdinal,
    total: u64,
    max_score: Option<Score>,
    entries: Vec<Entry>,
    /// The worst kept key once `entries` has been pruned to `top_k`.
    threshold: Option<Vec<Local>>,
    aggs: Option<SegmentAggs>,
}

impl Collector for ShardCollector {
    type Fruit = Result<ShardFruit, FailureCause>;
    type Child = SegmentCollect;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentCollect> {
        let base = self
            .segment_bases
            .get(segment as usize)
            .copied()
            .unwrap_or(0);
        let columns = self
            .keys
            .iter()
            .map(|key| SegSort::open(key, reader, base))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let after = match &self.search_after {
            Some(values) => Some(
                columns
                    .iter()
                    .zip(values)
                    .map(|(column, value)| column.place(value))
                    .collect::<tantivy::Result<Vec<_>>>()?,
            ),
            None => None,
        };
        let aggs = match &self.aggs {
            Some(plan) => Some(SegmentAggs::open(plan, reader)?),
            None => None,
        };
        Ok(SegmentCollect {
            keys: self.keys.clone(),
            columns,
            after,
            top_k: self.top_k,
            needs_scores: self.needs_scores,
            min_score: self.min_score,
            segment,
            total: 0,
            max_score: None,
            entries: Vec::new(),
            threshold: None,
            aggs,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.needs_scores
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Result<ShardFruit, FailureCause>>,
    ) -> tantivy::Result<Result<ShardFruit, FailureCause>> {
        let mut merged = ShardFruit {
            total: 0,
            max_score: None,
            hits: Vec::new(),
            aggs: None,
        };
        for fruit in fruits {
            let fruit = match fruit {
                Ok(fruit) => fruit,
                Err(cause) => return Ok(Err(cause)),
            };
            merged.total += fruit.total;
            merged.max_score = max_option(merged.max_score, fruit.max_score);
            merged.hits.extend(fruit.hits);
            match (&mut merged.aggs, fruit.aggs) {
                (None, aggs) => merged.aggs = aggs,
                (Some(mine), Some(theirs)) => merge_all(mine, theirs),
                (Some(_), None) => {}
            }
        }
        let keys = &self.keys;
        merged.hits.sort_by(|a, b| {
            compare_values(&a.values, &b.values, keys)
                .then(a.segment.cmp(&b.segment))
                .then(a.doc.cmp(&b.doc))
        });
        merged.hits.truncate(self.top_k);
        Ok(Ok(merged))
    }
}

fn max_option(a: Option<Score>, b: Option<Score>) -> Option<Score> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

impl SegmentCollect {
    fn prune(&mut self) {
        let keys = self.keys.clone();
        if self.entries.len() > self.top_k {
            self.entries
                .select_nth_unstable_by(self.top_k - 1, |a, b| compare_entries(a, b, &keys));
            self.entries.truncate(self.top_k);
        }
        self.entries.sort_by(|a, b| compare_entries(a, b, &keys));
        if self.entries.len() == self.top_k {
            self.threshold = self.entries.last().map(|entry| entry.values.clone());
        }
    }
}

impl SegmentCollector for SegmentCollect {
    type Fruit = Result<ShardFruit, FailureCause>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.min_score.is_some_and(|min| score < min) {
            return;
        }
        self.total += 1;
        if self.needs_scores {
            self.max_score = max_option(self.max_score, Some(score));
        }
        if let Some(aggs) = &mut self.aggs {
            aggs.collect(doc);
        }
        if self.top_k == 0 {
            return;
        }
        let values: Vec<Local> = self
            .columns
            .iter()
            .zip(self.keys.iter())
            .map(|(column, key)| column.read(doc, score, key.mode))
            .collect();
        if let Some(after) = &self.after {
            if compare_local(&values, after, &self.keys) != Ordering::Greater {
                return;
            }
        }
        // Documents arrive in doc order, so one equal to the threshold sorts after it.
        if let Some(threshold) = &self.threshold {
            if compare_local(&values, threshold, &self.keys) != Ordering::Less {
                return;
            }
        }
        self.entries.push(Entry { values, score, doc });
        if self.entries.len() >= 2 * self.top_k.max(16) {
            self.prune();
        }
    }

    fn harvest(mut self) -> Result<ShardFruit, FailureCause> {
        if self.top_k > 0 {
            self.prune();
        }
        let hits = self
            .entries
            .iter()
            .map(|entry| Candidate {
                values: entry
                    .values
                    .iter()
                    .zip(&self.columns)
                    .map(|(value, column)| column.resolve(*value))
                    .collect(),
                score: entry.score,
                segment: self.segment,
                doc: entry.doc,
            })
            .collect();
        let aggs = match self.aggs {
            Some(aggs) => Some(aggs.harvest()?),
            None => None,
        };
        Ok(ShardFruit {
            total: self.total,
            max_score: self.max_score,
            hits,
            aggs,
        })
    }
}

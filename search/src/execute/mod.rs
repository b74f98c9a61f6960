//! Running `_search` and `_count` over a set of shards and building OpenSearch's response.
//!
//! Query-then-fetch, as OpenSearch: every shard compiles the query against its own mapping and
//! collects its best `from + size` hits (by score or sort values), its total and its
//! aggregation state; hits merge by sort values, ties by shard position (the order the caller
//! lists shards in), segment and document; only the final page is fetched. A shard that fails
//! is reported under `_shards.failures`; when every shard fails the request fails with
//! `search_phase_execution_exception`. Shards run one after another on the calling thread:
//! callers on an async runtime run this on a blocking pool. This module must never parse
//! request JSON.

mod collector;
mod sort;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Map, Value};
use tandem_storage::mapping::{Mapping, ShardSchema};
use tandem_storage::ShardEngine;
use tantivy::Searcher;

use crate::aggs::{plan_aggs, render_aggs, AggValue, RenderContext, ShardAggs, ValueStyle};
use crate::compile::{compile, CompileContext};
use crate::error::{FailureCause, SearchError, ShardFailure};
use crate::fetch_fields::FetchFields;
use crate::limits::MAX_RESULT_WINDOW_HITS_DEFAULT;
use crate::request::{CountRequest, SearchRequest, TrackTotalHits};
use crate::response::{render_hit, HitOptions};
pub(crate) use collector::Candidate;
use collector::{ShardCollector, ShardFruit};
pub(crate) use sort::{SortKey, SortSource};

/// One shard to search, with what it needs to compile queries.
#[derive(Clone)]
pub struct ShardTarget {
    /// The index name hits report as `_index`.
    pub index: String,
    /// The shard number.
    pub shard: u32,
    /// A searcher over the shard's last refresh.
    pub searcher: Searcher,
    /// The shard's fixed schema.
    pub schema: ShardSchema,
    /// The index mapping the shard indexes with.
    pub mapping: Arc<Mapping>,
    /// `index.max_result_window` of the index, in hits.
    pub max_result_window: usize,
}

impl ShardTarget {
    /// A target over an open engine, with the default result window.
    pub fn from_engine(index: impl Into<String>, shard: u32, engine: &ShardEngine) -> ShardTarget {
        ShardTarget {
            index: index.into(),
            shard,
            searcher: engine.searcher(),
            schema: engine.schema().clone(),
            mapping: engine.mapping(),
            max_result_window: MAX_RESULT_WINDOW_HITS_DEFAULT,
        }
    }
}

/// A search's response body.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResponse {
    /// The OpenSearch response body (`took`, `timed_out`, `_shards`, `hits`, `aggregations`).
    pub body: Value,
}

/// Runs a search over `shards` (of one or several indices).
pub fn search(
    request: &SearchRequest,
    shards: &[ShardTarget],
) -> Result<SearchResponse, SearchError> {
    let started = Instant::now();
    let mut found: Vec<(usize, ShardFruit, Vec<SortKey>)> = Vec::new();
    let mut failures = Vec::new();
    for (position, shard) in shards.iter().enumerate() {
        let span = tracing::debug_span!("search_shard", index = %shard.index, shard = shard.shard);
        let _entered = span.enter();
        match query_shard(request, shard) {
            Ok((fruit, keys)) => found.push((position, fruit, keys)),
            Err(cause) => {
                tracing::debug!(reason = %cause.reason, "shard failed the query phase");
                failures.push(ShardFailure {
                    index: shard.index.clone(),
                    shard: shard.shard,
                    cause,
                });
            }
        }
    }
    if found.is_empty() && !failures.is_empty() {
        return Err(SearchError::AllShardsFailed {
            phase: "query",
            failures,
        });
    }
    let total: u64 = found.iter().map(|(_, fruit, _)| fruit.total).sum();
    let scores_tracked = needs_scores(request, found.first().map(|(_, _, keys)| keys.as_slice()));
    let max_score = found
        .iter()
        .filter_map(|(_, fruit, _)| fruit.max_score)
        .reduce(f32::max);
    let keys = found
        .first()
        .map(|(_, _, keys)| keys.clone())
        .unwrap_or_default();
    let (page, shard_aggs) = merge_shards(request, found, &keys);
    let hits = fetch(request, shards, &page, &keys, scores_tracked)?;
    let mut body = Map::new();
    body.insert(
        "took".into(),
        Value::from(started.elapsed().as_millis() as u64),
    );
    body.insert("timed_out".into(), Value::Bool(false));
    body.insert("_shards".into(), shards_json(shards.len(), &failures));
    let mut hits_object = Map::new();
    if let Some(total) = total_json(request, total) {
        hits_object.insert("total".into(), total);
    }
    let max_score = max_score.filter(|_| scores_tracked && request.size > 0 && !page.is_empty());
    hits_object.insert(
        "max_score".into(),
        max_score.map_or(Value::Null, score_json),
    );
    hits_object.insert("hits".into(), Value::Array(hits));
    body.insert("hits".into(), Value::Object(hits_object));
    if !request.aggs.is_empty() {
        let mut context = RenderContext::new(request.typed_keys, request.now_millis);
        body.insert(
            "aggregations".into(),
            render_aggs(&request.aggs, shard_aggs, &mut context)?,
        );
    }
    Ok(SearchResponse {
        body: Value::Object(body),
    })
}

/// Counts matching documents over `shards`: `{"count": n, "_shards": {...}}`.
pub fn count(request: &CountRequest, shards: &[ShardTarget]) -> Result<Value, SearchError> {
    let mut total = 0u64;
    let mut failures = Vec::new();
    let mut successes = 0usize;
    for shard in shards {
        let counted = (|| -> Result<u64, FailureCause> {
            let tokenizers = shard.searcher.index().tokenizers();
            let context = CompileContext::new(
                &shard.schema,
                &shard.mapping,
                tokenizers,
                request.now_millis,
            );
            let query = compile(&request.query, &context)?;
            let collector = ShardCollector {
                keys: Arc::new(Vec::new()),
                top_k: 0,
                needs_scores: request.min_score.is_some(),
                min_score: request.min_score,
                search_after: None,
                aggs: None,
                segment_bases: Vec::new(),
            };
            Ok(shard.searcher.search(query.as_ref(), &collector)??.total)
        })();
        match counted {
            Ok(count) => {
                total += count;
                successes += 1;
            }
            Err(cause) => failures.push(ShardFailure {
                index: shard.index.clone(),
                shard: shard.shard,
                cause,
            }),
        }
    }
    if successes == 0 && !failures.is_empty() {
        return Err(SearchError::AllShardsFailed {
            phase: "query",
            failures,
        });
    }
    Ok(json!({ "count": total, "_shards": shards_json(shards.len(), &failures) }))
}

fn needs_scores(request: &SearchRequest, keys: Option<&[SortKey]>) -> bool {
    let sorts_by_score =
        keys.is_some_and(|keys| keys.iter().any(|key| key.source == SortSource::Score));
    request.sort.is_none() || sorts_by_score || request.track_scores || request.min_score.is_some()
}

fn query_shard(
    request: &SearchRequest,
    shard: &ShardTarget,
) -> Result<(ShardFruit, Vec<SortKey>), FailureCause> {
    let window = request.from.saturating_add(request.size);
    if window > shard.max_result_window {
        return Err(FailureCause::illegal_argument(format!(
            "Result window is too large, from + size must be less than or equal to: [{}] but was [{window}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.",
            shard.max_result_window
        )));
    }
    let tokenizers = shard.searcher.index().tokenizers();
    let context = CompileContext::new(
        &shard.schema,
        &shard.mapping,
        tokenizers,
        request.now_millis,
    );
    let query = compile(&request.query, &context)?;
    let keys = sort::plan_sort(request.sort.as_deref(), &shard.mapping)?;
    let aggs = match request.aggs.is_empty() {
        true => None,
        false => Some(Arc::new(plan_aggs(&request.aggs, &shard.mapping)?)),
    };
    if aggs.is_none() && is_plain_score_order(request, &keys) {
        let counted = request.track_total_hits != TrackTotalHits::Disabled;
        let fruit = top_by_score(&shard.searcher, query.as_ref(), window, counted)?;
        return Ok((fruit, keys));
    }
    let collector = ShardCollector {
        keys: Arc::new(keys.clone()),
        top_k: window,
        needs_scores: needs_scores(request, Some(&keys)),
        min_score: request.min_score,
        search_after: request.search_after.clone(),
        aggs,
        segment_bases: ShardCollector::segment_bases(&shard.searcher),
    };
    let fruit = shard.searcher.search(query.as_ref(), &collector)??;
    Ok((fruit, keys))
}

/// Whether the request only wants the best hits by descending score: the shape of most
/// searches, which tantivy's own top-k and count collectors serve far faster than the general
/// collector.
fn is_plain_score_order(request: &SearchRequest, keys: &[SortKey]) -> bool {
    let by_score_only = matches!(
        keys,
        [SortKey {
            source: sort::SortSource::Score,
            order: crate::request::SortOrder::Desc,
            ..
        }]
    );
    by_score_only && request.search_after.is_none() && request.min_score.is_none()
}

/// Top hits by score, then the total as a separate count: alone, tantivy's top-k collector
/// skips blocks that cannot beat the current k-th score (block-max WAND), and the count never
/// scores (a single term with no deletes is just its document frequency). Collecting both in
/// one pass would score every match.
fn top_by_score(
    searcher: &Searcher,
    query: &dyn tantivy::query::Query,
    window: usize,
    counted: bool,
) -> Result<ShardFruit, FailureCause> {
    use tantivy::collector::TopDocs;
    let internal = |error: tantivy::TantivyError| FailureCause::internal(error.to_string());
    let total = match counted {
        true => query.count(searcher).map_err(internal)? as u64,
        false => 0,
    };
    if window == 0 {
        return Ok(ShardFruit {
            total,
            max_score: None,
            hits: Vec::new(),
            aggs: None,
        });
    }
    let top = searcher
        .search(query, &TopDocs::with_limit(window).order_by_score())
        .map_err(internal)?;
    let max_score = top.first().map(|(score, _)| *score);
    let hits = top
        .into_iter()
        .map(|(score, address)| Candidate {
            values: vec![sort::SortValue::Double(f64::from(score))],
            score,
            segment: address.segment_ord,
            doc: address.doc_id,
        })
        .collect();
    Ok(ShardFruit {
        total,
        max_score,
        hits,
        aggs: None,
    })
}

/// The page of hits across shards, and the shards' aggregation states merged.
fn merge_shards(
    request: &SearchRequest,
    found: Vec<(usize, ShardFruit, Vec<SortKey>)>,
    keys: &[SortKey],
) -> (Vec<(usize, Candidate)>, Vec<AggValue>) {
    let several = found.len() > 1;
    let mut candidates: Vec<(usize, Candidate)> = Vec::new();
    let mut merged: Option<Vec<AggValue>> = None;
    for (position, fruit, _) in found {
        candidates.extend(fruit.hits.into_iter().map(|hit| (position, hit)));
        let Some(values) = fruit.aggs else {
            continue;
        };
        let mut shard_aggs = ShardAggs { values };
        if several {
            shard_aggs.prune_for_merge(&request.aggs);
        }
        match &mut merged {
            None => merged = Some(shard_aggs.values),
            Some(mine) => crate::aggs::merge_all(mine, shard_aggs.values),
        }
    }
    candidates.sort_by(|(pa, a), (pb, b)| {
        sort::compare_values(&a.values, &b.values, keys)
            .then(pa.cmp(pb))
            .then(a.segment.cmp(&b.segment))
            .then(a.doc.cmp(&b.doc))
    });
    let page = candidates
        .into_iter()
        .skip(request.from)
        .take(request.size)
        .collect();
    let aggs = merged.unwrap_or_else(|| {
        request
            .aggs
            .iter()
            .map(|agg| AggValue::empty(agg, ValueStyle::Unmapped))
            .collect()
    });
    (page, aggs)
}

fn fetch(
    request: &SearchRequest,
    shards: &[ShardTarget],
    page: &[(usize, Candidate)],
    keys: &[SortKey],
    scores_tracked: bool,
) -> Result<Vec<Value>, SearchError> {
    let fetch_failed = |shard: &ShardTarget, cause| SearchError::AllShardsFailed {
        phase: "fetch",
        failures: vec![ShardFailure {
            index: shard.index.clone(),
            shard: shard.shard,
            cause,
        }],
    };
    // Field patterns bind to each shard's mapping once, not once per hit.
    let mut planned: Vec<Option<FetchFields>> = vec![None; shards.len()];
    let mut hits = Vec::with_capacity(page.len());
    for (position, candidate) in page {
        let shard = &shards[*position];
        let fields = match &mut planned[*position] {
            Some(fields) => fields,
            slot => slot.insert(
                FetchFields::plan(request, &shard.mapping)
                    .map_err(|cause| fetch_failed(shard, cause))?,
            ),
        };
        let options = HitOptions {
            request,
            fields,
            keys,
            scores_tracked,
        };
        hits.push(
            render_hit(shard, candidate, &options).map_err(|cause| fetch_failed(shard, cause))?,
        );
    }
    Ok(hits)
}

fn total_json(request: &SearchRequest, total: u64) -> Option<Value> {
    let (value, relation) = match request.track_total_hits {
        TrackTotalHits::Disabled if request.total_hits_as_int => return Some(Value::from(-1)),
        TrackTotalHits::Disabled => return None,
        TrackTotalHits::Exact => (total, "eq"),
        TrackTotalHits::UpTo(limit) if total > limit => (limit, "gte"),
        TrackTotalHits::UpTo(_) => (total, "eq"),
    };
    if request.total_hits_as_int {
        return Some(Value::from(value));
    }
    Some(json!({ "value": value, "relation": relation }))
}

fn shards_json(total: usize, failures: &[ShardFailure]) -> Value {
    let mut object = Map::new();
    object.insert("total".into(), Value::from(total));
    object.insert("successful".into(), Value::from(total - failures.len()));
    object.insert("skipped".into(), Value::from(0));
    object.insert("failed".into(), Value::from(failures.len()));
    if !failures.is_empty() {
        object.insert(
            "failures".into(),
            Value::Array(failures.iter().map(ShardFailure::to_json).collect()),
        );
    }
    Value::Object(object)
}

/// A score as OpenSearch prints it: the shortest decimal of the 32-bit float.
pub(crate) fn score_json(score: f32) -> Value {
    format!("{score}")
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .map_or(Value::Null, Value::from)
}

//! `_bulk`: NDJSON action and source lines, run as per-shard batches in request order.
//!
//! It owns the line format (action/metadata line, then a source line for index, create and
//! update) and the grouping: consecutive index/create/delete items are batched per shard so
//! one group-committed fsync covers each batch; an update flushes pending batches first so it
//! sees earlier items. A bad item is an item error; only unreadable metadata lines fail the
//! whole request, as in OpenSearch. It must never build HTTP responses.

use std::collections::BTreeMap;

use tandem_storage::engine::{WriteRequest, WriteResult};

mod parse;

use super::source::SourceFilter;
use super::update::{update_doc, UpdateOutcome, UpdateRequest};
use super::{refresh_after, write_to_shard, DocTarget, RefreshPolicy, TargetCache};
use crate::error::{NodeError, NodeResult};
use crate::indices::IndexService;
use parse::parse;

/// Most items one bulk request may carry.
pub const BULK_ITEMS_MAX: usize = 1_000_000;

/// The four bulk actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// `index`.
    Index,
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
}

impl BulkAction {
    /// The action's name in requests and responses.
    pub fn name(self) -> &'static str {
        match self {
            BulkAction::Index => "index",
            BulkAction::Create => "create",
            BulkAction::Update => "update",
            BulkAction::Delete => "delete",
        }
    }
}

/// One parsed item.
#[derive(Debug)]
struct Item {
    action: BulkAction,
    index: String,
    id: String,
    routing: Option<String>,
    plan: NodeResult<Plan>,
}

#[derive(Debug)]
enum Plan {
    Write(WriteRequest),
    Update(Box<UpdateRequest>),
}

/// What happened to one item.
#[derive(Debug)]
pub struct ItemResult {
    /// The action.
    pub action: BulkAction,
    /// The index name.
    pub index: String,
    /// The id.
    pub id: String,
    /// The outcome.
    pub outcome: NodeResult<ItemDone>,
}

/// A successful item.
#[derive(Debug)]
pub enum ItemDone {
    /// An index, create or delete.
    Write {
        /// Engine result.
        result: WriteResult,
        /// `_shards.total`.
        shards_total: u32,
    },
    /// An update.
    Update(Box<UpdateOutcome>),
}

/// Request-level defaults of a bulk request.
#[derive(Debug, Default)]
pub struct BulkDefaults<'a> {
    /// The index from the path.
    pub index: Option<&'a str>,
    /// `routing`.
    pub routing: Option<&'a str>,
    /// `require_alias`.
    pub require_alias: bool,
    /// `_source` for update items.
    pub source_filter: Option<SourceFilter>,
}

/// Parses and runs a bulk body.
pub fn run_bulk(
    indices: &IndexService,
    body: &bytes::Bytes,
    defaults: &BulkDefaults<'_>,
    refresh: RefreshPolicy,
) -> NodeResult<Vec<ItemResult>> {
    let aliases: std::collections::BTreeSet<String> = indices
        .state()
        .indices
        .values()
        .flat_map(|meta| meta.aliases.keys().cloned())
        .collect();
    let items = parse(body, defaults, &aliases)?;
    let mut results: Vec<Option<ItemResult>> = Vec::with_capacity(items.len());
    let mut pending: Pending = BTreeMap::new();
    let mut touched: BTreeMap<(String, u32), DocTarget> = BTreeMap::new();
    let mut targets = TargetCache::new(indices);
    for (position, item) in items.into_iter().enumerate() {
        results.push(None);
        let plan = match item.plan {
            Ok(plan) => plan,
            Err(error) => {
                results[position] =
                    Some(item_result(&item.action, &item.index, &item.id, Err(error)));
                continue;
            }
        };
        match plan {
            Plan::Update(update) => {
                flush(indices, &mut pending, &mut results)?;
                let outcome = update_doc(indices, &update);
                if let Ok(done) = &outcome {
                    touched.insert(
                        (done.target.handle.name.clone(), done.target.shard),
                        done.target.clone(),
                    );
                }
                let outcome = outcome.map(|done| ItemDone::Update(Box::new(done)));
                results[position] = Some(item_result(&item.action, &item.index, &item.id, outcome));
            }
            Plan::Write(request) => {
                let auto_create = item.action != BulkAction::Delete;
                let routing = item.routing.as_deref().unwrap_or(&item.id);
                match targets.target(&item.index, routing, auto_create) {
                    Ok(target) => {
                        let key = (target.handle.name.clone(), target.shard);
                        touched.insert(key.clone(), target.clone());
                        pending
                            .entry(key)
                            .or_insert_with(|| (target, Vec::new()))
                            .1
                            .push((position, request));
                    }
                    Err(error) => {
                        results[position] =
                            Some(item_result(&item.action, &item.index, &item.id, Err(error)));
                    }
                }
            }
        }
        remember_item(&mut results, position, item.action, &item.index, &item.id);
    }
    flush(indices, &mut pending, &mut results)?;
    for target in touched.values() {
        refresh_after(target, refresh)?;
    }
    results
        .into_iter()
        .map(|result| result.ok_or_else(|| NodeError::Internal("a bulk item got no result".into())))
        .collect()
}

/// Keeps the item's action, index and id where the write's result will land.
fn remember_item(
    results: &mut [Option<ItemResult>],
    position: usize,
    action: BulkAction,
    index: &str,
    id: &str,
) {
    if results[position].is_none() {
        results[position] = Some(ItemResult {
            action,
            index: index.to_string(),
            id: id.to_string(),
            outcome: Err(NodeError::Internal("pending".into())),
        });
    }
}

fn item_result(
    action: &BulkAction,
    index: &str,
    id: &str,
    outcome: NodeResult<ItemDone>,
) -> ItemResult {
    ItemResult {
        action: *action,
        index: index.to_string(),
        id: id.to_string(),
        outcome,
    }
}

type Pending = BTreeMap<(String, u32), (DocTarget, Vec<(usize, WriteRequest)>)>;

fn flush(
    indices: &IndexService,
    pending: &mut Pending,
    results: &mut [Option<ItemResult>],
) -> NodeResult<()> {
    for (_, (target, batch)) in std::mem::take(pending) {
        let requests: Vec<WriteRequest> =
            batch.iter().map(|(_, request)| request.clone()).collect();
        let outcomes = match write_to_shard(indices, &target, &requests) {
            Ok(outcomes) => outcomes,
            Err(error) => {
                let reason = error.to_string();
                requests
                    .iter()
                    .map(|_| Err(NodeError::Internal(reason.clone())))
                    .collect()
            }
        };
        for ((position, _), outcome) in batch.iter().zip(outcomes) {
            if let Some(slot) = results[*position].as_mut() {
                slot.index = target.handle.name.clone();
                slot.outcome = outcome.map(|result| ItemDone::Write {
                    result,
                    shards_total: target.shards_total,
                });
            }
        }
    }
    Ok(())
}

//! Documents: routing writes and reads to shards, dynamic mapping during writes, refresh
//! policies, and the typed outcomes REST handlers turn into OpenSearch responses.
//!
//! It owns the write loop around `ShardEngine::write_batch` (install a proposed mapping, then
//! resubmit the rest of the batch) and index auto-creation on first write. Everything here
//! blocks (engine calls fsync); async callers use the blocking pool. It must never build
//! HTTP responses or parse query strings.

pub mod bulk;
pub mod get;
pub mod source;
pub mod update;

use std::sync::Arc;

use tandem_storage::engine::{VersionCheck, WriteRequest, WriteResult};
use tandem_storage::EngineError;

use crate::error::{NodeError, NodeResult};
use crate::indices::admin::CreateIndex;
use crate::indices::{IndexHandle, IndexService};

/// How many times one request may ask for a mapping update before it is refused (a guard
/// against a proposal that never converges).
const MAPPING_UPDATES_PER_REQUEST_MAX: u32 = 8;

/// When a write becomes searchable before the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshPolicy {
    /// Not waited for (`refresh=false`).
    None,
    /// Refresh now (`refresh=true` or `refresh=`): the response says `forced_refresh`.
    Immediate,
    /// `refresh=wait_for`: tandem refreshes the shard instead of waiting for the schedule.
    WaitFor,
}

/// A shard a document lives on.
#[derive(Debug, Clone)]
pub struct DocTarget {
    /// The index.
    pub handle: Arc<IndexHandle>,
    /// The shard number.
    pub shard: u32,
    /// `_shards.total` of write responses: primary plus configured replicas.
    pub shards_total: u32,
}

/// The outcome of one write, for the response.
#[derive(Debug, Clone)]
pub struct WriteAck {
    /// Index name.
    pub index: String,
    /// Document id.
    pub id: String,
    /// What the engine did.
    pub result: WriteResult,
    /// `_shards.total`.
    pub shards_total: u32,
    /// Whether `refresh=true` forced a refresh.
    pub forced_refresh: bool,
}

/// Finds the shard for `routing` (or the id) in `index`, creating the index on first write
/// when `auto_create` holds.
pub fn target(
    indices: &IndexService,
    index: &str,
    routing: &str,
    auto_create: bool,
) -> NodeResult<DocTarget> {
    let handle = match indices.handle(index) {
        Ok(handle) => handle,
        Err(NodeError::ShardsUnavailable { .. }) => {
            indices.check_not_follower(index)?;
            return Err(NodeError::ShardsUnavailable {
                index: index.to_string(),
            });
        }
        Err(NodeError::IndexNotFound { .. })
            if auto_create && indices.auto_create_allowed(index) =>
        {
            match indices.create_index(index, CreateIndex::default()) {
                Ok(_) | Err(NodeError::IndexAlreadyExists { .. }) => indices.handle(index)?,
                Err(error) => return Err(error),
            }
        }
        Err(error) => return Err(error),
    };
    let replicas = handle.replicas.load(std::sync::atomic::Ordering::Relaxed);
    Ok(DocTarget {
        shard: handle.shard_of(routing),
        handle,
        shards_total: 1 + replicas,
    })
}

/// Remembers each index's handle and replica count for the items of one request, so a bulk
/// of many items looks metadata up once per index.
#[derive(Debug)]
pub struct TargetCache<'a> {
    indices: &'a IndexService,
    by_index: std::collections::HashMap<String, (Arc<IndexHandle>, u32)>,
}

impl<'a> TargetCache<'a> {
    /// An empty cache over `indices`.
    pub fn new(indices: &'a IndexService) -> TargetCache<'a> {
        TargetCache {
            indices,
            by_index: std::collections::HashMap::new(),
        }
    }

    /// As [`target`], cached by index name.
    pub fn target(
        &mut self,
        index: &str,
        routing: &str,
        auto_create: bool,
    ) -> NodeResult<DocTarget> {
        if let Some((handle, shards_total)) = self.by_index.get(index) {
            return Ok(DocTarget {
                shard: handle.shard_of(routing),
                handle: handle.clone(),
                shards_total: *shards_total,
            });
        }
        let found = target(self.indices, index, routing, auto_create)?;
        self.by_index.insert(
            index.to_string(),
            (found.handle.clone(), found.shards_total),
        );
        Ok(found)
    }
}

/// Writes `requests` to one shard in order, installing mappings the documents need.
/// Returns one result per request.
pub fn write_to_shard(
    indices: &IndexService,
    target: &DocTarget,
    requests: &[WriteRequest],
) -> NodeResult<Vec<NodeResult<WriteResult>>> {
    let block = *target.handle.write_block.lock();
    if let Some((block, deletes_pass)) = block {
        let refused = requests
            .iter()
            .any(|request| !(deletes_pass && matches!(request, WriteRequest::Delete(_))));
        if refused {
            // A blocked batch is refused whole; a delete-only batch under a block that lets
            // deletes pass goes on below.
            let refusal = || NodeError::Blocked {
                index: target.handle.name.clone(),
                block,
            };
            return Ok(requests.iter().map(|_| Err(refusal())).collect());
        }
    }
    let engine = target.handle.shard(target.shard);
    let mut results: Vec<NodeResult<WriteResult>> = Vec::with_capacity(requests.len());
    let mut mapping_updates = 0;
    while results.len() < requests.len() {
        let start = results.len();
        let batch = engine.write_batch(&requests[start..])?;
        debug_assert!(
            !batch.is_empty(),
            "write_batch processes at least one request"
        );
        if batch.is_empty() {
            return Err(NodeError::Internal(
                "the engine processed no request".into(),
            ));
        }
        for outcome in batch {
            match outcome {
                Err(EngineError::MappingUpdateRequired { proposed }) => {
                    mapping_updates += 1;
                    if mapping_updates > MAPPING_UPDATES_PER_REQUEST_MAX {
                        results.push(Err(NodeError::Internal(
                            "dynamic mapping did not converge".into(),
                        )));
                        break;
                    }
                    if let Err(error) = indices.apply_proposed(&target.handle, &proposed) {
                        results.push(Err(error));
                    }
                    break;
                }
                Ok(result) => {
                    mapping_updates = 0;
                    results.push(Ok(result));
                }
                Err(error) => {
                    mapping_updates = 0;
                    results.push(Err(engine_error(target, error)));
                }
            }
        }
    }
    Ok(results)
}

/// An engine error with the index and shard OpenSearch names in its error body.
pub fn engine_error(target: &DocTarget, error: EngineError) -> NodeError {
    match error {
        EngineError::VersionConflict { reason, .. } => NodeError::VersionConflict {
            index: target.handle.name.clone(),
            uuid: target.handle.uuid.clone(),
            shard: target.shard,
            reason,
        },
        EngineError::Mapping(mapping) => NodeError::Mapping(mapping),
        other => NodeError::Engine(other),
    }
}

/// Applies the refresh policy to a shard after a write; returns `forced_refresh`.
pub fn refresh_after(target: &DocTarget, policy: RefreshPolicy) -> NodeResult<bool> {
    if policy == RefreshPolicy::None {
        return Ok(false);
    }
    target.handle.shard(target.shard).refresh(false)?;
    Ok(policy == RefreshPolicy::Immediate)
}

/// One index or delete, as the REST layer parsed it.
#[derive(Debug, Clone)]
pub struct SingleWrite {
    /// The index.
    pub index: String,
    /// The engine request (id already chosen).
    pub request: WriteRequest,
    /// Refresh policy.
    pub refresh: RefreshPolicy,
}

/// Runs one index or delete.
pub fn write_one(indices: &IndexService, write: SingleWrite) -> NodeResult<WriteAck> {
    let (id, routing) = match &write.request {
        WriteRequest::Index(request) => (request.id.clone(), request.routing.clone()),
        WriteRequest::Delete(request) => (request.id.clone(), request.routing.clone()),
    };
    let auto_create = matches!(write.request, WriteRequest::Index(_));
    let target = target(
        indices,
        &write.index,
        routing.as_deref().unwrap_or(&id),
        auto_create,
    )?;
    let mut results = write_to_shard(indices, &target, std::slice::from_ref(&write.request))?;
    let result = results
        .pop()
        .ok_or_else(|| NodeError::Internal("no result for a single write".into()))??;
    let forced_refresh = refresh_after(&target, write.refresh)?;
    Ok(WriteAck {
        index: target.handle.name.clone(),
        id,
        result,
        shards_total: target.shards_total,
        forced_refresh,
    })
}

/// Builds the engine's version check from OpenSearch's parameters, refusing the
/// combinations OpenSearch refuses.
pub fn version_check(
    if_seq_no: Option<i64>,
    if_primary_term: Option<u64>,
    version: Option<i64>,
    version_type: Option<&str>,
) -> NodeResult<VersionCheck> {
    match (if_seq_no, if_primary_term) {
        (Some(seq_no), Some(primary_term)) => {
            if version.is_some() {
                return Err(NodeError::Validation(vec![
                    "compare and write operations can not use versioning".into(),
                ]));
            }
            return Ok(VersionCheck::IfSeqNo {
                seq_no,
                primary_term,
            });
        }
        (Some(_), None) => {
            return Err(NodeError::Validation(vec![
                "ifSeqNo is set, but primary term is [0]".into(),
            ]))
        }
        (None, Some(_)) => {
            return Err(NodeError::Validation(vec![
                "ifSeqNo is unassigned, but primary term is [1]".into(),
            ]))
        }
        (None, None) => {}
    }
    match (version_type.unwrap_or("internal"), version) {
        ("internal", None) => Ok(VersionCheck::None),
        ("internal", Some(_)) => Err(NodeError::Validation(vec![
            "internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead".into(),
        ])),
        ("external", Some(version)) => Ok(VersionCheck::External { version }),
        ("external_gte", Some(version)) => Ok(VersionCheck::ExternalGte { version }),
        ("external" | "external_gte", None) => Err(NodeError::Validation(vec![format!(
            "an external version must be provided for version_type [{}]",
            version_type.unwrap_or_default()
        )])),
        (other, _) => Err(NodeError::illegal(format!("No version type match [{other}]"))),
    }
}

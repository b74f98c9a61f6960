//! Writes: the primary path (assign seq-nos, check versions) and the replica path (apply a
//! leader's operations idempotently), plus recovery replay and hole filling.
//!
//! Order inside the write lock, for every operation: decide (version checks, staleness) →
//! append to the translog → apply to tantivy and the version map → mark the seq-no processed.
//! A failure before the append changes nothing; a failure after it fails the engine, and
//! reopening replays the translog, so no seq-no is ever left half-applied.

use bytes::Bytes;
use tantivy::schema::OwnedValue;
use tantivy::{TantivyDocument, Term};

use super::feed::FeedOp;
use super::lookup::{find_committed, get_committed};
use super::version_map::DocState;
use super::{EngineError, GetResult, ShardEngine, ShardRole, WriteState};
use crate::mapping::document::DocumentParse;
use crate::mapping::{parse_document, DynamicMode, Mapping, ParsedDocument};
use crate::record::{decode_bytes, OpType, Operation, RecordBatch};
use crate::translog::{Durability, Location};

/// Optimistic concurrency and versioning of a client write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    /// No precondition; the version is the current one plus one.
    None,
    /// `if_seq_no` and `if_primary_term`: the current document must have exactly these.
    IfSeqNo {
        /// Required seq-no.
        seq_no: i64,
        /// Required primary term.
        primary_term: u64,
    },
    /// `version_type=external`: the given version must be higher than the current one.
    External {
        /// The version to write.
        version: i64,
    },
    /// `version_type=external_gte`: the given version must be at least the current one.
    ExternalGte {
        /// The version to write.
        version: i64,
    },
}

/// Index (create or replace) a document.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    /// The document id.
    pub id: String,
    /// The `_source` bytes, kept as given.
    pub source: Bytes,
    /// Custom routing, if any.
    pub routing: Option<String>,
    /// `op_type=create`: fail if the document exists.
    pub create_only: bool,
    /// Version precondition.
    pub version_check: VersionCheck,
    /// Whether the node generated the id (no existing document can have it).
    pub auto_generated_id: bool,
}

/// Delete a document.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    /// The document id.
    pub id: String,
    /// Custom routing, if any.
    pub routing: Option<String>,
    /// Version precondition.
    pub version_check: VersionCheck,
}

/// One client write.
#[derive(Debug, Clone)]
pub enum WriteRequest {
    /// Index a document.
    Index(IndexRequest),
    /// Delete a document.
    Delete(DeleteRequest),
}

impl WriteRequest {
    fn id(&self) -> &str {
        match self {
            WriteRequest::Index(request) => &request.id,
            WriteRequest::Delete(request) => &request.id,
        }
    }
}

/// What a successful write did (OpenSearch's `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// A new document.
    Created,
    /// Replaced an existing document.
    Updated,
    /// Deleted a document.
    Deleted,
    /// A delete of a document that did not exist (it still gets a seq-no and a tombstone).
    NotFound,
}

/// The result of one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteResult {
    /// What happened.
    pub outcome: WriteOutcome,
    /// Seq-no assigned.
    pub seq_no: i64,
    /// Primary term.
    pub primary_term: u64,
    /// The document's version after the write.
    pub version: i64,
    location: Location,
}

/// What a replica batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaApplyOutcome {
    /// Operations applied to the index.
    pub applied: u64,
    /// Operations older than what the id already had (recorded, not applied).
    pub stale: u64,
    /// Operations already processed before (ignored).
    pub duplicates: u64,
    /// The local checkpoint after the batch.
    pub local_checkpoint: i64,
    /// The highest seq-no processed after the batch.
    pub max_seq_no: i64,
}

/// What a caller of [`ShardEngine::apply_replica_batch`] passes when it does not know the
/// primary's max seq-no of updates and deletes: every operation is then looked up.
pub const MAX_SEQ_NO_OF_UPDATES_UNKNOWN: i64 = i64::MAX;

/// Replica operations applied per hold of the write lock.
const REPLICA_OPS_PER_LOCK_HOLD: usize = 64;

enum Prepared {
    Index(ParsedDocument),
    Delete,
}

impl ShardEngine {
    /// Applies client writes as a primary, in order, and returns one result per request
    /// processed.
    ///
    /// Durability: with `request` durability, every `Ok` result is durable in the translog
    /// when this returns (one group-committed fsync covers the batch). Ordering: requests are
    /// applied in the given order; a later request sees an earlier one's effect.
    ///
    /// If a document needs fields its mapping lacks, processing stops there: the last result
    /// is [`EngineError::MappingUpdateRequired`], the requests after it are not processed
    /// (the returned vector is shorter), and the caller installs the mapping and resubmits the
    /// rest. Other per-request errors (version conflicts, bad documents) do not stop the batch.
    pub fn write_batch(
        &self,
        requests: &[WriteRequest],
    ) -> Result<Vec<Result<WriteResult, EngineError>>, EngineError> {
        self.check_not_failed()?;
        let mapping = self.mapping();
        let mut prepared: Vec<Result<Prepared, EngineError>> = Vec::with_capacity(requests.len());
        for request in requests {
            let outcome = prepare(&mapping, request);
            let stop = matches!(outcome, Err(EngineError::MappingUpdateRequired { .. }));
            prepared.push(outcome);
            if stop {
                break;
            }
        }
        let mut results = Vec::with_capacity(prepared.len());
        let mut last_location = None;
        {
            let mut state = self.write.lock();
            if state.role != ShardRole::Primary {
                return Err(EngineError::IllegalState(
                    "client writes go to a primary shard".into(),
                ));
            }
            for (request, prepared) in requests.iter().zip(prepared) {
                let prepared = match prepared {
                    Ok(_) if state.mapping.version != mapping.version => {
                        prepare(&state.mapping.clone(), request)
                    }
                    other => other,
                };
                let stop = matches!(prepared, Err(EngineError::MappingUpdateRequired { .. }));
                let result =
                    prepared.and_then(|prepared| self.apply_primary(&mut state, request, prepared));
                if let Ok(result) = &result {
                    last_location = Some(result.location);
                }
                results.push(result);
                if stop {
                    break;
                }
            }
            self.hand_over_staged(&mut state)?;
        }
        if let Some(location) = last_location {
            if self.config.durability == Durability::Request {
                self.make_durable(location)?;
            }
        }
        Ok(results)
    }

    fn make_durable(&self, location: Location) -> Result<(), EngineError> {
        if let Err(error) = self.translog.sync_to(location) {
            return Err(self.fail(error));
        }
        self.advance_persisted();
        Ok(())
    }

    fn apply_primary(
        &self,
        state: &mut WriteState,
        request: &WriteRequest,
        prepared: Prepared,
    ) -> Result<WriteResult, EngineError> {
        let id = request.id();
        let skip_lookup = matches!(request, WriteRequest::Index(index) if index.auto_generated_id && index.create_only);
        let current = if skip_lookup {
            None
        } else {
            self.current_state(state, id)?
        };
        let (version_check, create_only) = match request {
            WriteRequest::Index(index) => (index.version_check, index.create_only),
            WriteRequest::Delete(delete) => (delete.version_check, false),
        };
        let version = next_version(id, current, version_check, create_only)?;
        let live = current.filter(|state| !state.deleted);
        let (op_type, source, routing, auto_generated_id, outcome) = match request {
            WriteRequest::Index(index) => (
                OpType::Index,
                index.source.clone(),
                index.routing.clone(),
                index.auto_generated_id,
                if live.is_some() {
                    WriteOutcome::Updated
                } else {
                    WriteOutcome::Created
                },
            ),
            WriteRequest::Delete(delete) => (
                OpType::Delete,
                Bytes::new(),
                delete.routing.clone(),
                false,
                if live.is_some() {
                    WriteOutcome::Deleted
                } else {
                    WriteOutcome::NotFound
                },
            ),
        };
        let operation = Operation {
            seq_no: state.next_seq_no,
            primary_term: state.primary_term,
            op_type,
            id: id.to_string(),
            routing,
            version,
            mapping_version: state.mapping.version,
            auto_generated_id,
            source,
        };
        let location = self
            .translog
            .append(&operation)
            .map_err(|error| self.fail(error))?;
        state.next_seq_no += 1;
        let parsed = match prepared {
            Prepared::Index(parsed) => Some(parsed),
            Prepared::Delete => None,
        };
        // Without a live copy anywhere (new id, or a tombstone) there is nothing to delete; a
        // delete term costs a lookup in every segment at the next commit.
        let replaces_live_copy = live.is_some();
        if replaces_live_copy || operation.op_type == OpType::Delete {
            // Counted before the operation is marked processed, so a history read that sees
            // it below the checkpoint sees it counted too.
            self.advance_max_seq_no_of_updates_or_deletes(operation.seq_no);
        }
        self.apply_to_index(
            state,
            &operation,
            parsed,
            Some(location),
            replaces_live_copy,
        )?;
        Ok(WriteResult {
            outcome,
            seq_no: operation.seq_no,
            primary_term: operation.primary_term,
            version,
            location,
        })
    }

    /// Applies a batch of a leader's records (their own bytes, as read from the leader's
    /// translog) as a replica, idempotently: duplicates are ignored, operations older than an
    /// id's current one are recorded but not applied, and the local checkpoint advances only
    /// over filled gaps. Every record's crc is checked before anything is applied.
    ///
    /// `max_seq_no_of_updates` is the primary's max seq-no of updates and deletes, read after
    /// the records (or [`MAX_SEQ_NO_OF_UPDATES_UNKNOWN`]). Once the local checkpoint has
    /// reached it, an index operation above it created its id on the primary, and is
    /// indexed without looking the id up.
    ///
    /// If an operation was written under a newer mapping than the shard has, the batch stops
    /// with [`EngineError::NeedsMappingVersion`]; operations before it stay applied and the
    /// caller retries the whole batch after installing the mapping (duplicates are ignored).
    /// A document its mapping refuses stops the batch the same way, with that error.
    /// Durability follows the shard's durability setting, as for client writes, and covers
    /// what was applied before an error too.
    pub fn apply_replica_batch(
        &self,
        records: &Bytes,
        max_seq_no_of_updates: i64,
    ) -> Result<ReplicaApplyOutcome, EngineError> {
        self.check_not_failed()?;
        let updates_bound = if max_seq_no_of_updates == MAX_SEQ_NO_OF_UPDATES_UNKNOWN {
            MAX_SEQ_NO_OF_UPDATES_UNKNOWN
        } else {
            self.advance_max_seq_no_of_updates_or_deletes(max_seq_no_of_updates);
            self.max_seq_no_of_updates_or_deletes()
        };
        // Every record is checked before any is applied; each chunk is then decoded and
        // parsed just before its turn, so the parsed documents of a 50,000-op batch never sit
        // in memory all at once (touching that much fresh memory cost page faults and cache
        // misses).
        RecordBatch::new(records.clone())?;
        let mapping = self.mapping();
        let mut outcome = ReplicaApplyOutcome::default();
        let mut last_location = None;
        let mut result = Ok(());
        let mut offset = 0;
        // The lock is let go every few operations: a real-time GET or a stats call waits for
        // one chunk, not for a whole batch of a leader's history.
        while offset < records.len() && result.is_ok() {
            let mut chunk = Vec::with_capacity(REPLICA_OPS_PER_LOCK_HOLD);
            while offset < records.len() && chunk.len() < REPLICA_OPS_PER_LOCK_HOLD {
                match decode_for_replica(&mapping, &records.slice(offset..)) {
                    Ok(decoded) => {
                        offset += decoded.raw.len();
                        chunk.push(decoded);
                    }
                    // The operations before it are applied (and made durable) first.
                    Err(error) => {
                        result = Err(error);
                        break;
                    }
                }
            }
            let mut state = self.write.lock();
            if state.role != ShardRole::Replica {
                result = Err(EngineError::IllegalState(
                    "replicated operations go to a replica shard".into(),
                ));
                break;
            }
            for decoded in chunk {
                let step = self.apply_replica_one(
                    &mut state,
                    &mapping,
                    updates_bound,
                    &decoded.operation,
                    &decoded.raw,
                    decoded.parsed,
                );
                match step {
                    Ok(ReplicaStep::Duplicate) => outcome.duplicates += 1,
                    Ok(ReplicaStep::Stale(location)) => {
                        outcome.stale += 1;
                        last_location = Some(location);
                    }
                    Ok(ReplicaStep::Applied(location)) => {
                        outcome.applied += 1;
                        last_location = Some(location);
                    }
                    Err(error) => {
                        result = Err(error);
                        break;
                    }
                }
            }
            if let Err(error) = self.hand_over_staged(&mut state) {
                result = Err(error);
            }
            outcome.local_checkpoint = state.processed.checkpoint();
            outcome.max_seq_no = state.processed.max_seq_no();
        }
        if let Some(location) = last_location {
            if self.config.durability == Durability::Request {
                self.make_durable(location)?;
            }
        }
        result.map(|()| outcome)
    }

    fn apply_replica_one(
        &self,
        state: &mut WriteState,
        parsed_with: &Mapping,
        updates_bound: i64,
        operation: &Operation,
        raw: &[u8],
        parsed: Option<ParsedDocument>,
    ) -> Result<ReplicaStep, EngineError> {
        if state.processed.contains(operation.seq_no) {
            return Ok(ReplicaStep::Duplicate);
        }
        if operation.mapping_version > state.mapping.version {
            return Err(EngineError::NeedsMappingVersion {
                required: operation.mapping_version,
                current: state.mapping.version,
            });
        }
        if !state.processed.has_room() {
            return Err(EngineError::IllegalState(format!(
                "operation {} is too far ahead of the local checkpoint {}",
                operation.seq_no,
                state.processed.checkpoint()
            )));
        }
        let parsed = if parsed_with.version == state.mapping.version {
            parsed
        } else {
            parse_for_replica(&state.mapping.clone(), operation)?
        };
        // Every update and delete is applied up to the checkpoint, and this operation is
        // above it: it created its id, so nothing can be older or newer than it, and no copy
        // needs deleting.
        let creates_id =
            operation.op_type == OpType::Index && updates_bound <= state.processed.checkpoint();
        let current = if creates_id {
            None
        } else {
            self.current_state(state, &operation.id)?
        };
        let stale = is_stale(current, operation);
        let location = self
            .translog
            .append_record(raw)
            .map_err(|error| self.fail(error))?;
        if stale {
            self.mark_processed(state, operation.seq_no, location);
            return Ok(ReplicaStep::Stale(location));
        }
        let replaces_live_copy = current.is_some_and(|current| !current.deleted);
        self.apply_to_index(state, operation, parsed, Some(location), replaces_live_copy)?;
        Ok(ReplicaStep::Applied(location))
    }

    /// Replays one operation read back from the translog at open (already durable there).
    pub(super) fn apply_recovered(&self, operation: &Operation) -> Result<(), EngineError> {
        let mut state = self.write.lock();
        if state.processed.contains(operation.seq_no) {
            return Ok(());
        }
        if operation.mapping_version > state.mapping.version {
            return Err(EngineError::IllegalState(format!(
                "the translog holds operation {} written under mapping version {} but the shard was given version {}",
                operation.seq_no, operation.mapping_version, state.mapping.version
            )));
        }
        let parsed = parse_for_replica(&state.mapping.clone(), operation)?;
        let current = if operation.op_type == OpType::NoOp {
            None
        } else {
            self.current_state(&state, &operation.id)?
        };
        if is_stale(current, operation) {
            self.note_processed(&mut state, operation.seq_no);
            return Ok(());
        }
        let replaces_live_copy = current.is_some_and(|current| !current.deleted);
        self.apply_to_index(&mut state, operation, parsed, None, replaces_live_copy)?;
        self.hand_over_staged(&mut state)
    }

    /// Fills every seq-no hole below the max seq-no with a no-op (primary only), so the local
    /// checkpoint can pass it. Durable when it returns.
    pub(crate) fn fill_seq_no_gaps(&self) -> Result<(), EngineError> {
        let mut last_location = None;
        {
            let mut state = self.write.lock();
            for seq_no in state.processed.gaps() {
                let operation = Operation {
                    seq_no,
                    primary_term: state.primary_term,
                    op_type: OpType::NoOp,
                    id: String::new(),
                    routing: None,
                    version: 1,
                    mapping_version: state.mapping.version,
                    auto_generated_id: false,
                    source: Bytes::from_static(b"filling gaps"),
                };
                let location = self
                    .translog
                    .append(&operation)
                    .map_err(|error| self.fail(error))?;
                self.mark_processed(&mut state, seq_no, location);
                last_location = Some(location);
            }
        }
        if let Some(location) = last_location {
            self.make_durable(location)?;
        }
        Ok(())
    }

    /// Turns a replica into a primary (replication stopped): fills holes, then assigns
    /// seq-nos from the max seq-no on.
    pub fn promote_to_primary(&self, primary_term: u64) -> Result<(), EngineError> {
        {
            let mut state = self.write.lock();
            state.role = ShardRole::Primary;
            state.primary_term = state.primary_term.max(primary_term);
            state.next_seq_no = state.processed.max_seq_no() + 1;
        }
        self.fill_seq_no_gaps()
    }

    /// Real-time GET: the latest version of `id`, refreshed or not.
    pub fn get(&self, id: &str) -> Result<Option<GetResult>, EngineError> {
        let entry = self.write.lock().versions.get(id).cloned();
        if let Some(entry) = entry {
            if entry.state.deleted {
                return Ok(None);
            }
            if let Some(location) = entry.location {
                // The generation may have been trimmed after a refresh committed the op; the
                // committed index then has it.
                if let Ok(operation) = self.translog.read(location) {
                    return Ok(Some(GetResult {
                        state: entry.state,
                        source: operation.source,
                        routing: entry.routing,
                    }));
                }
            }
        }
        get_committed(&self.searcher(), &self.schema, id)
    }

    fn current_state(&self, state: &WriteState, id: &str) -> Result<Option<DocState>, EngineError> {
        if let Some(entry) = state.versions.get(id) {
            return Ok(Some(entry.state));
        }
        Ok(find_committed(&self.searcher(), &self.schema, id)?.map(|(_, state)| state))
    }

    fn apply_to_index(
        &self,
        state: &mut WriteState,
        operation: &Operation,
        parsed: Option<ParsedDocument>,
        location: Option<Location>,
        replaces_live_copy: bool,
    ) -> Result<(), EngineError> {
        if operation.op_type != OpType::NoOp {
            if replaces_live_copy {
                let id_term = Term::from_field_text(self.schema.id, &operation.id);
                state.staged.stage(FeedOp::Delete(id_term), 0);
            }
            let doc_state = DocState {
                seq_no: operation.seq_no,
                primary_term: operation.primary_term,
                version: operation.version,
                deleted: operation.op_type == OpType::Delete,
            };
            if operation.op_type == OpType::Index {
                let document = self.tantivy_document(operation, parsed.unwrap_or_default());
                state
                    .staged
                    .stage(FeedOp::Add(document), operation.source.len());
                state.versions.put(
                    &operation.id,
                    doc_state,
                    location,
                    operation.routing.clone(),
                );
            } else {
                state.versions.put(&operation.id, doc_state, None, None);
            }
        }
        state.uncommitted_ops += 1;
        if state.staged.is_full() {
            self.hand_over_staged(state)?;
        }
        match location {
            Some(location) => self.mark_processed(state, operation.seq_no, location),
            None => self.note_processed(state, operation.seq_no),
        }
        Ok(())
    }

    /// Hands the operations staged for tantivy to the index feed. Every hold of the write
    /// lock that applied operations ends with this, so the feed gets them in seq-no order
    /// and before anything queued later (a commit).
    pub(super) fn hand_over_staged(&self, state: &mut WriteState) -> Result<(), EngineError> {
        self.feed
            .push_staged(&mut state.staged)
            .map_err(|reason| self.fail(EngineError::IndexFeed(reason)))
    }

    fn mark_processed(&self, state: &mut WriteState, seq_no: i64, location: Location) {
        self.note_processed(state, seq_no);
        self.persisted.lock().pending.push_back((location, seq_no));
    }

    /// Marks an operation processed: in the checkpoint tracker and in the max seq-no that
    /// changes reads see without the write lock. Replayed operations stop here (already
    /// durable); new ones also wait in [`ShardEngine::mark_processed`] for their sync.
    fn note_processed(&self, state: &mut WriteState, seq_no: i64) {
        state.processed.mark_processed(seq_no);
        self.max_seq_no
            .fetch_max(seq_no, std::sync::atomic::Ordering::AcqRel);
    }

    fn tantivy_document(&self, operation: &Operation, parsed: ParsedDocument) -> TantivyDocument {
        let schema = &self.schema;
        let mut document = TantivyDocument::new();
        document.add_text(schema.id, &operation.id);
        document.add_bytes(schema.source, &operation.source);
        if let Some(routing) = &operation.routing {
            document.add_text(schema.routing, routing);
        }
        document.add_i64(schema.seq_no, operation.seq_no);
        document.add_i64(schema.version, operation.version);
        document.add_u64(schema.primary_term, operation.primary_term);
        if !parsed.text_values.is_empty() {
            document.add_field_value(schema.text, &OwnedValue::Object(parsed.text_values));
        }
        if !parsed.exact_values.is_empty() {
            document.add_field_value(schema.exact, &OwnedValue::Object(parsed.exact_values));
        }
        for path in &parsed.field_names {
            document.add_text(schema.field_names, path);
        }
        document
    }
}

/// Whether `operation` is older than (or the same as) what the id already has: a no-op never
/// is, and neither is anything for an id the shard has never seen.
fn is_stale(current: Option<DocState>, operation: &Operation) -> bool {
    operation.op_type != OpType::NoOp
        && current.is_some_and(|current| current.seq_no >= operation.seq_no)
}

enum ReplicaStep {
    Duplicate,
    Stale(Location),
    Applied(Location),
}

fn prepare(mapping: &Mapping, request: &WriteRequest) -> Result<Prepared, EngineError> {
    match request {
        WriteRequest::Delete(_) => Ok(Prepared::Delete),
        WriteRequest::Index(index) => {
            match parse_document(mapping, &index.source, &index.id, DynamicMode::Propose)? {
                DocumentParse::Parsed(parsed) => Ok(Prepared::Index(parsed)),
                DocumentParse::NeedsMapping(proposed) => Err(EngineError::MappingUpdateRequired {
                    proposed: Box::new(proposed),
                }),
            }
        }
    }
}

/// A leader's record, decoded and parsed for a replica.
struct ReplicaRecord {
    operation: Operation,
    /// The record's own bytes, for the replica's translog.
    raw: Bytes,
    parsed: Option<ParsedDocument>,
}

/// Decodes and parses the first record of `records`.
fn decode_for_replica(mapping: &Mapping, records: &Bytes) -> Result<ReplicaRecord, EngineError> {
    let (operation, used) = decode_bytes(records)?;
    let parsed = parse_for_replica(mapping, &operation)?;
    Ok(ReplicaRecord {
        operation,
        raw: records.slice(..used),
        parsed,
    })
}

fn parse_for_replica(
    mapping: &Mapping,
    operation: &Operation,
) -> Result<Option<ParsedDocument>, EngineError> {
    if operation.op_type != OpType::Index || operation.mapping_version > mapping.version {
        return Ok(None);
    }
    match parse_document(
        mapping,
        &operation.source,
        &operation.id,
        DynamicMode::Never,
    )? {
        DocumentParse::Parsed(parsed) => Ok(Some(parsed)),
        DocumentParse::NeedsMapping(_) => unreachable!("replica parsing never proposes mappings"),
    }
}

/// The version a write gets, or the conflict that refuses it.
fn next_version(
    id: &str,
    current: Option<DocState>,
    check: VersionCheck,
    create_only: bool,
) -> Result<i64, EngineError> {
    let conflict = |reason: String| EngineError::VersionConflict {
        id: id.to_string(),
        reason: format!("[{id}]: version conflict, {reason}"),
    };
    let live = current.filter(|state| !state.deleted);
    if create_only {
        if let Some(live) = live {
            return Err(conflict(format!(
                "document already exists (current version [{}])",
                live.version
            )));
        }
    }
    match check {
        VersionCheck::None => Ok(current.map_or(1, |state| state.version + 1)),
        VersionCheck::IfSeqNo {
            seq_no,
            primary_term,
        } => match live {
            Some(live) if live.seq_no == seq_no && live.primary_term == primary_term => {
                Ok(live.version + 1)
            }
            Some(live) => Err(conflict(format!(
                "required seqNo [{seq_no}], primary term [{primary_term}]. current document has seqNo [{}] and primary term [{}]",
                live.seq_no, live.primary_term
            ))),
            None => Err(conflict(format!(
                "required seqNo [{seq_no}], primary term [{primary_term}]. but no document was found"
            ))),
        },
        VersionCheck::External { version } => match current {
            Some(current) if current.version >= version => Err(conflict(format!(
                "current version [{}] is higher or equal to the one provided [{version}]",
                current.version
            ))),
            _ => Ok(version),
        },
        VersionCheck::ExternalGte { version } => match current {
            Some(current) if current.version > version => Err(conflict(format!(
                "current version [{}] is higher than the one provided [{version}]",
                current.version
            ))),
            _ => Ok(version),
        },
    }
}

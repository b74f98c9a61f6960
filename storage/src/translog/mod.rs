//! The translog: one shard's write-ahead log of operations, after Elasticsearch's design.
//!
//! On disk, in one directory: generation files `translog-<gen>.tlog` (a header, then
//! [`crate::record`] frames back to back; see `generation.rs`) and `translog.ckp`, the
//! checkpoint (two alternating slots; see [`checkpoint`]). The checkpoint is the durable truth:
//! it lists every retained generation with its valid length. Bytes past the current
//! generation's checkpointed (durable) offset are an unsynced or torn tail; they are never
//! read and never appended to: every [`Translog::open`] starts a new generation.
//!
//! Ordering and durability: operations are stored in append order. [`Translog::append`] only
//! buffers; [`Translog::sync`] / [`Translog::sync_to`] make everything appended before the call
//! durable (write buffer, fdatasync the generation, then write and fdatasync the checkpoint) and
//! group concurrent callers onto one fsync. Sealing a generation (roll) makes all of it durable.
//! After any failed write or fsync the translog closes itself ("tragic" close): nothing later
//! is acknowledged, and reopening recovers exactly what the checkpoint covers.
//!
//! Locks, always taken in this order: `sync_lock` → `writer` → `checkpoint` → `state` →
//! `durable`. Fsync of the generation file never holds `writer`, so appends continue during a
//! sync. This module owns the files of one translog directory; it must never touch other
//! files, never do network I/O, and never serve an operation whose record crc did not verify.

pub mod checkpoint;
mod config;
mod error;
mod generation;
mod read;
mod recovery;
mod syncer;
mod trim;
mod types;
mod writer;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use memmap2::Mmap;
use parking_lot::{Mutex, RwLock};

pub use checkpoint::{GenerationSummary, GENERATIONS_RETAINED_MAX, NO_OPS_SEQ_NO};
pub use config::{
    Durability, TranslogConfig, GENERATION_BYTES_MAX_DEFAULT, GENERATION_BYTES_MAX_MIN,
    SYNC_INTERVAL_DEFAULT, SYNC_INTERVAL_MIN,
};
pub use error::{Result, TranslogError};
pub use generation::{GENERATION_FORMAT_VERSION, GENERATION_HEADER_BYTES, GENERATION_MAGIC};
pub use read::TranslogIter;
pub use types::{Location, OpsBatch, TranslogStats, TrimOutcome};

use crate::record::Operation;
use checkpoint::CheckpointFile;
use syncer::Syncer;
use writer::Writer;

/// One shard's translog. `Send + Sync`: every method takes `&self` and locks internally.
///
/// In [`Durability::Async`] mode a background thread owned by the translog syncs every
/// `sync_interval`; it is stopped and joined by [`Translog::close`] or on drop. Dropping
/// without `close` does not sync: unsynced operations are lost, as in a crash.
pub struct Translog {
    shared: Arc<Shared>,
    syncer: Option<Syncer>,
}

/// State shared with the background syncer.
struct Shared {
    dir: PathBuf,
    uuid: [u8; 16],
    config: TranslogConfig,
    /// Serializes syncs, so concurrent callers wait for one fsync and then find their data
    /// durable instead of each issuing their own.
    sync_lock: Mutex<()>,
    writer: Mutex<Writer>,
    checkpoint: Mutex<CheckpointFile>,
    state: RwLock<ReadState>,
    durable: Mutex<DurableMark>,
    /// Set on the first failed write or fsync; `tragic_reason` says why.
    tragic: AtomicBool,
    tragic_reason: Mutex<Option<String>>,
    fsyncs: AtomicU64,
    checkpoint_writes: AtomicU64,
    #[cfg(test)]
    fail_next_fsync: AtomicBool,
}

/// What readers need: sealed generations, the active file, and the seq_no index.
struct ReadState {
    sealed: BTreeMap<u64, SealedGeneration>,
    active_generation: u64,
    active_file: Arc<File>,
    active_path: PathBuf,
    /// Seq_no → record. For a seq_no appended twice, the record with the higher primary term
    /// wins, and on a tie the later one. Entries below `history_min_seq_no` are dropped.
    index: BTreeMap<i64, IndexEntry>,
    history_min_seq_no: i64,
    max_seq_no: i64,
}

struct SealedGeneration {
    path: PathBuf,
    map: Arc<Mmap>,
    summary: GenerationSummary,
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    location: Location,
    primary_term: u64,
}

/// The durable position: everything in generations below `generation`, and the first `offset`
/// bytes of `generation`.
#[derive(Debug, Clone, Copy)]
struct DurableMark {
    generation: u64,
    offset: u64,
    max_seq_no: i64,
}

impl DurableMark {
    fn covers(&self, generation: u64, end: u64) -> bool {
        generation < self.generation || (generation == self.generation && end <= self.offset)
    }

    /// Moves the mark forward; a position behind it (a sync overtaken by a roll) changes
    /// nothing, so the mark never goes back.
    fn advance(&mut self, generation: u64, offset: u64, max_seq_no: i64) {
        if (generation, offset) > (self.generation, self.offset) {
            self.generation = generation;
            self.offset = offset;
        }
        self.max_seq_no = self.max_seq_no.max(max_seq_no);
    }
}

impl ReadState {
    /// Records that `seq_no` is stored at `entry`; see [`ReadState::index`] for duplicates.
    fn insert(&mut self, seq_no: i64, entry: IndexEntry) {
        self.max_seq_no = self.max_seq_no.max(seq_no);
        if seq_no < self.history_min_seq_no {
            return;
        }
        match self.index.entry(seq_no) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(entry);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => {
                if entry.primary_term >= slot.get().primary_term {
                    slot.insert(entry);
                }
            }
        }
    }
}

const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Translog>();
};

impl Translog {
    /// Creates a new, empty translog in `dir` (created if missing) and returns it open.
    ///
    /// `primary_term` (at least 1) goes into the first generation's header;
    /// `history_min_seq_no` is the lowest seq_no this translog will ever serve (0 for a new
    /// primary, the commit's local checkpoint + 1 for a shard installed from a snapshot).
    /// Fails with [`TranslogError::AlreadyExists`] if `dir` holds translog files. Durability:
    /// when this returns, the empty translog is on stable storage. Blocks on fsync.
    pub fn create(
        dir: &Path,
        config: TranslogConfig,
        primary_term: u64,
        history_min_seq_no: i64,
    ) -> Result<Translog> {
        let shared = recovery::create(dir, config, primary_term, history_min_seq_no)?;
        Ok(Translog::start(shared))
    }

    /// Opens the translog in `dir` after a restart or crash.
    ///
    /// Verifies the checkpoint, that every retained generation exists and is consecutive, and
    /// every record in every generation's checkpointed range; any damage there fails the open
    /// ([`TranslogError::Corrupt`] naming file and offset) rather than recovering partially.
    /// Bytes past the checkpointed range are ignored with a warning. Always starts a new
    /// generation (written with `primary_term`) and checkpoints it before returning; a leftover
    /// next generation from a crash during a roll is deleted. Blocks on fsync.
    pub fn open(dir: &Path, config: TranslogConfig, primary_term: u64) -> Result<Translog> {
        let shared = recovery::open(dir, config, primary_term)?;
        Ok(Translog::start(shared))
    }

    fn start(shared: Shared) -> Translog {
        let shared = Arc::new(shared);
        let syncer = match shared.config.durability {
            Durability::Request => None,
            Durability::Async { sync_interval } => {
                Some(Syncer::spawn(Arc::clone(&shared), sync_interval))
            }
        };
        Translog { shared, syncer }
    }

    /// This translog's uuid; the engine stores it in its commit and checks it on open.
    pub fn uuid(&self) -> [u8; 16] {
        self.shared.uuid
    }

    /// The translog directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Appends `op` and returns where it went. Not durable until a sync covers the location.
    ///
    /// Operations are stored in call order. May write the buffer to the file (no fsync), and
    /// may roll to a new generation once the active one passes `generation_bytes_max`, which
    /// fsyncs. An invalid operation is refused ([`TranslogError::Record`]) without side effects.
    pub fn append(&self, op: &Operation) -> Result<Location> {
        self.shared.append(op)
    }

    /// Appends one record already encoded elsewhere (the replica path: bytes received from the
    /// leader), unchanged, after verifying it is exactly one valid record. Same ordering and
    /// durability as [`Translog::append`].
    pub fn append_record(&self, record_bytes: &[u8]) -> Result<Location> {
        self.shared.append_record(record_bytes)
    }

    /// Makes everything appended before this call durable. Returns at once if it already is.
    /// Blocks on fsync.
    pub fn sync(&self) -> Result<()> {
        self.shared.sync()
    }

    /// Makes the record at `location` (and everything appended before it) durable: the group
    /// commit path for `index.translog.durability: request`. Returns at once if already
    /// durable; concurrent callers share one fsync, and appends continue while it runs.
    /// Blocks on fsync.
    pub fn sync_to(&self, location: Location) -> Result<()> {
        self.shared.sync_to(location)
    }

    /// Whether the record at `location` is durable. Never blocks on I/O.
    pub fn is_durable(&self, location: Location) -> bool {
        self.shared
            .durable
            .lock()
            .covers(location.generation, location.end())
    }

    /// Largest seq_no among durable records, or [`NO_OPS_SEQ_NO`]. Never blocks on I/O.
    pub fn durable_max_seq_no(&self) -> i64 {
        self.shared.durable.lock().max_seq_no
    }

    /// Reads the operation at `location`, durable or not (real-time get). Verifies the crc.
    pub fn read(&self, location: Location) -> Result<Operation> {
        self.shared.read(location)
    }

    /// Returns the durable operations with `from_seq_no <= seq_no <= to_seq_no` in seq_no
    /// order, as their records' bytes, whatever order they were appended in.
    ///
    /// Stops after `ops_max` operations, before the one that would take the batch past
    /// `bytes_max` (but returns at least one if any is available), at the first operation not
    /// yet durable (so an empty batch can mean "wait for the next sync"), or before a missing
    /// seq_no. Fails with [`TranslogError::HistoryGone`] if `from_seq_no` is below
    /// [`Translog::history_min_seq_no`], and with [`TranslogError::HistoryIncomplete`] if
    /// `from_seq_no` itself is missing while a later seq_no in range is stored (so a gap after
    /// the first operation ends the batch, and the next call, starting at the gap, reports it).
    /// Nothing stored at or after `from_seq_no` gives an empty batch, so callers pass a
    /// `to_seq_no` they know was processed. Copies records outside the locks that appends take.
    pub fn read_ops(
        &self,
        from_seq_no: i64,
        to_seq_no: i64,
        ops_max: usize,
        bytes_max: usize,
    ) -> Result<OpsBatch> {
        self.shared
            .read_ops(from_seq_no, to_seq_no, ops_max, bytes_max)
    }

    /// Every operation with `seq_no > above_seq_no` in append order, as crash recovery must
    /// replay them, from all retained generations. Covers everything appended before this call
    /// (it writes the buffer to the file, without fsync); later appends are not seen.
    pub fn iter_from(&self, above_seq_no: i64) -> Result<TranslogIter> {
        self.shared.iter_from(above_seq_no)
    }

    /// Deletes the oldest sealed generations whose ops are all below `keep_from_seq_no`; then,
    /// while the retained bytes exceed `retention_bytes_max`, further oldest sealed generations
    /// even if `keep_from_seq_no` wants them. Never deletes the active generation or one
    /// holding an op above `committed_seq_no`. The new history_min_seq_no is checkpointed
    /// before any file is unlinked. Blocks on fsync.
    pub fn trim(
        &self,
        keep_from_seq_no: i64,
        committed_seq_no: i64,
        retention_bytes_max: u64,
    ) -> Result<TrimOutcome> {
        self.shared
            .trim(keep_from_seq_no, committed_seq_no, retention_bytes_max)
    }

    /// Seals the active generation (fsynced, so everything appended so far becomes durable) and
    /// starts a new one. Blocks on fsync.
    pub fn roll_generation(&self) -> Result<()> {
        self.shared.roll_generation()
    }

    /// Lowest seq_no this translog can serve; never decreases.
    pub fn history_min_seq_no(&self) -> i64 {
        self.shared.state.read().history_min_seq_no
    }

    /// Current counters. Never blocks on I/O.
    pub fn stats(&self) -> TranslogStats {
        self.shared.stats()
    }

    /// Stops the background syncer, if any, then syncs. Durability: when this returns `Ok`,
    /// every appended operation is durable.
    pub fn close(mut self) -> Result<()> {
        if let Some(syncer) = self.syncer.take() {
            syncer.stop();
        }
        self.shared.sync()
    }
}

impl Drop for Translog {
    fn drop(&mut self) {
        if let Some(syncer) = self.syncer.take() {
            syncer.stop();
        }
    }
}

impl std::fmt::Debug for Translog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translog")
            .field("dir", &self.shared.dir)
            .field("uuid", &error::hex(&self.shared.uuid))
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Fails with [`TranslogError::Closed`] once a write or fsync has failed.
    fn check_open(&self) -> Result<()> {
        if !self.tragic.load(Ordering::Acquire) {
            return Ok(());
        }
        let reason = self.tragic_reason.lock().clone().unwrap_or_default();
        Err(TranslogError::Closed { reason })
    }

    /// Closes the translog for writing after `source` failed on `path`, and returns the error
    /// for the caller that hit it.
    fn tragic(&self, path: &Path, source: io::Error) -> TranslogError {
        let reason = format!("{}: {source}", path.display());
        tracing::error!(path = %path.display(), error = %source, "translog write failed, closing translog");
        let mut slot = self.tragic_reason.lock();
        if slot.is_none() {
            *slot = Some(reason);
        }
        self.tragic.store(true, Ordering::Release);
        TranslogError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Fdatasyncs a generation file, counting it.
    fn fsync_generation(&self, file: &File) -> io::Result<()> {
        #[cfg(test)]
        if self.fail_next_fsync.swap(false, Ordering::AcqRel) {
            return Err(io::Error::other("injected fsync failure"));
        }
        file.sync_data()?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a checkpoint, closing the translog if that fails.
    fn write_checkpoint(
        &self,
        file: &mut CheckpointFile,
        next: checkpoint::Checkpoint,
    ) -> Result<()> {
        let path = file.path().to_path_buf();
        file.write(next).map_err(|err| self.tragic(&path, err))?;
        self.checkpoint_writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

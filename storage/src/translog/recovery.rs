//! Creating a translog and reopening one after a restart or crash.
//!
//! It owns the recovery rules: the checkpoint decides which generations and which bytes of
//! them exist; every record in that range is verified and indexed; anything past it is an
//! unsynced tail that is ignored and never appended to; a new generation is always started.
//! It must never recover partially: damage inside the checkpointed range fails the open.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};

use super::checkpoint::{Checkpoint, CheckpointFile, GenerationSummary, CHECKPOINT_FILE_NAME};
use super::checkpoint::{GENERATIONS_RETAINED_MAX, NO_OPS_SEQ_NO};
use super::error::io_error;
use super::generation::{self, fsync_dir, GenerationHeader, GENERATION_HEADER_BYTES};
use super::writer::Writer;
use super::{
    DurableMark, IndexEntry, Location, ReadState, Result, SealedGeneration, Shared, TranslogConfig,
    TranslogError,
};

pub(super) fn create(
    dir: &Path,
    config: TranslogConfig,
    primary_term: u64,
    history_min_seq_no: i64,
) -> Result<Shared> {
    config.validate()?;
    check_primary_term(primary_term)?;
    if history_min_seq_no < 0 {
        return Err(TranslogError::InvalidArgument {
            reason: format!("history_min_seq_no {history_min_seq_no} is negative"),
        });
    }
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    remove_orphans_without_checkpoint(dir)?;
    let uuid = new_uuid();
    let header = GenerationHeader {
        uuid,
        generation: 1,
        primary_term,
    };
    let (file, path) = generation::create(dir, &header)?;
    let checkpoint = Checkpoint {
        uuid,
        history_min_seq_no,
        generations: vec![empty_summary(header.generation)],
    };
    let checkpoint_file = CheckpointFile::create(dir, checkpoint)
        .map_err(io_error(dir.join(CHECKPOINT_FILE_NAME)))?;
    let file = Arc::new(file);
    let state = ReadState {
        sealed: BTreeMap::new(),
        active_generation: header.generation,
        active_file: Arc::clone(&file),
        active_path: path.clone(),
        index: BTreeMap::new(),
        history_min_seq_no,
        max_seq_no: NO_OPS_SEQ_NO,
    };
    let writer = Writer::new(header.generation, primary_term, file, path);
    Ok(assemble(dir, config, uuid, writer, checkpoint_file, state))
}

pub(super) fn open(dir: &Path, config: TranslogConfig, primary_term: u64) -> Result<Shared> {
    config.validate()?;
    check_primary_term(primary_term)?;
    let checkpoint_path = dir.join(CHECKPOINT_FILE_NAME);
    let mut checkpoint_file = match CheckpointFile::open(dir) {
        Ok(Ok(file)) => file,
        Ok(Err(reason)) => {
            return Err(TranslogError::Corrupt {
                file: checkpoint_path,
                offset: 0,
                reason,
            })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(TranslogError::NotFound {
                dir: dir.to_path_buf(),
            })
        }
        Err(err) => return Err(io_error(&checkpoint_path)(err)),
    };
    let checkpoint = checkpoint_file.current().clone();
    let uuid = checkpoint.uuid;
    tidy_directory(dir, &checkpoint)?;
    let mut state_sealed = BTreeMap::new();
    let mut records: Vec<(i64, IndexEntry)> = Vec::new();
    let mut term_seen = primary_term;
    for summary in &checkpoint.generations {
        let path = generation::path(dir, summary.generation);
        let map = generation::map(&path)?;
        let header = generation::decode_header(&path, &map, uuid, summary.generation)?;
        term_seen = term_seen.max(header.primary_term);
        generation::scan(&path, &map, summary, |record| {
            let location = Location {
                generation: summary.generation,
                offset: record.offset,
                len: u32::try_from(record.header.frame_len)
                    .expect("a verified record frame is at most RECORD_BODY_BYTES_MAX + 8 bytes"),
            };
            let entry = IndexEntry {
                location,
                primary_term: record.header.primary_term,
            };
            records.push((record.header.seq_no, entry));
            term_seen = term_seen.max(record.header.primary_term);
        })?;
        let ignored_bytes = (map.len() as u64).saturating_sub(summary.bytes);
        if ignored_bytes > 0 && summary.generation == checkpoint.current().generation {
            tracing::warn!(
                file = %path.display(),
                durable_offset = summary.bytes,
                ignored_bytes,
                "ignoring translog bytes past the last checkpoint (unsynced or torn tail)"
            );
        }
        state_sealed.insert(
            summary.generation,
            SealedGeneration {
                path,
                map: Arc::new(map),
                summary: *summary,
            },
        );
    }
    if checkpoint.generations.len() + 1 > GENERATIONS_RETAINED_MAX {
        return Err(TranslogError::TooManyGenerations {
            generations: checkpoint.generations.len(),
            max: GENERATIONS_RETAINED_MAX,
        });
    }
    let header = GenerationHeader {
        uuid,
        generation: checkpoint.current().generation + 1,
        primary_term: term_seen,
    };
    let (file, path) = generation::create(dir, &header)?;
    let mut next = checkpoint.clone();
    next.generations.push(empty_summary(header.generation));
    checkpoint_file
        .write(next)
        .map_err(io_error(&checkpoint_path))?;
    let file = Arc::new(file);
    let mut state = ReadState {
        sealed: state_sealed,
        active_generation: header.generation,
        active_file: Arc::clone(&file),
        active_path: path.clone(),
        index: BTreeMap::new(),
        history_min_seq_no: checkpoint.history_min_seq_no,
        max_seq_no: NO_OPS_SEQ_NO,
    };
    for (seq_no, entry) in records {
        state.insert(seq_no, entry);
    }
    let writer = Writer::new(header.generation, term_seen, file, path);
    let shared = assemble(dir, config, uuid, writer, checkpoint_file, state);
    tracing::info!(
        dir = %dir.display(),
        generation = header.generation,
        "translog opened"
    );
    Ok(shared)
}

fn assemble(
    dir: &Path,
    config: TranslogConfig,
    uuid: [u8; 16],
    writer: Writer,
    checkpoint: CheckpointFile,
    state: ReadState,
) -> Shared {
    let durable = DurableMark {
        generation: writer.generation,
        offset: GENERATION_HEADER_BYTES as u64,
        max_seq_no: state.max_seq_no,
    };
    Shared {
        dir: dir.to_path_buf(),
        uuid,
        config,
        sync_lock: Mutex::new(()),
        writer: Mutex::new(writer),
        checkpoint: Mutex::new(checkpoint),
        state: RwLock::new(state),
        durable: Mutex::new(durable),
        tragic: AtomicBool::new(false),
        tragic_reason: Mutex::new(None),
        fsyncs: AtomicU64::new(0),
        checkpoint_writes: AtomicU64::new(0),
        #[cfg(test)]
        fail_next_fsync: AtomicBool::new(false),
    }
}

/// A fresh translog uuid. Not cryptographic: std's `RandomState` keys are seeded from the OS
/// once per thread; mixing in the time, pid and a counter makes collisions between translogs
/// as unlikely as for a random 128-bit value without a new dependency.
pub(super) fn new_uuid() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut uuid = [0u8; 16];
    for (half, chunk) in uuid.chunks_exact_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write_u64(count);
        hasher.write_usize(half);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    // Version 4 and RFC 4122 variant bits, so the value reads as a random uuid.
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    uuid
}

/// Removes files a crash left behind and checks the retained generations are all there:
/// generations older than the checkpoint's oldest (a trim that checkpointed but did not finish
/// unlinking), the generation after the current one (a roll or open that created its file but
/// did not checkpoint it; nothing in it was acknowledged), and a checkpoint temp file.
fn tidy_directory(dir: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let min = checkpoint.min_retained_generation();
    let current = checkpoint.current().generation;
    let mut present = BTreeSet::new();
    let mut removed = false;
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        if name == format!("{CHECKPOINT_FILE_NAME}.tmp") {
            fs::remove_file(&path).map_err(io_error(&path))?;
            removed = true;
            continue;
        }
        let Some(gen) = generation::parse_file_name(name) else {
            continue;
        };
        if gen < min {
            tracing::info!(file = %path.display(), "deleting translog generation left by an unfinished trim");
        } else if Some(gen) == current.checked_add(1) {
            let len = entry.metadata().map(|meta| meta.len()).unwrap_or(0);
            tracing::warn!(file = %path.display(), len, "deleting translog generation left by an unfinished roll");
        } else if gen > current {
            return Err(TranslogError::Corrupt {
                file: path,
                offset: 0,
                reason: format!(
                    "generation file beyond the checkpoint's current generation {current}"
                ),
            });
        } else {
            present.insert(gen);
            continue;
        }
        fs::remove_file(&path).map_err(io_error(&path))?;
        removed = true;
    }
    if let Some(missing_generation) = (min..=current).find(|gen| !present.contains(gen)) {
        return Err(TranslogError::NotConsecutive {
            dir: dir.to_path_buf(),
            missing_generation,
        });
    }
    if removed {
        fsync_dir(dir)?;
    }
    Ok(())
}

/// Refuses to create over an existing checkpoint. Generation files without a checkpoint can
/// only come from a crash during a previous `create` (the checkpoint is written last); no
/// translog can read them, so they are removed.
fn remove_orphans_without_checkpoint(dir: &Path) -> Result<()> {
    let mut orphans = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == CHECKPOINT_FILE_NAME {
            return Err(TranslogError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        if generation::parse_file_name(name).is_some() {
            orphans.push(entry.path());
        }
    }
    for path in &orphans {
        tracing::warn!(file = %path.display(), "deleting translog generation without a checkpoint");
        fs::remove_file(path).map_err(io_error(path))?;
    }
    if !orphans.is_empty() {
        fsync_dir(dir)?;
    }
    Ok(())
}

fn check_primary_term(primary_term: u64) -> Result<()> {
    if primary_term == 0 {
        return Err(TranslogError::InvalidArgument {
            reason: "primary_term is 0".to_owned(),
        });
    }
    Ok(())
}

pub(super) fn empty_summary(generation: u64) -> GenerationSummary {
    GenerationSummary {
        generation,
        ops: 0,
        min_seq_no: NO_OPS_SEQ_NO,
        max_seq_no: NO_OPS_SEQ_NO,
        bytes: GENERATION_HEADER_BYTES as u64,
    }
}

//! The write path: appending to the active generation, group-committed syncs, and rolling.
//!
//! It owns the active generation's write buffer and the order of the durability steps (write
//! buffer → fdatasync generation → write + fdatasync checkpoint → publish the durable mark). It
//! must never publish a durable mark before the checkpoint covering it is synced, never hold the
//! writer lock across the fsync of a sync, and never write again after a write or fsync failed.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::checkpoint::{GenerationSummary, GENERATIONS_RETAINED_MAX, NO_OPS_SEQ_NO};
use super::generation::{self, GenerationHeader, GENERATION_HEADER_BYTES};
use super::{IndexEntry, Location, Result, SealedGeneration, Shared, TranslogError, TranslogStats};
use crate::record::{self, Operation, RecordError};

/// Appended bytes kept in memory before they are written to the file (without fsync). Bounds
/// memory per shard while keeping small appends to one `write` per batch.
const WRITE_BUFFER_BYTES_MAX: usize = 1024 * 1024;

/// The active generation, guarded by `Shared::writer`.
pub(super) struct Writer {
    pub(super) generation: u64,
    /// Term written into the next generation's header: the highest term seen.
    pub(super) primary_term: u64,
    pub(super) file: Arc<File>,
    pub(super) path: PathBuf,
    /// Appended bytes not yet written to the file; they start at `written`.
    pub(super) buffer: Vec<u8>,
    /// Bytes written to the file, header included.
    pub(super) written: u64,
    pub(super) ops: u64,
    pub(super) min_seq_no: i64,
    pub(super) max_seq_no: i64,
    /// Whether the "cannot roll, too many generations" warning was logged for this generation.
    roll_refusal_logged: bool,
}

impl Writer {
    /// A writer for a generation file holding only its header.
    pub(super) fn new(
        generation: u64,
        primary_term: u64,
        file: Arc<File>,
        path: PathBuf,
    ) -> Writer {
        Writer {
            generation,
            primary_term,
            file,
            path,
            buffer: Vec::new(),
            written: GENERATION_HEADER_BYTES as u64,
            ops: 0,
            min_seq_no: NO_OPS_SEQ_NO,
            max_seq_no: NO_OPS_SEQ_NO,
            roll_refusal_logged: false,
        }
    }

    /// Bytes appended to this generation, header included, written or buffered.
    pub(super) fn appended(&self) -> u64 {
        self.written + self.buffer.len() as u64
    }

    /// The generation as it will be once everything appended is synced.
    pub(super) fn summary(&self) -> GenerationSummary {
        GenerationSummary {
            generation: self.generation,
            ops: self.ops,
            min_seq_no: self.min_seq_no,
            max_seq_no: self.max_seq_no,
            bytes: self.appended(),
        }
    }

    /// Writes the buffer to the file (page cache; no fsync).
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.file.write_all_at(&self.buffer, self.written)?;
        self.written += self.buffer.len() as u64;
        self.buffer.clear();
        if self.buffer.capacity() > WRITE_BUFFER_BYTES_MAX {
            // One huge record must not pin its size in memory for the shard's lifetime.
            self.buffer.shrink_to(WRITE_BUFFER_BYTES_MAX);
        }
        Ok(())
    }

    fn note(&mut self, seq_no: i64, primary_term: u64) {
        self.min_seq_no = if self.ops == 0 {
            seq_no
        } else {
            self.min_seq_no.min(seq_no)
        };
        self.max_seq_no = self.max_seq_no.max(seq_no);
        self.ops += 1;
        self.primary_term = self.primary_term.max(primary_term);
    }
}

impl Shared {
    pub(super) fn append(&self, op: &Operation) -> Result<Location> {
        self.check_open()?;
        let mut writer = self.writer.lock();
        self.make_room(&mut writer, record::encoded_len(op))?;
        let offset = writer.appended();
        record::encode(op, &mut writer.buffer)?;
        let len = writer.appended() - offset;
        self.after_append(&mut writer, offset, len, op.seq_no, op.primary_term)
    }

    pub(super) fn append_record(&self, record_bytes: &[u8]) -> Result<Location> {
        self.check_open()?;
        let header = record::peek_header(record_bytes)?;
        if header.frame_len != record_bytes.len() {
            return Err(TranslogError::Record(RecordError::Corrupt {
                reason: format!(
                    "expected one record of {} bytes, got {} bytes",
                    header.frame_len,
                    record_bytes.len()
                ),
            }));
        }
        let mut writer = self.writer.lock();
        self.make_room(&mut writer, record_bytes.len())?;
        let offset = writer.appended();
        writer.buffer.extend_from_slice(record_bytes);
        let len = record_bytes.len() as u64;
        self.after_append(&mut writer, offset, len, header.seq_no, header.primary_term)
    }

    /// Writes the buffer out first if `len` more bytes would take it past its bound, so the
    /// buffer keeps one allocation instead of doubling and shrinking back around every flush.
    fn make_room(&self, writer: &mut Writer, len: usize) -> Result<()> {
        if !writer.buffer.is_empty() && writer.buffer.len() + len > WRITE_BUFFER_BYTES_MAX {
            self.flush_buffer(writer)?;
        }
        Ok(())
    }

    /// Writes the buffer out; a failed write fails the translog.
    fn flush_buffer(&self, writer: &mut Writer) -> Result<()> {
        let path = writer.path.clone();
        writer.flush().map_err(|err| self.tragic(&path, err))
    }

    fn after_append(
        &self,
        writer: &mut Writer,
        offset: u64,
        len: u64,
        seq_no: i64,
        primary_term: u64,
    ) -> Result<Location> {
        let len =
            u32::try_from(len).expect("a record frame is at most RECORD_BODY_BYTES_MAX + 8 bytes");
        let location = Location {
            generation: writer.generation,
            offset,
            len,
        };
        writer.note(seq_no, primary_term);
        self.state.write().insert(
            seq_no,
            IndexEntry {
                location,
                primary_term,
            },
        );
        if writer.buffer.len() >= WRITE_BUFFER_BYTES_MAX {
            self.flush_buffer(writer)?;
        }
        if writer.appended() >= self.config.generation_bytes_max {
            let retained = self.state.read().sealed.len() + 1;
            if retained + 1 < GENERATIONS_RETAINED_MAX {
                self.roll_locked(writer)?;
            } else if !writer.roll_refusal_logged {
                writer.roll_refusal_logged = true;
                tracing::warn!(
                    dir = %self.dir.display(),
                    generations = retained,
                    "translog retains the most generations allowed, not rolling until trimmed"
                );
            }
        }
        Ok(location)
    }

    pub(super) fn sync(&self) -> Result<()> {
        let (generation, end) = {
            let writer = self.writer.lock();
            (writer.generation, writer.appended())
        };
        self.sync_up_to(generation, end)
    }

    pub(super) fn sync_to(&self, location: Location) -> Result<()> {
        self.sync_up_to(location.generation, location.end())?;
        if self
            .durable
            .lock()
            .covers(location.generation, location.end())
        {
            Ok(())
        } else {
            Err(TranslogError::LocationNotFound { location })
        }
    }

    /// Group commit: one caller at a time flushes, fsyncs and checkpoints everything appended
    /// so far; callers queued behind it usually find their data covered and return.
    fn sync_up_to(&self, generation: u64, end: u64) -> Result<()> {
        if self.durable.lock().covers(generation, end) {
            return Ok(());
        }
        self.check_open()?;
        let _sync = self.sync_lock.lock();
        if self.durable.lock().covers(generation, end) {
            return Ok(());
        }
        self.check_open()?;
        let (file, path, summary) = {
            let mut writer = self.writer.lock();
            let path = writer.path.clone();
            writer.flush().map_err(|err| self.tragic(&path, err))?;
            (Arc::clone(&writer.file), path, writer.summary())
        };
        self.fsync_generation(&file)
            .map_err(|err| self.tragic(&path, err))?;
        {
            let mut checkpoint = self.checkpoint.lock();
            let current = *checkpoint.current().current();
            // A roll since the flush sealed this generation at or past `summary.bytes`.
            if current.generation == summary.generation && current.bytes < summary.bytes {
                let mut next = checkpoint.current().clone();
                *next
                    .generations
                    .last_mut()
                    .expect("a checkpoint lists its current generation") = summary;
                self.write_checkpoint(&mut checkpoint, next)?;
            }
        }
        self.durable
            .lock()
            .advance(summary.generation, summary.bytes, summary.max_seq_no);
        Ok(())
    }

    pub(super) fn roll_generation(&self) -> Result<()> {
        self.check_open()?;
        let mut writer = self.writer.lock();
        self.roll_locked(&mut writer)
    }

    /// Seals the active generation and starts the next one. Order: flush + fdatasync the old
    /// file, create and sync the new file and its directory entry, then one checkpoint write
    /// that seals the old and names the new, then publish. A crash before the checkpoint write
    /// leaves an orphan next generation, which open deletes.
    fn roll_locked(&self, writer: &mut Writer) -> Result<()> {
        // One checkpoint entry stays free for the generation the next open starts.
        let retained = self.state.read().sealed.len() + 1;
        if retained + 1 >= GENERATIONS_RETAINED_MAX {
            return Err(TranslogError::TooManyGenerations {
                generations: retained,
                max: GENERATIONS_RETAINED_MAX,
            });
        }
        let path = writer.path.clone();
        writer.flush().map_err(|err| self.tragic(&path, err))?;
        self.fsync_generation(&writer.file)
            .map_err(|err| self.tragic(&path, err))?;
        let sealed = writer.summary();
        let map =
            generation::map_file(&writer.file, &path).map_err(|err| self.tragic_error(err))?;
        let header = GenerationHeader {
            uuid: self.uuid,
            generation: sealed.generation + 1,
            primary_term: writer.primary_term,
        };
        let (file, new_path) =
            generation::create(&self.dir, &header).map_err(|err| self.tragic_error(err))?;
        let file = Arc::new(file);
        {
            let mut checkpoint = self.checkpoint.lock();
            let mut next = checkpoint.current().clone();
            *next
                .generations
                .last_mut()
                .expect("a checkpoint lists its current generation") = sealed;
            next.generations.push(GenerationSummary {
                generation: header.generation,
                ops: 0,
                min_seq_no: NO_OPS_SEQ_NO,
                max_seq_no: NO_OPS_SEQ_NO,
                bytes: GENERATION_HEADER_BYTES as u64,
            });
            self.write_checkpoint(&mut checkpoint, next)?;
            let mut state = self.state.write();
            state.sealed.insert(
                sealed.generation,
                SealedGeneration {
                    path,
                    map: Arc::new(map),
                    summary: sealed,
                },
            );
            state.active_generation = header.generation;
            state.active_file = Arc::clone(&file);
            state.active_path = new_path.clone();
        }
        self.durable.lock().advance(
            header.generation,
            GENERATION_HEADER_BYTES as u64,
            sealed.max_seq_no,
        );
        *writer = Writer::new(header.generation, writer.primary_term, file, new_path);
        Ok(())
    }

    /// Closes the translog for writing after a failed I/O step reported as `err`.
    fn tragic_error(&self, err: TranslogError) -> TranslogError {
        match err {
            TranslogError::Io { path, source } => self.tragic(&path, source),
            other => {
                self.tragic(&self.dir, io::Error::other(other.to_string()));
                other
            }
        }
    }

    pub(super) fn stats(&self) -> TranslogStats {
        let writer = self.writer.lock();
        let state = self.state.read();
        let durable = *self.durable.lock();
        let sealed_bytes: u64 = state.sealed.values().map(|gen| gen.summary.bytes).sum();
        let sealed_ops: u64 = state.sealed.values().map(|gen| gen.summary.ops).sum();
        let durable_offset = if durable.generation == writer.generation {
            durable.offset
        } else {
            GENERATION_HEADER_BYTES as u64
        };
        TranslogStats {
            generations: state.sealed.len() + 1,
            total_bytes: sealed_bytes + writer.appended(),
            ops: sealed_ops + writer.ops,
            history_min_seq_no: state.history_min_seq_no,
            max_seq_no: state.max_seq_no,
            durable_max_seq_no: durable.max_seq_no,
            generation: writer.generation,
            durable_offset,
            fsyncs: self.fsyncs.load(Ordering::Relaxed),
            checkpoint_writes: self.checkpoint_writes.load(Ordering::Relaxed),
        }
    }
}

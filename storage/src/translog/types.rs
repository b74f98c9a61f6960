//! The plain data types of the translog API: locations, read batches, trim outcomes, stats.
//!
//! It owns no behaviour and must never grow any: these values are copied across threads and
//! handed to callers.

use bytes::Bytes;

/// Where one record sits: generation, byte offset of its frame, frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Generation file holding the record.
    pub generation: u64,
    /// Byte offset of the record's frame in that file.
    pub offset: u64,
    /// Length of the frame, in bytes.
    pub len: u32,
}

impl Location {
    /// Byte offset just past the record.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(u64::from(self.len))
    }
}

/// Operations read by [`Translog::read_ops`]: their records' bytes, concatenated in seq_no
/// order, ready to ship without re-encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsBatch {
    /// The records, unchanged, back to back.
    pub records: Bytes,
    /// Number of records.
    pub ops: usize,
    /// Seq_no of the first record; when `ops == 0`, the `from_seq_no` asked for.
    pub first_seq_no: i64,
    /// Seq_no of the last record; the batch holds exactly `first_seq_no..=last_seq_no`, so
    /// when `ops == 0` this is `first_seq_no - 1`.
    pub last_seq_no: i64,
}

/// What [`Translog::trim`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimOutcome {
    /// Lowest seq_no still servable after the trim.
    pub history_min_seq_no: i64,
    /// Generation files deleted.
    pub generations_deleted: usize,
    /// Bytes of the deleted generations.
    pub bytes_released: u64,
    /// Bytes still retained (the active generation counted at its durable length).
    pub bytes_retained: u64,
    /// The generations `keep_from_seq_no` wanted kept passed `retention_bytes_max`, so the
    /// byte cap ran: history was shortened below `keep_from_seq_no`, or could not be shortened
    /// enough because the rest is not committed.
    pub cap_exceeded: bool,
}

/// A snapshot of translog counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TranslogStats {
    /// Retained generations, the active one included.
    pub generations: usize,
    /// Bytes of all retained generations, including appended but unsynced bytes.
    pub total_bytes: u64,
    /// Records in all retained generations, including unsynced ones.
    pub ops: u64,
    /// Lowest seq_no the translog can serve.
    pub history_min_seq_no: i64,
    /// Largest seq_no appended, or [`NO_OPS_SEQ_NO`](super::NO_OPS_SEQ_NO).
    pub max_seq_no: i64,
    /// Largest seq_no among durable records, or [`NO_OPS_SEQ_NO`](super::NO_OPS_SEQ_NO).
    pub durable_max_seq_no: i64,
    /// The active generation.
    pub generation: u64,
    /// Durable length of the active generation.
    pub durable_offset: u64,
    /// Fdatasync calls on generation files since open.
    pub fsyncs: u64,
    /// Checkpoint writes since open.
    pub checkpoint_writes: u64,
}

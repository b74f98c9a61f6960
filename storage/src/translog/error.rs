//! `TranslogError`: everything a translog call can fail with.
//!
//! It owns the error kinds and their messages (lowercase, no final period). Corruption errors
//! always name the file and the byte offset. It must never hide an I/O error behind a generic
//! message: the `source` is kept.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::Location;
use crate::record::RecordError;

/// A failed translog call.
#[derive(Debug, Error)]
pub enum TranslogError {
    /// The operating system reported an error on `path`. If it happened while writing or
    /// syncing, the translog is now closed (see [`TranslogError::Closed`]).
    #[error("translog i/o error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Bytes the checkpoint says are durable are not what the translog wrote.
    #[error("translog file {file} is corrupt at offset {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset in `file` where the damage was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A generation file carries another translog's uuid.
    #[error("translog file {file} belongs to translog {found}, expected {expected}")]
    ForeignFile {
        /// The foreign file.
        file: PathBuf,
        /// Uuid of this translog, hex.
        expected: String,
        /// Uuid in the file's header, hex.
        found: String,
    },
    /// A generation between the oldest retained one and the current one is missing.
    #[error("translog generations in {dir} are not consecutive: generation {missing_generation} is missing")]
    NotConsecutive {
        /// The translog directory.
        dir: PathBuf,
        /// The first missing generation.
        missing_generation: u64,
    },
    /// [`open`](super::Translog::open) found no checkpoint.
    #[error("no translog in {dir}")]
    NotFound {
        /// The translog directory.
        dir: PathBuf,
    },
    /// [`create`](super::Translog::create) found translog files already.
    #[error("a translog already exists in {dir}")]
    AlreadyExists {
        /// The translog directory.
        dir: PathBuf,
    },
    /// The requested operations were trimmed away.
    #[error("operations from seq_no {requested} are gone; history starts at {available_from}")]
    HistoryGone {
        /// First seq_no asked for.
        requested: i64,
        /// Lowest seq_no this translog can still serve.
        available_from: i64,
    },
    /// A seq_no inside the requested range is not in the translog.
    #[error("operation with seq_no {missing_seq_no} is missing from the translog")]
    HistoryIncomplete {
        /// The first missing seq_no.
        missing_seq_no: i64,
    },
    /// An operation or record given to the translog is invalid.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A write or fsync failed earlier, so nothing more is accepted: every later append, sync,
    /// roll and trim fails with this error, and nothing is acknowledged that is not durable.
    /// Reopen the translog to recover.
    #[error("translog is closed after a fatal error: {reason}")]
    Closed {
        /// The fatal error.
        reason: String,
    },
    /// A config value is out of bounds.
    #[error("invalid translog config: {reason}")]
    InvalidConfig {
        /// Which bound.
        reason: String,
    },
    /// An argument is out of its domain (a primary term of 0, a negative seq_no).
    #[error("invalid translog argument: {reason}")]
    InvalidArgument {
        /// Which argument.
        reason: String,
    },
    /// A location that this translog never returned, or whose generation was trimmed.
    #[error("translog location {location:?} does not exist")]
    LocationNotFound {
        /// The location asked for.
        location: Location,
    },
    /// Rolling would retain more generations than the checkpoint can describe.
    #[error("translog retains {generations} generations, the limit is {max}")]
    TooManyGenerations {
        /// Generations retained now.
        generations: usize,
        /// [`GENERATIONS_RETAINED_MAX`](super::GENERATIONS_RETAINED_MAX).
        max: usize,
    },
}

/// Translog result.
pub type Result<T, E = TranslogError> = std::result::Result<T, E>;

pub(super) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> TranslogError {
    let path = path.into();
    move |source| TranslogError::Io { path, source }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

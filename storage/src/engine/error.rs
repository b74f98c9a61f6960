//! Errors of the shard engine.

use std::path::PathBuf;

use thiserror::Error;

use crate::leases::LeaseError;
use crate::mapping::{Mapping, MappingError};
use crate::record::RecordError;
use crate::translog::TranslogError;

/// Everything a shard engine call can fail with.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The write's version preconditions failed (OpenSearch:
    /// `version_conflict_engine_exception`, 409). Nothing was written.
    #[error("{reason}")]
    VersionConflict {
        /// The document id.
        id: String,
        /// OpenSearch's reason text.
        reason: String,
    },
    /// The document has fields the mapping lacks: install this mapping (a new version of the
    /// index's mapping) and retry. Nothing was written.
    #[error("the document needs mapping version {}", proposed.version)]
    MappingUpdateRequired {
        /// The merged mapping to install.
        proposed: Box<Mapping>,
    },
    /// A replica received an operation written under a newer mapping than it has: install
    /// that mapping version and retry. Nothing of the batch past the ops reported applied was
    /// written.
    #[error("operation needs mapping version {required}, shard has {current}")]
    NeedsMappingVersion {
        /// The version the operation was written under.
        required: u64,
        /// The version the shard has.
        current: u64,
    },
    /// The document or mapping was refused.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The translog failed; on a write path the engine is failed after this.
    #[error(transparent)]
    Translog(#[from] TranslogError),
    /// A received record failed its checks.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// A retention lease call was refused.
    #[error(transparent)]
    Lease(#[from] LeaseError),
    /// tantivy failed.
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// tantivy refused an operation the index feed handed it.
    #[error("index error: {0}")]
    IndexFeed(String),
    /// A file of the shard is damaged; the shard will not open.
    #[error("shard file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An operating system error on a shard file.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The call does not fit the shard's role or state.
    #[error("{0}")]
    IllegalState(String),
    /// A bad argument.
    #[error("{0}")]
    IllegalArgument(String),
    /// An unknown snapshot pin or file.
    #[error("{0}")]
    SnapshotNotFound(String),
    /// The engine failed earlier (a write could not be made durable) and accepts nothing more;
    /// reopening it recovers from disk.
    #[error("shard engine failed: {0}")]
    Failed(String),
}

impl EngineError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EngineError {
        let path = path.into();
        move |source| EngineError::Io { path, source }
    }
}

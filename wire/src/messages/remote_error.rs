//! Typed errors a leader answers with, and the one table that maps each onto the OpenSearch
//! error `type`, HTTP status and retry decision the follower uses on its REST side and in its
//! replication loops.
//!
//! Types and statuses follow OpenSearch (snake_case exception class names, its status rules;
//! see the CCR behaviour spec §2.0 and §2.13). Retry follows the CCR plugin: 429 and
//! unavailable shards are retried with back-off, 4xx and lost history stop the shard task,
//! which the index task turns into an auto-pause. This module never decides what to do; it
//! only says what an error is.

use thiserror::Error;

use super::wire_message;
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::REASON_BYTES_MAX;
use crate::{MessageKind, WireError};

/// What went wrong on the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No index with that name or uuid (deleted, or recreated with a new uuid).
    IndexNotFound,
    /// The index is closed.
    IndexClosed,
    /// The leader index is itself a follower index: no chaining.
    ChainingRefused,
    /// The node runs in follower-cluster mode and does not serve replication.
    FollowerRefusesToLead,
    /// Operations asked for are no longer retained: the follower must re-bootstrap.
    HistoryGone,
    /// The retention lease does not exist (expired or removed).
    RetentionLeaseNotFound,
    /// A retention lease with that id already exists.
    RetentionLeaseAlreadyExists,
    /// A renewal tried to move a lease's retaining seq-no backwards.
    RetentionLeaseInvalidRetainingSeqNo,
    /// A snapshot pin or file is unknown (released, expired, or never existed).
    ResourceNotFound,
    /// The peer may not do this.
    Unauthorized,
    /// No protocol version in common.
    VersionMismatch,
    /// The request is well-formed but makes no sense (e.g. a shard the index does not have).
    InvalidRequest,
    /// The leader is too busy; try again later.
    Overloaded,
    /// The shard is not open yet or is closing; try again later.
    ShardNotAvailable,
    /// Anything else that went wrong on the leader.
    Internal,
}

/// `(kind, wire tag, OpenSearch type, HTTP status, retryable)`: the single mapping table.
const TABLE: [(ErrorKind, u16, &str, u16, bool); 15] = [
    (
        ErrorKind::IndexNotFound,
        1,
        "index_not_found_exception",
        404,
        false,
    ),
    (
        ErrorKind::IndexClosed,
        2,
        "index_closed_exception",
        400,
        false,
    ),
    (
        ErrorKind::ChainingRefused,
        3,
        "illegal_argument_exception",
        400,
        false,
    ),
    (
        ErrorKind::FollowerRefusesToLead,
        4,
        "illegal_argument_exception",
        400,
        false,
    ),
    // OpenSearch's MissingHistoryOperationsException is an IllegalStateException (500), but
    // retrying cannot bring history back, so the follower must stop and say so.
    (
        ErrorKind::HistoryGone,
        5,
        "missing_history_operations_exception",
        500,
        false,
    ),
    (
        ErrorKind::RetentionLeaseNotFound,
        6,
        "retention_lease_not_found_exception",
        404,
        false,
    ),
    (
        ErrorKind::RetentionLeaseAlreadyExists,
        7,
        "retention_lease_already_exists_exception",
        400,
        false,
    ),
    // The CCR plugin tolerates this one until `retention_lease_max_failure_duration` passes.
    (
        ErrorKind::RetentionLeaseInvalidRetainingSeqNo,
        8,
        "retention_lease_invalid_retaining_seq_no_exception",
        500,
        true,
    ),
    (
        ErrorKind::ResourceNotFound,
        9,
        "resource_not_found_exception",
        404,
        false,
    ),
    (
        ErrorKind::Unauthorized,
        10,
        "security_exception",
        403,
        false,
    ),
    (
        ErrorKind::VersionMismatch,
        11,
        "illegal_state_exception",
        500,
        false,
    ),
    (
        ErrorKind::InvalidRequest,
        12,
        "illegal_argument_exception",
        400,
        false,
    ),
    (
        ErrorKind::Overloaded,
        13,
        "rejected_execution_exception",
        429,
        true,
    ),
    (
        ErrorKind::ShardNotAvailable,
        14,
        "no_shard_available_action_exception",
        503,
        true,
    ),
    (ErrorKind::Internal, 15, "exception", 500, true),
];

impl ErrorKind {
    /// Every kind.
    pub const ALL: [ErrorKind; 15] = {
        let mut all = [ErrorKind::Internal; 15];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> (ErrorKind, u16, &'static str, u16, bool) {
        // Every kind has exactly one row; the unit test `every_kind_has_one_row` checks it.
        TABLE[self as usize]
    }

    /// The OpenSearch error `type` the follower reports.
    pub fn opensearch_type(self) -> &'static str {
        self.row().2
    }

    /// The HTTP status the follower reports.
    pub fn http_status(self) -> u16 {
        self.row().3
    }

    /// Whether the same request may succeed later, so the follower backs off and retries
    /// instead of stopping the shard task.
    pub fn is_retryable(self) -> bool {
        self.row().4
    }

    /// The tag written on the wire.
    pub fn wire_tag(self) -> u16 {
        self.row().1
    }

    /// The kind with this wire tag, or [`WireError::UnknownTag`].
    pub fn from_wire_tag(tag: u16) -> Result<Self, WireError> {
        TABLE
            .iter()
            .find(|row| row.1 == tag)
            .map(|row| row.0)
            .ok_or(WireError::UnknownTag {
                field: "error_kind",
                tag,
            })
    }
}

/// A typed error answer: a kind and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}: {reason}", kind.opensearch_type())]
pub struct RemoteError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Why, in OpenSearch's words where it has them; at most [`REASON_BYTES_MAX`] bytes.
    pub reason: String,
}

impl RemoteError {
    /// An error with `reason` cut to [`REASON_BYTES_MAX`] bytes at a character boundary.
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > REASON_BYTES_MAX {
            let mut end = REASON_BYTES_MAX;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        RemoteError { kind, reason }
    }

    /// `no such index [<index>]`, as OpenSearch says it.
    pub fn index_not_found(index: &str) -> Self {
        Self::new(ErrorKind::IndexNotFound, format!("no such index [{index}]"))
    }

    /// `closed`, OpenSearch's reason for an index closed exception.
    pub fn index_closed() -> Self {
        Self::new(ErrorKind::IndexClosed, "closed")
    }

    /// `Cannot Replicate a Replicated Index <index>`, as the OpenSearch CCR plugin says it.
    pub fn chaining_refused(index: &str) -> Self {
        Self::new(
            ErrorKind::ChainingRefused,
            format!("Cannot Replicate a Replicated Index {index}"),
        )
    }

    /// Operations `from_seq_no..=to_seq_no` are not all retained; history starts at
    /// `history_min_seq_no`.
    pub fn history_gone(from_seq_no: i64, to_seq_no: i64, history_min_seq_no: i64) -> Self {
        Self::new(
            ErrorKind::HistoryGone,
            format!(
                "Not all operations between from_seqno [{from_seq_no}] and to_seqno [{to_seq_no}] \
                 found; history is retained from seqno [{history_min_seq_no}]"
            ),
        )
    }

    /// `retention lease with ID [<id>] not found`, as OpenSearch says it.
    pub fn retention_lease_not_found(lease_id: &str) -> Self {
        Self::new(
            ErrorKind::RetentionLeaseNotFound,
            format!("retention lease with ID [{lease_id}] not found"),
        )
    }

    /// `retention lease with ID [<id>] already exists`, as OpenSearch says it.
    pub fn retention_lease_already_exists(lease_id: &str) -> Self {
        Self::new(
            ErrorKind::RetentionLeaseAlreadyExists,
            format!("retention lease with ID [{lease_id}] already exists"),
        )
    }

    /// `no permissions for [<action>]`, as the security plugin says it.
    pub fn unauthorized(action: &str) -> Self {
        Self::new(
            ErrorKind::Unauthorized,
            format!("no permissions for [{action}]"),
        )
    }

    /// The answer a server may send for a request it could not decode, before it closes the
    /// stream.
    pub fn from_protocol_error(error: &WireError) -> Self {
        Self::new(
            ErrorKind::InvalidRequest,
            format!("malformed request: {error}"),
        )
    }

    /// Shorthand for `self.kind.opensearch_type()`.
    pub fn opensearch_type(&self) -> &'static str {
        self.kind.opensearch_type()
    }

    /// Shorthand for `self.kind.http_status()`.
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// Shorthand for `self.kind.is_retryable()`.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        writer.u16(self.kind.wire_tag());
        writer.str("reason", &self.reason, REASON_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let kind = ErrorKind::from_wire_tag(reader.u16("error_kind")?)?;
        let reason = reader.str("reason", REASON_BYTES_MAX)?;
        Ok(RemoteError { kind, reason })
    }
}

wire_message!(RemoteError, MessageKind::Error);

#[cfg(test)]
mod tests;

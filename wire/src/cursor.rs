//! `ChangesCursor`: which operations one follower shard asks its leader for next, with several
//! requests in flight, and in which order their answers may be applied.
//!
//! Call order, as in quinn-proto: [`ChangesCursor::poll_request`] until it says `None` (send
//! each request), then feed each outcome to [`ChangesCursor::handle_response`] or
//! [`ChangesCursor::handle_failure`], then drain [`ChangesCursor::poll_ready`] (apply each
//! batch, in the order given). Pure state: no I/O, no clock; back-off and timers are the
//! caller's, as is what to do with a [`CursorError`] (close the connection and retry).
//!
//! Rules, after OpenSearch CCR's shard task (spec §3.3):
//! - Requests cover disjoint seq-no ranges. Ranges answered short (byte budget, or the leader's
//!   global checkpoint) or not at all are asked again, lowest first, before new ground.
//! - While behind the leader's global checkpoint, up to `requests_in_flight_max` requests run
//!   without waiting; once every known operation is asked for, exactly one long poll runs.
//! - An answer's operations must start at the seq-no asked for, stay within the range asked
//!   for and within the leader's global checkpoint (see
//!   [`ShardChangesResponse::validate`](crate::ShardChangesResponse::validate)), or the answer
//!   is refused and its range asked again.
//! - Answers are handed out strictly in seq-no order, each starting right after the last.
//! - The highest global checkpoint seen is kept: answers travel on independent streams, so an
//!   older answer may arrive after a newer one and its lower checkpoint is not a regression.

mod state;
#[cfg(test)]
mod tests;

use thiserror::Error;

pub use state::ChangesCursor;

use crate::limits::{
    CHANGES_BYTES_DEFAULT, CHANGES_OPS_BYTES_MAX, CHANGES_OPS_DEFAULT, CHANGES_OPS_MAX,
    POLL_WAIT_MS_DEFAULT, POLL_WAIT_MS_MAX, REQUESTS_IN_FLIGHT_MAX,
};
use crate::{MetadataVersions, ShardChangesRequest, ShardTarget, WireError};

/// How one follower shard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorConfig {
    /// Operations per request (OpenSearch's `ops_batch_size`).
    pub ops_per_request_max: u32,
    /// Soft byte budget per answer (Elasticsearch's `max_read_request_size`).
    pub bytes_per_request_max: u32,
    /// Requests in flight while behind (OpenSearch's `concurrent_readers_per_shard`). Also
    /// bounds answers buffered out of order, so memory stays below this many byte budgets.
    pub requests_in_flight_max: u32,
    /// Long-poll wait once caught up.
    pub poll_wait_ms: u32,
}

impl Default for CursorConfig {
    /// OpenSearch's batch size and reader count, Elasticsearch's byte budget and poll wait.
    /// Two 32 MiB answers in flight exceed the 12.5 MB bandwidth-delay product of a 100 ms,
    /// 1 Gbit/s link, so two readers keep such a link busy.
    fn default() -> Self {
        CursorConfig {
            ops_per_request_max: CHANGES_OPS_DEFAULT,
            bytes_per_request_max: CHANGES_BYTES_DEFAULT,
            requests_in_flight_max: 2,
            poll_wait_ms: POLL_WAIT_MS_DEFAULT,
        }
    }
}

impl CursorConfig {
    /// Checks every field against its limit.
    pub fn validate(&self) -> Result<(), CursorError> {
        if self.ops_per_request_max == 0 || self.ops_per_request_max > CHANGES_OPS_MAX {
            return Err(CursorError::InvalidConfig(
                "ops_per_request_max outside 1..=CHANGES_OPS_MAX",
            ));
        }
        if self.bytes_per_request_max == 0 || self.bytes_per_request_max > CHANGES_OPS_BYTES_MAX {
            return Err(CursorError::InvalidConfig(
                "bytes_per_request_max outside 1..=CHANGES_OPS_BYTES_MAX",
            ));
        }
        if self.requests_in_flight_max == 0 || self.requests_in_flight_max > REQUESTS_IN_FLIGHT_MAX
        {
            return Err(CursorError::InvalidConfig(
                "requests_in_flight_max outside 1..=REQUESTS_IN_FLIGHT_MAX",
            ));
        }
        if self.poll_wait_ms > POLL_WAIT_MS_MAX {
            return Err(CursorError::InvalidConfig(
                "poll_wait_ms above POLL_WAIT_MS_MAX",
            ));
        }
        Ok(())
    }
}

/// Names one request of one cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// A request the cursor wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRequest {
    /// Pass it back with the outcome.
    pub id: RequestId,
    /// First seq-no asked for.
    pub from_seq_no: i64,
    /// Operations asked for.
    pub ops_max: u32,
    /// Byte budget of the answer.
    pub bytes_max: u32,
    /// Long-poll wait: zero while behind, the configured wait once caught up.
    pub poll_wait_ms: u32,
}

impl PlannedRequest {
    /// Last seq-no asked for.
    pub fn to_seq_no(&self) -> i64 {
        self.from_seq_no + i64::from(self.ops_max) - 1
    }

    /// The wire request for `shard`, telling the leader which metadata the follower has.
    pub fn to_message(
        &self,
        shard: ShardTarget,
        known_versions: MetadataVersions,
    ) -> ShardChangesRequest {
        ShardChangesRequest {
            shard,
            from_seq_no: self.from_seq_no,
            ops_max: self.ops_max,
            bytes_max: self.bytes_max,
            poll_wait_ms: self.poll_wait_ms,
            known_versions,
        }
    }
}

/// An answer the cursor refuses, or a misuse of the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CursorError {
    /// The id is not of a request in flight (answered twice, or never issued).
    #[error("no request {0:?} in flight")]
    UnknownRequest(RequestId),
    /// The answer breaks a message rule.
    #[error("invalid changes response: {0}")]
    InvalidResponse(#[from] WireError),
    /// The answer's operations do not start where the request did (a gap or a regression).
    #[error("changes response starts at seq-no {found}, request started at {expected}")]
    WrongFirstSeqNo {
        /// `from_seq_no` of the request.
        expected: i64,
        /// First seq-no of the answer.
        found: i64,
    },
    /// The answer has operations past the end of the range asked for.
    #[error("changes response reaches seq-no {last_seq_no}, request ended at {to_seq_no}")]
    BeyondRequest {
        /// Last seq-no asked for.
        to_seq_no: i64,
        /// Last seq-no answered.
        last_seq_no: i64,
    },
    /// A configuration or starting point out of bounds.
    #[error("invalid cursor config: {0}")]
    InvalidConfig(&'static str),
}

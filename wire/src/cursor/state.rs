//! The cursor's state and its transitions. The module head of `cursor` states the rules.
//!
//! Invariant: the seq-nos `delivered_through + 1 ..= requested_through` are tiled exactly, with
//! no overlap, by the ranges buffered, in flight and missing. `check_invariants` verifies it.

use std::collections::BTreeMap;

use super::{CursorConfig, CursorError, PlannedRequest, RequestId};
use crate::{ShardChangesResponse, SEQ_NO_NONE};

/// Highest checkpoint a cursor starts from: far beyond any real shard, and far enough from
/// `i64::MAX` that range arithmetic cannot overflow.
const SEQ_NO_START_MAX: i64 = i64::MAX / 4;

/// Read state of one follower shard. See the `cursor` module docs for the call order.
#[derive(Debug, Clone)]
pub struct ChangesCursor {
    config: CursorConfig,
    /// Every operation up to here was handed out by `poll_ready`.
    delivered_through: i64,
    /// Every seq-no up to here is delivered, buffered, in flight or missing.
    requested_through: i64,
    /// Highest leader global checkpoint seen.
    leader_global_checkpoint: i64,
    /// Ranges (start -> end, inclusive) to ask for again.
    missing: BTreeMap<i64, i64>,
    /// Ranges (from, to) of requests sent and not yet answered.
    in_flight: BTreeMap<RequestId, (i64, i64)>,
    /// Answers with operations, by first seq-no, waiting for their turn.
    buffered: BTreeMap<i64, ShardChangesResponse>,
    /// The newest answer that carried leader metadata and no operations (a mapping, settings
    /// or alias change while nothing was written): handed out before anything else.
    metadata_only: Option<ShardChangesResponse>,
    next_request_id: u64,
}

impl ChangesCursor {
    /// A cursor for a follower shard whose operations up to `checkpoint` are applied, reading
    /// from a leader whose global checkpoint is believed to be `leader_global_checkpoint`
    /// ([`SEQ_NO_NONE`] when unknown: the first request then simply long-polls, and the
    /// leader answers at once if it has operations).
    pub fn new(
        config: CursorConfig,
        checkpoint: i64,
        leader_global_checkpoint: i64,
    ) -> Result<Self, CursorError> {
        config.validate()?;
        let valid = SEQ_NO_NONE..=SEQ_NO_START_MAX;
        if !valid.contains(&checkpoint) || !valid.contains(&leader_global_checkpoint) {
            return Err(CursorError::InvalidConfig(
                "checkpoint outside -1..=SEQ_NO_START_MAX",
            ));
        }
        Ok(ChangesCursor {
            config,
            delivered_through: checkpoint,
            requested_through: checkpoint,
            leader_global_checkpoint,
            missing: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            buffered: BTreeMap::new(),
            metadata_only: None,
            next_request_id: 0,
        })
    }

    /// Every operation up to this seq-no has been handed out by [`ChangesCursor::poll_ready`].
    pub fn delivered_through(&self) -> i64 {
        self.delivered_through
    }

    /// Highest leader global checkpoint seen.
    pub fn leader_global_checkpoint(&self) -> i64 {
        self.leader_global_checkpoint
    }

    /// Operations the leader has that were not handed out yet.
    pub fn lag_ops(&self) -> u64 {
        u64::try_from(
            self.leader_global_checkpoint
                .saturating_sub(self.delivered_through),
        )
        .unwrap_or(0)
    }

    /// Requests sent and not yet answered.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// Answers received out of order and not yet handed out.
    pub fn buffered_count(&self) -> usize {
        self.buffered.len()
    }

    /// The next request to send, or `None` if the cursor must wait for answers first.
    pub fn poll_request(&mut self) -> Option<PlannedRequest> {
        let slots_max = self.config.requests_in_flight_max as usize;
        if self.in_flight.len() + self.buffered.len() >= slots_max {
            return None;
        }
        let (from_seq_no, range_end) = match self.missing.first_key_value() {
            Some((&start, &end)) => (start, Some(end)),
            None => (self.requested_through.checked_add(1)?, None),
        };
        let caught_up = from_seq_no > self.leader_global_checkpoint;
        if caught_up && !self.in_flight.is_empty() {
            return None;
        }
        let mut ops_max = i64::from(self.config.ops_per_request_max);
        if let Some(end) = range_end {
            ops_max = ops_max.min(end - from_seq_no + 1);
        }
        let to_seq_no = from_seq_no.checked_add(ops_max)? - 1;
        match range_end {
            Some(end) => {
                self.missing.remove(&from_seq_no);
                if to_seq_no < end {
                    self.missing.insert(to_seq_no + 1, end);
                }
            }
            None => self.requested_through = to_seq_no,
        }
        let id = RequestId(self.next_request_id);
        self.next_request_id += 1;
        self.in_flight.insert(id, (from_seq_no, to_seq_no));
        Some(PlannedRequest {
            id,
            from_seq_no,
            ops_max: u32::try_from(ops_max).expect("ops_max is at most ops_per_request_max, a u32"),
            bytes_max: self.config.bytes_per_request_max,
            poll_wait_ms: if caught_up {
                self.config.poll_wait_ms
            } else {
                0
            },
        })
    }

    /// Takes the answer to request `id`. A refused answer's range is asked again later.
    pub fn handle_response(
        &mut self,
        id: RequestId,
        response: ShardChangesResponse,
    ) -> Result<(), CursorError> {
        let (from_seq_no, to_seq_no) = self
            .in_flight
            .remove(&id)
            .ok_or(CursorError::UnknownRequest(id))?;
        if let Err(error) = check_answer(from_seq_no, to_seq_no, &response) {
            self.release(from_seq_no, to_seq_no);
            return Err(error);
        }
        self.leader_global_checkpoint = self
            .leader_global_checkpoint
            .max(response.global_checkpoint);
        if response.ops.is_empty() {
            self.release(from_seq_no, to_seq_no);
            let carries_metadata = response.mapping.is_some()
                || response.settings.is_some()
                || response.aliases.is_some();
            let newest = self
                .metadata_only
                .as_ref()
                .is_none_or(|held| is_newer(response.versions, held.versions));
            if carries_metadata && newest {
                self.metadata_only = Some(response);
            }
            return Ok(());
        }
        let last_seq_no = response.ops.last_seq_no;
        if last_seq_no < to_seq_no {
            self.release(last_seq_no + 1, to_seq_no);
        }
        self.buffered.insert(from_seq_no, response);
        Ok(())
    }

    /// Request `id` failed (stream reset, timeout, retryable error): its range is asked again.
    pub fn handle_failure(&mut self, id: RequestId) -> Result<(), CursorError> {
        let (from_seq_no, to_seq_no) = self
            .in_flight
            .remove(&id)
            .ok_or(CursorError::UnknownRequest(id))?;
        self.release(from_seq_no, to_seq_no);
        Ok(())
    }

    /// The next answer to apply, if it starts right after the last one handed out.
    ///
    /// A metadata-only answer comes first: leader metadata only grows (mappings merge), so
    /// installing it before older operations is safe, and it must not wait for operations
    /// that may never come.
    pub fn poll_ready(&mut self) -> Option<ShardChangesResponse> {
        if let Some(metadata) = self.metadata_only.take() {
            return Some(metadata);
        }
        let entry = self.buffered.first_entry()?;
        if *entry.key() != self.delivered_through + 1 {
            return None;
        }
        let response = entry.remove();
        self.delivered_through = response.ops.last_seq_no;
        Some(response)
    }

    /// Verifies the tiling invariant of the module head; meant for tests and fuzzing.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let mut ranges: Vec<(i64, i64)> = self.missing.iter().map(|(&s, &e)| (s, e)).collect();
        ranges.extend(self.in_flight.values().copied());
        ranges.extend(
            self.buffered
                .values()
                .map(|r| (r.ops.first_seq_no, r.ops.last_seq_no)),
        );
        ranges.sort_unstable();
        let mut next = self.delivered_through + 1;
        for (start, end) in ranges {
            if start != next || end < start {
                return Err("ranges do not tile delivered_through+1..=requested_through");
            }
            next = end + 1;
        }
        if next != self.requested_through + 1 {
            return Err("ranges stop short of requested_through");
        }
        if self.in_flight.len() + self.buffered.len() > self.config.requests_in_flight_max as usize
        {
            return Err("more requests and buffered answers than requests_in_flight_max");
        }
        Ok(())
    }

    /// Returns `start..=end` to the ranges still to ask for: a range at the top rolls the
    /// request front back, any other joins `missing`, merged with its neighbours.
    fn release(&mut self, start: i64, end: i64) {
        debug_assert!(start <= end, "released ranges are not empty");
        debug_assert!(
            end <= self.requested_through,
            "only requested seq-nos are released"
        );
        if end == self.requested_through {
            self.requested_through = start - 1;
            while let Some((&last_start, &last_end)) = self.missing.last_key_value() {
                if last_end != self.requested_through {
                    break;
                }
                self.missing.remove(&last_start);
                self.requested_through = last_start - 1;
            }
            return;
        }
        let mut merged_start = start;
        let mut merged_end = end;
        if let Some((&prev_start, &prev_end)) = self.missing.range(..start).next_back() {
            if prev_end + 1 == start {
                self.missing.remove(&prev_start);
                merged_start = prev_start;
            }
        }
        if let Some(next_end) = self.missing.remove(&(end + 1)) {
            merged_end = next_end;
        }
        self.missing.insert(merged_start, merged_end);
    }
}

/// Checks an answer against the request it answers.
fn check_answer(
    from_seq_no: i64,
    to_seq_no: i64,
    response: &ShardChangesResponse,
) -> Result<(), CursorError> {
    response.validate()?;
    if response.ops.is_empty() {
        return Ok(());
    }
    if response.ops.first_seq_no != from_seq_no {
        return Err(CursorError::WrongFirstSeqNo {
            expected: from_seq_no,
            found: response.ops.first_seq_no,
        });
    }
    if response.ops.last_seq_no > to_seq_no {
        return Err(CursorError::BeyondRequest {
            to_seq_no,
            last_seq_no: response.ops.last_seq_no,
        });
    }
    Ok(())
}

/// Whether any of `candidate`'s versions is above `held`'s.
fn is_newer(candidate: crate::MetadataVersions, held: crate::MetadataVersions) -> bool {
    candidate.mapping > held.mapping
        || candidate.settings > held.settings
        || candidate.aliases > held.aliases
}

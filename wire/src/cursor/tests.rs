//! Cursor tests: the pipelining rules one by one, then a seeded simulation against a leader
//! model with reordering, short answers, failures and stale checkpoints, which must converge.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::{OpsBatch, ShardChangesResponse, SEQ_NO_NONE};

fn config(ops_per_request_max: u32, requests_in_flight_max: u32) -> CursorConfig {
    CursorConfig {
        ops_per_request_max,
        requests_in_flight_max,
        poll_wait_ms: 500,
        ..CursorConfig::default()
    }
}

/// The leader's answer to `request` when it has everything up to `global_checkpoint` and sends
/// at most `ops_cap` operations.
fn answer(request: &PlannedRequest, global_checkpoint: i64, ops_cap: i64) -> ShardChangesResponse {
    let last = request
        .to_seq_no()
        .min(global_checkpoint)
        .min(request.from_seq_no + ops_cap - 1);
    let ops = if last < request.from_seq_no {
        OpsBatch::empty()
    } else {
        let count = u32::try_from(last - request.from_seq_no + 1).unwrap();
        OpsBatch {
            count,
            first_seq_no: request.from_seq_no,
            last_seq_no: last,
            records: Bytes::from_static(b"r"),
        }
    };
    ShardChangesResponse {
        ops,
        global_checkpoint,
        max_seq_no: global_checkpoint,
        history_min_seq_no: 0,
        max_seq_no_of_updates_or_deletes: SEQ_NO_NONE,
        versions: crate::MetadataVersions::default(),
        mapping: None,
        settings: None,
        aliases: None,
    }
}

fn drain_requests(cursor: &mut ChangesCursor) -> Vec<PlannedRequest> {
    std::iter::from_fn(|| cursor.poll_request()).collect()
}

#[test]
fn behind_the_leader_it_pipelines_disjoint_requests_without_waiting() {
    let mut cursor = ChangesCursor::new(config(10, 3), 4, 1000).unwrap();
    let requests = drain_requests(&mut cursor);
    let ranges: Vec<(i64, i64)> = requests
        .iter()
        .map(|r| (r.from_seq_no, r.to_seq_no()))
        .collect();
    assert_eq!(ranges, vec![(5, 14), (15, 24), (25, 34)]);
    assert!(requests.iter().all(|r| r.poll_wait_ms == 0));
    cursor.check_invariants().unwrap();
}

#[test]
fn caught_up_it_keeps_exactly_one_long_poll() {
    let mut cursor = ChangesCursor::new(config(10, 3), 9, 9).unwrap();
    let requests = drain_requests(&mut cursor);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].from_seq_no, 10);
    assert_eq!(requests[0].poll_wait_ms, 500);
    cursor
        .handle_response(requests[0].id, answer(&requests[0], 9, 100))
        .unwrap();
    let again = drain_requests(&mut cursor);
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].from_seq_no, 10,
        "an empty answer asks the same range again"
    );
}

#[test]
fn metadata_without_operations_is_handed_out_at_once() {
    let mut cursor = ChangesCursor::new(config(10, 3), 9, 9).unwrap();
    let poll = drain_requests(&mut cursor).remove(0);
    let mut alias_change = answer(&poll, 9, 100);
    alias_change.versions = crate::MetadataVersions {
        mapping: 1,
        settings: 1,
        aliases: 2,
    };
    alias_change.aliases = Some(Bytes::from_static(b"{\"books\":{}}"));
    cursor.handle_response(poll.id, alias_change).unwrap();
    let ready = cursor.poll_ready().expect("the metadata is ready");
    assert!(ready.ops.is_empty());
    assert_eq!(ready.versions.aliases, 2);
    assert!(cursor.poll_ready().is_none());
    // A later change arrives the same way.
    let poll = drain_requests(&mut cursor).remove(0);
    let mut newer = answer(&poll, 9, 100);
    newer.versions.aliases = 3;
    newer.aliases = Some(Bytes::from_static(b"{}"));
    cursor.handle_response(poll.id, newer).unwrap();
    assert_eq!(cursor.poll_ready().expect("ready").versions.aliases, 3);
    cursor.check_invariants().unwrap();
}

#[test]
fn answers_out_of_order_are_handed_out_in_order() {
    let mut cursor = ChangesCursor::new(config(10, 2), SEQ_NO_NONE, 100).unwrap();
    let requests = drain_requests(&mut cursor);
    cursor
        .handle_response(requests[1].id, answer(&requests[1], 100, 100))
        .unwrap();
    assert!(cursor.poll_ready().is_none());
    cursor
        .handle_response(requests[0].id, answer(&requests[0], 100, 100))
        .unwrap();
    assert_eq!(cursor.poll_ready().unwrap().ops.first_seq_no, 0);
    assert_eq!(cursor.poll_ready().unwrap().ops.first_seq_no, 10);
    assert_eq!(cursor.delivered_through(), 19);
    cursor.check_invariants().unwrap();
}

#[test]
fn short_answers_leave_a_gap_that_is_asked_for_first() {
    let mut cursor = ChangesCursor::new(config(10, 2), SEQ_NO_NONE, 100).unwrap();
    let requests = drain_requests(&mut cursor);
    cursor
        .handle_response(requests[0].id, answer(&requests[0], 100, 4))
        .unwrap();
    cursor.check_invariants().unwrap();
    assert_eq!(cursor.poll_ready().unwrap().ops.last_seq_no, 3);
    let gap = cursor.poll_request().unwrap();
    assert_eq!((gap.from_seq_no, gap.to_seq_no()), (4, 9));
    cursor.check_invariants().unwrap();
}

#[test]
fn a_wrong_first_seq_no_is_refused_and_its_range_asked_again() {
    let mut cursor = ChangesCursor::new(config(10, 1), SEQ_NO_NONE, 100).unwrap();
    let request = cursor.poll_request().unwrap();
    let mut shifted = answer(&request, 100, 100);
    shifted.ops.first_seq_no += 1;
    shifted.ops.last_seq_no += 1;
    assert_eq!(
        cursor.handle_response(request.id, shifted),
        Err(CursorError::WrongFirstSeqNo {
            expected: 0,
            found: 1
        })
    );
    cursor.check_invariants().unwrap();
    assert_eq!(cursor.poll_request().unwrap().from_seq_no, 0);
}

#[test]
fn answers_beyond_the_request_or_the_checkpoint_are_refused() {
    let mut cursor = ChangesCursor::new(config(10, 1), SEQ_NO_NONE, 100).unwrap();
    let request = cursor.poll_request().unwrap();
    let mut too_long = answer(&request, 100, 100);
    too_long.ops.last_seq_no = 10;
    too_long.ops.count = 11;
    assert_eq!(
        cursor.handle_response(request.id, too_long),
        Err(CursorError::BeyondRequest {
            to_seq_no: 9,
            last_seq_no: 10
        })
    );
    let request = cursor.poll_request().unwrap();
    let mut past_checkpoint = answer(&request, 100, 100);
    past_checkpoint.global_checkpoint = 5;
    assert!(matches!(
        cursor.handle_response(request.id, past_checkpoint),
        Err(CursorError::InvalidResponse(_))
    ));
    cursor.check_invariants().unwrap();
}

#[test]
fn unknown_and_repeated_ids_are_refused() {
    let mut cursor = ChangesCursor::new(config(10, 1), SEQ_NO_NONE, 100).unwrap();
    let request = cursor.poll_request().unwrap();
    cursor.handle_failure(request.id).unwrap();
    assert_eq!(
        cursor.handle_failure(request.id),
        Err(CursorError::UnknownRequest(request.id))
    );
    assert_eq!(
        cursor.handle_response(RequestId(99), answer(&request, 100, 100)),
        Err(CursorError::UnknownRequest(RequestId(99)))
    );
}

#[test]
fn buffered_answers_count_against_the_in_flight_limit() {
    let mut cursor = ChangesCursor::new(config(10, 2), SEQ_NO_NONE, 100).unwrap();
    let requests = drain_requests(&mut cursor);
    cursor
        .handle_response(requests[1].id, answer(&requests[1], 100, 100))
        .unwrap();
    assert!(
        cursor.poll_request().is_none(),
        "one in flight plus one buffered fills two slots"
    );
}

#[test]
fn bad_configs_and_starting_points_are_refused() {
    assert!(ChangesCursor::new(config(0, 1), 0, 0).is_err());
    assert!(ChangesCursor::new(config(10, 0), 0, 0).is_err());
    assert!(ChangesCursor::new(config(10, 1), -2, 0).is_err());
    assert!(ChangesCursor::new(config(10, 1), i64::MAX, 0).is_err());
    assert!(CursorConfig::default().validate().is_ok());
}

/// One step of the simulation. Indices pick among requests in flight.
#[derive(Debug, Clone)]
enum Step {
    Poll,
    Answer {
        pick: usize,
        ops_cap: i64,
        staleness: u8,
    },
    Fail {
        pick: usize,
    },
    Advance {
        ops: i64,
    },
    Drain,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Poll),
        4 => (any::<usize>(), 1..40i64, any::<u8>())
            .prop_map(|(pick, ops_cap, staleness)| Step::Answer { pick, ops_cap, staleness }),
        1 => any::<usize>().prop_map(|pick| Step::Fail { pick }),
        2 => (0..60i64).prop_map(|ops| Step::Advance { ops }),
        2 => Just(Step::Drain),
    ]
}

/// The simulated follower: the cursor, what the model leader has, and what was applied.
struct Simulation {
    cursor: ChangesCursor,
    leader_checkpoint: i64,
    /// Requests in flight, with the leader checkpoint when each was sent.
    pending: Vec<(PlannedRequest, i64)>,
    applied_through: i64,
}

impl Simulation {
    fn run(&mut self, step: &Step) {
        match *step {
            Step::Poll => {
                while let Some(request) = self.cursor.poll_request() {
                    self.pending.push((request, self.leader_checkpoint));
                }
            }
            Step::Answer {
                pick,
                ops_cap,
                staleness,
            } if !self.pending.is_empty() => {
                let (request, sent_at) = self.pending.swap_remove(pick % self.pending.len());
                // The answer may have been made at any time since the request was sent.
                let span = self.leader_checkpoint - sent_at;
                let made_at = sent_at + span * i64::from(staleness) / 255;
                self.cursor
                    .handle_response(request.id, answer(&request, made_at, ops_cap))
                    .unwrap();
            }
            Step::Fail { pick } if !self.pending.is_empty() => {
                let (request, _) = self.pending.swap_remove(pick % self.pending.len());
                self.cursor.handle_failure(request.id).unwrap();
            }
            Step::Advance { ops } => self.leader_checkpoint += ops,
            Step::Drain => self.drain(),
            Step::Answer { .. } | Step::Fail { .. } => {}
        }
        self.cursor.check_invariants().unwrap();
        assert!(self.cursor.leader_global_checkpoint() <= self.leader_checkpoint);
    }

    fn drain(&mut self) {
        while let Some(response) = self.cursor.poll_ready() {
            assert_eq!(
                response.ops.first_seq_no,
                self.applied_through + 1,
                "applied in order, no gap"
            );
            self.applied_through = response.ops.last_seq_no;
        }
        assert_eq!(self.cursor.delivered_through(), self.applied_through);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn follower_converges_to_the_leader_whatever_the_order_of_events(
        steps in proptest::collection::vec(step(), 0..120),
        in_flight_max in 1u32..5,
        ops_per_request_max in 1u32..30,
        start in -1i64..20,
    ) {
        let config = config(ops_per_request_max, in_flight_max);
        let cursor = ChangesCursor::new(config, start, SEQ_NO_NONE)?;
        let mut sim = Simulation {
            cursor,
            leader_checkpoint: start + 5,
            pending: Vec::new(),
            applied_through: start,
        };
        for step in &steps {
            sim.run(step);
        }
        // Fault-free phase: every request is answered in full, promptly.
        for _ in 0..10_000 {
            if sim.applied_through == sim.leader_checkpoint {
                break;
            }
            sim.run(&Step::Poll);
            while !sim.pending.is_empty() {
                sim.run(&Step::Answer { pick: 0, ops_cap: i64::MAX / 4, staleness: 255 });
            }
            sim.run(&Step::Drain);
        }
        prop_assert_eq!(sim.applied_through, sim.leader_checkpoint);
        prop_assert_eq!(sim.cursor.lag_ops(), 0);
    }
}

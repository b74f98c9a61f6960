//! Fuzz target: a changes cursor driven by arbitrary events and arbitrary (often invalid)
//! leader answers. Must never panic, must keep its tiling invariant after every event, and
//! must hand out batches strictly in seq-no order without gaps.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem_wire::{
    ChangesCursor, CursorConfig, MetadataVersions, OpsBatch, PlannedRequest, ShardChangesResponse,
};

/// Caps the work per input so the fuzzer spends its time on variety, not length.
const EVENTS_MAX: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((head, events)) = data.split_first_chunk::<3>() else {
        return;
    };
    let config = CursorConfig {
        ops_per_request_max: 1 + u32::from(head[0] % 64),
        requests_in_flight_max: 1 + u32::from(head[1] % 8),
        ..CursorConfig::default()
    };
    let start = i64::from(head[2]) - 1;
    let mut cursor =
        ChangesCursor::new(config, start, -1).expect("config is valid by construction");
    let mut pending: Vec<PlannedRequest> = Vec::new();
    let mut delivered = start;
    for event in events.chunks_exact(4).take(EVENTS_MAX) {
        match event[0] % 4 {
            0 => pending.extend(std::iter::from_fn(|| cursor.poll_request())),
            1 if !pending.is_empty() => {
                let request = pending.swap_remove(usize::from(event[1]) % pending.len());
                let _ = cursor.handle_response(request.id, answer(&request, event[2], event[3]));
            }
            2 if !pending.is_empty() => {
                let request = pending.swap_remove(usize::from(event[1]) % pending.len());
                cursor
                    .handle_failure(request.id)
                    .expect("the request is in flight");
            }
            _ => {
                while let Some(response) = cursor.poll_ready() {
                    assert_eq!(response.ops.first_seq_no, delivered + 1, "in order, no gap");
                    delivered = response.ops.last_seq_no;
                }
            }
        }
        cursor.check_invariants().expect("cursor invariant holds");
    }
});

/// A leader answer shaped by two fuzz bytes: sometimes right, sometimes shifted, too long,
/// past the checkpoint or inconsistent.
fn answer(request: &PlannedRequest, shape: u8, size: u8) -> ShardChangesResponse {
    let shift = i64::from(shape % 4) - 1;
    let count = u32::from(size % 80);
    let first_seq_no = request.from_seq_no + if shape & 0x10 != 0 { shift } else { 0 };
    let ops = if count == 0 {
        OpsBatch::empty()
    } else {
        OpsBatch {
            count,
            first_seq_no,
            last_seq_no: first_seq_no + i64::from(count) - 1 + i64::from(shape & 0x20 != 0),
            records: (&b"r"[..]).into(),
        }
    };
    let global_checkpoint = ops.last_seq_no.max(request.from_seq_no) + i64::from(shape >> 6) - 1;
    ShardChangesResponse {
        global_checkpoint,
        max_seq_no: global_checkpoint + i64::from(shape & 1),
        history_min_seq_no: 0,
        max_seq_no_of_updates_or_deletes: -1,
        ops,
        versions: MetadataVersions::default(),
        mapping: None,
        settings: None,
        aliases: None,
    }
}

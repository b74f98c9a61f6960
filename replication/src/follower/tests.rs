//! Follower task tests: each rule of the module head, stepped by hand.

use std::collections::BTreeMap;

use bytes::Bytes;
use tandem_wire::{OpsBatch, SnapshotFile};

use super::*;

fn shard() -> ShardTarget {
    ShardTarget {
        index_uuid: "leader-uuid".into(),
        shard_id: 0,
    }
}

fn config() -> FollowerConfig {
    FollowerConfig {
        chunk_bytes: 10,
        chunks_in_flight_max: 2,
        ..FollowerConfig::default()
    }
}

fn drain(task: &mut FollowerShardTask) -> Vec<Command> {
    std::iter::from_fn(|| task.poll_command()).collect()
}

fn manifest() -> SnapshotManifest {
    SnapshotManifest {
        pin_id: 7,
        local_checkpoint: 41,
        max_seq_no: 41,
        files: vec![
            SnapshotFile {
                name: "a".into(),
                size_bytes: 25,
                crc32: 1,
            },
            SnapshotFile {
                name: "b".into(),
                size_bytes: 5,
                crc32: 2,
            },
        ],
    }
}

fn answer(
    first: i64,
    last: i64,
    global_checkpoint: i64,
    versions: MetadataVersions,
) -> ShardChangesResponse {
    ShardChangesResponse {
        ops: OpsBatch {
            count: (last - first + 1) as u32,
            first_seq_no: first,
            last_seq_no: last,
            records: Bytes::from_static(b"records"),
        },
        global_checkpoint,
        max_seq_no: global_checkpoint,
        history_min_seq_no: 0,
        max_seq_no_of_updates_or_deletes: -1,
        versions,
        mapping: Some(Bytes::from_static(b"{}")),
        settings: None,
        aliases: None,
    }
}

#[test]
fn bootstrap_copies_chunks_with_a_bounded_window_then_installs() {
    let mut task = FollowerShardTask::new(config(), shard(), Start::Bootstrap, 0);
    assert_eq!(drain(&mut task), vec![Command::RequestManifest]);
    let mut written = BTreeMap::new();
    written.insert("a".to_string(), 10);
    task.handle(
        Event::ManifestReceived {
            manifest: manifest(),
            already_written: written,
        },
        1,
    );
    let first = drain(&mut task);
    assert_eq!(first.len(), 2, "two chunks in flight: {first:?}");
    assert!(
        matches!(&first[0], Command::FetchChunk { file, offset: 10, len: 10, .. } if file == "a")
    );
    assert_eq!(
        task.bootstrap_progress().map(|p| p.bytes_done),
        Some(10),
        "resumed bytes count"
    );
    task.handle(
        Event::ChunkWritten {
            file: "a".into(),
            offset: 10,
            len: 10,
        },
        2,
    );
    let next = drain(&mut task);
    assert!(matches!(&next[0], Command::FetchChunk { file, offset: 0, len: 5, .. } if file == "b"));
    task.handle(
        Event::ChunkWritten {
            file: "a".into(),
            offset: 20,
            len: 5,
        },
        3,
    );
    assert!(drain(&mut task).is_empty());
    task.handle(
        Event::ChunkWritten {
            file: "b".into(),
            offset: 0,
            len: 5,
        },
        4,
    );
    assert!(matches!(
        drain(&mut task).as_slice(),
        [Command::InstallSnapshot { .. }]
    ));
    task.handle(
        Event::SnapshotInstalled {
            local_checkpoint: 41,
        },
        5,
    );
    let commands = drain(&mut task);
    assert!(matches!(
        commands[0],
        Command::ReleaseSnapshot { pin_id: 7 }
    ));
    assert!(commands
        .iter()
        .any(|c| matches!(c, Command::SendChanges { request, .. } if request.from_seq_no == 42)));
    assert_eq!(task.phase(), &Phase::Syncing);
}

#[test]
fn a_permanent_bootstrap_failure_fails_the_task() {
    let mut task = FollowerShardTask::new(config(), shard(), Start::Bootstrap, 0);
    drain(&mut task);
    task.handle(
        Event::ManifestFailed(Failure::Permanent("no such index [x]".into())),
        1,
    );
    assert_eq!(
        task.phase(),
        &Phase::Failed {
            reason: "no such index [x]".into()
        }
    );
    task.handle(Event::Resume, 2);
    assert!(
        matches!(task.phase(), Phase::Failed { .. }),
        "a failed task can only be stopped"
    );
}

fn syncing_task() -> FollowerShardTask {
    let start = Start::Sync {
        local_checkpoint: 9,
        versions: MetadataVersions {
            mapping: 1,
            settings: 1,
            aliases: 1,
        },
    };
    FollowerShardTask::new(config(), shard(), start, 0)
}

fn sent(commands: &[Command]) -> Vec<(RequestId, i64)> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::SendChanges { id, request } => Some((*id, request.from_seq_no)),
            _ => None,
        })
        .collect()
}

#[test]
fn newer_metadata_is_installed_before_the_operations_that_come_with_it() {
    let mut task = syncing_task();
    let requests = sent(&drain(&mut task));
    assert_eq!(requests[0].1, 10);
    let versions = MetadataVersions {
        mapping: 2,
        settings: 1,
        aliases: 1,
    };
    task.handle(
        Event::ChangesAnswered {
            id: requests[0].0,
            response: answer(10, 12, 12, versions),
        },
        1,
    );
    let commands = drain(&mut task);
    let install = commands
        .iter()
        .position(|c| matches!(c, Command::InstallMetadata { .. }));
    let apply = commands.iter().position(|c| {
        matches!(
            c,
            Command::Apply {
                first_seq_no: 10,
                last_seq_no: 12,
                ..
            }
        )
    });
    assert!(
        install.is_some() && apply.is_some() && install < apply,
        "{commands:?}"
    );
    assert_eq!(task.versions(), versions);
}

#[test]
fn the_next_read_goes_out_before_the_apply_of_an_answer() {
    let mut task = syncing_task();
    let requests = sent(&drain(&mut task));
    let versions = task.versions();
    let ops = i64::from(config().cursor.ops_per_request_max);
    task.handle(
        Event::ChangesAnswered {
            id: requests[0].0,
            response: answer(10, 10 + ops - 1, 10 * ops, versions),
        },
        1,
    );
    let commands = drain(&mut task);
    let send = commands
        .iter()
        .position(|c| matches!(c, Command::SendChanges { .. }));
    let apply = commands
        .iter()
        .position(|c| matches!(c, Command::Apply { .. }));
    assert!(
        send.is_some() && apply.is_some() && send < apply,
        "{commands:?}"
    );
}

#[test]
fn a_retryable_failure_backs_off_and_asks_the_same_range_again() {
    let mut task = syncing_task();
    let requests = sent(&drain(&mut task));
    task.handle(
        Event::ChangesFailed {
            id: requests[0].0,
            failure: Failure::Retryable("timed out".into()),
        },
        5,
    );
    assert!(
        sent(&drain(&mut task)).is_empty(),
        "nothing before the back-off ends"
    );
    let retry_at = task.poll_timeout().expect("a timer");
    assert!(retry_at > 5);
    task.handle(Event::Tick, retry_at);
    let again = sent(&drain(&mut task));
    assert_eq!(again[0].1, 10, "the failed range is asked first");
    assert_eq!(task.retries(), 1);
}

#[test]
fn lost_history_pauses_with_a_reason_and_never_skips() {
    let mut task = syncing_task();
    let requests = sent(&drain(&mut task));
    let reason = "Not all operations between from_seqno [10] and to_seqno [59] found";
    task.handle(
        Event::ChangesFailed {
            id: requests[0].0,
            failure: Failure::Permanent(reason.into()),
        },
        1,
    );
    assert_auto_paused_applying_nothing(&mut task, reason);
}

#[test]
fn pause_drops_late_answers_and_resume_continues_from_the_checkpoint() {
    let mut task = syncing_task();
    let requests = sent(&drain(&mut task));
    task.handle(Event::Pause, 1);
    assert_eq!(
        task.phase(),
        &Phase::Paused {
            reason: USER_PAUSE_REASON.into()
        }
    );
    task.handle(
        Event::ChangesAnswered {
            id: requests[0].0,
            response: answer(10, 12, 12, task.versions()),
        },
        2,
    );
    assert!(
        drain(&mut task)
            .iter()
            .all(|c| !matches!(c, Command::Apply { .. })),
        "late answer dropped"
    );
    task.handle(Event::Resume, 3);
    let commands = drain(&mut task);
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Command::RenewLease {
                retaining_seq_no: 10
            }
        )),
        "{commands:?}"
    );
    assert_eq!(sent(&commands)[0].1, 10);
}

#[test]
fn the_lease_is_renewed_on_schedule_from_the_checkpoint() {
    let mut task = syncing_task();
    drain(&mut task);
    task.handle(
        Event::Applied {
            local_checkpoint: 30,
        },
        1,
    );
    let renew_at = task.poll_timeout().expect("timer");
    task.handle(Event::Tick, renew_at);
    assert!(drain(&mut task).contains(&Command::RenewLease {
        retaining_seq_no: 31
    }));
}

#[test]
fn a_lease_the_leader_lost_pauses_the_task_and_a_missed_renewal_does_not() {
    let mut task = syncing_task();
    drain(&mut task);
    task.handle(
        Event::LeaseRenewFailed(Failure::Retryable("connection lost".into())),
        1,
    );
    assert_eq!(task.phase(), &Phase::Syncing);
    let reason = "retention lease with ID [replication:f] not found";
    task.handle(
        Event::LeaseRenewFailed(Failure::Permanent(reason.into())),
        2,
    );
    assert_auto_paused_applying_nothing(&mut task, reason);
}

/// The task paused itself with `reason` and asks for and applies nothing more.
fn assert_auto_paused_applying_nothing(task: &mut FollowerShardTask, reason: &str) {
    assert_eq!(
        task.phase(),
        &Phase::Paused {
            reason: format!("AutoPaused: {reason}")
        }
    );
    assert!(drain(task)
        .iter()
        .all(|c| !matches!(c, Command::SendChanges { .. } | Command::Apply { .. })));
}

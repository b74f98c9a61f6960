//! Property: after any sequence of appends, syncs, rolls and unsynced writes, a crash that
//! cuts or scribbles over anything past the checkpointed offset loses no acknowledged
//! operation and invents none.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;

use proptest::prelude::*;

use super::support::*;
use crate::record::Operation;

#[derive(Debug, Clone)]
enum Action {
    Append {
        payload_len: usize,
    },
    Sync,
    Roll,
    /// Writes the buffer to the file without syncing it (what a full buffer does).
    WriteUnsynced,
}

#[derive(Debug, Clone)]
enum Crash {
    Clean,
    /// Cut the current generation somewhere between its checkpointed length and its end.
    Truncate {
        fraction: f64,
    },
    /// Overwrite bytes past the checkpointed length with garbage.
    Garbage {
        bytes: Vec<u8>,
    },
    /// A next generation file from a roll that never reached its checkpoint.
    LeftoverNextGeneration {
        bytes: Vec<u8>,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0usize..200).prop_map(|payload_len| Action::Append { payload_len }),
        2 => Just(Action::Sync),
        1 => Just(Action::Roll),
        1 => Just(Action::WriteUnsynced),
    ]
}

fn crash() -> impl Strategy<Value = Crash> {
    let garbage = proptest::collection::vec(any::<u8>(), 1..300);
    prop_oneof![
        Just(Crash::Clean),
        (0.0f64..=1.0).prop_map(|fraction| Crash::Truncate { fraction }),
        garbage.clone().prop_map(|bytes| Crash::Garbage { bytes }),
        garbage.prop_map(|bytes| Crash::LeftoverNextGeneration { bytes }),
    ]
}

fn inflict(dir: &std::path::Path, crash: &Crash) {
    let (_, checkpoint) = read_checkpoint(dir);
    let current = checkpoint.current();
    let path = generation_path(dir, current.generation);
    let len = fs::metadata(&path).unwrap().len();
    assert!(
        len >= current.bytes,
        "the checkpoint never runs ahead of the file"
    );
    match crash {
        Crash::Clean => {}
        Crash::Truncate { fraction } => {
            let cut = current.bytes + ((len - current.bytes) as f64 * fraction) as u64;
            OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(cut)
                .unwrap();
        }
        Crash::Garbage { bytes } => {
            let file = OpenOptions::new().write(true).open(&path).unwrap();
            file.write_all_at(bytes, current.bytes).unwrap();
        }
        Crash::LeftoverNextGeneration { bytes } => {
            fs::write(generation_path(dir, current.generation + 1), bytes).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn acknowledged_ops_survive_any_crash_past_the_checkpoint(
        rounds in proptest::collection::vec(
            (proptest::collection::vec(action(), 1..40), crash()),
            1..4,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut translog = create(dir.path(), small_config());
        let mut appended: Vec<Operation> = Vec::new();
        let mut acknowledged = 0usize;
        for (actions, crash) in &rounds {
            for action in actions {
                match action {
                    Action::Append { payload_len } => {
                        let op = op_sized(appended.len() as i64, 1, *payload_len);
                        translog.append(&op).unwrap();
                        appended.push(op);
                    }
                    Action::Sync => {
                        translog.sync().unwrap();
                        acknowledged = appended.len();
                    }
                    Action::Roll => translog.roll_generation().unwrap(),
                    Action::WriteUnsynced => {
                        let _ = translog.iter_from(i64::MAX).unwrap();
                    }
                }
            }
            drop(translog);
            inflict(dir.path(), crash);
            translog = reopen(dir.path(), small_config());
            let recovered = replay(&translog);
            prop_assert!(
                recovered.len() >= acknowledged,
                "lost acknowledged ops: {} recovered, {} acknowledged", recovered.len(), acknowledged
            );
            prop_assert!(recovered.len() <= appended.len(), "invented ops");
            prop_assert_eq!(&recovered[..], &appended[..recovered.len()], "recovered ops differ");
            // What survived is durable now; what did not was never acknowledged.
            appended.truncate(recovered.len());
            acknowledged = appended.len();
        }
    }
}

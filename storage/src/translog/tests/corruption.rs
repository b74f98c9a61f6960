//! Damage on disk: inside the checkpointed range open fails naming file and offset; a damaged
//! checkpoint slot falls back to the other; foreign and missing generations get their own
//! errors.

use std::fs::{self, OpenOptions};
use std::path::Path;

use super::support::*;
use crate::translog::checkpoint::{decode_slot, CHECKPOINT_FILE_NAME, CHECKPOINT_SLOT_BYTES};
use crate::translog::{Location, Translog, TranslogError};

/// Generation 1 sealed with three ops, generation 2 (current at the crash) with two, synced.
fn two_generations(dir: &Path) -> Vec<Location> {
    let translog = create(dir, config());
    let mut locations = Vec::new();
    for seq in 0..3 {
        locations.push(translog.append(&op(seq)).unwrap());
    }
    translog.roll_generation().unwrap();
    for seq in 3..5 {
        locations.push(translog.append(&op(seq)).unwrap());
    }
    translog.sync().unwrap();
    locations
}

fn assert_corrupt_at(dir: &Path, generation: u64, offset: u64) {
    let err = Translog::open(dir, config(), 1).unwrap_err();
    match err {
        TranslogError::Corrupt {
            file,
            offset: found,
            ..
        } => {
            assert_eq!(file, generation_path(dir, generation));
            assert_eq!(found, offset);
        }
        other => panic!("expected corruption, got {other}"),
    }
}

#[test]
fn damage_in_a_sealed_generation_fails_open_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let locations = two_generations(dir.path());
    let target = locations[1];
    flip_byte(&generation_path(dir.path(), 1), target.offset + 20, 0x01);
    assert_corrupt_at(dir.path(), 1, target.offset);
}

#[test]
fn damage_in_the_checkpointed_part_of_the_last_generation_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let locations = two_generations(dir.path());
    let target = locations[4];
    flip_byte(&generation_path(dir.path(), 2), target.end() - 1, 0x40);
    assert_corrupt_at(dir.path(), 2, target.offset);
}

#[test]
fn every_damaged_byte_in_the_checkpointed_range_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let locations = two_generations(dir.path());
    for generation in [1u64, 2] {
        let path = generation_path(dir.path(), generation);
        let end = locations
            .iter()
            .filter(|l| l.generation == generation)
            .map(|l| l.end())
            .max()
            .unwrap();
        for offset in 0..end {
            flip_byte(&path, offset, 0x08);
            let result = Translog::open(dir.path(), config(), 1);
            assert!(
                matches!(result, Err(TranslogError::Corrupt { .. })),
                "generation {generation} offset {offset}: {result:?}"
            );
            flip_byte(&path, offset, 0x08);
        }
    }
    let translog = reopen(dir.path(), config());
    assert_eq!(replay(&translog).len(), 5, "undamaged again");
}

#[test]
fn a_generation_shorter_than_its_checkpoint_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let locations = two_generations(dir.path());
    let path = generation_path(dir.path(), 1);
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(locations[2].end() - 1).unwrap();
    let err = Translog::open(dir.path(), config(), 1).unwrap_err();
    assert!(
        matches!(err, TranslogError::Corrupt { ref file, .. } if *file == path),
        "{err}"
    );
}

/// Counter and byte offset of the newest and the older checkpoint slot.
fn slots(dir: &Path) -> ((u64, usize), (u64, usize)) {
    let bytes = fs::read(dir.join(CHECKPOINT_FILE_NAME)).unwrap();
    let a = decode_slot(&bytes[..CHECKPOINT_SLOT_BYTES]).unwrap().0;
    let b = decode_slot(&bytes[CHECKPOINT_SLOT_BYTES..]).unwrap().0;
    if a > b {
        ((a, 0), (b, CHECKPOINT_SLOT_BYTES))
    } else {
        ((b, CHECKPOINT_SLOT_BYTES), (a, 0))
    }
}

#[test]
fn a_torn_newest_checkpoint_slot_falls_back_to_the_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in 0..3 {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    for seq in 3..5 {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    drop(translog);
    let ((newest, newest_offset), (older, _)) = slots(dir.path());
    assert_eq!(newest, older + 1);
    flip_byte(
        &dir.path().join(CHECKPOINT_FILE_NAME),
        newest_offset as u64 + 40,
        0xff,
    );
    let translog = reopen(dir.path(), config());
    assert_eq!(
        replay(&translog),
        (0..3).map(op).collect::<Vec<_>>(),
        "the older slot's ops"
    );
}

#[test]
fn two_damaged_checkpoint_slots_fail_open_naming_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    two_generations(dir.path());
    let path = dir.path().join(CHECKPOINT_FILE_NAME);
    flip_byte(&path, 30, 0x01);
    flip_byte(&path, CHECKPOINT_SLOT_BYTES as u64 + 30, 0x01);
    let err = Translog::open(dir.path(), config(), 1).unwrap_err();
    assert!(
        matches!(err, TranslogError::Corrupt { ref file, .. } if *file == path),
        "{err}"
    );
}

#[test]
fn a_generation_of_another_translog_is_foreign() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    two_generations(ours.path());
    two_generations(theirs.path());
    fs::copy(
        generation_path(theirs.path(), 1),
        generation_path(ours.path(), 1),
    )
    .unwrap();
    let err = Translog::open(ours.path(), config(), 1).unwrap_err();
    assert!(matches!(err, TranslogError::ForeignFile { .. }), "{err}");
}

#[test]
fn a_missing_middle_generation_is_not_consecutive() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in 0..3 {
        translog.append(&op(seq)).unwrap();
        translog.roll_generation().unwrap();
    }
    drop(translog);
    fs::remove_file(generation_path(dir.path(), 2)).unwrap();
    let err = Translog::open(dir.path(), config(), 1).unwrap_err();
    assert!(
        matches!(
            err,
            TranslogError::NotConsecutive {
                missing_generation: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_leftover_next_generation_is_deleted_and_one_beyond_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    two_generations(dir.path());
    let (_, checkpoint) = read_checkpoint(dir.path());
    let current = checkpoint.current().generation;
    fs::write(generation_path(dir.path(), current + 1), b"torn header").unwrap();
    let translog = reopen(dir.path(), config());
    assert_eq!(replay(&translog).len(), 5);
    drop(translog);
    let (_, checkpoint) = read_checkpoint(dir.path());
    let beyond = generation_path(dir.path(), checkpoint.current().generation + 2);
    fs::write(&beyond, b"?").unwrap();
    let err = Translog::open(dir.path(), config(), 1).unwrap_err();
    assert!(
        matches!(err, TranslogError::Corrupt { ref file, .. } if *file == beyond),
        "{err}"
    );
}

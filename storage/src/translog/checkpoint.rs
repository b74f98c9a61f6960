//! `translog.ckp`: the durable truth about which translog bytes exist.
//!
//! The file holds two fixed-size slots, A at offset 0 and B at [`CHECKPOINT_SLOT_BYTES`].
//! Writes alternate between them (counter `c` goes to slot `c % 2`) in place, each followed by
//! fdatasync, so a torn write can only damage the slot being written while the other keeps the
//! previous checkpoint. Reading takes the valid slot with the highest counter; when neither is
//! valid the translog cannot be opened. The file keeps a fixed length of two slots, so an
//! fdatasync never has to flush a size change.
//!
//! Slot layout, little endian, crc32 over every byte before it:
//!
//! ```text
//! magic "TNDMTCKP" | format_version u32 | counter u64 | uuid [16] | current_generation u64
//! | durable_offset u64 | min_retained_generation u64 | history_min_seq_no i64
//! | generations_len u32 | generations_len x (generation u64 | ops u64 | min_seq_no i64
//! | max_seq_no i64 | bytes u64) | crc32 u32
//! ```
//!
//! The per-generation list covers every retained generation, oldest first; the last entry is
//! the current generation and its `bytes` is the durable offset. Keeping every summary in one
//! file (rather than frozen per-generation checkpoint files, as Elasticsearch does) means one
//! write describes the whole translog and files can never disagree; the price is a cap of
//! [`GENERATIONS_RETAINED_MAX`] generations.
//!
//! This module owns that layout and its writer. It must never return a checkpoint whose crc
//! did not match or whose fields are inconsistent, and never write a slot without syncing it
//! before the write is reported done.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// File name of the checkpoint inside the translog directory.
pub const CHECKPOINT_FILE_NAME: &str = "translog.ckp";
/// Magic at the start of each slot.
pub const CHECKPOINT_MAGIC: [u8; 8] = *b"TNDMTCKP";
/// Slot layout version this build writes and reads.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;
/// Most generations a checkpoint can describe, the active one included. With the default
/// 64 MiB generations this is 64 GiB of translog; retention trimming keeps far less.
pub const GENERATIONS_RETAINED_MAX: usize = 1024;
/// Value of `min_seq_no`/`max_seq_no` for a generation without operations (Elasticsearch's
/// `NO_OPS_PERFORMED`).
pub const NO_OPS_SEQ_NO: i64 = -1;

const SLOT_HEADER_BYTES: usize = 8 + 4 + 8 + 16 + 8 + 8 + 8 + 8 + 4;
const SLOT_ENTRY_BYTES: usize = 40;
const SLOT_CRC_BYTES: usize = 4;
const PAGE_BYTES: usize = 4096;
/// Size of one slot, in bytes: room for [`GENERATIONS_RETAINED_MAX`] entries, rounded up to a
/// page so slots never share one.
pub const CHECKPOINT_SLOT_BYTES: usize =
    (SLOT_HEADER_BYTES + SLOT_ENTRY_BYTES * GENERATIONS_RETAINED_MAX + SLOT_CRC_BYTES)
        .div_ceil(PAGE_BYTES)
        * PAGE_BYTES;
/// Size of the whole checkpoint file, in bytes.
pub const CHECKPOINT_FILE_BYTES: usize = 2 * CHECKPOINT_SLOT_BYTES;

const _: () = assert!(
    SLOT_HEADER_BYTES + SLOT_ENTRY_BYTES * GENERATIONS_RETAINED_MAX + SLOT_CRC_BYTES
        <= CHECKPOINT_SLOT_BYTES
);
const _: () = assert!(
    GENERATIONS_RETAINED_MAX >= 2,
    "rolling needs a sealed and an active slot"
);

/// What one retained generation holds, as of the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationSummary {
    /// Generation number.
    pub generation: u64,
    /// Records in `[header, bytes)`.
    pub ops: u64,
    /// Smallest seq_no among them, or [`NO_OPS_SEQ_NO`].
    pub min_seq_no: i64,
    /// Largest seq_no among them, or [`NO_OPS_SEQ_NO`].
    pub max_seq_no: i64,
    /// Length of the valid prefix of the file (header included): the final length of a sealed
    /// generation, the durable offset of the current one.
    pub bytes: u64,
}

/// The decoded contents of a checkpoint slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Uuid of the translog, repeated in every generation header.
    pub uuid: [u8; 16],
    /// Lowest seq_no the translog can serve; never decreases.
    pub history_min_seq_no: i64,
    /// Every retained generation, consecutive and oldest first; the last one is current.
    /// Never empty.
    pub generations: Vec<GenerationSummary>,
}

impl Checkpoint {
    /// The generation being appended to.
    pub fn current(&self) -> &GenerationSummary {
        self.generations
            .last()
            .expect("a checkpoint always lists its current generation")
    }

    /// The oldest retained generation.
    pub fn min_retained_generation(&self) -> u64 {
        self.generations
            .first()
            .expect("a checkpoint always lists its current generation")
            .generation
    }
}

/// Encodes `checkpoint` as one slot image (only the used prefix, not padded).
pub fn encode_slot(checkpoint: &Checkpoint, counter: u64) -> Vec<u8> {
    assert!(
        !checkpoint.generations.is_empty(),
        "checkpoint without a current generation"
    );
    assert!(
        checkpoint.generations.len() <= GENERATIONS_RETAINED_MAX,
        "too many generations"
    );
    let current = checkpoint.current();
    let mut out = Vec::with_capacity(
        SLOT_HEADER_BYTES + SLOT_ENTRY_BYTES * checkpoint.generations.len() + SLOT_CRC_BYTES,
    );
    out.extend_from_slice(&CHECKPOINT_MAGIC);
    out.extend_from_slice(&CHECKPOINT_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&counter.to_le_bytes());
    out.extend_from_slice(&checkpoint.uuid);
    out.extend_from_slice(&current.generation.to_le_bytes());
    out.extend_from_slice(&current.bytes.to_le_bytes());
    out.extend_from_slice(&checkpoint.min_retained_generation().to_le_bytes());
    out.extend_from_slice(&checkpoint.history_min_seq_no.to_le_bytes());
    let len = u32::try_from(checkpoint.generations.len())
        .expect("generations are capped at GENERATIONS_RETAINED_MAX");
    out.extend_from_slice(&len.to_le_bytes());
    for summary in &checkpoint.generations {
        out.extend_from_slice(&summary.generation.to_le_bytes());
        out.extend_from_slice(&summary.ops.to_le_bytes());
        out.extend_from_slice(&summary.min_seq_no.to_le_bytes());
        out.extend_from_slice(&summary.max_seq_no.to_le_bytes());
        out.extend_from_slice(&summary.bytes.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert!(out.len() <= CHECKPOINT_SLOT_BYTES);
    out
}

/// Decodes one slot image (bytes after the slot's crc are ignored), returning its counter and
/// checkpoint, or why it is invalid. Never panics on any input.
pub fn decode_slot(bytes: &[u8]) -> Result<(u64, Checkpoint), String> {
    let mut cursor = Cursor { bytes, pos: 0 };
    let magic: [u8; 8] = cursor.array()?;
    if magic != CHECKPOINT_MAGIC {
        return Err(format!("bad magic {magic:02x?}"));
    }
    let version = u32::from_le_bytes(cursor.array()?);
    let counter = u64::from_le_bytes(cursor.array()?);
    let uuid: [u8; 16] = cursor.array()?;
    let current_generation = u64::from_le_bytes(cursor.array()?);
    let durable_offset = u64::from_le_bytes(cursor.array()?);
    let min_retained_generation = u64::from_le_bytes(cursor.array()?);
    let history_min_seq_no = i64::from_le_bytes(cursor.array()?);
    let len = u32::from_le_bytes(cursor.array()?) as usize;
    if len == 0 || len > GENERATIONS_RETAINED_MAX {
        return Err(format!(
            "generation count {len} outside 1..={GENERATIONS_RETAINED_MAX}"
        ));
    }
    let crc_offset = SLOT_HEADER_BYTES + len * SLOT_ENTRY_BYTES;
    let Some(covered) = bytes.get(..crc_offset) else {
        return Err(format!(
            "slot truncated at {} bytes, need {crc_offset}",
            bytes.len()
        ));
    };
    let mut crc_cursor = Cursor {
        bytes,
        pos: crc_offset,
    };
    let stored_crc = u32::from_le_bytes(crc_cursor.array()?);
    let computed_crc = crc32fast::hash(covered);
    if stored_crc != computed_crc {
        return Err(format!(
            "crc32 mismatch: stored {stored_crc:#010x}, computed {computed_crc:#010x}"
        ));
    }
    // Checked after the crc so a damaged version field reads as damage.
    if version != CHECKPOINT_FORMAT_VERSION {
        return Err(format!("unsupported format version {version}"));
    }
    let mut generations = Vec::with_capacity(len);
    for _ in 0..len {
        generations.push(GenerationSummary {
            generation: u64::from_le_bytes(cursor.array()?),
            ops: u64::from_le_bytes(cursor.array()?),
            min_seq_no: i64::from_le_bytes(cursor.array()?),
            max_seq_no: i64::from_le_bytes(cursor.array()?),
            bytes: u64::from_le_bytes(cursor.array()?),
        });
    }
    let checkpoint = Checkpoint {
        uuid,
        history_min_seq_no,
        generations,
    };
    check_consistent(&checkpoint, counter)?;
    let current = checkpoint.current();
    if current.generation != current_generation || current.bytes != durable_offset {
        return Err("current generation fields disagree with the generation list".to_owned());
    }
    if checkpoint.min_retained_generation() != min_retained_generation {
        return Err("min retained generation disagrees with the generation list".to_owned());
    }
    Ok((counter, checkpoint))
}

/// Decodes a whole checkpoint file: the valid slot with the highest counter. When neither slot
/// is valid, the error gives both reasons. Never panics on any input.
pub fn decode_file(bytes: &[u8]) -> Result<(u64, Checkpoint), String> {
    let slot = |index: usize| {
        let start = (index * CHECKPOINT_SLOT_BYTES).min(bytes.len());
        let end = ((index + 1) * CHECKPOINT_SLOT_BYTES).min(bytes.len());
        decode_slot(&bytes[start..end]).and_then(|(counter, checkpoint)| {
            // A slot holding a counter of the other parity was written to the wrong place.
            if counter % 2 == index as u64 {
                Ok((counter, checkpoint))
            } else {
                Err(format!("counter {counter} does not belong in this slot"))
            }
        })
    };
    match (slot(0), slot(1)) {
        (Ok(a), Ok(b)) => Ok(if a.0 > b.0 { a } else { b }),
        (Ok(a), Err(_)) => Ok(a),
        (Err(_), Ok(b)) => Ok(b),
        (Err(a), Err(b)) => Err(format!(
            "no valid checkpoint slot: slot a: {a}; slot b: {b}"
        )),
    }
}

fn check_consistent(checkpoint: &Checkpoint, counter: u64) -> Result<(), String> {
    if counter == 0 {
        return Err("counter is 0".to_owned());
    }
    if checkpoint.history_min_seq_no < 0 {
        return Err(format!(
            "history_min_seq_no {} is negative",
            checkpoint.history_min_seq_no
        ));
    }
    let mut previous: Option<u64> = None;
    for summary in &checkpoint.generations {
        if let Some(previous) = previous {
            if previous.checked_add(1) != Some(summary.generation) {
                return Err(format!(
                    "generation {} follows {previous}",
                    summary.generation
                ));
            }
        }
        previous = Some(summary.generation);
        if summary.generation == 0 {
            return Err("generation 0".to_owned());
        }
        let seq_nos_ok = match summary.ops {
            0 => summary.min_seq_no == NO_OPS_SEQ_NO && summary.max_seq_no == NO_OPS_SEQ_NO,
            _ => 0 <= summary.min_seq_no && summary.min_seq_no <= summary.max_seq_no,
        };
        if !seq_nos_ok {
            return Err(format!(
                "generation {} has inconsistent seq_no range",
                summary.generation
            ));
        }
        if summary.bytes < super::generation::GENERATION_HEADER_BYTES as u64 {
            return Err(format!(
                "generation {} shorter than its header",
                summary.generation
            ));
        }
    }
    Ok(())
}

/// Reads fixed-width fields; running past the end is an error, not a panic.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let Some(slice) = self.bytes.get(self.pos..self.pos + N) else {
            return Err(format!("slot truncated at {} bytes", self.bytes.len()));
        };
        self.pos += N;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
}

/// The open checkpoint file and the last checkpoint written to it.
pub(super) struct CheckpointFile {
    path: PathBuf,
    file: File,
    counter: u64,
    current: Checkpoint,
}

impl CheckpointFile {
    /// Creates the file with `checkpoint` as its only valid slot: temp file, sync, rename, sync
    /// of the directory, so a crash leaves either no checkpoint or a complete one.
    pub(super) fn create(dir: &Path, checkpoint: Checkpoint) -> io::Result<CheckpointFile> {
        let path = dir.join(CHECKPOINT_FILE_NAME);
        let tmp_path = dir.join(format!("{CHECKPOINT_FILE_NAME}.tmp"));
        let counter = 1;
        let tmp = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)?;
        tmp.set_len(CHECKPOINT_FILE_BYTES as u64)?;
        tmp.write_all_at(&encode_slot(&checkpoint, counter), slot_offset(counter))?;
        tmp.sync_all()?;
        drop(tmp);
        fs::rename(&tmp_path, &path)?;
        File::open(dir)?.sync_all()?;
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        Ok(CheckpointFile {
            path,
            file,
            counter,
            current: checkpoint,
        })
    }

    /// Opens the file and reads its newest valid slot. `Ok(Err(reason))` means the file exists
    /// but holds no valid slot.
    pub(super) fn open(dir: &Path) -> io::Result<Result<CheckpointFile, String>> {
        let path = dir.join(CHECKPOINT_FILE_NAME);
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        let mut bytes = Vec::with_capacity(CHECKPOINT_FILE_BYTES);
        (&file)
            .take(CHECKPOINT_FILE_BYTES as u64)
            .read_to_end(&mut bytes)?;
        Ok(
            decode_file(&bytes).map(|(counter, current)| CheckpointFile {
                path,
                file,
                counter,
                current,
            }),
        )
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn current(&self) -> &Checkpoint {
        &self.current
    }

    /// Writes `next` into the older slot and fdatasyncs it. When this returns `Ok`, `next` is
    /// what a reopen reads. On error the slot's state is unknown; callers must stop writing.
    pub(super) fn write(&mut self, next: Checkpoint) -> io::Result<()> {
        debug_assert_eq!(next.uuid, self.current.uuid);
        debug_assert!(next.history_min_seq_no >= self.current.history_min_seq_no);
        debug_assert!(next.current().generation >= self.current.current().generation);
        let counter = self.counter + 1;
        self.file
            .write_all_at(&encode_slot(&next, counter), slot_offset(counter))?;
        self.file.sync_data()?;
        self.counter = counter;
        self.current = next;
        Ok(())
    }
}

fn slot_offset(counter: u64) -> u64 {
    (counter % 2) * CHECKPOINT_SLOT_BYTES as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            uuid: [7; 16],
            history_min_seq_no: 3,
            generations: vec![
                GenerationSummary {
                    generation: 4,
                    ops: 2,
                    min_seq_no: 3,
                    max_seq_no: 9,
                    bytes: 900,
                },
                GenerationSummary {
                    generation: 5,
                    ops: 0,
                    min_seq_no: -1,
                    max_seq_no: -1,
                    bytes: 48,
                },
            ],
        }
    }

    #[test]
    fn slot_round_trips() {
        let bytes = encode_slot(&sample(), 12);
        assert_eq!(decode_slot(&bytes), Ok((12, sample())));
    }

    #[test]
    fn every_flipped_byte_of_a_slot_is_rejected() {
        let bytes = encode_slot(&sample(), 12);
        for index in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[index] ^= 0x20;
            assert!(decode_slot(&damaged).is_err(), "byte {index}");
        }
        for len in 0..bytes.len() {
            assert!(decode_slot(&bytes[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn newest_valid_slot_wins_and_a_torn_slot_falls_back() {
        let mut file = vec![0u8; CHECKPOINT_FILE_BYTES];
        let older = sample();
        let mut newer = sample();
        newer.generations[1].bytes = 100;
        let older_bytes = encode_slot(&older, 3);
        let newer_bytes = encode_slot(&newer, 4);
        file[CHECKPOINT_SLOT_BYTES..][..older_bytes.len()].copy_from_slice(&older_bytes);
        file[..newer_bytes.len()].copy_from_slice(&newer_bytes);
        assert_eq!(decode_file(&file), Ok((4, newer)));
        file[20] ^= 1;
        assert_eq!(decode_file(&file), Ok((3, older)));
        file[CHECKPOINT_SLOT_BYTES + 20] ^= 1;
        assert!(decode_file(&file)
            .unwrap_err()
            .contains("no valid checkpoint slot"));
    }

    #[test]
    fn inconsistent_lists_are_rejected() {
        let mut gap = sample();
        gap.generations[1].generation = 6;
        assert!(decode_slot(&encode_slot(&gap, 1)).is_err());
        let mut bad_range = sample();
        bad_range.generations[0].min_seq_no = 10;
        assert!(decode_slot(&encode_slot(&bad_range, 1)).is_err());
    }

    #[test]
    fn writer_alternates_slots_and_reopens_to_the_latest() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = CheckpointFile::create(dir.path(), sample()).unwrap();
        for bytes in [60, 70, 80] {
            let mut next = file.current().clone();
            next.generations[1].bytes = bytes;
            file.write(next).unwrap();
        }
        let reopened = CheckpointFile::open(dir.path()).unwrap().unwrap();
        assert_eq!(reopened.counter, 4);
        assert_eq!(reopened.current().current().bytes, 80);
        assert_eq!(
            fs::metadata(reopened.path()).unwrap().len(),
            CHECKPOINT_FILE_BYTES as u64
        );
    }
}

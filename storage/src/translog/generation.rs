//! Generation files `translog-<gen>.tlog`: naming, the header, creation, and verifying the
//! records of a generation's valid prefix.
//!
//! Header, little endian, 48 bytes:
//!
//! ```text
//! magic "TNDMTLOG" | format_version u32 | translog uuid [16] | generation u64
//! | primary_term u64 | crc32 u32 (over the 44 bytes before it)
//! ```
//!
//! Records ([`crate::record`] frames) follow back to back. This module must never read past a
//! generation's checkpointed length, never accept a header whose crc, magic, version, uuid or
//! generation is wrong, and never create a generation file without syncing it and its
//! directory entry.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::checkpoint::{GenerationSummary, NO_OPS_SEQ_NO};
use super::error::{hex, io_error, Result, TranslogError};
use crate::record::{self, RecordError, RecordHeader};

/// Magic at the start of every generation file.
pub const GENERATION_MAGIC: [u8; 8] = *b"TNDMTLOG";
/// Generation header version this build writes and reads.
pub const GENERATION_FORMAT_VERSION: u32 = 1;
/// Size of the generation header, in bytes.
pub const GENERATION_HEADER_BYTES: usize = 8 + 4 + 16 + 8 + 8 + 4;

const FILE_PREFIX: &str = "translog-";
const FILE_SUFFIX: &str = ".tlog";

/// The fields of a generation header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct GenerationHeader {
    pub(super) uuid: [u8; 16],
    pub(super) generation: u64,
    pub(super) primary_term: u64,
}

pub(super) fn file_name(generation: u64) -> String {
    format!("{FILE_PREFIX}{generation:020}{FILE_SUFFIX}")
}

pub(super) fn path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(file_name(generation))
}

/// The generation named by `name`, if it is a generation file name.
pub(super) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(FILE_PREFIX)?.strip_suffix(FILE_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub(super) fn encode_header(header: &GenerationHeader) -> [u8; GENERATION_HEADER_BYTES] {
    let mut out = [0u8; GENERATION_HEADER_BYTES];
    out[..8].copy_from_slice(&GENERATION_MAGIC);
    out[8..12].copy_from_slice(&GENERATION_FORMAT_VERSION.to_le_bytes());
    out[12..28].copy_from_slice(&header.uuid);
    out[28..36].copy_from_slice(&header.generation.to_le_bytes());
    out[36..44].copy_from_slice(&header.primary_term.to_le_bytes());
    let crc = crc32fast::hash(&out[..44]);
    out[44..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Verifies the header of generation `generation` of translog `uuid`, held in `bytes`.
pub(super) fn decode_header(
    file: &Path,
    bytes: &[u8],
    uuid: [u8; 16],
    generation: u64,
) -> Result<GenerationHeader> {
    let corrupt = |offset: u64, reason: String| TranslogError::Corrupt {
        file: file.to_path_buf(),
        offset,
        reason,
    };
    let Some(header) = bytes.get(..GENERATION_HEADER_BYTES) else {
        return Err(corrupt(
            0,
            format!("header truncated at {} bytes", bytes.len()),
        ));
    };
    if header[..8] != GENERATION_MAGIC {
        return Err(corrupt(0, format!("bad magic {:02x?}", &header[..8])));
    }
    let stored_crc = u32::from_le_bytes(array_at(header, 44));
    let computed_crc = crc32fast::hash(&header[..44]);
    if stored_crc != computed_crc {
        return Err(corrupt(
            44,
            format!(
                "header crc32 mismatch: stored {stored_crc:#010x}, computed {computed_crc:#010x}"
            ),
        ));
    }
    let version = u32::from_le_bytes(array_at(header, 8));
    if version != GENERATION_FORMAT_VERSION {
        return Err(corrupt(8, format!("unsupported format version {version}")));
    }
    let found = GenerationHeader {
        uuid: array_at(header, 12),
        generation: u64::from_le_bytes(array_at(header, 28)),
        primary_term: u64::from_le_bytes(array_at(header, 36)),
    };
    // Compared only after the crc passed, so a damaged byte never reads as a foreign file.
    if found.uuid != uuid {
        return Err(TranslogError::ForeignFile {
            file: file.to_path_buf(),
            expected: hex(&uuid),
            found: hex(&found.uuid),
        });
    }
    if found.generation != generation {
        return Err(corrupt(
            28,
            format!("header names generation {}", found.generation),
        ));
    }
    Ok(found)
}

/// Creates generation file `header.generation` holding only its header, synced, with its
/// directory entry synced. Fails if the file exists.
pub(super) fn create(dir: &Path, header: &GenerationHeader) -> Result<(File, PathBuf)> {
    let path = path(dir, header.generation);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error(&path))?;
    file.write_all_at(&encode_header(header), 0)
        .map_err(io_error(&path))?;
    file.sync_all().map_err(io_error(&path))?;
    fsync_dir(dir)?;
    Ok((file, path))
}

/// Opens an existing generation read-only and maps it whole.
pub(super) fn map(path: &Path) -> Result<Mmap> {
    let file = File::open(path).map_err(io_error(path))?;
    map_file(&file, path)
}

pub(super) fn map_file(file: &File, path: &Path) -> Result<Mmap> {
    // SAFETY: generation files are only ever appended to by this process and never truncated
    // or rewritten while a translog is open, so the mapped bytes up to the length read here
    // stay valid; readers only look below a generation's checkpointed length.
    unsafe { Mmap::map(file) }.map_err(io_error(path))
}

/// One verified record found by [`scan`].
#[derive(Debug, Clone, Copy)]
pub(super) struct ScannedRecord {
    pub(super) offset: u64,
    pub(super) header: RecordHeader,
}

/// Verifies every record of `bytes[GENERATION_HEADER_BYTES..summary.bytes]` and that they
/// match `summary`, calling `visit` for each in file order. Any damage is `Corrupt` naming the
/// record's offset: this range was synced, so even a cut record is damage.
pub(super) fn scan(
    file: &Path,
    bytes: &[u8],
    summary: &GenerationSummary,
    mut visit: impl FnMut(ScannedRecord),
) -> Result<()> {
    let corrupt = |offset: u64, reason: String| TranslogError::Corrupt {
        file: file.to_path_buf(),
        offset,
        reason,
    };
    let Some(valid) = usize::try_from(summary.bytes)
        .ok()
        .and_then(|end| bytes.get(..end))
    else {
        return Err(corrupt(
            bytes.len() as u64,
            format!("file ends before the checkpointed length {}", summary.bytes),
        ));
    };
    let mut offset = GENERATION_HEADER_BYTES;
    let (mut ops, mut min_seq_no, mut max_seq_no) = (0u64, NO_OPS_SEQ_NO, NO_OPS_SEQ_NO);
    while offset < valid.len() {
        let header = record::peek_header(&valid[offset..]).map_err(|err| match err {
            RecordError::Incomplete { needed } => corrupt(
                offset as u64,
                format!(
                    "record of {needed} bytes crosses the checkpointed length {}",
                    summary.bytes
                ),
            ),
            other => corrupt(offset as u64, other.to_string()),
        })?;
        visit(ScannedRecord {
            offset: offset as u64,
            header,
        });
        ops += 1;
        min_seq_no = if min_seq_no == NO_OPS_SEQ_NO {
            header.seq_no
        } else {
            min_seq_no.min(header.seq_no)
        };
        max_seq_no = max_seq_no.max(header.seq_no);
        offset += header.frame_len;
    }
    if (ops, min_seq_no, max_seq_no) != (summary.ops, summary.min_seq_no, summary.max_seq_no) {
        return Err(corrupt(
            summary.bytes,
            format!(
                "records hold {ops} ops in seq_no {min_seq_no}..={max_seq_no}, checkpoint says {} ops in {}..={}",
                summary.ops, summary.min_seq_no, summary.max_seq_no
            ),
        ));
    }
    Ok(())
}

/// Makes the directory entries of `dir` durable.
pub(super) fn fsync_dir(dir: &Path) -> Result<()> {
    crate::durable_file::fsync_dir(dir).map_err(|err| match err {
        crate::durable_file::DurableFileError::Io { path, source } => {
            TranslogError::Io { path, source }
        }
        other => TranslogError::Io {
            path: dir.to_path_buf(),
            source: io::Error::other(other.to_string()),
        },
    })
}

/// Copies `N` bytes at `offset`; callers have checked the bounds.
fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: GenerationHeader = GenerationHeader {
        uuid: [9; 16],
        generation: 7,
        primary_term: 2,
    };

    #[test]
    fn header_round_trips() {
        let bytes = encode_header(&HEADER);
        let path = Path::new("translog-7.tlog");
        assert_eq!(decode_header(path, &bytes, [9; 16], 7).unwrap(), HEADER);
    }

    #[test]
    fn every_flipped_header_byte_is_corrupt_not_foreign() {
        let bytes = encode_header(&HEADER);
        let path = Path::new("translog-7.tlog");
        for index in 0..bytes.len() {
            let mut damaged = bytes;
            damaged[index] ^= 0x04;
            let err = decode_header(path, &damaged, [9; 16], 7).unwrap_err();
            assert!(
                matches!(err, TranslogError::Corrupt { .. }),
                "byte {index}: {err}"
            );
        }
        for len in 0..bytes.len() {
            assert!(decode_header(path, &bytes[..len], [9; 16], 7).is_err());
        }
    }

    #[test]
    fn another_uuid_is_a_foreign_file() {
        let bytes = encode_header(&HEADER);
        let err = decode_header(Path::new("x"), &bytes, [8; 16], 7).unwrap_err();
        assert!(matches!(err, TranslogError::ForeignFile { .. }), "{err}");
    }

    #[test]
    fn file_names_round_trip() {
        assert_eq!(file_name(12), "translog-00000000000000000012.tlog");
        assert_eq!(parse_file_name(&file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_file_name("translog-12.tlog"), Some(12));
        assert_eq!(parse_file_name("translog-+1.tlog"), None);
        assert_eq!(parse_file_name("translog.ckp"), None);
        assert_eq!(parse_file_name("translog-.tlog"), None);
    }
}

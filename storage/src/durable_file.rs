//! Small self-checking files that are replaced whole: retention leases, node and shard state.
//!
//! It owns one on-disk layout and the atomic replace protocol for it:
//!
//! ```text
//! magic (8) | format_version u32 LE | payload_len u32 LE | payload | crc32 u32 LE
//! ```
//!
//! The crc covers every byte before it, header included. A file is replaced by writing a temp
//! file in the same directory, fsyncing it, renaming it over the target and fsyncing the
//! directory, so a reader sees the old file or the new one, never a mix.
//!
//! It must never parse what the payload means (callers own that), never return bytes whose crc
//! did not match, and never allocate from a length field before checking it against
//! [`DURABLE_FILE_PAYLOAD_BYTES_MAX`]. It does no network I/O.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Largest payload a durable file may carry, in bytes. These files hold small state documents;
/// anything near this size is a bug or corruption.
pub const DURABLE_FILE_PAYLOAD_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Magic, format version and payload length.
const HEADER_BYTES: usize = 8 + 4 + 4;
/// The trailing crc32.
const FOOTER_BYTES: usize = 4;

const _: () = assert!(DURABLE_FILE_PAYLOAD_BYTES_MAX <= u32::MAX as usize);

/// Everything that can go wrong reading or writing a durable file. Every variant names the file.
#[derive(Debug, Error)]
pub enum DurableFileError {
    /// The file does not exist.
    #[error("durable file {path} not found")]
    NotFound {
        /// The file looked for.
        path: PathBuf,
    },
    /// The operating system reported an error.
    #[error("i/o error on durable file {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file does not start with the expected magic: it is another kind of file.
    #[error("durable file {path} has magic {found:02x?}, expected {expected:02x?}")]
    BadMagic {
        /// The file read.
        path: PathBuf,
        /// The magic the caller expects.
        expected: [u8; 8],
        /// The first bytes found.
        found: [u8; 8],
    },
    /// The file was written in a format version this build cannot read.
    #[error("durable file {path} has format version {found}, supported {supported:?}")]
    UnsupportedVersion {
        /// The file read.
        path: PathBuf,
        /// The version found (its crc matched, so this is what a writer wrote).
        found: u32,
        /// The versions this caller reads.
        supported: RangeInclusive<u32>,
    },
    /// The file is shorter than its header says.
    #[error("durable file {path} is truncated: {len} bytes, need {needed}")]
    Truncated {
        /// The file read.
        path: PathBuf,
        /// Bytes present.
        len: u64,
        /// Bytes the header requires.
        needed: u64,
    },
    /// The crc32 stored in the file does not match its contents.
    #[error(
        "durable file {path} crc32 mismatch: stored {expected:#010x}, computed {actual:#010x}"
    )]
    ChecksumMismatch {
        /// The file read.
        path: PathBuf,
        /// The crc stored in the file.
        expected: u32,
        /// The crc of the bytes read.
        actual: u32,
    },
    /// The payload is above [`DURABLE_FILE_PAYLOAD_BYTES_MAX`] (on write), or the header claims
    /// such a payload (on read).
    #[error("durable file {path} payload of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// The file involved.
        path: PathBuf,
        /// The payload length given or claimed.
        len: u64,
        /// [`DURABLE_FILE_PAYLOAD_BYTES_MAX`].
        max: usize,
    },
    /// The file is longer than its header says, with a valid crc: it was not written by us.
    #[error("durable file {path} has {extra} bytes after its checksum")]
    TrailingBytes {
        /// The file read.
        path: PathBuf,
        /// Bytes after the crc.
        extra: u64,
    },
}

/// Replaces `path` with a durable file holding `payload`.
///
/// Durability: when this returns `Ok`, the new contents and the directory entry are on stable
/// storage (temp file fsynced, renamed over `path`, parent directory fsynced). If it fails or
/// the machine crashes midway, `path` holds either its old contents or the new ones, never a
/// mix; a leftover `<name>.tmp` may remain and is overwritten by the next call. Concurrent
/// writers of the same `path` are not supported: callers serialize them. This call blocks on
/// fsync.
pub fn write_atomic(
    path: &Path,
    magic: [u8; 8],
    format_version: u32,
    payload: &[u8],
) -> Result<(), DurableFileError> {
    let bytes = encode(path, magic, format_version, payload)?;
    let dir = parent_dir(path);
    let tmp_path = temp_path(path);
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| DurableFileError::Io { path: p, source }
    };
    let mut tmp = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp_path)
        .map_err(io_err(&tmp_path))?;
    tmp.write_all(&bytes).map_err(io_err(&tmp_path))?;
    tmp.sync_all().map_err(io_err(&tmp_path))?;
    drop(tmp);
    fs::rename(&tmp_path, path).map_err(io_err(path))?;
    fsync_dir(&dir)
}

/// Reads and verifies the durable file at `path`, returning its format version and payload.
///
/// Nothing is returned unless the magic matches, the length is within
/// [`DURABLE_FILE_PAYLOAD_BYTES_MAX`], the file is exactly as long as its header says, the crc
/// matches, and the version is in `supported_versions`. This call never writes.
pub fn read(
    path: &Path,
    magic: [u8; 8],
    supported_versions: RangeInclusive<u32>,
) -> Result<(u32, Vec<u8>), DurableFileError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => DurableFileError::NotFound {
            path: path.to_path_buf(),
        },
        _ => DurableFileError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    // Read at most one byte past the largest legal file, so a huge or hostile file costs a
    // bounded allocation and is still reported as too long.
    let read_bytes_max = (HEADER_BYTES + DURABLE_FILE_PAYLOAD_BYTES_MAX + FOOTER_BYTES + 1) as u64;
    let mut bytes = Vec::new();
    file.take(read_bytes_max)
        .read_to_end(&mut bytes)
        .map_err(|source| DurableFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let (version, payload) = decode(path, &bytes, magic, supported_versions)?;
    Ok((version, payload.to_vec()))
}

/// Encodes a durable file image in memory. `path` is only used to name errors.
pub fn encode(
    path: &Path,
    magic: [u8; 8],
    format_version: u32,
    payload: &[u8],
) -> Result<Vec<u8>, DurableFileError> {
    if payload.len() > DURABLE_FILE_PAYLOAD_BYTES_MAX {
        return Err(DurableFileError::TooLarge {
            path: path.to_path_buf(),
            len: payload.len() as u64,
            max: DURABLE_FILE_PAYLOAD_BYTES_MAX,
        });
    }
    let payload_len = u32::try_from(payload.len())
        .expect("payload length is below DURABLE_FILE_PAYLOAD_BYTES_MAX which fits in u32");
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len() + FOOTER_BYTES);
    bytes.extend_from_slice(&magic);
    bytes.extend_from_slice(&format_version.to_le_bytes());
    bytes.extend_from_slice(&payload_len.to_le_bytes());
    bytes.extend_from_slice(payload);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Verifies a durable file image held in memory and returns its version and payload.
///
/// Checks, in order: magic, payload length limit, length against the bytes present, crc,
/// trailing bytes, version. The version is checked after the crc so that a damaged version
/// field reads as corruption rather than as a file from another release. `path` is only used
/// to name errors. Never panics on any input.
pub fn decode<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: [u8; 8],
    supported_versions: RangeInclusive<u32>,
) -> Result<(u32, &'a [u8]), DurableFileError> {
    let truncated = |needed: usize| DurableFileError::Truncated {
        path: path.to_path_buf(),
        len: bytes.len() as u64,
        needed: needed as u64,
    };
    let Some(header) = bytes.get(..HEADER_BYTES) else {
        return Err(truncated(HEADER_BYTES + FOOTER_BYTES));
    };
    let found_magic: [u8; 8] = array_at(header, 0);
    if found_magic != magic {
        return Err(DurableFileError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            found: found_magic,
        });
    }
    let version = u32::from_le_bytes(array_at(header, 8));
    let payload_len = u32::from_le_bytes(array_at(header, 12)) as usize;
    if payload_len > DURABLE_FILE_PAYLOAD_BYTES_MAX {
        return Err(DurableFileError::TooLarge {
            path: path.to_path_buf(),
            len: payload_len as u64,
            max: DURABLE_FILE_PAYLOAD_BYTES_MAX,
        });
    }
    let crc_offset = HEADER_BYTES + payload_len;
    let file_len = crc_offset + FOOTER_BYTES;
    if bytes.len() < file_len {
        return Err(truncated(file_len));
    }
    let expected = u32::from_le_bytes(array_at(bytes, crc_offset));
    let actual = crc32fast::hash(&bytes[..crc_offset]);
    if expected != actual {
        return Err(DurableFileError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    if bytes.len() > file_len {
        return Err(DurableFileError::TrailingBytes {
            path: path.to_path_buf(),
            extra: (bytes.len() - file_len) as u64,
        });
    }
    if !supported_versions.contains(&version) {
        return Err(DurableFileError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: supported_versions,
        });
    }
    Ok((version, &bytes[HEADER_BYTES..crc_offset]))
}

/// Makes the directory entries of `dir` durable (created, renamed and deleted files).
///
/// Durability: when this returns `Ok`, every rename, create and unlink in `dir` that completed
/// before the call survives a crash. Blocks on fsync.
pub fn fsync_dir(dir: &Path) -> Result<(), DurableFileError> {
    let io_err = |source| DurableFileError::Io {
        path: dir.to_path_buf(),
        source,
    };
    File::open(dir).map_err(io_err)?.sync_all().map_err(io_err)
}

/// The directory holding `path`; a bare file name lives in the current directory.
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The temp file beside `path`, on the same filesystem so the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
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

    const MAGIC: [u8; 8] = *b"TNDMTEST";

    fn written(payload: &[u8]) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.bin");
        write_atomic(&path, MAGIC, 3, payload).unwrap();
        let bytes = fs::read(&path).unwrap();
        (dir, path, bytes)
    }

    #[test]
    fn round_trip_returns_version_and_payload() {
        let (_dir, path, bytes) = written(b"{\"leases\":[]}");
        assert_eq!(bytes.len(), HEADER_BYTES + 13 + FOOTER_BYTES);
        let (version, payload) = read(&path, MAGIC, 1..=3).unwrap();
        assert_eq!(version, 3);
        assert_eq!(payload, b"{\"leases\":[]}");
        assert!(!temp_path(&path).exists(), "temp file renamed away");
    }

    #[test]
    fn rewrite_replaces_contents() {
        let (_dir, path, _) = written(b"one");
        write_atomic(&path, MAGIC, 3, b"two two").unwrap();
        assert_eq!(read(&path, MAGIC, 3..=3).unwrap().1, b"two two");
    }

    #[test]
    fn empty_payload_round_trips() {
        let (_dir, path, _) = written(b"");
        assert_eq!(read(&path, MAGIC, 3..=3).unwrap(), (3, Vec::new()));
    }

    #[test]
    fn missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(&dir.path().join("nope"), MAGIC, 1..=1).unwrap_err();
        assert!(matches!(err, DurableFileError::NotFound { .. }), "{err}");
    }

    #[test]
    fn every_flipped_byte_is_a_typed_error() {
        let (_dir, path, bytes) = written(b"payload bytes");
        for index in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[index] ^= mask;
                let err = decode(&path, &damaged, MAGIC, 3..=3).unwrap_err();
                let expected_kind = match index {
                    0..=7 => matches!(err, DurableFileError::BadMagic { .. }),
                    _ => matches!(
                        err,
                        DurableFileError::ChecksumMismatch { .. }
                            | DurableFileError::Truncated { .. }
                            | DurableFileError::TooLarge { .. }
                    ),
                };
                assert!(expected_kind, "byte {index} mask {mask:#x}: {err}");
            }
        }
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let (_dir, path, bytes) = written(b"payload bytes");
        for len in 0..bytes.len() {
            fs::write(&path, &bytes[..len]).unwrap();
            let err = read(&path, MAGIC, 3..=3).unwrap_err();
            assert!(
                matches!(err, DurableFileError::Truncated { .. }),
                "len {len}: {err}"
            );
            assert!(
                err.to_string().contains("state.bin"),
                "error names the file"
            );
        }
    }

    #[test]
    fn wrong_magic_is_rejected() {
        let (_dir, path, _) = written(b"x");
        let err = read(&path, *b"TNDMOTHR", 3..=3).unwrap_err();
        assert!(matches!(err, DurableFileError::BadMagic { .. }), "{err}");
    }

    #[test]
    fn unsupported_version_is_rejected() {
        let (_dir, path, _) = written(b"x");
        let err = read(&path, MAGIC, 1..=2).unwrap_err();
        match err {
            DurableFileError::UnsupportedVersion {
                found, supported, ..
            } => {
                assert_eq!(found, 3);
                assert_eq!(supported, 1..=2);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let (_dir, path, mut bytes) = written(b"x");
        bytes.push(0);
        let err = decode(&path, &bytes, MAGIC, 3..=3).unwrap_err();
        assert!(
            matches!(err, DurableFileError::TrailingBytes { extra: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn oversized_length_is_rejected_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        fs::write(&path, &bytes).unwrap();
        let err = read(&path, MAGIC, 1..=1).unwrap_err();
        assert!(matches!(err, DurableFileError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn oversized_payload_is_refused_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let payload = vec![0u8; DURABLE_FILE_PAYLOAD_BYTES_MAX + 1];
        let err = write_atomic(&dir.path().join("f"), MAGIC, 1, &payload).unwrap_err();
        assert!(matches!(err, DurableFileError::TooLarge { .. }), "{err}");
    }
}

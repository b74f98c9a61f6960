//! Bootstrap messages: pin a commit of a leader shard, list its files, fetch them in chunks,
//! release the pin.
//!
//! File names come from the leader and become paths on the follower, so they are checked here
//! on both sides: one path component, no separators, no `.`/`..`, no control characters; a
//! manifest lists each name once, sorted. A file chunk carries the crc32 of its data, checked
//! when decoded; the manifest's per-file crc32 lets the follower check each whole file.

use bytes::Bytes;

use super::{seq_no_or_none, wire_message, ShardTarget};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{
    FILE_CHUNK_BYTES_MAX, FILE_NAME_BYTES_MAX, LEASE_ID_BYTES_MAX, LEASE_SOURCE_BYTES_MAX,
    SNAPSHOT_FILES_MAX,
};
use crate::{MessageKind, WireError};

/// Pins a fresh commit of one leader shard and adds the follower's retention lease, so the
/// operations after the commit stay available for the syncing phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotStart {
    /// The leader shard.
    pub shard: ShardTarget,
    /// Retention lease id the leader adds for this follower shard.
    pub lease_id: String,
    /// Retention lease source, e.g. `replication:<follower cluster>`.
    pub lease_source: String,
}

impl SnapshotStart {
    /// Checks the shard and the lease id.
    pub fn validate(&self) -> Result<(), WireError> {
        self.shard.validate()?;
        super::non_empty("lease_id", &self.lease_id)
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        self.shard.write_body(writer)?;
        writer.str("lease_id", &self.lease_id, LEASE_ID_BYTES_MAX)?;
        writer.str("lease_source", &self.lease_source, LEASE_SOURCE_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let start = SnapshotStart {
            shard: ShardTarget::read_body(reader)?,
            lease_id: reader.str("lease_id", LEASE_ID_BYTES_MAX)?,
            lease_source: reader.str("lease_source", LEASE_SOURCE_BYTES_MAX)?,
        };
        start.validate()?;
        Ok(start)
    }
}

wire_message!(SnapshotStart, MessageKind::SnapshotStart);

/// One file of a pinned commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// File name inside the shard's index directory.
    pub name: String,
    /// Length in bytes.
    pub size_bytes: u64,
    /// crc32 of the whole file.
    pub crc32: u32,
}

/// Smallest encoding of a [`SnapshotFile`]: a one-byte name with its prefix, size, crc.
const SNAPSHOT_FILE_BYTES_MIN: usize = 3 + 8 + 4;

/// The pinned commit: its checkpoints and files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotManifest {
    /// Names the pin in chunk requests and the release.
    pub pin_id: u64,
    /// Local checkpoint recorded in the commit: the follower syncs from the next seq-no.
    pub local_checkpoint: i64,
    /// Highest seq-no in the commit.
    pub max_seq_no: i64,
    /// The files, sorted by name, each name once.
    pub files: Vec<SnapshotFile>,
}

impl SnapshotManifest {
    /// Total bytes of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|file| file.size_bytes)
            .fold(0, u64::saturating_add)
    }

    /// Checks the checkpoints and every file name, and that names are sorted and unique.
    pub fn validate(&self) -> Result<(), WireError> {
        seq_no_or_none("local_checkpoint", self.local_checkpoint)?;
        if self.max_seq_no < self.local_checkpoint {
            return Err(WireError::invalid(
                "max_seq_no",
                "below the local checkpoint",
            ));
        }
        for file in &self.files {
            check_file_name(&file.name)?;
        }
        if self
            .files
            .windows(2)
            .any(|pair| pair[0].name >= pair[1].name)
        {
            return Err(WireError::invalid(
                "files",
                "names not sorted or not unique",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u64(self.pin_id);
        writer.i64(self.local_checkpoint);
        writer.i64(self.max_seq_no);
        writer.count("files", self.files.len(), SNAPSHOT_FILES_MAX)?;
        for file in &self.files {
            writer.str("file_name", &file.name, FILE_NAME_BYTES_MAX)?;
            writer.u64(file.size_bytes);
            writer.u32(file.crc32);
        }
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let pin_id = reader.u64("pin_id")?;
        let local_checkpoint = reader.i64("local_checkpoint")?;
        let max_seq_no = reader.i64("max_seq_no")?;
        let count = reader.count("files", SNAPSHOT_FILES_MAX, SNAPSHOT_FILE_BYTES_MIN)?;
        let mut files = Vec::with_capacity(count);
        for _ in 0..count {
            files.push(SnapshotFile {
                name: reader.str("file_name", FILE_NAME_BYTES_MAX)?,
                size_bytes: reader.u64("size_bytes")?,
                crc32: reader.u32("file_crc32")?,
            });
        }
        let manifest = SnapshotManifest {
            pin_id,
            local_checkpoint,
            max_seq_no,
            files,
        };
        manifest.validate()?;
        Ok(manifest)
    }
}

wire_message!(SnapshotManifest, MessageKind::SnapshotManifest);

/// Asks for `length` bytes of a pinned file from `offset`, answered by one or more
/// [`FileChunk`] frames of at most `chunk_bytes_max` data each, every one but the last flagged
/// [`FrameFlags::MORE`](crate::FrameFlags::MORE). The answer stops early at the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunkRequest {
    /// The pin from the manifest.
    pub pin_id: u64,
    /// The file.
    pub file_name: String,
    /// First byte wanted.
    pub offset: u64,
    /// Bytes wanted (at least one).
    pub length: u64,
    /// Largest data slice per chunk frame.
    pub chunk_bytes_max: u32,
}

impl FileChunkRequest {
    /// Checks the name, the range and the chunk size.
    pub fn validate(&self) -> Result<(), WireError> {
        check_file_name(&self.file_name)?;
        if self.length == 0 {
            return Err(WireError::invalid("length", "zero"));
        }
        if self.offset.checked_add(self.length).is_none() {
            return Err(WireError::invalid("length", "range overflows u64"));
        }
        if self.chunk_bytes_max == 0 || self.chunk_bytes_max > FILE_CHUNK_BYTES_MAX {
            return Err(WireError::invalid(
                "chunk_bytes_max",
                "outside 1..=FILE_CHUNK_BYTES_MAX",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u64(self.pin_id);
        writer.str("file_name", &self.file_name, FILE_NAME_BYTES_MAX)?;
        writer.u64(self.offset);
        writer.u64(self.length);
        writer.u32(self.chunk_bytes_max);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let request = FileChunkRequest {
            pin_id: reader.u64("pin_id")?,
            file_name: reader.str("file_name", FILE_NAME_BYTES_MAX)?,
            offset: reader.u64("offset")?,
            length: reader.u64("length")?,
            chunk_bytes_max: reader.u32("chunk_bytes_max")?,
        };
        request.validate()?;
        Ok(request)
    }
}

wire_message!(FileChunkRequest, MessageKind::FileChunkRequest);

/// A slice of a pinned file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunk {
    /// Offset of `data` in the file.
    pub offset: u64,
    /// The bytes (a zero-copy slice of the received frame).
    pub data: Bytes,
    /// crc32 of `data`.
    pub crc32: u32,
}

impl FileChunk {
    /// A chunk with its crc computed.
    pub fn new(offset: u64, data: Bytes) -> Self {
        let crc32 = crc32fast::hash(&data);
        FileChunk {
            offset,
            data,
            crc32,
        }
    }

    /// Checks the size, the range and the crc.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.data.len() > FILE_CHUNK_BYTES_MAX as usize {
            return Err(WireError::invalid("data", "above FILE_CHUNK_BYTES_MAX"));
        }
        if self.offset.checked_add(self.data.len() as u64).is_none() {
            return Err(WireError::invalid("offset", "chunk end overflows u64"));
        }
        if crc32fast::hash(&self.data) != self.crc32 {
            return Err(WireError::invalid(
                "crc32",
                "file chunk crc32 does not match its data",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u64(self.offset);
        writer.u32(self.crc32);
        writer.blob("data", &self.data, FILE_CHUNK_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let chunk = FileChunk {
            offset: reader.u64("offset")?,
            crc32: reader.u32("chunk_crc32")?,
            data: reader.blob("data", FILE_CHUNK_BYTES_MAX)?,
        };
        chunk.validate()?;
        Ok(chunk)
    }
}

wire_message!(FileChunk, MessageKind::FileChunk);

/// Releases a pinned commit (answered by [`Ack`](super::Ack)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotRelease {
    /// The pin from the manifest.
    pub pin_id: u64,
}

impl SnapshotRelease {
    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        writer.u64(self.pin_id);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        Ok(SnapshotRelease {
            pin_id: reader.u64("pin_id")?,
        })
    }
}

wire_message!(SnapshotRelease, MessageKind::SnapshotRelease);

/// A file name from a leader is safe to join to a directory on the follower.
fn check_file_name(name: &str) -> Result<(), WireError> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(WireError::invalid("file_name", "empty, . or .."));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(WireError::invalid(
            "file_name",
            "contains a separator or a control character",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::WireMessage;

    fn manifest(names: &[&str]) -> SnapshotManifest {
        SnapshotManifest {
            pin_id: 1,
            local_checkpoint: 5,
            max_seq_no: 5,
            files: names
                .iter()
                .map(|n| SnapshotFile {
                    name: (*n).into(),
                    size_bytes: 1,
                    crc32: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn unsafe_file_names_are_refused() {
        for name in ["", ".", "..", "../x", "a/b", "a\\b", "a\0b", "a\nb"] {
            assert!(check_file_name(name).is_err(), "{name:?} accepted");
        }
        for name in ["meta.json", ".managed.json", "0f3a.idx", "segment..store"] {
            assert!(check_file_name(name).is_ok(), "{name:?} refused");
        }
    }

    #[test]
    fn manifest_names_must_be_sorted_and_unique() {
        assert!(manifest(&["a", "b"]).encode().is_ok());
        assert!(manifest(&["b", "a"]).encode().is_err());
        assert!(manifest(&["a", "a"]).encode().is_err());
    }

    #[test]
    fn chunk_with_wrong_crc_is_refused() {
        let mut chunk = FileChunk::new(0, Bytes::from_static(b"data"));
        assert!(chunk.validate().is_ok());
        chunk.crc32 ^= 1;
        assert!(chunk.encode().is_err());
    }

    #[test]
    fn chunk_request_range_is_checked() {
        let request = FileChunkRequest {
            pin_id: 1,
            file_name: "a".into(),
            offset: u64::MAX,
            length: 1,
            chunk_bytes_max: 1,
        };
        assert!(request.validate().is_err());
        assert!(FileChunkRequest {
            offset: 0,
            ..request.clone()
        }
        .validate()
        .is_ok());
        assert!(FileChunkRequest {
            offset: 0,
            length: 0,
            ..request
        }
        .validate()
        .is_err());
    }
}

//! Shard changes: the follower asks for operations of one leader shard from a seq-no; the
//! leader answers with a batch of its translog records and its checkpoints.
//!
//! Rules the answer must keep, checked on both sides: the batch covers a contiguous seq-no
//! range, never reaches past the leader's global checkpoint and never starts below the history
//! the leader still retains. The records are the translog's own bytes, opaque here: storage
//! owns their codec and the follower checks every record's crc before applying it.
//!
//! The leader answers with at least one operation whenever one is available at `from_seq_no`,
//! even if that operation alone exceeds `bytes_max`, so a huge document cannot stall a shard;
//! [`CHANGES_OPS_BYTES_MAX`] is the hard cap.

use bytes::Bytes;

use super::{non_empty, read_optional_blob, seq_no_or_none, wire_message, write_optional_blob};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{
    CHANGES_OPS_BYTES_MAX, CHANGES_OPS_MAX, METADATA_JSON_BYTES_MAX, POLL_WAIT_MS_MAX,
    SHARDS_PER_INDEX_MAX, UUID_BYTES_MAX,
};
use crate::{MessageKind, WireError, SEQ_NO_NONE};

/// One shard of a leader index, named by the index uuid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShardTarget {
    /// Leader index uuid.
    pub index_uuid: String,
    /// Shard number, below the index's shard count.
    pub shard_id: u32,
}

impl ShardTarget {
    /// Checks the uuid and the shard number.
    pub fn validate(&self) -> Result<(), WireError> {
        non_empty("index_uuid", &self.index_uuid)?;
        if self.shard_id >= SHARDS_PER_INDEX_MAX {
            return Err(WireError::invalid(
                "shard_id",
                "not below SHARDS_PER_INDEX_MAX",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.str("index_uuid", &self.index_uuid, UUID_BYTES_MAX)?;
        writer.u32(self.shard_id);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let target = ShardTarget {
            index_uuid: reader.str("index_uuid", UUID_BYTES_MAX)?,
            shard_id: reader.u32("shard_id")?,
        };
        target.validate()?;
        Ok(target)
    }
}

/// Versions of an index's mapping, settings and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MetadataVersions {
    /// `mapping_version`.
    pub mapping: u64,
    /// `settings_version`.
    pub settings: u64,
    /// `aliases_version`.
    pub aliases: u64,
}

impl MetadataVersions {
    fn write_body(&self, writer: &mut BodyWriter) {
        writer.u64(self.mapping);
        writer.u64(self.settings);
        writer.u64(self.aliases);
    }

    fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        Ok(MetadataVersions {
            mapping: reader.u64("mapping_version")?,
            settings: reader.u64("settings_version")?,
            aliases: reader.u64("aliases_version")?,
        })
    }
}

/// Asks for operations `from_seq_no ..= from_seq_no + ops_max - 1` of one shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardChangesRequest {
    /// The leader shard.
    pub shard: ShardTarget,
    /// First seq-no wanted.
    pub from_seq_no: i64,
    /// Most operations wanted; also fixes the end of the range asked for.
    pub ops_max: u32,
    /// Soft byte budget of the answer's records.
    pub bytes_max: u32,
    /// How long the leader may wait for operations at `from_seq_no` when it has none yet.
    pub poll_wait_ms: u32,
    /// What the follower already has; the leader attaches newer metadata to its answer.
    pub known_versions: MetadataVersions,
}

impl ShardChangesRequest {
    /// The last seq-no this request asks for.
    pub fn to_seq_no(&self) -> i64 {
        self.from_seq_no
            .saturating_add(i64::from(self.ops_max))
            .saturating_sub(1)
    }

    /// Checks the range, budgets and wait against their limits.
    pub fn validate(&self) -> Result<(), WireError> {
        self.shard.validate()?;
        if self.from_seq_no < 0 {
            return Err(WireError::invalid("from_seq_no", "negative"));
        }
        if self.ops_max == 0 || self.ops_max > CHANGES_OPS_MAX {
            return Err(WireError::invalid("ops_max", "outside 1..=CHANGES_OPS_MAX"));
        }
        if self
            .from_seq_no
            .checked_add(i64::from(self.ops_max))
            .is_none()
        {
            return Err(WireError::invalid(
                "ops_max",
                "range overflows the seq-no space",
            ));
        }
        if self.bytes_max == 0 || self.bytes_max > CHANGES_OPS_BYTES_MAX {
            return Err(WireError::invalid(
                "bytes_max",
                "outside 1..=CHANGES_OPS_BYTES_MAX",
            ));
        }
        if self.poll_wait_ms > POLL_WAIT_MS_MAX {
            return Err(WireError::invalid("poll_wait_ms", "above POLL_WAIT_MS_MAX"));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        self.shard.write_body(writer)?;
        writer.i64(self.from_seq_no);
        writer.u32(self.ops_max);
        writer.u32(self.bytes_max);
        writer.u32(self.poll_wait_ms);
        self.known_versions.write_body(writer);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let request = ShardChangesRequest {
            shard: ShardTarget::read_body(reader)?,
            from_seq_no: reader.i64("from_seq_no")?,
            ops_max: reader.u32("ops_max")?,
            bytes_max: reader.u32("bytes_max")?,
            poll_wait_ms: reader.u32("poll_wait_ms")?,
            known_versions: MetadataVersions::read_body(reader)?,
        };
        request.validate()?;
        Ok(request)
    }
}

wire_message!(ShardChangesRequest, MessageKind::ShardChangesRequest);

/// Translog records of the contiguous seq-nos `first_seq_no ..= last_seq_no`, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpsBatch {
    /// Number of records.
    pub count: u32,
    /// Seq-no of the first record, [`SEQ_NO_NONE`] when empty.
    pub first_seq_no: i64,
    /// Seq-no of the last record, [`SEQ_NO_NONE`] when empty.
    pub last_seq_no: i64,
    /// The records, in the translog's own encoding.
    pub records: Bytes,
}

impl OpsBatch {
    /// A batch without operations (a long poll that ran out, or a caught-up follower).
    pub fn empty() -> Self {
        OpsBatch {
            count: 0,
            first_seq_no: SEQ_NO_NONE,
            last_seq_no: SEQ_NO_NONE,
            records: Bytes::new(),
        }
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Checks that the count, the seq-no range and the bytes agree.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.count == 0 {
            if self.first_seq_no != SEQ_NO_NONE
                || self.last_seq_no != SEQ_NO_NONE
                || !self.records.is_empty()
            {
                return Err(WireError::invalid(
                    "ops",
                    "an empty batch has no seq-nos and no bytes",
                ));
            }
            return Ok(());
        }
        if self.count > CHANGES_OPS_MAX {
            return Err(WireError::invalid("ops_count", "above CHANGES_OPS_MAX"));
        }
        if self.first_seq_no < 0 || self.last_seq_no < self.first_seq_no {
            return Err(WireError::invalid(
                "ops",
                "seq-no range is negative or inverted",
            ));
        }
        // Checked arithmetic: both ends come off the wire.
        let span = self
            .last_seq_no
            .checked_sub(self.first_seq_no)
            .and_then(|d| d.checked_add(1));
        if span != Some(i64::from(self.count)) {
            return Err(WireError::invalid(
                "ops",
                "seq-no range is not contiguous with the count",
            ));
        }
        if self.records.is_empty() {
            return Err(WireError::invalid("ops", "operations without record bytes"));
        }
        Ok(())
    }
}

/// The leader's answer to a [`ShardChangesRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardChangesResponse {
    /// The operations.
    pub ops: OpsBatch,
    /// Leader shard global checkpoint: every operation up to it is on the leader for good.
    pub global_checkpoint: i64,
    /// Highest seq-no the leader shard has assigned.
    pub max_seq_no: i64,
    /// Lowest seq-no the leader still retains; older history is gone.
    pub history_min_seq_no: i64,
    /// The leader shard's max seq-no of operations that updated or deleted a document (an
    /// upper bound), read after the operations: a follower indexes operations above it
    /// without looking their ids up once its checkpoint has reached it.
    pub max_seq_no_of_updates_or_deletes: i64,
    /// Current versions of the leader index's metadata.
    pub versions: MetadataVersions,
    /// The mapping JSON, when newer than the follower's known version.
    pub mapping: Option<Bytes>,
    /// The settings JSON, when newer than the follower's known version.
    pub settings: Option<Bytes>,
    /// The aliases JSON, when newer than the follower's known version.
    pub aliases: Option<Bytes>,
}

impl ShardChangesResponse {
    /// Checks the batch and how it sits against the leader's checkpoints.
    pub fn validate(&self) -> Result<(), WireError> {
        self.ops.validate()?;
        seq_no_or_none("global_checkpoint", self.global_checkpoint)?;
        if self.max_seq_no < self.global_checkpoint {
            return Err(WireError::invalid(
                "max_seq_no",
                "below the global checkpoint",
            ));
        }
        if self.history_min_seq_no < 0 {
            return Err(WireError::invalid("history_min_seq_no", "negative"));
        }
        seq_no_or_none(
            "max_seq_no_of_updates_or_deletes",
            self.max_seq_no_of_updates_or_deletes,
        )?;
        if self.max_seq_no_of_updates_or_deletes > self.max_seq_no {
            return Err(WireError::invalid(
                "max_seq_no_of_updates_or_deletes",
                "above the max seq-no",
            ));
        }
        if self.ops.is_empty() {
            return Ok(());
        }
        if self.ops.last_seq_no > self.global_checkpoint {
            return Err(WireError::invalid(
                "ops",
                "beyond the leader's global checkpoint",
            ));
        }
        if self.ops.first_seq_no < self.history_min_seq_no {
            return Err(WireError::invalid(
                "ops",
                "below the leader's retained history",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u32(self.ops.count);
        writer.i64(self.ops.first_seq_no);
        writer.i64(self.ops.last_seq_no);
        writer.i64(self.global_checkpoint);
        writer.i64(self.max_seq_no);
        writer.i64(self.history_min_seq_no);
        writer.i64(self.max_seq_no_of_updates_or_deletes);
        self.versions.write_body(writer);
        write_optional_blob(writer, "mapping", &self.mapping, METADATA_JSON_BYTES_MAX)?;
        write_optional_blob(writer, "settings", &self.settings, METADATA_JSON_BYTES_MAX)?;
        write_optional_blob(writer, "aliases", &self.aliases, METADATA_JSON_BYTES_MAX)?;
        // Records last: the biggest field, shared with the caller's buffer rather than copied.
        writer.blob("ops", &self.ops.records, CHANGES_OPS_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let count = reader.u32("ops_count")?;
        let first_seq_no = reader.i64("first_seq_no")?;
        let last_seq_no = reader.i64("last_seq_no")?;
        let global_checkpoint = reader.i64("global_checkpoint")?;
        let max_seq_no = reader.i64("max_seq_no")?;
        let history_min_seq_no = reader.i64("history_min_seq_no")?;
        let max_seq_no_of_updates_or_deletes = reader.i64("max_seq_no_of_updates_or_deletes")?;
        let versions = MetadataVersions::read_body(reader)?;
        let mapping = read_optional_blob(reader, "mapping", METADATA_JSON_BYTES_MAX)?;
        let settings = read_optional_blob(reader, "settings", METADATA_JSON_BYTES_MAX)?;
        let aliases = read_optional_blob(reader, "aliases", METADATA_JSON_BYTES_MAX)?;
        let records = reader.blob("ops", CHANGES_OPS_BYTES_MAX)?;
        let response = ShardChangesResponse {
            ops: OpsBatch {
                count,
                first_seq_no,
                last_seq_no,
                records,
            },
            global_checkpoint,
            max_seq_no,
            history_min_seq_no,
            max_seq_no_of_updates_or_deletes,
            versions,
            mapping,
            settings,
            aliases,
        };
        response.validate()?;
        Ok(response)
    }
}

wire_message!(ShardChangesResponse, MessageKind::ShardChanges);

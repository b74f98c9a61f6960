//! One leader index's metadata: what a follower needs to create its follower index and to
//! refuse what cannot be followed (a closed index, a follower index: no chaining).
//!
//! Settings, mapping and aliases travel as JSON text with their version numbers; the wire
//! bounds their size but never parses them.

use bytes::Bytes;

use super::{non_empty, wire_message, IndexState};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{
    INDEX_NAME_BYTES_MAX, METADATA_JSON_BYTES_MAX, SHARDS_PER_INDEX_MAX, UUID_BYTES_MAX,
};
use crate::{MessageKind, WireError};

/// Asks for one index's metadata by its concrete name (aliases are not resolved, as in
/// OpenSearch CCR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMetadataRequest {
    /// The leader index name.
    pub index_name: String,
}

impl IndexMetadataRequest {
    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        non_empty("index_name", &self.index_name)?;
        writer.str("index_name", &self.index_name, INDEX_NAME_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let index_name = reader.str("index_name", INDEX_NAME_BYTES_MAX)?;
        non_empty("index_name", &index_name)?;
        Ok(IndexMetadataRequest { index_name })
    }
}

wire_message!(IndexMetadataRequest, MessageKind::IndexMetadataRequest);

/// A JSON document with the version number the leader gave it; versions only grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedJson {
    /// OpenSearch's `settings_version`, `mapping_version` or `aliases_version`.
    pub version: u64,
    /// The JSON text (UTF-8, not checked here).
    pub json: Bytes,
}

impl VersionedJson {
    fn write_body(&self, writer: &mut BodyWriter, field: &'static str) -> Result<(), WireError> {
        writer.u64(self.version);
        writer.blob(field, &self.json, METADATA_JSON_BYTES_MAX)
    }

    fn read_body(reader: &mut BodyReader, field: &'static str) -> Result<Self, WireError> {
        Ok(VersionedJson {
            version: reader.u64(field)?,
            json: reader.blob(field, METADATA_JSON_BYTES_MAX)?,
        })
    }
}

/// One leader index's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMetadata {
    /// Index name.
    pub name: String,
    /// Index uuid: shard-level requests name the index by it, so a recreated index with the
    /// same name is never mistaken for the one being followed.
    pub uuid: String,
    /// `index.number_of_shards`.
    pub number_of_shards: u32,
    /// Open or closed.
    pub state: IndexState,
    /// Whether the index is itself a follower index.
    pub is_follower_index: bool,
    /// Index settings as JSON.
    pub settings: VersionedJson,
    /// Index mapping as JSON.
    pub mapping: VersionedJson,
    /// Index aliases as JSON.
    pub aliases: VersionedJson,
}

impl IndexMetadata {
    /// Checks names and the shard count.
    pub fn validate(&self) -> Result<(), WireError> {
        non_empty("index_name", &self.name)?;
        non_empty("index_uuid", &self.uuid)?;
        if self.number_of_shards == 0 || self.number_of_shards > SHARDS_PER_INDEX_MAX {
            return Err(WireError::invalid(
                "number_of_shards",
                "outside 1..=SHARDS_PER_INDEX_MAX",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.str("index_name", &self.name, INDEX_NAME_BYTES_MAX)?;
        writer.str("index_uuid", &self.uuid, UUID_BYTES_MAX)?;
        writer.u32(self.number_of_shards);
        self.state.write_body(writer);
        writer.bool(self.is_follower_index);
        self.settings.write_body(writer, "settings")?;
        self.mapping.write_body(writer, "mapping")?;
        self.aliases.write_body(writer, "aliases")
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let metadata = IndexMetadata {
            name: reader.str("index_name", INDEX_NAME_BYTES_MAX)?,
            uuid: reader.str("index_uuid", UUID_BYTES_MAX)?,
            number_of_shards: reader.u32("number_of_shards")?,
            state: IndexState::read_body(reader)?,
            is_follower_index: reader.bool("is_follower_index")?,
            settings: VersionedJson::read_body(reader, "settings")?,
            mapping: VersionedJson::read_body(reader, "mapping")?,
            aliases: VersionedJson::read_body(reader, "aliases")?,
        };
        metadata.validate()?;
        Ok(metadata)
    }
}

wire_message!(IndexMetadata, MessageKind::IndexMetadata);

//! Cluster-level questions a follower asks its leader: who are you (for `GET _remote/info` and
//! start-replication checks) and which indices match a pattern (for auto-follow rules).
//!
//! The leader answers with facts; the follower decides. Pattern matching happens on the
//! leader, and the wire never interprets the pattern.

use super::{non_empty, wire_message, NodeIdentity};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{
    INDEX_LIST_ENTRIES_MAX, INDEX_NAME_BYTES_MAX, INDEX_PATTERN_BYTES_MAX, UUID_BYTES_MAX,
    VERSION_STRING_BYTES_MAX,
};
use crate::{MessageKind, WireError};

/// Asks for [`RemoteClusterInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoteClusterInfoRequest;

impl RemoteClusterInfoRequest {
    pub(crate) fn write_body(&self, _writer: &mut BodyWriter) -> Result<(), WireError> {
        Ok(())
    }

    pub(crate) fn read_body(_reader: &mut BodyReader) -> Result<Self, WireError> {
        Ok(RemoteClusterInfoRequest)
    }
}

wire_message!(
    RemoteClusterInfoRequest,
    MessageKind::RemoteClusterInfoRequest
);

/// The leader cluster as the answering node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteClusterInfo {
    /// The answering node.
    pub identity: NodeIdentity,
    /// Its software version, e.g. `tandem 0.1.0`.
    pub software_version: String,
    /// Nodes in its cluster (at least itself).
    pub node_count: u32,
    /// Indices it holds.
    pub index_count: u32,
}

impl RemoteClusterInfo {
    /// Checks the identity and that the cluster has a node.
    pub fn validate(&self) -> Result<(), WireError> {
        self.identity.validate()?;
        if self.node_count == 0 {
            return Err(WireError::invalid(
                "node_count",
                "a cluster that answers has a node",
            ));
        }
        Ok(())
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        self.identity.write_body(writer)?;
        writer.str(
            "software_version",
            &self.software_version,
            VERSION_STRING_BYTES_MAX,
        )?;
        writer.u32(self.node_count);
        writer.u32(self.index_count);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let info = RemoteClusterInfo {
            identity: NodeIdentity::read_body(reader)?,
            software_version: reader.str("software_version", VERSION_STRING_BYTES_MAX)?,
            node_count: reader.u32("node_count")?,
            index_count: reader.u32("index_count")?,
        };
        info.validate()?;
        Ok(info)
    }
}

wire_message!(RemoteClusterInfo, MessageKind::RemoteClusterInfo);

/// Open or closed, as OpenSearch index state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexState {
    /// Readable and writable (on the leader).
    Open,
    /// Closed: no changes can be read from it.
    Closed,
}

impl IndexState {
    pub(crate) fn write_body(self, writer: &mut BodyWriter) {
        writer.u8(match self {
            IndexState::Open => 0,
            IndexState::Closed => 1,
        });
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        match reader.u8("index_state")? {
            0 => Ok(IndexState::Open),
            1 => Ok(IndexState::Closed),
            tag => Err(WireError::UnknownTag {
                field: "index_state",
                tag: u16::from(tag),
            }),
        }
    }
}

/// Asks for the leader indices whose names match `pattern` (OpenSearch wildcard syntax,
/// evaluated by the leader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListIndicesRequest {
    /// The pattern, e.g. `movies*`.
    pub pattern: String,
}

impl ListIndicesRequest {
    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        non_empty("pattern", &self.pattern)?;
        writer.str("pattern", &self.pattern, INDEX_PATTERN_BYTES_MAX)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let pattern = reader.str("pattern", INDEX_PATTERN_BYTES_MAX)?;
        non_empty("pattern", &pattern)?;
        Ok(ListIndicesRequest { pattern })
    }
}

wire_message!(ListIndicesRequest, MessageKind::ListIndicesRequest);

/// One leader index in an [`IndexList`], with what auto-follow needs to skip it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSummary {
    /// Index name.
    pub name: String,
    /// Index uuid.
    pub uuid: String,
    /// Open or closed.
    pub state: IndexState,
    /// Whether the index is itself a follower index (it cannot be followed: no chaining).
    pub is_follower_index: bool,
    /// Whether the index is hidden (auto-follow skips hidden indices).
    pub is_hidden: bool,
}

/// Smallest encoding of an [`IndexSummary`]: two one-byte names with prefixes, three flags.
const INDEX_SUMMARY_BYTES_MIN: usize = 2 * 3 + 3;

impl IndexSummary {
    fn validate(&self) -> Result<(), WireError> {
        non_empty("index_name", &self.name)?;
        non_empty("index_uuid", &self.uuid)
    }

    fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.str("index_name", &self.name, INDEX_NAME_BYTES_MAX)?;
        writer.str("index_uuid", &self.uuid, UUID_BYTES_MAX)?;
        self.state.write_body(writer);
        writer.bool(self.is_follower_index);
        writer.bool(self.is_hidden);
        Ok(())
    }

    fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let summary = IndexSummary {
            name: reader.str("index_name", INDEX_NAME_BYTES_MAX)?,
            uuid: reader.str("index_uuid", UUID_BYTES_MAX)?,
            state: IndexState::read_body(reader)?,
            is_follower_index: reader.bool("is_follower_index")?,
            is_hidden: reader.bool("is_hidden")?,
        };
        summary.validate()?;
        Ok(summary)
    }
}

/// The leader indices matching a [`ListIndicesRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexList {
    /// Matching indices, in the leader's order.
    pub indices: Vec<IndexSummary>,
}

impl IndexList {
    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        writer.count("indices", self.indices.len(), INDEX_LIST_ENTRIES_MAX)?;
        self.indices
            .iter()
            .try_for_each(|summary| summary.write_body(writer))
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let count = reader.count("indices", INDEX_LIST_ENTRIES_MAX, INDEX_SUMMARY_BYTES_MIN)?;
        let mut indices = Vec::with_capacity(count);
        for _ in 0..count {
            indices.push(IndexSummary::read_body(reader)?);
        }
        Ok(IndexList { indices })
    }
}

wire_message!(IndexList, MessageKind::IndexList);

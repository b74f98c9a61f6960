//! The handshake: the first request on every connection. The client offers a protocol version
//! range and says who it is; the server picks the highest common version and says who it is,
//! or answers [`ErrorKind::VersionMismatch`].
//!
//! Deciding whether to trust the peer's identity (certificates, allowlists) belongs to the
//! shell; this module only carries and checks the fields.

use super::{non_empty, wire_message, ErrorKind, RemoteError};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{
    CLUSTER_NAME_BYTES_MAX, NODE_ID_BYTES_MAX, NODE_NAME_BYTES_MAX, PROTOCOL_VERSION_MAX,
    PROTOCOL_VERSION_MIN, UUID_BYTES_MAX,
};
use crate::{MessageKind, WireError};

/// Who a node is: sent by both sides of the handshake and in cluster info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// `cluster.name`.
    pub cluster_name: String,
    /// The cluster's uuid.
    pub cluster_uuid: String,
    /// The node's id.
    pub node_id: String,
    /// `node.name`.
    pub node_name: String,
    /// Whether the node runs in follower-cluster mode (then it may refuse to lead).
    pub is_follower_node: bool,
}

impl NodeIdentity {
    /// Checks the fields against their limits and rules.
    pub fn validate(&self) -> Result<(), WireError> {
        non_empty("cluster_name", &self.cluster_name)?;
        non_empty("cluster_uuid", &self.cluster_uuid)?;
        non_empty("node_id", &self.node_id)
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.str("cluster_name", &self.cluster_name, CLUSTER_NAME_BYTES_MAX)?;
        writer.str("cluster_uuid", &self.cluster_uuid, UUID_BYTES_MAX)?;
        writer.str("node_id", &self.node_id, NODE_ID_BYTES_MAX)?;
        writer.str("node_name", &self.node_name, NODE_NAME_BYTES_MAX)?;
        writer.bool(self.is_follower_node);
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let identity = NodeIdentity {
            cluster_name: reader.str("cluster_name", CLUSTER_NAME_BYTES_MAX)?,
            cluster_uuid: reader.str("cluster_uuid", UUID_BYTES_MAX)?,
            node_id: reader.str("node_id", NODE_ID_BYTES_MAX)?,
            node_name: reader.str("node_name", NODE_NAME_BYTES_MAX)?,
            is_follower_node: reader.bool("is_follower_node")?,
        };
        identity.validate()?;
        Ok(identity)
    }
}

/// Client hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Lowest protocol version the client speaks.
    pub protocol_version_min: u16,
    /// Highest protocol version the client speaks.
    pub protocol_version_max: u16,
    /// The client node.
    pub identity: NodeIdentity,
}

impl Handshake {
    /// A hello offering every version this build speaks.
    pub fn new(identity: NodeIdentity) -> Self {
        Self {
            protocol_version_min: PROTOCOL_VERSION_MIN,
            protocol_version_max: PROTOCOL_VERSION_MAX,
            identity,
        }
    }

    /// Checks the version range and the identity.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.protocol_version_min == 0 {
            return Err(WireError::invalid(
                "protocol_version_min",
                "version 0 does not exist",
            ));
        }
        if self.protocol_version_min > self.protocol_version_max {
            return Err(WireError::invalid(
                "protocol_version_max",
                "below protocol_version_min",
            ));
        }
        self.identity.validate()
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u16(self.protocol_version_min);
        writer.u16(self.protocol_version_max);
        self.identity.write_body(writer)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let hello = Handshake {
            protocol_version_min: reader.u16("protocol_version_min")?,
            protocol_version_max: reader.u16("protocol_version_max")?,
            identity: NodeIdentity::read_body(reader)?,
        };
        hello.validate()?;
        Ok(hello)
    }
}

wire_message!(Handshake, MessageKind::Handshake);

/// Server hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeAck {
    /// The version both sides use from now on.
    pub protocol_version: u16,
    /// The server node.
    pub identity: NodeIdentity,
}

impl HandshakeAck {
    /// Checks the version and the identity.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.protocol_version == 0 {
            return Err(WireError::invalid(
                "protocol_version",
                "version 0 does not exist",
            ));
        }
        self.identity.validate()
    }

    /// Whether the version the server chose lies in the range the client offered (a client
    /// must close the connection otherwise).
    pub fn is_answer_to(&self, hello: &Handshake) -> bool {
        (hello.protocol_version_min..=hello.protocol_version_max).contains(&self.protocol_version)
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        writer.u16(self.protocol_version);
        self.identity.write_body(writer)
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let ack = HandshakeAck {
            protocol_version: reader.u16("protocol_version")?,
            identity: NodeIdentity::read_body(reader)?,
        };
        ack.validate()?;
        Ok(ack)
    }
}

wire_message!(HandshakeAck, MessageKind::HandshakeAck);

/// The highest version in both the client's range and `local_min..=local_max`, or the
/// [`ErrorKind::VersionMismatch`] error the server answers with.
pub fn negotiate_version(
    hello: &Handshake,
    local_min: u16,
    local_max: u16,
) -> Result<u16, RemoteError> {
    debug_assert!(local_min <= local_max, "local version range is ordered");
    let low = hello.protocol_version_min.max(local_min);
    let high = hello.protocol_version_max.min(local_max);
    if low > high {
        return Err(RemoteError::new(
            ErrorKind::VersionMismatch,
            format!(
                "protocol versions [{}..={}] of node [{}] do not overlap ours [{}..={}]",
                hello.protocol_version_min,
                hello.protocol_version_max,
                hello.identity.node_id,
                local_min,
                local_max
            ),
        ));
    }
    Ok(high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::WireMessage;

    fn identity() -> NodeIdentity {
        NodeIdentity {
            cluster_name: "leader".into(),
            cluster_uuid: "u".into(),
            node_id: "n1".into(),
            node_name: String::new(),
            is_follower_node: false,
        }
    }

    fn hello(min: u16, max: u16) -> Handshake {
        Handshake {
            protocol_version_min: min,
            protocol_version_max: max,
            identity: identity(),
        }
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate_version(&hello(1, 5), 2, 3), Ok(3));
        assert_eq!(negotiate_version(&hello(3, 3), 1, 9), Ok(3));
    }

    #[test]
    fn disjoint_version_ranges_are_a_version_mismatch() {
        let error = negotiate_version(&hello(4, 5), 1, 3).unwrap_err();
        assert_eq!(error.kind, ErrorKind::VersionMismatch);
        assert!(error.reason.contains("[4..=5]"), "{}", error.reason);
    }

    #[test]
    fn inverted_or_zero_ranges_are_refused() {
        assert!(hello(2, 1).encode().is_err());
        assert!(hello(0, 1).encode().is_err());
    }

    #[test]
    fn ack_must_lie_in_the_offered_range() {
        let ack = HandshakeAck {
            protocol_version: 2,
            identity: identity(),
        };
        assert!(ack.is_answer_to(&hello(1, 2)));
        assert!(!ack.is_answer_to(&hello(3, 4)));
    }
}

//! Retention lease requests: the follower asks the leader to add, renew or remove the lease
//! that keeps the operations it still needs. Answered by [`Ack`](super::Ack) or by a
//! [`RemoteError`](super::RemoteError) such as `RetentionLeaseNotFound`.
//!
//! Lease expiry is the leader's business (storage keeps the leases and their timestamps);
//! nothing here needs a clock.

use super::{non_empty, wire_message, ShardTarget};
use crate::codec::{BodyReader, BodyWriter};
use crate::limits::{LEASE_ID_BYTES_MAX, LEASE_SOURCE_BYTES_MAX};
use crate::{MessageKind, WireError};

/// What to do with the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAction {
    /// Add a lease; fails if it exists.
    Add {
        /// Keep operations from this seq-no on.
        retaining_seq_no: i64,
        /// Who holds the lease, e.g. `replication:<follower cluster>`.
        source: String,
    },
    /// Move an existing lease forward and refresh its timestamp; fails if it does not exist.
    Renew {
        /// Keep operations from this seq-no on (never lower than before).
        retaining_seq_no: i64,
        /// Who holds the lease.
        source: String,
    },
    /// Remove the lease; fails if it does not exist.
    Remove,
}

impl LeaseAction {
    fn tag(&self) -> u8 {
        match self {
            LeaseAction::Add { .. } => 1,
            LeaseAction::Renew { .. } => 2,
            LeaseAction::Remove => 3,
        }
    }
}

/// Adds, renews or removes one retention lease on one leader shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionLeaseRequest {
    /// The leader shard.
    pub shard: ShardTarget,
    /// The lease id, e.g. `replication:<cluster>:<cluster uuid>:[<index>][<shard>]`.
    pub lease_id: String,
    /// The change.
    pub action: LeaseAction,
}

impl RetentionLeaseRequest {
    /// Checks the shard, the lease id and the retaining seq-no.
    pub fn validate(&self) -> Result<(), WireError> {
        self.shard.validate()?;
        non_empty("lease_id", &self.lease_id)?;
        match &self.action {
            LeaseAction::Add {
                retaining_seq_no, ..
            }
            | LeaseAction::Renew {
                retaining_seq_no, ..
            } if *retaining_seq_no < 0 => Err(WireError::invalid("retaining_seq_no", "negative")),
            _ => Ok(()),
        }
    }

    pub(crate) fn write_body(&self, writer: &mut BodyWriter) -> Result<(), WireError> {
        self.validate()?;
        self.shard.write_body(writer)?;
        writer.str("lease_id", &self.lease_id, LEASE_ID_BYTES_MAX)?;
        writer.u8(self.action.tag());
        match &self.action {
            LeaseAction::Add {
                retaining_seq_no,
                source,
            }
            | LeaseAction::Renew {
                retaining_seq_no,
                source,
            } => {
                writer.i64(*retaining_seq_no);
                writer.str("lease_source", source, LEASE_SOURCE_BYTES_MAX)?;
            }
            LeaseAction::Remove => {}
        }
        Ok(())
    }

    pub(crate) fn read_body(reader: &mut BodyReader) -> Result<Self, WireError> {
        let shard = ShardTarget::read_body(reader)?;
        let lease_id = reader.str("lease_id", LEASE_ID_BYTES_MAX)?;
        let action = match reader.u8("lease_action")? {
            tag @ (1 | 2) => {
                let retaining_seq_no = reader.i64("retaining_seq_no")?;
                let source = reader.str("lease_source", LEASE_SOURCE_BYTES_MAX)?;
                if tag == 1 {
                    LeaseAction::Add {
                        retaining_seq_no,
                        source,
                    }
                } else {
                    LeaseAction::Renew {
                        retaining_seq_no,
                        source,
                    }
                }
            }
            3 => LeaseAction::Remove,
            tag => {
                return Err(WireError::UnknownTag {
                    field: "lease_action",
                    tag: u16::from(tag),
                })
            }
        };
        let request = RetentionLeaseRequest {
            shard,
            lease_id,
            action,
        };
        request.validate()?;
        Ok(request)
    }
}

wire_message!(RetentionLeaseRequest, MessageKind::RetentionLease);

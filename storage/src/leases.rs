//! Retention leases: promises to keep translog history for followers.
//!
//! A follower holds a lease on each leader shard it pulls from; the lease's
//! `retaining_seq_no` is the lowest seq-no it still needs. The translog is trimmed only below
//! every lease (up to the retention size cap, past which a lease is marked as having lost
//! history). A lease not renewed within the retention period expires. Leases persist with the
//! shard in one durable file. Time is an input (`now_millis`, wall-clock milliseconds, as
//! leases outlive restarts); this module never reads a clock and never trims anything itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::durable_file::{self, DurableFileError};

/// File name of the leases of a shard.
pub const LEASES_FILE_NAME: &str = "leases.tnd";
/// Most leases one shard holds (followers of one leader shard).
pub const LEASES_MAX: usize = 1024;
/// Longest lease id or source, in bytes.
pub const LEASE_ID_BYTES_MAX: usize = 512;

const LEASES_MAGIC: [u8; 8] = *b"TNDMLEAS";
const LEASES_FORMAT_VERSION: u32 = 1;

/// One retention lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionLease {
    /// Who holds it (a follower shard's identity).
    pub id: String,
    /// The lowest seq-no the holder still needs.
    pub retaining_seq_no: i64,
    /// When it was added or last renewed, in wall-clock milliseconds.
    pub timestamp_millis: u64,
    /// What kind of holder it is (e.g. `ccr`).
    pub source: String,
    /// Set when the retention size cap forced the translog to release history the lease still
    /// wanted: its holder can no longer continue and must say so, never skip.
    pub history_lost: bool,
}

/// Why a lease operation was refused.
#[derive(Debug, Error)]
pub enum LeaseError {
    /// `add` of an id that exists (OpenSearch: retention_lease_already_exists_exception).
    #[error("retention lease with ID [{0}] already exists")]
    AlreadyExists(String),
    /// `renew` or `remove` of an id that does not exist
    /// (OpenSearch: retention_lease_not_found_exception).
    #[error("retention lease with ID [{0}] not found")]
    NotFound(String),
    /// `renew` that would move `retaining_seq_no` backwards.
    #[error("the current retention lease with [{id}] is retaining a higher sequence number [{current}] than the new retaining sequence number [{requested}]")]
    Backwards {
        /// The lease.
        id: String,
        /// What it retains now.
        current: i64,
        /// What the renewal asked for.
        requested: i64,
    },
    /// Bad id or too many leases.
    #[error("{0}")]
    Invalid(String),
    /// The leases file could not be written or read.
    #[error(transparent)]
    File(#[from] DurableFileError),
    /// The leases file held JSON we cannot read.
    #[error("retention leases file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// The leases of one shard, persisted on every change.
#[derive(Debug)]
pub struct RetentionLeases {
    path: PathBuf,
    leases: BTreeMap<String, RetentionLease>,
}

impl RetentionLeases {
    /// Loads the leases of the shard at `shard_dir`; none if the file does not exist yet.
    pub fn load(shard_dir: &Path) -> Result<RetentionLeases, LeaseError> {
        let path = shard_dir.join(LEASES_FILE_NAME);
        let leases = match durable_file::read(&path, LEASES_MAGIC, 1..=LEASES_FORMAT_VERSION) {
            Ok((_, payload)) => {
                let list: Vec<RetentionLease> =
                    serde_json::from_slice(&payload).map_err(|error| LeaseError::Corrupt {
                        path: path.clone(),
                        reason: error.to_string(),
                    })?;
                list.into_iter()
                    .map(|lease| (lease.id.clone(), lease))
                    .collect()
            }
            Err(DurableFileError::NotFound { .. }) => BTreeMap::new(),
            Err(error) => return Err(error.into()),
        };
        Ok(RetentionLeases { path, leases })
    }

    /// All leases, by id.
    pub fn all(&self) -> Vec<RetentionLease> {
        self.leases.values().cloned().collect()
    }

    /// The lease with this id.
    pub fn get(&self, id: &str) -> Option<&RetentionLease> {
        self.leases.get(id)
    }

    /// The lowest seq-no any lease still needs, if there is a lease that has not lost history.
    pub fn min_retaining_seq_no(&self) -> Option<i64> {
        self.leases
            .values()
            .filter(|lease| !lease.history_lost)
            .map(|lease| lease.retaining_seq_no)
            .min()
    }

    /// Adds a lease. Durable when it returns (blocks on fsync).
    pub fn add(
        &mut self,
        id: &str,
        retaining_seq_no: i64,
        source: &str,
        now_millis: u64,
    ) -> Result<RetentionLease, LeaseError> {
        check_text("id", id)?;
        check_text("source", source)?;
        if self.leases.contains_key(id) {
            return Err(LeaseError::AlreadyExists(id.to_string()));
        }
        if self.leases.len() >= LEASES_MAX {
            return Err(LeaseError::Invalid(format!(
                "a shard holds at most {LEASES_MAX} retention leases"
            )));
        }
        let lease = RetentionLease {
            id: id.to_string(),
            retaining_seq_no,
            timestamp_millis: now_millis,
            source: source.to_string(),
            history_lost: false,
        };
        let mut next = self.leases.clone();
        next.insert(id.to_string(), lease.clone());
        self.persist(next)?;
        Ok(lease)
    }

    /// Renews a lease: refreshes its timestamp and raises its retaining seq-no. Durable when
    /// it returns (blocks on fsync).
    pub fn renew(
        &mut self,
        id: &str,
        retaining_seq_no: i64,
        now_millis: u64,
    ) -> Result<RetentionLease, LeaseError> {
        let current = self
            .leases
            .get(id)
            .ok_or_else(|| LeaseError::NotFound(id.to_string()))?;
        if retaining_seq_no < current.retaining_seq_no {
            return Err(LeaseError::Backwards {
                id: id.to_string(),
                current: current.retaining_seq_no,
                requested: retaining_seq_no,
            });
        }
        let mut lease = current.clone();
        lease.retaining_seq_no = retaining_seq_no;
        lease.timestamp_millis = lease.timestamp_millis.max(now_millis);
        let mut next = self.leases.clone();
        next.insert(id.to_string(), lease.clone());
        self.persist(next)?;
        Ok(lease)
    }

    /// Removes a lease. Durable when it returns (blocks on fsync).
    pub fn remove(&mut self, id: &str) -> Result<RetentionLease, LeaseError> {
        let mut next = self.leases.clone();
        let removed = next
            .remove(id)
            .ok_or_else(|| LeaseError::NotFound(id.to_string()))?;
        self.persist(next)?;
        Ok(removed)
    }

    /// Removes every lease last renewed more than `period_millis` before `now_millis`, and
    /// returns them. A clock that jumps backwards expires nothing.
    pub fn expire(
        &mut self,
        now_millis: u64,
        period_millis: u64,
    ) -> Result<Vec<RetentionLease>, LeaseError> {
        let (expired, kept): (BTreeMap<_, _>, BTreeMap<_, _>) =
            self.leases.clone().into_iter().partition(|(_, lease)| {
                now_millis.saturating_sub(lease.timestamp_millis) > period_millis
            });
        if expired.is_empty() {
            return Ok(Vec::new());
        }
        self.persist(kept)?;
        Ok(expired.into_values().collect())
    }

    /// Marks every lease that wanted history below `history_min_seq_no` as having lost it.
    pub fn mark_history_lost_below(&mut self, history_min_seq_no: i64) -> Result<(), LeaseError> {
        let mut next = self.leases.clone();
        let mut changed = false;
        for lease in next.values_mut() {
            if lease.retaining_seq_no < history_min_seq_no && !lease.history_lost {
                lease.history_lost = true;
                changed = true;
            }
        }
        if changed {
            self.persist(next)?;
        }
        Ok(())
    }

    /// Writes `next` durably, then makes it current: a failed write changes nothing in memory.
    fn persist(&mut self, next: BTreeMap<String, RetentionLease>) -> Result<(), LeaseError> {
        let list: Vec<&RetentionLease> = next.values().collect();
        let payload = serde_json::to_vec(&list).map_err(|error| LeaseError::Corrupt {
            path: self.path.clone(),
            reason: error.to_string(),
        })?;
        durable_file::write_atomic(&self.path, LEASES_MAGIC, LEASES_FORMAT_VERSION, &payload)?;
        self.leases = next;
        Ok(())
    }
}

fn check_text(what: &str, text: &str) -> Result<(), LeaseError> {
    if text.is_empty() || text.len() > LEASE_ID_BYTES_MAX {
        return Err(LeaseError::Invalid(format!(
            "retention lease {what} must be 1 to {LEASE_ID_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_persist_and_refuse_bad_transitions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut leases = RetentionLeases::load(dir.path()).expect("load");
        leases.add("f1", 0, "ccr", 1000).expect("add");
        assert!(matches!(
            leases.add("f1", 0, "ccr", 1000),
            Err(LeaseError::AlreadyExists(_))
        ));
        leases.renew("f1", 10, 2000).expect("renew");
        assert!(matches!(
            leases.renew("f1", 5, 3000),
            Err(LeaseError::Backwards { .. })
        ));
        assert!(matches!(
            leases.renew("nope", 5, 3000),
            Err(LeaseError::NotFound(_))
        ));
        leases.add("f2", 3, "ccr", 1500).expect("add");
        assert_eq!(leases.min_retaining_seq_no(), Some(3));

        let reloaded = RetentionLeases::load(dir.path()).expect("reload");
        assert_eq!(reloaded.all(), leases.all());

        let expired = leases.expire(1500 + 1001, 1000).expect("expire");
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].id, "f2");
        assert_eq!(leases.min_retaining_seq_no(), Some(10));
        leases.mark_history_lost_below(11).expect("mark");
        assert!(leases.get("f1").expect("f1").history_lost);
        assert_eq!(leases.min_retaining_seq_no(), None);
        leases.remove("f1").expect("remove");
        assert!(RetentionLeases::load(dir.path())
            .expect("reload")
            .all()
            .is_empty());
    }

    #[test]
    fn a_corrupt_leases_file_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut leases = RetentionLeases::load(dir.path()).expect("load");
        leases.add("f1", 0, "ccr", 1000).expect("add");
        let path = dir.path().join(LEASES_FILE_NAME);
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(&path, bytes).expect("write");
        assert!(matches!(
            RetentionLeases::load(dir.path()),
            Err(LeaseError::File(DurableFileError::ChecksumMismatch { .. }))
        ));
    }
}

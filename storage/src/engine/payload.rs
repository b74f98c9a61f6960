//! The commit payload: what a tantivy commit records about the shard.
//!
//! tantivy stores one string with each commit. Ours names the translog the commit belongs to
//! (a commit must never be recovered against a foreign translog), the shard's history id, and
//! the local checkpoint and max seq-no at the commit, so recovery knows which translog
//! operations to replay. Layout: `tandem-commit:<version>:<crc32 hex>:<json>`; the crc covers
//! the JSON text.

use serde::{Deserialize, Serialize};

const PAYLOAD_PREFIX: &str = "tandem-commit";
const PAYLOAD_FORMAT_VERSION: u32 = 1;

/// What a commit says about the shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    /// The uuid of the translog whose operations above `local_checkpoint` complete this commit.
    pub translog_uuid: String,
    /// The shard's history id: followers refuse to continue across a change of it.
    pub history_uuid: String,
    /// Every operation at or below this seq-no is in the commit.
    pub local_checkpoint: i64,
    /// The highest seq-no in the commit.
    pub max_seq_no: i64,
    /// The index mapping version the shard had at the commit.
    pub mapping_version: u64,
}

impl CommitPayload {
    /// Encodes the payload for `PreparedCommit::set_payload`.
    pub fn encode(&self) -> String {
        let json = serde_json::to_string(self).expect("a commit payload always serializes");
        let crc = crc32fast::hash(json.as_bytes());
        format!("{PAYLOAD_PREFIX}:{PAYLOAD_FORMAT_VERSION}:{crc:08x}:{json}")
    }

    /// Decodes a payload read from a commit; the error says what is wrong.
    pub fn decode(text: &str) -> Result<CommitPayload, String> {
        let mut parts = text.splitn(4, ':');
        let (Some(prefix), Some(version), Some(crc), Some(json)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("commit payload is not a tandem payload".into());
        };
        if prefix != PAYLOAD_PREFIX {
            return Err(format!("commit payload has prefix [{prefix}]"));
        }
        let expected_crc = u32::from_str_radix(crc, 16)
            .map_err(|_| format!("commit payload checksum [{crc}] is not hex"))?;
        let actual_crc = crc32fast::hash(json.as_bytes());
        if expected_crc != actual_crc {
            return Err(format!(
                "commit payload checksum mismatch: expected {expected_crc:08x}, got {actual_crc:08x}"
            ));
        }
        if version != PAYLOAD_FORMAT_VERSION.to_string() {
            return Err(format!(
                "commit payload format version [{version}] is not supported"
            ));
        }
        serde_json::from_str(json).map_err(|error| format!("commit payload is unreadable: {error}"))
    }
}

/// A random 128-bit id as 32 hex digits (history ids, snapshot pins). Not cryptographic: it
/// only has to differ between shards and runs.
pub fn random_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.write_u32(std::process::id());
        *half = hasher.finish();
    }
    format!("{:016x}{:016x}", halves[0], halves[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CommitPayload {
        CommitPayload {
            translog_uuid: "00ff".into(),
            history_uuid: random_id(),
            local_checkpoint: 41,
            max_seq_no: 42,
            mapping_version: 3,
        }
    }

    #[test]
    fn payload_round_trips() {
        let payload = sample();
        assert_eq!(CommitPayload::decode(&payload.encode()), Ok(payload));
    }

    #[test]
    fn every_flipped_character_is_detected() {
        let encoded = sample().encode();
        for index in 0..encoded.len() {
            let mut bytes = encoded.clone().into_bytes();
            bytes[index] ^= 0x01;
            let Ok(damaged) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(
                CommitPayload::decode(&damaged).is_err(),
                "flip at {index} undetected"
            );
        }
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(random_id(), random_id());
        assert_eq!(random_id().len(), 32);
    }
}

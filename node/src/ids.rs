//! Ids the node makes up: OpenSearch-style base64url uuids for indices, nodes and documents.
//!
//! It owns the id formats (20 characters for auto-generated document ids, 22 for uuids). It
//! must never be used for anything secret: the randomness is std's hasher seed plus time.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(SEQUENCE.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(now_nanos());
    hasher.finish()
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0)
}

/// Base64url without padding.
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for position in 0..chars {
            let index = (n >> (18 - 6 * position)) & 63;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

/// A 22-character random uuid (16 bytes), like OpenSearch's `UUIDs.randomBase64UUID`.
pub fn base64_uuid() -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&random_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&random_u64().to_le_bytes());
    base64url(&bytes)
}

/// A 20-character time-based id (15 bytes), like OpenSearch's auto-generated `_id`s: the
/// time first so ids of one node sort roughly by creation, then a sequence and random bytes.
pub fn auto_doc_id() -> String {
    let millis = (now_nanos() / 1_000_000) as u64;
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let random = random_u64();
    let mut bytes = [0u8; 15];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..9].copy_from_slice(&sequence.to_be_bytes()[5..]);
    bytes[9..].copy_from_slice(&random.to_le_bytes()[..6]);
    base64url(&bytes)
}

#[cfg(test)]
mod tests {
    //! Id lengths and alphabet.
    use super::*;

    #[test]
    fn ids_have_opensearch_lengths() {
        assert_eq!(auto_doc_id().len(), 20);
        assert_eq!(base64_uuid().len(), 22);
        assert_ne!(auto_doc_id(), auto_doc_id());
        assert_eq!(base64url(b"foob"), "Zm9vYg");
    }
}

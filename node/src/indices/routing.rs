//! Document routing: which shard an id (or custom routing value) lives on.
//!
//! It owns OpenSearch's algorithm, so a tandem index and an OpenSearch index with the same
//! shard count put every document on the same shard number: Murmur3 (x86, 32-bit, seed 0) of
//! the routing string as UTF-16 little-endian code units, `floorMod` by the routing shard count
//! (`number_of_shards` scaled up to at most 1024, as OpenSearch 7+ does), divided by the routing
//! factor. It must never depend on anything but the routing value and the shard count.

/// OpenSearch's ceiling when it picks the default number of routing shards.
const ROUTING_SHARDS_LOG2_MAX: u32 = 10;

/// The shard of `routing` in an index of `number_of_shards` primaries.
pub fn shard_for(routing: &str, number_of_shards: u32) -> u32 {
    assert!(number_of_shards >= 1, "an index has at least one shard");
    let routing_shards = routing_num_shards(number_of_shards);
    let factor = routing_shards / number_of_shards;
    let hash = murmur3_utf16(routing);
    let bucket = i64::from(hash).rem_euclid(i64::from(routing_shards));
    let shard = u32::try_from(bucket).expect("rem_euclid of a positive u32 fits in u32") / factor;
    debug_assert!(shard < number_of_shards);
    shard
}

/// OpenSearch's `calculateNumRoutingShards` for indices created on 7.0 and later.
fn routing_num_shards(number_of_shards: u32) -> u32 {
    let log2_shards = 32 - (number_of_shards - 1).leading_zeros();
    let splits = ROUTING_SHARDS_LOG2_MAX.saturating_sub(log2_shards);
    number_of_shards << splits
}

/// Murmur3 x86 32 of the string's UTF-16 code units, each as two little-endian bytes.
fn murmur3_utf16(text: &str) -> i32 {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    murmur3_x86_32(&bytes, 0) as i32
}

fn murmur3_x86_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut hash = seed;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        hash ^= k;
        hash = hash
            .rotate_left(13)
            .wrapping_mul(5)
            .wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    let mut k: u32 = 0;
    for (position, byte) in tail.iter().enumerate() {
        k |= u32::from(*byte) << (8 * position);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        hash ^= k;
    }
    hash ^= data.len() as u32;
    hash ^= hash >> 16;
    hash = hash.wrapping_mul(0x85eb_ca6b);
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(0xc2b2_ae35);
    hash ^ (hash >> 16)
}

#[cfg(test)]
mod tests {
    //! Known values of the hash and the shard choice.
    use super::*;

    #[test]
    fn murmur3_matches_reference_vectors() {
        assert_eq!(murmur3_x86_32(b"", 0), 0);
        assert_eq!(murmur3_x86_32(b"hello", 0), 0x248b_fa47);
        assert_eq!(
            murmur3_x86_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2e4f_f723
        );
    }

    #[test]
    fn routing_shards_scale_like_opensearch() {
        assert_eq!(routing_num_shards(1), 1024);
        assert_eq!(routing_num_shards(5), 640);
        assert_eq!(routing_num_shards(3), 768);
    }

    #[test]
    fn one_shard_takes_everything_and_many_spread() {
        assert_eq!(shard_for("anything", 1), 0);
        let shards: std::collections::BTreeSet<u32> =
            (0..100).map(|n| shard_for(&n.to_string(), 5)).collect();
        assert_eq!(shards.len(), 5);
    }
}

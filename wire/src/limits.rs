//! Every size and count limit of the protocol, in one place, with the relations between them
//! checked at compile time.
//!
//! A decoder compares each length it reads against the limit here before it allocates or
//! slices, and an encoder checks the same limit before it writes, so both ends of the wire
//! agree on what a valid message is. This module holds numbers only; it must never grow logic.

/// Largest frame body this crate will ever decode or encode, whatever a caller configures.
///
/// It leaves room for one changes response at its hard cap plus its metadata blobs.
pub const FRAME_BODY_BYTES_MAX: u32 = 160 * 1024 * 1024;

/// Body limit of control messages (handshake, requests, errors, acks): they carry a handful of
/// bounded strings, so a header claiming more is rejected before any body byte is buffered.
pub const CONTROL_BODY_BYTES_MAX: u32 = 64 * 1024;

/// Lowest protocol version this build speaks. Version 2 added the max seq-no of updates and
/// deletes to changes responses; version 1 peers are refused at the handshake.
pub const PROTOCOL_VERSION_MIN: u16 = 2;
/// Highest protocol version this build speaks.
pub const PROTOCOL_VERSION_MAX: u16 = 2;

/// `cluster.name` on either side.
pub const CLUSTER_NAME_BYTES_MAX: usize = 255;
/// Cluster and index uuids (OpenSearch's are 22 base64 characters; we allow headroom).
pub const UUID_BYTES_MAX: usize = 64;
/// Node ids.
pub const NODE_ID_BYTES_MAX: usize = 64;
/// `node.name`.
pub const NODE_NAME_BYTES_MAX: usize = 255;
/// Index names: OpenSearch refuses names longer than 255 bytes.
pub const INDEX_NAME_BYTES_MAX: usize = 255;
/// Index patterns of auto-follow rules (comma separated lists allowed).
pub const INDEX_PATTERN_BYTES_MAX: usize = 4096;
/// A software version string such as `2.19.0` or `tandem 0.1.0`.
pub const VERSION_STRING_BYTES_MAX: usize = 64;
/// Retention lease ids: `replication:<cluster>:<cluster uuid>:[<index>][<shard>]` fits easily.
pub const LEASE_ID_BYTES_MAX: usize = 1024;
/// Retention lease sources: `replication:<cluster>`.
pub const LEASE_SOURCE_BYTES_MAX: usize = 512;
/// Human-readable error reasons; longer reasons are cut at a character boundary when built.
pub const REASON_BYTES_MAX: usize = 4096;
/// File names inside a shard snapshot (one path component, no separators).
pub const FILE_NAME_BYTES_MAX: usize = 255;

/// Settings, mapping or aliases of one index, each as JSON text.
pub const METADATA_JSON_BYTES_MAX: u32 = 4 * 1024 * 1024;
/// Shards per index: OpenSearch's `index.number_of_shards` ceiling.
pub const SHARDS_PER_INDEX_MAX: u32 = 1024;
/// Entries in one index list answer (auto-follow pattern resolution).
pub const INDEX_LIST_ENTRIES_MAX: u32 = 65_536;
/// Files in one shard snapshot manifest.
pub const SNAPSHOT_FILES_MAX: u32 = 65_536;

/// Hard cap on the operation bytes of one changes response. The leader may exceed the
/// follower's soft `bytes_max` by one operation (so one huge operation still makes progress),
/// but never this cap. It admits the largest record storage accepts (a 128 MiB body plus its
/// frame header; `tests/tests/limits.rs` checks the relation, as wire cannot name storage), so
/// no single operation can stall replication. Decoders never reserve memory from a length, so
/// a large cap costs only the bytes a peer actually sends.
pub const CHANGES_OPS_BYTES_MAX: u32 = 136 * 1024 * 1024;
/// Default soft byte budget of one changes response: Elasticsearch's `max_read_request_size`
/// (performance anchors G14), which bounds follower memory per read.
pub const CHANGES_BYTES_DEFAULT: u32 = 32 * 1024 * 1024;
/// Most operations one changes request may ask for.
pub const CHANGES_OPS_MAX: u32 = 1_000_000;
/// Default operations per changes request: OpenSearch CCR's `ops_batch_size` (50 000).
pub const CHANGES_OPS_DEFAULT: u32 = 50_000;
/// Longest long-poll a follower may ask for. Elasticsearch and OpenSearch wait one minute; we
/// allow five so a slow link can trade fewer requests for latency.
pub const POLL_WAIT_MS_MAX: u32 = 5 * 60 * 1000;
/// Default long-poll wait: one minute, as Elasticsearch's `read_poll_timeout`.
pub const POLL_WAIT_MS_DEFAULT: u32 = 60 * 1000;

/// Most changes requests one follower shard may keep in flight (also bounds the answers it
/// buffers out of order).
pub const REQUESTS_IN_FLIGHT_MAX: u32 = 64;

/// Largest data slice in one file chunk frame.
pub const FILE_CHUNK_BYTES_MAX: u32 = 32 * 1024 * 1024;
/// Default file chunk: OpenSearch CCR's `recovery.chunk_size` (10 MB).
pub const FILE_CHUNK_BYTES_DEFAULT: u32 = 10 * 1024 * 1024;

/// Upper bound of everything in a changes response that is not operation bytes or metadata
/// JSON: fixed fields and length prefixes.
pub(crate) const CHANGES_FIXED_BYTES_MAX: u32 = 1024;
/// Upper bound of the fixed part of an index metadata answer besides its three JSON blobs.
pub(crate) const INDEX_METADATA_FIXED_BYTES_MAX: u32 = 4096;
/// Upper bound of the fixed part of a file chunk besides its data.
pub(crate) const FILE_CHUNK_FIXED_BYTES_MAX: u32 = 64;

const _: () = assert!(PROTOCOL_VERSION_MIN >= 1);
const _: () = assert!(PROTOCOL_VERSION_MIN <= PROTOCOL_VERSION_MAX);
const _: () = assert!(CONTROL_BODY_BYTES_MAX < FRAME_BODY_BYTES_MAX);
const _: () = assert!(CHANGES_BYTES_DEFAULT <= CHANGES_OPS_BYTES_MAX);
const _: () = assert!(CHANGES_OPS_DEFAULT <= CHANGES_OPS_MAX);
const _: () = assert!(POLL_WAIT_MS_DEFAULT <= POLL_WAIT_MS_MAX);
const _: () = assert!(FILE_CHUNK_BYTES_DEFAULT <= FILE_CHUNK_BYTES_MAX);
// A changes response at its hard cap, with all three metadata blobs, must fit one frame.
const _: () = assert!(
    CHANGES_OPS_BYTES_MAX as u64
        + 3 * METADATA_JSON_BYTES_MAX as u64
        + CHANGES_FIXED_BYTES_MAX as u64
        <= FRAME_BODY_BYTES_MAX as u64
);
const _: () = assert!(
    3 * METADATA_JSON_BYTES_MAX as u64 + INDEX_METADATA_FIXED_BYTES_MAX as u64
        <= FRAME_BODY_BYTES_MAX as u64
);
const _: () = assert!(
    FILE_CHUNK_BYTES_MAX as u64 + FILE_CHUNK_FIXED_BYTES_MAX as u64 <= FRAME_BODY_BYTES_MAX as u64
);
// Each index list entry is at most a name, a uuid, their u16 length prefixes and three bytes.
const _: () = assert!(
    INDEX_LIST_ENTRIES_MAX as u64 * (INDEX_NAME_BYTES_MAX + UUID_BYTES_MAX + 4 + 3) as u64 + 4
        <= FRAME_BODY_BYTES_MAX as u64
);
// Each manifest entry is a name with its u16 prefix, a u64 size and a u32 crc.
const _: () = assert!(
    SNAPSHOT_FILES_MAX as u64 * (FILE_NAME_BYTES_MAX + 2 + 8 + 4) as u64 + 64
        <= FRAME_BODY_BYTES_MAX as u64
);
// The largest control message is an error (reason) or a lease request (id, source, uuid).
const _: () = assert!(REASON_BYTES_MAX + 64 <= CONTROL_BODY_BYTES_MAX as usize);
const _: () = assert!(
    LEASE_ID_BYTES_MAX + LEASE_SOURCE_BYTES_MAX + UUID_BYTES_MAX + 64
        <= CONTROL_BODY_BYTES_MAX as usize
);
const _: () = assert!(INDEX_PATTERN_BYTES_MAX + 64 <= CONTROL_BODY_BYTES_MAX as usize);

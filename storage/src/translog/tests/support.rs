//! Helpers shared by the translog tests.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::record::{OpType, Operation};
use crate::translog::checkpoint::{self, Checkpoint, CHECKPOINT_FILE_NAME};
use crate::translog::{generation, Durability, Translog, TranslogConfig, GENERATION_BYTES_MAX_MIN};

/// Request durability, generations large enough never to roll by themselves.
pub(super) fn config() -> TranslogConfig {
    TranslogConfig {
        durability: Durability::Request,
        generation_bytes_max: 64 * 1024 * 1024,
    }
}

/// Request durability, rolling every kilobyte.
pub(super) fn small_config() -> TranslogConfig {
    TranslogConfig {
        durability: Durability::Request,
        generation_bytes_max: GENERATION_BYTES_MAX_MIN,
    }
}

/// An index operation whose source is `payload_len` bytes of JSON.
pub(super) fn op_sized(seq_no: i64, primary_term: u64, payload_len: usize) -> Operation {
    let filler = "x".repeat(payload_len);
    Operation {
        seq_no,
        primary_term,
        op_type: OpType::Index,
        id: format!("doc-{seq_no}"),
        routing: None,
        version: 1,
        mapping_version: 1,
        auto_generated_id: false,
        source: Bytes::from(format!("{{\"n\":{seq_no},\"f\":\"{filler}\"}}")),
    }
}

pub(super) fn op(seq_no: i64) -> Operation {
    op_sized(seq_no, 1, 16)
}

pub(super) fn create(dir: &Path, config: TranslogConfig) -> Translog {
    Translog::create(dir, config, 1, 0).unwrap()
}

pub(super) fn reopen(dir: &Path, config: TranslogConfig) -> Translog {
    Translog::open(dir, config, 1).unwrap()
}

/// Every operation in append order.
pub(super) fn replay(translog: &Translog) -> Vec<Operation> {
    translog
        .iter_from(-1)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub(super) fn generation_path(dir: &Path, generation: u64) -> PathBuf {
    generation::path(dir, generation)
}

pub(super) fn read_checkpoint(dir: &Path) -> (u64, Checkpoint) {
    let bytes = fs::read(dir.join(CHECKPOINT_FILE_NAME)).unwrap();
    checkpoint::decode_file(&bytes).unwrap()
}

pub(super) fn flip_byte(path: &Path, offset: u64, mask: u8) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= mask;
    fs::write(path, bytes).unwrap();
}

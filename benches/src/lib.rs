//! tandem-benches: benchmark workloads shared by the criterion benches and the end-to-end
//! runner. Documents are generated deterministically from a seed, shaped like web-server log
//! lines (a timestamp, a message of words, a status, a size, a host, tags), about 300 bytes
//! each, so runs are comparable across machines and commits. It must never depend on wall
//! time or randomness it does not print.

pub mod process;

use bytes::Bytes;
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::ShardEngine;

/// Words messages are built from.
const WORDS: &[&str] = &[
    "request", "served", "cache", "miss", "upstream", "timeout", "client", "closed", "tandem",
    "follower", "leader", "shard", "segment", "replica", "commit", "refresh", "query", "index",
    "document", "cluster", "search", "latency", "bytes", "header", "gzip", "retry",
];

/// A small deterministic generator (xorshift64*), so benchmarks need no random crate.
#[derive(Debug, Clone)]
pub struct Generator {
    state: u64,
}

impl Generator {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Generator {
        Generator { state: seed.max(1) }
    }

    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// One generated log document: its id and `_source`.
#[derive(Debug, Clone)]
pub struct LogDocument {
    /// Document id.
    pub id: String,
    /// `_source` JSON bytes.
    pub source: Bytes,
    /// Parsed fields, for indexing into a hand-made tantivy schema.
    pub timestamp_millis: i64,
    /// Message text.
    pub message: String,
    /// HTTP status.
    pub status: i64,
    /// Response size.
    pub size: i64,
    /// Host name.
    pub host: String,
}

/// `count` log documents numbered from `first`.
pub fn log_documents(seed: u64, first: u64, count: usize) -> Vec<LogDocument> {
    let mut generator = Generator::new(seed ^ first.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    (0..count as u64)
        .map(|offset| {
            let number = first + offset;
            let words: Vec<&str> = (0..12 + generator.below(12))
                .map(|_| WORDS[generator.below(WORDS.len() as u64) as usize])
                .collect();
            let message = words.join(" ");
            let status = [200, 200, 200, 201, 304, 404, 500][generator.below(7) as usize];
            let size = generator.below(100_000) as i64;
            let host = format!("host-{:02}", generator.below(40));
            let timestamp_millis = 1_700_000_000_000 + number as i64 * 37;
            let source = serde_json::json!({
                "@timestamp": timestamp_millis,
                "message": message,
                "status": status,
                "size": size,
                "host": host,
                "tags": ["web", if status >= 500 { "error" } else { "ok" }],
            });
            LogDocument {
                id: format!("doc-{number}"),
                source: Bytes::from(source.to_string()),
                timestamp_millis,
                message,
                status,
                size,
                host,
            }
        })
        .collect()
}

/// The mapping the shard engine uses for log documents (no dynamic mapping on the hot path).
pub fn log_mapping_json() -> serde_json::Value {
    serde_json::json!({
        "properties": {
            "@timestamp": {"type": "date", "format": "epoch_millis"},
            "message": {"type": "text"},
            "status": {"type": "integer"},
            "size": {"type": "long"},
            "host": {"type": "keyword"},
            "tags": {"type": "keyword"}
        }
    })
}

/// Writes `documents` into `engine` through `write_batch` in bulks of `bulk_docs`, as a client's
/// `_bulk` requests would arrive; panics on any failed item (a benchmark must not measure errors).
pub fn write_documents(engine: &ShardEngine, documents: &[LogDocument], bulk_docs: usize) {
    for bulk in documents.chunks(bulk_docs.max(1)) {
        let requests: Vec<WriteRequest> = bulk
            .iter()
            .map(|document| {
                WriteRequest::Index(IndexRequest {
                    id: document.id.clone(),
                    source: document.source.clone(),
                    routing: None,
                    create_only: false,
                    version_check: VersionCheck::None,
                    auto_generated_id: false,
                })
            })
            .collect();
        for result in engine.write_batch(&requests).expect("bulk") {
            result.expect("indexed");
        }
    }
}

//! Storage benchmarks: the shard engine against raw tantivy on the same documents, translog
//! append + fsync under both durabilities, and history reads for followers.
//!
//! Run: `cargo bench -p tandem-benches --bench storage`. Ratios are computed from the
//! throughputs criterion prints for the paired benchmarks of one run (see BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tandem_benches::{log_documents, log_mapping_json, write_documents, LogDocument};
use tandem_storage::record::{OpType, Operation};
use tandem_storage::translog::{Durability, Translog, TranslogConfig};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tantivy::schema::{Schema, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::{doc, Index, IndexWriter, TantivyDocument};

const BULK_DOCS: usize = 1000;
const BULKS_PER_ITERATION: usize = 10;
const WRITER_MEMORY_BYTES: usize = 64 * 1024 * 1024;

fn documents() -> Vec<LogDocument> {
    log_documents(42, 0, BULK_DOCS * BULKS_PER_ITERATION)
}

fn engine_config(durability: Durability) -> EngineConfig {
    EngineConfig {
        durability,
        indexing_memory_bytes: WRITER_MEMORY_BYTES,
        ..EngineConfig::primary()
    }
}

fn index_with_engine(documents: &[LogDocument], durability: Durability) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = Arc::new(Mapping::from_json(&log_mapping_json(), 1).expect("mapping"));
    let engine = ShardEngine::create(&dir.path().join("s"), engine_config(durability), mapping)
        .expect("create");
    let started = Instant::now();
    write_documents(&engine, documents, BULK_DOCS);
    engine.refresh(true).expect("refresh");
    let elapsed = started.elapsed();
    engine.close().expect("close");
    elapsed
}

/// The baseline: the same documents into a hand-written tantivy schema, same writer budget,
/// source stored, one commit at the end. No translog, no version checks, no JSON mapping.
fn index_with_raw_tantivy(documents: &[LogDocument]) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut builder = Schema::builder();
    let id = builder.add_text_field("_id", STRING | STORED);
    let source = builder.add_bytes_field("_source", STORED);
    let timestamp = builder.add_i64_field("@timestamp", INDEXED | FAST);
    let message = builder.add_text_field("message", TEXT);
    let status = builder.add_i64_field("status", INDEXED | FAST);
    let size = builder.add_i64_field("size", INDEXED | FAST);
    let host = builder.add_text_field("host", STRING | FAST);
    let index = Index::create_in_dir(dir.path(), builder.build()).expect("index");
    let mut writer: IndexWriter<TantivyDocument> = index
        .writer_with_num_threads(1, WRITER_MEMORY_BYTES)
        .expect("writer");
    let started = Instant::now();
    for document in documents {
        // Parsing the source is part of any real ingest path, so the baseline pays it too.
        let parsed: serde_json::Value = serde_json::from_slice(&document.source).expect("json");
        assert!(parsed.is_object());
        writer
            .add_document(doc!(
                id => document.id.as_str(),
                source => document.source.as_ref(),
                timestamp => document.timestamp_millis,
                message => document.message.as_str(),
                status => document.status,
                size => document.size,
                host => document.host.as_str(),
            ))
            .expect("add");
    }
    writer.commit().expect("commit");
    let elapsed = started.elapsed();
    writer.wait_merging_threads().expect("merge threads");
    elapsed
}

fn indexing(c: &mut Criterion) {
    let documents = documents();
    let mut group = c.benchmark_group("indexing");
    group.sample_size(10);
    group.throughput(Throughput::Elements(documents.len() as u64));
    group.bench_function("raw_tantivy", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| index_with_raw_tantivy(&documents))
                .sum()
        })
    });
    group.bench_function("engine_request_durability", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| index_with_engine(&documents, Durability::Request))
                .sum()
        })
    });
    group.bench_function("engine_async_durability", |b| {
        b.iter_custom(|iterations| {
            (0..iterations)
                .map(|_| {
                    index_with_engine(
                        &documents,
                        Durability::Async {
                            sync_interval: Duration::from_secs(5),
                        },
                    )
                })
                .sum()
        })
    });
    group.finish();
}

fn operation(seq_no: i64, document: &LogDocument) -> Operation {
    Operation {
        seq_no,
        primary_term: 1,
        op_type: OpType::Index,
        id: document.id.clone(),
        routing: None,
        version: 1,
        mapping_version: 1,
        auto_generated_id: false,
        source: document.source.clone(),
    }
}

fn translog_appends(c: &mut Criterion) {
    let documents = log_documents(7, 0, BULK_DOCS);
    let mut group = c.benchmark_group("translog");
    group.sample_size(20);
    group.throughput(Throughput::Elements(documents.len() as u64));
    for (name, durability, sync_each_bulk) in [
        ("append_1000_then_fsync_request", Durability::Request, true),
        (
            "append_1000_async",
            Durability::Async {
                sync_interval: Duration::from_secs(5),
            },
            false,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let config = TranslogConfig {
                        durability,
                        generation_bytes_max: 64 * 1024 * 1024,
                    };
                    let translog =
                        Translog::create(&dir.path().join("t"), config, 1, 0).expect("create");
                    (dir, translog)
                },
                |(dir, translog)| {
                    let mut last = None;
                    for (seq_no, document) in documents.iter().enumerate() {
                        last = Some(
                            translog
                                .append(&operation(seq_no as i64, document))
                                .expect("append"),
                        );
                    }
                    if sync_each_bulk {
                        translog.sync_to(last.expect("appended")).expect("sync");
                    }
                    (dir, translog)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn history_reads(c: &mut Criterion) {
    let documents = log_documents(9, 0, 50_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TranslogConfig {
        durability: Durability::Request,
        generation_bytes_max: 4 * 1024 * 1024,
    };
    let translog = Translog::create(&dir.path().join("t"), config, 1, 0).expect("create");
    for (seq_no, document) in documents.iter().enumerate() {
        translog
            .append(&operation(seq_no as i64, document))
            .expect("append");
    }
    translog.sync().expect("sync");
    let total_bytes: usize = translog
        .read_ops(0, documents.len() as i64 - 1, usize::MAX, usize::MAX)
        .expect("read")
        .records
        .len();
    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Bytes(total_bytes as u64));
    group.bench_function("read_ops_warm_all_in_4mib_batches", |b| {
        b.iter(|| {
            let mut from = 0i64;
            let last = documents.len() as i64 - 1;
            while from <= last {
                let batch = translog
                    .read_ops(from, last, 100_000, 4 * 1024 * 1024)
                    .expect("read");
                from = batch.last_seq_no + 1;
            }
        })
    });
    group.finish();
}

criterion_group!(benches, indexing, translog_appends, history_reads);
criterion_main!(benches);

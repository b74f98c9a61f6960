//! The end-to-end benchmark runner: a real `tandem` node over HTTP against in-process
//! baselines measured in the same run.
//!
//! - REST `_bulk` ingest of ~1 KB documents with `request` durability, against the shard
//!   engine's own in-process rate on the same documents (target ≥ 0.6×).
//! - `_search` match and term queries, p50 latency over HTTP, against the same queries run
//!   in-process on raw tantivy over the same documents (target ≤ 2×).
//! - The node's peak resident memory (VmHWM).
//!
//! Run: `cargo build --release -p tandem-node && cargo run --release -p tandem-benches --bin e2e`
//! (`-- --bulk-docs N --search-docs N` to size it; `-- --query-url URL [--index NAME]` only times
//! REST queries against a node already running, to profile it). Binds 127.0.0.1 only, stops the node and
//! removes its data when done.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tandem_benches::process::{create_index, engine_rate, rest_bulk, Node, BULK_DOCS};
use tandem_benches::{log_documents, log_mapping_json, write_documents, LogDocument};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{QueryParser, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::{doc, Index, IndexWriter, TantivyDocument, Term};

const QUERIES_PER_KIND: usize = 300;
const PADDING_WORDS: &str = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ";

struct Args {
    bulk_docs: usize,
    search_docs: usize,
    tandem: PathBuf,
    /// Only time REST queries against a node already running here (for profiling it).
    query_url: Option<String>,
    /// The index `--query-url` queries.
    index: String,
}

fn args() -> Args {
    let mut args = Args {
        bulk_docs: 100_000,
        search_docs: 1_000_000,
        tandem: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/tandem"),
        query_url: None,
        index: "search".into(),
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let value = raw.next().unwrap_or_default();
        match flag.as_str() {
            "--bulk-docs" => args.bulk_docs = value.parse().expect("--bulk-docs takes a number"),
            "--search-docs" => {
                args.search_docs = value.parse().expect("--search-docs takes a number")
            }
            "--tandem" => args.tandem = PathBuf::from(value),
            "--query-url" => args.query_url = Some(value),
            "--index" => args.index = value,
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// Log documents padded to about 1 KB, as the bulk target specifies.
fn kilobyte_documents(first: u64, count: usize) -> Vec<LogDocument> {
    log_documents(42, first, count)
        .into_iter()
        .map(|mut document| {
            let mut source: serde_json::Value =
                serde_json::from_slice(&document.source).expect("json");
            let padding = PADDING_WORDS.repeat(
                1 + (1024usize.saturating_sub(document.source.len())) / PADDING_WORDS.len(),
            );
            source["payload"] = serde_json::Value::String(
                padding[..1024 - document.source.len().min(1000)].to_string(),
            );
            document.source = Bytes::from(source.to_string());
            document
        })
        .collect()
}

fn bulk_mapping() -> serde_json::Value {
    let mut mapping = log_mapping_json();
    mapping["properties"]["payload"] = serde_json::json!({"type": "text"});
    mapping
}

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

const WORDS: &[&str] = &[
    "request", "cache", "upstream", "timeout", "tandem", "replica", "commit", "query", "latency",
    "retry",
];

/// A minimal keep-alive HTTP/1.1 client on one TCP connection, so latency measures the node
/// and loopback, not a client library's runtime hops.
struct RawHttp {
    stream: std::io::BufReader<std::net::TcpStream>,
    host: String,
}

impl RawHttp {
    fn connect(url: &str) -> RawHttp {
        let host = url.trim_start_matches("http://").to_string();
        let stream = std::net::TcpStream::connect(&host).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        RawHttp {
            stream: std::io::BufReader::new(stream),
            host,
        }
    }

    fn post(&mut self, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        use std::io::{Read, Write};
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).expect("write head");
        stream.write_all(body).expect("write body");
        let mut status_line = String::new();
        self.stream
            .read_line(&mut status_line)
            .expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("content length");
                }
            }
        }
        let mut response = vec![0u8; length];
        self.stream.read_exact(&mut response).expect("body");
        (status, response)
    }
}

fn rest_queries(url: &str, index: &str) -> (Duration, Duration) {
    let mut http = RawHttp::connect(url);
    let path = format!("/{index}/_search");
    let mut run = |query: serde_json::Value| {
        let body = serde_json::to_vec(&serde_json::json!({"query": query})).expect("json");
        let started = Instant::now();
        let (status, response) = http.post(&path, &body);
        let elapsed = started.elapsed();
        assert_eq!(
            status,
            200,
            "search failed: {}",
            String::from_utf8_lossy(&response)
        );
        elapsed
    };
    let matches = (0..QUERIES_PER_KIND)
        .map(|n| run(serde_json::json!({"match": {"message": WORDS[n % WORDS.len()]}})))
        .collect();
    let terms = (0..QUERIES_PER_KIND)
        .map(|n| run(serde_json::json!({"term": {"host": format!("host-{:02}", n % 40)}})))
        .collect();
    (p50(matches), p50(terms))
}

/// p50 of `match` and `term` on raw tantivy: with the one-pass collector (the baseline), then
/// with the pruned plan tandem-search uses.
fn in_process_queries(documents: &[LogDocument]) -> ((Duration, Duration), (Duration, Duration)) {
    let mut builder = Schema::builder();
    let source = builder.add_bytes_field("_source", STORED);
    let message = builder.add_text_field("message", TEXT);
    let host = builder.add_text_field("host", STRING | FAST);
    let status = builder.add_i64_field("status", INDEXED | FAST);
    let index = Index::create_in_ram(builder.build());
    let mut writer: IndexWriter<TantivyDocument> = index
        .writer_with_num_threads(1, 64 * 1024 * 1024)
        .expect("writer");
    for document in documents {
        writer
            .add_document(doc!(source => document.source.as_ref(), message => document.message.as_str(), host => document.host.as_str(), status => document.status))
            .expect("add");
    }
    writer.commit().expect("commit");
    let reader = index.reader().expect("reader");
    let searcher = reader.searcher();
    let parser = QueryParser::for_index(&index, vec![message]);
    // Like a search response: the top 10 with their sources, and the total count, in one pass
    // (the baseline), or as tandem-search runs it: a pruned top-k pass, then a count.
    let run = |query: &dyn tantivy::query::Query, pruned: bool| {
        let started = Instant::now();
        let top = if pruned {
            let top = searcher
                .search(query, &TopDocs::with_limit(10).order_by_score())
                .expect("search");
            let _count = query.count(&searcher).expect("count");
            top
        } else {
            searcher
                .search(query, &(TopDocs::with_limit(10).order_by_score(), Count))
                .expect("search")
                .0
        };
        for (_, address) in top {
            let _: TantivyDocument = searcher.doc(address).expect("doc");
        }
        started.elapsed()
    };
    let term_query = |n: usize| {
        TermQuery::new(
            Term::from_field_text(host, &format!("host-{:02}", n % 40)),
            IndexRecordOption::Basic,
        )
    };
    let plan = |pruned: bool| {
        let matches = (0..QUERIES_PER_KIND)
            .map(|n| {
                run(
                    &*parser.parse_query(WORDS[n % WORDS.len()]).expect("query"),
                    pruned,
                )
            })
            .collect();
        let terms = (0..QUERIES_PER_KIND)
            .map(|n| run(&term_query(n), pruned))
            .collect();
        (p50(matches), p50(terms))
    };
    (plan(false), plan(true))
}

/// The same queries through tandem-search in-process, on a shard engine holding the documents:
/// separates the REST layer's cost from the search crate's.
fn engine_queries(documents: &[LogDocument]) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = Arc::new(Mapping::from_json(&log_mapping_json(), 1).expect("mapping"));
    let engine = ShardEngine::create(&dir.path().join("s"), EngineConfig::primary(), mapping)
        .expect("engine");
    write_documents(&engine, documents, BULK_DOCS);
    engine.refresh(true).expect("refresh");
    let shards = [tandem_search::ShardTarget::from_engine(
        "search", 0, &engine,
    )];
    let run = |query: serde_json::Value| {
        let started = Instant::now();
        let request =
            tandem_search::SearchRequest::from_json(&serde_json::json!({"query": query}), 0)
                .expect("request");
        let response = tandem_search::search(&request, &shards).expect("search");
        let _ = serde_json::to_vec(&response.body).expect("render");
        started.elapsed()
    };
    let matches = (0..QUERIES_PER_KIND)
        .map(|n| run(serde_json::json!({"match": {"message": WORDS[n % WORDS.len()]}})))
        .collect();
    let terms = (0..QUERIES_PER_KIND)
        .map(|n| run(serde_json::json!({"term": {"host": format!("host-{:02}", n % 40)}})))
        .collect();
    (p50(matches), p50(terms))
}

fn main() {
    let args = args();
    if let Some(url) = &args.query_url {
        let (matches, terms) = rest_queries(url, &args.index);
        println!(
            "REST p50 on {url}/{}: match {matches:?}, term {terms:?}",
            args.index
        );
        return;
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");

    println!("# tandem end-to-end benchmarks\n");
    let bulk_documents = kilobyte_documents(0, args.bulk_docs);
    let average_bytes =
        bulk_documents.iter().map(|d| d.source.len()).sum::<usize>() / bulk_documents.len().max(1);
    let engine = engine_rate(&bulk_documents, &bulk_mapping());
    let node = Node::start(&args.tandem, &[]);
    create_index(&client, &node.url, "bulk", bulk_mapping());
    let rest = rest_bulk(&client, &node.url, "bulk", &bulk_documents);
    println!(
        "| bulk ingest, {} docs of ~{average_bytes} B, request durability | docs/s | ratio |",
        args.bulk_docs
    );
    println!("|---|---|---|");
    println!("| shard engine in-process (baseline) | {engine:.0} | 1.00 |");
    println!(
        "| REST `_bulk`, 1,000 docs per request | {rest:.0} | **{:.2}** |\n",
        rest / engine
    );
    drop(bulk_documents);

    let search_documents = log_documents(7, 0, args.search_docs);
    create_index(&client, &node.url, "search", log_mapping_json());
    let load_rate = rest_bulk(&client, &node.url, "search", &search_documents);
    let (rest_match, rest_term) = rest_queries(&node.url, "search");
    let ((local_match, local_term), (pruned_match, pruned_term)) =
        in_process_queries(&search_documents);
    let (crate_match, crate_term) = engine_queries(&search_documents);
    println!(
        "(in-process through tandem-search, no HTTP: match {crate_match:?}, term {crate_term:?}; \
         raw tantivy with the plan tandem-search uses, a pruned top 10 then a count: match \
         {pruned_match:?}, term {pruned_term:?})\n"
    );
    println!("| search on {} docs (loaded at {load_rate:.0} docs/s), p50 of {QUERIES_PER_KIND} | in-process tantivy | REST `_search` | ratio |", args.search_docs);
    println!("|---|---|---|---|");
    println!(
        "| `match` on `message` | {local_match:?} | {rest_match:?} | **{:.2}** |",
        rest_match.as_secs_f64() / local_match.as_secs_f64()
    );
    println!(
        "| `term` on `host` | {local_term:?} | {rest_term:?} | **{:.2}** |\n",
        rest_term.as_secs_f64() / local_term.as_secs_f64()
    );
    match node.peak_rss_kib() {
        Some(kib) => println!("node peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("node peak RSS: unavailable (no /proc)"),
    }
}

//! Real `tandem` processes for the benchmark runners: start on free loopback ports, bulk
//! load over HTTP, and the in-process engine baseline the same documents are measured against.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem_storage::{EngineConfig, Mapping, ShardEngine};

use crate::{write_documents, LogDocument};

/// The node's standard output and error, beside its data folder.
const LOG_FILE_NAME: &str = "node.log";

/// Names a folder the nodes' logs are copied to when they stop (for reading a run afterwards).
pub const KEEP_LOGS_ENV: &str = "TANDEM_BENCH_KEEP_LOGS";

/// Documents per bulk request (and per engine batch in the baseline).
pub const BULK_DOCS: usize = 1000;

/// A release `tandem` process on free loopback ports with a temporary data folder, killed
/// when dropped.
pub struct Node {
    child: Child,
    /// Its HTTP base URL.
    pub url: String,
    /// Its transport (QUIC) port.
    pub transport_port: u16,
    data: tempfile::TempDir,
}

impl Node {
    /// Starts `binary` with `settings` (`key=value`) on top of the ports and data folder.
    pub fn start(binary: &Path, settings: &[&str]) -> Node {
        let data = tempfile::tempdir().expect("data dir");
        // A file, not a pipe: nobody drains a pipe while the node runs, and a full one would
        // stall the node on its next log line. `RUST_LOG` passes through.
        let log = std::fs::File::create(data.path().join(LOG_FILE_NAME)).expect("log file");
        let port = free_port();
        let transport = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|socket| socket.local_addr())
            .map(|address| address.port())
            .expect("a free udp port");
        let mut child = Command::new(binary)
            .args([
                "-E",
                &format!("path.data={}", data.path().join("data").display()),
            ])
            .args([
                "-E",
                &format!("http.port={port}"),
                "-E",
                &format!("transport.port={transport}"),
            ])
            .args(["-E", "cluster.name=bench"])
            .args(settings.iter().flat_map(|setting| ["-E", setting]))
            .stdout(Stdio::from(log.try_clone().expect("log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {}: {error}; build it with cargo build --release -p tandem-node",
                    binary.display()
                )
            });
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        while client.get(&url).send().is_err() {
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let log = std::fs::read_to_string(data.path().join(LOG_FILE_NAME));
                panic!("node did not answer: {log:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Node {
            child,
            url,
            transport_port: transport,
            data,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its data folder.
    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// Its log (the process's output), as written so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join(LOG_FILE_NAME)).unwrap_or_default()
    }

    /// Peak resident memory (VmHWM), KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The data folder goes with the node; its log survives if asked for.
        if let Some(dir) = std::env::var_os(KEEP_LOGS_ENV) {
            let kept = Path::new(&dir).join(format!("tandem-{}.log", self.child.id()));
            let _ = std::fs::copy(self.data.path().join(LOG_FILE_NAME), kept);
        }
    }
}

/// A TCP port free now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Documents per second the shard engine indexes in process, bulks of [`BULK_DOCS`], with
/// `request` durability and a final commit.
pub fn engine_rate(documents: &[LogDocument], mapping: &serde_json::Value) -> f64 {
    engine_rate_observed(documents, mapping, || {})
}

/// [`engine_rate`], calling `before_close` once the documents are in and refreshed, while the
/// engine's threads still run (to read their CPU time).
pub fn engine_rate_observed(
    documents: &[LogDocument],
    mapping: &serde_json::Value,
    before_close: impl FnOnce(),
) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mapping = Arc::new(Mapping::from_json(mapping, 1).expect("mapping"));
    let engine = ShardEngine::create(&dir.path().join("s"), EngineConfig::primary(), mapping)
        .expect("engine");
    let started = Instant::now();
    write_documents(&engine, documents, BULK_DOCS);
    engine.refresh(true).expect("refresh");
    let rate = documents.len() as f64 / started.elapsed().as_secs_f64();
    before_close();
    engine.close().expect("close");
    rate
}

/// Creates a one-shard index without replicas and with a slow refresh.
pub fn create_index(
    client: &reqwest::blocking::Client,
    url: &str,
    index: &str,
    mapping: serde_json::Value,
) {
    let body = serde_json::json!({
        "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "30s"},
        "mappings": mapping,
    });
    let response = client
        .put(format!("{url}/{index}"))
        .json(&body)
        .send()
        .expect("create index");
    assert!(
        response.status().is_success(),
        "create index: {}",
        response.text().unwrap_or_default()
    );
}

/// Sends `documents` through `_bulk` in bulks of [`BULK_DOCS`], then refreshes; returns
/// documents per second.
pub fn rest_bulk(
    client: &reqwest::blocking::Client,
    url: &str,
    index: &str,
    documents: &[LogDocument],
) -> f64 {
    let started = Instant::now();
    for bulk in documents.chunks(BULK_DOCS) {
        send_bulk(client, url, index, bulk);
    }
    let response = client
        .post(format!("{url}/{index}/_refresh"))
        .send()
        .expect("refresh");
    assert!(response.status().is_success());
    documents.len() as f64 / started.elapsed().as_secs_f64()
}

/// Sends `documents` as one `_bulk` request of index operations and checks that every item
/// succeeded.
pub fn send_bulk(
    client: &reqwest::blocking::Client,
    url: &str,
    index: &str,
    documents: &[LogDocument],
) {
    let mut body = Vec::with_capacity(documents.len() * 1100);
    for document in documents {
        body.extend_from_slice(
            format!("{{\"index\":{{\"_id\":\"{}\"}}}}\n", document.id).as_bytes(),
        );
        body.extend_from_slice(&document.source);
        body.push(b'\n');
    }
    let response = client
        .post(format!("{url}/{index}/_bulk"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .expect("bulk");
    let status = response.status();
    let text = response.text().unwrap_or_default();
    assert!(
        status.is_success() && text.contains("\"errors\":false"),
        "bulk failed: {status} {}",
        &text[..text.len().min(500)]
    );
}

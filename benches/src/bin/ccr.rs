//! The replication benchmark runner: a leader and a follower `tandem` process on loopback,
//! each figure against a baseline measured in the same run.
//!
//! - Catch-up: the follower is paused while the leader takes a backlog of operations, then
//!   resumed; its apply rate until it reaches the leader's checkpoint, against the shard
//!   engine's own in-process indexing rate on the same documents (target ≥ 0.8×).
//! - Lag: with the leader ingesting at half the rate it sustained above, a probe document is
//!   written (`request` durability) and fetched by id on the follower until found; p50/p99 of
//!   that delay (target p99 < 50 ms).
//! - Bootstrap: bytes of the leader's committed files copied by `_start`, per second, against a
//!   plain file copy of the same files on the same disk (target ≥ 100 MB/s).
//! - Leader CPU: the leader process's CPU time per indexed operation with one follower
//!   attached, against the same ingest into an index nobody follows (target ≤ 1.1×).
//!
//! Run: `cargo build --release -p tandem-node && cargo run --release -p tandem-benches --bin ccr`
//! (`-- --backlog-docs N --probes N` to size it, `--cpu-only` for the CPU measure alone,
//! `--catch-up-only` for the catch-up alone with CPU time per thread; set
//! `TANDEM_BENCH_KEEP_LOGS=DIR` and `RUST_LOG` to keep the nodes' logs). Binds 127.0.0.1
//! only; removes its data.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};
use tandem_benches::process::{create_index, engine_rate_observed, rest_bulk, send_bulk, Node};
use tandem_benches::{log_documents, log_mapping_json, LogDocument};

const ALIAS: &str = "leader";
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(1800);
/// Pause between two GETs of a probe on the follower (the lag's resolution).
const PROBE_POLL: Duration = Duration::from_micros(250);
/// Probes slower than this are named in the output (to find them in the nodes' logs).
const SLOW_PROBE: Duration = Duration::from_millis(50);
/// Leader CPU rounds, each one unfollowed and one followed ingest (in alternating order).
const CPU_ROUNDS: usize = 8;
/// A node counts as idle (merges and flushes done) below this fraction of a core...
const IDLE_CPU_FRACTION: f64 = 0.03;
/// ...measured over this window...
const IDLE_WINDOW: Duration = Duration::from_millis(1000);
/// ...waiting at most this long for it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

struct Args {
    tandem: PathBuf,
    backlog_docs: usize,
    probes: usize,
    /// Only the leader CPU measure (for profiling it).
    cpu_only: bool,
    /// Only the engine baseline and the catch-up, with CPU time per thread (for profiling).
    catch_up_only: bool,
}

fn args() -> Args {
    let mut args = Args {
        tandem: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/tandem"),
        backlog_docs: 1_000_000,
        probes: 500,
        cpu_only: false,
        catch_up_only: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        if flag == "--cpu-only" {
            args.cpu_only = true;
            continue;
        }
        if flag == "--catch-up-only" {
            args.catch_up_only = true;
            continue;
        }
        let value = given.next().unwrap_or_default();
        match flag.as_str() {
            "--tandem" => args.tandem = PathBuf::from(value),
            "--backlog-docs" => args.backlog_docs = value.parse().expect("--backlog-docs N"),
            "--probes" => args.probes = value.parse().expect("--probes N"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn call(client: &Client, method: &str, url: &str, body: Option<Value>) -> Value {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().expect("request");
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

fn follow(client: &Client, follower: &Node, index: &str, leader_index: &str) {
    call(
        client,
        "PUT",
        &format!("{}/_plugins/_replication/{index}/_start", follower.url),
        Some(json!({"leader_alias": ALIAS, "leader_index": leader_index})),
    );
}

fn status(client: &Client, follower: &Node, index: &str) -> Value {
    call(
        client,
        "GET",
        &format!("{}/_plugins/_replication/{index}/_status", follower.url),
        None,
    )
}

/// Waits until the follower's checkpoint reaches `seq_no`; returns when it did.
fn wait_for_checkpoint(client: &Client, follower: &Node, index: &str, seq_no: i64) -> Instant {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    loop {
        let body = status(client, follower, index);
        if body["syncing_details"]["follower_checkpoint"].as_i64() >= Some(seq_no) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "follower stuck: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cpu_seconds(node: &Node) -> f64 {
    stat_cpu_seconds(&format!("/proc/{}/stat", node.pid())).expect("stat")
}

/// User plus system CPU seconds from a `/proc/.../stat` file.
fn stat_cpu_seconds(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds per thread name of process `pid` (digits dropped, so a pool adds up).
fn thread_cpu_seconds(pid: u32) -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_name;
    };
    for task in tasks.flatten() {
        let dir = task.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let name: String = name
            .trim()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        if let Some(seconds) = stat_cpu_seconds(&dir.join("stat").to_string_lossy()) {
            *by_name.entry(name).or_insert(0.0) += seconds;
        }
    }
    by_name
}

/// CPU seconds of process `pid` in all (exited threads included) and per live thread group.
fn process_cpu(pid: u32) -> (f64, BTreeMap<String, f64>) {
    let total = stat_cpu_seconds(&format!("/proc/{pid}/stat")).unwrap_or(0.0);
    (total, thread_cpu_seconds(pid))
}

/// Prints what process `pid` and each of its live thread groups spent since `before`.
fn print_thread_cpu(label: &str, pid: u32, before: &(f64, BTreeMap<String, f64>)) {
    let (total_before, before) = before;
    let total = stat_cpu_seconds(&format!("/proc/{pid}/stat")).unwrap_or(0.0) - total_before;
    let after = thread_cpu_seconds(pid);
    let mut spent: Vec<(f64, &String)> = after
        .iter()
        .map(|(name, seconds)| (seconds - before.get(name).copied().unwrap_or(0.0), name))
        .filter(|(seconds, _)| *seconds >= 0.01)
        .collect();
    spent.sort_by(|a, b| b.0.total_cmp(&a.0));
    let parts: Vec<String> = spent
        .iter()
        .map(|(seconds, name)| format!("{name} {seconds:.2}"))
        .collect();
    println!(
        "{label} CPU {total:.2} s; live threads: {}",
        parts.join(", ")
    );
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("copy target");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.metadata().expect("meta").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
            std::fs::File::open(&target)
                .and_then(|file| file.sync_all())
                .expect("sync");
        }
    }
}

fn percentile(samples: &mut [Duration], fraction: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

fn main() {
    let args = args();
    let client = Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("client");
    let mut mapping = log_mapping_json();
    mapping["properties"]["probe"] = json!({"type": "keyword"});

    let leader = Node::start(&args.tandem, &[]);
    let follower = Node::start(&args.tandem, &[]);
    println!(
        "leader pid {}, follower pid {}",
        leader.pid(),
        follower.pid()
    );
    call(
        &client,
        "PUT",
        &format!("{}/_cluster/settings", follower.url),
        Some(json!({"persistent": {"cluster": {"remote": {ALIAS: {
            "seeds": [format!("127.0.0.1:{}", leader.transport_port)]}}}}})),
    );
    let bench = Bench {
        client,
        mapping,
        leader,
        follower,
    };
    let cpu_docs = 100_000.min(args.backlog_docs);
    if args.cpu_only {
        let (alone, followed) = bench.leader_cpu(cpu_docs);
        print_cpu(alone, followed);
        return;
    }
    let documents: Vec<LogDocument> = log_documents(7, 0, args.backlog_docs);
    println!("engine baseline on {} documents...", documents.len());
    let own_cpu = process_cpu(std::process::id());
    let engine = engine_rate_observed(&documents, &bench.mapping, || {
        print_thread_cpu("engine in process:", std::process::id(), &own_cpu)
    });
    println!("engine in process: {engine:.0} ops/s");
    let (leader_rate, catch_up, serving_per_op) = bench.catch_up(&documents);
    if args.catch_up_only {
        println!(
            "catch-up: engine {engine:.0} ops/s, follower {catch_up:.0} ops/s, {:.2}×",
            catch_up / engine
        );
        return;
    }
    drop(documents);
    let lags = bench.lag(leader_rate / 2.0, args.probes);
    let (bytes, copy_rate, bootstrap_rate) = bench.bootstrap();
    let (alone, followed) = bench.leader_cpu(cpu_docs);

    println!();
    println!("| measure | baseline | replication | ratio / target |");
    println!("|---|---|---|---|");
    println!(
        "| catch-up of {} ops | engine {:.0} ops/s | follower {:.0} ops/s | {:.2}× (≥ 0.8) |",
        args.backlog_docs,
        engine,
        catch_up,
        catch_up / engine
    );
    println!(
        "| lag, leader at {:.0} docs/s (half of {:.0}) | — | p50 {:.1} ms, p99 {:.1} ms | p99 < 50 ms |",
        leader_rate / 2.0,
        leader_rate,
        lags.p50.as_secs_f64() * 1000.0,
        lags.p99.as_secs_f64() * 1000.0
    );
    println!(
        "| bootstrap of {:.0} MB | plain copy {:.0} MB/s | {:.0} MB/s | {:.2}× (≥ 100 MB/s) |",
        bytes as f64 / 1e6,
        copy_rate / 1e6,
        bootstrap_rate / 1e6,
        bootstrap_rate / copy_rate
    );
    print_cpu(alone, followed);
    println!(
        "| leader CPU serving the catch-up, per op | {:.1} µs alone (above) | +{:.2} µs | {:.2}× (cross-check) |",
        alone * 1e6,
        serving_per_op * 1e6,
        (alone + serving_per_op) / alone
    );
}

fn print_cpu(alone: f64, followed: f64) {
    println!(
        "| leader CPU per op | {:.1} µs alone | {:.1} µs followed | {:.2}× (≤ 1.1) |",
        alone * 1e6,
        followed * 1e6,
        followed / alone
    );
}

struct Lags {
    p50: Duration,
    p99: Duration,
}

struct Bench {
    client: Client,
    mapping: Value,
    leader: Node,
    follower: Node,
}

impl Bench {
    /// Loads `documents` into a paused follower's leader, resumes it, and returns the leader's
    /// `_bulk` rate and the follower's catch-up rate (ops/s).
    fn catch_up(&self, documents: &[LogDocument]) -> (f64, f64, f64) {
        let (client, leader, follower) = (&self.client, &self.leader, &self.follower);
        create_index(client, &leader.url, "backlog", self.mapping.clone());
        call(
            client,
            "PUT",
            &format!("{}/backlog/_settings", leader.url),
            Some(json!({"index.plugins.replication.translog.retention_size": "8gb"})),
        );
        follow(client, follower, "backlog", "backlog");
        wait_for_checkpoint(client, follower, "backlog", -1);
        call(
            client,
            "POST",
            &format!("{}/_plugins/_replication/backlog/_pause", follower.url),
            Some(json!({})),
        );
        println!("loading the backlog through the leader's _bulk...");
        let leader_rate = rest_bulk(client, &leader.url, "backlog", documents);
        call(
            client,
            "POST",
            &format!("{}/backlog/_flush", leader.url),
            None,
        );
        wait_idle(leader);
        // A fresh index given distinct ids: seq-nos 0..n-1.
        let target = documents.len() as i64 - 1;
        let leader_threads = process_cpu(leader.pid());
        let follower_threads = process_cpu(follower.pid());
        let resumed = Instant::now();
        call(
            client,
            "POST",
            &format!("{}/_plugins/_replication/backlog/_resume", follower.url),
            Some(json!({})),
        );
        let caught_up = wait_for_checkpoint(client, follower, "backlog", target);
        let serving = cpu_seconds(leader) - leader_threads.0;
        print_thread_cpu("catch-up: leader", leader.pid(), &leader_threads);
        print_thread_cpu("catch-up: follower", follower.pid(), &follower_threads);
        let catch_up = (target + 1) as f64 / caught_up.duration_since(resumed).as_secs_f64();
        (leader_rate, catch_up, serving / (target + 1) as f64)
    }

    /// Probes the write-to-follower-GET delay while the leader ingests at `rate` docs/s.
    fn lag(&self, rate: f64, probes: usize) -> Lags {
        let (client, leader, follower) = (&self.client, &self.leader, &self.follower);
        create_index(client, &leader.url, "live", self.mapping.clone());
        follow(client, follower, "live", "live");
        wait_for_checkpoint(client, follower, "live", -1);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (stop, url, client) = (stop.clone(), leader.url.clone(), client.clone());
            let load: Vec<LogDocument> = log_documents(11, 10_000_000, 2_000_000);
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut sent = 0usize;
                for bulk in load.chunks(500) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let due = started + Duration::from_secs_f64(sent as f64 / rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    send_bulk(&client, &url, "live", bulk);
                    sent += bulk.len();
                }
            })
        };
        let mut lags = Vec::with_capacity(probes);
        for probe in 0..probes {
            let id = format!("probe-{probe}");
            call(
                client,
                "PUT",
                &format!("{}/live/_doc/{id}", leader.url),
                Some(json!({"probe": id})),
            );
            let written = Instant::now();
            let url = format!("{}/live/_doc/{id}", follower.url);
            loop {
                let response = client.get(&url).send().expect("get");
                if response.status().is_success() {
                    break;
                }
                assert!(
                    written.elapsed() < Duration::from_secs(60),
                    "probe {id} never arrived"
                );
                // Polling flat out would take a core from the two nodes being measured.
                std::thread::sleep(PROBE_POLL);
            }
            let lag = written.elapsed();
            if lag > SLOW_PROBE {
                println!("probe {id}: {:.1} ms", lag.as_secs_f64() * 1000.0);
            }
            lags.push(lag);
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer");
        println!(
            "lag p90 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            percentile(&mut lags, 0.90).as_secs_f64() * 1000.0,
            percentile(&mut lags, 0.95).as_secs_f64() * 1000.0,
            percentile(&mut lags, 1.0).as_secs_f64() * 1000.0
        );
        Lags {
            p50: percentile(&mut lags, 0.5),
            p99: percentile(&mut lags, 0.99),
        }
    }

    /// Bootstraps a follower of the backlog index; returns its committed bytes, a plain copy's
    /// rate and the bootstrap's rate (bytes/s).
    fn bootstrap(&self) -> (u64, f64, f64) {
        let (client, leader, follower) = (&self.client, &self.leader, &self.follower);
        call(
            client,
            "POST",
            &format!("{}/backlog/_flush", leader.url),
            None,
        );
        let settings = call(
            client,
            "GET",
            &format!("{}/backlog/_settings", leader.url),
            None,
        );
        let uuid = settings["backlog"]["settings"]["index"]["uuid"]
            .as_str()
            .expect("index uuid")
            .to_string();
        let leader_dir = leader
            .data_dir()
            .join("indices")
            .join(uuid)
            .join("0")
            .join("index");
        let bytes = dir_bytes(&leader_dir);
        let copy_target = tempfile::tempdir().expect("copy dir");
        let copy_started = Instant::now();
        copy_dir(&leader_dir, &copy_target.path().join("copy"));
        let copy_rate = bytes as f64 / copy_started.elapsed().as_secs_f64();
        drop(copy_target);
        let started = Instant::now();
        follow(client, follower, "bootstrap", "backlog");
        let deadline = Instant::now() + CONVERGE_TIMEOUT;
        loop {
            let body = status(client, follower, "bootstrap");
            if body["status"] == "SYNCING" {
                break;
            }
            assert!(Instant::now() < deadline, "bootstrap stuck: {body}");
            std::thread::sleep(Duration::from_millis(10));
        }
        (
            bytes,
            copy_rate,
            bytes as f64 / started.elapsed().as_secs_f64(),
        )
    }

    /// The leader's CPU seconds per indexed operation into an index nobody follows and into one
    /// a follower follows. Rounds go alone-followed, then followed-alone (ABBA), so a drift of
    /// the machine's speed cancels out, and each ingest starts from an idle leader (so one
    /// round's merges are not billed to the next).
    fn leader_cpu(&self, docs_per_round: usize) -> (f64, f64) {
        let (mut alone, mut followed, mut ops) = (0.0, 0.0, 0usize);
        for round in 0..CPU_ROUNDS {
            let first_id = 20_000_000 + (round * docs_per_round) as u64;
            let docs: Vec<LogDocument> = log_documents(13 + round as u64, first_id, docs_per_round);
            let followed_first = round % 2 == 1;
            for with_follower in [followed_first, !followed_first] {
                let spent = self.leader_ingest_cpu(round, &docs, with_follower);
                if with_follower {
                    followed += spent;
                } else {
                    alone += spent;
                }
            }
            ops += docs.len();
        }
        (alone / ops as f64, followed / ops as f64)
    }

    /// The leader's CPU seconds to ingest `docs` into a new index, followed or not, from
    /// an idle leader until it is idle again (and the follower has everything).
    fn leader_ingest_cpu(&self, round: usize, docs: &[LogDocument], with_follower: bool) -> f64 {
        let (client, leader, follower) = (&self.client, &self.leader, &self.follower);
        let kind = if with_follower { "followed" } else { "alone" };
        let index = format!("{kind}-{round}");
        create_index(client, &leader.url, &index, self.mapping.clone());
        if with_follower {
            follow(client, follower, &index, &index);
            wait_for_checkpoint(client, follower, &index, -1);
        }
        wait_idle(leader);
        let threads = process_cpu(leader.pid());
        rest_bulk(client, &leader.url, &index, docs);
        if with_follower {
            wait_for_checkpoint(client, follower, &index, docs.len() as i64 - 1);
        }
        wait_idle(leader);
        let spent = cpu_seconds(leader) - threads.0;
        print_thread_cpu(
            &format!("leader, round {round} {kind}:"),
            leader.pid(),
            &threads,
        );
        spent
    }
}

/// Waits until `node` uses under [`IDLE_CPU_FRACTION`] of a core over [`IDLE_WINDOW`] (its
/// merges and flushes done), or [`IDLE_TIMEOUT`].
fn wait_idle(node: &Node) {
    let deadline = Instant::now() + IDLE_TIMEOUT;
    loop {
        let before = cpu_seconds(node);
        std::thread::sleep(IDLE_WINDOW);
        let used = cpu_seconds(node) - before;
        if used < IDLE_WINDOW.as_secs_f64() * IDLE_CPU_FRACTION || Instant::now() > deadline {
            return;
        }
    }
}

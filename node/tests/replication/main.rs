//! Cross-cluster replication between two real `tandem` processes on 127.0.0.1: the seed's
//! getting-started walkthrough, the error cases, multi-shard indices with mappings added
//! mid-stream, pause/resume with writes in between, and restarts of either side. After every
//! scenario a checker compares leader and follower document by document (`_seq_no`,
//! `_version`, `_source`).

#[allow(dead_code)]
#[path = "../real_node/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{temp, TestNode};

/// How long replication may take to show a change on the follower.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(60);
const ALIAS: &str = "my-connection-alias";

fn leader(data: &Path, transport_port: Option<u16>) -> TestNode {
    let mut settings = vec!["cluster.name=leader-cluster".to_string()];
    if let Some(port) = transport_port {
        settings.push(format!("transport.port={port}"));
    }
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    TestNode::start(data, &settings)
}

fn follower(data: &Path) -> TestNode {
    TestNode::start(data, &["cluster.name=follower-cluster"])
}

fn connect(follower: &TestNode, leader: &TestNode) {
    connect_to(follower, &format!("127.0.0.1:{}", leader.transport_port));
}

/// Points the follower's remote alias at `seed`.
fn connect_to(follower: &TestNode, seed: &str) {
    let body = json!({"persistent": {"cluster": {"remote": {ALIAS: {"seeds": [seed]}}}}});
    let (status, answer) = follower.call("PUT", "/_cluster/settings", Some(body));
    assert_eq!(status, 200, "{answer}");
}

/// A chaos proxy in front of the leader's transport port, with the same faults both ways;
/// the runtime drives it and must outlive it.
fn chaos_proxy(
    leader: &TestNode,
    faults: tandem_tools::chaos::FaultConfig,
    seed: u64,
) -> (tokio::runtime::Runtime, tandem_tools::chaos::ChaosProxy) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let proxy = runtime
        .block_on(tandem_tools::chaos::ChaosProxy::start(
            tandem_tools::chaos::ProxyConfig {
                listen: "127.0.0.1:0".parse().expect("address"),
                upstream: format!("127.0.0.1:{}", leader.transport_port)
                    .parse()
                    .expect("address"),
                to_upstream: faults,
                to_client: faults,
                seed,
            },
        ))
        .expect("chaos proxy");
    (runtime, proxy)
}

fn start(follower: &TestNode, follower_index: &str, leader_index: &str) -> (u16, Value) {
    follower.call(
        "PUT",
        &format!("/_plugins/_replication/{follower_index}/_start"),
        Some(json!({"leader_alias": ALIAS, "leader_index": leader_index,
            "use_roles": {"leader_cluster_role": "all_access", "follower_cluster_role": "all_access"}})),
    )
}

fn post(node: &TestNode, path: &str) -> (u16, Value) {
    node.call("POST", path, Some(json!({})))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn replication_status(node: &TestNode, index: &str) -> Value {
    node.call(
        "GET",
        &format!("/_plugins/_replication/{index}/_status"),
        None,
    )
    .1
}

/// Every document of `index` on `node`: id → (`_seq_no`, `_version`, `_source`); `None`
/// while the index cannot be searched (a follower index still copying its shards).
fn documents(node: &TestNode, index: &str) -> Option<BTreeMap<String, (i64, i64, Value)>> {
    let (status, _) = post(node, &format!("/{index}/_refresh"));
    if status == 503 || status == 404 {
        return None;
    }
    assert_eq!(status, 200);
    let (status, body) = node.call(
        "POST",
        &format!("/{index}/_search"),
        Some(
            json!({"size": 10000, "seq_no_primary_term": true, "version": true,
            "query": {"match_all": {}}}),
        ),
    );
    if status == 503 {
        return None;
    }
    assert_eq!(status, 200, "{body}");
    let documents = body["hits"]["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| {
            (
                hit["_id"].as_str().expect("id").to_string(),
                (
                    hit["_seq_no"].as_i64().expect("seq_no"),
                    hit["_version"].as_i64().expect("version"),
                    hit["_source"].clone(),
                ),
            )
        })
        .collect();
    Some(documents)
}

/// Waits until the follower holds exactly the leader's documents, with the same seq-nos,
/// versions and sources.
fn assert_converges(leader: &TestNode, leader_index: &str, follower: &TestNode, index: &str) {
    let expected = documents(leader, leader_index).expect("the leader index serves");
    let mut last = BTreeMap::new();
    let deadline = Instant::now() + CONVERGE_TIMEOUT;
    while Instant::now() < deadline {
        last = documents(follower, index).unwrap_or_default();
        if last == expected {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let missing: Vec<&String> = expected
        .keys()
        .filter(|id| last.get(*id) != expected.get(*id))
        .take(5)
        .collect();
    panic!(
        "follower {index} did not converge: {} documents vs {} on the leader; differing ids {missing:?}",
        last.len(),
        expected.len()
    );
}

fn index_doc(node: &TestNode, index: &str, id: &str, body: Value) {
    let (status, answer) = node.call("PUT", &format!("/{index}/_doc/{id}"), Some(body));
    assert!(status == 200 || status == 201, "{answer}");
}

/// A leader with `leader-01` holding one document, and a follower following it as `f`, caught
/// up. The temp folders live as long as the first value.
fn following_pair() -> ((tempfile::TempDir, tempfile::TempDir), TestNode, TestNode) {
    let (leader_dir, leader_data) = temp();
    let (follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let follower = follower(&follower_data);
    connect(&follower, &leader);
    let (status, _) = leader.call("PUT", "/leader-01", None);
    assert_eq!(status, 200);
    index_doc(&leader, "leader-01", "1", json!({"a": 1}));
    let (status, answer) = start(&follower, "f", "leader-01");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leader-01", &follower, "f");
    ((leader_dir, follower_dir), leader, follower)
}

#[test]
fn the_getting_started_walkthrough_works_between_two_nodes() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let follower = follower(&follower_data);
    connect(&follower, &leader);
    let (status, answer) = leader.call("PUT", "/leader-01", None);
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = start(&follower, "follower-01", "leader-01");
    assert_eq!((status, answer), (200, json!({"acknowledged": true})));
    wait_until("SYNCING", || {
        replication_status(&follower, "follower-01")["status"] == "SYNCING"
    });
    let body = replication_status(&follower, "follower-01");
    assert_eq!(body["reason"], "User initiated");
    assert_eq!(body["leader_alias"], ALIAS);
    assert_eq!(body["leader_index"], "leader-01");
    assert_eq!(body["follower_index"], "follower-01");

    index_doc(
        &leader,
        "leader-01",
        "1",
        json!({"The Shining": "Stephen King"}),
    );
    wait_until("the document on the follower", || {
        let (_, body) = follower.call("GET", "/follower-01/_search", None);
        body["hits"]["total"]["value"] == 1
    });
    let (_, hit) = follower.call("GET", "/follower-01/_search", None);
    assert_eq!(
        hit["hits"]["hits"][0]["_source"],
        json!({"The Shining": "Stephen King"})
    );

    // Writes, mapping and deletion are refused on the follower.
    let blocked = "index [follower-01] blocked by: [FORBIDDEN/1000/index read-only(cross-cluster-replication)];";
    let (status, answer) = follower.call("PUT", "/follower-01/_doc/2", Some(json!({"a": 1})));
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["type"], "cluster_block_exception");
    assert_eq!(answer["error"]["reason"], blocked);
    let (status, _) = follower.call("DELETE", "/follower-01", None);
    assert_eq!(status, 403);
    let (status, _) = follower.call(
        "PUT",
        "/follower-01/_mapping",
        Some(json!({"properties": {"x": {"type": "keyword"}}})),
    );
    assert_eq!(status, 403);
    let (status, answer) = follower.raw(
        "POST",
        "/_bulk",
        "application/x-ndjson",
        b"{\"index\":{\"_index\":\"follower-01\",\"_id\":\"9\"}}\n{\"a\":1}\n".to_vec(),
    );
    assert_eq!(status, 200);
    assert_eq!(answer["items"][0]["index"]["status"], 403);

    // Pause, writes in between (updates and deletes of the same ids), resume.
    let (status, answer) = post(&follower, "/_plugins/_replication/follower-01/_pause");
    assert_eq!((status, answer), (200, json!({"acknowledged": true})));
    assert_eq!(status_of(&follower, "follower-01"), "PAUSED");
    for round in 0..3 {
        for id in 0..20 {
            index_doc(
                &leader,
                "leader-01",
                &format!("d{id}"),
                json!({"round": round, "title": format!("book {id}")}),
            );
        }
    }
    for id in 0..5 {
        let (status, _) = leader.call("DELETE", &format!("/leader-01/_doc/d{id}"), None);
        assert_eq!(status, 200);
    }
    let (status, answer) = post(&follower, "/_plugins/_replication/follower-01/_resume");
    assert_eq!((status, answer), (200, json!({"acknowledged": true})));
    assert_converges(&leader, "leader-01", &follower, "follower-01");

    // A new field mid-stream arrives with its mapping.
    index_doc(
        &leader,
        "leader-01",
        "late",
        json!({"published": "2024-05-01", "pages": 447}),
    );
    assert_converges(&leader, "leader-01", &follower, "follower-01");
    let (_, mapping) = follower.call("GET", "/follower-01/_mapping", None);
    assert_eq!(
        mapping["follower-01"]["mappings"]["properties"]["pages"]["type"],
        "long"
    );

    // Stop: the index becomes writable, and the name can be followed again once deleted.
    let (status, answer) = post(&follower, "/_plugins/_replication/follower-01/_stop");
    assert_eq!((status, answer), (200, json!({"acknowledged": true})));
    assert_eq!(
        replication_status(&follower, "follower-01"),
        json!({"status": "REPLICATION NOT IN PROGRESS"})
    );
    let (status, answer) = follower.call("PUT", "/follower-01/_doc/2", Some(json!({"a": 1})));
    assert_eq!(status, 201, "{answer}");
    let (status, _) = follower.call("DELETE", "/follower-01", None);
    assert_eq!(status, 200);
    let (status, answer) = start(&follower, "follower-01", "leader-01");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leader-01", &follower, "follower-01");
    follower.stop();
    leader.stop();
}

fn status_of(node: &TestNode, index: &str) -> String {
    replication_status(node, index)["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn error_cases_answer_as_opensearch_does() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let follower = follower(&follower_data);

    let (status, answer) = start(&follower, "f", "leader-01");
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["type"], "no_such_remote_cluster_exception");

    connect(&follower, &leader);
    let (status, answer) = start(&follower, "f", "missing");
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["type"], "index_not_found_exception");

    let (status, _) = leader.call("PUT", "/leader-01", None);
    assert_eq!(status, 200);
    let (status, _) = follower.call("PUT", "/taken", None);
    assert_eq!(status, 200);
    let (status, answer) = start(&follower, "taken", "leader-01");
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Cant use same index again for replication. Delete the index:taken"
    );

    let (status, answer) = follower.call(
        "PUT",
        "/_plugins/_replication/f/_start",
        Some(json!({"leader_alias": ALIAS})),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["type"],
        "action_request_validation_exception"
    );

    let (status, answer) = follower.raw(
        "PUT",
        "/_plugins/_replication/f/_start",
        "application/json",
        b"{not json".to_vec(),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["type"], "json_parse_exception");
    let (status, answer) = follower.call(
        "PUT",
        "/_plugins/_replication/f/_start",
        Some(json!({"leader_alias": ALIAS, "leader_index": "leader-01", "bogus": 1})),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["type"], "x_content_parse_exception");
    let (status, answer) = follower.call(
        "POST",
        "/_plugins/_replication/_autofollow",
        Some(json!({"leader_alias": ALIAS, "name": "rule"})),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Validation Failed: 1: Missing pattern;"
    );
    let rule = json!({"leader_alias": ALIAS, "name": "rule", "pattern": "nothing-*"});
    let (status, answer) = follower.call(
        "POST",
        "/_plugins/_replication/_autofollow",
        Some(rule.clone()),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = follower.call("POST", "/_plugins/_replication/_autofollow", Some(rule));
    assert_eq!(status, 500, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Exisiting autofollow replication rule cannot be recreated/updated"
    );
    // None of the refused requests created anything.
    assert_eq!(follower.call("GET", "/f", None).0, 404);

    for action in ["_pause", "_resume", "_stop"] {
        let (status, answer) = post(&follower, &format!("/_plugins/_replication/none/{action}"));
        assert_eq!(status, 400, "{action}: {answer}");
        assert_eq!(
            answer["error"]["reason"],
            "No replication in progress for index:none"
        );
    }

    // No chaining: a follower index cannot be followed.
    let (status, answer) = start(&follower, "f", "leader-01");
    assert_eq!(status, 200, "{answer}");
    wait_until("SYNCING", || status_of(&follower, "f") == "SYNCING");
    let body = json!({"persistent": {"cluster": {"remote": {"follower-side": {
        "seeds": [format!("127.0.0.1:{}", follower.transport_port)]}}}}});
    let (status, _) = leader.call("PUT", "/_cluster/settings", Some(body));
    assert_eq!(status, 200);
    let (status, answer) = leader.call(
        "PUT",
        "/_plugins/_replication/chained/_start",
        Some(json!({"leader_alias": "follower-side", "leader_index": "f"})),
    );
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Cannot Replicate a Replicated Index f"
    );

    let (status, answer) = post(&follower, "/_plugins/_replication/f/_pause");
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(&follower, "/_plugins/_replication/f/_pause");
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["reason"], "Index f is already paused");
    let (status, answer) = post(&follower, "/_plugins/_replication/f/_resume");
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(&follower, "/_plugins/_replication/f/_resume");
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Replication on Index f is already running"
    );
    follower.stop();
    leader.stop();
}

#[test]
fn five_shards_follow_through_restarts_of_either_side() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader_transport = support::free_udp_port();
    let mut leader_node = leader(&leader_data, Some(leader_transport));
    let mut follower_node = follower(&follower_data);
    connect(&follower_node, &leader_node);
    let (status, _) = leader_node.call(
        "PUT",
        "/books",
        Some(json!({"settings": {"number_of_shards": 5}})),
    );
    assert_eq!(status, 200);
    let bulk = |node: &TestNode, from: usize, to: usize| {
        let mut body = String::new();
        for id in from..to {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"books\",\"_id\":\"b{id}\"}}}}\n{{\"title\":\"book {id}\",\"n\":{id}}}\n"
            ));
        }
        let (status, answer) =
            node.raw("POST", "/_bulk", "application/x-ndjson", body.into_bytes());
        assert_eq!(status, 200);
        assert_eq!(answer["errors"], false, "{answer}");
    };
    bulk(&leader_node, 0, 500);
    let (status, answer) = start(&follower_node, "books-copy", "books");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader_node, "books", &follower_node, "books-copy");

    // Follower restart mid-stream.
    bulk(&leader_node, 500, 800);
    follower_node.stop();
    bulk(&leader_node, 800, 1000);
    follower_node = follower(&follower_data);
    assert_converges(&leader_node, "books", &follower_node, "books-copy");
    assert_eq!(status_of(&follower_node, "books-copy"), "SYNCING");

    // Leader restart: the follower reconnects on its own.
    leader_node.stop();
    leader_node = leader(&leader_data, Some(leader_transport));
    bulk(&leader_node, 1000, 1200);
    index_doc(
        &leader_node,
        "books",
        "b3",
        json!({"title": "rewritten", "n": 3}),
    );
    assert_converges(&leader_node, "books", &follower_node, "books-copy");
    let (_, stats) = follower_node.call("GET", "/_plugins/_replication/follower_stats", None);
    assert_eq!(stats["num_syncing_indices"], 1, "{stats}");
    assert_eq!(stats["num_shard_tasks"], 5, "{stats}");
    follower_node.stop();
    leader_node.stop();
}

#[test]
fn a_follower_paused_past_its_lease_period_cannot_resume() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let follower = follower(&follower_data);
    connect(&follower, &leader);
    let (status, answer) = leader.call(
        "PUT",
        "/leader-01",
        Some(json!({"settings": {"index.soft_deletes.retention_lease.period": "3s"}})),
    );
    assert_eq!(status, 200, "{answer}");
    index_doc(&leader, "leader-01", "1", json!({"a": 1}));
    let (status, answer) = start(&follower, "f", "leader-01");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leader-01", &follower, "f");
    // Running for longer than the period: renewals keep the lease.
    std::thread::sleep(Duration::from_secs(4));
    index_doc(&leader, "leader-01", "2", json!({"a": 2}));
    assert_converges(&leader, "leader-01", &follower, "f");
    let (status, _) = post(&follower, "/_plugins/_replication/f/_pause");
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_secs(6));
    let (status, answer) = post(&follower, "/_plugins/_replication/f/_resume");
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Retention lease doesn't exist. Replication can't be resumed for f. Use force_resume=true to restore from snapshot."
    );
    follower.stop();
    leader.stop();
}

#[test]
fn follower_cluster_mode_follows_every_leader_index() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let (status, _) = leader.call("PUT", "/logs-1", None);
    assert_eq!(status, 200);
    let (status, _) = leader.call("PUT", "/.internal", None);
    assert_eq!(status, 200);
    index_doc(&leader, "logs-1", "1", json!({"msg": "one"}));
    let seed = format!(
        "cluster.remote.{ALIAS}.seeds=127.0.0.1:{}",
        leader.transport_port
    );
    let follow_all = format!("plugins.replication.follow_all.leader_alias={ALIAS}");
    let follower = TestNode::start(
        &follower_data,
        &[
            "cluster.name=follower-cluster",
            &seed,
            &follow_all,
            "plugins.replication.autofollow.fetch_poll_interval=1s",
        ],
    );
    assert_converges(&leader, "logs-1", &follower, "logs-1");
    // An index created later is followed too; dot-prefixed ones are not.
    let (status, _) = leader.call("PUT", "/logs-2", None);
    assert_eq!(status, 200);
    index_doc(&leader, "logs-2", "1", json!({"msg": "two"}));
    assert_converges(&leader, "logs-2", &follower, "logs-2");
    let (status, _) = follower.call("GET", "/.internal", None);
    assert_eq!(status, 404);
    wait_until("following", || {
        let (_, root) = follower.call("GET", "/", None);
        root["replication"] == json!({"role": "follower", "state": "following"})
    });
    let (_, root) = leader.call("GET", "/", None);
    assert_eq!(root["replication"], json!({"role": "leader"}));
    // Local writable indices stay allowed on a follower-cluster node.
    index_doc(&follower, "local", "1", json!({"x": 1}));
    follower.stop();
    leader.stop();
}

#[test]
fn metadata_follows_without_documents_and_a_deleted_leader_pauses_the_follower() {
    let (_dirs, leader, follower) = following_pair();

    // An alias, a mapping and a setting change on the leader, no document: all arrive.
    let (status, _) = leader.call("PUT", "/leader-01/_alias/books", None);
    assert_eq!(status, 200);
    let (status, _) = leader.call(
        "PUT",
        "/leader-01/_mapping",
        Some(json!({"properties": {"isbn": {"type": "keyword"}}})),
    );
    assert_eq!(status, 200);
    let (status, _) = leader.call(
        "PUT",
        "/leader-01/_settings",
        Some(json!({"index": {"refresh_interval": "7s", "blocks.write": true}})),
    );
    assert_eq!(status, 200);
    wait_until("metadata on the follower", || {
        let (_, aliases) = follower.call("GET", "/f/_alias", None);
        let (_, mapping) = follower.call("GET", "/f/_mapping", None);
        let (_, settings) = follower.call("GET", "/f/_settings", None);
        aliases["f"]["aliases"].get("books").is_some()
            && mapping["f"]["mappings"]["properties"]["isbn"]["type"] == "keyword"
            && settings["f"]["settings"]["index"]["refresh_interval"] == "7s"
    });
    // The leader's write block is not copied (the spec's blocklist).
    let (_, settings) = follower.call("GET", "/f/_settings", None);
    assert!(
        settings["f"]["settings"]["index"].get("blocks").is_none(),
        "{settings}"
    );

    // Deleting the leader index pauses the follower with a reason; nothing is skipped.
    let (status, _) = leader.call(
        "PUT",
        "/leader-01/_settings",
        Some(json!({"index": {"blocks.write": false}})),
    );
    assert_eq!(status, 200);
    let (status, _) = leader.call("DELETE", "/leader-01", None);
    assert_eq!(status, 200);
    wait_until("auto-pause", || status_of(&follower, "f") == "PAUSED");
    let body = replication_status(&follower, "f");
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("AutoPaused: "), "{body}");
    let (_, hits) = follower.call("GET", "/f/_count", None);
    assert_eq!(hits["count"], 1, "{hits}");
    follower.stop();
    leader.stop();
}

#[test]
fn a_follower_cluster_node_leads_no_one() {
    let (_leader_dir, leader_data) = temp();
    let (_middle_dir, middle_data) = temp();
    let (_last_dir, last_data) = temp();
    let leader = leader(&leader_data, None);
    let (status, _) = leader.call("PUT", "/logs", None);
    assert_eq!(status, 200);
    let seed = format!(
        "cluster.remote.{ALIAS}.seeds=127.0.0.1:{}",
        leader.transport_port
    );
    let follow_all = format!("plugins.replication.follow_all.leader_alias={ALIAS}");
    let middle = TestNode::start(&middle_data, &[&seed, &follow_all]);
    let (status, _) = middle.call("PUT", "/local", None);
    assert_eq!(status, 200);
    let last = follower(&last_data);
    connect(&last, &middle);
    let (status, answer) = start(&last, "copy", "local");
    assert!(status >= 400, "{answer}");
    let reason = answer["error"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("follows another cluster"), "{answer}");
    last.stop();
    middle.stop();
    leader.stop();
}

/// Index, update and delete writes on `index` from a background thread until `stop` is set;
/// returns how many bulks were acknowledged.
fn churn(
    url: String,
    index: &'static str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let mut round = 0usize;
        let mut acknowledged = 0usize;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let mut body = String::new();
            for id in 0..50 {
                let id = (round * 7 + id) % 300;
                if id % 11 == 0 {
                    body.push_str(&format!(
                        "{{\"delete\":{{\"_index\":\"{index}\",\"_id\":\"c{id}\"}}}}\n"
                    ));
                } else {
                    body.push_str(&format!(
                        "{{\"index\":{{\"_index\":\"{index}\",\"_id\":\"c{id}\"}}}}\n{{\"round\":{round},\"id\":{id}}}\n"
                    ));
                }
            }
            let sent = client
                .post(format!("{url}/_bulk"))
                .header("content-type", "application/x-ndjson")
                .body(body)
                .send();
            if sent.is_ok_and(|response| response.status().is_success()) {
                acknowledged += 1;
            }
            round += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        acknowledged
    })
}

#[test]
fn a_lossy_slow_link_and_a_killed_follower_lose_and_duplicate_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tandem_tools::chaos::FaultConfig;

    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let faults = FaultConfig {
        delay_ms: 15,
        jitter_ms: 10,
        loss: 0.05,
        duplicate: 0.02,
    };
    let (runtime, proxy) = chaos_proxy(&leader, faults, 20261124);
    let mut follower_node = follower(&follower_data);
    connect_to(&follower_node, &proxy.local_addr().to_string());
    let (status, _) = leader.call(
        "PUT",
        "/churn",
        Some(json!({"settings": {"number_of_shards": 2}})),
    );
    assert_eq!(status, 200);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = churn(leader.url().to_string(), "churn", stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    let (status, answer) = start(&follower_node, "churn-copy", "churn");
    assert_eq!(status, 200, "{answer}");
    wait_until("SYNCING", || {
        status_of(&follower_node, "churn-copy") == "SYNCING"
    });
    std::thread::sleep(Duration::from_millis(1500));
    // kill -9 in the middle of the stream, then start again on the same data.
    drop(follower_node);
    std::thread::sleep(Duration::from_millis(1000));
    follower_node = follower(&follower_data);
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let acknowledged = writer.join().expect("writer");
    assert!(acknowledged > 10, "only {acknowledged} bulks went through");
    assert_converges(&leader, "churn", &follower_node, "churn-copy");
    let stats = proxy.stats();
    assert!(stats.dropped > 0, "the link dropped nothing: {stats:?}");
    runtime.block_on(proxy.stop());
    follower_node.stop();
    leader.stop();
}

#[test]
fn a_leader_killed_mid_stream_is_followed_again_after_restart() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader_transport = support::free_udp_port();
    let leader_node = leader(&leader_data, Some(leader_transport));
    let follower_node = follower(&follower_data);
    connect(&follower_node, &leader_node);
    let (status, _) = leader_node.call("PUT", "/churn", None);
    assert_eq!(status, 200);
    let (status, answer) = start(&follower_node, "churn-copy", "churn");
    assert_eq!(status, 200, "{answer}");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = churn(leader_node.url().to_string(), "churn", stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    let (_, before) = follower_node.call("GET", "/_plugins/_replication/follower_stats", None);
    drop(leader_node); // kill -9 while bulks are in flight
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let leader_node = leader(&leader_data, Some(leader_transport));
    assert_converges(&leader_node, "churn", &follower_node, "churn-copy");
    let (_, after) = follower_node.call("GET", "/_plugins/_replication/follower_stats", None);
    assert!(
        after["operations_written"].as_u64() >= before["operations_written"].as_u64(),
        "{before} {after}"
    );
    follower_node.stop();
    leader_node.stop();
}

#[test]
fn a_bootstrap_survives_pause_resume_and_a_killed_follower() {
    use tandem_tools::chaos::FaultConfig;

    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = leader(&leader_data, None);
    let (status, _) = leader.call(
        "PUT",
        "/big",
        Some(json!({"settings": {"number_of_shards": 2}})),
    );
    assert_eq!(status, 200);
    let padding = "lorem ipsum dolor sit amet ".repeat(300);
    for batch in 0..4 {
        let mut body = String::new();
        for id in 0..400 {
            body.push_str(&format!(
                "{{\"index\":{{\"_index\":\"big\",\"_id\":\"{batch}-{id}\"}}}}\n{{\"text\":\"{padding} {batch} {id}\"}}\n"
            ));
        }
        let (status, answer) =
            leader.raw("POST", "/_bulk", "application/x-ndjson", body.into_bytes());
        assert_eq!(status, 200);
        assert_eq!(answer["errors"], false);
    }
    let (status, _) = post(&leader, "/big/_flush");
    assert_eq!(status, 200);
    // A slow, lossy link so the copy takes a while.
    let faults = FaultConfig {
        delay_ms: 20,
        jitter_ms: 5,
        loss: 0.02,
        duplicate: 0.0,
    };
    let (runtime, proxy) = chaos_proxy(&leader, faults, 7);
    let mut follower_node = follower(&follower_data);
    connect_to(&follower_node, &proxy.local_addr().to_string());
    let (status, answer) = start(&follower_node, "big-copy", "big");
    assert_eq!(status, 200, "{answer}");
    assert!(["BOOTSTRAPPING", "SYNCING"].contains(&status_of(&follower_node, "big-copy").as_str()));
    // Pause during the copy is accepted; resume continues it.
    let (status, answer) = post(&follower_node, "/_plugins/_replication/big-copy/_pause");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(status_of(&follower_node, "big-copy"), "PAUSED");
    let (status, answer) = post(&follower_node, "/_plugins/_replication/big-copy/_resume");
    assert_eq!(status, 200, "{answer}");
    std::thread::sleep(Duration::from_millis(300));
    // kill -9 during the copy (or just after it, on a fast machine), then start again.
    drop(follower_node);
    follower_node = follower(&follower_data);
    index_doc(
        &leader,
        "big",
        "after",
        json!({"text": "written after the kill"}),
    );
    assert_converges(&leader, "big", &follower_node, "big-copy");
    assert_eq!(status_of(&follower_node, "big-copy"), "SYNCING");
    runtime.block_on(proxy.stop());
    follower_node.stop();
    leader.stop();
}

/// A private CA writing PEM files for nodes, as OpenSearch's transport settings expect them.
struct PemCa {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    cert_pem: String,
}

impl PemCa {
    fn new(name: &str) -> PemCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().expect("ca key");
        let cert_pem = params.self_signed(&key).expect("ca cert").pem();
        PemCa {
            params,
            key,
            cert_pem,
        }
    }

    /// Writes `<dir>/<name>.pem`, `<name>-key.pem` and `ca.pem`; returns the node settings.
    fn node_settings(&self, dir: &Path, name: &str, nodes_dn: &str) -> Vec<String> {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("leaf params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "tandem");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("leaf cert");
        std::fs::create_dir_all(dir).expect("pem dir");
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}-key.pem"));
        let ca_path = dir.join("ca.pem");
        std::fs::write(&cert_path, cert.pem()).expect("cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("key");
        std::fs::write(&ca_path, &self.cert_pem).expect("ca");
        vec![
            format!(
                "plugins.security.ssl.transport.pemcert_filepath={}",
                cert_path.display()
            ),
            format!(
                "plugins.security.ssl.transport.pemkey_filepath={}",
                key_path.display()
            ),
            format!(
                "plugins.security.ssl.transport.pemtrustedcas_filepath={}",
                ca_path.display()
            ),
            format!("plugins.security.nodes_dn={nodes_dn}"),
        ]
    }
}

#[test]
fn mutual_tls_admits_nodes_dn_matches_only() {
    let (dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let (_rogue_dir, rogue_data) = temp();
    let ca = PemCa::new("tandem test ca");
    let pems = dir.path().join("pem");
    let allowed = "CN=follower*,O=tandem";
    let mut leader_settings = ca.node_settings(&pems, "leader", allowed);
    leader_settings.push("cluster.name=leader-cluster".into());
    let leader_settings: Vec<&str> = leader_settings.iter().map(String::as_str).collect();
    let leader = TestNode::start(&leader_data, &leader_settings);
    let (status, _) = leader.call("PUT", "/leader-01", None);
    assert_eq!(status, 200);
    index_doc(&leader, "leader-01", "1", json!({"a": 1}));

    let follower_settings = ca.node_settings(&pems, "follower-1", "CN=leader,O=tandem");
    let follower_settings: Vec<&str> = follower_settings.iter().map(String::as_str).collect();
    let follower = TestNode::start(&follower_data, &follower_settings);
    connect(&follower, &leader);
    let (status, answer) = start(&follower, "f", "leader-01");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leader-01", &follower, "f");

    // Same CA, a DN the leader's nodes_dn does not match: refused before any request.
    let rogue_settings = ca.node_settings(&pems, "intruder", "CN=leader,O=tandem");
    let rogue_settings: Vec<&str> = rogue_settings.iter().map(String::as_str).collect();
    let rogue = TestNode::start(&rogue_data, &rogue_settings);
    connect(&rogue, &leader);
    let (status, answer) = start(&rogue, "stolen", "leader-01");
    assert!(status >= 400, "{answer}");
    let (status, _) = rogue.call("GET", "/stolen", None);
    assert_eq!(status, 404);
    rogue.stop();
    follower.stop();
    leader.stop();
}

#[test]
fn a_leader_index_closed_and_reopened_pauses_then_resumes_with_no_gap() {
    let (_dirs, leader, follower) = following_pair();
    // Closing must not wait out the follower's long poll, and reopening must find the shard free.
    let started = Instant::now();
    let (status, answer) = post(&leader, "/leader-01/_close");
    assert_eq!(status, 200, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    wait_until("auto-pause", || status_of(&follower, "f") == "PAUSED");
    let reason = replication_status(&follower, "f")["reason"].clone();
    assert!(
        reason
            .as_str()
            .unwrap_or_default()
            .starts_with("AutoPaused: "),
        "{reason}"
    );
    let (status, answer) = post(&leader, "/leader-01/_open");
    assert_eq!(status, 200, "{answer}");
    index_doc(&leader, "leader-01", "2", json!({"a": 2}));
    let (status, answer) = post(&follower, "/_plugins/_replication/f/_resume");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leader-01", &follower, "f");
    follower.stop();
    leader.stop();
}

/// A transport idle timeout short enough that a test can outlast it.
const SHORT_IDLE_TIMEOUT: &str = "tandem.transport.idle_timeout=2s";

#[test]
fn either_side_paused_past_the_idle_timeout_is_followed_again_when_it_continues() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = TestNode::start(
        &leader_data,
        &["cluster.name=leader-cluster", SHORT_IDLE_TIMEOUT],
    );
    let follower = TestNode::start(
        &follower_data,
        &["cluster.name=follower-cluster", SHORT_IDLE_TIMEOUT],
    );
    connect(&follower, &leader);
    let (status, _) = leader.call("PUT", "/paused", None);
    assert_eq!(status, 200);
    index_doc(&leader, "paused", "before", json!({"n": 0}));
    let (status, answer) = start(&follower, "paused-copy", "paused");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "paused", &follower, "paused-copy");

    // The leader freezes mid long-poll: the follower hears nothing (no refusal, no reset)
    // until its idle timeout closes the connection, then retries until the leader is back.
    leader.signal("STOP");
    std::thread::sleep(Duration::from_secs(5));
    let (_, during) = follower.call("GET", "/_plugins/_replication/paused-copy/_status", None);
    assert_eq!(during["status"], "SYNCING", "{during}");
    leader.signal("CONT");
    index_doc(&leader, "paused", "after-leader-pause", json!({"n": 1}));
    assert_converges(&leader, "paused", &follower, "paused-copy");

    // The follower freezes: the leader's side of the connection idles out; the follower,
    // once continued, finds it closed and reconnects.
    follower.signal("STOP");
    for n in 2..20 {
        index_doc(
            &leader,
            "paused",
            &format!("during-follower-pause-{n}"),
            json!({"n": n}),
        );
    }
    std::thread::sleep(Duration::from_secs(5));
    follower.signal("CONT");
    index_doc(&leader, "paused", "after-follower-pause", json!({"n": 20}));
    assert_converges(&leader, "paused", &follower, "paused-copy");
    assert_eq!(status_of(&follower, "paused-copy"), "SYNCING");
    follower.stop();
    leader.stop();
}

#[test]
fn a_partition_longer_than_the_lease_period_pauses_the_follower_and_skips_nothing() {
    let (_leader_dir, leader_data) = temp();
    let (_follower_dir, follower_data) = temp();
    let leader = TestNode::start(
        &leader_data,
        &["cluster.name=leader-cluster", SHORT_IDLE_TIMEOUT],
    );
    let faults = tandem_tools::chaos::FaultConfig {
        delay_ms: 0,
        jitter_ms: 0,
        loss: 0.0,
        duplicate: 0.0,
    };
    let (runtime, proxy) = chaos_proxy(&leader, faults, 7);
    let follower = TestNode::start(
        &follower_data,
        &["cluster.name=follower-cluster", SHORT_IDLE_TIMEOUT],
    );
    connect_to(&follower, &proxy.local_addr().to_string());
    let (status, answer) = leader.call(
        "PUT",
        "/leased",
        Some(json!({"settings": {"index.soft_deletes.retention_lease.period": "3s"}})),
    );
    assert_eq!(status, 200, "{answer}");
    index_doc(&leader, "leased", "before", json!({"n": 0}));
    let (status, answer) = start(&follower, "leased-copy", "leased");
    assert_eq!(status, 200, "{answer}");
    assert_converges(&leader, "leased", &follower, "leased-copy");

    // Packets are dropped, never refused, for well past the lease period: the leader lets
    // the lease expire while it takes more writes.
    proxy.partition(Duration::from_secs(8));
    for n in 1..10 {
        index_doc(&leader, "leased", &format!("during-{n}"), json!({"n": n}));
    }
    wait_until("an automatic pause naming the lost lease", || {
        let status = replication_status(&follower, "leased-copy");
        status["status"] == "PAUSED"
            && status["reason"]
                .as_str()
                .is_some_and(|reason| reason.starts_with("AutoPaused: "))
    });
    let status = replication_status(&follower, "leased-copy");
    let reason = status["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("retention lease") || reason.contains("operations"),
        "{status}"
    );
    // Whatever the follower holds is exactly what the leader wrote, in the same order: no
    // operation was skipped on the way to the pause.
    let leader_docs = documents(&leader, "leased").expect("leader searchable");
    let follower_docs = documents(&follower, "leased-copy").expect("follower searchable");
    let follower_checkpoint = follower_docs.values().map(|(seq_no, ..)| *seq_no).max();
    for (id, (seq_no, version, source)) in &leader_docs {
        match follower_docs.get(id) {
            Some(copy) => assert_eq!(copy, &(*seq_no, *version, source.clone()), "{id}"),
            None => assert!(
                Some(*seq_no) > follower_checkpoint,
                "{id} (seq_no {seq_no}) skipped below the follower's last op"
            ),
        }
    }
    assert!(follower_docs.keys().all(|id| leader_docs.contains_key(id)));
    let (status, answer) = post(&follower, "/_plugins/_replication/leased-copy/_resume");
    assert_eq!(status, 404, "{answer}");
    assert_eq!(
        answer["error"]["reason"],
        "Retention lease doesn't exist. Replication can't be resumed for leased-copy. Use force_resume=true to restore from snapshot."
    );
    runtime.block_on(proxy.stop());
    follower.stop();
    leader.stop();
}

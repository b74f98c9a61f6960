//! Tests that start the real `tandem` binary on 127.0.0.1 with ephemeral ports and a temp data
//! folder, drive it over HTTP and stop it: start-up rules, error shapes, documents, restarts.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use support::{free_port, read, temp, TestNode, START_TIMEOUT};

#[test]
fn root_answers_like_opensearch_2() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    let (status, body) = node.call("GET", "/", None);
    assert_eq!(status, 200);
    assert_eq!(body["version"]["distribution"], "opensearch");
    assert_eq!(body["version"]["number"], "2.19.0");
    assert_eq!(
        body["tagline"],
        "The OpenSearch Project: https://opensearch.org/"
    );
    assert!(body["cluster_uuid"]
        .as_str()
        .is_some_and(|uuid| uuid.len() == 22));
    let (status, _) = node.call("HEAD", "/", None);
    assert_eq!(status, 200);
    node.stop();
}

#[test]
fn errors_have_opensearch_shapes() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &["http.max_content_length=1kb"]);
    let (status, body) = node.call("GET", "/?foo=bar", None);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "illegal_argument_exception");
    assert_eq!(
        body["error"]["reason"],
        "request [/] contains unrecognized parameter: [foo]"
    );
    let (status, body) = node.raw("PUT", "/idx", "application/json", b"{not json".to_vec());
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "json_parse_exception");
    let (status, body) = node.raw("PUT", "/idx/_doc/1", "application/json", vec![b' '; 2048]);
    assert_eq!(status, 413);
    assert_eq!(body["status"], 413);
    let (status, body) = node.call("GET", "/missing/_doc/1", None);
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "index_not_found_exception");
    assert_eq!(body["error"]["index_uuid"], "_na_");
    let (status, body) = node.call("PUT", "/Upper", None);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_index_name_exception");
    let (status, _) = node.raw("PUT", "/empty", "application/json", Vec::new());
    assert_eq!(status, 200, "an empty json body is no body");
    node.stop();
}

#[test]
fn documents_and_state_survive_a_restart() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    let mapping = json!({"settings": {"number_of_shards": 2, "number_of_replicas": 0},
        "mappings": {"properties": {"title": {"type": "text"}}}, "aliases": {"books": {}}});
    assert_eq!(node.call("PUT", "/library", Some(mapping)).0, 200);
    let (status, body) = node.call(
        "PUT",
        "/library/_doc/1",
        Some(json!({"title": "dune", "year": 1965})),
    );
    assert_eq!(status, 201);
    assert_eq!(body["result"], "created");
    assert_eq!(
        body["_shards"],
        json!({"total": 1, "successful": 1, "failed": 0})
    );
    let bulk = "{\"index\":{\"_index\":\"library\",\"_id\":\"2\"}}\n{\"title\":\"emma\"}\n{\"delete\":{\"_index\":\"library\",\"_id\":\"9\"}}\n";
    let (status, body) = node.raw(
        "POST",
        "/_bulk",
        "application/x-ndjson",
        bulk.as_bytes().to_vec(),
    );
    assert_eq!(status, 200);
    assert_eq!(body["errors"], false);
    assert_eq!(body["items"][1]["delete"]["result"], "not_found");
    let (_, body) = node.call(
        "POST",
        "/library/_update/1",
        Some(json!({"doc": {"year": 1966}})),
    );
    assert_eq!(body["result"], "updated");
    assert_eq!(body["_version"], 2);
    let settings = json!({"persistent": {"cluster.remote.leader.seeds": ["127.0.0.1:9300"]}});
    assert_eq!(
        node.call("PUT", "/_cluster/settings", Some(settings)).0,
        200
    );
    node.stop();

    let node = TestNode::start(&data, &[]);
    let (status, body) = node.call("GET", "/library/_doc/1", None);
    assert_eq!(status, 200);
    assert_eq!(body["_source"], json!({"title": "dune", "year": 1966}));
    assert_eq!(body["_version"], 2);
    let (_, body) = node.call("GET", "/library/_mapping", None);
    assert_eq!(
        body["library"]["mappings"]["properties"]["year"]["type"],
        "long"
    );
    let (_, body) = node.call("GET", "/books/_doc/2", None);
    assert_eq!(body["_source"]["title"], "emma");
    let (_, body) = node.call("GET", "/library/_settings", None);
    assert_eq!(
        body["library"]["settings"]["index"]["number_of_shards"],
        "2"
    );
    let (_, body) = node.call("GET", "/_cluster/settings?flat_settings=true", None);
    assert_eq!(
        body["persistent"]["cluster.remote.leader.seeds"],
        json!(["127.0.0.1:9300"])
    );
    node.stop();
}

#[test]
fn bulk_items_fail_alone_and_conflicts_are_409() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    let bulk = concat!(
        "{\"create\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n{\"a\":1}\n",
        "{\"create\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n{\"a\":2}\n",
        "{\"index\":{\"_index\":\"Bad\"}}\n{\"a\":3}\n"
    );
    let (status, body) = node.raw(
        "POST",
        "/_bulk?refresh=true",
        "application/json",
        bulk.as_bytes().to_vec(),
    );
    assert_eq!(status, 200);
    assert_eq!(body["errors"], true);
    assert_eq!(body["items"][0]["create"]["status"], 201);
    assert_eq!(body["items"][1]["create"]["status"], 409);
    assert_eq!(
        body["items"][1]["create"]["error"]["type"],
        "version_conflict_engine_exception"
    );
    assert_eq!(
        body["items"][2]["index"]["error"]["type"],
        "invalid_index_name_exception"
    );
    let conditional = "/logs/_doc/1?if_seq_no=9&if_primary_term=1";
    let (status, body) = node.call("PUT", conditional, Some(json!({"a": 4})));
    assert_eq!(status, 409);
    assert_eq!(body["error"]["index"], "logs");
    let (status, body) = node.call("PUT", "/logs/_doc/1?version=3", Some(json!({"a": 4})));
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "action_request_validation_exception");
    let (_, body) = node.call("GET", "/_cluster/health", None);
    assert_eq!(body["status"], "yellow");
    let (_, body) = node.call("GET", "/_cat/indices?format=json", None);
    assert_eq!(body[0]["index"], "logs");
    assert_eq!(body[0]["docs.count"], "1");
    node.stop();
}

#[test]
fn a_locked_data_folder_refuses_a_second_node() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    let status = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("-E")
        .arg(format!("path.data={}", data.display()))
        .arg("-E")
        .arg(format!("http.port={}", free_port()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run a second tandem");
    assert!(!status.success());
    node.stop();
}

#[test]
fn malformed_settings_stop_start_up_with_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("-E")
        .arg("http.port=nope")
        .output()
        .expect("run tandem");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("failed to parse setting [http.port] with value [nope]"),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("-E")
        .arg("no.such.key=1")
        .output()
        .expect("run tandem");
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown setting [no.such.key]"));
}

#[test]
fn the_refresh_scheduler_makes_writes_searchable() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    let settings = json!({"settings": {"refresh_interval": "200ms"}});
    assert_eq!(node.call("PUT", "/events", Some(settings)).0, 200);
    assert_eq!(
        node.call("PUT", "/events/_doc/1", Some(json!({"kind": "start"})))
            .0,
        201
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut count = Value::Null;
    while Instant::now() < deadline {
        count = node.call("GET", "/events/_count", None).1["count"].clone();
        if count == json!(1) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        count,
        json!(1),
        "the document became searchable by schedule"
    );
    let (status, body) = node.call(
        "POST",
        "/events/_search",
        Some(json!({"query": {"match": {"kind": "start"}}})),
    );
    assert_eq!(status, 200);
    assert_eq!(body["hits"]["hits"][0]["_id"], "1");
    node.stop();
}

#[test]
fn settings_come_from_a_yaml_file_with_overrides() {
    let (dir, data) = temp();
    let config = dir.path().join("tandem.yml");
    let yaml = format!(
        "cluster:\n  name: from-file\nnode.name: filenode\npath.data: {}\ndiscovery.type: single-node\n",
        data.display()
    );
    std::fs::write(&config, yaml).expect("write tandem.yml");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .arg("--config")
        .arg(&config)
        .arg("-E")
        .arg(format!("http.port={port}"))
        .arg("-E")
        .arg(format!("transport.port={}", support::free_udp_port()))
        .arg("-E")
        .arg("node.name=override")
        .arg("--log-format")
        .arg("json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tandem");
    let client = Client::new();
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + START_TIMEOUT;
    let mut body = Value::Null;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(&url).send() {
            body = read(response).1;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(body["cluster_name"], "from-file");
    assert_eq!(body["name"], "override");
}

#[test]
fn translog_settings_apply_to_an_open_index() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &[]);
    assert_eq!(node.call("PUT", "/t/_doc/1", Some(json!({"a": 1}))).0, 201);
    let settings = json!({"index": {"translog": {"durability": "async", "sync_interval": "1s"}}});
    assert_eq!(node.call("PUT", "/t/_settings", Some(settings)).0, 200);
    assert_eq!(node.call("PUT", "/t/_doc/2", Some(json!({"a": 2}))).0, 201);
    let (_, body) = node.call("GET", "/t/_doc/1", None);
    assert_eq!(body["_source"], json!({"a": 1}));
    let (_, body) = node.call("GET", "/t/_settings?flat_settings=true", None);
    assert_eq!(body["t"]["settings"]["index.translog.durability"], "async");
    node.stop();
}

#[test]
fn msearch_stats_and_remote_info_answer() {
    let (_dir, data) = temp();
    let node = TestNode::start(&data, &["cluster.remote.leader.seeds=127.0.0.1:9300"]);
    let doc = Some(json!({"title": "tandem"}));
    assert_eq!(node.call("PUT", "/docs/_doc/1?refresh=true", doc).0, 201);
    let lines = "{\"index\":\"docs\"}\n{\"query\":{\"match\":{\"title\":\"tandem\"}}}\n{\"index\":\"nope\"}\n{}\n";
    let (status, body) = node.raw(
        "POST",
        "/_msearch",
        "application/x-ndjson",
        lines.as_bytes().to_vec(),
    );
    assert_eq!(status, 200);
    assert_eq!(body["responses"][0]["hits"]["total"]["value"], 1);
    assert_eq!(body["responses"][1]["status"], 404);
    let (_, body) = node.call("GET", "/docs/_stats", None);
    assert_eq!(body["indices"]["docs"]["primaries"]["docs"]["count"], 1);
    let (_, body) = node.call("GET", "/_remote/info", None);
    assert_eq!(body["leader"]["seeds"], json!(["127.0.0.1:9300"]));
    let (_, body) = node.call("GET", "/_nodes/stats", None);
    let stats = body["nodes"]
        .as_object()
        .and_then(|nodes| nodes.values().next())
        .cloned();
    let stats = stats.unwrap_or(Value::Null);
    assert_eq!(
        stats["jvm"]["gc"]["collectors"]["young"]["collection_count"],
        0
    );
    node.stop();
}

//! Unit tests of settings parsing: defaults, overrides, ignored and unknown keys, bad values.

use super::*;

fn load(yaml: &str, overrides: &[&str]) -> Result<NodeConfig, ConfigError> {
    let mut flat = parse_yaml(yaml).expect("test yaml parses");
    for item in overrides {
        let (key, value) = item.split_once('=').expect("test override has =");
        flat.insert(key.into(), Value::String(value.into()));
    }
    NodeConfig::from_flat(&flat)
}

#[test]
fn defaults_match_opensearch_ports() {
    let config = load("", &[]).expect("empty config is valid");
    assert_eq!(config.http_port, 9200);
    assert_eq!(config.transport_port, 9300);
    assert_eq!(config.path_data, PathBuf::from("data"));
    assert_eq!(config.http_content_bytes_max, 100 * 1024 * 1024);
}

#[test]
fn nested_and_dotted_yaml_keys_are_the_same() {
    let config = load("cluster:\n  name: a\nhttp.port: 9201\n", &["node.name=n1"]).unwrap();
    assert_eq!(config.cluster_name, "a");
    assert_eq!(config.http_port, 9201);
    assert_eq!(config.node_name, "n1");
}

#[test]
fn malformed_known_value_is_one_clear_error() {
    let error = load("", &["http.port=abc"]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "failed to parse setting [http.port] with value [abc]: expected a port number between 0 and 65535"
    );
}

#[test]
fn opensearch_only_keys_are_ignored_and_unknown_keys_refused() {
    let config = load(
        "node.roles: [data]\ndiscovery.type: single-node\nplugins.security.nodes_dn_dynamic_config_enabled: false\n",
        &[],
    )
    .unwrap();
    assert_eq!(config.ignored_keys.len(), 3);
    assert!(matches!(
        load("", &["foo.bar=1"]),
        Err(ConfigError::UnknownKey(_))
    ));
}

#[test]
fn remote_seeds_must_be_host_port() {
    let config = load("cluster.remote.leader.seeds: [\"127.0.0.1:9300\"]\n", &[]).unwrap();
    assert_eq!(
        config.remote_seeds["leader"],
        vec!["127.0.0.1:9300".to_string()]
    );
    assert!(load("", &["cluster.remote.x.seeds=nohost"]).is_err());
}

#[test]
fn byte_sizes_parse_with_units() {
    assert_eq!(parse_byte_size("100mb"), Ok(100 * 1024 * 1024));
    assert_eq!(parse_byte_size("10"), Ok(10));
    assert!(parse_byte_size("ten").is_err());
}

#[test]
fn replication_and_transport_security_settings_are_read_and_checked() {
    let config = load(
        "",
        &[
            "plugins.security.ssl.transport.pemcert_filepath=/c.pem",
            "plugins.security.ssl.transport.pemkey_filepath=/k.pem",
            "plugins.security.ssl.transport.pemtrustedcas_filepath=/ca.pem",
            "plugins.security.nodes_dn=CN=node*,O=tandem",
            "plugins.replication.follow_all.leader_alias=leader",
            "plugins.replication.autofollow.fetch_poll_interval=2s",
            "tandem.transport.congestion_control=bbr",
        ],
    )
    .expect("valid settings");
    assert_eq!(config.transport_pem.cert, Some(PathBuf::from("/c.pem")));
    assert_eq!(config.follow_all_leader_alias.as_deref(), Some("leader"));
    assert_eq!(
        config.autofollow_poll_interval,
        Some(std::time::Duration::from_secs(2))
    );
    assert_eq!(
        config.transport.congestion,
        tandem_transport::CongestionController::Bbr
    );
    for bad in [
        "tandem.transport.congestion_control=reno",
        "plugins.replication.follow_all.leader_alias= ",
        "plugins.replication.autofollow.fetch_poll_interval=soon",
        "tandem.transport.allow_unauthenticated_remote=maybe",
    ] {
        let error = load("", &[bad]).expect_err(bad).to_string();
        let key = bad.split_once('=').expect("key=value").0;
        assert!(
            error.contains(&format!("failed to parse setting [{key}]")),
            "{bad}: {error}"
        );
    }
}

#[test]
fn transport_tunables_are_node_settings_checked_together() {
    let config = load(
        "",
        &[
            "tandem.transport.stream_receive_window=32mb",
            "tandem.transport.connection_receive_window=128mb",
            "tandem.transport.send_window=64mb",
            "tandem.transport.udp_payload_max=1452",
            "tandem.transport.idle_timeout=3s",
            "tandem.transport.keep_alive_interval=500ms",
            "tandem.transport.initial_rtt=5ms",
            "tandem.transport.connect_timeout=2s",
        ],
    )
    .expect("valid transport settings");
    let transport = &config.transport;
    assert_eq!(transport.stream_receive_window_bytes, 32 << 20);
    assert_eq!(transport.connection_receive_window_bytes, 128 << 20);
    assert_eq!(transport.send_window_bytes, 64 << 20);
    assert_eq!(transport.udp_payload_bytes_max, 1452);
    assert_eq!(transport.idle_timeout_ms, 3000);
    assert_eq!(transport.keep_alive_interval_ms, 500);
    assert_eq!(transport.initial_rtt_ms, 5);
    assert!(transport.validate().is_ok());

    for (settings, key) in [
        (
            &["tandem.transport.stream_receive_window=lots"][..],
            "tandem.transport.stream_receive_window",
        ),
        (
            &["tandem.transport.udp_payload_max=600"][..],
            "tandem.transport.udp_payload_max",
        ),
        (
            &["tandem.transport.idle_timeout=soon"][..],
            "tandem.transport.idle_timeout",
        ),
        // Keep-alives must fit several times in the idle timeout.
        (
            &[
                "tandem.transport.idle_timeout=2s",
                "tandem.transport.connect_timeout=1s",
                "tandem.transport.keep_alive_interval=5s",
            ][..],
            "tandem.transport.keep_alive_interval",
        ),
        // The connection window holds at least one stream window.
        (
            &[
                "tandem.transport.stream_receive_window=64mb",
                "tandem.transport.connection_receive_window=16mb",
            ][..],
            "tandem.transport.connection_receive_window",
        ),
    ] {
        let error = load("", settings).expect_err(key).to_string();
        assert!(
            error.contains(&format!("failed to parse setting [{key}]")),
            "{settings:?}: {error}"
        );
    }
}

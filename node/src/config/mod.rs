//! Node settings: OpenSearch keys read from `tandem.yml` and `-E key=value`, validated once.
//!
//! It owns the list of keys tandem understands, the keys it accepts and ignores (OpenSearch has
//! them, tandem has no use for them), and the parsing of every value. It must never open
//! sockets or data folders: it turns text into a [`NodeConfig`] or one clear [`ConfigError`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tandem_transport::{CongestionController, TransportConfig};
use thiserror::Error;

/// OpenSearch's default HTTP port.
pub const HTTP_PORT_DEFAULT: u16 = 9200;
/// OpenSearch's default transport port.
pub const TRANSPORT_PORT_DEFAULT: u16 = 9300;
/// OpenSearch's default `http.max_content_length`, in bytes.
pub const HTTP_CONTENT_BYTES_MAX_DEFAULT: u64 = 100 * 1024 * 1024;
/// Keys OpenSearch has that tandem accepts and ignores (logged at start-up).
pub const IGNORED_KEYS: &[&str] = &[
    "node.roles",
    "node.master",
    "node.data",
    "node.ingest",
    "discovery.type",
    "discovery.seed_hosts",
    "cluster.initial_master_nodes",
    "cluster.initial_cluster_manager_nodes",
    "bootstrap.memory_lock",
    "path.logs",
    "path.repo",
    "action.destructive_requires_name",
    "indices.query.bool.max_clause_count",
    "compatibility.override_main_response_version",
];
/// How a numeric transport setting is written.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// A byte size with units (`16mb`).
    Bytes,
    /// A time value with OpenSearch's units (`30s`), kept in milliseconds.
    Millis,
}

/// A numeric tunable of the transport as a node setting.
struct TransportSetting {
    key: &'static str,
    /// The [`TransportConfig`] field, as its validation names it.
    field: &'static str,
    unit: Unit,
    set: fn(&mut TransportConfig, u64),
}

/// The transport's numeric tunables as node settings (`congestion_control` and
/// `allow_unauthenticated_remote` are read on their own).
const TRANSPORT_SETTINGS: &[TransportSetting] = &[
    TransportSetting {
        key: "tandem.transport.stream_receive_window",
        field: "stream_receive_window_bytes",
        unit: Unit::Bytes,
        set: |transport, value| transport.stream_receive_window_bytes = value,
    },
    TransportSetting {
        key: "tandem.transport.connection_receive_window",
        field: "connection_receive_window_bytes",
        unit: Unit::Bytes,
        set: |transport, value| transport.connection_receive_window_bytes = value,
    },
    TransportSetting {
        key: "tandem.transport.send_window",
        field: "send_window_bytes",
        unit: Unit::Bytes,
        set: |transport, value| transport.send_window_bytes = value,
    },
    TransportSetting {
        key: "tandem.transport.udp_payload_max",
        field: "udp_payload_bytes_max",
        unit: Unit::Bytes,
        set: |transport, value| transport.udp_payload_bytes_max = value,
    },
    TransportSetting {
        key: "tandem.transport.udp_receive_buffer",
        field: "udp_receive_buffer_bytes",
        unit: Unit::Bytes,
        set: |transport, value| transport.udp_receive_buffer_bytes = value,
    },
    TransportSetting {
        key: "tandem.transport.udp_send_buffer",
        field: "udp_send_buffer_bytes",
        unit: Unit::Bytes,
        set: |transport, value| transport.udp_send_buffer_bytes = value,
    },
    TransportSetting {
        key: "tandem.transport.idle_timeout",
        field: "idle_timeout_ms",
        unit: Unit::Millis,
        set: |transport, value| transport.idle_timeout_ms = value,
    },
    TransportSetting {
        key: "tandem.transport.keep_alive_interval",
        field: "keep_alive_interval_ms",
        unit: Unit::Millis,
        set: |transport, value| transport.keep_alive_interval_ms = value,
    },
    TransportSetting {
        key: "tandem.transport.initial_rtt",
        field: "initial_rtt_ms",
        unit: Unit::Millis,
        set: |transport, value| transport.initial_rtt_ms = value,
    },
    TransportSetting {
        key: "tandem.transport.connect_timeout",
        field: "connect_timeout_ms",
        unit: Unit::Millis,
        set: |transport, value| transport.connect_timeout_ms = value,
    },
];
/// Key prefixes tandem accepts and ignores.
const IGNORED_PREFIXES: &[&str] = &["plugins.security.", "logger.", "xpack."];

/// Why the settings were refused. One line, naming the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The config file is not YAML.
    #[error("config file {path} is not valid yaml: {reason}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A `-E` argument without `=`.
    #[error("setting [{0}] must be given as key=value")]
    NotKeyValue(String),
    /// A key nobody knows.
    #[error("unknown setting [{0}]")]
    UnknownKey(String),
    /// A known key with a value it cannot take.
    #[error("failed to parse setting [{key}] with value [{value}]: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

/// `plugins.security.ssl.transport.pem*_filepath`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportPem {
    /// The node's certificate chain.
    pub cert: Option<PathBuf>,
    /// Its private key.
    pub key: Option<PathBuf>,
    /// The CA certificates peers are verified against.
    pub trusted_cas: Option<PathBuf>,
}

/// Everything the node needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// `cluster.name`.
    pub cluster_name: String,
    /// `node.name`.
    pub node_name: String,
    /// `path.data`.
    pub path_data: PathBuf,
    /// `network.host`.
    pub network_host: IpAddr,
    /// `http.port` (0 picks a free port).
    pub http_port: u16,
    /// `transport.port` (parsed and validated; the transport comes later).
    pub transport_port: u16,
    /// `http.max_content_length`, in bytes.
    pub http_content_bytes_max: u64,
    /// `cluster.remote.<alias>.seeds`.
    pub remote_seeds: BTreeMap<String, Vec<String>>,
    /// `plugins.security.disabled`.
    pub security_disabled: bool,
    /// `node.attr.*`: free-form node attributes, shown by `_nodes` and cluster defaults.
    pub node_attributes: BTreeMap<String, String>,
    /// OpenSearch's transport PEM settings: with all three, the transport is mutual TLS.
    pub transport_pem: TransportPem,
    /// `plugins.security.nodes_dn`: DN patterns of peers the transport admits (mutual TLS).
    pub nodes_dn: Vec<String>,
    /// `plugins.security.ssl.transport.enforce_hostname_verification` (default true).
    pub transport_hostname_verification: bool,
    /// The QUIC transport's tunables, from the `tandem.transport.*` keys, validated together
    /// once every key is read.
    pub transport: TransportConfig,
    /// `plugins.replication.follow_all.leader_alias`: follower-cluster mode.
    pub follow_all_leader_alias: Option<String>,
    /// `plugins.replication.autofollow.fetch_poll_interval` as a node setting (a cluster
    /// setting of the same name wins).
    pub autofollow_poll_interval: Option<std::time::Duration>,
    /// Keys accepted and ignored, for the start-up log.
    pub ignored_keys: Vec<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            cluster_name: "tandem".into(),
            node_name: default_node_name(),
            path_data: PathBuf::from("data"),
            network_host: IpAddr::from([127, 0, 0, 1]),
            http_port: HTTP_PORT_DEFAULT,
            transport_port: TRANSPORT_PORT_DEFAULT,
            http_content_bytes_max: HTTP_CONTENT_BYTES_MAX_DEFAULT,
            remote_seeds: BTreeMap::new(),
            security_disabled: true,
            node_attributes: BTreeMap::new(),
            transport_pem: TransportPem::default(),
            nodes_dn: Vec::new(),
            transport_hostname_verification: true,
            transport: TransportConfig::default(),
            follow_all_leader_alias: None,
            autofollow_poll_interval: None,
            ignored_keys: Vec::new(),
        }
    }
}

fn default_node_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tandem".into())
}

impl NodeConfig {
    /// Reads the optional YAML file, then applies `-E` overrides in order.
    pub fn load(file: Option<&Path>, overrides: &[String]) -> Result<NodeConfig, ConfigError> {
        let mut flat = BTreeMap::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            flat = parse_yaml(&text).map_err(|reason| ConfigError::Yaml {
                path: path.to_path_buf(),
                reason,
            })?;
        }
        for item in overrides {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| ConfigError::NotKeyValue(item.clone()))?;
            flat.insert(key.trim().to_string(), Value::String(value.to_string()));
        }
        NodeConfig::from_flat(&flat)
    }

    /// Builds the config from flat dotted keys.
    pub fn from_flat(flat: &BTreeMap<String, Value>) -> Result<NodeConfig, ConfigError> {
        let mut config = NodeConfig::default();
        for (key, value) in flat {
            config.apply(key, value)?;
        }
        config.validate_transport(flat)?;
        Ok(config)
    }

    fn apply(&mut self, key: &str, value: &Value) -> Result<(), ConfigError> {
        let text = value_text(value);
        let bad = |reason: &str| ConfigError::BadValue {
            key: key.to_string(),
            value: text.clone(),
            reason: reason.to_string(),
        };
        if let Some(setting) = TRANSPORT_SETTINGS.iter().find(|setting| setting.key == key) {
            let value = match setting.unit {
                Unit::Bytes => parse_byte_size(&text),
                Unit::Millis => parse_millis(&text),
            }
            .map_err(|r| bad(&r))?;
            (setting.set)(&mut self.transport, value);
            return Ok(());
        }
        match key {
            "cluster.name" | "node.name" if text.trim().is_empty() => {
                return Err(bad("must not be empty"))
            }
            "cluster.name" => self.cluster_name = text.clone(),
            "node.name" => self.node_name = text.clone(),
            "path.data" if text.is_empty() => return Err(bad("must not be empty")),
            "path.data" => self.path_data = PathBuf::from(&text),
            "network.host" => self.network_host = parse_host(&text).map_err(|r| bad(&r))?,
            "http.port" => self.http_port = parse_port(&text).map_err(|r| bad(&r))?,
            "transport.port" => self.transport_port = parse_port(&text).map_err(|r| bad(&r))?,
            "http.max_content_length" => {
                self.http_content_bytes_max = parse_byte_size(&text).map_err(|r| bad(&r))?
            }
            "plugins.security.disabled" => {
                self.security_disabled = parse_bool(&text).map_err(|r| bad(&r))?
            }
            "plugins.security.ssl.transport.pemcert_filepath" => {
                self.transport_pem.cert = Some(PathBuf::from(&text))
            }
            "plugins.security.ssl.transport.pemkey_filepath" => {
                self.transport_pem.key = Some(PathBuf::from(&text))
            }
            "plugins.security.ssl.transport.pemtrustedcas_filepath" => {
                self.transport_pem.trusted_cas = Some(PathBuf::from(&text))
            }
            "plugins.security.ssl.transport.enforce_hostname_verification" => {
                self.transport_hostname_verification = parse_bool(&text).map_err(|r| bad(&r))?
            }
            "plugins.security.nodes_dn" => self.nodes_dn = seed_list(value),
            "tandem.transport.allow_unauthenticated_remote" => {
                self.transport.allow_unauthenticated_remote =
                    parse_bool(&text).map_err(|r| bad(&r))?
            }
            "tandem.transport.congestion_control" => {
                self.transport.congestion = match text.as_str() {
                    "bbr" | "cubic" => CongestionController::parse(&text)
                        .expect("both names are congestion controllers"),
                    _ => return Err(bad("must be [bbr] or [cubic]")),
                }
            }
            "plugins.replication.follow_all.leader_alias" if text.trim().is_empty() => {
                return Err(bad("must not be empty"))
            }
            "plugins.replication.autofollow.fetch_poll_interval" => {
                self.autofollow_poll_interval =
                    crate::indices::settings::parse_time(&text).map_err(|r| bad(&r))?
            }
            "plugins.replication.follow_all.leader_alias" => {
                self.follow_all_leader_alias = Some(text.clone())
            }
            _ => {
                if let Some(attribute) = key.strip_prefix("node.attr.") {
                    self.node_attributes
                        .insert(attribute.to_string(), text.clone());
                } else if let Some(alias) = remote_alias(key) {
                    let seeds = seed_list(value);
                    validate_seeds(&seeds).map_err(|r| bad(&r))?;
                    self.remote_seeds.insert(alias.to_string(), seeds);
                } else if is_ignored(key) {
                    self.ignored_keys.push(key.to_string());
                } else {
                    return Err(ConfigError::UnknownKey(key.to_string()));
                }
            }
        }
        Ok(())
    }
}

impl NodeConfig {
    /// Checks the transport's values together (bounds, and relations such as keep-alives
    /// fitting the idle timeout); a refusal names the key that set the offending value.
    fn validate_transport(&mut self, flat: &BTreeMap<String, Value>) -> Result<(), ConfigError> {
        // Values left at their defaults follow a shorter idle timeout, so setting that one key
        // is enough (a test's seconds-long timeout, say).
        let transport = &mut self.transport;
        let idle_ms = transport.idle_timeout_ms;
        if !flat.contains_key("tandem.transport.keep_alive_interval") {
            transport.keep_alive_interval_ms = transport
                .keep_alive_interval_ms
                .min(idle_ms / tandem_transport::config::KEEP_ALIVES_PER_IDLE_TIMEOUT_MIN)
                .max(1);
        }
        if !flat.contains_key("tandem.transport.connect_timeout") {
            transport.connect_timeout_ms = transport.connect_timeout_ms.min(idle_ms);
        }
        transport.request_read_ms_max = transport.request_read_ms_max.min(idle_ms);
        let Err(error) = self.transport.validate() else {
            return Ok(());
        };
        let field = match &error {
            tandem_transport::ConfigError::OutOfRange { name, .. } => *name,
            _ => "keep_alive_interval_ms",
        };
        let key = TRANSPORT_SETTINGS
            .iter()
            .find(|setting| setting.field == field)
            .map_or("tandem.transport", |setting| setting.key);
        Err(ConfigError::BadValue {
            key: key.to_string(),
            value: flat.get(key).map(value_text).unwrap_or_default(),
            reason: error.to_string(),
        })
    }
}

/// A time value (`30s`, `500ms`) in whole milliseconds.
fn parse_millis(text: &str) -> Result<u64, String> {
    crate::indices::settings::parse_time(text)?
        .map(|duration| u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
        .ok_or_else(|| "expected a time value such as [30s]".to_string())
}

fn is_ignored(key: &str) -> bool {
    IGNORED_KEYS.contains(&key) || IGNORED_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// `cluster.remote.<alias>.seeds` → `alias`.
pub fn remote_alias(key: &str) -> Option<&str> {
    let alias = key
        .strip_prefix("cluster.remote.")?
        .strip_suffix(".seeds")?;
    (!alias.is_empty() && !alias.contains('.')).then_some(alias)
}

/// A seeds value as a list: a YAML list or a comma-separated string.
pub fn seed_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(value_text).collect(),
        other => value_text(other)
            .split(',')
            .map(|seed| seed.trim().to_string())
            .filter(|seed| !seed.is_empty())
            .collect(),
    }
}

/// Every seed must be `host:port` with a valid port.
pub fn validate_seeds(seeds: &[String]) -> Result<(), String> {
    for seed in seeds {
        let Some((host, port)) = seed.rsplit_once(':') else {
            return Err(format!("seed [{seed}] is not host:port"));
        };
        if host.is_empty() {
            return Err(format!("seed [{seed}] has no host"));
        }
        match port.parse::<u16>() {
            Ok(port) if port > 0 => {}
            _ => return Err(format!("seed [{seed}] has an invalid port")),
        }
    }
    Ok(())
}

fn parse_host(text: &str) -> Result<IpAddr, String> {
    match text {
        "_local_" | "localhost" => Ok(IpAddr::from([127, 0, 0, 1])),
        "_site_" | "_global_" | "0" => Ok(IpAddr::from([0, 0, 0, 0])),
        other => other
            .parse()
            .map_err(|_| "expected an ip address, localhost or _local_".to_string()),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.trim()
        .parse::<u16>()
        .map_err(|_| "expected a port number between 0 and 65535".to_string())
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("expected [true] or [false]".into()),
    }
}

/// OpenSearch byte sizes: `100mb`, `1gb`, `512kb`, `10b` or plain bytes.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let units: [(&str, u64); 6] = [
        ("pb", 1 << 50),
        ("tb", 1 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("b", 1),
    ];
    for (suffix, factor) in units {
        if let Some(number) = lower.strip_suffix(suffix) {
            let number: u64 = number
                .trim()
                .parse()
                .map_err(|_| "expected a byte size such as 100mb".to_string())?;
            return number
                .checked_mul(factor)
                .ok_or_else(|| "byte size too large".to_string());
        }
    }
    lower
        .parse()
        .map_err(|_| "expected a byte size such as 100mb".to_string())
}

/// A scalar as the text OpenSearch would see.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// YAML (nested or dotted keys) to flat dotted keys. Lists stay lists.
pub fn parse_yaml(text: &str) -> Result<BTreeMap<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let value: Value = serde_yaml::from_str(text).map_err(|error| error.to_string())?;
    let mut flat = BTreeMap::new();
    match value {
        Value::Object(_) => flatten("", &value, &mut flat),
        Value::Null => {}
        _ => return Err("the top level must be a mapping of settings".into()),
    }
    Ok(flat)
}

/// Flattens nested objects into dotted keys; leaves (scalars, lists) are kept.
pub fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, inner, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

#[cfg(test)]
mod tests;

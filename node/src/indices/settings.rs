//! Index settings: normalizing OpenSearch's flat or nested keys to `index.*`, validating the
//! ones tandem acts on, and turning them into a shard engine config.
//!
//! It owns the defaults (`number_of_shards` 1, `number_of_replicas` 1, `refresh_interval` 1s,
//! `translog.durability` request) and time-value parsing. It must never touch disk or state.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tandem_storage::translog::{Durability, SYNC_INTERVAL_DEFAULT, SYNC_INTERVAL_MIN};
use tandem_storage::EngineConfig;

use crate::config::{flatten, value_text};
use crate::error::{NodeError, NodeResult};

/// Most primary shards one index may have (OpenSearch's `index.number_of_shards` limit).
pub const SHARDS_PER_INDEX_MAX: u32 = 1024;
/// OpenSearch's default `index.refresh_interval`.
pub const REFRESH_INTERVAL_DEFAULT: Duration = Duration::from_secs(1);
/// Settings that only take effect at creation.
const FINAL_SETTINGS: &[&str] = &["index.number_of_shards", "index.number_of_routing_shards"];

/// Flattens a settings object (nested or dotted, with or without `index.`) to `index.*` keys.
/// `null` values are kept as `None` (they reset a setting on update).
pub fn normalize(settings: &Value) -> NodeResult<BTreeMap<String, Option<String>>> {
    if !settings.is_object() {
        return Err(NodeError::illegal("settings must be an object"));
    }
    let mut flat = BTreeMap::new();
    flatten("", settings, &mut flat);
    Ok(flat
        .into_iter()
        .map(|(key, value)| {
            let key = if key.starts_with("index.") {
                key
            } else {
                format!("index.{key}")
            };
            let value = (!value.is_null()).then(|| value_text(&value));
            (key, value)
        })
        .collect())
}

/// The settings tandem applies when an index does not set them, as `include_defaults` shows.
pub fn defaults() -> BTreeMap<String, String> {
    [
        ("index.refresh_interval", "1s"),
        ("index.translog.durability", "REQUEST"),
        ("index.translog.sync_interval", "5s"),
        ("index.max_result_window", "10000"),
        ("index.mapping.total_fields.limit", "1000"),
        ("index.mapping.depth.limit", "20"),
        ("index.gc_deletes", "60s"),
        ("index.blocks.write", "false"),
        ("index.blocks.read_only", "false"),
        ("index.blocks.read_only_allow_delete", "false"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect()
}

/// Validates every setting tandem reads; others are kept as given.
pub fn validate(settings: &BTreeMap<String, String>) -> NodeResult<()> {
    for (key, value) in settings {
        let bad = |expected: &str| {
            NodeError::illegal(format!(
                "Failed to parse value [{value}] for setting [{key}] {expected}"
            ))
        };
        match key.as_str() {
            "index.number_of_shards" => match value.parse::<u32>() {
                Ok(shards) if (1..=SHARDS_PER_INDEX_MAX).contains(&shards) => {}
                _ => return Err(bad(&format!("must be >= 1 and <= {SHARDS_PER_INDEX_MAX}"))),
            },
            "index.number_of_replicas" => {
                value.parse::<u32>().map_err(|_| bad("must be >= 0"))?;
            }
            "index.refresh_interval" => {
                parse_time(value).map_err(|reason| NodeError::illegal(reason_for(key, &reason)))?;
            }
            "index.translog.sync_interval" => {
                let interval = parse_time(value)
                    .map_err(|reason| NodeError::illegal(reason_for(key, &reason)))?;
                if interval.is_some_and(|interval| interval < SYNC_INTERVAL_MIN) {
                    return Err(bad("must be >= 100ms"));
                }
            }
            LEASE_PERIOD_KEY => {
                parse_time(value).map_err(|reason| NodeError::illegal(reason_for(key, &reason)))?;
            }
            RETENTION_SIZE_KEY => {
                crate::config::parse_byte_size(value).map_err(|reason| {
                    NodeError::illegal(format!(
                        "failed to parse setting [{key}] with value [{value}] as a size in bytes: {reason}"
                    ))
                })?;
            }
            "index.translog.durability" => match value.to_ascii_lowercase().as_str() {
                "request" | "async" => {}
                _ => {
                    return Err(NodeError::illegal(format!(
                        "No enum constant org.opensearch.index.translog.Translog.Durability.{}",
                        value.to_ascii_uppercase()
                    )))
                }
            },
            _ => {}
        }
    }
    Ok(())
}

fn reason_for(key: &str, reason: &str) -> String {
    format!("failed to parse setting [{key}]: {reason}")
}

/// Whether `key` may change on an existing index.
pub fn is_final(key: &str) -> bool {
    FINAL_SETTINGS.contains(&key)
}

/// An integer setting with a default.
pub fn int_setting(settings: &BTreeMap<String, String>, key: &str, default: u32) -> u32 {
    settings
        .get(key)
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The write block the settings put on an index, as OpenSearch describes it, and whether
/// deletes still pass.
pub fn write_block(settings: &BTreeMap<String, String>) -> Option<(&'static str, bool)> {
    let set = |key: &str| settings.get(key).is_some_and(|value| value == "true");
    if set("index.blocks.read_only") {
        return Some(("FORBIDDEN/5/index read-only (api)", false));
    }
    if set("index.blocks.write") {
        return Some(("FORBIDDEN/8/index write (api)", false));
    }
    if set("index.blocks.read_only_allow_delete") {
        return Some((
            "TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block",
            true,
        ));
    }
    None
}

/// `index.refresh_interval`: `None` means never (`-1`).
pub fn refresh_interval(settings: &BTreeMap<String, String>) -> Option<Duration> {
    match settings.get("index.refresh_interval") {
        Some(value) => parse_time(value).ok().flatten(),
        None => Some(REFRESH_INTERVAL_DEFAULT),
    }
}

/// The engine config the settings ask for.
pub fn engine_config(settings: &BTreeMap<String, String>) -> EngineConfig {
    let mut config = EngineConfig::primary();
    let asynchronous = settings
        .get("index.translog.durability")
        .is_some_and(|value| value.eq_ignore_ascii_case("async"));
    if asynchronous {
        let sync_interval = settings
            .get("index.translog.sync_interval")
            .and_then(|value| parse_time(value).ok().flatten())
            .unwrap_or(SYNC_INTERVAL_DEFAULT)
            .max(SYNC_INTERVAL_MIN);
        config.durability = Durability::Async { sync_interval };
    }
    if let Some(bytes) = settings
        .get(RETENTION_SIZE_KEY)
        .and_then(|value| crate::config::parse_byte_size(value).ok())
    {
        config.retention_bytes_max = bytes;
    }
    config.retention_lease_period = retention_lease_period(settings);
    config
}

/// `index.plugins.replication.translog.retention_size`: history kept for followers.
pub const RETENTION_SIZE_KEY: &str = "index.plugins.replication.translog.retention_size";
/// `index.soft_deletes.retention_lease.period`: a lease not renewed for this long expires.
pub const LEASE_PERIOD_KEY: &str = "index.soft_deletes.retention_lease.period";
/// OpenSearch's default lease period.
const LEASE_PERIOD_DEFAULT: Duration = Duration::from_secs(12 * 60 * 60);

/// The retention lease period of an index.
pub fn retention_lease_period(settings: &BTreeMap<String, String>) -> Duration {
    settings
        .get(LEASE_PERIOD_KEY)
        .and_then(|value| parse_time(value).ok().flatten())
        .unwrap_or(LEASE_PERIOD_DEFAULT)
}

/// OpenSearch time values: `500ms`, `1s`, `2m`, `1h`, `1d`, `-1` (none), bare `0`.
pub fn parse_time(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text == "-1" {
        return Ok(None);
    }
    if text == "0" {
        return Ok(Some(Duration::ZERO));
    }
    let units: [(&str, u64); 7] = [
        ("nanos", 0),
        ("micros", 0),
        ("ms", 1),
        ("s", 1000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
    ];
    for (suffix, millis) in units {
        if let Some(number) = text.strip_suffix(suffix) {
            let number: u64 = number.parse().map_err(|_| unit_error(text))?;
            return Ok(Some(Duration::from_millis(number.saturating_mul(millis))));
        }
    }
    Err(unit_error(text))
}

fn unit_error(text: &str) -> String {
    format!("failed to parse [{text}], unit is missing or unrecognized")
}

/// A settings map as OpenSearch prints it: nested objects unless `flat`.
pub fn render(settings: &BTreeMap<String, String>, flat: bool) -> Value {
    if flat {
        return Value::Object(
            settings
                .iter()
                .map(|(key, value)| (key.clone(), Value::String(value.clone())))
                .collect(),
        );
    }
    let mut root = serde_json::Map::new();
    for (key, value) in settings {
        insert_nested(&mut root, key, Value::String(value.clone()));
    }
    Value::Object(root)
}

/// Inserts a dotted key into nested objects.
pub fn insert_nested(root: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let mut parts = key.split('.').peekable();
    let mut current = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_string(), value);
            return;
        }
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(serde_json::Map::new());
        }
        let Value::Object(next) = entry else {
            unreachable!("the entry was made an object just above")
        };
        current = next;
    }
}

#[cfg(test)]
mod tests {
    //! Settings normalization and time values.
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_and_nested_settings_normalize_alike() {
        let nested = normalize(&json!({"index": {"number_of_shards": 2}})).unwrap();
        let flat = normalize(&json!({"number_of_shards": "2"})).unwrap();
        assert_eq!(nested, flat);
        assert_eq!(flat["index.number_of_shards"], Some("2".to_string()));
    }

    #[test]
    fn time_values_parse() {
        assert_eq!(parse_time("1s"), Ok(Some(Duration::from_secs(1))));
        assert_eq!(parse_time("250ms"), Ok(Some(Duration::from_millis(250))));
        assert_eq!(parse_time("-1"), Ok(None));
        assert!(parse_time("abc").is_err());
    }

    #[test]
    fn bad_shard_counts_are_refused() {
        let mut settings = BTreeMap::new();
        settings.insert("index.number_of_shards".to_string(), "0".to_string());
        assert!(validate(&settings).is_err());
    }

    #[test]
    fn render_nests_dotted_keys() {
        let mut settings = BTreeMap::new();
        settings.insert("index.number_of_shards".to_string(), "1".to_string());
        assert_eq!(
            render(&settings, false),
            json!({"index": {"number_of_shards": "1"}})
        );
    }
}

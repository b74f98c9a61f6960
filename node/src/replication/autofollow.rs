//! Auto-follow rules (`_plugins/_replication/_autofollow`): a rule names a remote alias and an
//! index pattern; every poll lists the leader's matching indices and starts replication for
//! each one not yet followed here, with the rule's settings. Rules persist in `autofollow.tnd`
//! (a durable file); their statistics are in memory, as in OpenSearch.
//!
//! It owns rule validation, the poll loop and `autofollow_stats`. It must never start a
//! replication any other way than through the replication service's `_start`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tandem_ccr::ReplicationError;
use tandem_storage::durable_file::{self, DurableFileError};
use tandem_transport::TransportClient;
use tandem_wire::{IndexState, ListIndicesRequest, Message};

use super::NodeReplicationService;
use crate::indices::IndexService;

/// The rules file under `path.data`.
pub const RULES_FILE_NAME: &str = "autofollow.tnd";
const RULES_MAGIC: [u8; 8] = *b"TNDAUTO1";
const RULES_FORMAT_VERSION: u32 = 1;
/// `plugins.replication.autofollow.fetch_poll_interval`.
pub const POLL_INTERVAL_KEY: &str = "plugins.replication.autofollow.fetch_poll_interval";
const POLL_INTERVAL_DEFAULT: Duration = Duration::from_secs(30);
const POLL_INTERVAL_MIN: Duration = Duration::from_secs(1);
/// Time one "list leader indices" call may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);
/// Rules one node keeps at most.
const RULES_MAX: usize = 1_000;
const PLACEHOLDER: &str = "{{leader_index}}";
/// The name of follower-cluster mode's rule.
const FOLLOW_ALL_RULE: &str = "follow_all";

/// Reads the rules file (none when it does not exist).
fn load_rules(path: &std::path::Path) -> Result<BTreeMap<String, Rule>, String> {
    match durable_file::read(
        path,
        RULES_MAGIC,
        RULES_FORMAT_VERSION..=RULES_FORMAT_VERSION,
    ) {
        Ok((_, payload)) => serde_json::from_slice(&payload)
            .map_err(|error| format!("{} is unreadable: {error}", path.display())),
        Err(DurableFileError::NotFound { .. }) => Ok(BTreeMap::new()),
        Err(error) => Err(error.to_string()),
    }
}

/// Writes the rules file durably.
fn save_rules(path: &std::path::Path, rules: &BTreeMap<String, Rule>) -> Result<(), String> {
    let payload = serde_json::to_vec(rules).map_err(|error| error.to_string())?;
    durable_file::write_atomic(path, RULES_MAGIC, RULES_FORMAT_VERSION, &payload)
        .map_err(|error| error.to_string())
}

/// One rule, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The remote alias.
    pub leader_alias: String,
    /// The rule's name.
    pub name: String,
    /// Leader index pattern (`*` wildcards).
    pub pattern: String,
    /// Settings applied to every follower the rule creates.
    pub settings: Value,
    /// Follower name template with `{{leader_index}}`; `None` = the leader's name.
    pub follower_index_pattern: Option<String>,
}

#[derive(Debug, Default, Clone)]
struct RuleStats {
    success: u64,
    failed_last_poll: u64,
    failed_leader_calls: u64,
    failed_indices: BTreeSet<String>,
    last_execution_millis: i64,
}

/// The auto-follow rules of a node and their poller.
pub struct AutoFollow {
    service: Arc<NodeReplicationService>,
    client: TransportClient,
    indices: Arc<IndexService>,
    path: PathBuf,
    rules: Mutex<BTreeMap<String, Rule>>,
    /// The node setting of the poll interval.
    poll_interval: Option<Duration>,
    /// The implicit rule of follower-cluster mode (`follow_all.leader_alias`), not persisted.
    follow_all: Option<Rule>,
    stats: Mutex<BTreeMap<String, RuleStats>>,
    wake: tokio::sync::Notify,
}

fn key(alias: &str, name: &str) -> String {
    format!("{alias}:{name}")
}

fn validation(problem: &str) -> ReplicationError {
    ReplicationError::validation(&[problem.to_string()])
}

fn pattern_problems(pattern: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if pattern.is_empty() {
        problems.push(format!("Autofollow pattern: {pattern} must not be empty"));
    }
    let forbidden = ['\\', '/', '?', '"', '<', '>', '|', ' ', ','];
    if pattern.contains(forbidden) {
        problems.push(format!(
            "Autofollow pattern: {pattern} must not contain the following characters [\\, /, ?, \", <, >, |,  , ,]"
        ));
    }
    if pattern.contains('#') || pattern.contains(':') {
        problems.push(format!(
            "Autofollow pattern: {pattern} must not contain '#' or ':'"
        ));
    }
    if pattern.starts_with('_') || pattern.starts_with('-') {
        problems.push(format!(
            "Autofollow pattern: {pattern} must not start with '_' or '-'"
        ));
    }
    problems
}

impl AutoFollow {
    /// Loads the rules in `data` and starts polling.
    pub fn start(
        service: Arc<NodeReplicationService>,
        client: TransportClient,
        indices: Arc<IndexService>,
        data: &std::path::Path,
        follow_all_alias: Option<String>,
        poll_interval: Option<Duration>,
    ) -> Result<Arc<AutoFollow>, String> {
        let path = data.join(RULES_FILE_NAME);
        let rules = load_rules(&path)?;
        let stats = rules
            .keys()
            .map(|key| (key.clone(), RuleStats::default()))
            .collect();
        let autofollow = Arc::new(AutoFollow {
            service,
            client,
            indices,
            path,
            rules: Mutex::new(rules),
            poll_interval,
            follow_all: follow_all_alias.map(|leader_alias| Rule {
                leader_alias,
                name: FOLLOW_ALL_RULE.to_string(),
                pattern: "*".to_string(),
                settings: json!({}),
                follower_index_pattern: None,
            }),
            stats: Mutex::new(stats),
            wake: tokio::sync::Notify::new(),
        });
        let poller = Arc::downgrade(&autofollow);
        tokio::spawn(async move {
            loop {
                let Some(autofollow) = poller.upgrade() else {
                    return;
                };
                autofollow.poll_all().await;
                let interval = autofollow.poll_interval();
                let woken = {
                    let notified = autofollow.wake.notified();
                    tokio::time::timeout(interval, notified).await.is_ok()
                };
                drop(autofollow);
                let _ = woken;
            }
        });
        Ok(autofollow)
    }

    fn poll_interval(&self) -> Duration {
        self.indices
            .cluster_setting(POLL_INTERVAL_KEY)
            .and_then(|value| {
                crate::indices::settings::parse_time(&crate::config::value_text(&value))
                    .ok()
                    .flatten()
            })
            .or(self.poll_interval)
            .unwrap_or(POLL_INTERVAL_DEFAULT)
            .max(POLL_INTERVAL_MIN)
    }

    fn save(&self, rules: &BTreeMap<String, Rule>) -> Result<(), ReplicationError> {
        save_rules(&self.path, rules).map_err(|error| {
            ReplicationError::replication(format!("failed to save autofollow rules: {error}"))
        })
    }

    /// `POST _plugins/_replication/_autofollow`.
    pub async fn create(&self, body: &Value) -> Result<Value, ReplicationError> {
        let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_string);
        tandem_ccr::service::reject_unknown_fields(
            body,
            "AutoFollowRequestParser",
            &[
                "leader_alias",
                "name",
                "pattern",
                "use_roles",
                "settings",
                "follower_index_pattern",
            ],
        )?;
        let (Some(leader_alias), Some(name)) = (text("leader_alias"), text("name")) else {
            return Err(validation("Missing connection or name in the request"));
        };
        let Some(pattern) = text("pattern") else {
            return Err(validation("Missing pattern"));
        };
        let mut problems = tandem_ccr::service::index_name_problems(&name);
        problems.extend(pattern_problems(&pattern));
        let follower_index_pattern = text("follower_index_pattern");
        if let Some(template) = &follower_index_pattern {
            if !template.contains(PLACEHOLDER) {
                problems.push(format!(
                    "follower_index_pattern must contain the {PLACEHOLDER} placeholder"
                ));
            } else {
                problems.extend(tandem_ccr::service::index_name_problems(
                    &template.replace(PLACEHOLDER, "sample"),
                ));
            }
        }
        problems.extend(tandem_ccr::service::use_roles_problem(body));
        if !problems.is_empty() {
            return Err(ReplicationError::validation(&problems));
        }
        let settings = body.get("settings").cloned().unwrap_or_else(|| json!({}));
        super::follower::flat_overrides(&settings)
            .map_err(|error| super::follower::replication_error(&error))?;
        if self.client.remote(&leader_alias).is_none() {
            return Err(ReplicationError::no_such_remote(&leader_alias));
        }
        let rule = Rule {
            leader_alias: leader_alias.clone(),
            name: name.clone(),
            pattern,
            settings,
            follower_index_pattern,
        };
        {
            let mut rules = self.rules.lock();
            let id = key(&leader_alias, &name);
            if rules.contains_key(&id) {
                return Err(ReplicationError {
                    status: 500,
                    error_type: "exception",
                    reason: "Exisiting autofollow replication rule cannot be recreated/updated"
                        .into(),
                    extra: Vec::new(),
                });
            }
            if rules.len() >= RULES_MAX {
                return Err(ReplicationError::illegal_argument(format!(
                    "at most {RULES_MAX} autofollow rules may exist"
                )));
            }
            let mut next = rules.clone();
            next.insert(id.clone(), rule);
            self.save(&next)?;
            *rules = next;
            self.stats.lock().insert(id, RuleStats::default());
        }
        self.wake.notify_one();
        Ok(json!({"acknowledged": true}))
    }

    /// `DELETE _plugins/_replication/_autofollow`: replications it started keep running.
    pub async fn delete(&self, body: &Value) -> Result<Value, ReplicationError> {
        let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_string);
        if body.get("pattern").is_some() {
            return Err(validation("Unexpected pattern"));
        }
        if body.get("follower_index_pattern").is_some() {
            return Err(validation(
                "Unexpected follower_index_pattern for remove action",
            ));
        }
        let (Some(leader_alias), Some(name)) = (text("leader_alias"), text("name")) else {
            return Err(validation("Missing connection or name in the request"));
        };
        let id = key(&leader_alias, &name);
        let mut rules = self.rules.lock();
        if rules.contains_key(&id) {
            let mut next = rules.clone();
            next.remove(&id);
            self.save(&next)?;
            *rules = next;
            self.stats.lock().remove(&id);
        }
        Ok(json!({"acknowledged": true}))
    }

    /// `GET _plugins/_replication/autofollow_stats`.
    pub fn stats(&self) -> Value {
        let rules = self.rules.lock().clone();
        let stats = self.stats.lock().clone();
        let mut total = RuleStats::default();
        let mut entries = Vec::new();
        for (id, rule) in &rules {
            let rule_stats = stats.get(id).cloned().unwrap_or_default();
            total.success += rule_stats.success;
            total.failed_last_poll += rule_stats.failed_last_poll;
            total.failed_leader_calls += rule_stats.failed_leader_calls;
            total
                .failed_indices
                .extend(rule_stats.failed_indices.iter().cloned());
            entries.push(json!({
                "name": rule.name,
                "pattern": rule.pattern,
                "leader_alias": rule.leader_alias,
                "num_success_start_replication": rule_stats.success,
                "num_failed_start_replication": rule_stats.failed_last_poll,
                "num_failed_leader_calls": rule_stats.failed_leader_calls,
                "failed_indices": rule_stats.failed_indices,
                "last_execution_time": rule_stats.last_execution_millis,
            }));
        }
        json!({
            "num_success_start_replication": total.success,
            "num_failed_start_replication": total.failed_last_poll,
            "num_failed_leader_calls": total.failed_leader_calls,
            "failed_indices": total.failed_indices,
            "autofollow_stats": entries,
        })
    }

    async fn poll_all(&self) {
        let mut rules: Vec<(String, Rule)> = self
            .rules
            .lock()
            .iter()
            .map(|(id, rule)| (id.clone(), rule.clone()))
            .collect();
        if let Some(rule) = &self.follow_all {
            rules.push((key(&rule.leader_alias, &rule.name), rule.clone()));
        }
        for (id, rule) in rules {
            self.poll(&id, &rule).await;
        }
    }

    async fn poll(&self, id: &str, rule: &Rule) {
        let listed = match self.client.remote(&rule.leader_alias) {
            Some(remote) => {
                let request = Message::ListIndicesRequest(ListIndicesRequest {
                    pattern: rule.pattern.clone(),
                });
                tandem_ccr::LeaderClient::call(remote.as_ref(), request, LIST_TIMEOUT).await
            }
            None => Err(tandem_ccr::CallError::Transport {
                retryable: true,
                reason: format!("no such remote cluster: [{}]", rule.leader_alias),
            }),
        };
        let mut stats = self.stats.lock().get(id).cloned().unwrap_or_default();
        stats.last_execution_millis = chrono::Utc::now().timestamp_millis();
        stats.failed_last_poll = 0;
        match listed {
            Ok(Message::IndexList(list)) => {
                for index in list.indices {
                    if index.is_hidden
                        || index.name.starts_with('.')
                        || index.is_follower_index
                        || index.state != IndexState::Open
                        || stats.failed_indices.contains(&index.name)
                    {
                        continue;
                    }
                    let follower = match &rule.follower_index_pattern {
                        Some(template) => template.replace(PLACEHOLDER, &index.name),
                        None => index.name.clone(),
                    };
                    if self.indices.meta(&follower).is_ok()
                        || self.service.is_follower_index(&follower).await
                    {
                        continue;
                    }
                    let body = json!({
                        "leader_alias": rule.leader_alias,
                        "leader_index": index.name,
                        "settings": rule.settings,
                    });
                    match self.service.start(&follower, &body).await {
                        Ok(_) => {
                            stats.success += 1;
                            tracing::info!(rule = %rule.name, leader = %index.name, %follower, "auto-follow started replication");
                        }
                        Err(error) => {
                            stats.failed_last_poll += 1;
                            stats.failed_indices.insert(index.name.clone());
                            tracing::warn!(rule = %rule.name, leader = %index.name, %error, "auto-follow could not start replication");
                        }
                    }
                }
            }
            Ok(_) | Err(_) => stats.failed_leader_calls += 1,
        }
        let kept = self.rules.lock().contains_key(id)
            || self
                .follow_all
                .as_ref()
                .is_some_and(|rule| key(&rule.leader_alias, &rule.name) == id);
        if kept {
            self.stats.lock().insert(id.to_string(), stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_survive_a_reopen_and_corruption_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(RULES_FILE_NAME);
        assert!(load_rules(&path).expect("no file").is_empty());
        let mut rules = BTreeMap::new();
        rules.insert(
            key("leader", "movies"),
            Rule {
                leader_alias: "leader".into(),
                name: "movies".into(),
                pattern: "movies-*".into(),
                settings: json!({"index.number_of_replicas": "0"}),
                follower_index_pattern: Some("{{leader_index}}-copy".into()),
            },
        );
        save_rules(&path, &rules).expect("save");
        assert_eq!(load_rules(&path).expect("load"), rules);
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x40;
        std::fs::write(&path, &bytes).expect("write");
        assert!(load_rules(&path).is_err());
        std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("cut");
        assert!(load_rules(&path).is_err());
    }

    #[test]
    fn patterns_follow_the_spec_rules() {
        assert!(pattern_problems("movies*").is_empty());
        assert!(pattern_problems("Movies*").is_empty());
        assert_eq!(pattern_problems("").len(), 1);
        assert_eq!(pattern_problems("a?b").len(), 1);
        assert_eq!(pattern_problems("a#b").len(), 1);
        assert_eq!(pattern_problems("_a").len(), 1);
    }
}

//! Errors of the replication API, each with OpenSearch's status, type and reason (spec §2.13).

use serde_json::{json, Value};

/// A refused replication request, rendered as OpenSearch renders it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ReplicationError {
    /// HTTP status.
    pub status: u16,
    /// OpenSearch error type.
    pub error_type: &'static str,
    /// OpenSearch reason text.
    pub reason: String,
    /// Extra keys of the error object (`index`, `index_uuid`, `resource.type`, ...).
    pub extra: Vec<(&'static str, String)>,
}

impl ReplicationError {
    fn new(status: u16, error_type: &'static str, reason: impl Into<String>) -> Self {
        ReplicationError {
            status,
            error_type,
            reason: reason.into(),
            extra: Vec::new(),
        }
    }

    /// 400 `action_request_validation_exception` with OpenSearch's "Validation Failed" list.
    pub fn validation(problems: &[String]) -> Self {
        let listed: String = problems
            .iter()
            .enumerate()
            .map(|(index, problem)| format!("{}: {problem};", index + 1))
            .collect::<Vec<_>>()
            .join("");
        Self::new(
            400,
            "action_request_validation_exception",
            format!("Validation Failed: {listed}"),
        )
    }

    /// 400 `illegal_argument_exception`.
    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        Self::new(400, "illegal_argument_exception", reason)
    }

    /// 400 "No replication in progress for index:<f>".
    pub fn not_replicated(index: &str) -> Self {
        Self::illegal_argument(format!("No replication in progress for index:{index}"))
    }

    /// 400 `resource_already_exists_exception`.
    pub fn already_exists(reason: impl Into<String>) -> Self {
        Self::new(400, "resource_already_exists_exception", reason)
    }

    /// 404 `resource_not_found_exception`.
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(404, "resource_not_found_exception", reason)
    }

    /// 404 `no_such_remote_cluster_exception`.
    pub fn no_such_remote(alias: &str) -> Self {
        Self::new(
            404,
            "no_such_remote_cluster_exception",
            format!("no such remote cluster: [{alias}]"),
        )
    }

    /// 404 `index_not_found_exception` with OpenSearch's extra keys.
    pub fn index_not_found(reason_name: &str) -> Self {
        let mut error = Self::new(
            404,
            "index_not_found_exception",
            format!("no such index [{reason_name}]"),
        );
        error.extra = vec![
            ("index", reason_name.to_string()),
            ("index_uuid", "_na_".to_string()),
            ("resource.type", "index_or_alias".to_string()),
            ("resource.id", reason_name.to_string()),
        ];
        error
    }

    /// 500 `illegal_state_exception`.
    pub fn illegal_state(reason: impl Into<String>) -> Self {
        Self::new(500, "illegal_state_exception", reason)
    }

    /// 500 `exception`.
    pub fn plain(reason: impl Into<String>) -> Self {
        Self::new(500, "exception", reason)
    }

    /// 500 `replication_exception`.
    pub fn replication(reason: impl Into<String>) -> Self {
        Self::new(500, "replication_exception", reason)
    }

    /// The error body: `{"error":{"root_cause":[..],"type":..,"reason":..},"status":N}`.
    pub fn to_json(&self) -> Value {
        let mut cause = json!({"type": self.error_type, "reason": self.reason});
        for (key, value) in &self.extra {
            cause[*key] = Value::String(value.clone());
        }
        let mut error = cause.clone();
        error["root_cause"] = json!([cause]);
        json!({"error": error, "status": self.status})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_opensearch_shape() {
        let body = ReplicationError::not_replicated("follower-01").to_json();
        assert_eq!(body["status"], 400);
        assert_eq!(body["error"]["type"], "illegal_argument_exception");
        assert_eq!(
            body["error"]["root_cause"][0]["reason"],
            "No replication in progress for index:follower-01"
        );
        let missing = ReplicationError::index_not_found("leader-01").to_json();
        assert_eq!(missing["error"]["index_uuid"], "_na_");
        assert_eq!(
            missing["error"]["root_cause"][0]["resource.id"],
            "leader-01"
        );
        let validation = ReplicationError::validation(&["a".into(), "b".into()]);
        assert_eq!(validation.reason, "Validation Failed: 1: a;2: b;");
    }
}

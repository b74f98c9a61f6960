//! `follower_stats`: counts of indices by state and sums of shard counters (spec §2.9).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tandem_replication::Phase;

use super::{OverallState, ReplicationState, Running};

pub(super) fn render(state: &ReplicationState, running: &BTreeMap<String, Running>) -> Value {
    let mut counts = [0u64; 4];
    let mut totals = Counters::default();
    let mut shard_tasks = 0u64;
    let mut index_stats = Map::new();
    for (name, record) in &state.followers {
        let statuses = running
            .get(name)
            .map(|running| running.statuses.lock().clone())
            .unwrap_or_default();
        let syncing = statuses
            .values()
            .any(|status| status.phase == Phase::Syncing);
        let slot = match record.state {
            OverallState::Running if syncing => 0,
            OverallState::Running => 1,
            OverallState::Paused => 2,
            OverallState::Failed => 3,
        };
        counts[slot] += 1;
        let mut index = Counters::default();
        for status in statuses.values() {
            index.operations_written += status.operations_written;
            index.operations_read += status.operations_read;
            index.failed_read_requests += status.retries;
            index.follower_checkpoint += status.follower_checkpoint;
            index.leader_checkpoint += status.leader_checkpoint;
            index.total_write_time_millis += status.total_write_time_millis;
            if status.phase == Phase::Syncing {
                shard_tasks += 1;
            }
        }
        totals.add(&index);
        index_stats.insert(name.clone(), index.to_json());
    }
    let mut body = json!({
        "num_syncing_indices": counts[0],
        "num_bootstrapping_indices": counts[1],
        "num_paused_indices": counts[2],
        "num_failed_indices": counts[3],
        "num_shard_tasks": shard_tasks,
        "num_index_tasks": counts[0] + counts[1],
    });
    if let (Some(body), Value::Object(total)) = (body.as_object_mut(), totals.to_json()) {
        body.extend(total);
        body.insert("index_stats".into(), Value::Object(index_stats));
    }
    body
}

#[derive(Default)]
struct Counters {
    operations_written: u64,
    operations_read: u64,
    failed_read_requests: u64,
    follower_checkpoint: i64,
    leader_checkpoint: i64,
    total_write_time_millis: u64,
}

impl Counters {
    fn add(&mut self, other: &Counters) {
        self.operations_written += other.operations_written;
        self.operations_read += other.operations_read;
        self.failed_read_requests += other.failed_read_requests;
        self.follower_checkpoint += other.follower_checkpoint;
        self.leader_checkpoint += other.leader_checkpoint;
        self.total_write_time_millis += other.total_write_time_millis;
    }

    fn to_json(&self) -> Value {
        json!({
            "operations_written": self.operations_written,
            "operations_read": self.operations_read,
            "failed_read_requests": self.failed_read_requests,
            "throttled_read_requests": 0,
            "failed_write_requests": 0,
            "throttled_write_requests": 0,
            "follower_checkpoint": self.follower_checkpoint,
            "leader_checkpoint": self.leader_checkpoint,
            "total_write_time_millis": self.total_write_time_millis,
        })
    }
}

//! Reopening an open index so settings that only take effect when a shard opens (translog
//! durability and sync interval) apply at once.
//!
//! It owns the quiesce: the index leaves the open set (new requests see it as closed for that
//! moment), in-flight users finish, the engines close (refresh + sync) and open again with the
//! new config. It must never let two engines share a shard directory: if users do not finish
//! in time the old engines stay and nothing is reopened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::IndexService;
use crate::error::{NodeError, NodeResult};

/// How long a reopen waits for in-flight requests to let go of the index.
const QUIESCE_WAIT: Duration = Duration::from_secs(10);
/// How often it looks.
const QUIESCE_POLL: Duration = Duration::from_millis(5);

impl IndexService {
    /// Closes and reopens the shards of the open index `name` with its current settings.
    pub fn reopen(&self, name: &str) -> NodeResult<()> {
        let _admin = self.admin.lock();
        let Some(mut handle) = self.open.write().remove(name) else {
            return Ok(());
        };
        let deadline = Instant::now() + QUIESCE_WAIT;
        let owned = loop {
            match Arc::try_unwrap(handle) {
                Ok(owned) => break owned,
                Err(shared) => {
                    if Instant::now() >= deadline {
                        self.open.write().insert(name.to_string(), shared);
                        return Err(NodeError::illegal(format!(
                            "index [{name}] stayed busy; the new translog settings apply when it is next opened"
                        )));
                    }
                    handle = shared;
                    std::thread::sleep(QUIESCE_POLL);
                }
            }
        };
        for (number, shard) in owned.shards.into_iter().enumerate() {
            // Nothing clones a shard's Arc out of its handle, so the handle was its only owner.
            match Arc::try_unwrap(shard) {
                Ok(engine) => engine.close()?,
                Err(_) => {
                    return Err(NodeError::Internal(format!(
                        "shard {number} of [{name}] is still in use; restart the node"
                    )))
                }
            }
        }
        let meta = self.meta(name)?;
        let handle = self.open_shards(&meta, false)?;
        self.open.write().insert(name.to_string(), Arc::new(handle));
        tracing::info!(index = %name, "index reopened for new translog settings");
        Ok(())
    }
}

//! Mapping changes: `PUT _mapping` and dynamic mapping proposed by a shard during a write.
//!
//! It owns the protocol: under the index's mapping lock, merge into the current mapping,
//! persist the cluster state, then install the new version on every shard. A shard never sees
//! a mapping the state file does not hold. It must never parse documents.

use std::sync::Arc;

use serde_json::Value;
use tandem_storage::Mapping;

use super::{IndexHandle, IndexService};
use crate::error::NodeResult;

impl IndexService {
    /// Merges `update` (mapping JSON) into the index's mapping.
    pub fn put_mapping(&self, name: &str, update: &Value) -> NodeResult<()> {
        self.check_not_follower(name)?;
        let update = Mapping::from_json(update, 0)?;
        match self.open.read().get(name).cloned() {
            Some(handle) => self.merge_mapping(&handle, &update),
            None => {
                self.merge_into_state(name, &update)?;
                Ok(())
            }
        }
    }

    /// Installs a mapping a shard proposed for a document (dynamic mapping).
    pub fn apply_proposed(&self, handle: &IndexHandle, proposed: &Mapping) -> NodeResult<()> {
        self.merge_mapping(handle, proposed)
    }

    fn merge_mapping(&self, handle: &IndexHandle, update: &Mapping) -> NodeResult<()> {
        let _serialized = handle.mapping_lock.lock();
        let mapping = match self.merge_into_state(&handle.name, update)? {
            Some(merged) => Arc::new(merged),
            None => {
                let meta = self.meta(&handle.name)?;
                Arc::new(Mapping::from_json(&meta.mapping, meta.mapping_version)?)
            }
        };
        for shard in &handle.shards {
            if shard.mapping().version < mapping.version {
                shard.set_mapping(mapping.clone())?;
            }
        }
        Ok(())
    }

    /// Merges into the persisted mapping; returns the new mapping if it changed.
    fn merge_into_state(&self, name: &str, update: &Mapping) -> NodeResult<Option<Mapping>> {
        self.update_state(|state| {
            let meta = state
                .indices
                .get_mut(name)
                .ok_or_else(|| crate::error::NodeError::no_index(name))?;
            let current = Mapping::from_json(&meta.mapping, meta.mapping_version)?;
            let merged = current.merge(update)?;
            if let Some(merged) = &merged {
                meta.mapping = merged.to_json();
                meta.mapping_version = merged.version;
            }
            Ok(merged)
        })
    }
}

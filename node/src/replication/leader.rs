//! The node's indices as the leader service sees them ([`LocalCluster`]).

use std::sync::Arc;

use tandem_ccr::{LeaderIndex, LocalCluster};
use tandem_replication::MetadataCell;
use tandem_wire::NodeIdentity;

use crate::cluster_state::{IndexMeta, IndexState};
use crate::indices::follower::leader_metadata;
use crate::indices::{IndexService, ResolveOptions};

/// The node's indices, served to followers.
pub struct LeaderIndices {
    pub(super) indices: Arc<IndexService>,
    pub(super) identity: NodeIdentity,
    pub(super) follower_cluster: bool,
}

impl LeaderIndices {
    fn leader_index(&self, meta: &IndexMeta) -> LeaderIndex {
        let handle = self.indices.handle(&meta.name).ok();
        let hidden = meta.name.starts_with('.')
            || meta
                .settings
                .get("index.hidden")
                .is_some_and(|value| value == "true");
        LeaderIndex {
            name: meta.name.clone(),
            uuid: meta.uuid.clone(),
            shards: handle
                .as_ref()
                .map(|handle| handle.shards.clone())
                .unwrap_or_default(),
            metadata: handle.as_ref().map_or_else(
                || Arc::new(MetadataCell::new(leader_metadata(meta))),
                |handle| handle.metadata.clone(),
            ),
            is_follower_index: meta.follower.is_some(),
            closed: meta.state == IndexState::Close,
            is_hidden: hidden,
        }
    }
}

impl LocalCluster for LeaderIndices {
    fn identity(&self) -> NodeIdentity {
        self.identity.clone()
    }

    fn is_follower_cluster(&self) -> bool {
        self.follower_cluster
    }

    fn software_version(&self) -> String {
        crate::rest::root::VERSION_NUMBER.to_string()
    }

    fn index_by_name(&self, name: &str) -> Option<LeaderIndex> {
        let meta = self.indices.meta(name).ok()?;
        Some(self.leader_index(&meta))
    }

    fn index_by_uuid(&self, uuid: &str) -> Option<LeaderIndex> {
        let name = self.indices.name_of_uuid(uuid)?;
        self.index_by_name(&name)
    }

    fn indices_matching(&self, pattern: &str) -> Vec<LeaderIndex> {
        let options = ResolveOptions {
            ignore_unavailable: true,
            match_aliases: false,
            ..ResolveOptions::default()
        };
        self.indices
            .resolve(pattern, options)
            .unwrap_or_default()
            .iter()
            .filter_map(|name| self.indices.meta(name).ok())
            .map(|meta| self.leader_index(&meta))
            .collect()
    }

    fn index_count(&self) -> usize {
        self.indices.index_count()
    }
}

//! The live version map: what the engine knows about ids that the searcher may not show yet.
//!
//! Every write records its id's new seq-no, version and (for an index) the translog location
//! of its source, so a real-time GET and the next write's version checks see it before a
//! refresh. Entries of live documents leave once a refresh has made them searchable.
//! Tombstones (deletes) stay longer: a replica keeps those above the local checkpoint so a
//! stale operation can never resurrect a deleted document, and a primary keeps them for the
//! tombstone retention so versions continue across a delete.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::translog::Location;

/// Most entries the map holds between refreshes before the engine asks for one.
pub const VERSION_MAP_ENTRIES_SOFT_MAX: usize = 1_000_000;

/// The state of one id as of its latest operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocState {
    /// Seq-no of the latest operation on the id.
    pub seq_no: i64,
    /// Primary term of that operation.
    pub primary_term: u64,
    /// Version after that operation.
    pub version: i64,
    /// Whether that operation deleted the document.
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct VersionEntry {
    pub(crate) state: DocState,
    /// Where the source is in the translog (live documents only).
    pub(crate) location: Option<Location>,
    pub(crate) routing: Option<String>,
    /// The refresh epoch in which the entry was written.
    epoch: u64,
    written_at: Instant,
}

#[derive(Debug, Default)]
pub(crate) struct VersionMap {
    entries: HashMap<String, VersionEntry>,
    epoch: u64,
}

impl VersionMap {
    pub(crate) fn get(&self, id: &str) -> Option<&VersionEntry> {
        self.entries.get(id)
    }

    pub(crate) fn put(
        &mut self,
        id: &str,
        state: DocState,
        location: Option<Location>,
        routing: Option<String>,
    ) {
        let entry = VersionEntry {
            state,
            location,
            routing,
            epoch: self.epoch,
            written_at: Instant::now(),
        };
        self.entries.insert(id.to_string(), entry);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Starts a refresh: entries written from now on belong to the next epoch. Returns the
    /// epoch whose entries the refresh will make searchable.
    pub(crate) fn begin_refresh(&mut self) -> u64 {
        let refreshed = self.epoch;
        self.epoch += 1;
        refreshed
    }

    /// After the searcher shows everything of `refreshed_epoch` and before: drops live entries
    /// of those epochs and tombstones that can no longer matter.
    pub(crate) fn finish_refresh(
        &mut self,
        refreshed_epoch: u64,
        local_checkpoint: i64,
        tombstone_retention: Duration,
    ) {
        let now = Instant::now();
        self.entries.retain(|_, entry| {
            if entry.epoch > refreshed_epoch {
                return true;
            }
            if !entry.state.deleted {
                return false;
            }
            // A tombstone above the checkpoint guards against stale ops arriving late.
            entry.state.seq_no > local_checkpoint
                || now.duration_since(entry.written_at) < tombstone_retention
        });
    }
}

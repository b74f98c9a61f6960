//! The live version map: what the engine knows about ids that the searcher may not show yet.
//!
//! Every write records its id's new seq-no, version and (for an index) the translog location
//! of its source, so a real-time GET and the next write's version checks see it before a
//! refresh. Entries of live documents leave once a refresh has made them searchable.
//! Tombstones (deletes) stay longer: a replica keeps those above the local checkpoint so a
//! stale operation can never resurrect a deleted document, and a primary keeps them for the
//! tombstone retention so versions continue across a delete.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;

use crate::translog::Location;

/// Most entries the map holds between refreshes before the engine asks for one.
pub const VERSION_MAP_ENTRIES_SOFT_MAX: usize = 1_000_000;
/// Sub-maps the entries spread over. A hash map that outgrows its table moves every entry at
/// once; near the soft max that is a pause of a hundred milliseconds and more inside one write
/// (or one replicated batch). Spread over sub-maps, each resize moves a 64th of the entries.
const VERSION_SUBMAPS: usize = 64;
const VERSION_SUBMAP_BITS: u32 = VERSION_SUBMAPS.trailing_zeros();
const _: () = assert!(VERSION_SUBMAPS.is_power_of_two());

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

type Submap = HashMap<String, VersionEntry, RandomState>;

#[derive(Debug)]
pub(crate) struct VersionMap {
    submaps: Vec<Submap>,
    /// Picks an id's sub-map; seeded apart from the sub-maps' own hashers.
    router: RandomState,
    epoch: u64,
}

impl Default for VersionMap {
    fn default() -> Self {
        VersionMap {
            submaps: (0..VERSION_SUBMAPS).map(|_| Submap::default()).collect(),
            router: RandomState::default(),
            epoch: 0,
        }
    }
}

impl VersionMap {
    fn submap_of(&self, id: &str) -> usize {
        (self.router.hash_one(id) >> (u64::BITS - VERSION_SUBMAP_BITS)) as usize
    }

    pub(crate) fn get(&self, id: &str) -> Option<&VersionEntry> {
        self.submaps[self.submap_of(id)].get(id)
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
        let submap = self.submap_of(id);
        self.submaps[submap].insert(id.to_string(), entry);
    }

    pub(crate) fn len(&self) -> usize {
        self.submaps.iter().map(HashMap::len).sum()
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
        for submap in &mut self.submaps {
            submap.retain(|_, entry| {
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
            // A table that grew to the soft max keeps its memory otherwise.
            if submap.capacity() > 4 * submap.len().max(1024) {
                submap.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(seq_no: i64, deleted: bool) -> DocState {
        DocState {
            seq_no,
            primary_term: 1,
            version: 1,
            deleted,
        }
    }

    #[test]
    fn entries_spread_over_submaps_are_found_counted_and_dropped_by_refresh() {
        let mut map = VersionMap::default();
        for n in 0..10_000 {
            map.put(&format!("id-{n}"), state(n, n % 10 == 0), None, None);
        }
        assert_eq!(map.len(), 10_000);
        assert!(map.submaps.iter().all(|submap| !submap.is_empty()));
        assert_eq!(map.get("id-42").map(|e| e.state.seq_no), Some(42));
        map.put("id-42", state(20_000, false), None, None);
        assert_eq!(map.len(), 10_000, "an id lives in one sub-map only");
        let refreshed = map.begin_refresh();
        map.put("late", state(30_000, false), None, None);
        map.finish_refresh(refreshed, 5_000, Duration::ZERO);
        // Kept: tombstones above the checkpoint, and what the refresh did not cover.
        assert_eq!(map.len(), 499 + 1);
        assert!(map.get("id-9990").is_some() && map.get("id-10").is_none());
        assert!(map.get("late").is_some());
    }
}

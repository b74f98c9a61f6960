//! End-to-end tests on real shard engines in temporary directories: documents are written
//! through `ShardEngine::write_batch` (installing dynamically proposed mappings as the node
//! would), refreshed, and searched through the public `search` and `count` functions.

mod aggregations;
mod fields;
mod layout;
mod paging;
mod queries;
mod shards;

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::{EngineConfig, EngineError, Mapping, ShardEngine};

use crate::{count, search, CountRequest, SearchError, SearchRequest, ShardTarget};

/// `now` for every test request: 2024-01-10T00:00:00Z.
pub(crate) const NOW_MILLIS: i64 = 1_704_844_800_000;

/// Indexing memory of test engines: tantivy's per-thread minimum keeps tests light.
const TEST_INDEXING_MEMORY_BYTES: usize = 15 * 1024 * 1024;

/// Shards of one or more indices, with their engines kept alive.
pub(crate) struct Cluster {
    _dir: tempfile::TempDir,
    shards: Vec<(String, u32, ShardEngine)>,
}

impl Cluster {
    pub(crate) fn new() -> Cluster {
        Cluster {
            _dir: tempfile::tempdir().expect("temp dir"),
            shards: Vec::new(),
        }
    }

    /// One index with one shard holding `docs`, with an explicit mapping (or dynamic when
    /// `mapping` is null).
    pub(crate) fn single(mapping: Value, docs: &[(&str, Value)]) -> Cluster {
        let mut cluster = Cluster::new();
        cluster.add_shard("idx", mapping, docs);
        cluster
    }

    /// Adds a shard of `index` holding `docs`.
    pub(crate) fn add_shard(&mut self, index: &str, mapping: Value, docs: &[(&str, Value)]) {
        let number = self
            .shards
            .iter()
            .filter(|(name, _, _)| name == index)
            .count() as u32;
        let path = self._dir.path().join(format!("{index}-{number}"));
        let mapping = if mapping.is_null() {
            Mapping::empty()
        } else {
            Mapping::from_json(&mapping, 1).expect("test mapping parses")
        };
        let config = EngineConfig {
            indexing_memory_bytes: TEST_INDEXING_MEMORY_BYTES,
            ..EngineConfig::primary()
        };
        let engine = ShardEngine::create(&path, config, Arc::new(mapping)).expect("engine");
        for (id, source) in docs {
            write_doc(&engine, id, source);
        }
        engine.refresh(false).expect("refresh");
        self.shards.push((index.to_string(), number, engine));
    }

    pub(crate) fn engine(&self, position: usize) -> &ShardEngine {
        &self.shards[position].2
    }

    pub(crate) fn targets(&self) -> Vec<ShardTarget> {
        self.shards
            .iter()
            .map(|(index, number, engine)| ShardTarget::from_engine(index.clone(), *number, engine))
            .collect()
    }

    pub(crate) fn try_search(&self, body: Value) -> Result<Value, SearchError> {
        let request = SearchRequest::from_json(&body, NOW_MILLIS)?;
        search(&request, &self.targets()).map(|response| response.body)
    }

    pub(crate) fn search(&self, body: Value) -> Value {
        self.try_search(body.clone())
            .unwrap_or_else(|error| panic!("search {body} failed: {error:?}"))
    }

    pub(crate) fn search_error(&self, body: Value) -> SearchError {
        match self.try_search(body.clone()) {
            Ok(response) => panic!("search {body} should fail, got {response}"),
            Err(error) => error,
        }
    }

    /// The `_id`s of the hits of `query`, in hit order.
    pub(crate) fn ids(&self, query: Value) -> Vec<String> {
        ids(&self.search(json!({ "query": query, "size": 100 })))
    }

    pub(crate) fn count(&self, body: Value) -> Value {
        let request = CountRequest::from_json(&body, NOW_MILLIS).expect("count parses");
        count(&request, &self.targets()).expect("count runs")
    }
}

/// Writes one document as a primary would, installing the mapping dynamic mapping proposes.
pub(crate) fn write_doc(engine: &ShardEngine, id: &str, source: &Value) {
    let request = WriteRequest::Index(IndexRequest {
        id: id.to_string(),
        source: Bytes::from(source.to_string()),
        routing: None,
        create_only: false,
        version_check: VersionCheck::None,
        auto_generated_id: false,
    });
    for _attempt in 0..4 {
        let mut results = engine
            .write_batch(std::slice::from_ref(&request))
            .expect("batch");
        match results.pop().expect("one result") {
            Ok(_) => return,
            Err(EngineError::MappingUpdateRequired { proposed }) => engine
                .set_mapping(Arc::new(*proposed))
                .expect("install mapping"),
            Err(other) => panic!("writing {id} failed: {other}"),
        }
    }
    panic!("mapping for {id} never settled");
}

pub(crate) fn ids(body: &Value) -> Vec<String> {
    body["hits"]["hits"]
        .as_array()
        .expect("hits array")
        .iter()
        .map(|hit| hit["_id"].as_str().expect("_id").to_string())
        .collect()
}

pub(crate) fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

pub(crate) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| value.to_string()).collect()
}

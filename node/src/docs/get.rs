//! Reads of single documents: real-time GET (from the live version map and translog, or the
//! committed index), used by `GET _doc`, `_source`, `_mget` and `_update`.
//!
//! It owns finding the shard and decoding `_source`. It must never write.

use bytes::Bytes;
use serde_json::Value;
use tandem_storage::engine::DocState;

use super::{target, DocTarget};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::IndexService;

/// A document found by GET.
#[derive(Debug, Clone)]
pub struct FoundDoc {
    /// Seq-no, term and version.
    pub state: DocState,
    /// `_source`, decoded.
    pub source: Value,
    /// The raw `_source` bytes.
    pub raw: Bytes,
    /// Routing it was written with.
    pub routing: Option<String>,
}

/// The outcome of a GET.
#[derive(Debug, Clone)]
pub struct GetOutcome {
    /// The concrete index name.
    pub index: String,
    /// The id.
    pub id: String,
    /// The document, when it exists.
    pub doc: Option<FoundDoc>,
    /// Where it was looked for.
    pub target: DocTarget,
}

/// Real-time GET of `id` in `index`, optionally refreshing the shard first.
pub fn get_doc(
    indices: &IndexService,
    index: &str,
    id: &str,
    routing: Option<&str>,
    refresh: bool,
) -> NodeResult<GetOutcome> {
    let target = target(indices, index, routing.unwrap_or(id), false)?;
    let engine = target.handle.shard(target.shard);
    if refresh {
        engine.refresh(false)?;
    }
    let doc = match engine.get(id)? {
        Some(found) => Some(FoundDoc {
            source: decode_source(&found.source)?,
            state: found.state,
            raw: found.source,
            routing: found.routing,
        }),
        None => None,
    };
    Ok(GetOutcome {
        index: target.handle.name.clone(),
        id: id.to_string(),
        doc,
        target,
    })
}

/// Decodes stored `_source` bytes (an empty source is `{}`).
pub fn decode_source(bytes: &[u8]) -> NodeResult<Value> {
    if bytes.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        NodeError::parse(ParseKind::Json, format!("stored _source is not json: {error}"))
    })
}

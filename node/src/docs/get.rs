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
        NodeError::parse(
            ParseKind::Json,
            format!("stored _source is not json: {error}"),
        )
    })
}

/// Non-real-time GET (`realtime=false`): only what the last refresh made searchable.
pub fn get_doc_searchable(
    indices: &IndexService,
    index: &str,
    id: &str,
    routing: Option<&str>,
) -> NodeResult<GetOutcome> {
    use tandem_storage::mapping::schema::{PRIMARY_TERM_FIELD, SEQ_NO_FIELD, VERSION_FIELD};
    use tantivy::schema::{IndexRecordOption, Value as _};
    use tantivy::{DocSet, TantivyDocument, Term, TERMINATED};

    let target = target(indices, index, routing.unwrap_or(id), false)?;
    let engine = target.handle.shard(target.shard);
    let searcher = engine.searcher();
    let schema = engine.schema();
    let term = Term::from_field_text(schema.id, id);
    let mut doc = None;
    let tantivy_error = |error: tantivy::TantivyError| NodeError::Internal(error.to_string());
    'segments: for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(schema.id).map_err(tantivy_error)?;
        let Some(mut postings) = inverted
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(|error| NodeError::Internal(error.to_string()))?
        else {
            continue;
        };
        let mut current = postings.doc();
        while current != TERMINATED {
            if !segment.is_deleted(current) {
                let fast = segment.fast_fields();
                let column = |name: &str| fast.i64(name).map(|column| column.first(current));
                let seq_no = column(SEQ_NO_FIELD).map_err(tantivy_error)?.unwrap_or(0);
                let version = column(VERSION_FIELD).map_err(tantivy_error)?.unwrap_or(1);
                let primary_term = fast
                    .u64(PRIMARY_TERM_FIELD)
                    .map_err(tantivy_error)?
                    .first(current)
                    .unwrap_or(1);
                let ordinal = u32::try_from(ordinal)
                    .map_err(|_| NodeError::Internal("too many segments".into()))?;
                let stored: TantivyDocument = searcher
                    .doc(tantivy::DocAddress::new(ordinal, current))
                    .map_err(tantivy_error)?;
                let raw = stored
                    .get_first(schema.source)
                    .and_then(|value| value.as_bytes().map(Bytes::copy_from_slice))
                    .unwrap_or_default();
                let routing = stored
                    .get_first(schema.routing)
                    .and_then(|value| value.as_str().map(str::to_string));
                doc = Some(FoundDoc {
                    state: DocState {
                        seq_no,
                        primary_term,
                        version,
                        deleted: false,
                    },
                    source: decode_source(&raw)?,
                    raw,
                    routing,
                });
                break 'segments;
            }
            current = postings.advance();
        }
    }
    Ok(GetOutcome {
        index: target.handle.name.clone(),
        id: id.to_string(),
        doc,
        target,
    })
}

//! The fetch phase: one hit of the final page read from its shard and printed as OpenSearch
//! does (`_index`, `_id`, `_version`/`_seq_no`/`_primary_term` when asked, `_score`,
//! `_routing`, filtered `_source`, `sort` when the request sorted).
//!
//! This module must never decide which hits make the page.

use serde_json::{Map, Value};
use tandem_storage::mapping::schema::{PRIMARY_TERM_FIELD, SEQ_NO_FIELD, VERSION_FIELD};
use tantivy::schema::Value as _;
use tantivy::{DocAddress, TantivyDocument};

use crate::error::FailureCause;
use crate::execute::{score_json, Candidate, ShardTarget, SortKey};
use crate::fetch_fields::FetchFields;
use crate::request::{SearchRequest, StoredFields};

/// How hits print.
pub(crate) struct HitOptions<'a> {
    pub(crate) request: &'a SearchRequest,
    /// The `fields` each hit carries, bound to the hit's shard.
    pub(crate) fields: &'a FetchFields,
    pub(crate) keys: &'a [SortKey],
    pub(crate) scores_tracked: bool,
}

/// Reads and prints one hit.
pub(crate) fn render_hit(
    shard: &ShardTarget,
    candidate: &Candidate,
    options: &HitOptions<'_>,
) -> Result<Value, FailureCause> {
    let address = DocAddress::new(candidate.segment, candidate.doc);
    let document: TantivyDocument = shard.searcher.doc(address)?;
    let id = document
        .get_first(shard.schema.id)
        .and_then(|value| value.as_str().map(str::to_string))
        .ok_or_else(|| FailureCause::internal("a stored document lacks its _id"))?;
    let request = options.request;
    let metadata = request.stored_fields != Some(StoredFields::None);
    let mut hit = Map::new();
    hit.insert("_index".into(), Value::from(shard.index.clone()));
    if metadata {
        hit.insert("_id".into(), Value::from(id));
    }
    if request.version || request.seq_no_primary_term {
        let fast = shard
            .searcher
            .segment_reader(candidate.segment)
            .fast_fields();
        if request.version {
            let version = fast.i64(VERSION_FIELD)?.first(candidate.doc);
            hit.insert("_version".into(), version.map_or(Value::Null, Value::from));
        }
        if request.seq_no_primary_term {
            let seq_no = fast.i64(SEQ_NO_FIELD)?.first(candidate.doc);
            let term = fast.u64(PRIMARY_TERM_FIELD)?.first(candidate.doc);
            hit.insert("_seq_no".into(), seq_no.map_or(Value::Null, Value::from));
            hit.insert(
                "_primary_term".into(),
                term.map_or(Value::Null, Value::from),
            );
        }
    }
    let score = if options.scores_tracked {
        score_json(candidate.score)
    } else {
        Value::Null
    };
    hit.insert("_score".into(), score);
    if let Some(routing) = document
        .get_first(shard.schema.routing)
        .and_then(|value| value.as_str().map(str::to_string))
        .filter(|_| metadata)
    {
        hit.insert("_routing".into(), Value::from(routing));
    }
    let returns_source = request.returns_source();
    let source = if returns_source || options.fields.needs_source() {
        let bytes = document
            .get_first(shard.schema.source)
            .and_then(|value| value.as_bytes())
            .unwrap_or_default();
        let source: Value = serde_json::from_slice(bytes).map_err(|error| {
            FailureCause::internal(format!("stored _source is not JSON: {error}"))
        })?;
        Some(source)
    } else {
        None
    };
    if let (true, Some(source)) = (returns_source, &source) {
        hit.insert("_source".into(), request.source.apply(source));
    }
    if !options.fields.is_empty() {
        let reader = shard.searcher.segment_reader(candidate.segment);
        let fields = options
            .fields
            .read(reader, candidate.doc, source.as_ref())?;
        if !fields.is_empty() {
            hit.insert("fields".into(), Value::Object(fields));
        }
    }
    if request.sort.is_some() {
        let values = candidate
            .values
            .iter()
            .zip(options.keys)
            .map(|(value, key)| value.to_json(key))
            .collect();
        hit.insert("sort".into(), Value::Array(values));
    }
    Ok(Value::Object(hit))
}

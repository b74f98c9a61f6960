//! Finding an id's current state and source in the committed (searchable) index.

use bytes::Bytes;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, Term, TERMINATED};

use super::version_map::DocState;
use super::{EngineError, GetResult};
use crate::mapping::ShardSchema;

/// The live document with `id` in `searcher`, with its state.
pub(crate) fn find_committed(
    searcher: &Searcher,
    schema: &ShardSchema,
    id: &str,
) -> Result<Option<(DocAddress, DocState)>, EngineError> {
    let term = Term::from_field_text(schema.id, id);
    for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(schema.id)?;
        let Some(mut postings) = inverted
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(tantivy::TantivyError::from)?
        else {
            continue;
        };
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if !segment.is_deleted(doc) {
                let fast = segment.fast_fields();
                let seq_no = fast.i64(crate::mapping::schema::SEQ_NO_FIELD)?.first(doc);
                let version = fast.i64(crate::mapping::schema::VERSION_FIELD)?.first(doc);
                let term = fast
                    .u64(crate::mapping::schema::PRIMARY_TERM_FIELD)?
                    .first(doc);
                let (Some(seq_no), Some(version), Some(primary_term)) = (seq_no, version, term)
                else {
                    return Err(EngineError::IllegalState(format!(
                        "document [{id}] lacks its seq-no columns"
                    )));
                };
                let state = DocState {
                    seq_no,
                    primary_term,
                    version,
                    deleted: false,
                };
                let ordinal = u32::try_from(ordinal).expect("segment count fits in u32");
                return Ok(Some((DocAddress::new(ordinal, doc), state)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}

/// The committed document with `id`, with its source and routing.
pub(crate) fn get_committed(
    searcher: &Searcher,
    schema: &ShardSchema,
    id: &str,
) -> Result<Option<GetResult>, EngineError> {
    let Some((address, state)) = find_committed(searcher, schema, id)? else {
        return Ok(None);
    };
    let document: TantivyDocument = searcher.doc(address)?;
    let source = document
        .get_first(schema.source)
        .and_then(|value| value.as_bytes().map(Bytes::copy_from_slice))
        .unwrap_or_default();
    let routing = document
        .get_first(schema.routing)
        .and_then(|value| value.as_str().map(str::to_string));
    Ok(Some(GetResult {
        state,
        source,
        routing,
    }))
}

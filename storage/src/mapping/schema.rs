//! The fixed tantivy schema every shard uses.
//!
//! tantivy's schema cannot change once an index exists, while OpenSearch mappings grow. So the
//! schema never names user fields: mapped values live in two JSON fields keyed by the field's
//! dotted path, one analysed for full text and one raw and columnar for exact values, numbers,
//! booleans and dates. The mapping decides which leaf type a path gets, so a path never mixes
//! types. This module must never depend on a particular mapping.

use tantivy::schema::{
    Field, IndexRecordOption, JsonObjectOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    STORED, STRING,
};

/// Name of the stored, indexed document id field.
pub const ID_FIELD: &str = "_id";
/// Name of the stored source bytes field.
pub const SOURCE_FIELD: &str = "_source";
/// Name of the routing field.
pub const ROUTING_FIELD: &str = "_routing";
/// Name of the sequence number column.
pub const SEQ_NO_FIELD: &str = "_seq_no";
/// Name of the document version column.
pub const VERSION_FIELD: &str = "_version";
/// Name of the primary term column.
pub const PRIMARY_TERM_FIELD: &str = "_primary_term";
/// Name of the JSON field holding analysed (`text`) values.
pub const TEXT_FIELD: &str = "_text";
/// Name of the JSON field holding exact values: keywords, numbers, booleans, dates.
pub const EXACT_FIELD: &str = "_kw";
/// Name of the field listing the paths a document has values for (for `exists`).
pub const FIELD_NAMES_FIELD: &str = "_field_names";

/// Name of the tokenizer used for `text` fields (registered by the engine).
pub const TEXT_TOKENIZER: &str = "default";
/// Name of the tokenizer used for exact values: the value is one token.
pub const RAW_TOKENIZER: &str = "raw";

/// Handles to the fields of the fixed schema.
#[derive(Debug, Clone)]
pub struct ShardSchema {
    /// The tantivy schema itself.
    pub schema: Schema,
    /// `_id`: raw, indexed, stored.
    pub id: Field,
    /// `_source`: stored bytes.
    pub source: Field,
    /// `_routing`: raw, indexed, stored.
    pub routing: Field,
    /// `_seq_no`: i64 column.
    pub seq_no: Field,
    /// `_version`: i64 column.
    pub version: Field,
    /// `_primary_term`: u64 column.
    pub primary_term: Field,
    /// `_text`: analysed JSON values with positions.
    pub text: Field,
    /// `_kw`: exact JSON values, indexed and columnar.
    pub exact: Field,
    /// `_field_names`: one raw token per path present in the document.
    pub field_names: Field,
}

impl ShardSchema {
    /// Builds the schema. Its field order is part of the on-disk format of a shard.
    pub fn build() -> ShardSchema {
        let mut builder = Schema::builder();
        let id = builder.add_text_field(ID_FIELD, STRING | STORED);
        let source = builder.add_bytes_field(SOURCE_FIELD, STORED);
        let routing = builder.add_text_field(ROUTING_FIELD, STRING | STORED);
        // Columnar only: seq-nos are read per document, never searched by term.
        let seq_no = builder.add_i64_field(SEQ_NO_FIELD, FAST);
        let version = builder.add_i64_field(VERSION_FIELD, FAST);
        let primary_term = builder.add_u64_field(PRIMARY_TERM_FIELD, FAST);
        let text_indexing = TextFieldIndexing::default()
            .set_tokenizer(TEXT_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let text = builder.add_json_field(
            TEXT_FIELD,
            JsonObjectOptions::default().set_indexing_options(text_indexing),
        );
        let exact_indexing = TextFieldIndexing::default()
            .set_tokenizer(RAW_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs);
        let exact = builder.add_json_field(
            EXACT_FIELD,
            JsonObjectOptions::default()
                .set_indexing_options(exact_indexing)
                .set_fast(RAW_TOKENIZER),
        );
        let field_names_indexing = TextFieldIndexing::default()
            .set_tokenizer(RAW_TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false);
        let field_names = builder.add_text_field(
            FIELD_NAMES_FIELD,
            TextOptions::default().set_indexing_options(field_names_indexing),
        );
        ShardSchema {
            schema: builder.build(),
            id,
            source,
            routing,
            seq_no,
            version,
            primary_term,
            text,
            exact,
            field_names,
        }
    }

    /// Resolves the handles against a schema read back from disk, failing if it is not ours.
    pub fn from_schema(schema: Schema) -> Option<ShardSchema> {
        let expected = ShardSchema::build();
        if schema != expected.schema {
            return None;
        }
        Some(expected)
    }
}

//! Checks of how storage lays values out in tantivy, which the compiler relies on: dotted keys
//! address as escaped paths, tantivy's own range query misses them, and the escaped form also
//! works if the JSON fields ever turn `expand_dots` on.

use serde_json::json;
use tantivy::collector::Count;
use tantivy::query::{RangeQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, JsonObjectOptions, Schema, STRING};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use super::Cluster;
use crate::compile::column_name;

#[test]
fn dotted_keys_are_one_json_segment_addressed_by_escaping() {
    let cluster = Cluster::single(
        json!(null),
        &[("1", json!({"user": {"age": 30}, "title": "Hello"}))],
    );
    let engine = cluster.engine(0);
    let searcher = engine.searcher();
    let exact = engine.schema().exact;
    let term = |path: &str| {
        let mut term = Term::from_field_json_path(exact, path, false);
        term.append_type_and_str("Hello");
        searcher
            .search(&TermQuery::new(term, IndexRecordOption::Basic), &Count)
            .expect("count")
    };
    assert_eq!(
        term("title\\.keyword"),
        1,
        "escaped path finds the multi-field"
    );
    assert_eq!(
        term("title.keyword"),
        0,
        "unescaped path looks for nested objects"
    );
    let segment = &searcher.segment_readers()[0];
    let column = segment
        .fast_fields()
        .column_opt::<i64>(&column_name("user.age"))
        .expect("column");
    assert_eq!(column.and_then(|c| c.first(0)), Some(30));
}

#[test]
fn tantivy_range_query_misses_dotted_keys_which_is_why_we_scan_columns() {
    let cluster = Cluster::single(json!(null), &[("1", json!({"user": {"age": 30}}))]);
    let engine = cluster.engine(0);
    let mut lower = Term::from_field_json_path(engine.schema().exact, "user\\.age", false);
    lower.append_type_and_fast_value(10i64);
    let range = RangeQuery::new(std::ops::Bound::Included(lower), std::ops::Bound::Unbounded);
    let found = engine.searcher().search(&range, &Count).expect("count");
    assert_eq!(
        found, 0,
        "if this starts matching, tantivy fixed the path encoding"
    );
    assert_eq!(
        cluster.ids(json!({"range": {"user.age": {"gte": 10}}})),
        vec!["1".to_string()]
    );
}

#[test]
fn escaped_paths_also_match_when_expand_dots_is_enabled() {
    let mut builder = Schema::builder();
    let options = JsonObjectOptions::from(STRING).set_expand_dots_enabled();
    let json_field = builder.add_json_field("j", options);
    let schema = builder.build();
    let index = Index::create_in_ram(schema.clone());
    let mut writer: IndexWriter = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("writer");
    let document =
        TantivyDocument::parse_json(&schema, r#"{"j": {"a.b": "x"}}"#).expect("document");
    writer.add_document(document).expect("add");
    writer.commit().expect("commit");
    // With expand_dots on, the escaped key must be written with expand_dots on too, which is
    // what `fields::path_term` does by reading the field's options.
    let mut term = Term::from_field_json_path(json_field, "a\\.b", true);
    term.append_type_and_str("x");
    let searcher = index.reader().expect("reader").searcher();
    let found = searcher
        .search(&TermQuery::new(term, IndexRecordOption::Basic), &Count)
        .expect("count");
    assert_eq!(found, 1);
}

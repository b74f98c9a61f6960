//! tandem-search: OpenSearch's `_search` and `_count` request bodies, parsed into tandem's own
//! query tree and run on the shards' tantivy searchers (work in progress).

#[cfg(test)]
mod probe {
    use std::sync::Arc;

    use bytes::Bytes;
    use serde_json::json;
    use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
    use tandem_storage::{EngineConfig, EngineError, Mapping, ShardEngine};
    use tantivy::collector::Count;
    use tantivy::query::{RangeQuery, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::Term;

    fn write(engine: &ShardEngine, id: &str, source: serde_json::Value) {
        let request = WriteRequest::Index(IndexRequest {
            id: id.into(),
            source: Bytes::from(source.to_string()),
            routing: None,
            create_only: false,
            version_check: VersionCheck::None,
            auto_generated_id: false,
        });
        loop {
            let mut results = engine.write_batch(std::slice::from_ref(&request)).unwrap();
            match results.remove(0) {
                Ok(_) => return,
                Err(EngineError::MappingUpdateRequired { proposed }) => {
                    engine.set_mapping(Arc::new(*proposed)).unwrap()
                }
                Err(other) => panic!("{other}"),
            }
        }
    }

    #[test]
    fn probe_layout() {
        let dir = tempfile::tempdir().unwrap();
        let engine = ShardEngine::create(
            &dir.path().join("s"),
            EngineConfig { indexing_memory_bytes: 15 << 20, ..EngineConfig::primary() },
            Arc::new(Mapping::empty()),
        )
        .unwrap();
        write(&engine, "1", json!({"title": "Hello World", "user": {"age": 30, "name": "bob"}, "price": 3.5}));
        engine.refresh(false).unwrap();
        let searcher = engine.searcher();
        let schema = engine.schema();
        let count = |q: &dyn tantivy::query::Query| searcher.search(q, &Count).unwrap();
        let mut t = Term::from_field_json_path(schema.exact, "title\\.keyword", false);
        t.append_type_and_str("Hello World");
        println!("escaped kw {}", count(&TermQuery::new(t, IndexRecordOption::Basic)));
        let mut t = Term::from_field_json_path(schema.exact, "title.keyword", false);
        t.append_type_and_str("Hello World");
        println!("unescaped kw {}", count(&TermQuery::new(t, IndexRecordOption::Basic)));
        let mut t = Term::from_field_json_path(schema.exact, "user\\.age", false);
        t.append_type_and_fast_value(30i64);
        println!("escaped age {}", count(&TermQuery::new(t.clone(), IndexRecordOption::Basic)));
        let r = RangeQuery::new(std::ops::Bound::Included(t.clone()), std::ops::Bound::Unbounded);
        println!("range age {:?}", searcher.search(&r, &Count));
        let mut t = Term::from_field_json_path(schema.exact, "price", false);
        t.append_type_and_fast_value(3.5f64);
        let r = RangeQuery::new(std::ops::Bound::Included(t.clone()), std::ops::Bound::Unbounded);
        println!("range price {:?}", searcher.search(&r, &Count));
        for seg in searcher.segment_readers() {
            for (name, h) in seg.fast_fields().dynamic_column_handles("_kw.user\\.age").unwrap().into_iter().map(|h| ("x", h)) {
                println!("column {:?} {:?}", name, h.column_type());
            }
            let c = seg.fast_fields().column_opt::<i64>("_kw.user\\.age").unwrap();
            println!("col escaped {:?}", c.map(|c| c.first(0)));
            let c = seg.fast_fields().column_opt::<i64>("_kw.user.age").unwrap();
            println!("col unescaped {:?}", c.map(|c| c.first(0)));
        }
    }
}

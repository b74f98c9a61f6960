//! Compiler unit tests without an index: path escaping, field resolution and value conversion
//! by mapped type.

use serde_json::json;
use tandem_storage::mapping::{Mapping, ShardSchema};
use tantivy::tokenizer::TokenizerManager;

use super::fields::{convert, escape_path, resolve, resolve_searchable, DateContext, ExactValue};
use super::{compile, CompileContext};
use crate::ast::{QueryAst, Scalar};
use crate::error::FailureKind;

fn mapping() -> Mapping {
    let json = json!({"properties": {
        "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
        "n": {"type": "byte"},
        "f": {"type": "float"},
        "b": {"type": "boolean"},
        "d": {"type": "date", "format": "yyyy/MM/dd"},
        "hidden": {"type": "keyword", "index": false},
        "obj": {"properties": {"x": {"type": "keyword"}}}
    }});
    Mapping::from_json(&json, 1).expect("mapping parses")
}

const DATES: DateContext<'static> = DateContext {
    now_millis: 0,
    format: None,
    time_zone: None,
    round_up: false,
};

fn converted(path: &str, value: Scalar) -> Result<Option<ExactValue>, FailureKind> {
    let mapping = mapping();
    let fields = resolve(&mapping, path);
    convert(&fields[0], &value, DATES).map_err(|cause| cause.kind)
}

#[test]
fn paths_escape_dots_and_backslashes() {
    assert_eq!(escape_path("a.b.c"), "a\\.b\\.c");
    assert_eq!(escape_path("a\\b"), "a\\\\b");
    assert_eq!(escape_path("plain"), "plain");
}

#[test]
fn patterns_resolve_to_leaves_and_plain_paths_to_any_field() {
    let mapping = mapping();
    let paths = |pattern: &str| {
        resolve(&mapping, pattern)
            .into_iter()
            .map(|f| f.path)
            .collect::<Vec<_>>()
    };
    assert_eq!(paths("title*"), vec!["title", "title.raw"]);
    assert_eq!(paths("obj"), vec!["obj"]);
    assert_eq!(paths("obj.*"), vec!["obj.x"]);
    assert!(paths("missing").is_empty());
    let searchable = resolve_searchable(&mapping, "*").expect("pattern");
    assert!(searchable.iter().all(|field| field.path != "hidden"));
    let error = resolve_searchable(&mapping, "hidden").expect_err("not indexed");
    assert!(error
        .reason
        .contains("Cannot search on field [hidden] since it is not indexed."));
}

#[test]
fn values_convert_by_mapped_type() {
    assert_eq!(
        converted("n", Scalar::Int(12)),
        Ok(Some(ExactValue::I64(12)))
    );
    assert_eq!(
        converted("n", Scalar::Int(300)),
        Ok(None),
        "out of a byte's range"
    );
    assert_eq!(
        converted("n", Scalar::Float(1.5)),
        Ok(None),
        "fractions never match integers"
    );
    assert_eq!(
        converted("n", Scalar::Str(" 7 ".into())),
        Ok(Some(ExactValue::I64(7)))
    );
    assert_eq!(
        converted("n", Scalar::Str("x".into())),
        Err(FailureKind::QueryShard)
    );
    assert_eq!(
        converted("f", Scalar::Str("2.5".into())),
        Ok(Some(ExactValue::F64(2.5)))
    );
    assert_eq!(
        converted("b", Scalar::Str("true".into())),
        Ok(Some(ExactValue::Bool(true)))
    );
    assert_eq!(converted("b", Scalar::Int(1)), Err(FailureKind::QueryShard));
    assert_eq!(
        converted("d", Scalar::Str("1970/01/02".into())),
        Ok(Some(ExactValue::Date(86_400_000)))
    );
    assert_eq!(
        converted("d", Scalar::Str("1970-01-02".into())),
        Err(FailureKind::Parse)
    );
    assert_eq!(
        converted("title.raw", Scalar::Int(5)),
        Ok(Some(ExactValue::Str("5".into())))
    );
    assert_eq!(converted("obj", Scalar::Int(5)), Ok(None));
}

#[test]
fn the_clause_limit_counts_leaves_across_the_tree() {
    let mapping = mapping();
    let schema = ShardSchema::build();
    let tokenizers = TokenizerManager::default();
    let context = CompileContext::new(&schema, &mapping, &tokenizers, 0);
    let words: Vec<String> = (0..1100).map(|n| format!("w{n}")).collect();
    let query =
        crate::dsl::parse_query(&json!({"match": {"title": words.join(" ")}})).expect("parses");
    let error = compile(&query, &context)
        .map(|_| ())
        .expect_err("too many clauses");
    assert_eq!(error.kind, FailureKind::TooManyClauses);
    let small = CompileContext::new(&schema, &mapping, &tokenizers, 0);
    assert!(compile(&QueryAst::match_all(), &small).is_ok());
}

//! Mapping tests: parsing, merging, dynamic mapping and document conversion against
//! OpenSearch's documented behaviour and error strings.

use serde_json::json;
use tantivy::schema::OwnedValue;

use super::*;

fn mapping(json: serde_json::Value) -> Mapping {
    Mapping::from_json(&json, 1).expect("mapping parses")
}

fn parse(mapping: &Mapping, source: serde_json::Value) -> Result<DocumentParse, MappingError> {
    parse_document(
        mapping,
        source.to_string().as_bytes(),
        "1",
        DynamicMode::Propose,
    )
}

fn parsed(mapping: &Mapping, source: serde_json::Value) -> ParsedDocument {
    match parse(mapping, source) {
        Ok(DocumentParse::Parsed(document)) => document,
        other => panic!("expected a parsed document, got {other:?}"),
    }
}

#[test]
fn mapping_json_round_trips_in_opensearch_shape() {
    let source = json!({
        "dynamic": "strict",
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 10}}},
            "when": {"type": "date", "format": "yyyy-MM-dd"},
            "user": {"properties": {"age": {"type": "integer"}}}
        }
    });
    let parsed = mapping(source.clone());
    assert_eq!(parsed.to_json(), source);
    assert_eq!(
        parsed.field("user.age").map(|f| f.field_type),
        Some(FieldType::Integer)
    );
    assert_eq!(
        parsed.field("title.raw").map(|f| f.field_type),
        Some(FieldType::Keyword)
    );
}

#[test]
fn dotted_names_in_mappings_become_objects() {
    let parsed = mapping(json!({"properties": {"a.b": {"type": "long"}}}));
    assert_eq!(
        parsed.to_json(),
        json!({"properties": {"a": {"properties": {"b": {"type": "long"}}}}})
    );
}

#[test]
fn unknown_types_and_parameters_are_refused_with_opensearch_reasons() {
    let error = Mapping::from_json(&json!({"properties": {"f": {"type": "banana"}}}), 1)
        .expect_err("unknown type");
    assert_eq!(
        error.reason,
        "No handler for type [banana] declared on field [f]"
    );
    let error = Mapping::from_json(
        &json!({"properties": {"f": {"type": "long", "bogus": 1}}}),
        1,
    )
    .expect_err("unknown parameter");
    assert_eq!(
        error.reason,
        "unknown parameter [bogus] on mapper [f] of type [long]"
    );
    assert_eq!(error.kind.opensearch_type(), "mapper_parsing_exception");
}

#[test]
fn merge_adds_fields_and_refuses_type_changes() {
    let base = mapping(json!({"properties": {"a": {"type": "long"}}}));
    let added = base
        .merge(&mapping(json!({"properties": {"b": {"type": "keyword"}}})))
        .expect("merge")
        .expect("changed");
    assert_eq!(added.version, 2);
    assert!(added.field("b").is_some());
    let unchanged = added
        .merge(&mapping(json!({"properties": {"a": {"type": "long"}}})))
        .expect("merge");
    assert!(unchanged.is_none());
    let error = added
        .merge(&mapping(json!({"properties": {"a": {"type": "text"}}})))
        .expect_err("type change");
    assert_eq!(
        error.reason,
        "mapper [a] cannot be changed from type [long] to [text]"
    );
    assert_eq!(error.kind, MappingErrorKind::IllegalArgument);
}

#[test]
fn dynamic_mapping_follows_opensearch_2_defaults() {
    let empty = Mapping::empty();
    let source = json!({
        "name": "tandem", "count": 3, "ratio": 0.5, "ok": true,
        "when": "2024-01-31T10:00:00Z", "nothing": null, "tags": ["a", "b"],
        "user": {"id": 7}
    });
    let DocumentParse::NeedsMapping(proposed) = parse(&empty, source.clone()).expect("parse")
    else {
        panic!("dynamic fields must be proposed");
    };
    assert_eq!(proposed.version, 2);
    assert_eq!(
        proposed.to_json(),
        json!({"properties": {
            "count": {"type": "long"},
            "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "ok": {"type": "boolean"},
            "ratio": {"type": "float"},
            "tags": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "user": {"properties": {"id": {"type": "long"}}},
            "when": {"type": "date"}
        }})
    );
    let document = parsed(&proposed, source);
    assert!(document
        .text_values
        .contains(&("name".into(), OwnedValue::Str("tandem".into()))));
    assert!(document
        .exact_values
        .contains(&("name.keyword".into(), OwnedValue::Str("tandem".into()))));
    assert!(document
        .exact_values
        .contains(&("user.id".into(), OwnedValue::I64(7))));
    assert!(document.exact_values.contains(&(
        "tags.keyword".into(),
        OwnedValue::Array(vec![
            OwnedValue::Str("a".into()),
            OwnedValue::Str("b".into())
        ])
    )));
    assert!(document.field_names.contains(&"user".to_string()));
    assert!(!document.field_names.contains(&"nothing".to_string()));
}

#[test]
fn strict_mapping_refuses_new_fields_and_false_ignores_them() {
    let strict = mapping(json!({"dynamic": "strict", "properties": {"a": {"type": "long"}}}));
    let error = parse(&strict, json!({"a": 1, "b": 2})).expect_err("strict");
    assert_eq!(error.kind, MappingErrorKind::StrictDynamic);
    assert_eq!(
        error.reason,
        "mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed"
    );
    let ignoring = mapping(json!({"dynamic": false, "properties": {"a": {"type": "long"}}}));
    let document = parsed(&ignoring, json!({"a": 1, "b": 2}));
    assert_eq!(
        document.exact_values,
        vec![("a".into(), OwnedValue::I64(1))]
    );
}

#[test]
fn dynamic_templates_map_new_fields_first_match_wins() {
    let templated = mapping(json!({
        "dynamic_templates": [
            {"ids": {"match": "*_id", "match_mapping_type": "string", "mapping": {"type": "keyword"}}},
            {"metrics": {"path_match": "stats.*", "mapping": {"type": "double"}}}
        ]
    }));
    let source = json!({"user_id": "u1", "title": "t", "stats": {"cpu": 1, "mem": 2.5}});
    let DocumentParse::NeedsMapping(proposed) = parse(&templated, source.clone()).expect("parse")
    else {
        panic!("dynamic fields must be proposed");
    };
    let json = proposed.to_json();
    assert_eq!(json["properties"]["user_id"], json!({"type": "keyword"}));
    assert_eq!(
        json["properties"]["title"]["type"], "text",
        "no template: defaults"
    );
    assert_eq!(
        json["properties"]["stats"]["properties"]["cpu"],
        json!({"type": "double"})
    );
    assert_eq!(
        json["dynamic_templates"],
        templated.to_json()["dynamic_templates"]
    );
    assert_eq!(Mapping::from_json(&json, 2).expect("round trip"), proposed);
    let document = parsed(&proposed, source);
    assert!(document
        .exact_values
        .contains(&("user_id".into(), OwnedValue::Str("u1".into()))));
}

#[test]
fn strict_allow_templates_takes_only_templated_fields() {
    let strict = mapping(json!({
        "dynamic": "strict_allow_templates",
        "dynamic_templates": [{"strings": {"match": "foo*", "match_mapping_type": "string", "mapping": {"type": "keyword"}}}],
        "properties": {"test1": {"type": "text"}}
    }));
    assert_eq!(strict.to_json()["dynamic"], "strict_allow_templates");
    let DocumentParse::NeedsMapping(proposed) =
        parse(&strict, json!({"test1": "x", "foo1": "y"})).expect("templated field")
    else {
        panic!("a templated field is mapped");
    };
    assert_eq!(
        proposed.to_json()["properties"]["foo1"],
        json!({"type": "keyword"})
    );
    let error = parse(&strict, json!({"bar": "y"})).expect_err("untemplated");
    assert_eq!(error.kind, MappingErrorKind::StrictDynamic);
    let error = parse(&strict, json!({"foo2": 3})).expect_err("wrong value type");
    assert_eq!(error.kind, MappingErrorKind::StrictDynamic);
    let lenient = mapping(json!({
        "dynamic": "false_allow_templates",
        "dynamic_templates": [{"strings": {"match": "foo*", "mapping": {"type": "keyword"}}}]
    }));
    let DocumentParse::NeedsMapping(proposed) =
        parse(&lenient, json!({"foo": "a", "bar": "b"})).expect("parse")
    else {
        panic!("a templated field is mapped");
    };
    assert!(
        proposed.field("bar").is_none(),
        "untemplated fields stay unmapped"
    );
}

#[test]
fn dynamic_templates_merge_by_name() {
    let base = mapping(json!({"dynamic_templates": [
        {"a": {"match": "a*", "mapping": {"type": "keyword"}}},
        {"b": {"match": "b*", "mapping": {"type": "keyword"}}}
    ]}));
    let update = mapping(json!({"dynamic_templates": [
        {"b": {"match": "b*", "mapping": {"type": "long"}}},
        {"c": {"match": "c*", "mapping": {"type": "keyword"}}}
    ]}));
    let merged = base.merge(&update).expect("merge").expect("changed");
    let names: Vec<&str> = merged.dynamic_templates.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(
        merged.to_json()["dynamic_templates"][1],
        json!({"b": {"match": "b*", "mapping": {"type": "long"}}})
    );
    assert!(
        merged.merge(&update).expect("merge").is_none(),
        "same templates change nothing"
    );
}

#[test]
fn replicas_never_map_dynamically() {
    let empty = Mapping::empty();
    let result = parse_document(&empty, br#"{"x": 1}"#, "1", DynamicMode::Never).expect("parse");
    assert_eq!(result, DocumentParse::Parsed(ParsedDocument::default()));
}

#[test]
fn values_are_coerced_or_refused_by_type() {
    let typed = mapping(json!({"properties": {
        "n": {"type": "integer"}, "b": {"type": "byte"}, "d": {"type": "date"},
        "k": {"type": "keyword", "ignore_above": 3}, "o": {"type": "object"}
    }}));
    let document = parsed(
        &typed,
        json!({"n": "42", "d": 86_400_000, "k": "long value"}),
    );
    assert!(document
        .exact_values
        .contains(&("n".into(), OwnedValue::I64(42))));
    assert!(!document.exact_values.iter().any(|(path, _)| path == "k"));
    let error = parse(&typed, json!({"n": "abc"})).expect_err("not a number");
    assert_eq!(
        error.reason,
        "failed to parse field [n] of type [integer] in document with id '1'. Preview of field's value: 'abc'"
    );
    let error = parse(&typed, json!({"b": 300})).expect_err("out of range");
    assert!(
        error
            .reason
            .contains("Value [300] is out of range for a byte"),
        "{}",
        error.reason
    );
    let error = parse(&typed, json!({"o": 1})).expect_err("scalar into object");
    assert!(
        error.reason.starts_with("object mapping for [o]"),
        "{}",
        error.reason
    );
    let error = parse(&typed, json!({"_id": 1})).expect_err("metadata field");
    assert!(error.reason.starts_with("Field [_id] is a metadata field"));
}

#[test]
fn dotted_document_keys_are_object_paths() {
    let typed = mapping(json!({"properties": {"a": {"properties": {"b": {"type": "long"}}}}}));
    let document = parsed(&typed, json!({"a.b": 5}));
    assert_eq!(
        document.exact_values,
        vec![("a.b".into(), OwnedValue::I64(5))]
    );
}

#[test]
fn malformed_source_is_a_mapper_parsing_error() {
    let error = parse_document(&Mapping::empty(), b"{not json", "1", DynamicMode::Propose)
        .expect_err("bad json");
    assert_eq!(error.kind, MappingErrorKind::MapperParsing);
    let error = parse_document(&Mapping::empty(), b"[1]", "1", DynamicMode::Propose)
        .expect_err("not an object");
    assert_eq!(error.kind, MappingErrorKind::MapperParsing);
}

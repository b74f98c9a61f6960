//! `docvalue_fields` and `stored_fields`: which per-field values hits carry under `fields`, and
//! whether `stored_fields` hides `_source`.
//!
//! `docvalue_fields` names fields (with `*` wildcards) whose columnar values a hit prints, each
//! with an optional format; `stored_fields` lists fields stored apart from `_source` (`_source`
//! itself among them, or `_none_` for no metadata at all). This module must never read a shard.

use serde_json::Value;

use super::SourceFilter;
use crate::dsl::params_plain as plain;
use crate::error::SearchError;
use crate::limits::FETCH_FIELDS_MAX;

/// The special `docvalue_fields` format that means "as the mapping says" (a 6.x leftover).
pub const USE_FIELD_MAPPING_FORMAT: &str = "use_field_mapping";

/// One `docvalue_fields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocValueField {
    /// A field path, possibly with `*` wildcards.
    pub pattern: String,
    /// How values print (a date format or a decimal pattern); `None` as the mapping says.
    pub format: Option<String>,
}

/// What `stored_fields` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredFields {
    /// `_none_`: hits carry neither metadata nor `_source`.
    None,
    /// These fields (`_source` among them to keep the source).
    Listed(Vec<String>),
}

/// The literal that turns off every stored field, metadata included.
const NONE_LITERAL: &str = "_none_";

/// Parses the body's `docvalue_fields`: an array of field names or `{field, format}` objects.
pub(crate) fn parse_docvalue_fields(value: &Value) -> Result<Vec<DocValueField>, SearchError> {
    let Value::Array(items) = value else {
        return Err(SearchError::Parsing(format!(
            "[docvalue_fields] must be an array, found [{}]",
            plain(value)
        )));
    };
    check_count("docvalue_fields", items.len())?;
    items.iter().map(docvalue_field).collect()
}

fn docvalue_field(item: &Value) -> Result<DocValueField, SearchError> {
    match item {
        Value::String(field) => Ok(DocValueField {
            pattern: field.clone(),
            format: None,
        }),
        Value::Object(object) => {
            let mut field = None;
            let mut format = None;
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("field", Value::String(text)) => field = Some(text.clone()),
                    ("format", Value::String(text)) => format = Some(text.clone()),
                    ("format", Value::Null) => {}
                    ("field" | "format", other) => {
                        return Err(SearchError::XContentParse(format!(
                            "[field_and_format] {key} doesn't support values of type: {}",
                            crate::request::token_name(other)
                        )))
                    }
                    (unknown, _) => {
                        return Err(SearchError::XContentParse(format!(
                            "[field_and_format] unknown field [{unknown}]"
                        )))
                    }
                }
            }
            let pattern =
                field.ok_or_else(|| SearchError::XContentParse("Required [field]".to_string()))?;
            Ok(DocValueField {
                pattern,
                format: format.filter(|format| format != USE_FIELD_MAPPING_FORMAT),
            })
        }
        other => Err(SearchError::Parsing(format!(
            "Expected [VALUE_STRING] or [START_OBJECT] in [docvalue_fields] but found [{}]",
            crate::request::token_name(other)
        ))),
    }
}

/// Parses the `docvalue_fields` URL parameter: a comma-separated list of fields.
pub(crate) fn docvalue_fields_param(text: &str) -> Result<Vec<DocValueField>, SearchError> {
    let fields: Vec<DocValueField> = SourceFilter::split_param(text)
        .into_iter()
        .map(|pattern| DocValueField {
            pattern,
            format: None,
        })
        .collect();
    check_count("docvalue_fields", fields.len())?;
    Ok(fields)
}

/// Parses the body's `stored_fields`: one name or an array of names.
pub(crate) fn parse_stored_fields(value: &Value) -> Result<StoredFields, SearchError> {
    let names = match value {
        Value::String(name) => vec![name.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(name) => Ok(name.clone()),
                other => Err(SearchError::Parsing(format!(
                    "Expected [VALUE_STRING] in [stored_fields] but found [{}]",
                    crate::request::token_name(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(SearchError::Parsing(format!(
                "Expected [VALUE_STRING] or [START_ARRAY] in [stored_fields] but found [{}]",
                crate::request::token_name(other)
            )))
        }
    };
    stored_fields_from(names)
}

/// Parses the `stored_fields` URL parameter.
pub(crate) fn stored_fields_param(text: &str) -> Result<StoredFields, SearchError> {
    stored_fields_from(SourceFilter::split_param(text))
}

fn stored_fields_from(names: Vec<String>) -> Result<StoredFields, SearchError> {
    check_count("stored_fields", names.len())?;
    if names.iter().any(|name| name == NONE_LITERAL) {
        if names.len() > 1 {
            return Err(SearchError::IllegalArgument(format!(
                "cannot combine [{NONE_LITERAL}] with other fields"
            )));
        }
        return Ok(StoredFields::None);
    }
    Ok(StoredFields::Listed(names))
}

impl StoredFields {
    /// Whether the list keeps `_source` in hits.
    pub fn keeps_source(&self) -> bool {
        match self {
            StoredFields::None => false,
            StoredFields::Listed(names) => names.iter().any(|name| name == "_source"),
        }
    }

    /// The listed patterns other than `_source`.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        let names: &[String] = match self {
            StoredFields::None => &[],
            StoredFields::Listed(names) => names,
        };
        names
            .iter()
            .map(String::as_str)
            .filter(|name| *name != "_source")
    }
}

fn check_count(key: &str, count: usize) -> Result<(), SearchError> {
    if count > FETCH_FIELDS_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "Trying to retrieve too many {key} fields. Must be less than or equal to: [{FETCH_FIELDS_MAX}] but was [{count}]."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn docvalue_fields_take_names_and_field_format_objects() {
        let parsed = parse_docvalue_fields(&json!([
            "count",
            {"field": "when", "format": "epoch_millis"},
            {"field": "n", "format": "use_field_mapping"}
        ]))
        .unwrap();
        assert_eq!(parsed[0].pattern, "count");
        assert_eq!(parsed[0].format, None);
        assert_eq!(parsed[1].format.as_deref(), Some("epoch_millis"));
        assert_eq!(
            parsed[2].format, None,
            "use_field_mapping means the default"
        );
    }

    #[test]
    fn malformed_docvalue_fields_are_refused() {
        assert!(parse_docvalue_fields(&json!("count")).is_err());
        assert!(parse_docvalue_fields(&json!([1])).is_err());
        assert!(parse_docvalue_fields(&json!([{"format": "x"}])).is_err());
        assert!(parse_docvalue_fields(&json!([{"field": "a", "other": 1}])).is_err());
        let too_many: Vec<Value> = (0..=FETCH_FIELDS_MAX)
            .map(|i| json!(format!("f{i}")))
            .collect();
        assert!(matches!(
            parse_docvalue_fields(&Value::Array(too_many)),
            Err(SearchError::IllegalArgument(_))
        ));
    }

    #[test]
    fn stored_fields_keep_source_only_when_listed() {
        let listed = parse_stored_fields(&json!(["a", "_source"])).unwrap();
        assert!(listed.keeps_source());
        assert_eq!(listed.patterns().collect::<Vec<_>>(), ["a"]);
        assert!(!parse_stored_fields(&json!("a")).unwrap().keeps_source());
        assert_eq!(stored_fields_param("_none_").unwrap(), StoredFields::None);
        assert!(stored_fields_param("_none_,a").is_err());
    }
}

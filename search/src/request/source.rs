//! `_source` filtering: whether hits carry their source, and which parts.
//!
//! Patterns use `*` and match full dotted paths. A field is kept when its path matches an
//! include (or includes are empty) and no exclude; an object is descended into when an include
//! may match below it, and dropped if nothing inside survives. Arrays are filtered element by
//! element. This module must never parse request JSON beyond the `_source` value itself.

use serde_json::{Map, Value};

use crate::dsl::params_plain as plain;
use crate::error::SearchError;
use crate::glob;
use crate::limits::SOURCE_PATTERNS_MAX;

/// What part of `_source` hits carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFilter {
    /// Whether hits carry `_source` at all.
    pub enabled: bool,
    /// Paths (with `*`) to keep; empty keeps everything.
    pub includes: Vec<String>,
    /// Paths (with `*`) to drop.
    pub excludes: Vec<String>,
}

impl Default for SourceFilter {
    fn default() -> Self {
        SourceFilter {
            enabled: true,
            includes: Vec::new(),
            excludes: Vec::new(),
        }
    }
}

impl SourceFilter {
    /// Parses the body's `_source`: a boolean, a pattern, a list of patterns, or
    /// `{"includes": .., "excludes": ..}`.
    pub(crate) fn parse(json: &Value) -> Result<SourceFilter, SearchError> {
        let mut filter = SourceFilter::default();
        match json {
            Value::Bool(enabled) => filter.enabled = *enabled,
            Value::String(_) | Value::Array(_) => filter.includes = patterns("includes", json)?,
            Value::Object(object) => {
                for (key, value) in object {
                    match key.as_str() {
                        "includes" | "include" => filter.includes = patterns(key, value)?,
                        "excludes" | "exclude" => filter.excludes = patterns(key, value)?,
                        unknown => {
                            return Err(SearchError::Parsing(format!(
                                "Unknown key for a {} in [{unknown}].",
                                crate::request::token_name(value)
                            )))
                        }
                    }
                }
            }
            other => {
                return Err(SearchError::Parsing(format!(
                    "Unknown key for a {} in [_source].",
                    crate::request::token_name(other)
                )))
            }
        }
        Ok(filter)
    }

    /// Parses a comma-separated URL list.
    pub(crate) fn split_param(text: &str) -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the filter keeps the source unchanged.
    pub fn is_identity(&self) -> bool {
        self.enabled && self.includes.is_empty() && self.excludes.is_empty()
    }

    /// Applies the filter to a parsed source document.
    pub fn apply(&self, source: &Value) -> Value {
        match source {
            Value::Object(object) if !self.is_identity() => {
                Value::Object(self.filter_object(object, "", false))
            }
            other => other.clone(),
        }
    }

    fn filter_object(
        &self,
        object: &Map<String, Value>,
        prefix: &str,
        included: bool,
    ) -> Map<String, Value> {
        let mut kept = Map::new();
        for (key, value) in object {
            let path = format!("{prefix}{key}");
            if self
                .excludes
                .iter()
                .any(|pattern| glob::matches(pattern, &path))
            {
                continue;
            }
            let fully_included = included
                || self.includes.is_empty()
                || self
                    .includes
                    .iter()
                    .any(|pattern| glob::matches(pattern, &path));
            if let Some(filtered) = self.filter_value(value, &path, fully_included) {
                kept.insert(key.clone(), filtered);
            }
        }
        kept
    }

    fn filter_value(&self, value: &Value, path: &str, included: bool) -> Option<Value> {
        match value {
            Value::Object(inner) => {
                let below = format!("{path}.");
                let may_hold_included = included
                    || self
                        .includes
                        .iter()
                        .any(|pattern| glob::may_match_below(pattern, &below));
                if !may_hold_included {
                    return None;
                }
                let filtered = self.filter_object(inner, &below, included);
                // An object kept only to reach included fields disappears when none survive.
                (included || !filtered.is_empty()).then_some(Value::Object(filtered))
            }
            Value::Array(items) => {
                let filtered: Vec<Value> = items
                    .iter()
                    .filter_map(|item| self.filter_value(item, path, included))
                    .collect();
                (included || !filtered.is_empty()).then_some(Value::Array(filtered))
            }
            scalar => included.then(|| scalar.clone()),
        }
    }
}

fn patterns(key: &str, value: &Value) -> Result<Vec<String>, SearchError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    if items.len() > SOURCE_PATTERNS_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "[_source] lists [{}] patterns, more than the maximum of [{SOURCE_PATTERNS_MAX}]",
            items.len()
        )));
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::String(pattern) => Ok(pattern.clone()),
            other => Err(SearchError::Parsing(format!(
                "[_source] [{key}] must hold strings, found [{}]",
                plain(other)
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filtered(filter: serde_json::Value, source: serde_json::Value) -> serde_json::Value {
        SourceFilter::parse(&filter)
            .expect("filter parses")
            .apply(&source)
    }

    #[test]
    fn includes_keep_matching_paths_and_their_parents() {
        let source = json!({"a": 1, "user": {"name": "x", "age": 3}, "tags": ["t"]});
        assert_eq!(
            filtered(json!("user.name"), source.clone()),
            json!({"user": {"name": "x"}})
        );
        assert_eq!(
            filtered(json!(["a", "tags"]), source.clone()),
            json!({"a": 1, "tags": ["t"]})
        );
        assert_eq!(
            filtered(json!("user"), source.clone()),
            json!({"user": {"name": "x", "age": 3}})
        );
        assert_eq!(
            filtered(json!("u*"), source.clone()),
            json!({"user": {"name": "x", "age": 3}})
        );
        assert_eq!(
            filtered(json!("*.age"), source),
            json!({"user": {"age": 3}})
        );
    }

    #[test]
    fn excludes_drop_subtrees_even_inside_includes() {
        let source = json!({"a": 1, "user": {"name": "x", "secret": 3}});
        assert_eq!(
            filtered(
                json!({"includes": ["user"], "excludes": ["user.secret"]}),
                source.clone()
            ),
            json!({"user": {"name": "x"}})
        );
        assert_eq!(
            filtered(json!({"excludes": "user"}), source),
            json!({"a": 1})
        );
    }

    #[test]
    fn arrays_of_objects_are_filtered_element_by_element() {
        let source = json!({"items": [{"id": 1, "x": 2}, {"id": 3}], "other": 1});
        assert_eq!(
            filtered(json!("items.id"), source),
            json!({"items": [{"id": 1}, {"id": 3}]})
        );
    }

    #[test]
    fn objects_left_empty_by_includes_disappear() {
        let source = json!({"user": {"name": "x"}, "a": 1});
        assert_eq!(filtered(json!("user.missing"), source), json!({}));
    }

    #[test]
    fn booleans_switch_the_source_off_and_bad_shapes_are_refused() {
        assert!(!SourceFilter::parse(&json!(false)).expect("false").enabled);
        assert!(SourceFilter::parse(&json!(1)).is_err());
        assert!(SourceFilter::parse(&json!({"inclusions": []})).is_err());
    }
}

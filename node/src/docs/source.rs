//! `_source` filtering: `_source=false`, field lists, `_source_includes`, `_source_excludes`,
//! with `*` wildcards on dotted paths, as OpenSearch's `XContentMapValues.filter` does.
//!
//! It owns only the filtering of JSON values. It must never read documents from shards.

use serde_json::{Map, Value};

use crate::indices::names::glob_match;

/// What part of `_source` a response carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceFilter {
    /// `_source=false`: none of it.
    pub disabled: bool,
    /// Paths to keep (empty: all).
    pub includes: Vec<String>,
    /// Paths to drop.
    pub excludes: Vec<String>,
    /// Whether the request named `_source` at all (it then shows next to `stored_fields`).
    pub requested: bool,
}

impl SourceFilter {
    /// Whether the source is returned untouched.
    pub fn is_identity(&self) -> bool {
        !self.disabled && self.includes.is_empty() && self.excludes.is_empty()
    }

    /// Filters a source object.
    pub fn apply(&self, source: &Value) -> Value {
        if self.is_identity() {
            return source.clone();
        }
        match source {
            Value::Object(object) => Value::Object(self.filter_object(object, "")),
            other => other.clone(),
        }
    }

    fn filter_object(&self, object: &Map<String, Value>, prefix: &str) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in object {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if self
                .excludes
                .iter()
                .any(|pattern| glob_match(pattern, &path))
            {
                continue;
            }
            let included = self.includes.is_empty()
                || self
                    .includes
                    .iter()
                    .any(|pattern| glob_match(pattern, &path));
            let maybe_deeper = self
                .includes
                .iter()
                .any(|pattern| could_match_below(pattern, &path));
            if included {
                out.insert(key.clone(), self.filter_value(value, &path, true));
            } else if maybe_deeper {
                let filtered = self.filter_value(value, &path, false);
                let keep = match &filtered {
                    Value::Object(inner) => !inner.is_empty(),
                    Value::Array(items) => !items.is_empty(),
                    _ => false,
                };
                if keep {
                    out.insert(key.clone(), filtered);
                }
            }
        }
        out
    }

    fn filter_value(&self, value: &Value, path: &str, included: bool) -> Value {
        match value {
            Value::Object(inner) if included => {
                let sub = SourceFilter {
                    includes: Vec::new(),
                    excludes: self.excludes.clone(),
                    ..SourceFilter::default()
                };
                Value::Object(sub.filter_object(inner, path))
            }
            Value::Object(inner) => Value::Object(self.filter_object(inner, path)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .filter_map(|item| match item {
                        Value::Object(_) | Value::Array(_) => {
                            let filtered = self.filter_value(item, path, included);
                            let empty = filtered.as_object().is_some_and(Map::is_empty);
                            (!empty || included).then_some(filtered)
                        }
                        scalar => included.then(|| scalar.clone()),
                    })
                    .collect(),
            ),
            scalar => scalar.clone(),
        }
    }
}

/// A `_source` filter given in a body (`true`, `false`, a string, a list, or includes/excludes).
pub fn body_source_filter(value: &Value) -> SourceFilter {
    let strings = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(text)) => text
                .split(',')
                .map(|part| part.trim().to_string())
                .collect(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    match value {
        Value::Bool(false) => SourceFilter {
            disabled: true,
            requested: true,
            ..SourceFilter::default()
        },
        Value::Object(object) => SourceFilter {
            disabled: false,
            includes: strings(object.get("includes").or_else(|| object.get("include"))),
            excludes: strings(object.get("excludes").or_else(|| object.get("exclude"))),
            requested: true,
        },
        other => SourceFilter {
            disabled: false,
            includes: strings(Some(other)),
            excludes: Vec::new(),
            requested: true,
        },
    }
}

/// Whether an include pattern may select something under `path`.
fn could_match_below(pattern: &str, path: &str) -> bool {
    let prefix = format!("{path}.");
    pattern.starts_with(&prefix) || pattern.starts_with('*') || {
        let head = pattern.split('*').next().unwrap_or("");
        pattern.contains('*') && (prefix.starts_with(head) || head.starts_with(&prefix))
    }
}

#[cfg(test)]
mod tests {
    //! Include and exclude behaviour.
    use super::*;
    use serde_json::json;

    fn filter(includes: &[&str], excludes: &[&str]) -> SourceFilter {
        SourceFilter {
            disabled: false,
            includes: includes.iter().map(|s| s.to_string()).collect(),
            excludes: excludes.iter().map(|s| s.to_string()).collect(),
            requested: true,
        }
    }

    #[test]
    fn includes_and_excludes_select_paths() {
        let source = json!({"include": {"field1": "v1", "field2": "v2"}, "count": 1});
        assert_eq!(
            filter(&["include.field1"], &[]).apply(&source),
            json!({"include": {"field1": "v1"}})
        );
        assert_eq!(
            filter(&["include"], &["*.field2"]).apply(&source),
            json!({"include": {"field1": "v1"}})
        );
        assert_eq!(filter(&["count"], &[]).apply(&source), json!({"count": 1}));
        assert_eq!(
            filter(&["*.field2"], &[]).apply(&source),
            json!({"include": {"field2": "v2"}})
        );
    }
}

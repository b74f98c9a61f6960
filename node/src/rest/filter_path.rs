//! `filter_path`: keeps only the parts of a JSON response that match dotted patterns with `*`
//! (one level) and `**` (any depth), and `-pattern` exclusions.
//!
//! It owns only the filtering. It must never change values it keeps.

use serde_json::{Map, Value};

use crate::indices::names::glob_match;

/// Filters `value` by `patterns`.
pub(super) fn apply(value: &Value, patterns: &[String]) -> Value {
    let includes: Vec<Vec<&str>> = patterns
        .iter()
        .filter(|pattern| !pattern.starts_with('-'))
        .map(|pattern| pattern.split('.').collect())
        .collect();
    let excludes: Vec<Vec<&str>> = patterns
        .iter()
        .filter_map(|pattern| pattern.strip_prefix('-'))
        .map(|pattern| pattern.split('.').collect())
        .collect();
    let mut result = if includes.is_empty() {
        value.clone()
    } else {
        keep(value, &includes).unwrap_or(Value::Object(Map::new()))
    };
    for exclude in &excludes {
        remove(&mut result, exclude);
    }
    result
}

fn keep(value: &Value, patterns: &[Vec<&str>]) -> Option<Value> {
    if patterns.iter().any(|pattern| pattern.is_empty()) {
        return Some(value.clone());
    }
    match value {
        Value::Object(object) => {
            let mut out = Map::new();
            for (key, inner) in object {
                let mut next: Vec<Vec<&str>> = Vec::new();
                for pattern in patterns {
                    if pattern[0] == "**" {
                        next.push(pattern.clone());
                        next.push(pattern[1..].to_vec());
                        if pattern.len() > 1 && glob_match(pattern[1], key) {
                            next.push(pattern[2..].to_vec());
                        }
                    } else if glob_match(pattern[0], key) {
                        next.push(pattern[1..].to_vec());
                    }
                }
                if next.is_empty() {
                    continue;
                }
                if let Some(kept) = keep(inner, &next) {
                    out.insert(key.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| keep(item, patterns))
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}

fn remove(value: &mut Value, pattern: &[&str]) {
    let Some((first, rest)) = pattern.split_first() else {
        return;
    };
    match value {
        Value::Object(object) => {
            if rest.is_empty() {
                object.retain(|key, _| !glob_match(first, key));
            } else {
                for (key, inner) in object.iter_mut() {
                    if glob_match(first, key) {
                        remove(inner, rest);
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| remove(item, pattern)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    //! Include, wildcard and exclude patterns.
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_keep_matching_paths() {
        let value = json!({"a": {"b": 1, "c": 2}, "items": [{"x": 1, "y": 2}]});
        assert_eq!(apply(&value, &["a.b".into()]), json!({"a": {"b": 1}}));
        assert_eq!(
            apply(&value, &["items.x".into()]),
            json!({"items": [{"x": 1}]})
        );
        assert_eq!(
            apply(&value, &["**.y".into()]),
            json!({"items": [{"y": 2}]})
        );
        assert_eq!(
            apply(&value, &["-a".into()]),
            json!({"items": [{"x": 1, "y": 2}]})
        );
    }
}

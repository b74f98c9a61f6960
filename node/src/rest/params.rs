//! Query parameters: parsing the query string, the parameters every endpoint takes, the
//! check that refuses unknown ones (as OpenSearch does), and typed getters.
//!
//! It owns OpenSearch's value rules (`?refresh` with no value is `true`, booleans are only
//! `true`/`false`). It must never look at bodies or state.

use std::collections::BTreeMap;

use crate::docs::RefreshPolicy;
use crate::error::{NodeError, NodeResult};

/// Parameters every endpoint accepts.
pub const COMMON_PARAMS: &[&str] = &[
    "pretty",
    "filter_path",
    "error_trace",
    "human",
    "source",
    "source_content_type",
];
/// Longest document id, in bytes (OpenSearch's limit).
pub const DOC_ID_BYTES_MAX: usize = 512;

/// The query string of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Parses `a=1&b&c=x%20y`.
    pub fn parse(query: Option<&str>) -> Params {
        let mut values = BTreeMap::new();
        for pair in query
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            values.insert(percent_decode(key), percent_decode(value));
        }
        Params { values }
    }

    /// Refuses any parameter not in `allowed` or [`COMMON_PARAMS`], with OpenSearch's message.
    pub fn check_allowed(&self, path: &str, allowed: &[&str]) -> NodeResult<()> {
        let unknown: Vec<&str> = self
            .values
            .keys()
            .map(String::as_str)
            .filter(|key| !allowed.contains(key) && !COMMON_PARAMS.contains(key))
            .collect();
        match unknown.as_slice() {
            [] => Ok(()),
            [single] => Err(NodeError::illegal(format!(
                "request [{path}] contains unrecognized parameter: [{single}]"
            ))),
            many => Err(NodeError::illegal(format!(
                "request [{path}] contains unrecognized parameters: {}",
                many.iter()
                    .map(|key| format!("[{key}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Every parameter, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The raw value.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A boolean: missing is `default`, empty or `true` is true, `false` is false.
    pub fn bool(&self, key: &str, default: bool) -> NodeResult<bool> {
        match self.str(key) {
            None => Ok(default),
            Some("" | "true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(NodeError::illegal(format!(
                "Failed to parse value [{other}] as only [true] or [false] are allowed."
            ))),
        }
    }

    /// An integer.
    pub fn i64(&self, key: &str) -> NodeResult<Option<i64>> {
        self.str(key)
            .map(|text| {
                text.parse().map_err(|_| {
                    NodeError::illegal(format!(
                        "Failed to parse int parameter [{key}] with value [{text}]"
                    ))
                })
            })
            .transpose()
    }

    /// A comma list (empty when missing).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.str(key)
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `refresh`: `true`/empty, `false`, `wait_for`.
    pub fn refresh(&self) -> NodeResult<RefreshPolicy> {
        match self.str("refresh") {
            None | Some("false") => Ok(RefreshPolicy::None),
            Some("" | "true") => Ok(RefreshPolicy::Immediate),
            Some("wait_for") => Ok(RefreshPolicy::WaitFor),
            Some(other) => Err(NodeError::illegal(format!(
                "Unknown value for refresh: [{other}]."
            ))),
        }
    }
}

/// Refuses ids OpenSearch refuses.
pub fn validate_id(id: &str) -> NodeResult<()> {
    if id.len() > DOC_ID_BYTES_MAX {
        return Err(NodeError::Validation(vec![format!(
            "id [{id}] is too long, must be no longer than {DOC_ID_BYTES_MAX} bytes but was: {}",
            id.len()
        )]));
    }
    if id.is_empty() {
        return Err(NodeError::illegal(
            "if _id is specified it must not be empty",
        ));
    }
    Ok(())
}

/// Decodes `%XX` escapes and `+` (as a space, in query strings).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        match bytes[position] {
            b'%' if position + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[position + 1..position + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        position += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        position += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                position += 1;
            }
            byte => {
                out.push(byte);
                position += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes a path segment (`+` stays `+`).
pub fn decode_segment(segment: &str) -> String {
    percent_decode(&segment.replace('+', "%2B"))
}

#[cfg(test)]
mod tests {
    //! Query-string parsing and the unknown-parameter check.
    use super::*;

    #[test]
    fn flags_without_values_are_true() {
        let params = Params::parse(Some("refresh&pretty=true&x=a%20b"));
        assert_eq!(params.refresh().unwrap(), RefreshPolicy::Immediate);
        assert!(params.bool("pretty", false).unwrap());
        assert_eq!(params.str("x"), Some("a b"));
    }

    #[test]
    fn unknown_parameters_are_refused_like_opensearch() {
        let params = Params::parse(Some("foo=1&pretty"));
        let error = params
            .check_allowed("/idx/_doc/1", &["routing"])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "request [/idx/_doc/1] contains unrecognized parameter: [foo]"
        );
        assert!(params.check_allowed("/", &["foo"]).is_ok());
    }

    #[test]
    fn segments_decode_percent_escapes() {
        assert_eq!(decode_segment("a%2Fb"), "a/b");
        assert_eq!(decode_segment("a+b"), "a+b");
    }
}

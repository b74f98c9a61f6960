//! Index names: OpenSearch's validation rules and messages, and wildcard matching.
//!
//! It owns the rules a new index or alias name must follow and how `*` patterns match. It
//! must never look at cluster state: resolution of expressions lives in the index service.

use crate::error::{NodeError, NodeResult};

/// Longest index name, in bytes (OpenSearch's limit).
pub const INDEX_NAME_BYTES_MAX: usize = 255;

/// OpenSearch's `Strings.INVALID_FILENAME_CHARS`, printed as OpenSearch prints the set.
const INVALID_CHARS_TEXT: &str = "[ , \", *, \\, <, |, ,, >, /, ?]";
const INVALID_CHARS: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ','];

/// Checks a new index name against OpenSearch's rules, with its messages.
pub fn validate_index_name(name: &str) -> NodeResult<()> {
    let invalid = |reason: String| NodeError::InvalidIndexName {
        index: name.to_string(),
        reason,
    };
    if name.contains(INVALID_CHARS) {
        return Err(invalid(format!(
            "must not contain the following characters {INVALID_CHARS_TEXT}"
        )));
    }
    if name.contains('#') {
        return Err(invalid("must not contain '#'".into()));
    }
    if name.contains(':') {
        return Err(invalid("must not contain ':'".into()));
    }
    if name.starts_with(['_', '-', '+']) {
        return Err(invalid("must not start with '_', '-', or '+'".into()));
    }
    if name.to_lowercase() != name {
        return Err(invalid("must be lowercase".into()));
    }
    if name.len() > INDEX_NAME_BYTES_MAX {
        return Err(invalid(format!(
            "index name is too long, ({} > {INDEX_NAME_BYTES_MAX})",
            name.len()
        )));
    }
    if name == "." || name == ".." {
        return Err(invalid("must not be '.' or '..'".into()));
    }
    if name.is_empty() {
        return Err(invalid("must not be empty".into()));
    }
    Ok(())
}

/// Whether `name` matches the glob `pattern` (only `*` is special).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(position) => rest = &rest[position + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Whether an expression means every index.
pub fn is_all(expression: &str) -> bool {
    expression.is_empty() || expression == "_all" || expression == "*"
}

#[cfg(test)]
mod tests {
    //! Naming rules and glob matching.
    use super::*;

    fn reason(name: &str) -> String {
        match validate_index_name(name) {
            Err(NodeError::InvalidIndexName { reason, .. }) => reason,
            other => panic!("expected an invalid name, got {other:?}"),
        }
    }

    #[test]
    fn names_follow_opensearch_rules() {
        assert!(validate_index_name("logs-2024.01").is_ok());
        assert_eq!(reason("Upper"), "must be lowercase");
        assert_eq!(reason("_x"), "must not start with '_', '-', or '+'");
        assert_eq!(reason(".."), "must not be '.' or '..'");
        assert!(reason("a b").starts_with("must not contain the following characters"));
        assert_eq!(reason("a#b"), "must not contain '#'");
        assert!(reason(&"a".repeat(256)).starts_with("index name is too long"));
    }

    #[test]
    fn globs_match_like_opensearch() {
        assert!(glob_match("log*", "logs"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c", "ab"));
        assert!(!glob_match("abc", "abcd"));
    }
}

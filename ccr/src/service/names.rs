//! Index name rules of `_start`, with OpenSearch's messages (spec §2.1).

/// Characters core forbids in index names, in the order OpenSearch prints them.
const INVALID_CHARACTERS: &[char] = &[' ', '"', '*', '\\', '<', '|', ',', '>', '/', '?'];
/// Longest index name, in bytes.
pub(super) const INDEX_NAME_BYTES_MAX: usize = 255;

/// The problems of one index name, as `Value X must ...` texts.
pub fn index_name_problems(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.to_lowercase() != name {
        problems.push(format!("Value {name} must be lowercase"));
    }
    if name.contains(INVALID_CHARACTERS) {
        problems.push(format!(
            "Value {name} must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]"
        ));
    }
    if name.contains('#') || name.contains(':') {
        problems.push(format!("Value {name} must not contain '#' or ':'"));
    }
    if name == "." || name == ".." {
        problems.push(format!("Value {name} must not be '.' or '..'"));
    }
    if name.starts_with(['_', '-', '+']) {
        problems.push(format!(
            "Value {name} must not start with '_' or '-' or '+'"
        ));
    }
    if name.len() > INDEX_NAME_BYTES_MAX {
        problems.push(format!(
            "Value {name} must not be longer than {INDEX_NAME_BYTES_MAX} bytes"
        ));
    }
    if name.starts_with('.') && name != "." && name != ".." {
        problems.push(format!("Value {name} must not start with '.'"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_opensearch_rules() {
        assert!(index_name_problems("follower-01").is_empty());
        assert_eq!(
            index_name_problems("Follower"),
            vec!["Value Follower must be lowercase"]
        );
        assert_eq!(
            index_name_problems("_x"),
            vec!["Value _x must not start with '_' or '-' or '+'"]
        );
        assert_eq!(
            index_name_problems(".hidden"),
            vec!["Value .hidden must not start with '.'"]
        );
        assert_eq!(
            index_name_problems("a:b"),
            vec!["Value a:b must not contain '#' or ':'"]
        );
        assert_eq!(index_name_problems("a b").len(), 1);
    }
}

//! Wildcard patterns with `*` (any run of characters) and `?` (one character), used by
//! `_source` filters, field-name patterns and `wildcard` queries.
//!
//! Matching is iterative with one backtrack point, so it runs in O(pattern × text) at worst and
//! never recurses on user input. This module must never allocate per character matched.

/// Whether `text` matches `pattern` as a whole.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    matches_with(pattern, text, false)
}

/// Whether `text` matches `pattern`, ignoring ASCII case when `case_insensitive`.
pub(crate) fn matches_with(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if case_insensitive {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || same(pattern[p], text[t])) {
            p += 1;
            t += 1;
        } else if let Some((star, star_text)) = backtrack {
            p = star + 1;
            t = star_text + 1;
            backtrack = Some((star, star_text + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Whether some string starting with `prefix` could match `pattern`: used to decide whether
/// an object in `_source` may hold fields an include pattern names.
pub(crate) fn may_match_below(pattern: &str, prefix: &str) -> bool {
    let mut pattern_chars = pattern.chars();
    for expected in prefix.chars() {
        match pattern_chars.next() {
            None => return false,
            Some('*') => return true,
            Some('?') => continue,
            Some(c) if c == expected => continue,
            Some(_) => return false,
        }
    }
    true
}

/// Whether the pattern has wildcard characters at all.
pub(crate) fn is_pattern(text: &str) -> bool {
    text.contains('*') || text.contains('?')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn star_and_question_mark_match_like_lucene_wildcards() {
        assert!(matches("*", ""));
        assert!(matches("a*", "abc"));
        assert!(matches("*c", "abc"));
        assert!(matches("a?c", "abc"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
        assert!(!matches("abc", "abcd"));
        assert!(matches("user.*", "user.name"));
        assert!(matches_with("HeL*", "hello", true));
        assert!(!matches_with("HeL*", "hello", false));
    }

    #[test]
    fn patterns_may_match_below_an_object_prefix() {
        assert!(may_match_below("user.name", "user."));
        assert!(may_match_below("*.name", "user."));
        assert!(may_match_below("us*", "user."));
        assert!(!may_match_below("other.name", "user."));
        assert!(!may_match_below("user", "user."));
    }

    proptest! {
        #[test]
        fn a_literal_pattern_matches_exactly_itself(text in "[a-c.]{0,8}", other in "[a-c.]{0,8}") {
            prop_assert!(matches(&text, &text));
            prop_assert_eq!(matches(&text, &other), text == other);
        }

        #[test]
        fn a_star_suffix_matches_every_extension(text in "[a-c]{0,6}", tail in "[a-c]{0,6}") {
            let pattern = format!("{text}*");
            let extended = format!("{text}{tail}");
            prop_assert!(matches(&pattern, &extended));
        }
    }
}

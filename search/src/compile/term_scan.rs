//! A constant-score query over the string terms of one JSON path: key ranges on keywords and
//! text tokens, prefixes, wildcards and case-insensitive equality.
//!
//! It walks the term dictionary between two keys under the path's prefix (path, end-of-path
//! byte, string type byte) and tests each term's value with a matcher, so it never expands
//! into clauses and never builds an automaton from user input. This module must never look at
//! a mapping.

use std::ops::Bound;

use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, Term};

use crate::glob;

/// How a term's value is tested once inside the key range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueMatcher {
    /// Every term in the range.
    Any,
    /// Terms starting with this (ASCII case folded when asked).
    Prefix {
        prefix: String,
        case_insensitive: bool,
    },
    /// Terms matching a `*`/`?` pattern.
    Wildcard {
        pattern: String,
        case_insensitive: bool,
    },
    /// Terms equal ignoring ASCII case.
    EqualsIgnoreCase(String),
}

impl ValueMatcher {
    fn accepts(&self, value: &str) -> bool {
        match self {
            ValueMatcher::Any => true,
            ValueMatcher::Prefix {
                prefix,
                case_insensitive,
            } => {
                value.len() >= prefix.len()
                    && value.is_char_boundary(prefix.len())
                    && if *case_insensitive {
                        value[..prefix.len()].eq_ignore_ascii_case(prefix)
                    } else {
                        value.starts_with(prefix.as_str())
                    }
            }
            ValueMatcher::Wildcard {
                pattern,
                case_insensitive,
            } => glob::matches_with(pattern, value, *case_insensitive),
            ValueMatcher::EqualsIgnoreCase(expected) => value.eq_ignore_ascii_case(expected),
        }
    }
}

/// String terms of one path whose value lies in `[lower, upper]` and passes the matcher.
#[derive(Debug, Clone)]
pub(crate) struct TermScanQuery {
    field: Field,
    /// Dictionary key prefix of the path's string terms.
    key_prefix: Vec<u8>,
    lower: Bound<String>,
    upper: Bound<String>,
    matcher: ValueMatcher,
}

impl TermScanQuery {
    /// Scans the string terms of `path_term` (a JSON term holding field and path only).
    pub(crate) fn new(
        path_term: Term,
        lower: Bound<String>,
        upper: Bound<String>,
        matcher: ValueMatcher,
    ) -> TermScanQuery {
        let mut typed = path_term;
        typed.append_type_and_str("");
        TermScanQuery {
            field: typed.field(),
            key_prefix: typed.serialized_value_bytes().to_vec(),
            lower,
            upper,
            matcher,
        }
    }

    /// A scan narrowed to the key range a case-sensitive literal prefix allows.
    pub(crate) fn with_literal_prefix(
        path_term: Term,
        literal: &str,
        matcher: ValueMatcher,
    ) -> TermScanQuery {
        let upper = match successor(literal) {
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        TermScanQuery::new(
            path_term,
            Bound::Included(literal.to_string()),
            upper,
            matcher,
        )
    }

    fn key(&self, value: &str) -> Vec<u8> {
        let mut key = self.key_prefix.clone();
        key.extend_from_slice(value.as_bytes());
        key
    }

    fn matching_docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let mut bitset = BitSet::with_max_value(reader.max_doc());
        let inverted = reader.inverted_index(self.field)?;
        let mut builder = inverted.terms().range();
        builder = match &self.lower {
            Bound::Included(value) => builder.ge(self.key(value)),
            Bound::Excluded(value) => builder.gt(self.key(value)),
            Bound::Unbounded => builder.ge(&self.key_prefix),
        };
        builder = match &self.upper {
            Bound::Included(value) => builder.le(self.key(value)),
            Bound::Excluded(value) => builder.lt(self.key(value)),
            Bound::Unbounded => builder.lt(prefix_end(&self.key_prefix)),
        };
        let mut stream = builder.into_stream()?;
        while stream.advance() {
            let Some(value_bytes) = stream.key().get(self.key_prefix.len()..) else {
                continue;
            };
            let Ok(value) = std::str::from_utf8(value_bytes) else {
                continue;
            };
            if !self.matcher.accepts(value) {
                continue;
            }
            let mut postings = inverted
                .read_block_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
            loop {
                let docs = postings.docs();
                if docs.is_empty() {
                    break;
                }
                for doc in docs {
                    bitset.insert(*doc);
                }
                postings.advance();
            }
        }
        Ok(bitset)
    }
}

/// The smallest key greater than every key starting with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    // Only reachable for an all-0xFF prefix, which JSON path keys never are.
    vec![u8::MAX; prefix.len() + 1]
}

/// The smallest string greater than every string starting with `literal`, if any.
fn successor(literal: &str) -> Option<String> {
    let mut chars: Vec<char> = literal.chars().collect();
    while let Some(last) = chars.pop() {
        // The code points after U+D7FF are surrogates; the next character is U+E000.
        let next_code = if last == '\u{D7FF}' {
            0xE000
        } else {
            last as u32 + 1
        };
        if let Some(next) = char::from_u32(next_code) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl Query for TermScanQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for TermScanQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = BitSetDocSet::from(self.matching_docs(reader)?);
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("TermScanQuery", scorer.score()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_follow_their_rules() {
        let prefix = ValueMatcher::Prefix {
            prefix: "Ki".into(),
            case_insensitive: true,
        };
        assert!(prefix.accepts("kimchy"));
        assert!(!prefix.accepts("k"));
        let wildcard = ValueMatcher::Wildcard {
            pattern: "k*y".into(),
            case_insensitive: false,
        };
        assert!(wildcard.accepts("kimchy"));
        assert!(!wildcard.accepts("Kimchy"));
        assert!(ValueMatcher::EqualsIgnoreCase("ABC".into()).accepts("abc"));
    }

    #[test]
    fn successors_bound_prefix_ranges() {
        assert_eq!(successor("ab"), Some("ac".into()));
        assert_eq!(successor(""), None);
        assert_eq!(prefix_end(&[1, 2, 255]), vec![1, 3]);
    }
}

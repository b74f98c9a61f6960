//! tandem's own query tree: what a query means, independent of OpenSearch's JSON and of
//! tantivy.
//!
//! The DSL parser (`dsl`) builds it from request JSON; the compiler (`compile`) turns it into
//! tantivy queries against one shard's mapping. Field paths are kept as written (dotted, maybe
//! with `*` patterns in multi-field queries) and values as written (`Scalar`), because what a
//! value means depends on the field's mapped type, which only a shard knows. This module must
//! never depend on serde or tantivy.

/// A scalar value from a query, kept as the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A JSON string.
    Str(String),
    /// A JSON integer.
    Int(i64),
    /// A JSON number with a fraction, or an integer beyond `i64`.
    Float(f64),
    /// A JSON boolean.
    Bool(bool),
}

impl Scalar {
    /// The value as OpenSearch quotes it in messages and as text analysis sees it.
    pub fn as_text(&self) -> String {
        match self {
            Scalar::Str(text) => text.clone(),
            Scalar::Int(number) => number.to_string(),
            Scalar::Float(number) => number.to_string(),
            Scalar::Bool(flag) => flag.to_string(),
        }
    }
}

/// How the terms of an analysed query combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Any term may match (the default).
    Or,
    /// Every term must match.
    And,
}

/// `minimum_should_match`: an absolute count or a percentage; negative values count from the
/// number of optional clauses downwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinimumShouldMatch {
    /// `3` or `-1`.
    Count(i64),
    /// `"75%"` or `"-25%"`.
    Percent(i64),
}

impl MinimumShouldMatch {
    /// How many of `optional` clauses must match, clamped to `0..=optional` (OpenSearch's
    /// rounding: percentages round towards zero).
    pub fn resolve(self, optional: usize) -> usize {
        let optional_count = optional as i64;
        let required = match self {
            MinimumShouldMatch::Count(count) if count < 0 => optional_count + count,
            MinimumShouldMatch::Count(count) => count,
            MinimumShouldMatch::Percent(percent) if percent < 0 => {
                optional_count - optional_count * -percent / 100
            }
            MinimumShouldMatch::Percent(percent) => optional_count * percent / 100,
        };
        required.clamp(0, optional_count.max(0)) as usize
    }
}

/// What a `match` query matches when analysis leaves no terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroTerms {
    /// Nothing (the default).
    None,
    /// Every document.
    All,
}

/// The analyser a full-text query uses instead of the field's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analyzer {
    /// The field's own (lowercasing word tokenizer for `text`).
    Default,
    /// The whole input as one token.
    Keyword,
    /// Split on whitespace, no lowercasing.
    Whitespace,
}

/// A `match` query (also the unquoted terms of `query_string`).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchQuery {
    /// The dotted field path.
    pub field: String,
    /// The query text or value.
    pub query: Scalar,
    /// How analysed terms combine.
    pub operator: Operator,
    /// Minimum number of terms that must match (with `Operator::Or`).
    pub minimum_should_match: Option<MinimumShouldMatch>,
    /// What an empty analysis matches.
    pub zero_terms: ZeroTerms,
    /// Override of the analyser.
    pub analyzer: Analyzer,
    /// Whether a value that does not fit the field's type matches nothing instead of failing.
    pub lenient: bool,
    /// Score multiplier.
    pub boost: f32,
}

/// A `match_phrase` query.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseQuery {
    /// The dotted field path.
    pub field: String,
    /// The phrase.
    pub query: Scalar,
    /// How many positions terms may move.
    pub slop: u32,
    /// Override of the analyser.
    pub analyzer: Analyzer,
    /// What an empty analysis matches.
    pub zero_terms: ZeroTerms,
    /// Whether a value that does not fit the field's type matches nothing instead of failing.
    pub lenient: bool,
    /// Score multiplier.
    pub boost: f32,
}

/// A field of a multi-field query, maybe a `*` pattern, with its boost (`title^2`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldBoost {
    /// A dotted path or a pattern with `*`.
    pub pattern: String,
    /// Score multiplier of this field.
    pub boost: f32,
}

/// How a `multi_match` combines its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiMatchType {
    /// The best field's score, plus `tie_breaker` times the others (`dis_max`).
    BestFields,
    /// The sum of the fields' scores.
    MostFields,
    /// `match_phrase` on each field, best score wins.
    Phrase,
}

/// A `multi_match` query (also the default-field terms of `query_string`).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiMatchQuery {
    /// The fields; an empty list means every field (`*`).
    pub fields: Vec<FieldBoost>,
    /// The query text or value.
    pub query: Scalar,
    /// How fields combine.
    pub kind: MultiMatchType,
    /// How analysed terms combine within a field.
    pub operator: Operator,
    /// Minimum number of terms that must match within a field.
    pub minimum_should_match: Option<MinimumShouldMatch>,
    /// Weight of the non-best fields with `BestFields`.
    pub tie_breaker: f32,
    /// Phrase slop with `Phrase`.
    pub slop: u32,
    /// What an empty analysis matches.
    pub zero_terms: ZeroTerms,
    /// Override of the analyser.
    pub analyzer: Analyzer,
    /// Whether fields whose type does not fit the value are skipped instead of failing.
    pub lenient: bool,
    /// Score multiplier.
    pub boost: f32,
}

/// One end of a range.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBound {
    /// The value as written (dates may use date math: `now-1d/d`).
    pub value: Scalar,
    /// Whether the value itself is inside the range.
    pub inclusive: bool,
}

/// A `range` query.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    /// The dotted field path.
    pub field: String,
    /// Lower end, if any.
    pub lower: Option<RangeBound>,
    /// Upper end, if any.
    pub upper: Option<RangeBound>,
    /// Date format overriding the field's, for the bounds.
    pub format: Option<String>,
    /// Fixed offset (`+01:00`, `Z`) for date bounds that name no zone.
    pub time_zone: Option<String>,
    /// Score multiplier (ranges score a constant).
    pub boost: f32,
}

/// A `bool` query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoolQuery {
    /// Must match, and score.
    pub must: Vec<QueryAst>,
    /// Must match, no score.
    pub filter: Vec<QueryAst>,
    /// Optional unless nothing else is required; score when they match.
    pub should: Vec<QueryAst>,
    /// Must not match.
    pub must_not: Vec<QueryAst>,
    /// How many `should` clauses must match.
    pub minimum_should_match: Option<MinimumShouldMatch>,
    /// Score multiplier.
    pub boost: f32,
}

/// The query tree.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryAst {
    /// Every document, scoring `boost`.
    MatchAll {
        /// Score of every document.
        boost: f32,
    },
    /// No document.
    MatchNone,
    /// Analysed full-text match.
    Match(MatchQuery),
    /// Analysed phrase.
    MatchPhrase(PhraseQuery),
    /// A match over several fields.
    MultiMatch(MultiMatchQuery),
    /// One exact value, not analysed.
    Term {
        /// The dotted field path.
        field: String,
        /// The value.
        value: Scalar,
        /// Compare keywords ignoring ASCII case.
        case_insensitive: bool,
        /// Score multiplier.
        boost: f32,
    },
    /// Any of several exact values (constant score).
    Terms {
        /// The dotted field path.
        field: String,
        /// The values.
        values: Vec<Scalar>,
        /// Score of a match.
        boost: f32,
    },
    /// Values within bounds (constant score).
    Range(RangeQuery),
    /// Documents with any value for the field (constant score).
    Exists {
        /// The dotted field path, maybe a `*` pattern.
        field: String,
        /// Score of a match.
        boost: f32,
    },
    /// Documents with these ids (constant score).
    Ids {
        /// The ids.
        values: Vec<String>,
        /// Score of a match.
        boost: f32,
    },
    /// Terms starting with a prefix (constant score).
    Prefix {
        /// The dotted field path.
        field: String,
        /// The prefix.
        value: String,
        /// Compare ignoring ASCII case.
        case_insensitive: bool,
        /// Score of a match.
        boost: f32,
    },
    /// Terms matching a pattern with `*` and `?` (constant score).
    Wildcard {
        /// The dotted field path.
        field: String,
        /// The pattern.
        pattern: String,
        /// Compare ignoring ASCII case.
        case_insensitive: bool,
        /// Score of a match.
        boost: f32,
    },
    /// Boolean combination.
    Bool(BoolQuery),
    /// The inner query's matches, scoring `boost`.
    ConstantScore {
        /// The query deciding which documents match.
        filter: Box<QueryAst>,
        /// Score of a match.
        boost: f32,
    },
    /// The best of several queries' scores plus `tie_breaker` times the others.
    DisMax {
        /// The queries.
        queries: Vec<QueryAst>,
        /// Weight of the non-best scores.
        tie_breaker: f32,
        /// Score multiplier.
        boost: f32,
    },
}

/// Boost when a query names none.
pub const BOOST_DEFAULT: f32 = 1.0;

impl QueryAst {
    /// `match_all` with the default boost.
    pub fn match_all() -> QueryAst {
        QueryAst::MatchAll {
            boost: BOOST_DEFAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_should_match_follows_opensearch_rounding() {
        assert_eq!(MinimumShouldMatch::Count(2).resolve(3), 2);
        assert_eq!(MinimumShouldMatch::Count(5).resolve(3), 3);
        assert_eq!(MinimumShouldMatch::Count(-1).resolve(3), 2);
        assert_eq!(MinimumShouldMatch::Percent(75).resolve(3), 2);
        assert_eq!(MinimumShouldMatch::Percent(-25).resolve(3), 3);
        assert_eq!(MinimumShouldMatch::Percent(-25).resolve(4), 3);
        assert_eq!(MinimumShouldMatch::Percent(100).resolve(0), 0);
    }
}

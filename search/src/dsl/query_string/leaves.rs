//! Leaf queries of `query_string`: how a word, phrase or range becomes a query on a named
//! field or on the default fields, and how clauses combine into a `bool`.
//!
//! This module must never read the query text; the parser hands it words and phrases.

use super::{Conjunction, Modifier, Occur, Parser, Word};
use crate::ast::{
    BoolQuery, FieldBoost, MatchQuery, MultiMatchQuery, MultiMatchType, Operator, PhraseQuery,
    QueryAst, RangeBound, RangeQuery, Scalar, ZeroTerms, BOOST_DEFAULT,
};
use crate::error::SearchError;

impl Parser<'_> {
    fn default_fields(&self) -> Vec<FieldBoost> {
        if self.options.fields.is_empty() {
            return vec![FieldBoost {
                pattern: "*".into(),
                boost: BOOST_DEFAULT,
            }];
        }
        self.options.fields.clone()
    }

    /// The one default field when it is a plain path (no pattern).
    fn single_default_field(&self) -> Option<FieldBoost> {
        match self.options.fields.as_slice() {
            [single] if !crate::glob::is_pattern(&single.pattern) => Some(single.clone()),
            _ => None,
        }
    }

    fn lenient(&self, field: Option<&str>) -> bool {
        let all_fields = field.is_none() && self.options.fields.is_empty();
        self.options.lenient.unwrap_or(all_fields)
    }

    /// Builds `leaf(field)` for a named field, or one per default field under `dis_max`.
    fn per_field(&self, field: Option<&str>, leaf: impl Fn(String) -> QueryAst) -> QueryAst {
        if let Some(field) = field {
            return leaf(field.to_string());
        }
        let fields = self.default_fields();
        if let [single] = fields.as_slice() {
            return with_boost(leaf(single.pattern.clone()), single.boost);
        }
        QueryAst::DisMax {
            queries: fields
                .into_iter()
                .map(|f| with_boost(leaf(f.pattern), f.boost))
                .collect(),
            tie_breaker: self.options.tie_breaker,
            boost: BOOST_DEFAULT,
        }
    }

    pub(super) fn leaf_word(
        &self,
        field: Option<&str>,
        word: Word,
    ) -> Result<QueryAst, SearchError> {
        if word.has_wildcard {
            if word.text == "*" {
                return Ok(match field {
                    None => QueryAst::match_all(),
                    Some(field) => QueryAst::Exists {
                        field: field.to_string(),
                        boost: BOOST_DEFAULT,
                    },
                });
            }
            let leading = word.text.starts_with(['*', '?']);
            if leading && !self.options.allow_leading_wildcard {
                return Err(
                    self.error("'*' or '?' not allowed as first character in WildcardQuery")
                );
            }
            let body = &word.text[..word.text.len() - 1];
            let is_prefix = word.text.ends_with('*') && !body.contains(['*', '?']);
            return Ok(self.per_field(field, |field| {
                if is_prefix {
                    QueryAst::Prefix {
                        field,
                        value: body.to_string(),
                        case_insensitive: false,
                        boost: BOOST_DEFAULT,
                    }
                } else {
                    QueryAst::Wildcard {
                        field,
                        pattern: word.text.clone(),
                        case_insensitive: false,
                        boost: BOOST_DEFAULT,
                    }
                }
            }));
        }
        let query = Scalar::Str(word.text);
        let lenient = self.lenient(field);
        let (field, boost) = match (field, self.single_default_field()) {
            (Some(field), _) => (field.to_string(), BOOST_DEFAULT),
            (None, Some(single)) => (single.pattern, single.boost),
            (None, None) => {
                let multi = self.multi_match(query, MultiMatchType::BestFields, 0);
                return Ok(QueryAst::MultiMatch(multi));
            }
        };
        Ok(QueryAst::Match(MatchQuery {
            field,
            query,
            operator: self.options.default_operator,
            minimum_should_match: None,
            zero_terms: ZeroTerms::None,
            analyzer: self.options.analyzer,
            lenient,
            boost,
        }))
    }

    pub(super) fn leaf_phrase(
        &self,
        field: Option<&str>,
        phrase: String,
        slop: Option<u32>,
    ) -> QueryAst {
        let slop = slop.unwrap_or(self.options.phrase_slop);
        let query = Scalar::Str(phrase);
        let lenient = self.lenient(field);
        let (field, boost) = match (field, self.single_default_field()) {
            (Some(field), _) => (field.to_string(), BOOST_DEFAULT),
            (None, Some(single)) => (single.pattern, single.boost),
            (None, None) => {
                return QueryAst::MultiMatch(self.multi_match(query, MultiMatchType::Phrase, slop))
            }
        };
        QueryAst::MatchPhrase(PhraseQuery {
            field,
            query,
            slop,
            analyzer: self.options.analyzer,
            zero_terms: ZeroTerms::None,
            lenient,
            boost,
        })
    }

    fn multi_match(&self, query: Scalar, kind: MultiMatchType, slop: u32) -> MultiMatchQuery {
        MultiMatchQuery {
            fields: self.default_fields(),
            query,
            kind,
            operator: self.options.default_operator,
            minimum_should_match: None,
            tie_breaker: self.options.tie_breaker,
            slop,
            zero_terms: ZeroTerms::None,
            analyzer: self.options.analyzer,
            lenient: self.lenient(None),
            boost: BOOST_DEFAULT,
        }
    }

    pub(super) fn leaf_range(
        &self,
        field: Option<&str>,
        lower: Option<RangeBound>,
        upper: Option<RangeBound>,
    ) -> QueryAst {
        self.per_field(field, |field| {
            QueryAst::Range(RangeQuery {
                field,
                lower: lower.clone(),
                upper: upper.clone(),
                format: None,
                time_zone: self.options.time_zone.clone(),
                boost: BOOST_DEFAULT,
            })
        })
    }
}

/// Lucene's `QueryParserBase.addClause`: a conjunction also changes the previous clause
/// (`a AND b` makes `a` required; with `default_operator` AND, `a OR b` makes `a` optional).
pub(super) fn add_clause(
    clauses: &mut Vec<(Occur, QueryAst)>,
    conjunction: Conjunction,
    modifier: Modifier,
    query: QueryAst,
    default_operator: Operator,
) {
    if let Some(last) = clauses.last_mut() {
        let prohibited_before = last.0 == Occur::MustNot;
        if conjunction == Conjunction::And && !prohibited_before {
            last.0 = Occur::Must;
        }
        if default_operator == Operator::And && conjunction == Conjunction::Or && !prohibited_before
        {
            last.0 = Occur::Should;
        }
    }
    let prohibited = modifier == Modifier::Prohibited;
    let required = match default_operator {
        Operator::Or => {
            modifier == Modifier::Required || (conjunction == Conjunction::And && !prohibited)
        }
        Operator::And => !prohibited && conjunction != Conjunction::Or,
    };
    let occur = if prohibited {
        Occur::MustNot
    } else if required {
        Occur::Must
    } else {
        Occur::Should
    };
    clauses.push((occur, query));
}

pub(super) fn build_bool(clauses: Vec<(Occur, QueryAst)>) -> QueryAst {
    if clauses.is_empty() {
        return QueryAst::MatchNone;
    }
    if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
        let mut clauses = clauses;
        return clauses.remove(0).1;
    }
    let mut query = BoolQuery {
        boost: BOOST_DEFAULT,
        ..BoolQuery::default()
    };
    for (occur, clause) in clauses {
        match occur {
            Occur::Must => query.must.push(clause),
            Occur::Should => query.should.push(clause),
            Occur::MustNot => query.must_not.push(clause),
        }
    }
    QueryAst::Bool(query)
}

/// Multiplies a query's boost by `factor`.
pub(crate) fn with_boost(query: QueryAst, factor: f32) -> QueryAst {
    if factor == BOOST_DEFAULT {
        return query;
    }
    let mut query = query;
    match &mut query {
        QueryAst::MatchNone => {}
        QueryAst::MatchAll { boost }
        | QueryAst::Term { boost, .. }
        | QueryAst::Terms { boost, .. }
        | QueryAst::Exists { boost, .. }
        | QueryAst::Ids { boost, .. }
        | QueryAst::Prefix { boost, .. }
        | QueryAst::Wildcard { boost, .. }
        | QueryAst::ConstantScore { boost, .. }
        | QueryAst::DisMax { boost, .. } => *boost *= factor,
        QueryAst::Match(inner) => inner.boost *= factor,
        QueryAst::MatchPhrase(inner) => inner.boost *= factor,
        QueryAst::MultiMatch(inner) => inner.boost *= factor,
        QueryAst::Range(inner) => inner.boost *= factor,
        QueryAst::Bool(inner) => inner.boost *= factor,
    }
    query
}

//! Compiling a [`QueryAst`] into a tantivy query for one shard.
//!
//! The mapping decides what each field path means: which JSON field holds it (`_text` or
//! `_kw`), which value type a term needs, and whether a query applies at all (an unmapped
//! field matches nothing; a type mismatch fails with OpenSearch's message). Scoring follows
//! OpenSearch: BM25 for text and keyword terms, constant scores for numbers, dates, ranges,
//! `terms`, `exists`, `ids`, prefixes and wildcards, zero for `filter` clauses. This module
//! must never run a search.

mod fast_range;
mod fields;
mod range;
mod term_level;
mod term_scan;
mod text;

#[cfg(test)]
mod tests;

use std::cell::Cell;

use tandem_storage::mapping::{Mapping, ShardSchema};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, Occur,
    Query,
};
use tantivy::tokenizer::TokenizerManager;

pub(crate) use fields::{column_name, resolve, FieldKind};

use crate::ast::{BoolQuery, QueryAst, BOOST_DEFAULT};
use crate::error::{FailureCause, FailureKind};
use crate::limits::QUERY_CLAUSES_MAX;

/// A compiled query.
pub(crate) type Compiled = Box<dyn Query>;

/// What compiling needs to know about the shard and the request.
pub(crate) struct CompileContext<'a> {
    pub(crate) schema: &'a ShardSchema,
    pub(crate) mapping: &'a Mapping,
    pub(crate) tokenizers: &'a TokenizerManager,
    pub(crate) now_millis: i64,
    /// Leaf clauses built so far, checked against `QUERY_CLAUSES_MAX`.
    clauses: Cell<usize>,
}

impl<'a> CompileContext<'a> {
    pub(crate) fn new(
        schema: &'a ShardSchema,
        mapping: &'a Mapping,
        tokenizers: &'a TokenizerManager,
        now_millis: i64,
    ) -> CompileContext<'a> {
        CompileContext {
            schema,
            mapping,
            tokenizers,
            now_millis,
            clauses: Cell::new(0),
        }
    }

    /// Counts `count` more leaf clauses, failing past the limit.
    pub(crate) fn count_clauses(&self, count: usize) -> Result<(), FailureCause> {
        let total = self.clauses.get().saturating_add(count);
        self.clauses.set(total);
        if total > QUERY_CLAUSES_MAX {
            return Err(too_many_clauses());
        }
        Ok(())
    }
}

pub(crate) fn too_many_clauses() -> FailureCause {
    FailureCause {
        kind: FailureKind::TooManyClauses,
        reason: format!("maxClauseCount is set to {QUERY_CLAUSES_MAX}"),
    }
}

/// Compiles `query` against one shard.
pub(crate) fn compile(
    query: &QueryAst,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    match query {
        QueryAst::MatchAll { boost } => Ok(constant(Box::new(AllQuery), *boost)),
        QueryAst::MatchNone => Ok(none()),
        QueryAst::Bool(bool_query) => compile_bool(bool_query, context),
        QueryAst::ConstantScore { filter, boost } => {
            Ok(constant(compile(filter, context)?, *boost))
        }
        QueryAst::DisMax {
            queries,
            tie_breaker,
            boost,
        } => {
            let compiled = queries
                .iter()
                .map(|inner| compile(inner, context))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(boosted(dis_max(compiled, *tie_breaker), *boost))
        }
        QueryAst::Match(inner) => text::compile_match(inner, context),
        QueryAst::MatchPhrase(inner) => text::compile_phrase(inner, context),
        QueryAst::MultiMatch(inner) => text::compile_multi_match(inner, context),
        QueryAst::Term {
            field,
            value,
            case_insensitive,
            boost,
        } => term_level::compile_term(field, value, *case_insensitive, *boost, context),
        QueryAst::Terms {
            field,
            values,
            boost,
        } => term_level::compile_terms(field, values, *boost, context),
        QueryAst::Range(range) => range::compile_range(range, context),
        QueryAst::Exists { field, boost } => term_level::compile_exists(field, *boost, context),
        QueryAst::Ids { values, boost } => term_level::compile_ids(values, *boost, context),
        QueryAst::Prefix {
            field,
            value,
            case_insensitive,
            boost,
        } => term_level::compile_prefix(field, value, *case_insensitive, *boost, context),
        QueryAst::Wildcard {
            field,
            pattern,
            case_insensitive,
            boost,
        } => term_level::compile_wildcard(field, pattern, *case_insensitive, *boost, context),
    }
}

/// OpenSearch's `bool`: `filter` clauses must match without scoring; `should` clauses are
/// required (one of them) only when nothing else is, unless `minimum_should_match` says
/// otherwise; a query of only `must_not` clauses matches everything else with score 0.
fn compile_bool(query: &BoolQuery, context: &CompileContext<'_>) -> Result<Compiled, FailureCause> {
    let clause_count =
        query.must.len() + query.filter.len() + query.should.len() + query.must_not.len();
    if clause_count > QUERY_CLAUSES_MAX {
        return Err(too_many_clauses());
    }
    if clause_count == 0 {
        return Ok(constant(Box::new(AllQuery), query.boost));
    }
    let mut clauses: Vec<(Occur, Compiled)> = Vec::with_capacity(clause_count + 1);
    for inner in &query.must {
        clauses.push((Occur::Must, compile(inner, context)?));
    }
    for inner in &query.filter {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(compile(inner, context)?, 0.0)),
        ));
    }
    for inner in &query.should {
        clauses.push((Occur::Should, compile(inner, context)?));
    }
    for inner in &query.must_not {
        clauses.push((Occur::MustNot, compile(inner, context)?));
    }
    let required = query.must.len() + query.filter.len();
    let optional = query.should.len();
    let minimum = match query.minimum_should_match {
        Some(spec) => spec.resolve(optional),
        None if required == 0 && optional > 0 => 1,
        None => 0,
    };
    if required == 0 && optional == 0 {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)),
        ));
    }
    let compiled = BooleanQuery::with_minimum_required_clauses(clauses, minimum);
    Ok(boosted(Box::new(compiled), query.boost))
}

/// A query matching nothing.
pub(crate) fn none() -> Compiled {
    Box::new(EmptyQuery)
}

/// `query` with its scores multiplied by `boost`.
pub(crate) fn boosted(query: Compiled, boost: f32) -> Compiled {
    if boost == BOOST_DEFAULT {
        return query;
    }
    Box::new(BoostQuery::new(query, boost))
}

/// `query`'s matches, each scoring `score`.
pub(crate) fn constant(query: Compiled, score: f32) -> Compiled {
    Box::new(ConstScoreQuery::new(query, score))
}

/// The best score of the queries plus `tie_breaker` times the others; nothing when empty.
pub(crate) fn dis_max(mut queries: Vec<Compiled>, tie_breaker: f32) -> Compiled {
    match queries.len() {
        0 => none(),
        1 => queries.remove(0),
        _ => Box::new(DisjunctionMaxQuery::with_tie_breaker(queries, tie_breaker)),
    }
}

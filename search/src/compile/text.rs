//! Full-text queries: `match`, `match_phrase` and `multi_match` on one shard.
//!
//! Text fields are analysed with the shard's tokenizer (the one `_text` was indexed with) and
//! searched in `_text`; keyword fields take the whole value as one term; numbers, dates and
//! booleans behave as `term` on their converted value, failing on values of the wrong shape
//! unless `lenient`. This module must never build term-level queries other than through
//! `term_level`.

use tandem_storage::mapping::schema::{RAW_TOKENIZER, TEXT_TOKENIZER};
use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, TermQuery};
use tantivy::schema::IndexRecordOption;

use super::fields::{self, FieldKind, ResolvedField};
use super::{boosted, dis_max, none, term_level, too_many_clauses, CompileContext, Compiled};
use crate::ast::{
    Analyzer, FieldBoost, MatchQuery, MultiMatchQuery, MultiMatchType, Operator,
    PhraseQuery as PhraseAst, Scalar, ZeroTerms,
};
use crate::error::FailureCause;
use crate::limits::QUERY_CLAUSES_MAX;

/// Tokenizer name tantivy registers for whitespace splitting.
const WHITESPACE_TOKENIZER: &str = "whitespace";

/// One analysed token with its position.
struct Token {
    position: usize,
    text: String,
}

fn analyze(
    context: &CompileContext<'_>,
    analyzer: Analyzer,
    text: &str,
) -> Result<Vec<Token>, FailureCause> {
    let name = match analyzer {
        Analyzer::Default => TEXT_TOKENIZER,
        Analyzer::Keyword => RAW_TOKENIZER,
        Analyzer::Whitespace => WHITESPACE_TOKENIZER,
    };
    let mut analyzer = context.tokenizers.get(name).ok_or_else(|| {
        FailureCause::internal(format!("tokenizer [{name}] is not registered on the index"))
    })?;
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push(Token {
            position: token.position,
            text: token.text.clone(),
        });
    }
    Ok(tokens)
}

fn zero_terms(zero_terms: ZeroTerms) -> Compiled {
    match zero_terms {
        ZeroTerms::None => none(),
        ZeroTerms::All => Box::new(AllQuery),
    }
}

/// The fields a full-text query addresses: one per matching path, deduplicated.
fn expand<'a>(
    context: &CompileContext<'a>,
    patterns: &[FieldBoost],
) -> Result<Vec<(ResolvedField<'a>, f32)>, FailureCause> {
    let mut resolved: Vec<(ResolvedField<'a>, f32)> = Vec::new();
    for pattern in patterns {
        for field in fields::resolve_searchable(context.mapping, &pattern.pattern)? {
            if !resolved.iter().any(|(seen, _)| seen.path == field.path) {
                resolved.push((field, pattern.boost));
            }
        }
    }
    if resolved.len() > QUERY_CLAUSES_MAX {
        return Err(too_many_clauses());
    }
    Ok(resolved)
}

pub(super) fn compile_match(
    query: &MatchQuery,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let patterns = [FieldBoost {
        pattern: query.field.clone(),
        boost: query.boost,
    }];
    let mut per_field = Vec::new();
    for (field, boost) in expand(context, &patterns)? {
        let tolerant = query.lenient || crate::glob::is_pattern(&query.field);
        if let Some(compiled) = lenient(tolerant, match_field(query, &field, context))? {
            per_field.push(boosted(compiled, boost));
        }
    }
    Ok(dis_max(per_field, 0.0))
}

/// Skips a field whose type does not fit the value when `lenient`.
fn lenient(
    lenient: bool,
    result: Result<Compiled, FailureCause>,
) -> Result<Option<Compiled>, FailureCause> {
    match result {
        Ok(compiled) => Ok(Some(compiled)),
        Err(_) if lenient => Ok(None),
        Err(cause) => Err(cause),
    }
}

fn match_field(
    query: &MatchQuery,
    field: &ResolvedField<'_>,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    if field.kind != FieldKind::Text {
        return term_level::exact_match(field, &query.query, context);
    }
    let tokens = analyze(context, query.analyzer, &query.query.as_text())?;
    if tokens.is_empty() {
        return Ok(zero_terms(query.zero_terms));
    }
    context.count_clauses(tokens.len())?;
    let mut clauses: Vec<(Occur, Compiled)> = tokens
        .iter()
        .map(|token| {
            let term = fields::text_term(context.schema, &field.path, &token.text);
            let occur = match query.operator {
                Operator::Or => Occur::Should,
                Operator::And => Occur::Must,
            };
            (
                occur,
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Compiled,
            )
        })
        .collect();
    if clauses.len() == 1 {
        return Ok(clauses.remove(0).1);
    }
    let minimum = match (query.operator, query.minimum_should_match) {
        (Operator::And, _) => 0,
        (Operator::Or, Some(spec)) => spec.resolve(clauses.len()).max(1),
        (Operator::Or, None) => 1,
    };
    Ok(Box::new(BooleanQuery::with_minimum_required_clauses(
        clauses, minimum,
    )))
}

pub(super) fn compile_phrase(
    query: &PhraseAst,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let patterns = [FieldBoost {
        pattern: query.field.clone(),
        boost: query.boost,
    }];
    let mut per_field = Vec::new();
    for (field, boost) in expand(context, &patterns)? {
        let compiled = phrase_field(
            &query.query,
            query.slop,
            query.analyzer,
            query.zero_terms,
            &field,
            context,
        );
        let tolerant = query.lenient || crate::glob::is_pattern(&query.field);
        if let Some(compiled) = lenient(tolerant, compiled)? {
            per_field.push(boosted(compiled, boost));
        }
    }
    Ok(dis_max(per_field, 0.0))
}

fn phrase_field(
    text: &Scalar,
    slop: u32,
    analyzer: Analyzer,
    zero: ZeroTerms,
    field: &ResolvedField<'_>,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    if field.kind != FieldKind::Text {
        return term_level::exact_match(field, text, context);
    }
    let mut tokens = analyze(context, analyzer, &text.as_text())?;
    context.count_clauses(tokens.len())?;
    match tokens.len() {
        0 => Ok(zero_terms(zero)),
        1 => {
            let term = fields::text_term(context.schema, &field.path, &tokens.remove(0).text);
            Ok(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)))
        }
        _ => {
            let terms = tokens
                .into_iter()
                .map(|token| {
                    (
                        token.position,
                        fields::text_term(context.schema, &field.path, &token.text),
                    )
                })
                .collect();
            Ok(Box::new(PhraseQuery::new_with_offset_and_slop(terms, slop)))
        }
    }
}

pub(super) fn compile_multi_match(
    query: &MultiMatchQuery,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let all_fields = [FieldBoost {
        pattern: "*".into(),
        boost: crate::ast::BOOST_DEFAULT,
    }];
    let patterns = if query.fields.is_empty() {
        &all_fields[..]
    } else {
        &query.fields[..]
    };
    let single = MatchQuery {
        field: String::new(),
        query: query.query.clone(),
        operator: query.operator,
        minimum_should_match: query.minimum_should_match,
        zero_terms: query.zero_terms,
        analyzer: query.analyzer,
        lenient: query.lenient,
        boost: crate::ast::BOOST_DEFAULT,
    };
    let mut per_field = Vec::new();
    for (field, boost) in expand(context, patterns)? {
        if field.kind == FieldKind::Object {
            continue;
        }
        let compiled = match query.kind {
            MultiMatchType::Phrase => phrase_field(
                &query.query,
                query.slop,
                query.analyzer,
                query.zero_terms,
                &field,
                context,
            ),
            _ => match_field(&single, &field, context),
        };
        // Searching every field (no `fields`) skips fields the value does not fit.
        let tolerant = query.lenient || query.fields.is_empty();
        if let Some(compiled) = lenient(tolerant, compiled)? {
            per_field.push(boosted(compiled, boost));
        }
    }
    let combined = match query.kind {
        MultiMatchType::MostFields if per_field.len() > 1 => {
            let clauses = per_field.into_iter().map(|q| (Occur::Should, q)).collect();
            Box::new(BooleanQuery::with_minimum_required_clauses(clauses, 1)) as Compiled
        }
        _ => dis_max(per_field, query.tie_breaker),
    };
    Ok(boosted(combined, query.boost))
}

//! Term-level queries on one shard: `term`, `terms`, `range`, `exists`, `ids`, `prefix`,
//! `wildcard`, and the exact-value half of `match` on non-text fields.
//!
//! Values are not analysed (`term` on a text field looks for the token as written, as in
//! OpenSearch). Dates always go through the fast column at millisecond precision. This module
//! must never tokenize.

use std::ops::Bound;

use tantivy::query::{BooleanQuery, Occur, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use super::fast_range::{ColumnRange, FastRangeQuery};
use super::fields::{self, convert, DateContext, ExactValue, FieldKind, ResolvedField};
use super::term_scan::{TermScanQuery, ValueMatcher};
use super::{boosted, constant, dis_max, none, CompileContext, Compiled};
use crate::ast::Scalar;
use crate::error::{FailureCause, FailureKind};
use crate::glob;

pub(super) fn plain_dates(context: &CompileContext<'_>) -> DateContext<'static> {
    DateContext {
        now_millis: context.now_millis,
        format: None,
        time_zone: None,
        round_up: false,
    }
}

/// Compiles `build` for every field `pattern` names, combined with `dis_max`. Fields a `*`
/// pattern expands to are searched leniently, as OpenSearch does for `query_string` over
/// several fields: one whose type does not fit the value is skipped, not an error.
pub(super) fn per_field<'a>(
    context: &CompileContext<'a>,
    pattern: &str,
    mut build: impl FnMut(&ResolvedField<'a>) -> Result<Compiled, FailureCause>,
) -> Result<Compiled, FailureCause> {
    let expanded = glob::is_pattern(pattern);
    let mut queries = Vec::new();
    for field in fields::resolve_searchable(context.mapping, pattern)? {
        if expanded && field.kind == FieldKind::Object {
            continue;
        }
        match build(&field) {
            Ok(query) => queries.push(query),
            Err(cause) if expanded && cause.kind != FailureKind::TooManyClauses => {}
            Err(cause) => return Err(cause),
        }
    }
    Ok(dis_max(queries, 0.0))
}

/// A query for one exact value of a non-text field (`term`, and `match` on such fields).
pub(super) fn exact_match(
    field: &ResolvedField<'_>,
    value: &Scalar,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    if let FieldKind::Date(_) = field.kind {
        context.count_clauses(1)?;
        return Ok(match date_span(field, value, context)? {
            Some(span) => constant(Box::new(span), 1.0),
            None => none(),
        });
    }
    let Some(converted) = convert(field, value, plain_dates(context))? else {
        return Ok(none());
    };
    context.count_clauses(1)?;
    Ok(value_query(field, &converted, context))
}

/// A date term covers the unit it is written to, as OpenSearch reads `term` on a date as the
/// range from the value rounded down to the value rounded up (`2024-01-02` is the whole day).
fn date_span(
    field: &ResolvedField<'_>,
    value: &Scalar,
    context: &CompileContext<'_>,
) -> Result<Option<FastRangeQuery>, FailureCause> {
    let rounded_up = DateContext {
        round_up: true,
        ..plain_dates(context)
    };
    let low = convert(field, value, plain_dates(context))?;
    let high = convert(field, value, rounded_up)?;
    let (Some(ExactValue::Date(low)), Some(ExactValue::Date(high))) = (low, high) else {
        return Ok(None);
    };
    let column = fields::column_name(&field.path);
    Ok(Some(FastRangeQuery::new(
        column,
        ColumnRange::Date(low..=high),
    )))
}

/// The query for one converted value: scored for strings, constant for the rest.
fn value_query(
    field: &ResolvedField<'_>,
    value: &ExactValue,
    context: &CompileContext<'_>,
) -> Compiled {
    match (&field.kind, value) {
        (FieldKind::Text, ExactValue::Str(token)) => {
            let term = fields::text_term(context.schema, &field.path, token);
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
        }
        (_, ExactValue::Str(_)) => {
            let term = fields::exact_term(context.schema, &field.path, value);
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
        }
        (_, ExactValue::Date(millis)) => constant(
            Box::new(FastRangeQuery::new(
                fields::column_name(&field.path),
                ColumnRange::Date(*millis..=*millis),
            )),
            1.0,
        ),
        _ => {
            let term = fields::exact_term(context.schema, &field.path, value);
            constant(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                1.0,
            )
        }
    }
}

/// The document id metadata field.
const ID_FIELD: &str = "_id";

pub(super) fn compile_term(
    pattern: &str,
    value: &Scalar,
    case_insensitive: bool,
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    // `_id` is a metadata field, not in the mapping: a term on it is an ids query.
    if pattern == ID_FIELD {
        return compile_ids(&[value.as_text()], boost, context);
    }
    per_field(context, pattern, |field| {
        let compiled = if case_insensitive && field.kind.is_string() {
            context.count_clauses(1)?;
            let matcher = ValueMatcher::EqualsIgnoreCase(value.as_text());
            let scan = TermScanQuery::new(
                path_term(field, context),
                Bound::Unbounded,
                Bound::Unbounded,
                matcher,
            );
            constant(Box::new(scan), 1.0)
        } else {
            exact_match(field, value, context)?
        };
        Ok(boosted(compiled, boost))
    })
}

pub(super) fn compile_terms(
    pattern: &str,
    values: &[Scalar],
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    if pattern == ID_FIELD {
        let ids: Vec<String> = values.iter().map(Scalar::as_text).collect();
        return compile_ids(&ids, boost, context);
    }
    per_field(context, pattern, |field| {
        context.count_clauses(1)?;
        let mut terms: Vec<Term> = Vec::with_capacity(values.len());
        let mut dates: Vec<Compiled> = Vec::new();
        for value in values {
            if let FieldKind::Date(_) = field.kind {
                if let Some(span) = date_span(field, value, context)? {
                    dates.push(Box::new(span));
                }
                continue;
            }
            match convert(field, value, plain_dates(context))? {
                None => {}
                Some(ExactValue::Str(token)) if field.kind == FieldKind::Text => {
                    terms.push(fields::text_term(context.schema, &field.path, &token))
                }
                Some(converted) => {
                    terms.push(fields::exact_term(context.schema, &field.path, &converted))
                }
            }
        }
        let matched: Compiled = if !dates.is_empty() {
            let clauses = dates.into_iter().map(|q| (Occur::Should, q)).collect();
            Box::new(BooleanQuery::with_minimum_required_clauses(clauses, 1))
        } else if terms.is_empty() {
            none()
        } else {
            Box::new(TermSetQuery::new(terms))
        };
        Ok(constant(matched, boost))
    })
}

pub(super) fn compile_exists(
    pattern: &str,
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let mut clauses: Vec<(Occur, Compiled)> = Vec::new();
    for field in fields::resolve_searchable(context.mapping, pattern)? {
        let term = Term::from_field_text(context.schema.field_names, &field.path);
        clauses.push((
            Occur::Should,
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        ));
    }
    context.count_clauses(clauses.len())?;
    let matched: Compiled = match clauses.len() {
        0 => return Ok(none()),
        1 => clauses.remove(0).1,
        _ => Box::new(BooleanQuery::with_minimum_required_clauses(clauses, 1)),
    };
    Ok(constant(matched, boost))
}

pub(super) fn compile_ids(
    values: &[String],
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    if values.is_empty() {
        return Ok(none());
    }
    context.count_clauses(1)?;
    let terms = values
        .iter()
        .map(|id| Term::from_field_text(context.schema.id, id));
    Ok(constant(Box::new(TermSetQuery::new(terms)), boost))
}

pub(super) fn path_term(field: &ResolvedField<'_>, context: &CompileContext<'_>) -> Term {
    let json_field = if field.kind == FieldKind::Text {
        context.schema.text
    } else {
        context.schema.exact
    };
    fields::path_term(context.schema, json_field, &field.path)
}

fn string_fields_only(query: &str, field: &ResolvedField<'_>) -> Result<(), FailureCause> {
    if field.kind.is_string() {
        return Ok(());
    }
    Err(FailureCause::query_shard(format!(
        "Can only use {query} queries on keyword and text fields - not on [{}] which is of type [{}]",
        field.path,
        field.type_name()
    )))
}

/// Text tokens are lowercase, so patterns on text fields are too (OpenSearch normalises them
/// with the field's analyser).
fn normalize(field: &ResolvedField<'_>, value: &str) -> String {
    if field.kind == FieldKind::Text {
        value.to_lowercase()
    } else {
        value.to_string()
    }
}

pub(super) fn compile_prefix(
    pattern: &str,
    value: &str,
    case_insensitive: bool,
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let expanded = glob::is_pattern(pattern);
    per_field(context, pattern, |field| {
        if expanded && !field.kind.is_string() {
            return Ok(none());
        }
        string_fields_only("prefix", field)?;
        context.count_clauses(1)?;
        let prefix = normalize(field, value);
        let scan = if case_insensitive {
            let matcher = ValueMatcher::Prefix {
                prefix,
                case_insensitive: true,
            };
            TermScanQuery::new(
                path_term(field, context),
                Bound::Unbounded,
                Bound::Unbounded,
                matcher,
            )
        } else {
            TermScanQuery::with_literal_prefix(
                path_term(field, context),
                &prefix,
                ValueMatcher::Any,
            )
        };
        Ok(constant(Box::new(scan), boost))
    })
}

pub(super) fn compile_wildcard(
    pattern: &str,
    wildcard: &str,
    case_insensitive: bool,
    boost: f32,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    let expanded = glob::is_pattern(pattern);
    per_field(context, pattern, |field| {
        if expanded && !field.kind.is_string() {
            return Ok(none());
        }
        string_fields_only("wildcard", field)?;
        context.count_clauses(1)?;
        let normalized = normalize(field, wildcard);
        let literal: String = normalized
            .chars()
            .take_while(|c| *c != '*' && *c != '?')
            .collect();
        let matcher = ValueMatcher::Wildcard {
            pattern: normalized.clone(),
            case_insensitive,
        };
        let scan = if case_insensitive || literal.is_empty() {
            TermScanQuery::new(
                path_term(field, context),
                Bound::Unbounded,
                Bound::Unbounded,
                matcher,
            )
        } else {
            TermScanQuery::with_literal_prefix(path_term(field, context), &literal, matcher)
        };
        Ok(constant(Box::new(scan), boost))
    })
}

//! `range` on one shard: string ranges scan the term dictionary, numbers, dates and booleans
//! scan the fast column with bounds made inclusive in the column's type (integer bounds round
//! inwards, float bounds step to the next representable value, date bounds round as OpenSearch
//! does for `gt`/`lte`). This module must never tokenize.

use std::ops::Bound;

use super::fast_range::{ColumnRange, FastRangeQuery};
use super::fields::{self, convert, DateContext, ExactValue, FieldKind, ResolvedField};
use super::term_level::{path_term, per_field, plain_dates};
use super::term_scan::{TermScanQuery, ValueMatcher};
use super::{constant, none, CompileContext, Compiled};
use crate::ast::{RangeBound, RangeQuery};
use crate::error::FailureCause;

pub(super) fn compile_range(
    range: &RangeQuery,
    context: &CompileContext<'_>,
) -> Result<Compiled, FailureCause> {
    per_field(context, &range.field, |field| {
        context.count_clauses(1)?;
        let matched: Compiled = match &field.kind {
            FieldKind::Object => return Ok(none()),
            FieldKind::Text | FieldKind::Keyword => {
                let bound = |end: &Option<RangeBound>| match end {
                    None => Bound::Unbounded,
                    Some(bound) if bound.inclusive => Bound::Included(bound.value.as_text()),
                    Some(bound) => Bound::Excluded(bound.value.as_text()),
                };
                let scan = TermScanQuery::new(
                    path_term(field, context),
                    bound(&range.lower),
                    bound(&range.upper),
                    ValueMatcher::Any,
                );
                Box::new(scan)
            }
            _ => match column_range(field, range, context)? {
                Some(column_range) => Box::new(FastRangeQuery::new(
                    fields::column_name(&field.path),
                    column_range,
                )),
                None => return Ok(none()),
            },
        };
        Ok(constant(matched, range.boost))
    })
}

/// Inclusive bounds in the column's type; `None` when the range is empty.
fn column_range(
    field: &ResolvedField<'_>,
    range: &RangeQuery,
    context: &CompileContext<'_>,
) -> Result<Option<ColumnRange>, FailureCause> {
    let number = |bound: &RangeBound| -> Result<f64, FailureCause> {
        match convert(
            &ResolvedField {
                kind: FieldKind::Float,
                ..field.clone()
            },
            &bound.value,
            plain_dates(context),
        )? {
            Some(ExactValue::F64(number)) => Ok(number),
            _ => Err(FailureCause::query_shard(format!(
                "failed to create query: For input string: \"{}\"",
                bound.value.as_text()
            ))),
        }
    };
    match &field.kind {
        FieldKind::Integer { min, max } => {
            let low = match &range.lower {
                None => *min as f64,
                Some(bound) if bound.inclusive => number(bound)?.ceil(),
                Some(bound) => number(bound)?.floor() + 1.0,
            };
            let high = match &range.upper {
                None => *max as f64,
                Some(bound) if bound.inclusive => number(bound)?.floor(),
                Some(bound) => number(bound)?.ceil() - 1.0,
            };
            let (low, high) = (low.max(*min as f64), high.min(*max as f64));
            Ok((low <= high).then_some(ColumnRange::I64(low as i64..=high as i64)))
        }
        FieldKind::Float => {
            let low = match &range.lower {
                None => f64::NEG_INFINITY,
                Some(bound) if bound.inclusive => number(bound)?,
                Some(bound) => next_up(number(bound)?),
            };
            let high = match &range.upper {
                None => f64::INFINITY,
                Some(bound) if bound.inclusive => number(bound)?,
                Some(bound) => next_down(number(bound)?),
            };
            Ok((low <= high).then_some(ColumnRange::F64(low..=high)))
        }
        FieldKind::Date(_) => {
            let millis = |bound: &RangeBound, round_up: bool| -> Result<i64, FailureCause> {
                let dates = DateContext {
                    now_millis: context.now_millis,
                    format: range.format.as_deref(),
                    time_zone: range.time_zone.as_deref(),
                    round_up,
                };
                match convert(field, &bound.value, dates)? {
                    Some(ExactValue::Date(millis)) => Ok(millis),
                    _ => Err(FailureCause::parse(format!(
                        "failed to parse date field [{}]",
                        bound.value.as_text()
                    ))),
                }
            };
            // OpenSearch rounds `gt` and `lte` up to the end of the written unit.
            let low = match &range.lower {
                None => i64::MIN,
                Some(bound) if bound.inclusive => millis(bound, false)?,
                Some(bound) => millis(bound, true)?.saturating_add(1),
            };
            let high = match &range.upper {
                None => i64::MAX,
                Some(bound) if bound.inclusive => millis(bound, true)?,
                Some(bound) => millis(bound, false)?.saturating_sub(1),
            };
            Ok((low <= high).then_some(ColumnRange::Date(low..=high)))
        }
        FieldKind::Boolean => {
            let flag = |bound: &RangeBound| match convert(field, &bound.value, plain_dates(context))
            {
                Ok(Some(ExactValue::Bool(flag))) => Ok(flag),
                Ok(_) => Ok(false),
                Err(cause) => Err(cause),
            };
            let low = match &range.lower {
                None => Some(false),
                Some(bound) if bound.inclusive => Some(flag(bound)?),
                Some(bound) => (!flag(bound)?).then_some(true),
            };
            let high = match &range.upper {
                None => Some(true),
                Some(bound) if bound.inclusive => Some(flag(bound)?),
                Some(bound) => flag(bound)?.then_some(false),
            };
            Ok(match (low, high) {
                (Some(low), Some(high)) if low <= high => Some(ColumnRange::Bool(low..=high)),
                _ => None,
            })
        }
        FieldKind::Text | FieldKind::Keyword | FieldKind::Object => Ok(None),
    }
}

fn next_up(value: f64) -> f64 {
    if value.is_nan() || value == f64::INFINITY {
        return value;
    }
    if value == 0.0 {
        return f64::from_bits(1);
    }
    let bits = value.to_bits();
    f64::from_bits(if value > 0.0 { bits + 1 } else { bits - 1 })
}

fn next_down(value: f64) -> f64 {
    -next_up(-value)
}

//! Sort keys: bound to a shard's mapping, read per segment as cheap local values, compared,
//! and turned into the values hits print under `sort`.
//!
//! Within a segment keywords compare by dictionary ordinal (doubled, so a `search_after`
//! string absent from the dictionary still has a place between two ordinals); across segments
//! and shards they compare as strings. Documents without a value sort last unless `missing`
//! says `_first`, whatever the direction, as in OpenSearch. This module must never collect
//! documents.

use std::cmp::Ordering;

use serde_json::Value;
use tandem_storage::mapping::Mapping;
use tantivy::columnar::{Column, NumericalType, StrColumn};
use tantivy::{DateTime, DocId, Score, SegmentReader};

use crate::aggs::plan_style;
use crate::aggs::ValueStyle;
use crate::ast::Scalar;
use crate::compile::{column_name, FieldKind};
use crate::error::FailureCause;
use crate::request::{MissingPlacement, SortField, SortMode, SortOrder, SortSpec};

const NANOS_PER_MILLI: i64 = 1_000_000;

/// Where a sort key's values come from on one shard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortSource {
    Score,
    Doc,
    Column { column: String, style: ValueStyle },
}

/// One sort key bound to a shard.
#[derive(Debug, Clone)]
pub(crate) struct SortKey {
    pub(crate) source: SortSource,
    pub(crate) order: SortOrder,
    pub(crate) missing: MissingPlacement,
    pub(crate) mode: SortMode,
}

/// Binds sort specs to a shard's mapping; `None` sorts by score.
pub(crate) fn plan_sort(
    specs: Option<&[SortSpec]>,
    mapping: &Mapping,
) -> Result<Vec<SortKey>, FailureCause> {
    let Some(specs) = specs else {
        return Ok(vec![SortKey {
            source: SortSource::Score,
            order: SortOrder::Desc,
            missing: MissingPlacement::Last,
            mode: SortMode::Max,
        }]);
    };
    specs.iter().map(|spec| plan_key(spec, mapping)).collect()
}

fn plan_key(spec: &SortSpec, mapping: &Mapping) -> Result<SortKey, FailureCause> {
    let source = match &spec.field {
        SortField::Score => SortSource::Score,
        SortField::Doc => SortSource::Doc,
        SortField::Field(path) => {
            let style = match mapping.field(path) {
                None if spec.unmapped_type.is_some() => ValueStyle::Unmapped,
                None => {
                    return Err(FailureCause::query_shard(format!(
                        "No mapping found for [{path}] in order to sort on"
                    )))
                }
                Some(field) if FieldKind::of(field) == FieldKind::Text => {
                    return Err(FailureCause::text_field_data(path))
                }
                Some(field) => plan_style(field),
            };
            SortSource::Column {
                column: column_name(path),
                style,
            }
        }
    };
    Ok(SortKey {
        source,
        order: spec.order,
        missing: spec.missing,
        mode: spec.mode,
    })
}

/// A sort value inside one segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Local {
    Missing,
    I(i64),
    F(f64),
    /// A keyword: `2 * ordinal + 1`; even numbers sit between ordinals.
    U(u64),
}

/// A sort value comparable across segments and shards.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortValue {
    Missing,
    Long(i64),
    Double(f64),
    Str(String),
}

impl SortValue {
    pub(crate) fn to_json(&self, key: &SortKey) -> Value {
        match self {
            SortValue::Missing => Value::Null,
            SortValue::Long(number) => Value::from(*number),
            SortValue::Double(number) if key.source == SortSource::Score => {
                crate::execute::score_json(*number as f32)
            }
            SortValue::Double(number) => Value::from(*number),
            SortValue::Str(text) => Value::from(text.clone()),
        }
    }
}

/// Orders two values of one key, placing missing values by `missing` in both directions.
fn compare_with<T>(
    a: Option<T>,
    b: Option<T>,
    key: &SortKey,
    cmp: impl Fn(&T, &T) -> Ordering,
) -> Ordering {
    let missing_first = key.missing == MissingPlacement::First;
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => {
            if missing_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Some(_), None) => {
            if missing_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(x), Some(y)) => match key.order {
            SortOrder::Asc => cmp(&x, &y),
            SortOrder::Desc => cmp(&y, &x),
        },
    }
}

pub(crate) fn compare_local(a: &[Local], b: &[Local], keys: &[SortKey]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let numeric = |value: &Local| match value {
            Local::Missing => None,
            other => Some(*other),
        };
        let ordering = compare_with(numeric(x), numeric(y), key, |p, q| match (p, q) {
            (Local::I(p), Local::I(q)) => p.cmp(q),
            (Local::F(p), Local::F(q)) => p.total_cmp(q),
            (Local::U(p), Local::U(q)) => p.cmp(q),
            _ => Ordering::Equal,
        });
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

pub(crate) fn compare_values(a: &[SortValue], b: &[SortValue], keys: &[SortKey]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let present = |value: &SortValue| (*value != SortValue::Missing).then(|| value.clone());
        let ordering = compare_with(present(x), present(y), key, |p, q| match (p, q) {
            (SortValue::Long(p), SortValue::Long(q)) => p.cmp(q),
            (SortValue::Double(p), SortValue::Double(q)) => p.total_cmp(q),
            (SortValue::Long(p), SortValue::Double(q)) => (*p as f64).total_cmp(q),
            (SortValue::Double(p), SortValue::Long(q)) => p.total_cmp(&(*q as f64)),
            (SortValue::Str(p), SortValue::Str(q)) => p.cmp(q),
            _ => Ordering::Equal,
        });
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// One sort key's column in one segment.
pub(crate) enum SegSort {
    Score,
    Doc { base: u32 },
    Missing,
    Str(StrColumn),
    I64(Column<i64>),
    F64(Column<f64>),
    Date(Column<DateTime>),
    Bool(Column<bool>),
}

impl SegSort {
    pub(crate) fn open(
        key: &SortKey,
        reader: &SegmentReader,
        base: u32,
    ) -> tantivy::Result<SegSort> {
        let SortSource::Column { column, style } = &key.source else {
            return Ok(match key.source {
                SortSource::Score => SegSort::Score,
                _ => SegSort::Doc { base },
            });
        };
        let fast = reader.fast_fields();
        Ok(match style {
            ValueStyle::Unmapped => SegSort::Missing,
            ValueStyle::Keyword => fast.str(column)?.map_or(SegSort::Missing, SegSort::Str),
            ValueStyle::Long => crate::columns::numeric_column(reader, column, NumericalType::I64)?
                .map_or(SegSort::Missing, SegSort::I64),
            ValueStyle::Double => {
                crate::columns::numeric_column(reader, column, NumericalType::F64)?
                    .map_or(SegSort::Missing, SegSort::F64)
            }
            ValueStyle::Date { .. } => fast
                .column_opt::<DateTime>(column)?
                .map_or(SegSort::Missing, SegSort::Date),
            ValueStyle::Boolean => fast
                .column_opt::<bool>(column)?
                .map_or(SegSort::Missing, SegSort::Bool),
        })
    }

    /// The document's value for this key (the min or max of a multi-valued field).
    pub(crate) fn read(&self, doc: DocId, score: Score, mode: SortMode) -> Local {
        fn pick<T: PartialOrd + Copy>(
            values: impl Iterator<Item = T>,
            mode: SortMode,
        ) -> Option<T> {
            values.fold(None, |best, value| match best {
                None => Some(value),
                Some(current) => Some(match mode {
                    SortMode::Min if value < current => value,
                    SortMode::Max if value > current => value,
                    _ => current,
                }),
            })
        }
        let local = match self {
            SegSort::Score => Some(Local::F(f64::from(score))),
            SegSort::Doc { base } => Some(Local::I(i64::from(*base) + i64::from(doc))),
            SegSort::Missing => None,
            SegSort::Str(column) => {
                pick(column.term_ords(doc), mode).map(|ord| Local::U(2 * ord + 1))
            }
            SegSort::I64(column) => pick(column.values_for_doc(doc), mode).map(Local::I),
            SegSort::F64(column) => pick(column.values_for_doc(doc), mode).map(Local::F),
            SegSort::Date(column) => pick(column.values_for_doc(doc), mode)
                .map(|value| Local::I(value.into_timestamp_nanos().div_euclid(NANOS_PER_MILLI))),
            SegSort::Bool(column) => {
                pick(column.values_for_doc(doc), mode).map(|flag| Local::I(i64::from(flag)))
            }
        };
        local.unwrap_or(Local::Missing)
    }

    /// Places a `search_after` value among this segment's values.
    pub(crate) fn place(&self, after: &Option<Scalar>) -> tantivy::Result<Local> {
        let Some(after) = after else {
            return Ok(Local::Missing);
        };
        let as_f64 = || match after {
            Scalar::Int(whole) => *whole as f64,
            Scalar::Float(float) => *float,
            Scalar::Str(text) => text.parse().unwrap_or(f64::NAN),
            Scalar::Bool(flag) => f64::from(u8::from(*flag)),
        };
        let as_i64 = || match after {
            Scalar::Int(whole) => *whole,
            Scalar::Bool(flag) => i64::from(*flag),
            Scalar::Str(text) if text == "true" => 1,
            Scalar::Str(text) if text == "false" => 0,
            _ => as_f64() as i64,
        };
        Ok(match self {
            SegSort::Score | SegSort::F64(_) => Local::F(as_f64()),
            SegSort::Doc { .. } | SegSort::I64(_) | SegSort::Date(_) | SegSort::Bool(_) => {
                Local::I(as_i64())
            }
            SegSort::Missing => Local::Missing,
            SegSort::Str(column) => {
                let hit = column.dictionary().term_ord_or_next(after.as_text())?;
                match hit {
                    tantivy::columnar::TermOrdHit::Exact(ord) => Local::U(2 * ord + 1),
                    tantivy::columnar::TermOrdHit::Next(ord) if ord == u64::MAX => {
                        Local::U(u64::MAX)
                    }
                    tantivy::columnar::TermOrdHit::Next(ord) => Local::U(2 * ord),
                }
            }
        })
    }

    /// The value hits print and shards compare.
    pub(crate) fn resolve(&self, local: Local) -> SortValue {
        match (self, local) {
            (_, Local::Missing) => SortValue::Missing,
            (SegSort::Str(column), Local::U(doubled)) => {
                let mut text = String::new();
                // Only values read from this column reach here, so the ordinal exists.
                let _found = column.ord_to_str(doubled / 2, &mut text);
                SortValue::Str(text)
            }
            (_, Local::I(number)) => SortValue::Long(number),
            (_, Local::F(number)) => SortValue::Double(number),
            (_, Local::U(number)) => SortValue::Long(number as i64),
        }
    }
}

//! The `fields` of a hit: `docvalue_fields` read from a shard's columns and `stored_fields`
//! (fields mapped with `store: true`) taken from `_source`, each printed as OpenSearch does.
//!
//! Field patterns are bound to a shard's mapping once per shard ([`FetchFields::plan`]); each
//! hit then reads its own values. Column values print sorted, as Lucene's doc values are;
//! keywords also drop duplicates. This module must never decide which hits make the page.

use serde_json::{Map, Value};
use tandem_storage::mapping::{FieldMapping, FieldType, Mapping};
use tantivy::columnar::NumericalType;
use tantivy::{DateTime, DocId, SegmentReader};

use crate::aggs::{plan_style as style_of, ValueStyle};
use crate::compile::{column_name, resolve, FieldKind};
use crate::dates::format_date;
use crate::decimal_format::DecimalFormat;
use crate::error::FailureCause;
use crate::request::SearchRequest;

const NANOS_PER_MILLI: i64 = 1_000_000;

/// One docvalue field bound to a shard.
#[derive(Debug, Clone)]
struct ColumnField {
    path: String,
    column: String,
    style: ValueStyle,
    /// `float` and `half_float` values print as the 32-bit float Lucene keeps.
    single_precision: bool,
    format: ValueFormat,
}

#[derive(Debug, Clone)]
enum ValueFormat {
    AsMapped,
    Decimal(DecimalFormat),
    Date(String),
}

/// One stored field bound to a shard.
#[derive(Debug, Clone)]
struct StoredField {
    path: String,
    kind: FieldKind,
}

/// The per-field values hits of one shard carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct FetchFields {
    columns: Vec<ColumnField>,
    stored: Vec<StoredField>,
}

impl FetchFields {
    /// Binds the request's `docvalue_fields` and `stored_fields` to a shard's mapping.
    pub(crate) fn plan(request: &SearchRequest, mapping: &Mapping) -> Result<Self, FailureCause> {
        let mut planned = FetchFields::default();
        for wanted in &request.docvalue_fields {
            let explicit = !crate::glob::is_pattern(&wanted.pattern);
            for field in resolve(mapping, &wanted.pattern) {
                if field.kind == FieldKind::Object {
                    continue;
                }
                if field.kind == FieldKind::Text {
                    if explicit {
                        return Err(FailureCause::text_field_data(&field.path));
                    }
                    continue;
                }
                let style = style_of(field.mapping);
                let format =
                    value_format(&field.path, field.mapping, &style, wanted.format.as_deref())?;
                planned.columns.push(ColumnField {
                    column: column_name(&field.path),
                    single_precision: matches!(
                        field.mapping.field_type,
                        FieldType::Float | FieldType::HalfFloat
                    ),
                    path: field.path,
                    style,
                    format,
                });
            }
        }
        if let Some(stored) = &request.stored_fields {
            for pattern in stored.patterns() {
                for field in resolve(mapping, pattern) {
                    if is_stored(field.mapping) && field.kind != FieldKind::Object {
                        planned.stored.push(StoredField {
                            path: field.path,
                            kind: field.kind,
                        });
                    }
                }
            }
        }
        Ok(planned)
    }

    /// Whether hits carry a `fields` object at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.stored.is_empty()
    }

    /// Whether reading needs the hit's `_source` (stored fields come from it).
    pub(crate) fn needs_source(&self) -> bool {
        !self.stored.is_empty()
    }

    /// The `fields` object of one hit (fields without values are left out).
    pub(crate) fn read(
        &self,
        reader: &SegmentReader,
        doc: DocId,
        source: Option<&Value>,
    ) -> Result<Map<String, Value>, FailureCause> {
        let mut fields = Map::new();
        for stored in &self.stored {
            let values = source
                .map(|source| stored_values(source, stored))
                .unwrap_or_default();
            if !values.is_empty() {
                fields.insert(stored.path.clone(), Value::Array(values));
            }
        }
        for column in &self.columns {
            let values = column_values(reader, doc, column)?;
            if !values.is_empty() {
                fields.insert(column.path.clone(), Value::Array(values));
            }
        }
        Ok(fields)
    }
}

fn value_format(
    path: &str,
    field: &FieldMapping,
    style: &ValueStyle,
    format: Option<&str>,
) -> Result<ValueFormat, FailureCause> {
    let Some(format) = format else {
        return Ok(ValueFormat::AsMapped);
    };
    match style {
        ValueStyle::Long | ValueStyle::Double => DecimalFormat::parse(format)
            .map(ValueFormat::Decimal)
            .map_err(FailureCause::illegal_argument),
        ValueStyle::Date { .. } => Ok(ValueFormat::Date(format.to_string())),
        ValueStyle::Keyword | ValueStyle::Boolean | ValueStyle::Unmapped => {
            Err(FailureCause::illegal_argument(format!(
                "Field [{path}] of type [{}] does not support custom formats",
                field.field_type.name()
            )))
        }
    }
}

fn column_values(
    reader: &SegmentReader,
    doc: DocId,
    field: &ColumnField,
) -> Result<Vec<Value>, FailureCause> {
    let fast = reader.fast_fields();
    let values = match &field.style {
        ValueStyle::Unmapped => Vec::new(),
        ValueStyle::Keyword => match fast.str(&field.column)? {
            None => Vec::new(),
            Some(column) => {
                let mut ords: Vec<u64> = column.term_ords(doc).collect();
                ords.sort_unstable();
                ords.dedup();
                let mut values = Vec::with_capacity(ords.len());
                for ord in ords {
                    let mut text = String::new();
                    let found = column
                        .ord_to_str(ord, &mut text)
                        .map_err(|error| FailureCause::internal(error.to_string()))?;
                    if found {
                        values.push(Value::String(text));
                    }
                }
                values
            }
        },
        ValueStyle::Long => {
            match crate::columns::numeric_column::<i64>(reader, &field.column, NumericalType::I64)?
            {
                None => Vec::new(),
                Some(column) => {
                    let mut numbers: Vec<i64> = column.values_for_doc(doc).collect();
                    numbers.sort_unstable();
                    numbers
                        .into_iter()
                        .map(|number| match &field.format {
                            ValueFormat::Decimal(decimal) => {
                                Value::String(decimal.format(number as f64))
                            }
                            _ => Value::from(number),
                        })
                        .collect()
                }
            }
        }
        ValueStyle::Double => {
            match crate::columns::numeric_column::<f64>(reader, &field.column, NumericalType::F64)?
            {
                None => Vec::new(),
                Some(column) => {
                    let mut numbers: Vec<f64> = column
                        .values_for_doc(doc)
                        .map(|number| {
                            if field.single_precision {
                                f64::from(number as f32)
                            } else {
                                number
                            }
                        })
                        .collect();
                    numbers.sort_unstable_by(f64::total_cmp);
                    numbers
                        .into_iter()
                        .map(|number| match &field.format {
                            ValueFormat::Decimal(decimal) => Value::String(decimal.format(number)),
                            _ => Value::from(number),
                        })
                        .collect()
                }
            }
        }
        ValueStyle::Date { format } => match fast.column_opt::<DateTime>(&field.column)? {
            None => Vec::new(),
            Some(column) => {
                let mut millis: Vec<i64> = column
                    .values_for_doc(doc)
                    .map(|value| value.into_timestamp_nanos().div_euclid(NANOS_PER_MILLI))
                    .collect();
                millis.sort_unstable();
                let format = match &field.format {
                    ValueFormat::Date(custom) => custom.as_str(),
                    _ => format.as_str(),
                };
                millis
                    .into_iter()
                    .map(|value| Value::String(format_date(value, format)))
                    .collect()
            }
        },
        ValueStyle::Boolean => match fast.column_opt::<bool>(&field.column)? {
            None => Vec::new(),
            Some(column) => {
                let mut flags: Vec<bool> = column.values_for_doc(doc).collect();
                flags.sort_unstable();
                flags.into_iter().map(Value::Bool).collect()
            }
        },
    };
    Ok(values)
}

fn is_stored(field: &FieldMapping) -> bool {
    match field.extra.get("store") {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text == "true",
        _ => false,
    }
}

/// A stored field's values: the source values at its path, converted to its type as
/// OpenSearch stores them (values that do not convert were never indexed and are left out).
fn stored_values(source: &Value, field: &StoredField) -> Vec<Value> {
    let mut found = Vec::new();
    collect_at_path(source, &field.path, &mut found);
    found
        .into_iter()
        .filter_map(|value| stored_value(value, &field.kind))
        .collect()
}

fn collect_at_path<'a>(value: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => {
            for item in items {
                collect_at_path(item, path, out);
            }
        }
        Value::Object(object) => {
            if path.is_empty() {
                return;
            }
            // A key may itself hold dots (`{"a.b": 1}`), so try the whole path, then each split.
            if let Some(inner) = object.get(path) {
                collect_at_path(inner, "", out);
            }
            for (dot, _) in path.match_indices('.') {
                if let Some(inner) = object.get(&path[..dot]) {
                    collect_at_path(inner, &path[dot + 1..], out);
                }
            }
        }
        Value::Null => {}
        leaf if path.is_empty() => out.push(leaf),
        _ => {}
    }
}

fn stored_value(value: &Value, kind: &FieldKind) -> Option<Value> {
    let text = || match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    };
    match kind {
        FieldKind::Text | FieldKind::Keyword => text().map(Value::String),
        FieldKind::Integer { .. } => match value {
            Value::Number(number) => number.as_i64().map(Value::from),
            Value::String(text) => text.trim().parse::<i64>().ok().map(Value::from),
            _ => None,
        },
        FieldKind::Float => match value {
            Value::Number(number) => number.as_f64().map(Value::from),
            Value::String(text) => text.trim().parse::<f64>().ok().map(Value::from),
            _ => None,
        },
        FieldKind::Boolean => match value {
            Value::Bool(flag) => Some(Value::Bool(*flag)),
            Value::String(text) if text == "true" || text == "false" => {
                Some(Value::Bool(text == "true"))
            }
            _ => None,
        },
        FieldKind::Date(format) => {
            let millis = match value {
                Value::String(text) => format.parse_str(text),
                Value::Number(number) => number.as_f64().and_then(|n| format.parse_number(n)),
                _ => None,
            }?;
            Some(Value::String(format_date(millis, format.as_str())))
        }
        FieldKind::Object => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn source_values_are_found_through_objects_arrays_and_dotted_keys() {
        let source = json!({"a": {"b": [1, 2]}, "a.b": 3, "c": [{"d": "x"}, {"d": null}]});
        let mut found = Vec::new();
        collect_at_path(&source, "a.b", &mut found);
        assert_eq!(found, [&json!(3), &json!(1), &json!(2)]);
        found.clear();
        collect_at_path(&source, "c.d", &mut found);
        assert_eq!(found, [&json!("x")]);
    }

    #[test]
    fn stored_values_take_the_field_type() {
        let integer = FieldKind::Integer { min: 0, max: 10 };
        assert_eq!(stored_value(&json!("7"), &integer), Some(json!(7)));
        assert_eq!(stored_value(&json!("x"), &integer), None);
        assert_eq!(
            stored_value(&json!(5), &FieldKind::Keyword),
            Some(json!("5"))
        );
        assert_eq!(
            stored_value(&json!("true"), &FieldKind::Boolean),
            Some(json!(true))
        );
    }
}

//! Where a mapped field lives in the fixed shard schema, and how a query value becomes a value
//! of the field's type.
//!
//! Storage puts every value in a JSON field (`_text` or `_kw`) under a key that is the whole
//! dotted path, with `expand_dots` off. tantivy splits JSON paths on unescaped dots, so every
//! path is escaped (`title\.keyword`) before it reaches a tantivy term or column helper; the
//! escaped form addresses the same key whether or not `expand_dots` is ever turned on. This
//! module must never build queries; it builds terms, column names and typed values.

use tandem_storage::mapping::schema::EXACT_FIELD;
use tandem_storage::mapping::{DateFormat, FieldMapping, FieldType, Mapping, ShardSchema};
use tantivy::columnar::NumericalValue;
use tantivy::schema::{Field, FieldType as TantivyFieldType};
use tantivy::Term;

use crate::ast::Scalar;
use crate::datemath::{parse_date_math, parse_time_zone, DateMathContext};
use crate::error::FailureCause;
use crate::glob;

/// How a mapped field is indexed, for querying.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldKind {
    /// Analysed tokens in `_text`.
    Text,
    /// One raw token in `_kw`.
    Keyword,
    /// `i64` in `_kw`, within the type's range.
    Integer { min: i64, max: i64 },
    /// `f64` in `_kw`.
    Float,
    /// `bool` in `_kw`.
    Boolean,
    /// A date (epoch millis) in `_kw`, parsed with this format.
    Date(DateFormat),
    /// An object: has sub-fields, no values of its own.
    Object,
}

impl FieldKind {
    pub(crate) fn of(field: &FieldMapping) -> FieldKind {
        match field.field_type {
            FieldType::Text => FieldKind::Text,
            FieldType::Keyword => FieldKind::Keyword,
            FieldType::Boolean => FieldKind::Boolean,
            FieldType::Date => FieldKind::Date(field.date_format()),
            FieldType::Object => FieldKind::Object,
            numeric => match numeric.integer_range() {
                Some((min, max)) => FieldKind::Integer { min, max },
                None => FieldKind::Float,
            },
        }
    }

    /// Whether values are strings (text tokens or keywords).
    pub(crate) fn is_string(&self) -> bool {
        matches!(self, FieldKind::Text | FieldKind::Keyword)
    }
}

/// A mapped field a query addresses.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedField<'a> {
    pub(crate) path: String,
    pub(crate) kind: FieldKind,
    pub(crate) mapping: &'a FieldMapping,
}

impl ResolvedField<'_> {
    pub(crate) fn type_name(&self) -> &'static str {
        self.mapping.field_type.name()
    }
}

/// The fields a path or `*` pattern names in this mapping, in path order. An unmapped plain
/// path yields nothing (such a query matches nothing, as in OpenSearch).
pub(crate) fn resolve<'a>(mapping: &'a Mapping, pattern: &str) -> Vec<ResolvedField<'a>> {
    if !glob::is_pattern(pattern) {
        return mapping
            .field(pattern)
            .map(|field| ResolvedField {
                path: pattern.to_string(),
                kind: FieldKind::of(field),
                mapping: field,
            })
            .into_iter()
            .collect();
    }
    mapping
        .leaf_fields()
        .into_iter()
        .filter(|(path, _)| glob::matches(pattern, path))
        .map(|(path, field)| ResolvedField {
            path,
            kind: FieldKind::of(field),
            mapping: field,
        })
        .collect()
}

/// The fields a query may search: an explicitly named field that is not indexed fails as in
/// OpenSearch (storage keeps no terms or columns for it), and patterns skip such fields.
pub(crate) fn resolve_searchable<'a>(
    mapping: &'a Mapping,
    pattern: &str,
) -> Result<Vec<ResolvedField<'a>>, FailureCause> {
    let resolved = resolve(mapping, pattern);
    if !glob::is_pattern(pattern) {
        if let Some(field) = resolved.iter().find(|field| !field.mapping.index) {
            return Err(FailureCause::query_shard(format!(
                "failed to create query: Cannot search on field [{}] since it is not indexed.",
                field.path
            )));
        }
        return Ok(resolved);
    }
    Ok(resolved
        .into_iter()
        .filter(|field| field.mapping.index)
        .collect())
}

/// Escapes a dotted path so tantivy reads it as one JSON key.
pub(crate) fn escape_path(path: &str) -> String {
    let mut escaped = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c == '.' || c == '\\' {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The JSON term prefix (field + path) of `path` in `field`, without a value. It follows the
/// field's own `expand_dots` setting, so terms match however storage configures it.
pub(crate) fn path_term(schema: &ShardSchema, field: Field, path: &str) -> Term {
    let expand_dots = match schema.schema.get_field_entry(field).field_type() {
        TantivyFieldType::JsonObject(options) => options.is_expand_dots_enabled(),
        _ => false,
    };
    Term::from_field_json_path(field, &escape_path(path), expand_dots)
}

/// The fast-field column name of `path` in `_kw`.
pub(crate) fn column_name(path: &str) -> String {
    format!("{EXACT_FIELD}.{}", escape_path(path))
}

/// A value converted to a field's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExactValue {
    Str(String),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// Epoch millis.
    Date(i64),
}

/// The `_kw` term of a value, numbers normalised as tantivy indexes them.
pub(crate) fn exact_term(schema: &ShardSchema, path: &str, value: &ExactValue) -> Term {
    let mut term = path_term(schema, schema.exact, path);
    match value {
        ExactValue::Str(text) => term.append_type_and_str(text),
        ExactValue::I64(number) => term.append_type_and_fast_value(*number),
        ExactValue::F64(number) => match NumericalValue::F64(*number).normalize() {
            NumericalValue::I64(whole) => term.append_type_and_fast_value(whole),
            NumericalValue::U64(whole) => term.append_type_and_fast_value(whole),
            NumericalValue::F64(float) => term.append_type_and_fast_value(float),
        },
        ExactValue::Bool(flag) => term.append_type_and_fast_value(*flag),
        ExactValue::Date(millis) => {
            term.append_type_and_fast_value(tantivy::DateTime::from_timestamp_millis(*millis))
        }
    }
    term
}

/// The `_text` term of one analysed token.
pub(crate) fn text_term(schema: &ShardSchema, path: &str, token: &str) -> Term {
    let mut term = path_term(schema, schema.text, path);
    term.append_type_and_str(token);
    term
}

/// What a query bound or value means for a date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateContext<'a> {
    pub(crate) now_millis: i64,
    pub(crate) format: Option<&'a str>,
    pub(crate) time_zone: Option<&'a str>,
    pub(crate) round_up: bool,
}

/// Converts `value` to `field`'s type. `Ok(None)` means the value can never match (a fraction
/// or an out-of-range number on an integer field, as OpenSearch treats it).
pub(crate) fn convert(
    field: &ResolvedField<'_>,
    value: &Scalar,
    dates: DateContext<'_>,
) -> Result<Option<ExactValue>, FailureCause> {
    let input_error = || {
        FailureCause::query_shard(format!(
            "failed to create query: For input string: \"{}\"",
            value.as_text()
        ))
    };
    let converted = match &field.kind {
        FieldKind::Text | FieldKind::Keyword => ExactValue::Str(value.as_text()),
        FieldKind::Integer { min, max } => {
            let number = match value {
                Scalar::Int(whole) => *whole as f64,
                Scalar::Float(float) => *float,
                Scalar::Str(text) => text.trim().parse::<f64>().map_err(|_| input_error())?,
                Scalar::Bool(_) => return Err(input_error()),
            };
            if let Scalar::Int(whole) = value {
                return Ok((*min..=*max).contains(whole).then_some(ExactValue::I64(*whole)));
            }
            if let Scalar::Str(text) = value {
                if let Ok(whole) = text.trim().parse::<i64>() {
                    return Ok((*min..=*max).contains(&whole).then_some(ExactValue::I64(whole)));
                }
            }
            if number.fract() != 0.0 || number < *min as f64 || number > *max as f64 {
                return Ok(None);
            }
            ExactValue::I64(number as i64)
        }
        FieldKind::Float => match value {
            Scalar::Int(whole) => ExactValue::F64(*whole as f64),
            Scalar::Float(float) => ExactValue::F64(*float),
            Scalar::Str(text) => {
                let parsed = text.trim().parse::<f64>().map_err(|_| input_error())?;
                ExactValue::F64(parsed)
            }
            Scalar::Bool(_) => return Err(input_error()),
        },
        FieldKind::Boolean => match value {
            Scalar::Bool(flag) => ExactValue::Bool(*flag),
            Scalar::Str(text) if text == "true" => ExactValue::Bool(true),
            Scalar::Str(text) if text == "false" || text.is_empty() => ExactValue::Bool(false),
            other => {
                return Err(FailureCause::query_shard(format!(
                    "failed to create query: Can't parse boolean value [{}], expected [true] or [false]",
                    other.as_text()
                )))
            }
        },
        FieldKind::Date(field_format) => ExactValue::Date(date_millis(field_format, value, dates)?),
        FieldKind::Object => return Ok(None),
    };
    Ok(Some(converted))
}

fn date_millis(
    field_format: &DateFormat,
    value: &Scalar,
    dates: DateContext<'_>,
) -> Result<i64, FailureCause> {
    let format = match dates.format {
        Some(text) => DateFormat::parse(text).map_err(|reason| {
            FailureCause::illegal_argument(format!("Invalid format: [{text}]: {reason}"))
        })?,
        None => field_format.clone(),
    };
    let zone_offset_millis = match dates.time_zone {
        Some(zone) => parse_time_zone(zone).map_err(FailureCause::illegal_argument)?,
        None => 0,
    };
    let failed = || {
        FailureCause::parse(format!(
            "failed to parse date field [{}] with format [{}]",
            value.as_text(),
            format.as_str()
        ))
    };
    match value {
        Scalar::Str(text) => {
            let context = DateMathContext {
                now_millis: dates.now_millis,
                round_up: dates.round_up,
                zone_offset_millis,
            };
            parse_date_math(text, &format, context).map_err(FailureCause::parse)
        }
        Scalar::Int(whole) => format.parse_number(*whole as f64).ok_or_else(failed),
        Scalar::Float(float) => format.parse_number(*float).ok_or_else(failed),
        Scalar::Bool(_) => Err(failed()),
    }
}

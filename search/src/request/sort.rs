//! `sort` in the body (`"field"`, `{"field": "desc"}`, `{"field": {"order", "missing", "mode",
//! "unmapped_type"}}`, arrays of these) and in the URL (`field:desc,other`).
//!
//! This module must never read values; it only records what to sort by.

use serde_json::Value;

use crate::dsl::params_plain as plain;
use crate::error::SearchError;
use crate::limits::SORT_KEYS_MAX;

/// What one sort key sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortField {
    /// The relevance score.
    Score,
    /// Index order (shard, then document number).
    Doc,
    /// A field's value (keyword, numeric, date or boolean).
    Field(String),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// Where documents without a value go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingPlacement {
    /// Before every value.
    First,
    /// After every value (the default).
    Last,
}

/// Which value of a multi-valued field a document sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMode {
    /// The smallest (default for ascending).
    Min,
    /// The largest (default for descending).
    Max,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    /// What to sort by.
    pub field: SortField,
    /// Direction.
    pub order: SortOrder,
    /// Placement of documents without a value.
    pub missing: MissingPlacement,
    /// Which value of a multi-valued field counts.
    pub mode: SortMode,
    /// When set, an unmapped field sorts as if all its values were missing instead of failing.
    pub unmapped_type: Option<String>,
}

impl SortSpec {
    /// A key with OpenSearch's defaults: `_score` descending, everything else ascending.
    pub fn new(field: SortField) -> SortSpec {
        let order = if field == SortField::Score {
            SortOrder::Desc
        } else {
            SortOrder::Asc
        };
        SortSpec::with_order(field, order)
    }

    fn with_order(field: SortField, order: SortOrder) -> SortSpec {
        let mode = match order {
            SortOrder::Asc => SortMode::Min,
            SortOrder::Desc => SortMode::Max,
        };
        SortSpec {
            field,
            order,
            missing: MissingPlacement::Last,
            mode,
            unmapped_type: None,
        }
    }
}

fn sort_field(name: &str) -> SortField {
    match name {
        "_score" => SortField::Score,
        "_doc" => SortField::Doc,
        other => SortField::Field(other.to_string()),
    }
}

fn order(value: &str) -> Result<SortOrder, SearchError> {
    match value.to_ascii_lowercase().as_str() {
        "asc" => Ok(SortOrder::Asc),
        "desc" => Ok(SortOrder::Desc),
        _ => Err(SearchError::IllegalArgument(format!(
            "Unknown SortOrder [{value}]"
        ))),
    }
}

/// Parses the body's `sort`.
pub(crate) fn parse_sort(json: &Value) -> Result<Vec<SortSpec>, SearchError> {
    let items: Vec<&Value> = match json {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    if items.len() > SORT_KEYS_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "[sort] lists [{}] keys, more than the maximum of [{SORT_KEYS_MAX}]",
            items.len()
        )));
    }
    let mut specs = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(name) => specs.push(SortSpec::new(sort_field(name))),
            Value::Object(object) => {
                for (name, options) in object {
                    specs.push(parse_options(name, options)?);
                }
            }
            other => {
                return Err(SearchError::Parsing(format!(
                    "[sort] malformed, expected a field name or an object but found [{}]",
                    plain(other)
                )))
            }
        }
    }
    Ok(specs)
}

fn parse_options(name: &str, options: &Value) -> Result<SortSpec, SearchError> {
    let field = sort_field(name);
    let object = match options {
        Value::String(direction) => {
            return Ok(SortSpec::with_order(field, order(direction)?));
        }
        Value::Object(object) => object,
        other => {
            return Err(SearchError::Parsing(format!(
                "[sort] malformed options for [{name}]: [{}]",
                plain(other)
            )))
        }
    };
    let direction = match object.get("order") {
        Some(Value::String(text)) => order(text)?,
        Some(other) => {
            return Err(SearchError::IllegalArgument(format!(
                "Unknown SortOrder [{}]",
                plain(other)
            )))
        }
        None => SortSpec::new(field.clone()).order,
    };
    let mut spec = SortSpec::with_order(field, direction);
    for (key, value) in object {
        match key.as_str() {
            "order" => {}
            "missing" => {
                spec.missing = match value.as_str() {
                    Some("_last") => MissingPlacement::Last,
                    Some("_first") => MissingPlacement::First,
                    _ => {
                        return Err(SearchError::Parsing(format!(
                            "[sort] [missing] value [{}] is not supported, use [_first] or [_last]",
                            plain(value)
                        )))
                    }
                }
            }
            "mode" => {
                spec.mode = match value.as_str() {
                    Some("min") => SortMode::Min,
                    Some("max") => SortMode::Max,
                    _ => {
                        return Err(SearchError::Parsing(format!(
                            "[sort] [mode] value [{}] is not supported, use [min] or [max]",
                            plain(value)
                        )))
                    }
                }
            }
            "unmapped_type" => spec.unmapped_type = value.as_str().map(str::to_string),
            "format" | "numeric_type" => {}
            unknown => {
                return Err(SearchError::Parsing(format!(
                    "[field_sort] unknown field [{unknown}]"
                )))
            }
        }
    }
    Ok(spec)
}

/// Parses the URL form `field:desc,other,_score`.
pub(crate) fn parse_sort_param(text: &str) -> Result<Vec<SortSpec>, SearchError> {
    let mut specs = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let spec = match part.rsplit_once(':') {
            Some((name, direction)) => SortSpec::with_order(sort_field(name), order(direction)?),
            None => SortSpec::new(sort_field(part)),
        };
        specs.push(spec);
    }
    if specs.len() > SORT_KEYS_MAX {
        return Err(SearchError::IllegalArgument(format!(
            "[sort] lists [{}] keys, more than the maximum of [{SORT_KEYS_MAX}]",
            specs.len()
        )));
    }
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_body_form_parses_with_opensearch_defaults() {
        let specs = parse_sort(&json!([
            "name",
            {"age": "desc"},
            {"date": {"order": "asc", "missing": "_first", "mode": "max"}},
            "_score",
            {"_doc": {"order": "desc"}}
        ]))
        .expect("sort parses");
        assert_eq!(specs[0], SortSpec::new(SortField::Field("name".into())));
        assert_eq!(
            (specs[1].order, specs[1].mode),
            (SortOrder::Desc, SortMode::Max)
        );
        assert_eq!(
            (specs[2].missing, specs[2].mode),
            (MissingPlacement::First, SortMode::Max)
        );
        assert_eq!(
            (specs[3].field.clone(), specs[3].order),
            (SortField::Score, SortOrder::Desc)
        );
        assert_eq!(
            (specs[4].field.clone(), specs[4].order),
            (SortField::Doc, SortOrder::Desc)
        );
    }

    #[test]
    fn bad_orders_and_options_are_refused() {
        let error = parse_sort(&json!({"a": "up"})).expect_err("bad order");
        assert_eq!(error.reason(), "Unknown SortOrder [up]");
        let error = parse_sort(&json!({"a": {"missing": 0}})).expect_err("custom missing");
        assert_eq!(error.error_type(), "parsing_exception");
        let error = parse_sort(&json!({"a": {"mode": "avg"}})).expect_err("avg mode");
        assert!(error.reason().contains("[mode]"));
        let error = parse_sort(&json!({"a": {"nested": {}}})).expect_err("nested");
        assert_eq!(error.reason(), "[field_sort] unknown field [nested]");
    }

    #[test]
    fn the_url_form_splits_on_commas_and_colons() {
        let specs = parse_sort_param("a:desc, b ,_score").expect("sort param");
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[0].order, SortOrder::Desc);
        assert_eq!(specs[1], SortSpec::new(SortField::Field("b".into())));
        assert_eq!(specs[2].field, SortField::Score);
    }
}

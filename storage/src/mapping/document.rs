//! Turning a document's `_source` into the values the fixed schema indexes.
//!
//! Parsing runs in two passes. The first, only on a primary with dynamic mapping allowed,
//! finds fields the mapping lacks and proposes a merged mapping; the caller installs it (at a
//! new version) and parses again. The second converts each value by its mapped type into the
//! `_text` or `_kw` JSON field under its dotted path. A replica never maps dynamically: it
//! parses with the mapping the leader wrote the operation under. This module must never touch
//! disk or decide versions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use tantivy::schema::OwnedValue;
use tantivy::DateTime;

use super::field::join;
use super::{
    plain, Dynamic, FieldMapping, FieldType, Mapping, MappingError, ValueKind, MAPPING_DEPTH_MAX,
};

/// Whether parsing may propose new fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicMode {
    /// A primary: unknown fields are mapped by the `dynamic` setting in force.
    Propose,
    /// A replica or follower: unknown fields are left unindexed; the leader's mapping decides.
    Never,
}

/// Keyword values dynamic mapping gives a `.keyword` sub-field, up to this many characters.
pub const DYNAMIC_KEYWORD_IGNORE_ABOVE: u32 = 256;

/// Metadata fields a document body may not contain.
const METADATA_FIELDS: &[&str] = &[
    "_id",
    "_index",
    "_source",
    "_routing",
    "_seq_no",
    "_version",
    "_primary_term",
    "_field_names",
    "_ignored",
    "_type",
];

/// A document ready for the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedDocument {
    /// Values of `text` fields, by dotted path.
    pub text_values: Vec<(String, OwnedValue)>,
    /// Values of every other field type, by dotted path.
    pub exact_values: Vec<(String, OwnedValue)>,
    /// Every path (leaf, parent object, multi-field) with at least one value.
    pub field_names: Vec<String>,
}

/// The outcome of parsing a document against a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentParse {
    /// Every field is mapped; here are the values.
    Parsed(ParsedDocument),
    /// New fields must be mapped first: this is the mapping to install (version + 1).
    NeedsMapping(Mapping),
}

/// Parses `source` (the raw `_source` bytes) against `mapping`.
pub fn parse_document(
    mapping: &Mapping,
    source: &[u8],
    id: &str,
    mode: DynamicMode,
) -> Result<DocumentParse, MappingError> {
    let json: Value = serde_json::from_slice(source)
        .map_err(|error| MappingError::mapper_parsing(format!("failed to parse: {error}")))?;
    let Value::Object(root) = &json else {
        return Err(MappingError::mapper_parsing(
            "failed to parse, document is empty",
        ));
    };
    for key in root.keys() {
        if METADATA_FIELDS.contains(&key.as_str()) {
            return Err(MappingError::mapper_parsing(format!(
                "Field [{key}] is a metadata field and cannot be added inside a document. Use the index API request parameters."
            )));
        }
    }
    if mode == DynamicMode::Propose {
        let mut additions = BTreeMap::new();
        let mut inference = Inference {
            mapping,
            additions: &mut additions,
        };
        inference.walk(
            root,
            "",
            Some(&mapping.properties),
            mapping.root_dynamic(),
            0,
        )?;
        if !additions.is_empty() {
            let update = Mapping {
                properties: additions,
                ..Mapping::empty()
            };
            if let Some(merged) = mapping.merge(&update)? {
                return Ok(DocumentParse::NeedsMapping(merged));
            }
        }
    }
    let mut conversion = Conversion {
        id,
        text: BTreeMap::new(),
        exact: BTreeMap::new(),
        field_names: BTreeSet::new(),
    };
    conversion.walk(root, "", &mapping.properties, 0)?;
    Ok(DocumentParse::Parsed(conversion.finish()))
}

struct Inference<'a> {
    mapping: &'a Mapping,
    additions: &'a mut BTreeMap<String, FieldMapping>,
}

impl Inference<'_> {
    fn walk(
        &mut self,
        object: &Map<String, Value>,
        parent: &str,
        properties: Option<&BTreeMap<String, FieldMapping>>,
        dynamic: Dynamic,
        depth: usize,
    ) -> Result<(), MappingError> {
        check_depth(depth)?;
        for (key, value) in object {
            if let Some((head, tail)) = key.split_once('.') {
                let nested = single_entry(tail, value);
                self.walk(
                    &nested_object(head, nested),
                    parent,
                    properties,
                    dynamic,
                    depth,
                )?;
                continue;
            }
            // Paths are built only where needed: most keys of most documents are mapped leaves.
            match properties.and_then(|props| props.get(key)) {
                Some(field) if field.field_type == FieldType::Object && field.enabled => {
                    let inner_dynamic = field.dynamic.unwrap_or(dynamic);
                    let path = join(parent, key);
                    for inner in objects_in(value) {
                        self.walk(
                            inner,
                            &path,
                            Some(&field.properties),
                            inner_dynamic,
                            depth + 1,
                        )?;
                    }
                }
                Some(_) => {}
                None => self.unmapped(key, &join(parent, key), parent, value, dynamic, depth)?,
            }
        }
        Ok(())
    }

    fn unmapped(
        &mut self,
        key: &str,
        path: &str,
        parent: &str,
        value: &Value,
        dynamic: Dynamic,
        depth: usize,
    ) -> Result<(), MappingError> {
        if let Some(field) = self.infer(value, key, path, parent, dynamic, depth)? {
            insert_at_path(self.additions, path, field);
        }
        Ok(())
    }

    /// The mapping a new field `name` at `path` gets from its value: the first dynamic
    /// template that applies, else the defaults, as `dynamic` allows.
    fn infer(
        &self,
        value: &Value,
        name: &str,
        path: &str,
        parent: &str,
        dynamic: Dynamic,
        depth: usize,
    ) -> Result<Option<FieldMapping>, MappingError> {
        check_depth(depth)?;
        let value = match value {
            Value::Array(items) => match items.iter().find(|item| !item.is_null()) {
                Some(first) => first,
                None => return Ok(None),
            },
            Value::Null => return Ok(None),
            other => other,
        };
        let kind = self.kind_of(value);
        let templates_apply = matches!(
            dynamic,
            Dynamic::True | Dynamic::StrictAllowTemplates | Dynamic::FalseAllowTemplates
        );
        let template = templates_apply
            .then(|| {
                self.mapping
                    .dynamic_templates
                    .iter()
                    .find(|template| template.applies(name, path, kind))
            })
            .flatten();
        let mut field = match (template, dynamic) {
            (Some(template), _) => template.field_mapping(name, kind)?,
            (None, Dynamic::False | Dynamic::FalseAllowTemplates) => return Ok(None),
            (None, Dynamic::Strict | Dynamic::StrictAllowTemplates) => {
                return Err(MappingError {
                    kind: super::MappingErrorKind::StrictDynamic,
                    reason: format!(
                        "mapping set to strict, dynamic introduction of [{name}] within [{}] is not allowed",
                        if parent.is_empty() { "_doc" } else { parent }
                    ),
                })
            }
            (None, Dynamic::True) => default_field(kind),
        };
        if let (Value::Object(object), FieldType::Object) = (value, field.field_type) {
            if field.enabled {
                let inner_dynamic = field.dynamic.unwrap_or(dynamic);
                self.infer_children(&mut field, object, path, inner_dynamic, depth)?;
            }
        }
        Ok(Some(field))
    }

    fn infer_children(
        &self,
        field: &mut FieldMapping,
        object: &Map<String, Value>,
        path: &str,
        dynamic: Dynamic,
        depth: usize,
    ) -> Result<(), MappingError> {
        for (key, inner) in object {
            // `{"a.b": 1}` inside a new object is `{"a": {"b": 1}}`.
            let (name, value) = match key.split_once('.') {
                Some((head, tail)) => (head, single_entry(tail, inner)),
                None => (key.as_str(), inner.clone()),
            };
            let child_path = join(path, name);
            if let Some(child) = self.infer(&value, name, &child_path, path, dynamic, depth + 1)? {
                let addition = BTreeMap::from([(name.to_string(), child)]);
                super::field::merge_properties(&mut field.properties, &addition, path)?;
            }
        }
        Ok(())
    }

    fn kind_of(&self, value: &Value) -> ValueKind {
        match value {
            Value::Object(_) => ValueKind::Object,
            Value::Bool(_) => ValueKind::Boolean,
            Value::Number(number) if number.is_i64() || number.is_u64() => ValueKind::Long,
            Value::Number(_) => ValueKind::Double,
            Value::String(text) if self.detects_date(text) => ValueKind::Date,
            _ => ValueKind::String,
        }
    }

    fn detects_date(&self, text: &str) -> bool {
        if self.mapping.date_detection == Some(false) {
            return false;
        }
        // Only full calendar dates: OpenSearch would otherwise turn "2015" into a date.
        let bytes = text.as_bytes();
        bytes.len() >= 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && super::DateFormat::default_format()
                .parse_str(text)
                .is_some()
    }
}

/// The mapping dynamic mapping gives a new field when no template applies.
fn default_field(kind: ValueKind) -> FieldMapping {
    match kind {
        ValueKind::Object => FieldMapping::of_type(FieldType::Object),
        ValueKind::Boolean => FieldMapping::of_type(FieldType::Boolean),
        ValueKind::Long => FieldMapping::of_type(FieldType::Long),
        ValueKind::Double => FieldMapping::of_type(FieldType::Float),
        ValueKind::Date => FieldMapping::of_type(FieldType::Date),
        ValueKind::String => {
            let mut keyword = FieldMapping::of_type(FieldType::Keyword);
            keyword.ignore_above = Some(DYNAMIC_KEYWORD_IGNORE_ABOVE);
            let mut text = FieldMapping::of_type(FieldType::Text);
            text.fields.insert("keyword".into(), keyword);
            text
        }
    }
}

struct Conversion<'a> {
    id: &'a str,
    text: BTreeMap<String, Vec<OwnedValue>>,
    exact: BTreeMap<String, Vec<OwnedValue>>,
    field_names: BTreeSet<String>,
}

impl Conversion<'_> {
    fn walk(
        &mut self,
        object: &Map<String, Value>,
        parent: &str,
        properties: &BTreeMap<String, FieldMapping>,
        depth: usize,
    ) -> Result<(), MappingError> {
        check_depth(depth)?;
        for (key, value) in object {
            if let Some((head, tail)) = key.split_once('.') {
                let nested = nested_object(head, single_entry(tail, value));
                self.walk(&nested, parent, properties, depth)?;
                continue;
            }
            let Some(field) = properties.get(key) else {
                continue;
            };
            self.value(field, &join(parent, key), value, depth)?;
        }
        Ok(())
    }

    fn value(
        &mut self,
        field: &FieldMapping,
        path: &str,
        value: &Value,
        depth: usize,
    ) -> Result<(), MappingError> {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.value(field, path, item, depth)?;
                }
                Ok(())
            }
            Value::Null => match &field.null_value {
                Some(replacement) if !replacement.is_null() => {
                    let replacement = replacement.clone();
                    self.value(field, path, &replacement, depth)
                }
                _ => Ok(()),
            },
            Value::Object(object) if field.field_type == FieldType::Object => {
                if field.enabled {
                    self.mark_present(path);
                    self.walk(object, path, &field.properties, depth + 1)?;
                }
                Ok(())
            }
            _ if field.field_type == FieldType::Object => Err(MappingError::mapper_parsing(
                format!(
                    "object mapping for [{path}] tried to parse field [{}] as object, but found a concrete value",
                    path.rsplit('.').next().unwrap_or(path)
                ),
            )),
            scalar => {
                self.scalar(field, path, scalar)?;
                for (name, sub_field) in &field.fields {
                    self.scalar(sub_field, &join(path, name), scalar)?;
                }
                Ok(())
            }
        }
    }

    fn scalar(
        &mut self,
        field: &FieldMapping,
        path: &str,
        value: &Value,
    ) -> Result<(), MappingError> {
        let converted = match convert_scalar(field, value) {
            Ok(converted) => converted,
            Err(_) if field.ignore_malformed => return Ok(()),
            Err(detail) => return Err(self.malformed(field, path, value, detail)),
        };
        let Some(converted) = converted else {
            return Ok(());
        };
        if !field.index {
            return Ok(());
        }
        self.mark_present(path);
        let target = if field.field_type == FieldType::Text {
            &mut self.text
        } else {
            &mut self.exact
        };
        target.entry(path.to_string()).or_default().push(converted);
        Ok(())
    }

    fn malformed(
        &self,
        field: &FieldMapping,
        path: &str,
        value: &Value,
        detail: Option<String>,
    ) -> MappingError {
        let preview: String = plain(value).chars().take(20).collect();
        let mut reason = format!(
            "failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of field's value: '{preview}'",
            field.field_type.name(),
            self.id
        );
        if let Some(detail) = detail {
            reason = format!("{reason}; {detail}");
        }
        MappingError::mapper_parsing(reason)
    }

    fn mark_present(&mut self, path: &str) {
        for (index, character) in path.char_indices() {
            if character == '.' {
                self.field_names.insert(path[..index].to_string());
            }
        }
        self.field_names.insert(path.to_string());
    }

    fn finish(self) -> ParsedDocument {
        ParsedDocument {
            text_values: flatten(self.text),
            exact_values: flatten(self.exact),
            field_names: self.field_names.into_iter().collect(),
        }
    }
}

/// Converts one scalar by the field's type. `Ok(None)` means "nothing to index" (a keyword
/// over `ignore_above`); `Err` carries an optional detail for the error message.
fn convert_scalar(
    field: &FieldMapping,
    value: &Value,
) -> Result<Option<OwnedValue>, Option<String>> {
    let field_type = field.field_type;
    let converted = match field_type {
        FieldType::Text => OwnedValue::Str(scalar_text(value).ok_or(None)?),
        FieldType::Keyword => {
            let text = scalar_text(value).ok_or(None)?;
            if field
                .ignore_above
                .is_some_and(|limit| text.chars().count() > limit as usize)
            {
                return Ok(None);
            }
            OwnedValue::Str(text)
        }
        FieldType::Boolean => OwnedValue::Bool(match value {
            Value::Bool(flag) => *flag,
            Value::String(text) if text == "true" => true,
            Value::String(text) if text == "false" || text.is_empty() => false,
            _ => return Err(None),
        }),
        FieldType::Date => {
            let format = field.date_format();
            let millis = match value {
                Value::String(text) => format.parse_str(text),
                Value::Number(number) => number.as_f64().and_then(|n| format.parse_number(n)),
                _ => None,
            };
            let millis = millis.ok_or_else(|| {
                Some(format!(
                    "failed to parse date field [{}] with format [{}]",
                    plain(value),
                    format.as_str()
                ))
            })?;
            OwnedValue::Date(DateTime::from_timestamp_millis(millis))
        }
        numeric if numeric.is_float() => {
            let number = numeric_value(value, field.coerce).ok_or(None)?;
            if !number.is_finite() {
                return Err(Some(format!(
                    "[{}] supports only finite values",
                    numeric.name()
                )));
            }
            OwnedValue::F64(number)
        }
        integer => {
            let (low, high) = integer.integer_range().ok_or(None)?;
            let whole = integer_value(value, field.coerce).ok_or(None)?;
            if whole < i128::from(low) || whole > i128::from(high) {
                return Err(Some(format!(
                    "Value [{}] is out of range for {} {}",
                    plain(value),
                    if integer == FieldType::Integer {
                        "an"
                    } else {
                        "a"
                    },
                    integer.name()
                )));
            }
            OwnedValue::I64(whole as i64)
        }
    };
    Ok(Some(converted))
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn numeric_value(value: &Value, coerce: bool) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) if coerce => text.trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// Whole number of an integer field; fractions are truncated when coercion is on, as in
/// OpenSearch.
fn integer_value(value: &Value, coerce: bool) -> Option<i128> {
    match value {
        Value::Number(number) => {
            if let Some(whole) = number.as_i64() {
                return Some(i128::from(whole));
            }
            if let Some(whole) = number.as_u64() {
                return Some(i128::from(whole));
            }
            let float = number.as_f64()?;
            (coerce && float.is_finite()).then(|| float.trunc() as i128)
        }
        Value::String(text) if coerce => {
            let trimmed = text.trim();
            if let Ok(whole) = trimmed.parse::<i128>() {
                return Some(whole);
            }
            let float = trimmed.parse::<f64>().ok().filter(|f| f.is_finite())?;
            Some(float.trunc() as i128)
        }
        _ => None,
    }
}

fn flatten(values: BTreeMap<String, Vec<OwnedValue>>) -> Vec<(String, OwnedValue)> {
    values
        .into_iter()
        .map(|(path, mut values)| {
            let value = if values.len() == 1 {
                values.remove(0)
            } else {
                OwnedValue::Array(values)
            };
            (path, value)
        })
        .collect()
}

fn objects_in(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(object) => vec![object],
        Value::Array(items) => items.iter().flat_map(objects_in).collect(),
        _ => Vec::new(),
    }
}

fn single_entry(key: &str, value: &Value) -> Value {
    let mut object = Map::new();
    object.insert(key.to_string(), value.clone());
    Value::Object(object)
}

fn nested_object(key: &str, value: Value) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert(key.to_string(), value);
    object
}

fn insert_at_path(
    properties: &mut BTreeMap<String, FieldMapping>,
    path: &str,
    field: FieldMapping,
) {
    match path.split_once('.') {
        None => {
            properties.insert(path.to_string(), field);
        }
        Some((head, rest)) => {
            let parent = properties
                .entry(head.to_string())
                .or_insert_with(|| FieldMapping::of_type(FieldType::Object));
            insert_at_path(&mut parent.properties, rest, field);
        }
    }
}

fn check_depth(depth: usize) -> Result<(), MappingError> {
    if depth > MAPPING_DEPTH_MAX {
        return Err(MappingError::illegal_argument(format!(
            "Limit of mapping depth [{MAPPING_DEPTH_MAX}] has been exceeded"
        )));
    }
    Ok(())
}

//! OpenSearch mappings and how documents map onto the fixed tantivy schema.
//!
//! A [`Mapping`] is the index-level, versioned description of fields; the node owns it and
//! hands it to every shard. This module parses mappings from OpenSearch JSON, merges updates
//! (`PUT _mapping`, dynamic mapping), serializes them back for `GET _mapping`, and turns a
//! document's `_source` into tantivy values ([`document`]). It must never mutate a mapping in
//! place: every change produces a new mapping with a higher version, installed by the node.

pub mod date;
pub mod document;
pub mod schema;
pub mod templates;

mod field;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use date::DateFormat;
pub use document::{parse_document, DocumentParse, DynamicMode, ParsedDocument};
pub use field::{FieldMapping, FieldType};
pub use schema::ShardSchema;
pub use templates::{DynamicTemplate, ValueKind};

/// Longest dotted field path accepted, in bytes.
pub const FIELD_PATH_BYTES_MAX: usize = 1024;
/// Most fields (leaves, objects and multi-fields) one mapping may hold
/// (OpenSearch's `index.mapping.total_fields.limit` default).
pub const MAPPING_FIELDS_MAX: usize = 1000;
/// Deepest object nesting accepted (OpenSearch's `index.mapping.depth.limit` default).
pub const MAPPING_DEPTH_MAX: usize = 20;

/// What happens to fields a document has but the mapping lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dynamic {
    /// Add them to the mapping (the default).
    True,
    /// Keep them in `_source` only.
    False,
    /// Reject the document.
    Strict,
    /// Reject the document unless a dynamic template maps the field.
    StrictAllowTemplates,
    /// Keep unknown fields in `_source` only, unless a dynamic template maps them.
    FalseAllowTemplates,
}

impl Dynamic {
    fn parse(value: &Value) -> Result<Dynamic, MappingError> {
        match value {
            Value::Bool(true) => Ok(Dynamic::True),
            Value::Bool(false) => Ok(Dynamic::False),
            Value::String(text) if text == "true" => Ok(Dynamic::True),
            Value::String(text) if text == "false" => Ok(Dynamic::False),
            Value::String(text) if text == "strict" => Ok(Dynamic::Strict),
            Value::String(text) if text == "strict_allow_templates" => {
                Ok(Dynamic::StrictAllowTemplates)
            }
            Value::String(text) if text == "false_allow_templates" => {
                Ok(Dynamic::FalseAllowTemplates)
            }
            other => Err(MappingError::mapper_parsing(format!(
                "Could not convert [dynamic] to boolean, [strict], [strict_allow_templates] or [false_allow_templates]: [{}]",
                plain(other)
            ))),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Dynamic::True => Value::String("true".into()),
            Dynamic::False => Value::String("false".into()),
            Dynamic::Strict => Value::String("strict".into()),
            Dynamic::StrictAllowTemplates => Value::String("strict_allow_templates".into()),
            Dynamic::FalseAllowTemplates => Value::String("false_allow_templates".into()),
        }
    }
}

/// Why a mapping or a document was refused. `kind` names the OpenSearch error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct MappingError {
    /// The OpenSearch error type this maps to.
    pub kind: MappingErrorKind,
    /// OpenSearch's reason text.
    pub reason: String,
}

/// The OpenSearch error types mapping failures are reported as (all HTTP 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingErrorKind {
    /// `mapper_parsing_exception`.
    MapperParsing,
    /// `illegal_argument_exception`.
    IllegalArgument,
    /// `strict_dynamic_mapping_exception`.
    StrictDynamic,
}

impl MappingErrorKind {
    /// The OpenSearch `type` string.
    pub fn opensearch_type(self) -> &'static str {
        match self {
            MappingErrorKind::MapperParsing => "mapper_parsing_exception",
            MappingErrorKind::IllegalArgument => "illegal_argument_exception",
            MappingErrorKind::StrictDynamic => "strict_dynamic_mapping_exception",
        }
    }
}

impl MappingError {
    pub(crate) fn mapper_parsing(reason: impl Into<String>) -> MappingError {
        MappingError {
            kind: MappingErrorKind::MapperParsing,
            reason: reason.into(),
        }
    }

    pub(crate) fn illegal_argument(reason: impl Into<String>) -> MappingError {
        MappingError {
            kind: MappingErrorKind::IllegalArgument,
            reason: reason.into(),
        }
    }
}

/// An index's mapping at one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// Grows by one with every change; travels with every translog record.
    pub version: u64,
    /// Root-level handling of unknown fields.
    pub dynamic: Option<Dynamic>,
    /// Whether string values that look like dates map dynamically to `date`.
    pub date_detection: Option<bool>,
    /// Rules for mapping new fields, first match wins.
    pub dynamic_templates: Vec<DynamicTemplate>,
    /// Top-level fields.
    pub properties: BTreeMap<String, FieldMapping>,
    /// Accepted root-level keys kept verbatim (`_meta`, `_source`, `_routing`).
    pub root_extra: Map<String, Value>,
}

const ROOT_KEPT_KEYS: &[&str] = &["_meta", "_source", "_routing", "_all", "_field_names"];

impl Mapping {
    /// The mapping of a new index with no fields (version 1).
    pub fn empty() -> Mapping {
        Mapping {
            version: 1,
            dynamic: None,
            date_detection: None,
            dynamic_templates: Vec::new(),
            properties: BTreeMap::new(),
            root_extra: Map::new(),
        }
    }

    /// Parses OpenSearch mapping JSON (`{"properties": {...}, "dynamic": ...}`), accepting the
    /// 7.x-style `{"_doc": {...}}` wrapper too.
    pub fn from_json(json: &Value, version: u64) -> Result<Mapping, MappingError> {
        let object = json.as_object().ok_or_else(|| {
            MappingError::mapper_parsing("Failed to parse mapping: mapping must be an object")
        })?;
        if object.len() == 1 {
            if let Some(inner @ Value::Object(_)) = object.get("_doc") {
                return Mapping::from_json(inner, version);
            }
        }
        let mut mapping = Mapping {
            version,
            ..Mapping::empty()
        };
        for (key, value) in object {
            match key.as_str() {
                "properties" => mapping.properties = field::parse_properties(value, "", 1)?,
                "dynamic" => mapping.dynamic = Some(Dynamic::parse(value)?),
                "date_detection" => mapping.date_detection = Some(parse_bool(key, value)?),
                "numeric_detection" if value == &Value::Bool(false) => {}
                "dynamic_templates" => {
                    mapping.dynamic_templates = templates::parse_templates(value)?
                }
                kept if ROOT_KEPT_KEYS.contains(&kept) => {
                    mapping.root_extra.insert(key.clone(), value.clone());
                }
                "numeric_detection" | "dynamic_date_formats" => {
                    return Err(MappingError::mapper_parsing(format!(
                        "Failed to parse mapping: [{key}] is not supported"
                    )))
                }
                unknown => {
                    return Err(MappingError::mapper_parsing(format!(
                        "Root mapping definition has unsupported parameters:  [{unknown} : {}]",
                        plain(value)
                    )))
                }
            }
        }
        mapping.check_limits()?;
        Ok(mapping)
    }

    /// The mapping as OpenSearch prints it under `mappings`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(dynamic) = self.dynamic {
            object.insert("dynamic".into(), dynamic.to_json());
        }
        if let Some(detection) = self.date_detection {
            object.insert("date_detection".into(), Value::Bool(detection));
        }
        if !self.dynamic_templates.is_empty() {
            let templates = self.dynamic_templates.iter().map(DynamicTemplate::to_json);
            object.insert(
                "dynamic_templates".into(),
                Value::Array(templates.collect()),
            );
        }
        for (key, value) in &self.root_extra {
            object.insert(key.clone(), value.clone());
        }
        if !self.properties.is_empty() {
            object.insert(
                "properties".into(),
                field::properties_to_json(&self.properties),
            );
        }
        Value::Object(object)
    }

    /// Merges `update` into this mapping and returns the result at `version + 1`.
    ///
    /// New fields are added; an existing field keeps its type (a different one is an
    /// `illegal_argument_exception`, as in OpenSearch); parameters that may change are taken
    /// from the update. Returns `None` when the update changes nothing.
    pub fn merge(&self, update: &Mapping) -> Result<Option<Mapping>, MappingError> {
        let mut merged = self.clone();
        if update.dynamic.is_some() {
            merged.dynamic = update.dynamic;
        }
        if update.date_detection.is_some() {
            merged.date_detection = update.date_detection;
        }
        // Templates merge by name: a new one with a known name replaces it in place.
        for template in &update.dynamic_templates {
            match merged
                .dynamic_templates
                .iter_mut()
                .find(|existing| existing.name() == template.name())
            {
                Some(existing) => *existing = template.clone(),
                None => merged.dynamic_templates.push(template.clone()),
            }
        }
        if merged.dynamic_templates.len() > templates::DYNAMIC_TEMPLATES_MAX {
            return Err(MappingError::illegal_argument(format!(
                "Limit of dynamic templates [{}] has been exceeded",
                templates::DYNAMIC_TEMPLATES_MAX
            )));
        }
        for (key, value) in &update.root_extra {
            merged.root_extra.insert(key.clone(), value.clone());
        }
        field::merge_properties(&mut merged.properties, &update.properties, "")?;
        merged.check_limits()?;
        if merged.same_content(self) {
            return Ok(None);
        }
        merged.version = self.version + 1;
        Ok(Some(merged))
    }

    /// Whether two mappings describe the same fields, whatever their versions.
    pub fn same_content(&self, other: &Mapping) -> bool {
        self.dynamic == other.dynamic
            && self.date_detection == other.date_detection
            && self.dynamic_templates == other.dynamic_templates
            && self.properties == other.properties
            && self.root_extra == other.root_extra
    }

    /// The root-level dynamic setting in force.
    pub fn root_dynamic(&self) -> Dynamic {
        self.dynamic.unwrap_or(Dynamic::True)
    }

    /// Looks a field up by its dotted path, descending into objects and multi-fields
    /// (`title.keyword`).
    pub fn field(&self, path: &str) -> Option<&FieldMapping> {
        let mut segments = path.split('.');
        let mut current = self.properties.get(segments.next()?)?;
        for segment in segments {
            current = current
                .properties
                .get(segment)
                .or_else(|| current.fields.get(segment))?;
        }
        Some(current)
    }

    /// Every leaf path with its mapping, multi-fields included, in path order.
    pub fn leaf_fields(&self) -> Vec<(String, &FieldMapping)> {
        let mut leaves = Vec::new();
        field::collect_leaves(&self.properties, "", &mut leaves);
        leaves
    }

    fn check_limits(&self) -> Result<(), MappingError> {
        let count = field::count_fields(&self.properties);
        if count > MAPPING_FIELDS_MAX {
            return Err(MappingError::illegal_argument(format!(
                "Limit of total fields [{MAPPING_FIELDS_MAX}] has been exceeded"
            )));
        }
        Ok(())
    }
}

pub(crate) fn parse_bool(key: &str, value: &Value) -> Result<bool, MappingError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        other => Err(MappingError::mapper_parsing(format!(
            "Failed to parse value [{}] as only [true] or [false] are allowed for [{key}]",
            plain(other)
        ))),
    }
}

/// A JSON value as OpenSearch quotes it in messages: strings without quotes.
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;

//! One field of a mapping: its type, parameters, sub-objects and multi-fields.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    date::DateFormat, parse_bool, plain, Dynamic, MappingError, FIELD_PATH_BYTES_MAX,
    MAPPING_DEPTH_MAX,
};

/// The field types tandem indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Analysed full text.
    Text,
    /// One exact token.
    Keyword,
    /// Signed 64-bit integer.
    Long,
    /// Signed 32-bit integer.
    Integer,
    /// Signed 16-bit integer.
    Short,
    /// Signed 8-bit integer.
    Byte,
    /// 64-bit float.
    Double,
    /// 32-bit float (kept as 64-bit).
    Float,
    /// 16-bit float (kept as 64-bit).
    HalfFloat,
    /// Float with a scaling factor (kept as 64-bit).
    ScaledFloat,
    /// `true` or `false`.
    Boolean,
    /// A point in time, kept as epoch milliseconds.
    Date,
    /// A JSON object with sub-fields.
    Object,
}

impl FieldType {
    /// Parses OpenSearch's type name.
    pub fn parse(name: &str) -> Option<FieldType> {
        let field_type = match name {
            "text" => FieldType::Text,
            "keyword" => FieldType::Keyword,
            "long" => FieldType::Long,
            "integer" => FieldType::Integer,
            "short" => FieldType::Short,
            "byte" => FieldType::Byte,
            "double" => FieldType::Double,
            "float" => FieldType::Float,
            "half_float" => FieldType::HalfFloat,
            "scaled_float" => FieldType::ScaledFloat,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "object" => FieldType::Object,
            _ => return None,
        };
        Some(field_type)
    }

    /// OpenSearch's type name.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Keyword => "keyword",
            FieldType::Long => "long",
            FieldType::Integer => "integer",
            FieldType::Short => "short",
            FieldType::Byte => "byte",
            FieldType::Double => "double",
            FieldType::Float => "float",
            FieldType::HalfFloat => "half_float",
            FieldType::ScaledFloat => "scaled_float",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Object => "object",
        }
    }

    /// Whether values are whole numbers, and their inclusive range.
    pub fn integer_range(self) -> Option<(i64, i64)> {
        match self {
            FieldType::Long => Some((i64::MIN, i64::MAX)),
            FieldType::Integer => Some((i32::MIN.into(), i32::MAX.into())),
            FieldType::Short => Some((i16::MIN.into(), i16::MAX.into())),
            FieldType::Byte => Some((i8::MIN.into(), i8::MAX.into())),
            _ => None,
        }
    }

    /// Whether values are floating point numbers.
    pub fn is_float(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Float | FieldType::HalfFloat | FieldType::ScaledFloat
        )
    }

    /// Whether the type is numeric (integer or float).
    pub fn is_numeric(self) -> bool {
        self.integer_range().is_some() || self.is_float()
    }
}

/// The mapping of one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMapping {
    /// The field's type.
    pub field_type: FieldType,
    /// Sub-fields of an object.
    pub properties: BTreeMap<String, FieldMapping>,
    /// Multi-fields: the same value indexed another way (`title.keyword`).
    pub fields: BTreeMap<String, FieldMapping>,
    /// Date format of a `date` field (`None` means the default).
    pub format: Option<DateFormat>,
    /// Keyword values longer than this (in characters) are not indexed.
    pub ignore_above: Option<u32>,
    /// Whether the field is searchable (`index`, default true).
    pub index: bool,
    /// Whether an object's sub-fields are parsed at all (`enabled`, default true).
    pub enabled: bool,
    /// Whether strings are coerced into numbers (default true).
    pub coerce: bool,
    /// Whether a malformed value is skipped instead of failing the document.
    pub ignore_malformed: bool,
    /// Object-level dynamic setting, overriding the root's.
    pub dynamic: Option<Dynamic>,
    /// Value indexed in place of an explicit `null`.
    pub null_value: Option<Value>,
    /// Other accepted parameters, kept verbatim so `GET _mapping` shows them.
    pub extra: Map<String, Value>,
}

/// Parameters accepted, kept and echoed, with no effect on how tandem indexes.
const KEPT_PARAMETERS: &[&str] = &[
    "analyzer",
    "search_analyzer",
    "store",
    "doc_values",
    "norms",
    "index_options",
    "similarity",
    "boost",
    "eager_global_ordinals",
    "fielddata",
    "term_vector",
    "normalizer",
    "scaling_factor",
    "meta",
    "position_increment_gap",
    "split_queries_on_whitespace",
    "locale",
];

impl FieldMapping {
    /// A field of the given type with default parameters.
    pub fn of_type(field_type: FieldType) -> FieldMapping {
        FieldMapping {
            field_type,
            properties: BTreeMap::new(),
            fields: BTreeMap::new(),
            format: None,
            ignore_above: None,
            index: true,
            enabled: true,
            coerce: true,
            ignore_malformed: false,
            dynamic: None,
            null_value: None,
            extra: Map::new(),
        }
    }

    /// The date format in force for a `date` field.
    pub fn date_format(&self) -> DateFormat {
        self.format
            .clone()
            .unwrap_or_else(DateFormat::default_format)
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        if self.field_type != FieldType::Object {
            object.insert("type".into(), Value::String(self.field_type.name().into()));
        }
        if let Some(dynamic) = self.dynamic {
            object.insert("dynamic".into(), dynamic.to_json());
        }
        if !self.enabled {
            object.insert("enabled".into(), Value::Bool(false));
        }
        if let Some(format) = &self.format {
            object.insert("format".into(), Value::String(format.as_str().into()));
        }
        if let Some(limit) = self.ignore_above {
            object.insert("ignore_above".into(), Value::from(limit));
        }
        if !self.index {
            object.insert("index".into(), Value::Bool(false));
        }
        if !self.coerce {
            object.insert("coerce".into(), Value::Bool(false));
        }
        if self.ignore_malformed {
            object.insert("ignore_malformed".into(), Value::Bool(true));
        }
        if let Some(null_value) = &self.null_value {
            object.insert("null_value".into(), null_value.clone());
        }
        for (key, value) in &self.extra {
            object.insert(key.clone(), value.clone());
        }
        if !self.fields.is_empty() {
            object.insert("fields".into(), properties_to_json(&self.fields));
        }
        if !self.properties.is_empty() {
            object.insert("properties".into(), properties_to_json(&self.properties));
        }
        Value::Object(object)
    }
}

pub(super) fn properties_to_json(properties: &BTreeMap<String, FieldMapping>) -> Value {
    let object = properties
        .iter()
        .map(|(name, field)| (name.clone(), field.to_json()))
        .collect();
    Value::Object(object)
}

pub(super) fn parse_properties(
    json: &Value,
    parent: &str,
    depth: usize,
) -> Result<BTreeMap<String, FieldMapping>, MappingError> {
    if depth > super::MAPPING_DEPTH_MAX {
        return Err(MappingError::illegal_argument(format!(
            "Limit of mapping depth [{MAPPING_DEPTH_MAX}] has been exceeded"
        )));
    }
    let object = json.as_object().ok_or_else(|| {
        MappingError::mapper_parsing(format!(
            "Expected map for property [properties] on field [{}] but got a {}",
            if parent.is_empty() { "_doc" } else { parent },
            json_kind(json)
        ))
    })?;
    let mut properties = BTreeMap::new();
    for (name, definition) in object {
        let path = join(parent, name);
        check_field_name(name, &path)?;
        // A dotted name in a mapping is shorthand for nested objects, as in OpenSearch.
        if let Some((head, tail)) = name.split_once('.') {
            let nested = serde_json::json!({ "properties": { tail: definition } });
            let field = parse_field(&nested, &join(parent, head), depth)?;
            merge_field(&mut properties, head, &field, parent)?;
            continue;
        }
        let field = parse_field(definition, &path, depth)?;
        properties.insert(name.clone(), field);
    }
    Ok(properties)
}

fn check_field_name(name: &str, path: &str) -> Result<(), MappingError> {
    if name.is_empty() || name.trim().is_empty() {
        return Err(MappingError::illegal_argument(
            "field name cannot be an empty string",
        ));
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err(MappingError::illegal_argument(format!(
            "field name cannot contain only whitespace or dots: ['{name}']"
        )));
    }
    if path.len() > FIELD_PATH_BYTES_MAX {
        return Err(MappingError::illegal_argument(format!(
            "field name [{path}] is longer than {FIELD_PATH_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

/// Parses one field's definition (a dynamic template's mapping) as if it sat at `path`.
pub(super) fn parse_single_field(json: &Value, path: &str) -> Result<FieldMapping, MappingError> {
    check_field_name(path.rsplit('.').next().unwrap_or(path), path)?;
    parse_field(json, path, 1)
}

fn parse_field(json: &Value, path: &str, depth: usize) -> Result<FieldMapping, MappingError> {
    let object = json.as_object().ok_or_else(|| {
        MappingError::mapper_parsing(format!(
            "Expected map for property [fields] on field [{path}] but got a {}",
            json_kind(json)
        ))
    })?;
    let field_type = match object.get("type") {
        None => FieldType::Object,
        Some(Value::String(name)) => FieldType::parse(name).ok_or_else(|| {
            let reason = if name == "nested" {
                format!("field [{path}]: type [nested] is not supported")
            } else {
                format!("No handler for type [{name}] declared on field [{path}]")
            };
            MappingError::mapper_parsing(reason)
        })?,
        Some(other) => {
            return Err(MappingError::mapper_parsing(format!(
                "No handler for type [{}] declared on field [{path}]",
                plain(other)
            )))
        }
    };
    let mut field = FieldMapping::of_type(field_type);
    for (key, value) in object {
        apply_parameter(&mut field, key, value, path, depth)?;
    }
    if field_type == FieldType::ScaledFloat && !field.extra.contains_key("scaling_factor") {
        return Err(MappingError::mapper_parsing(format!(
            "Field [scaling_factor] is required on field [{path}]"
        )));
    }
    Ok(field)
}

fn apply_parameter(
    field: &mut FieldMapping,
    key: &str,
    value: &Value,
    path: &str,
    depth: usize,
) -> Result<(), MappingError> {
    let field_type = field.field_type;
    let is_object = field_type == FieldType::Object;
    match key {
        "type" => {}
        "properties" if is_object => field.properties = parse_properties(value, path, depth + 1)?,
        "dynamic" if is_object => field.dynamic = Some(Dynamic::parse(value)?),
        "enabled" if is_object => field.enabled = parse_bool(key, value)?,
        "fields" if !is_object => field.fields = parse_multi_fields(value, path, depth)?,
        "format" if field_type == FieldType::Date => {
            let text = value.as_str().ok_or_else(|| {
                MappingError::mapper_parsing(format!("Invalid format: [{}]", plain(value)))
            })?;
            let format = DateFormat::parse(text).map_err(|reason| {
                MappingError::mapper_parsing(format!(
                    "Invalid format: [{text}]: {reason} on field [{path}]"
                ))
            })?;
            field.format = Some(format);
        }
        "ignore_above" if field_type == FieldType::Keyword => {
            let limit = value.as_u64().and_then(|v| u32::try_from(v).ok());
            field.ignore_above = Some(limit.ok_or_else(|| {
                MappingError::mapper_parsing(format!(
                    "Failed to parse value [{}] for [ignore_above] on field [{path}]",
                    plain(value)
                ))
            })?);
        }
        "index" if !is_object => field.index = parse_bool(key, value)?,
        "coerce" if field_type.is_numeric() => field.coerce = parse_bool(key, value)?,
        "ignore_malformed" if !is_object => field.ignore_malformed = parse_bool(key, value)?,
        "null_value" if !is_object => field.null_value = Some(value.clone()),
        "scaling_factor" if field_type == FieldType::ScaledFloat => {
            if value.as_f64().is_none() {
                return Err(MappingError::mapper_parsing(format!(
                    "Failed to parse [scaling_factor] on field [{path}]"
                )));
            }
            field.extra.insert(key.into(), value.clone());
        }
        kept if KEPT_PARAMETERS.contains(&kept) && !is_object => {
            field.extra.insert(key.into(), value.clone());
        }
        unknown => {
            return Err(MappingError::mapper_parsing(format!(
                "unknown parameter [{unknown}] on mapper [{}] of type [{}]",
                path.rsplit('.').next().unwrap_or(path),
                field_type.name()
            )))
        }
    }
    Ok(())
}

fn parse_multi_fields(
    json: &Value,
    path: &str,
    depth: usize,
) -> Result<BTreeMap<String, FieldMapping>, MappingError> {
    let fields = parse_properties(json, path, depth + 1)?;
    if let Some((name, _)) = fields
        .iter()
        .find(|(_, field)| field.field_type == FieldType::Object)
    {
        return Err(MappingError::mapper_parsing(format!(
            "Type [object] cannot be used in multi field [{path}.{name}]"
        )));
    }
    Ok(fields)
}

pub(super) fn merge_properties(
    target: &mut BTreeMap<String, FieldMapping>,
    update: &BTreeMap<String, FieldMapping>,
    parent: &str,
) -> Result<(), MappingError> {
    for (name, field) in update {
        merge_field(target, name, field, parent)?;
    }
    Ok(())
}

fn merge_field(
    target: &mut BTreeMap<String, FieldMapping>,
    name: &str,
    update: &FieldMapping,
    parent: &str,
) -> Result<(), MappingError> {
    let path = join(parent, name);
    let Some(existing) = target.get_mut(name) else {
        target.insert(name.to_string(), update.clone());
        return Ok(());
    };
    if existing.field_type != update.field_type {
        return Err(MappingError::illegal_argument(format!(
            "mapper [{path}] cannot be changed from type [{}] to [{}]",
            existing.field_type.name(),
            update.field_type.name()
        )));
    }
    if existing.format.is_some() && update.format.is_some() && existing.format != update.format {
        return Err(MappingError::illegal_argument(format!(
            "Mapper for [{path}] conflicts with existing mapper:\n\tCannot update parameter [format] from [{}] to [{}]",
            existing.format.as_ref().map_or("", |f| f.as_str()),
            update.format.as_ref().map_or("", |f| f.as_str())
        )));
    }
    if update.dynamic.is_some() {
        existing.dynamic = update.dynamic;
    }
    if update.ignore_above.is_some() {
        existing.ignore_above = update.ignore_above;
    }
    if update.format.is_some() {
        existing.format = update.format.clone();
    }
    for (key, value) in &update.extra {
        existing.extra.insert(key.clone(), value.clone());
    }
    merge_properties(&mut existing.properties, &update.properties, &path)?;
    merge_properties(&mut existing.fields, &update.fields, &path)?;
    Ok(())
}

pub(super) fn collect_leaves<'a>(
    properties: &'a BTreeMap<String, FieldMapping>,
    parent: &str,
    leaves: &mut Vec<(String, &'a FieldMapping)>,
) {
    for (name, field) in properties {
        let path = join(parent, name);
        if field.field_type == FieldType::Object {
            collect_leaves(&field.properties, &path, leaves);
            continue;
        }
        leaves.push((path.clone(), field));
        collect_leaves(&field.fields, &path, leaves);
    }
}

pub(super) fn count_fields(properties: &BTreeMap<String, FieldMapping>) -> usize {
    properties
        .values()
        .map(|field| 1 + count_fields(&field.properties) + count_fields(&field.fields))
        .sum()
}

pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

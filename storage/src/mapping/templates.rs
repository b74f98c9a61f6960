//! Dynamic templates: rules that decide how a field found by dynamic mapping is mapped, by its
//! name, its dotted path and the JSON type of its value, as OpenSearch's `dynamic_templates`.
//!
//! A template is `{"<name>": {"match": .., "unmatch": .., "path_match": .., "path_unmatch": ..,
//! "match_mapping_type": .., "match_pattern": "simple"|"regex", "mapping": {..}}}`. The first
//! template that matches wins; `{name}` and `{dynamic_type}` in its mapping are replaced before
//! the mapping is parsed. This module must never decide whether dynamic mapping is allowed.

use serde_json::{Map, Value};

use super::field::{parse_single_field, FieldMapping};
use super::{plain, MappingError};

/// Templates one mapping may hold.
pub const DYNAMIC_TEMPLATES_MAX: usize = 256;
/// Longest regular expression a template may use, in bytes.
const TEMPLATE_REGEX_BYTES_MAX: usize = 1024;

/// The JSON type of a value, as `match_mapping_type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A JSON object.
    Object,
    /// A string that is not a detected date.
    String,
    /// A whole number.
    Long,
    /// A number with a fraction.
    Double,
    /// `true` or `false`.
    Boolean,
    /// A string detected as a date.
    Date,
}

impl ValueKind {
    fn name(self) -> &'static str {
        match self {
            ValueKind::Object => "object",
            ValueKind::String => "string",
            ValueKind::Long => "long",
            ValueKind::Double => "double",
            ValueKind::Boolean => "boolean",
            ValueKind::Date => "date",
        }
    }

    /// The mapping type `{dynamic_type}` stands for, and the type a template mapping without
    /// `type` gets.
    fn default_type(self) -> &'static str {
        match self {
            ValueKind::Object => "object",
            ValueKind::String => "text",
            ValueKind::Long => "long",
            ValueKind::Double => "float",
            ValueKind::Boolean => "boolean",
            ValueKind::Date => "date",
        }
    }
}

const MAPPING_TYPE_NAMES: &[&str] = &[
    "object", "string", "long", "double", "boolean", "date", "binary", "*",
];

#[derive(Debug, Clone)]
enum NameMatcher {
    Glob(Vec<String>),
    Regex(Vec<regex::Regex>),
}

impl NameMatcher {
    fn matches(&self, text: &str) -> bool {
        match self {
            NameMatcher::Glob(patterns) => patterns.iter().any(|p| simple_match(p, text)),
            NameMatcher::Regex(patterns) => patterns.iter().any(|p| p.is_match(text)),
        }
    }
}

/// One parsed template, with the JSON it came from.
#[derive(Debug, Clone)]
pub struct DynamicTemplate {
    name: String,
    matches: Option<NameMatcher>,
    unmatches: Option<NameMatcher>,
    path_matches: Option<NameMatcher>,
    path_unmatches: Option<NameMatcher>,
    mapping_type: Option<String>,
    mapping: Map<String, Value>,
    json: Value,
}

impl PartialEq for DynamicTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl DynamicTemplate {
    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The template as it was given (`{"<name>": {...}}`).
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }

    /// Whether the template applies to a field `name` at `path` with a value of `kind`.
    pub fn applies(&self, name: &str, path: &str, kind: ValueKind) -> bool {
        let type_matches = match self.mapping_type.as_deref() {
            None | Some("*") => true,
            Some(wanted) => wanted == kind.name(),
        };
        type_matches
            && self.matches.as_ref().is_none_or(|m| m.matches(name))
            && !self.unmatches.as_ref().is_some_and(|m| m.matches(name))
            && self.path_matches.as_ref().is_none_or(|m| m.matches(path))
            && !self
                .path_unmatches
                .as_ref()
                .is_some_and(|m| m.matches(path))
    }

    /// The field mapping this template gives field `name` with a value of `kind`.
    pub fn field_mapping(&self, name: &str, kind: ValueKind) -> Result<FieldMapping, MappingError> {
        let mut mapping = substitute(&Value::Object(self.mapping.clone()), name, kind);
        if let Value::Object(object) = &mut mapping {
            object
                .entry("type")
                .or_insert_with(|| Value::String(kind.default_type().into()));
        }
        parse_single_field(&mapping, name).map_err(|error| {
            MappingError::mapper_parsing(format!(
                "dynamic template [{}] has invalid content: {}",
                self.name, error.reason
            ))
        })
    }
}

/// Parses `dynamic_templates`: an array of single-key objects.
pub(crate) fn parse_templates(json: &Value) -> Result<Vec<DynamicTemplate>, MappingError> {
    let Value::Array(items) = json else {
        return Err(MappingError::mapper_parsing(
            "Dynamic template syntax error. An array of named objects is expected.",
        ));
    };
    if items.len() > DYNAMIC_TEMPLATES_MAX {
        return Err(MappingError::illegal_argument(format!(
            "Limit of dynamic templates [{DYNAMIC_TEMPLATES_MAX}] has been exceeded"
        )));
    }
    items.iter().map(parse_template).collect()
}

fn parse_template(item: &Value) -> Result<DynamicTemplate, MappingError> {
    let syntax_error = || {
        MappingError::mapper_parsing(
            "A dynamic template must be defined with a name and a single object, e.g. {\"name\": {...}}",
        )
    };
    let Some((name, Value::Object(body))) = item
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err(syntax_error());
    };
    let regex = match body.get("match_pattern") {
        None => false,
        Some(Value::String(kind)) if kind == "simple" => false,
        Some(Value::String(kind)) if kind == "regex" => true,
        Some(other) => {
            return Err(MappingError::illegal_argument(format!(
                "No matching pattern matched on [{}]",
                plain(other)
            )))
        }
    };
    let mut template = DynamicTemplate {
        name: name.clone(),
        matches: None,
        unmatches: None,
        path_matches: None,
        path_unmatches: None,
        mapping_type: None,
        mapping: Map::new(),
        json: item.clone(),
    };
    let mut has_mapping = false;
    for (key, value) in body {
        match key.as_str() {
            "match" => template.matches = Some(matcher(name, key, value, regex)?),
            "unmatch" => template.unmatches = Some(matcher(name, key, value, regex)?),
            "path_match" => template.path_matches = Some(matcher(name, key, value, regex)?),
            "path_unmatch" => template.path_unmatches = Some(matcher(name, key, value, regex)?),
            "match_pattern" => {}
            "match_mapping_type" => {
                let kind = value.as_str().filter(|k| MAPPING_TYPE_NAMES.contains(k));
                let kind = kind.ok_or_else(|| {
                    MappingError::mapper_parsing(format!(
                        "No field type matched on [{}], possible values are {MAPPING_TYPE_NAMES:?}",
                        plain(value)
                    ))
                })?;
                template.mapping_type = Some(kind.to_string());
            }
            "mapping" => {
                let Value::Object(mapping) = value else {
                    return Err(MappingError::mapper_parsing(format!(
                        "dynamic template [{name}] must have a [mapping] object"
                    )));
                };
                template.mapping = mapping.clone();
                has_mapping = true;
            }
            unknown => {
                return Err(MappingError::mapper_parsing(format!(
                    "Illegal dynamic template parameter: [{unknown}]"
                )))
            }
        }
    }
    if !has_mapping {
        return Err(MappingError::mapper_parsing(format!(
            "template [{name}] must have a mapping"
        )));
    }
    // Check the mapping now, with a stand-in name, so a bad template fails at PUT time.
    let kind = match template.mapping_type.as_deref() {
        Some("object") => ValueKind::Object,
        Some("long") => ValueKind::Long,
        Some("double") => ValueKind::Double,
        Some("boolean") => ValueKind::Boolean,
        Some("date") => ValueKind::Date,
        _ => ValueKind::String,
    };
    template.field_mapping("field", kind)?;
    Ok(template)
}

fn matcher(
    template: &str,
    key: &str,
    value: &Value,
    regex: bool,
) -> Result<NameMatcher, MappingError> {
    let patterns: Vec<String> = match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                MappingError::mapper_parsing(format!(
                    "dynamic template [{template}]: [{key}] must be a string or a list of strings"
                ))
            })?,
        other => {
            return Err(MappingError::mapper_parsing(format!(
                "dynamic template [{template}]: [{key}] must be a string or a list of strings, found [{}]",
                plain(other)
            )))
        }
    };
    if !regex {
        return Ok(NameMatcher::Glob(patterns));
    }
    let compiled = patterns
        .iter()
        .map(|pattern| {
            regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .size_limit(TEMPLATE_REGEX_BYTES_MAX * 1024)
                .build()
                .ok()
                .filter(|_| pattern.len() <= TEMPLATE_REGEX_BYTES_MAX)
                .ok_or_else(|| {
                    MappingError::illegal_argument(format!(
                        "dynamic template [{template}]: invalid regular expression [{pattern}] in [{key}]"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(NameMatcher::Regex(compiled))
}

/// OpenSearch's `Regex.simpleMatch`: `*` matches any run of characters.
fn simple_match(pattern: &str, text: &str) -> bool {
    let Some(first_star) = pattern.find('*') else {
        return pattern == text;
    };
    let (head, rest) = pattern.split_at(first_star);
    let Some(mut remaining) = text.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').filter(|part| !part.is_empty()).collect();
    let ends_with_star = rest.ends_with('*');
    for (index, part) in parts.iter().enumerate() {
        let last = index + 1 == parts.len();
        if last && !ends_with_star {
            return remaining.len() >= part.len() && remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn substitute(value: &Value, name: &str, kind: ValueKind) -> Value {
    let replace = |text: &str| {
        text.replace("{name}", name)
            .replace("{dynamic_type}", kind.default_type())
            .replace("{dynamicType}", kind.default_type())
    };
    match value {
        Value::String(text) => Value::String(replace(text)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| substitute(i, name, kind)).collect())
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, inner)| (replace(key), substitute(inner, name, kind)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::FieldType;

    #[test]
    fn simple_patterns_match_as_opensearch() {
        assert!(simple_match("foo*", "foobar"));
        assert!(simple_match("*bar", "foobar"));
        assert!(simple_match("f*o*r", "foobar"));
        assert!(simple_match("*", ""));
        assert!(!simple_match("foo*", "barfoo"));
        assert!(!simple_match("*ab*ab", "xab"));
        assert!(simple_match("a*b*b", "abb"));
    }

    #[test]
    fn templates_pick_by_name_path_and_type() {
        let templates = parse_templates(&json!([
            {"ids": {"match": "*_id", "match_mapping_type": "string", "mapping": {"type": "keyword"}}},
            {"nums": {"path_match": "metrics.*", "unmatch": "skip*", "mapping": {"type": "{dynamic_type}", "index": false}}},
            {"re": {"match_pattern": "regex", "match": "^n\\d+$", "mapping": {"type": "keyword", "meta": {"of": "{name}"}}}}
        ]))
        .unwrap();
        assert!(templates[0].applies("user_id", "user_id", ValueKind::String));
        assert!(!templates[0].applies("user_id", "user_id", ValueKind::Long));
        assert!(templates[1].applies("cpu", "metrics.cpu", ValueKind::Double));
        assert!(!templates[1].applies("skipme", "metrics.skipme", ValueKind::Double));
        let field = templates[1]
            .field_mapping("cpu", ValueKind::Double)
            .unwrap();
        assert_eq!((field.field_type, field.index), (FieldType::Float, false));
        assert!(templates[2].applies("n12", "a.n12", ValueKind::Long));
        assert!(!templates[2].applies("xn12", "xn12", ValueKind::Long));
        let field = templates[2].field_mapping("n12", ValueKind::Long).unwrap();
        assert_eq!(field.extra["meta"], json!({"of": "n12"}));
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in [
            json!({"a": {}}),
            json!([{"a": {"match": "x"}}]),
            json!([{"a": {"mapping": {"type": "nope"}}}]),
            json!([{"a": {"match_mapping_type": "text", "mapping": {}}}]),
            json!([{"a": {"match_pattern": "regex", "match": "(", "mapping": {}}}]),
            json!([{"a": {"mapping": {}, "surprise": 1}}]),
            json!([{"a": {"mapping": {}}, "b": {"mapping": {}}}]),
        ] {
            assert!(parse_templates(&bad).is_err(), "{bad}");
        }
    }
}

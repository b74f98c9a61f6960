//! The `_search` and `_count` requests: body keys, then URL parameters on top.
//!
//! [`SearchRequest::from_json`] checks every top-level key: supported ones are parsed, a short
//! list accepted for compatibility is ignored, keys OpenSearch knows but tandem does not support
//! fail with `parsing_exception` naming the key, and anything else fails as OpenSearch does
//! (`Unknown key for a START_OBJECT in [x].`). URL parameters (`q`, `size`, `sort` ...) are
//! applied afterwards and win over the body, as in OpenSearch. This module must never touch a
//! shard.

mod fields;
mod params;
pub mod sort;
pub mod source;

use serde_json::Value;

pub use fields::{DocValueField, StoredFields, USE_FIELD_MAPPING_FORMAT};
pub use params::{COUNT_PARAMS, SEARCH_PARAMS};
pub use sort::{MissingPlacement, SortField, SortMode, SortOrder, SortSpec};
pub use source::SourceFilter;

use crate::aggs::{parse_aggs, AggRequest};
use crate::ast::{QueryAst, Scalar};
use crate::dsl::{params_plain as plain, parse_query};
use crate::error::SearchError;
use crate::limits::{SIZE_HITS_DEFAULT, TRACK_TOTAL_HITS_DEFAULT};

/// How `hits.total` is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackTotalHits {
    /// Not reported at all (`false`).
    Disabled,
    /// Exact up to this many, then `relation: gte` (an integer; default 10 000).
    UpTo(u64),
    /// Always exact (`true`).
    Exact,
}

/// A parsed `_search` request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query (`match_all` when absent).
    pub query: QueryAst,
    /// Hits to skip.
    pub from: usize,
    /// Hits to return.
    pub size: usize,
    /// Sort keys; `None` sorts by score and omits `sort` from hits.
    pub sort: Option<Vec<SortSpec>>,
    /// `_source` filtering.
    pub source: SourceFilter,
    /// Whether the request named `_source` itself (it then shows even next to `stored_fields`).
    pub source_explicit: bool,
    /// `stored_fields`; `None` when not given.
    pub stored_fields: Option<StoredFields>,
    /// `docvalue_fields`, in request order.
    pub docvalue_fields: Vec<DocValueField>,
    /// How the total is counted.
    pub track_total_hits: TrackTotalHits,
    /// Whether `track_total_hits` was given (`rest_total_hits_as_int` needs an exact count).
    pub track_total_hits_explicit: bool,
    /// Compute scores even when sorting by fields.
    pub track_scores: bool,
    /// Sort values to continue after (`null` elements mean a missing value).
    pub search_after: Option<Vec<Option<Scalar>>>,
    /// Aggregations, in request order.
    pub aggs: Vec<AggRequest>,
    /// Hits scoring below are dropped (also from the total and from aggregations).
    pub min_score: Option<f32>,
    /// Add `_version` to hits.
    pub version: bool,
    /// Add `_seq_no` and `_primary_term` to hits.
    pub seq_no_primary_term: bool,
    /// Render `hits.total` as a plain number (`rest_total_hits_as_int`).
    pub total_hits_as_int: bool,
    /// Prefix aggregation names with their type (`typed_keys`).
    pub typed_keys: bool,
    /// The request's `now` for date math, in epoch millis.
    pub now_millis: i64,
}

/// Top-level keys OpenSearch accepts that change nothing in tandem's answer.
const IGNORED_KEYS: &[&str] = &["timeout", "stats", "ext"];
/// Top-level keys OpenSearch knows that tandem does not implement.
const UNSUPPORTED_KEYS: &[&str] = &[
    "post_filter",
    "highlight",
    "suggest",
    "collapse",
    "rescore",
    "script_fields",
    "fields",
    "indices_boost",
    "pit",
    "slice",
    "runtime_mappings",
    "terminate_after",
    "point_in_time",
    "search_pipeline",
];

impl SearchRequest {
    /// A `match_all` request with default paging, as for an empty body.
    pub fn new(now_millis: i64) -> SearchRequest {
        SearchRequest {
            query: QueryAst::match_all(),
            from: 0,
            size: SIZE_HITS_DEFAULT,
            sort: None,
            source: SourceFilter::default(),
            source_explicit: false,
            stored_fields: None,
            docvalue_fields: Vec::new(),
            track_total_hits: TrackTotalHits::UpTo(TRACK_TOTAL_HITS_DEFAULT),
            track_total_hits_explicit: false,
            track_scores: false,
            search_after: None,
            aggs: Vec::new(),
            min_score: None,
            version: false,
            seq_no_primary_term: false,
            total_hits_as_int: false,
            typed_keys: false,
            now_millis,
        }
    }

    /// Parses a `_search` body. `now_millis` anchors date math such as `now-1d`.
    pub fn from_json(body: &Value, now_millis: i64) -> Result<SearchRequest, SearchError> {
        let mut request = SearchRequest::new(now_millis);
        let Value::Object(object) = body else {
            return Err(SearchError::Parsing(
                "request body must be a JSON object".into(),
            ));
        };
        if object.contains_key("aggs") && object.contains_key("aggregations") {
            return Err(SearchError::Parsing(
                "Found two aggregation type definitions in [aggs] and [aggregations]".into(),
            ));
        }
        for (key, value) in object {
            request.apply_key(key, value)?;
        }
        request.validate()?;
        Ok(request)
    }

    fn apply_key(&mut self, key: &str, value: &Value) -> Result<(), SearchError> {
        match key {
            "query" => self.query = parse_query(value)?,
            "from" => self.from = count_value(key, value)?,
            "size" => self.size = count_value(key, value)?,
            "sort" => self.sort = Some(sort::parse_sort(value)?),
            "_source" => {
                self.source = SourceFilter::parse(value)?;
                self.source_explicit = true;
            }
            "stored_fields" => self.stored_fields = Some(fields::parse_stored_fields(value)?),
            "docvalue_fields" => self.docvalue_fields = fields::parse_docvalue_fields(value)?,
            "track_total_hits" => {
                self.track_total_hits = track_total_hits(value)?;
                self.track_total_hits_explicit = true;
            }
            "track_scores" => self.track_scores = flag(key, value)?,
            "search_after" => self.search_after = Some(search_after(value)?),
            "aggs" | "aggregations" => self.aggs = parse_aggs(value)?,
            "min_score" => self.min_score = Some(min_score(value)?),
            "version" => self.version = flag(key, value)?,
            "seq_no_primary_term" => self.seq_no_primary_term = flag(key, value)?,
            "explain" | "profile" => {
                if flag(key, value)? {
                    return Err(unsupported_key(key));
                }
            }
            ignored if IGNORED_KEYS.contains(&ignored) => {}
            unsupported if UNSUPPORTED_KEYS.contains(&unsupported) => {
                return Err(unsupported_key(unsupported))
            }
            unknown => {
                return Err(SearchError::Parsing(format!(
                    "Unknown key for a {} in [{unknown}].",
                    token_name(value)
                )))
            }
        }
        Ok(())
    }

    /// Whether hits carry `_source`: `stored_fields` hides it unless it lists `_source` or the
    /// request names `_source` itself.
    pub fn returns_source(&self) -> bool {
        self.source.enabled
            && (self.source_explicit
                || self
                    .stored_fields
                    .as_ref()
                    .is_none_or(StoredFields::keeps_source))
    }

    /// Checks relations between keys (after body and URL parameters are both applied).
    pub(crate) fn validate(&mut self) -> Result<(), SearchError> {
        if self.total_hits_as_int {
            match self.track_total_hits {
                TrackTotalHits::UpTo(_) if !self.track_total_hits_explicit => {
                    self.track_total_hits = TrackTotalHits::Exact;
                }
                TrackTotalHits::UpTo(limit) => {
                    return Err(SearchError::IllegalArgument(format!(
                        "[rest_total_hits_as_int] cannot be used if the tracking of total hits is not accurate, got {limit}"
                    )))
                }
                TrackTotalHits::Exact | TrackTotalHits::Disabled => {}
            }
        }
        if let Some(after) = &self.search_after {
            if self.from > 0 {
                return Err(SearchError::IllegalArgument(
                    "[from] parameter must be set to 0 when [search_after] is used".into(),
                ));
            }
            let keys = self.sort.as_ref().map_or(1, Vec::len);
            if after.len() != keys {
                return Err(SearchError::IllegalArgument(format!(
                    "search_after has {} value(s) but sort has {keys}.",
                    after.len()
                )));
            }
        }
        Ok(())
    }
}

/// A parsed `_count` request.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRequest {
    /// The query (`match_all` when absent).
    pub query: QueryAst,
    /// Documents scoring below are not counted.
    pub min_score: Option<f32>,
    /// The request's `now` for date math, in epoch millis.
    pub now_millis: i64,
}

impl CountRequest {
    /// A `match_all` count, as for an empty body.
    pub fn new(now_millis: i64) -> CountRequest {
        CountRequest {
            query: QueryAst::match_all(),
            min_score: None,
            now_millis,
        }
    }

    /// Parses a `_count` body: `query` (and `min_score`) only.
    pub fn from_json(body: &Value, now_millis: i64) -> Result<CountRequest, SearchError> {
        let mut request = CountRequest::new(now_millis);
        let Value::Object(object) = body else {
            return Err(SearchError::Parsing(
                "request body must be a JSON object".into(),
            ));
        };
        for (key, value) in object {
            match key.as_str() {
                "query" => request.query = parse_query(value)?,
                "min_score" => request.min_score = Some(min_score(value)?),
                unknown => {
                    return Err(SearchError::Parsing(format!(
                        "request does not support [{unknown}]"
                    )))
                }
            }
        }
        Ok(request)
    }
}

fn unsupported_key(key: &str) -> SearchError {
    SearchError::Parsing(format!("request key [{key}] is not supported"))
}

/// The Jackson token name OpenSearch uses in "Unknown key" messages.
pub(crate) fn token_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}

fn count_value(key: &str, value: &Value) -> Result<usize, SearchError> {
    let number = match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    match number {
        Some(number) if number < 0 => Err(SearchError::IllegalArgument(format!(
            "[{key}] parameter cannot be negative, found [{number}]"
        ))),
        Some(number) => usize::try_from(number).map_err(|_| {
            SearchError::IllegalArgument(format!("[{key}] parameter is too large: [{number}]"))
        }),
        None => Err(SearchError::XContentParse(format!(
            "[{key}] failed to parse field [{key}]: expected an integer, found [{}]",
            plain(value)
        ))),
    }
}

fn flag(key: &str, value: &Value) -> Result<bool, SearchError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        other => Err(SearchError::XContentParse(format!(
            "[{key}] failed to parse field [{key}]: expected a boolean, found [{}]",
            plain(other)
        ))),
    }
}

fn min_score(value: &Value) -> Result<f32, SearchError> {
    value
        .as_f64()
        .filter(|score| score.is_finite())
        .map(|score| score as f32)
        .ok_or_else(|| {
            SearchError::XContentParse(format!(
                "[min_score] must be a number, found [{}]",
                plain(value)
            ))
        })
}

pub(crate) fn track_total_hits(value: &Value) -> Result<TrackTotalHits, SearchError> {
    let parsed = match value {
        Value::Bool(true) => Some(TrackTotalHits::Exact),
        Value::Bool(false) => Some(TrackTotalHits::Disabled),
        Value::String(text) => return track_total_hits_text(text),
        Value::Number(number) => match number.as_i64() {
            Some(-1) => Some(TrackTotalHits::Disabled),
            Some(limit) if limit >= 0 => Some(TrackTotalHits::UpTo(limit as u64)),
            Some(limit) => {
                return Err(SearchError::IllegalArgument(format!(
                    "[track_total_hits] parameter must be positive or equals to -1, got {limit}"
                )))
            }
            None => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        SearchError::XContentParse(format!(
            "[track_total_hits] must be a boolean or an integer, found [{}]",
            plain(value)
        ))
    })
}

pub(crate) fn track_total_hits_text(text: &str) -> Result<TrackTotalHits, SearchError> {
    match text {
        "true" => Ok(TrackTotalHits::Exact),
        "false" => Ok(TrackTotalHits::Disabled),
        number => match number.parse::<i64>() {
            Ok(parsed) => track_total_hits(&Value::from(parsed)),
            Err(_) => Err(SearchError::IllegalArgument(format!(
                "Failed to parse value [{text}] for [track_total_hits]"
            ))),
        },
    }
}

fn search_after(value: &Value) -> Result<Vec<Option<Scalar>>, SearchError> {
    let Value::Array(items) = value else {
        return Err(SearchError::Parsing(
            "[search_after] must be an array of sort values".into(),
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(Scalar::Str(text.clone()))),
            Value::Bool(flag) => Ok(Some(Scalar::Bool(*flag))),
            Value::Number(number) => Ok(Some(match number.as_i64() {
                Some(whole) => Scalar::Int(whole),
                None => Scalar::Float(number.as_f64().unwrap_or(f64::NAN)),
            })),
            other => Err(SearchError::Parsing(format!(
                "[search_after] values must be scalars, found [{}]",
                plain(other)
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests;

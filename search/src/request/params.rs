//! URL parameters of `_search` and `_count`, applied over the parsed body.
//!
//! Parameters not listed in [`SEARCH_PARAMS`] / [`COUNT_PARAMS`] are ignored here: the node
//! decides which other parameters it accepts (`pretty`, `filter_path`, index options). This
//! module must never parse a body.

use super::{fields, sort, track_total_hits_text, CountRequest, SearchRequest, SourceFilter};
use crate::ast::{FieldBoost, Operator, QueryAst, BOOST_DEFAULT};
use crate::dsl::query_string::{self, QueryStringOptions};
use crate::error::SearchError;

/// URL parameters `SearchRequest::apply_params` understands.
pub const SEARCH_PARAMS: &[&str] = &[
    "q",
    "df",
    "default_operator",
    "lenient",
    "analyzer",
    "analyze_wildcard",
    "from",
    "size",
    "sort",
    "_source",
    "_source_includes",
    "_source_excludes",
    "track_total_hits",
    "track_scores",
    "version",
    "seq_no_primary_term",
    "rest_total_hits_as_int",
    "typed_keys",
    "stored_fields",
    "docvalue_fields",
    "search_type",
    "timeout",
    "request_cache",
    "allow_partial_search_results",
    "batched_reduce_size",
    "max_concurrent_shard_requests",
    "pre_filter_shard_size",
    "ccs_minimize_roundtrips",
];

/// URL parameters `CountRequest::apply_params` understands.
pub const COUNT_PARAMS: &[&str] = &[
    "q",
    "df",
    "default_operator",
    "lenient",
    "analyzer",
    "analyze_wildcard",
    "min_score",
];

/// `q` and the parameters shaping it.
#[derive(Default)]
struct QueryParams {
    q: Option<String>,
    options: QueryStringOptions,
}

impl QueryParams {
    /// Takes `key` if it belongs to `q`; returns whether it did.
    fn take(&mut self, key: &str, value: &str) -> Result<bool, SearchError> {
        match key {
            "q" => self.q = Some(value.to_string()),
            "df" => {
                self.options.fields = vec![FieldBoost {
                    pattern: value.to_string(),
                    boost: BOOST_DEFAULT,
                }]
            }
            "default_operator" => {
                self.options.default_operator = match value.to_ascii_lowercase().as_str() {
                    "and" => Operator::And,
                    "or" => Operator::Or,
                    _ => {
                        return Err(SearchError::IllegalArgument(format!(
                            "operator needs to be either [and] or [or], but not [{value}]"
                        )))
                    }
                }
            }
            "lenient" => self.options.lenient = Some(bool_param(key, value)?),
            "analyzer" => {
                self.options.analyzer = crate::dsl::params_analyzer("query_string", &value.into())?
            }
            "analyze_wildcard" => {
                bool_param(key, value)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn query(&self) -> Result<Option<QueryAst>, SearchError> {
        self.q
            .as_deref()
            .map(|text| query_string::parse(text, &self.options))
            .transpose()
    }
}

impl SearchRequest {
    /// Applies URL parameters over the body; they win where both set something.
    pub fn apply_params<K, V>(
        &mut self,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), SearchError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = QueryParams::default();
        let mut source_param: Option<String> = None;
        let mut includes = None;
        let mut excludes = None;
        for (key, value) in params {
            let (key, value) = (key.as_ref(), value.as_ref());
            if query.take(key, value)? {
                continue;
            }
            match key {
                "from" => self.from = usize_param(key, value)?,
                "size" => self.size = usize_param(key, value)?,
                "sort" => self.sort = Some(sort::parse_sort_param(value)?),
                "_source" => source_param = Some(value.to_string()),
                "_source_includes" => includes = Some(SourceFilter::split_param(value)),
                "_source_excludes" => excludes = Some(SourceFilter::split_param(value)),
                "track_total_hits" => {
                    self.track_total_hits = track_total_hits_text(value)?;
                    self.track_total_hits_explicit = true;
                }
                "stored_fields" => self.stored_fields = Some(fields::stored_fields_param(value)?),
                "docvalue_fields" => self.docvalue_fields = fields::docvalue_fields_param(value)?,
                "track_scores" => self.track_scores = bool_param(key, value)?,
                "version" => self.version = bool_param(key, value)?,
                "seq_no_primary_term" => self.seq_no_primary_term = bool_param(key, value)?,
                "rest_total_hits_as_int" => self.total_hits_as_int = bool_param(key, value)?,
                "typed_keys" => self.typed_keys = bool_param(key, value)?,
                "search_type" => match value {
                    "query_then_fetch" | "dfs_query_then_fetch" => {}
                    other => {
                        return Err(SearchError::IllegalArgument(format!(
                            "No search type for [{other}]"
                        )))
                    }
                },
                _ => {}
            }
        }
        if let Some(parsed) = query.query()? {
            self.query = parsed;
        }
        if source_param.is_some() || includes.is_some() || excludes.is_some() {
            self.source_explicit = true;
        }
        match source_param.as_deref() {
            Some("true") => self.source.enabled = true,
            Some("false") => self.source.enabled = false,
            Some(list) => self.source.includes = SourceFilter::split_param(list),
            None => {}
        }
        if let Some(includes) = includes {
            self.source.enabled = true;
            self.source.includes = includes;
        }
        if let Some(excludes) = excludes {
            self.source.enabled = true;
            self.source.excludes = excludes;
        }
        self.validate()
    }
}

impl CountRequest {
    /// Applies URL parameters (`q`, `df`, `default_operator`, `min_score` ...) over the body.
    pub fn apply_params<K, V>(
        &mut self,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), SearchError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = QueryParams::default();
        for (key, value) in params {
            let (key, value) = (key.as_ref(), value.as_ref());
            if query.take(key, value)? {
                continue;
            }
            if key == "min_score" {
                let score = value.parse::<f32>().ok().filter(|s| s.is_finite());
                self.min_score = Some(score.ok_or_else(|| {
                    SearchError::IllegalArgument(format!(
                        "Failed to parse float parameter [min_score] with value [{value}]"
                    ))
                })?);
            }
        }
        if let Some(parsed) = query.query()? {
            self.query = parsed;
        }
        Ok(())
    }
}

fn usize_param(key: &str, value: &str) -> Result<usize, SearchError> {
    let parsed: i64 = value.trim().parse().map_err(|_| {
        SearchError::IllegalArgument(format!(
            "Failed to parse int parameter [{key}] with value [{value}]"
        ))
    })?;
    if parsed < 0 {
        return Err(SearchError::IllegalArgument(format!(
            "[{key}] parameter cannot be negative, found [{parsed}]"
        )));
    }
    usize::try_from(parsed).map_err(|_| {
        SearchError::IllegalArgument(format!("[{key}] parameter is too large: [{parsed}]"))
    })
}

fn bool_param(key: &str, value: &str) -> Result<bool, SearchError> {
    match value {
        "" | "true" => Ok(true),
        "false" => Ok(false),
        other => Err(SearchError::IllegalArgument(format!(
            "Failed to parse value [{other}] as only [true] or [false] are allowed for [{key}]"
        ))),
    }
}

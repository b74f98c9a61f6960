//! `_search` and `_count`: parses the request with tandem-search, picks the shards (index
//! expression, aliases, `routing`) and hands them to the search crate.
//!
//! It owns shard selection and the parameters the node adds (indices options, `routing`,
//! `preference`). It must never interpret the query DSL: that is tandem-search's.

use tandem_search::{CountRequest, SearchRequest, ShardTarget};

use super::index_api::resolve_options;
use super::{RestRequest, RestResponse};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::{settings, ResolveOptions};
use crate::node::Node;

/// `index.max_result_window` when the index does not set it, in hits (OpenSearch's default).
const WINDOW_DEFAULT: u32 = {
    let window = tandem_search::limits::MAX_RESULT_WINDOW_HITS_DEFAULT;
    assert!(window <= u32::MAX as usize);
    window as u32
};

/// Parameters the node itself reads on `_search` and `_count`.
pub(super) const NODE_SEARCH_PARAMS: &[&str] = &[
    "allow_no_indices",
    "expand_wildcards",
    "ignore_unavailable",
    "ignore_throttled",
    "routing",
    "preference",
    "terminate_after",
    "scroll",
    "explain",
    "stats",
    "suggest_field",
    "suggest_mode",
    "suggest_size",
    "suggest_text",
    "cancel_after_time_interval",
    "phase_took",
    "include_named_queries_score",
    "search_pipeline",
    "verbose_pipeline",
];

/// Parameters tandem-search reads and the node merely forwards.
fn forwarded<'a>(request: &'a RestRequest, known: &'a [&str]) -> Vec<(&'a str, &'a str)> {
    request
        .params
        .iter()
        .filter(|(key, _)| known.contains(key))
        .collect()
}

/// `GET/POST [/<index>]/_search`.
pub(super) fn search(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    refuse_unsupported(request)?;
    let now_millis = chrono::Utc::now().timestamp_millis();
    let mut search = match request.json(ParseKind::Json)? {
        Some(body) => SearchRequest::from_json(&body, now_millis)?,
        None => SearchRequest::new(now_millis),
    };
    search.apply_params(forwarded(request, tandem_search::request::SEARCH_PARAMS))?;
    let shards = targets(node, request, index)?;
    let response = tandem_search::search(&search, &shards)?;
    Ok(RestResponse::ok(response.body))
}

/// `GET/POST [/<index>]/_count`.
pub(super) fn count(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    if let Some(terminate_after) = request.params.i64("terminate_after")? {
        if terminate_after < 0 {
            return Err(NodeError::illegal("terminateAfter must be positive"));
        }
        return Err(NodeError::Unsupported(
            "[terminate_after] is not supported".into(),
        ));
    }
    let now_millis = chrono::Utc::now().timestamp_millis();
    let mut count = match request.json(ParseKind::Json)? {
        Some(body) => CountRequest::from_json(&body, now_millis)?,
        None => CountRequest::new(now_millis),
    };
    count.apply_params(forwarded(request, tandem_search::request::COUNT_PARAMS))?;
    let shards = targets(node, request, index)?;
    Ok(RestResponse::ok(tandem_search::count(&count, &shards)?))
}

fn refuse_unsupported(request: &RestRequest) -> NodeResult<()> {
    for key in ["scroll", "suggest_field", "terminate_after"] {
        if request.params.str(key).is_some() {
            return Err(NodeError::Unsupported(format!("[{key}] is not supported")));
        }
    }
    Ok(())
}

/// The shards a search covers: every shard of every matching open index, or with `routing`
/// only the shards the routing values pick.
fn targets(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<Vec<ShardTarget>> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let names = node.indices.resolve(index.unwrap_or("_all"), options)?;
    let routing = request.params.list("routing");
    let mut shards = Vec::new();
    for name in names {
        let handle = match node.indices.handle(&name) {
            Ok(handle) => handle,
            Err(NodeError::IndexClosed { .. })
                if index.is_none_or(|e| e.contains('*') || e == "_all") =>
            {
                continue
            }
            Err(error) => return Err(error),
        };
        let window = node
            .indices
            .meta(&name)
            .ok()
            .map(|meta| {
                settings::int_setting(&meta.settings, "index.max_result_window", WINDOW_DEFAULT)
            })
            .unwrap_or(WINDOW_DEFAULT);
        let picked: Vec<u32> = if routing.is_empty() {
            (0..u32::try_from(handle.shards.len()).unwrap_or(u32::MAX)).collect()
        } else {
            let mut picked: Vec<u32> = routing.iter().map(|value| handle.shard_of(value)).collect();
            picked.sort_unstable();
            picked.dedup();
            picked
        };
        for shard in picked {
            let mut target = ShardTarget::from_engine(name.clone(), shard, handle.shard(shard));
            target.max_result_window = window as usize;
            shards.push(target);
        }
    }
    Ok(shards)
}

/// Most searches one `_msearch` request may carry.
const MSEARCH_SEARCHES_MAX: usize = 1024;

/// `GET/POST [/<index>]/_msearch`: header and body lines in pairs, each search answered in
/// order with its own status (one failing search never fails the others).
pub(super) fn msearch(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let started = std::time::Instant::now();
    let Some(body) = &request.body else {
        return Err(NodeError::parse(
            ParseKind::Parse,
            "request body is required",
        ));
    };
    let mut lines = body
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace));
    let mut responses = Vec::new();
    while let Some(header) = lines.next() {
        if responses.len() >= MSEARCH_SEARCHES_MAX {
            return Err(NodeError::illegal(format!(
                "an msearch request may hold at most {MSEARCH_SEARCHES_MAX} searches"
            )));
        }
        let header: serde_json::Value = serde_json::from_slice(header)
            .map_err(|error| NodeError::parse(ParseKind::Json, error.to_string()))?;
        let query = lines.next().unwrap_or(b"{}");
        let target_index = header
            .get("index")
            .map(|value| match value {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => crate::config::value_text(other),
            })
            .or_else(|| index.map(str::to_string));
        let outcome = one_search(node, request, target_index.as_deref(), query);
        responses.push(match outcome {
            Ok(mut body) => {
                body["status"] = serde_json::json!(200);
                body
            }
            Err(error) => {
                let (status, mut body) = super::error::error_body(&error);
                body["status"] = serde_json::json!(status.as_u16());
                body
            }
        });
    }
    let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(RestResponse::ok(
        serde_json::json!({"took": took_ms, "responses": responses}),
    ))
}

fn one_search(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
    query: &[u8],
) -> NodeResult<serde_json::Value> {
    let now_millis = chrono::Utc::now().timestamp_millis();
    let body: serde_json::Value = serde_json::from_slice(query)
        .map_err(|error| NodeError::parse(ParseKind::Json, error.to_string()))?;
    let mut search = SearchRequest::from_json(&body, now_millis)?;
    search.apply_params(forwarded(
        request,
        &["rest_total_hits_as_int", "typed_keys"],
    ))?;
    let shards = targets(node, request, index)?;
    Ok(tandem_search::search(&search, &shards)?.body)
}

//! The route table: path segments and method to a handler and the query parameters it takes.
//!
//! It owns which endpoints exist and their parameter lists (from OpenSearch's REST spec). It
//! must never do the work of an endpoint: each arm calls a handler.

use axum::http::Method;

use super::{
    alias_api, bulk_api, cat_api, cluster_api, doc_api, index_api, mget_api, nodes_api, remote_api,
    root, search_api, stats_api, RestRequest, RestResponse,
};
use crate::error::{NodeError, NodeResult};
use crate::node::Node;

const INDEX_DOC: &[&str] = &[
    "if_primary_term",
    "if_seq_no",
    "op_type",
    "pipeline",
    "refresh",
    "require_alias",
    "routing",
    "timeout",
    "version",
    "version_type",
    "wait_for_active_shards",
];
const GET_DOC: &[&str] = &[
    "_source",
    "_source_excludes",
    "_source_includes",
    "preference",
    "realtime",
    "refresh",
    "routing",
    "stored_fields",
    "version",
    "version_type",
];
const DELETE_DOC: &[&str] = &[
    "if_primary_term",
    "if_seq_no",
    "refresh",
    "routing",
    "timeout",
    "version",
    "version_type",
    "wait_for_active_shards",
];
const UPDATE_DOC: &[&str] = &[
    "_source",
    "_source_excludes",
    "_source_includes",
    "if_primary_term",
    "if_seq_no",
    "lang",
    "refresh",
    "require_alias",
    "retry_on_conflict",
    "routing",
    "timeout",
    "wait_for_active_shards",
];
const BULK: &[&str] = &[
    "_source",
    "_source_excludes",
    "_source_includes",
    "pipeline",
    "refresh",
    "require_alias",
    "routing",
    "timeout",
    "type",
    "wait_for_active_shards",
];
const MGET: &[&str] = &[
    "_source",
    "_source_excludes",
    "_source_includes",
    "preference",
    "realtime",
    "refresh",
    "routing",
    "stored_fields",
];
const INDICES_OPTIONS: &[&str] = &[
    "allow_no_indices",
    "expand_wildcards",
    "ignore_unavailable",
    "cluster_manager_timeout",
    "master_timeout",
    "timeout",
    "local",
    "flat_settings",
    "include_defaults",
    "wait_for_active_shards",
    "preserve_existing",
    "write_index_only",
    "force",
    "wait_if_ongoing",
    "ignore_throttled",
];
const HEALTH: &[&str] = &[
    "cluster_manager_timeout",
    "expand_wildcards",
    "level",
    "local",
    "master_timeout",
    "timeout",
    "wait_for_active_shards",
    "wait_for_events",
    "wait_for_no_initializing_shards",
    "wait_for_no_relocating_shards",
    "wait_for_nodes",
    "wait_for_status",
    "awareness_attribute",
    "ensure_node_commissioned",
];
const CLUSTER_SETTINGS: &[&str] = &[
    "cluster_manager_timeout",
    "flat_settings",
    "include_defaults",
    "master_timeout",
    "timeout",
];
const CAT: &[&str] = &[
    "bytes",
    "cluster_manager_timeout",
    "expand_wildcards",
    "format",
    "h",
    "health",
    "help",
    "include_unloaded_segments",
    "local",
    "master_timeout",
    "pri",
    "s",
    "time",
    "v",
    "ts",
];
const NODES: &[&str] = &[
    "flat_settings",
    "timeout",
    "level",
    "types",
    "groups",
    "fields",
    "completion_fields",
    "fielddata_fields",
    "include_segment_file_sizes",
];
const STATS: &[&str] = &[
    "allow_no_indices",
    "expand_wildcards",
    "ignore_unavailable",
    "level",
    "fields",
    "groups",
    "types",
    "completion_fields",
    "fielddata_fields",
    "include_segment_file_sizes",
    "include_unloaded_segments",
    "forbid_closed_indices",
    "metric",
];
const MSEARCH: &[&str] = &[
    "rest_total_hits_as_int",
    "typed_keys",
    "max_concurrent_searches",
    "search_type",
    "pre_filter_shard_size",
    "max_concurrent_shard_requests",
    "ccs_minimize_roundtrips",
];
const NONE: &[&str] = &[];

/// Which handler serves a request.
#[derive(Debug)]
enum Route<'a> {
    Info,
    Ping,
    Health(Option<&'a str>),
    GetClusterSettings,
    PutClusterSettings,
    Nodes,
    NodesStats,
    Cat(&'a str, Option<&'a str>),
    Refresh(Option<&'a str>),
    Flush(Option<&'a str>),
    Bulk(Option<&'a str>),
    Mget(Option<&'a str>),
    GetMapping(Option<&'a str>),
    PutMapping(&'a str),
    GetSettings(Option<&'a str>, Option<&'a str>),
    PutSettings(Option<&'a str>),
    GetAlias(Option<&'a str>, Option<&'a str>),
    PutAlias(&'a str, &'a str),
    DeleteAlias(&'a str, &'a str),
    UpdateAliases,
    OpenIndex(&'a str),
    CloseIndex(&'a str),
    CreateIndex(&'a str),
    GetIndex(&'a str),
    HeadIndex(&'a str),
    DeleteIndex(&'a str),
    IndexDoc(&'a str, Option<&'a str>, bool),
    GetDoc(&'a str, &'a str, bool),
    DeleteDoc(&'a str, &'a str),
    GetSource(&'a str, &'a str, bool),
    Update(&'a str, &'a str),
    Search(Option<&'a str>),
    Msearch(Option<&'a str>),
    RemoteInfo,
    Stats(Option<&'a str>),
    Count(Option<&'a str>),
}

/// Routes and runs one request.
pub(super) fn dispatch(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let Some((route, allowed)) = find(&request.method, &segments) else {
        return Err(no_route(request, &segments));
    };
    match route {
        Route::Search(_) => check_search_params(request, tandem_search::request::SEARCH_PARAMS)?,
        Route::Count(_) => check_search_params(request, tandem_search::request::COUNT_PARAMS)?,
        _ => request.params.check_allowed(&request.path, allowed)?,
    }
    run(node, request, route)
}

/// Whether the request is a short read that neither waits nor writes: a search, a count, or a
/// document GET without `refresh`. Only these may run on the runtime thread that read them.
pub(super) fn is_quick_read(request: &RestRequest) -> bool {
    let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    match find(&request.method, &segments) {
        Some((Route::Search(_) | Route::Count(_), _)) => true,
        Some((Route::GetDoc(..) | Route::GetSource(..), _)) => {
            request.params.str("refresh").is_none()
        }
        _ => false,
    }
}

/// `_search`/`_count` take the search crate's parameters plus the node's own.
fn check_search_params(request: &RestRequest, search_params: &[&str]) -> NodeResult<()> {
    let mut allowed: Vec<&str> = search_params.to_vec();
    allowed.extend_from_slice(search_api::NODE_SEARCH_PARAMS);
    request.params.check_allowed(&request.path, &allowed)
}

fn no_route(request: &RestRequest, segments: &[&str]) -> NodeError {
    let allowed: Vec<&str> = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
    ]
    .iter()
    .filter(|method| find(method, segments).is_some())
    .map(Method::as_str)
    .collect();
    if allowed.is_empty() {
        NodeError::NoHandler {
            uri: request.path.clone(),
            method: request.method.to_string(),
        }
    } else {
        NodeError::MethodNotAllowed {
            uri: request.path.clone(),
            method: request.method.to_string(),
            allowed: allowed.join(", "),
        }
    }
}

fn find<'a>(method: &Method, segments: &[&'a str]) -> Option<(Route<'a>, &'static [&'static str])> {
    let head = *method == Method::HEAD;
    let get = *method == Method::GET || head;
    let post = *method == Method::POST;
    let put = *method == Method::PUT;
    let delete = *method == Method::DELETE;
    let found = match segments {
        [] if head => (Route::Ping, NONE),
        [] if get => (Route::Info, NONE),
        ["_cluster", "health"] if get => (Route::Health(None), HEALTH),
        ["_cluster", "health", index] if get => (Route::Health(Some(index)), HEALTH),
        ["_cluster", "settings"] if get => (Route::GetClusterSettings, CLUSTER_SETTINGS),
        ["_cluster", "settings"] if put => (Route::PutClusterSettings, CLUSTER_SETTINGS),
        ["_nodes"] | ["_nodes", _] if get && segments.last() != Some(&"stats") => {
            (Route::Nodes, NODES)
        }
        ["_nodes", "stats", ..] | ["_nodes", _, "stats", ..] if get => (Route::NodesStats, NODES),
        ["_cat", kind] if get => (Route::Cat(kind, None), CAT),
        ["_cat", kind, index] if get => (Route::Cat(kind, Some(index)), CAT),
        ["_refresh"] if get || post => (Route::Refresh(None), INDICES_OPTIONS),
        [index, "_refresh"] if get || post => (Route::Refresh(Some(index)), INDICES_OPTIONS),
        ["_flush"] if get || post => (Route::Flush(None), INDICES_OPTIONS),
        [index, "_flush"] if get || post => (Route::Flush(Some(index)), INDICES_OPTIONS),
        ["_bulk"] if post || put => (Route::Bulk(None), BULK),
        [index, "_bulk"] if post || put => (Route::Bulk(Some(index)), BULK),
        ["_mget"] if get || post => (Route::Mget(None), MGET),
        [index, "_mget"] if get || post => (Route::Mget(Some(index)), MGET),
        ["_mapping"] if get => (Route::GetMapping(None), INDICES_OPTIONS),
        [index, "_mapping"] if get => (Route::GetMapping(Some(index)), INDICES_OPTIONS),
        [index, "_mapping" | "_mappings"] if put || post => {
            (Route::PutMapping(index), INDICES_OPTIONS)
        }
        ["_settings"] if get => (Route::GetSettings(None, None), INDICES_OPTIONS),
        ["_settings"] if put => (Route::PutSettings(None), INDICES_OPTIONS),
        [index, "_settings"] if get => (Route::GetSettings(Some(index), None), INDICES_OPTIONS),
        [index, "_settings", name] if get => {
            (Route::GetSettings(Some(index), Some(name)), INDICES_OPTIONS)
        }
        [index, "_settings"] if put => (Route::PutSettings(Some(index)), INDICES_OPTIONS),
        ["_alias" | "_aliases"] if get => (Route::GetAlias(None, None), INDICES_OPTIONS),
        ["_alias", name] if get => (Route::GetAlias(None, Some(name)), INDICES_OPTIONS),
        [index, "_alias" | "_aliases"] if get => {
            (Route::GetAlias(Some(index), None), INDICES_OPTIONS)
        }
        [index, "_alias" | "_aliases", name] if get => {
            (Route::GetAlias(Some(index), Some(name)), INDICES_OPTIONS)
        }
        [index, "_alias" | "_aliases", name] if put || post => {
            (Route::PutAlias(index, name), INDICES_OPTIONS)
        }
        [index, "_alias" | "_aliases", name] if delete => {
            (Route::DeleteAlias(index, name), INDICES_OPTIONS)
        }
        ["_aliases"] if post => (Route::UpdateAliases, INDICES_OPTIONS),
        [index, "_open"] if post => (Route::OpenIndex(index), INDICES_OPTIONS),
        [index, "_close"] if post => (Route::CloseIndex(index), INDICES_OPTIONS),
        [index, "_doc"] if post => (Route::IndexDoc(index, None, false), INDEX_DOC),
        [index, "_doc", id] if put || post => (Route::IndexDoc(index, Some(id), false), INDEX_DOC),
        [index, "_create", id] if put || post => {
            (Route::IndexDoc(index, Some(id), true), INDEX_DOC)
        }
        [index, "_doc", id] if get => (Route::GetDoc(index, id, head), GET_DOC),
        [index, "_doc", id] if delete => (Route::DeleteDoc(index, id), DELETE_DOC),
        [index, "_source", id] if get => (Route::GetSource(index, id, head), GET_DOC),
        [index, "_update", id] if post => (Route::Update(index, id), UPDATE_DOC),
        ["_stats"] | ["_stats", _] if get => (Route::Stats(None), STATS),
        [index, "_stats"] | [index, "_stats", _] if get => (Route::Stats(Some(index)), STATS),
        ["_remote", "info"] if get => (Route::RemoteInfo, NONE),
        ["_msearch"] if get || post => (Route::Msearch(None), MSEARCH),
        [index, "_msearch"] if get || post => (Route::Msearch(Some(index)), MSEARCH),
        ["_search"] if get || post => (Route::Search(None), NONE),
        [index, "_search"] if get || post => (Route::Search(Some(index)), NONE),
        ["_count"] if get || post => (Route::Count(None), NONE),
        [index, "_count"] if get || post => (Route::Count(Some(index)), NONE),
        [index] if !index.starts_with('_') || *index == "_all" => match () {
            () if put => (Route::CreateIndex(index), INDICES_OPTIONS),
            () if head => (Route::HeadIndex(index), INDICES_OPTIONS),
            () if get => (Route::GetIndex(index), INDICES_OPTIONS),
            () if delete => (Route::DeleteIndex(index), INDICES_OPTIONS),
            () => return None,
        },
        _ => return None,
    };
    Some(found)
}

fn run(node: &Node, request: &RestRequest, route: Route<'_>) -> NodeResult<RestResponse> {
    match route {
        Route::Info => root::info(node),
        Route::Ping => Ok(RestResponse::status(axum::http::StatusCode::OK)),
        Route::Health(index) => cluster_api::health(node, request, index),
        Route::GetClusterSettings => cluster_api::get_settings(node, request),
        Route::PutClusterSettings => cluster_api::put_settings(node, request),
        Route::Nodes => nodes_api::nodes(node),
        Route::NodesStats => nodes_api::nodes_stats(node),
        Route::Cat(kind, index) => cat_api::cat(node, request, kind, index),
        Route::Refresh(index) => index_api::refresh(node, request, index, false),
        Route::Flush(index) => index_api::refresh(node, request, index, true),
        Route::Bulk(index) => bulk_api::bulk(node, request, index),
        Route::Mget(index) => mget_api::mget(node, request, index),
        Route::GetMapping(index) => index_api::get_mapping(node, request, index),
        Route::PutMapping(index) => index_api::put_mapping(node, request, index),
        Route::GetSettings(index, name) => index_api::get_settings(node, request, index, name),
        Route::PutSettings(index) => index_api::put_settings(node, request, index),
        Route::GetAlias(index, name) => alias_api::get_alias(node, request, index, name),
        Route::PutAlias(index, name) => alias_api::put_alias(node, request, index, name),
        Route::DeleteAlias(index, name) => alias_api::delete_alias(node, request, index, name),
        Route::UpdateAliases => alias_api::update_aliases(node, request),
        Route::OpenIndex(index) => index_api::open_close(node, request, index, true),
        Route::CloseIndex(index) => index_api::open_close(node, request, index, false),
        Route::CreateIndex(index) => index_api::create(node, request, index),
        Route::GetIndex(index) => index_api::get(node, request, index),
        Route::HeadIndex(index) => index_api::exists(node, request, index),
        Route::DeleteIndex(index) => index_api::delete(node, request, index),
        Route::IndexDoc(index, id, create) => doc_api::index(node, request, index, id, create),
        Route::GetDoc(index, id, head) => doc_api::get(node, request, index, id, head, false),
        Route::DeleteDoc(index, id) => doc_api::delete(node, request, index, id),
        Route::GetSource(index, id, head) => doc_api::get(node, request, index, id, head, true),
        Route::Update(index, id) => doc_api::update(node, request, index, id),
        Route::Search(index) => search_api::search(node, request, index),
        Route::Msearch(index) => search_api::msearch(node, request, index),
        Route::RemoteInfo => remote_api::info(node),
        Route::Stats(index) => stats_api::stats(node, request, index),
        Route::Count(index) => search_api::count(node, request, index),
    }
}

//! The REST surface in OpenSearch's dialect: the HTTP server, request reading (body limit,
//! empty-body rule), dispatch to handlers on the blocking pool, and response rendering
//! (`pretty`, `filter_path`, HEAD).
//!
//! Layout follows Quickwit's split: `routes` (path and method table), `params` (query string),
//! `model` (response shapes), `error` (the one error table), and a handler file per area. It
//! must never touch shard files directly: handlers go through `indices` and `docs`.

mod alias_api;
mod bulk_api;
mod cat_api;
mod cat_columns;
mod cat_table;
mod cluster_api;
mod doc_api;
pub mod error;
mod filter_path;
mod index_api;
mod mget_api;
pub mod model;
mod nodes_api;
pub mod params;
mod remote_api;
pub mod replication_api;
pub mod root;
mod routes;
mod search_api;
mod stats_api;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use serde_json::Value;

use crate::error::{NodeError, NodeResult, ParseKind};
use crate::node::Node;
use params::Params;

/// One request as handlers see it.
#[derive(Debug)]
pub struct RestRequest {
    /// The method (HEAD kept as HEAD).
    pub method: Method,
    /// The raw path, for messages.
    pub path: String,
    /// Decoded path segments.
    pub segments: Vec<String>,
    /// Query parameters.
    pub params: Params,
    /// The body; an empty body is `None`.
    pub body: Option<Bytes>,
    /// Whether the client asked for JSON (`Accept: application/json`).
    pub accept_json: bool,
}

impl RestRequest {
    /// The body as JSON, `None` when empty; malformed JSON is a `kind` error.
    pub fn json(&self, kind: ParseKind) -> NodeResult<Option<Value>> {
        let Some(body) = &self.body else {
            return Ok(None);
        };
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|error| NodeError::parse(kind, json_error_text(&error)))
    }

    /// The body as JSON, refusing a missing one.
    pub fn required_json(&self, kind: ParseKind) -> NodeResult<Value> {
        self.json(kind)?
            .ok_or_else(|| NodeError::parse(ParseKind::Parse, "request body is required"))
    }
}

/// How serde's message reads in the style of Jackson's.
fn json_error_text(error: &serde_json::Error) -> String {
    format!(
        "Unexpected character or end-of-input: {error} (line {}, column {})",
        error.line(),
        error.column()
    )
}

/// A response body.
#[derive(Debug)]
pub enum RestBody {
    /// JSON.
    Json(Value),
    /// Plain text (`_cat`).
    Text(String),
    /// Nothing.
    Empty,
}

/// A handler's answer.
#[derive(Debug)]
pub struct RestResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: RestBody,
}

impl RestResponse {
    /// 200 with JSON.
    pub fn ok(body: Value) -> RestResponse {
        RestResponse::json(StatusCode::OK, body)
    }

    /// A status with JSON.
    pub fn json(status: StatusCode, body: Value) -> RestResponse {
        RestResponse {
            status,
            body: RestBody::Json(body),
        }
    }

    /// A status with no body (HEAD answers).
    pub fn status(status: StatusCode) -> RestResponse {
        RestResponse {
            status,
            body: RestBody::Empty,
        }
    }
}

/// What every request handler shares.
struct HttpState {
    node: Arc<Node>,
    inline_reads: InlineReads,
}

/// Quick reads (searches, counts, document GETs) running on runtime threads right now.
///
/// Handing a request to the blocking pool and back costs two thread wake-ups, about as much
/// as a term query on a million documents; so a quick read runs on the runtime thread that
/// read it, but never on all of them at once: one thread always stays free for the rest of
/// the node (other connections, the replication transport). Other reads, and every request
/// that may write, fsync or wait, go to the blocking pool.
struct InlineReads {
    running: AtomicUsize,
    max: usize,
}

impl InlineReads {
    fn new(runtime_threads: usize) -> InlineReads {
        InlineReads {
            running: AtomicUsize::new(0),
            max: runtime_threads.saturating_sub(1),
        }
    }

    fn try_enter(&self) -> Option<InlineRead<'_>> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                (running < self.max).then_some(running + 1)
            })
            .ok()
            .map(|_| InlineRead { reads: self })
    }
}

/// One quick read running on a runtime thread; leaving frees its place.
struct InlineRead<'a> {
    reads: &'a InlineReads,
}

impl Drop for InlineRead<'_> {
    fn drop(&mut self) {
        self.reads.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves HTTP on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let runtime_threads = tokio::runtime::Handle::current().metrics().num_workers();
    let state = Arc::new(HttpState {
        node,
        inline_reads: InlineReads::new(runtime_threads),
    });
    let app = Router::new().fallback(handle).with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn handle(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    let node = state.node.clone();
    let (parts, body) = request.into_parts();
    let params = Params::parse(parts.uri.query());
    let pretty = params.bool("pretty", false).unwrap_or(false);
    let filter = params.list("filter_path");
    let head = parts.method == Method::HEAD;
    let bytes_max = node.config.http_content_bytes_max;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(bytes) = declared.filter(|bytes| *bytes > bytes_max) {
        let error = NodeError::ContentTooLong {
            bytes,
            max: bytes_max,
        };
        return render(error_response(&error), pretty, &filter, head);
    }
    let limit = usize::try_from(bytes_max).unwrap_or(usize::MAX);
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => {
            let error = NodeError::ContentTooLong {
                bytes: bytes_max + 1,
                max: bytes_max,
            };
            return render(error_response(&error), pretty, &filter, head);
        }
    };
    let accept_json = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("json"));
    let path = parts.uri.path().to_string();
    let segments = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(params::decode_segment)
        .collect();
    let body = body_or_source_param(body, &params);
    let request = RestRequest {
        method: parts.method.clone(),
        path,
        segments,
        params,
        body,
        accept_json,
    };
    if replication_api::is_replication_path(&request.segments) {
        let response = match replication_api::handle(&node, &request).await {
            Ok(response) => response,
            Err(error) => error_response(&error),
        };
        return render(response, pretty, &filter, head);
    }
    if request.segments.is_empty() && request.method == Method::GET {
        let role = node.replication.role().await;
        let answer = request
            .params
            .check_allowed(&request.path, &[])
            .and_then(|()| root::info(&node));
        let response = match answer {
            Ok(mut response) => {
                if let (RestBody::Json(body), Some(role)) = (&mut response.body, role) {
                    body["replication"] = role;
                }
                response
            }
            Err(error) => error_response(&error),
        };
        return render(response, pretty, &filter, head);
    }
    if routes::is_quick_read(&request) {
        if let Some(_inline) = state.inline_reads.try_enter() {
            let response = dispatch_traced(&node, &request).unwrap_or_else(|e| error_response(&e));
            return render(response, pretty, &filter, head);
        }
    }
    let worker = tokio::task::spawn_blocking(move || dispatch_traced(&node, &request));
    let response = match worker.await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error_response(&error),
        Err(join) => error_response(&NodeError::Internal(format!("handler failed: {join}"))),
    };
    render(response, pretty, &filter, head)
}

/// Runs the request's handler inside a span naming it.
fn dispatch_traced(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let span = tracing::debug_span!("request", method = %request.method, path = %request.path);
    let _entered = span.enter();
    routes::dispatch(node, request)
}

/// The body, or the `source` query parameter clients send instead of a body on GET.
fn body_or_source_param(body: Bytes, params: &Params) -> Option<Bytes> {
    if !body.is_empty() {
        return Some(body);
    }
    params
        .str("source")
        .filter(|source| !source.is_empty())
        .map(|source| Bytes::copy_from_slice(source.as_bytes()))
}

/// The OpenSearch error response of `error`.
pub fn error_response(error: &NodeError) -> RestResponse {
    let (status, body) = error::error_body(error);
    if status.is_server_error() {
        tracing::warn!(%error, "request failed");
    }
    RestResponse::json(status, body)
}

fn render(response: RestResponse, pretty: bool, filter: &[String], head: bool) -> Response {
    let (content_type, bytes) = match response.body {
        RestBody::Json(value) => {
            let value = if filter.is_empty() {
                value
            } else {
                filter_path::apply(&value, filter)
            };
            let text = if pretty {
                serde_json::to_string_pretty(&value).map(|text| text + "\n")
            } else {
                serde_json::to_string(&value)
            };
            (
                "application/json; charset=UTF-8",
                text.unwrap_or_else(|_| "{}".into()).into_bytes(),
            )
        }
        RestBody::Text(text) => ("text/plain; charset=UTF-8", text.into_bytes()),
        RestBody::Empty => ("text/plain; charset=UTF-8", Vec::new()),
    };
    let length = bytes.len();
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    let mut http = (response.status, body).into_response();
    let headers = http.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    http
}

//! The node's error enum: every failure a REST call can end with, before it becomes HTTP.
//!
//! It owns the variants and their OpenSearch reason texts. It must never pick HTTP statuses
//! or error `type` strings: `rest::error` holds the one table that does.

use tandem_storage::mapping::MappingError;
use tandem_storage::EngineError;
use thiserror::Error;

/// Which parse error OpenSearch reports for a malformed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseKind {
    /// `json_parse_exception`: the bytes are not JSON.
    Json,
    /// `parsing_exception`: JSON of the wrong shape (search-like APIs).
    Parsing,
    /// `x_content_parse_exception`: JSON with an unknown or mistyped field.
    XContent,
    /// `mapper_parsing_exception`: a document that cannot be parsed.
    MapperParsing,
    /// `parse_exception`: a missing body or an unparseable value.
    Parse,
}

/// Everything a request can fail with.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The index (or alias) does not exist.
    #[error("no such index [{index}]")]
    IndexNotFound {
        /// The name asked for.
        index: String,
    },
    /// `require_alias` was set and the target is not an alias.
    #[error("no such index [{index}] and [require_alias] request flag is [true] and [{index}] is not an alias")]
    NotAnAlias {
        /// The name asked for.
        index: String,
    },
    /// An index with that name exists.
    #[error("index [{index}/{uuid}] already exists")]
    IndexAlreadyExists {
        /// Its name.
        index: String,
        /// Its uuid.
        uuid: String,
    },
    /// The index name breaks OpenSearch's naming rules.
    #[error("Invalid index name [{index}], {reason}")]
    InvalidIndexName {
        /// The name given.
        index: String,
        /// Which rule.
        reason: String,
    },
    /// The index is closed.
    #[error("closed")]
    IndexClosed {
        /// Its name.
        index: String,
        /// Its uuid.
        uuid: String,
    },
    /// A bad argument.
    #[error("{0}")]
    IllegalArgument(String),
    /// A request that fails validation before it runs.
    #[error("Validation Failed: {}", numbered(.0))]
    Validation(Vec<String>),
    /// A body that cannot be parsed.
    #[error("{reason}")]
    Parse {
        /// Which OpenSearch type.
        kind: ParseKind,
        /// The reason text.
        reason: String,
    },
    /// A document body that is not JSON (`mapper_parsing_exception` caused by
    /// `json_parse_exception`, as OpenSearch's document parser reports it).
    #[error("failed to parse")]
    DocumentParse {
        /// The JSON parser's message.
        cause: String,
    },
    /// A version precondition failed.
    #[error("{reason}")]
    VersionConflict {
        /// The index.
        index: String,
        /// Its uuid.
        uuid: String,
        /// The shard.
        shard: u32,
        /// The reason text.
        reason: String,
    },
    /// `_update` on a document that does not exist.
    #[error("[{id}]: document missing")]
    DocumentMissing {
        /// The index.
        index: String,
        /// Its uuid.
        uuid: String,
        /// The shard.
        shard: u32,
        /// The id.
        id: String,
    },
    /// A mapping or document refused.
    #[error("{0}")]
    Mapping(#[from] MappingError),
    /// A shard engine failure.
    #[error("{0}")]
    Engine(#[from] EngineError),
    /// An alias that does not exist.
    #[error("{0}")]
    AliasesNotFound(String),
    /// Anything else that is missing (a cluster setting, a node).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The body is larger than `http.max_content_length`.
    #[error("request body of {bytes} bytes exceeds http.max_content_length [{max} bytes]")]
    ContentTooLong {
        /// The size seen.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A path and method nothing handles.
    #[error("no handler found for uri [{uri}] and method [{method}]")]
    NoHandler {
        /// The path.
        uri: String,
        /// The method.
        method: String,
    },
    /// A known path with the wrong method.
    #[error("Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{allowed}]")]
    MethodNotAllowed {
        /// The path.
        uri: String,
        /// The method.
        method: String,
        /// The methods it takes.
        allowed: String,
    },
    /// A search or count failed (the search crate knows its OpenSearch type and status).
    #[error("{0}")]
    Search(#[from] tandem_search::SearchError),
    /// An index block refuses the operation (`index.blocks.*`).
    #[error("index [{index}] blocked by: [{block}];")]
    Blocked {
        /// The index.
        index: String,
        /// OpenSearch's block description, e.g. `FORBIDDEN/8/index write (api)`.
        block: &'static str,
    },
    /// The index exists but its shards are not there yet (a follower index bootstrapping).
    #[error(
        "[{index}] primary shards are not active yet: cross-cluster replication is copying them"
    )]
    ShardsUnavailable {
        /// The index.
        index: String,
    },
    /// A feature tandem does not have (yet).
    #[error("{0}")]
    Unsupported(String),
    /// Writing the cluster state failed.
    #[error("cannot persist cluster state: {0}")]
    State(String),
    /// A bug or an unexpected failure.
    #[error("{0}")]
    Internal(String),
}

fn numbered(reasons: &[String]) -> String {
    reasons
        .iter()
        .enumerate()
        .map(|(position, reason)| format!("{}: {reason};", position + 1))
        .collect::<Vec<_>>()
        .join("")
}

impl NodeError {
    /// A `parse_exception`/`json_parse_exception`-style error.
    pub fn parse(kind: ParseKind, reason: impl Into<String>) -> NodeError {
        NodeError::Parse {
            kind,
            reason: reason.into(),
        }
    }

    /// An `illegal_argument_exception`.
    pub fn illegal(reason: impl Into<String>) -> NodeError {
        NodeError::IllegalArgument(reason.into())
    }

    /// `index_not_found_exception` for `index`.
    pub fn no_index(index: impl Into<String>) -> NodeError {
        NodeError::IndexNotFound {
            index: index.into(),
        }
    }
}

/// Results of node operations.
pub type NodeResult<T> = Result<T, NodeError>;

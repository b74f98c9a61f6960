//! `GET /`: the node banner OpenSearch 2.x clients read to learn the version and distribution.
//!
//! It owns the version constants tandem announces. It must never vary them per request.

use serde_json::json;

use super::RestResponse;
use crate::error::NodeResult;
use crate::node::Node;

/// The OpenSearch version tandem speaks.
pub const VERSION_NUMBER: &str = "2.19.0";
/// Lucene version of that OpenSearch release.
pub(super) const LUCENE_VERSION: &str = "9.12.1";
const BUILD_HASH: &str = "fd9a9d90df25bea1af2c6a85039692e815b894f5";
const BUILD_DATE: &str = "2025-02-05T16:13:57.130576800Z";

/// `GET /`.
pub fn info(node: &Node) -> NodeResult<RestResponse> {
    Ok(RestResponse::ok(json!({
        "name": node.config.node_name,
        "cluster_name": node.config.cluster_name,
        "cluster_uuid": node.indices.state().cluster_uuid,
        "version": {
            "distribution": "opensearch",
            "number": VERSION_NUMBER,
            "build_type": "tar",
            "build_hash": BUILD_HASH,
            "build_date": BUILD_DATE,
            "build_snapshot": false,
            "lucene_version": LUCENE_VERSION,
            "minimum_wire_compatibility_version": "7.10.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "The OpenSearch Project: https://opensearch.org/"
    })))
}

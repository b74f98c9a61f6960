//! tandem-search: OpenSearch's `_search` and `_count` request bodies, parsed into tandem's own
//! query tree and run on the shards' tantivy searchers (work in progress).

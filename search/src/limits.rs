//! Every bound the search crate enforces, named with its unit last.
//!
//! OpenSearch setting names are given where a limit mirrors one. This module owns numbers only;
//! it must never hold logic beyond compile-time checks of how the limits relate.

/// `from + size` may not exceed this many hits (`index.max_result_window` default).
pub const MAX_RESULT_WINDOW_HITS_DEFAULT: usize = 10_000;
/// Hits returned when the request names no `size`.
pub const SIZE_HITS_DEFAULT: usize = 10;
/// Hits counted exactly before `hits.total.relation` turns to `gte` (`track_total_hits` default).
pub const TRACK_TOTAL_HITS_DEFAULT: u64 = 10_000;
/// Leaf clauses one compiled query may hold (`indices.query.bool.max_clause_count`).
pub const QUERY_CLAUSES_MAX: usize = 1024;
/// Values one `terms` query may list (`index.max_terms_count`).
pub const TERMS_QUERY_VALUES_MAX: usize = 65_536;
/// Nesting of query objects (and of parentheses in `query_string`) we parse, in levels.
pub const QUERY_DEPTH_MAX: usize = 32;
/// Longest `query_string` text we parse, in bytes.
pub const QUERY_STRING_BYTES_MAX: usize = 32 * 1024;
/// Buckets one search may create across all aggregations (`search.max_buckets`).
pub const AGG_BUCKETS_MAX: usize = 65_535;
/// Nesting of aggregations inside aggregations, in levels.
pub const AGG_DEPTH_MAX: usize = 16;
/// Buckets a `terms` aggregation returns when the request names no `size`.
pub const TERMS_AGG_SIZE_DEFAULT: usize = 10;
/// Sort keys one request may name.
pub const SORT_KEYS_MAX: usize = 64;
/// Patterns one `_source` filter may list.
pub const SOURCE_PATTERNS_MAX: usize = 1024;
/// Fields one request may name under `docvalue_fields` or `stored_fields`
/// (`index.max_docvalue_fields_search`).
pub const FETCH_FIELDS_MAX: usize = 100;

const _: () = assert!(SIZE_HITS_DEFAULT <= MAX_RESULT_WINDOW_HITS_DEFAULT);
const _: () = assert!(TERMS_AGG_SIZE_DEFAULT <= AGG_BUCKETS_MAX);
const _: () = assert!(AGG_DEPTH_MAX <= QUERY_DEPTH_MAX);

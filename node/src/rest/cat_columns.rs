//! The `_cat` column tables: OpenSearch's column names, their short aliases and which show by
//! default. Data only; it must never format anything.

/// A column: its name, its short aliases, and whether it shows by default.
pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) aliases: &'static [&'static str],
    pub(super) default: bool,
}

/// Columns OpenSearch right-aligns (`text-align:right` in its table definitions).
pub(super) const RIGHT_ALIGNED: &[&str] = &[
    "pri",
    "rep",
    "docs.count",
    "docs.deleted",
    "store.size",
    "pri.store.size",
    "node.total",
    "node.data",
    "shards",
    "relo",
    "init",
    "unassign",
    "pending_tasks",
    "max_task_wait_time",
    "active_shards_percent",
    "count",
    "shard",
    "docs",
    "store",
    "heap.percent",
    "ram.percent",
    "cpu",
    "load_1m",
    "load_5m",
    "load_15m",
];

const fn col(name: &'static str, aliases: &'static [&'static str], default: bool) -> Column {
    Column {
        name,
        aliases,
        default,
    }
}

pub(super) const INDICES: &[Column] = &[
    col("health", &["h"], true),
    col("status", &["s"], true),
    col("index", &["i", "idx"], true),
    col("uuid", &["id", "uuid"], true),
    col("pri", &["p", "shards.primary", "shardsPrimary"], true),
    col("rep", &["r", "shards.replica", "shardsReplica"], true),
    col("docs.count", &["dc", "docsCount"], true),
    col("docs.deleted", &["dd", "docsDeleted"], true),
    col("store.size", &["ss", "storeSize"], true),
    col("pri.store.size", &[], true),
    col("creation.date", &["cd"], false),
    col("creation.date.string", &["cds"], false),
];
pub(super) const HEALTH: &[Column] = &[
    col("epoch", &["t", "time"], true),
    col("timestamp", &["ts", "hms", "hhmmss"], true),
    col("cluster", &["cl"], true),
    col("status", &["st"], true),
    col("node.total", &["nt", "nodeTotal"], true),
    col("node.data", &["nd", "nodeData"], true),
    col("discovered_cluster_manager", &["dcm"], true),
    col("shards", &["t", "sh", "shards.total", "shardsTotal"], true),
    col("pri", &["p", "shards.primary", "shardsPrimary"], true),
    col(
        "relo",
        &["r", "shards.relocating", "shardsRelocating"],
        true,
    ),
    col(
        "init",
        &["i", "shards.initializing", "shardsInitializing"],
        true,
    ),
    col(
        "unassign",
        &["u", "shards.unassigned", "shardsUnassigned"],
        true,
    ),
    col("pending_tasks", &["pt", "pendingTasks"], true),
    col("max_task_wait_time", &["mtwt", "maxTaskWaitTime"], true),
    col(
        "active_shards_percent",
        &["asp", "activeShardsPercent"],
        true,
    ),
];
pub(super) const COUNT: &[Column] = &[
    col("epoch", &["t", "time"], true),
    col("timestamp", &["ts", "hms", "hhmmss"], true),
    col("count", &["dc", "docs.count", "docsCount"], true),
];
pub(super) const SHARDS: &[Column] = &[
    col("index", &["i", "idx"], true),
    col("shard", &["s", "sh"], true),
    col("prirep", &["p", "pr", "primaryOrReplica"], true),
    col("state", &["st"], true),
    col("docs", &["d", "dc"], true),
    col("store", &["sto"], true),
    col("ip", &[], true),
    col("node", &["n"], true),
];
pub(super) const ALIASES: &[Column] = &[
    col("alias", &["a"], true),
    col("index", &["i", "idx"], true),
    col("filter", &["f", "fi"], true),
    col("routing.index", &["ri", "routingIndex"], true),
    col("routing.search", &["rs", "routingSearch"], true),
    col("is_write_index", &["w", "isWriteIndex"], true),
];
pub(super) const NODES: &[Column] = &[
    col("ip", &["i"], true),
    col("heap.percent", &["hp", "heapPercent"], true),
    col("ram.percent", &["rp", "ramPercent"], true),
    col("cpu", &[], true),
    col("load_1m", &["l"], true),
    col("load_5m", &["l"], true),
    col("load_15m", &["l"], true),
    col("node.role", &["r", "role", "nodeRole"], true),
    col("node.roles", &["rs", "all roles"], true),
    col("cluster_manager", &["cm", "m", "master"], true),
    col("name", &["n"], true),
    col("id", &["nodeId"], false),
];

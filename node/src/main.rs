//! The `tandem` binary: parses the command line, sets up logging and runs the node.
//!
//! It owns the process edge (exit codes, `anyhow`). It must never hold logic a test would
//! want to call: everything else lives in the library.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How long shutdown waits for work left on the blocking pool.
const BLOCKING_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// A search node that speaks OpenSearch's REST dialect.
#[derive(Debug, Parser)]
#[command(name = "tandem", version)]
struct Args {
    /// Settings file (tandem.yml, OpenSearch keys).
    #[arg(long)]
    config: Option<PathBuf>,
    /// A setting, as key=value; repeatable; overrides the file.
    #[arg(short = 'E', value_name = "KEY=VALUE")]
    settings: Vec<String>,
    /// Log format.
    #[arg(long, value_enum, default_value = "human")]
    log_format: LogFormat,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let config = match tandem_node::config::NodeConfig::load(args.config.as_deref(), &args.settings)
    {
        Ok(config) => config,
        Err(error) => {
            eprintln!("tandem: {error}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(tandem_node::node::run(config));
    // Shards are closed by now; what may still run on the blocking pool are followers' long
    // polls, which only read. They are not worth waiting out.
    runtime.shutdown_timeout(BLOCKING_DRAIN);
    if let Err(error) = result {
        tracing::error!(%error, "tandem stopped");
        eprintln!("tandem: {error}");
        std::process::exit(1);
    }
    Ok(())
}

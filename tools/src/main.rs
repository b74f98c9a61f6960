//! `tandemctl`: tools run around tandem nodes. `tandemctl chaos` relays a QUIC port through
//! seeded faults; it prints its seed so a run can be replayed.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tandem_tools::chaos::{ChaosProxy, FaultConfig, ProxyConfig};

#[derive(Parser)]
#[command(name = "tandemctl", about = "Tools around tandem nodes")]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Relay UDP (QUIC) traffic to an upstream address through seeded faults.
    Chaos {
        /// Address to listen on (clients connect here instead of the upstream).
        #[arg(long, default_value = "127.0.0.1:19300")]
        listen: SocketAddr,
        /// Address to relay to, e.g. a leader's transport port.
        #[arg(long, default_value = "127.0.0.1:9300")]
        upstream: SocketAddr,
        /// One-way delay in milliseconds, each direction.
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Random extra delay up to this many milliseconds (reorders).
        #[arg(long, default_value_t = 0)]
        jitter_ms: u64,
        /// Probability of dropping a datagram, each direction.
        #[arg(long, default_value_t = 0.0)]
        loss: f64,
        /// Probability of delivering a datagram twice.
        #[arg(long, default_value_t = 0.0)]
        duplicate: f64,
        /// Seed of the fault plan (random when not given; always printed).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Commands::Chaos {
            listen,
            upstream,
            delay_ms,
            jitter_ms,
            loss,
            duplicate,
            seed,
        } => {
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |elapsed| elapsed.as_nanos() as u64)
            });
            let faults = FaultConfig {
                delay_ms,
                jitter_ms,
                loss,
                duplicate,
            };
            let proxy = ChaosProxy::start(ProxyConfig {
                listen,
                upstream,
                to_upstream: faults,
                to_client: faults,
                seed,
            })
            .await
            .context("starting the chaos proxy")?;
            println!(
                "chaos proxy on {} -> {upstream} (seed {seed}); Ctrl-C to stop",
                proxy.local_addr()
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            let stats = proxy.stats();
            proxy.stop().await;
            println!(
                "received {}, dropped {}, sent {}",
                stats.received, stats.dropped, stats.sent
            );
        }
    }
    Ok(())
}

//! The refresh scheduler: one thread that refreshes each open index every
//! `index.refresh_interval`, so documents become searchable without an explicit `_refresh`.
//!
//! It owns the timing only; refreshes are the engine's (`refresh(false)` skips idle shards).
//! It must never hold the index service's locks while refreshing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::IndexService;

/// How often the scheduler looks for indices due a refresh.
const TICK: Duration = Duration::from_millis(100);
/// How often retention leases are checked for expiry.
const LEASE_CHECK: Duration = Duration::from_secs(1);

/// A running scheduler; stop it with [`Refresher::stop`].
#[derive(Debug)]
pub struct Refresher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Refresher {
    /// Starts the scheduler thread.
    pub fn start(indices: Arc<IndexService>) -> std::io::Result<Refresher> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("tandem-refresh".into())
            .spawn(move || run(&indices, &stopping))?;
        Ok(Refresher {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(indices: &IndexService, stop: &AtomicBool) {
    let mut leases_checked = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(TICK);
        let now = Instant::now();
        if now.duration_since(leases_checked) >= LEASE_CHECK {
            expire_leases(indices);
            leases_checked = now;
        }
        for handle in indices.open_handles() {
            let Some(interval) = *handle.refresh_interval.lock() else {
                continue;
            };
            let due = now.duration_since(*handle.last_refresh.lock()) >= interval;
            if !due {
                continue;
            }
            for (number, shard) in handle.shards.iter().enumerate() {
                if let Err(error) = shard.refresh(false) {
                    tracing::warn!(index = %handle.name, shard = number, %error, "scheduled refresh failed");
                }
            }
            *handle.last_refresh.lock() = Instant::now();
        }
    }
}

/// Expires the retention leases followers stopped renewing (a paused follower, or one gone),
/// after each index's `index.soft_deletes.retention_lease.period`.
fn expire_leases(indices: &IndexService) {
    let now_millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    for handle in indices.open_handles() {
        let Ok(meta) = indices.meta(&handle.name) else {
            continue;
        };
        let period = super::settings::retention_lease_period(&meta.settings);
        for (number, shard) in handle.shards.iter().enumerate() {
            match shard.expire_retention_leases(now_millis, period) {
                Ok(expired) => {
                    for lease in expired {
                        tracing::info!(index = %handle.name, shard = number, lease = %lease.id, "retention lease expired");
                    }
                }
                Err(error) => {
                    tracing::warn!(index = %handle.name, shard = number, %error, "lease expiry failed")
                }
            }
        }
    }
}

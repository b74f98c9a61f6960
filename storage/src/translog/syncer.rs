//! The background syncer of `index.translog.durability: async`.
//!
//! It owns one thread per translog that syncs every `sync_interval` until stopped. It must
//! never outlive its translog (stop joins it) and never retry after the translog closed on a
//! fatal error: acknowledging nothing that is not durable is the translog's job, and a syncer
//! that kept going would only log the same failure forever.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::Shared;

/// Handle to the background thread.
pub(super) struct Syncer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    pub(super) fn spawn(shared: Arc<Shared>, interval: Duration) -> Syncer {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("translog-sync".to_owned())
            .spawn(move || run(&shared, &thread_stop, interval));
        let thread = match spawned {
            Ok(handle) => Some(handle),
            Err(err) => {
                // Without the thread nothing syncs in the background; callers' own syncs and
                // close still work, so this degrades durability timing, not correctness.
                tracing::error!(error = %err, "could not start the translog sync thread");
                None
            }
        };
        Syncer { stop, thread }
    }

    /// Stops the thread and waits for it; an in-flight sync completes first.
    pub(super) fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock() = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("translog sync thread panicked");
            }
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

fn run(shared: &Shared, stop: &(Mutex<bool>, Condvar), interval: Duration) {
    let (stopped, wake) = stop;
    loop {
        {
            let mut stopped = stopped.lock();
            if *stopped {
                return;
            }
            wake.wait_for(&mut stopped, interval);
            if *stopped {
                return;
            }
        }
        if let Err(err) = shared.sync() {
            tracing::error!(dir = %shared.dir.display(), error = %err, "background translog sync failed");
            if shared.check_open().is_err() {
                return;
            }
        }
    }
}

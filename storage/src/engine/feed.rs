//! The index feed: hands tantivy its documents and deletes from a thread of its own, so the
//! write path never waits on tantivy.
//!
//! tantivy's `add_document` blocks once its indexing pipeline is full, and the pipeline stops
//! draining while a worker writes out a segment (hundreds of milliseconds on a busy machine).
//! Writers hold the engine's write lock while they apply, so every write, every replicated
//! batch and every real-time GET used to wait out that flush. Real-time GET and version
//! checks never need tantivy (the version map and the translog answer them), so nothing but
//! searchability waits for it now. A commit travels through the same queue: it covers exactly
//! the operations pushed before it, and writers keep queueing while tantivy commits.
//!
//! Operations are fed in the order they were pushed (a delete of an id before the new copy's
//! add). The queue holds at most [`INDEX_FEED_BYTES_MAX`]; a push beyond it waits, which is
//! the back-pressure a writer faster than tantivy must feel.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, RwLock};
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Bytes of documents queued for tantivy at most (estimated from their sources).
pub const INDEX_FEED_BYTES_MAX: usize = 64 * 1024 * 1024;
/// What a queued operation costs beyond its source bytes (ids, fields, the queue entry).
const FEED_OP_OVERHEAD_BYTES: usize = 256;

/// One change for tantivy.
pub(crate) enum FeedOp {
    /// Index a document.
    Add(TantivyDocument),
    /// Delete every document with this term (an id).
    Delete(Term),
    /// Commit everything fed before it, with this payload; the outcome goes to `done`.
    Commit {
        /// The commit's payload.
        payload: String,
        /// Told once the commit is durable (or failed).
        done: std::sync::mpsc::SyncSender<Result<(), String>>,
    },
}

/// Operations most a writer stages before handing them to the feed on its own.
pub(crate) const STAGED_OPS_MAX: usize = 1024;

/// Operations a writer decided under the engine's write lock and has not handed to the feed
/// yet. They go in one hand-off per hold of the lock (see [`IndexFeed::push_staged`]): handing
/// them one by one woke the feeder thread once per operation, a futex call each time.
#[derive(Default)]
pub(crate) struct StagedOps {
    ops: Vec<(FeedOp, usize)>,
}

impl StagedOps {
    /// Adds `op`, sized by `source_bytes`.
    pub(crate) fn stage(&mut self, op: FeedOp, source_bytes: usize) {
        let cost = source_bytes.saturating_add(FEED_OP_OVERHEAD_BYTES);
        self.ops.push((op, cost));
    }

    /// Whether the writer should hand the staged operations over before staging more.
    pub(crate) fn is_full(&self) -> bool {
        self.ops.len() >= STAGED_OPS_MAX
    }
}

/// Where fed operations go: tantivy's writer, or a recorder in tests.
pub(crate) trait FeedSink: Send + Sync + 'static {
    /// Applies operations in order; an error fails the feed.
    fn apply_all(&self, ops: Vec<FeedOp>) -> Result<(), String>;
}

impl FeedSink for RwLock<IndexWriter<TantivyDocument>> {
    fn apply_all(&self, ops: Vec<FeedOp>) -> Result<(), String> {
        let mut writer = Some(self.read());
        for op in ops {
            let shared = writer.get_or_insert_with(|| self.read());
            match op {
                FeedOp::Add(document) => {
                    shared
                        .add_document(document)
                        .map_err(|error| error.to_string())?;
                }
                FeedOp::Delete(term) => {
                    shared.delete_term(term);
                }
                FeedOp::Commit { payload, done } => {
                    writer = None;
                    let committed = commit(&mut self.write(), &payload);
                    let _ = done.send(committed.clone());
                    committed?;
                }
            }
        }
        Ok(())
    }
}

fn commit(writer: &mut IndexWriter<TantivyDocument>, payload: &str) -> Result<(), String> {
    let mut prepared = writer.prepare_commit().map_err(|error| error.to_string())?;
    prepared.set_payload(payload);
    prepared
        .commit()
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[derive(Default)]
struct FeedState {
    queue: VecDeque<(FeedOp, usize)>,
    queued_bytes: usize,
    pushed: u64,
    fed: u64,
    failure: Option<String>,
    closing: bool,
}

struct Shared {
    state: Mutex<FeedState>,
    /// Signalled when an operation is queued or the feed closes.
    queued: Condvar,
    /// Signalled when operations were fed (room in the queue, drains progress) or failed.
    progressed: Condvar,
}

/// The queue and its feeding thread.
pub(crate) struct IndexFeed {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl IndexFeed {
    /// Starts feeding `sink` from a thread named after `name`.
    pub(crate) fn start(name: &str, sink: Arc<dyn FeedSink>) -> std::io::Result<IndexFeed> {
        let shared = Arc::new(Shared {
            state: Mutex::new(FeedState::default()),
            queued: Condvar::new(),
            progressed: Condvar::new(),
        });
        let thread = std::thread::Builder::new()
            .name(format!("index-feed-{name}"))
            .spawn({
                let shared = shared.clone();
                move || feed(&shared, sink.as_ref())
            })?;
        Ok(IndexFeed {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues `op` (waiting for room first). `source_bytes` sizes it.
    #[cfg(test)]
    pub(crate) fn push(&self, op: FeedOp, source_bytes: usize) -> Result<(), String> {
        let mut staged = StagedOps::default();
        staged.stage(op, source_bytes);
        self.push_staged(&mut staged)
    }

    /// Queues every staged operation in order, in one hold of the queue's lock (waiting for
    /// room as needed), and leaves `staged` empty.
    pub(crate) fn push_staged(&self, staged: &mut StagedOps) -> Result<(), String> {
        if staged.ops.is_empty() {
            return Ok(());
        }
        let mut state = self.shared.state.lock();
        for (op, cost) in staged.ops.drain(..) {
            // Bytes queued or being fed count; an operation larger than the whole budget
            // still goes, alone.
            while state.failure.is_none()
                && state.queued_bytes > 0
                && state.queued_bytes.saturating_add(cost) > INDEX_FEED_BYTES_MAX
            {
                self.shared.progressed.wait(&mut state);
            }
            if let Some(failure) = &state.failure {
                return Err(failure.clone());
            }
            // The feeder waits only on an empty queue, and cannot empty it while this holds
            // the lock: one wake-up per hand-off (or per wait for room), not per operation.
            let was_empty = state.queue.is_empty();
            state.queue.push_back((op, cost));
            state.queued_bytes += cost;
            state.pushed += 1;
            if was_empty {
                self.shared.queued.notify_one();
            }
        }
        Ok(())
    }

    /// Waits until everything pushed so far is in tantivy.
    pub(crate) fn drain(&self) -> Result<(), String> {
        let mut state = self.shared.state.lock();
        let target = state.pushed;
        while state.failure.is_none() && state.fed < target {
            self.shared.progressed.wait(&mut state);
        }
        match &state.failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }

    /// Feeds what is queued, then stops the thread.
    pub(crate) fn close(mut self) -> Result<(), String> {
        let drained = self.drain();
        self.stop();
        drained
    }

    fn stop(&mut self) {
        self.shared.state.lock().closing = true;
        self.shared.queued.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for IndexFeed {
    fn drop(&mut self) {
        self.stop();
    }
}

fn feed(shared: &Shared, sink: &dyn FeedSink) {
    loop {
        // Everything queued goes in one hand-off: one lock round per burst.
        let burst = {
            let mut state = shared.state.lock();
            loop {
                if state.failure.is_some() {
                    return;
                }
                if !state.queue.is_empty() {
                    break std::mem::take(&mut state.queue);
                }
                if state.closing {
                    return;
                }
                shared.queued.wait(&mut state);
            }
        };
        let count = burst.len() as u64;
        let cost: usize = burst.iter().map(|(_, cost)| cost).sum();
        let applied = sink.apply_all(burst.into_iter().map(|(op, _)| op).collect());
        let mut state = shared.state.lock();
        state.queued_bytes -= cost;
        match applied {
            Ok(()) => state.fed += count,
            Err(failure) => {
                state.failure = Some(failure);
                // Nothing more will be fed: dropping the queue answers waiting commits.
                state.queue.clear();
                state.queued_bytes = 0;
            }
        }
        shared.progressed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tantivy::schema::{Schema, STRING};

    use super::*;

    /// Records ids in feed order; can be held shut to play a tantivy segment flush.
    #[derive(Default)]
    struct Recorder {
        fed: Mutex<Vec<String>>,
        held: Mutex<()>,
        fail: AtomicBool,
    }

    impl FeedSink for Recorder {
        fn apply_all(&self, ops: Vec<FeedOp>) -> Result<(), String> {
            ops.into_iter().try_for_each(|op| self.apply(op))
        }
    }

    impl Recorder {
        fn apply(&self, op: FeedOp) -> Result<(), String> {
            let _open = self.held.lock();
            if self.fail.load(Ordering::SeqCst) {
                return Err("disk full".into());
            }
            let entry = match op {
                FeedOp::Add(document) => format!("add:{}", document.len()),
                FeedOp::Delete(term) => format!("delete:{}", term.value().as_str().unwrap()),
                FeedOp::Commit { payload, done } => {
                    let _ = done.send(Ok(()));
                    format!("commit:{payload}")
                }
            };
            self.fed.lock().push(entry);
            Ok(())
        }
    }

    fn delete(id: &str) -> FeedOp {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("id", STRING);
        FeedOp::Delete(Term::from_field_text(field, id))
    }

    #[test]
    fn operations_reach_the_sink_in_push_order_and_drain_waits_for_them() {
        let sink = Arc::new(Recorder::default());
        let feed = IndexFeed::start("order", sink.clone()).expect("feed");
        for id in 0..500 {
            feed.push(delete(&id.to_string()), 10).expect("push");
        }
        feed.push(FeedOp::Add(TantivyDocument::new()), 10)
            .expect("push");
        feed.drain().expect("drain");
        let fed = sink.fed.lock().clone();
        let mut expected: Vec<String> = (0..500).map(|id| format!("delete:{id}")).collect();
        expected.push("add:0".into());
        assert_eq!(fed, expected);
        feed.close().expect("close");
    }

    #[test]
    fn a_staged_hand_off_larger_than_the_budget_waits_for_room_in_order() {
        let sink = Arc::new(Recorder::default());
        let feed = IndexFeed::start("staged", sink.clone()).expect("feed");
        let mut staged = StagedOps::default();
        for id in 0..5 {
            staged.stage(delete(&id.to_string()), INDEX_FEED_BYTES_MAX / 2);
        }
        // The feeder must be woken for the first operations while later ones wait for room.
        feed.push_staged(&mut staged).expect("handed over");
        assert!(staged.ops.is_empty());
        feed.drain().expect("drained");
        let expected: Vec<String> = (0..5).map(|id| format!("delete:{id}")).collect();
        assert_eq!(*sink.fed.lock(), expected);
    }

    #[test]
    fn a_commit_covers_what_was_pushed_before_it_and_no_more() {
        let sink = Arc::new(Recorder::default());
        let feed = IndexFeed::start("commit", sink.clone()).expect("feed");
        feed.push(delete("before"), 1).expect("push");
        let (done, committed) = std::sync::mpsc::sync_channel(1);
        feed.push(
            FeedOp::Commit {
                payload: "p".into(),
                done,
            },
            0,
        )
        .expect("push");
        feed.push(delete("after"), 1).expect("push");
        committed.recv().expect("answered").expect("committed");
        feed.drain().expect("drain");
        assert_eq!(
            *sink.fed.lock(),
            vec!["delete:before", "commit:p", "delete:after"]
        );
    }

    #[test]
    fn pushes_do_not_wait_for_a_stalled_sink_until_the_byte_budget_is_spent() {
        let sink = Arc::new(Recorder::default());
        let feed = IndexFeed::start("stall", sink.clone()).expect("feed");
        let stalled = sink.held.lock();
        // Well under the budget: every push returns while the sink is stuck.
        for id in 0..100 {
            feed.push(delete(&id.to_string()), 1024).expect("push");
        }
        assert!(
            sink.fed.lock().is_empty(),
            "the sink is stuck on its first operation"
        );
        // Past the budget, a push waits until the sink moves again.
        let feed = Arc::new(feed);
        let pusher = std::thread::spawn({
            let feed = feed.clone();
            move || feed.push(delete("big"), INDEX_FEED_BYTES_MAX)
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        let finished_early = pusher.is_finished();
        drop(stalled);
        assert!(!finished_early, "a push past the budget must wait");
        pusher.join().expect("pusher").expect("push");
        feed.drain().expect("drain");
        assert_eq!(sink.fed.lock().len(), 101);
    }

    #[test]
    fn a_sink_failure_fails_pushes_and_drains() {
        let sink = Arc::new(Recorder::default());
        sink.fail.store(true, Ordering::SeqCst);
        let feed = IndexFeed::start("fail", sink).expect("feed");
        feed.push(delete("a"), 1).expect("the first push is queued");
        assert_eq!(feed.drain(), Err("disk full".to_string()));
        assert_eq!(feed.push(delete("b"), 1), Err("disk full".to_string()));
    }
}

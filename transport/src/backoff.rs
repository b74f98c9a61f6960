//! Reconnect backoff: exponential from `backoff_initial_ms` to `backoff_max_ms`, with jitter so
//! followers that lost the same leader do not all come back in the same millisecond.
//!
//! Pure: the delay is a function of the failure count and a jitter source that tests seed. It
//! must never sleep or read a clock; the client does that.

/// Largest doubling exponent: 2^20 × any sane initial delay is past any sane cap.
const BACKOFF_DOUBLINGS_MAX: u32 = 20;

/// The delay before reconnect attempt number `failures` (1 after the first failure), before
/// jitter: `initial × 2^(failures-1)`, capped at `max`.
pub fn backoff_base_ms(initial_ms: u64, max_ms: u64, failures: u32) -> u64 {
    if failures == 0 {
        return 0;
    }
    let doublings = (failures - 1).min(BACKOFF_DOUBLINGS_MAX);
    initial_ms.saturating_mul(1u64 << doublings).min(max_ms)
}

/// "Equal jitter": half the base delay fixed, the other half random, so a retry never comes
/// sooner than half the base (no thundering herd at zero) nor later than the base.
pub fn jittered_ms(base_ms: u64, jitter: &mut Jitter) -> u64 {
    let half = base_ms / 2;
    half + jitter.below(base_ms - half + 1)
}

/// A small deterministic random source (SplitMix64): seeded by the caller, so tests replay.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// A source that replays from `seed`.
    pub fn from_seed(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A source seeded from the clock and the process id (production).
    pub fn from_entropy() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(0);
        Self::from_seed(nanos ^ (u64::from(std::process::id()) << 32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        self.next_u64() % bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_delay_doubles_and_caps() {
        let delays: Vec<u64> = (0..8)
            .map(|failures| backoff_base_ms(100, 1_000, failures))
            .collect();
        assert_eq!(delays, vec![0, 100, 200, 400, 800, 1_000, 1_000, 1_000]);
        assert_eq!(backoff_base_ms(100, 30_000, u32::MAX), 30_000);
        assert_eq!(backoff_base_ms(u64::MAX, 30_000, 40), 30_000);
    }

    #[test]
    fn jitter_stays_between_half_and_full_base() {
        let mut jitter = Jitter::from_seed(42);
        for failures in 1..30 {
            let base = backoff_base_ms(100, 30_000, failures);
            let delay = jittered_ms(base, &mut jitter);
            assert!(
                delay >= base / 2 && delay <= base,
                "failures {failures}: {delay} vs {base}"
            );
        }
    }

    #[test]
    fn jitter_replays_from_its_seed() {
        let mut first = Jitter::from_seed(7);
        let mut second = Jitter::from_seed(7);
        let a: Vec<u64> = (0..16).map(|_| first.below(1_000)).collect();
        let b: Vec<u64> = (0..16).map(|_| second.below(1_000)).collect();
        assert_eq!(a, b);
        assert!(
            a.iter().any(|value| *value != a[0]),
            "jitter is not constant"
        );
    }
}

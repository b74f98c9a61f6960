//! The fault plan: for each datagram, whether to drop, delay or duplicate it.
//!
//! Pure and seeded: the same seed and the same sequence of datagrams (per direction) give the
//! same decisions, whatever the timing of the network around it, so a failing run replays from
//! its seed. It never touches a socket or a clock: `now_ms` comes in.

use thiserror::Error;

/// Faults applied to one direction of the relay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultConfig {
    /// One-way delay added to every datagram, in milliseconds.
    pub delay_ms: u64,
    /// Extra random delay, uniform in `0..=jitter_ms`; it reorders datagrams.
    pub jitter_ms: u64,
    /// Probability in `0.0..=1.0` that a datagram is dropped.
    pub loss: f64,
    /// Probability in `0.0..=1.0` that a delivered datagram is delivered twice.
    pub duplicate: f64,
}

impl FaultConfig {
    /// No faults at all.
    pub const NONE: FaultConfig = FaultConfig {
        delay_ms: 0,
        jitter_ms: 0,
        loss: 0.0,
        duplicate: 0.0,
    };

    /// Checks the values.
    pub fn validate(&self) -> Result<(), PlanError> {
        for (name, probability) in [("loss", self.loss), ("duplicate", self.duplicate)] {
            if !(0.0..=1.0).contains(&probability) {
                return Err(PlanError::Probability {
                    name,
                    value: probability,
                });
            }
        }
        if self.delay_ms > DELAY_MS_MAX || self.jitter_ms > DELAY_MS_MAX {
            return Err(PlanError::Delay {
                max_ms: DELAY_MS_MAX,
            });
        }
        Ok(())
    }
}

/// Longest delay or jitter accepted, in milliseconds.
pub const DELAY_MS_MAX: u64 = 60_000;

/// A bad fault configuration.
#[derive(Debug, Error, PartialEq)]
pub enum PlanError {
    /// A probability outside `0..=1`.
    #[error("{name} must be a probability between 0 and 1, got {value}")]
    Probability {
        /// Which setting.
        name: &'static str,
        /// What was given.
        value: f64,
    },
    /// A delay above the maximum.
    #[error("delay and jitter must be at most {max_ms} ms")]
    Delay {
        /// The maximum.
        max_ms: u64,
    },
}

/// What to do with one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Drop it.
    Drop,
    /// Send it at these times (one, or two for a duplicate), in milliseconds.
    Deliver {
        /// When to send it.
        at_ms: u64,
        /// When to send a copy, if duplicated.
        duplicate_at_ms: Option<u64>,
    },
}

/// The decisions for one direction of traffic.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    config: FaultConfig,
    state: u64,
    partitioned_until_ms: u64,
}

impl FaultPlan {
    /// A plan from a seed.
    pub fn new(config: FaultConfig, seed: u64) -> FaultPlan {
        FaultPlan {
            config,
            // SplitMix-style scrambling so nearby seeds give unrelated streams.
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            partitioned_until_ms: 0,
        }
    }

    /// Drops everything until `until_ms` (a partition that drops, never refuses).
    pub fn partition_until(&mut self, until_ms: u64) {
        self.partitioned_until_ms = self.partitioned_until_ms.max(until_ms);
    }

    /// The verdict for the next datagram, received at `now_ms`.
    pub fn decide(&mut self, now_ms: u64) -> Verdict {
        // Every datagram draws the same number of values, so one decision never shifts the
        // random stream of the next.
        let loss_draw = self.unit();
        let jitter_draw = self.next();
        let duplicate_draw = self.unit();
        let duplicate_jitter_draw = self.next();
        if now_ms < self.partitioned_until_ms || loss_draw < self.config.loss {
            return Verdict::Drop;
        }
        let at_ms = now_ms + self.config.delay_ms + jitter(jitter_draw, self.config.jitter_ms);
        let duplicate_at_ms = (duplicate_draw < self.config.duplicate).then(|| {
            now_ms + self.config.delay_ms + jitter(duplicate_jitter_draw, self.config.jitter_ms)
        });
        Verdict::Deliver {
            at_ms,
            duplicate_at_ms,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn jitter(draw: u64, jitter_ms: u64) -> u64 {
    if jitter_ms == 0 {
        0
    } else {
        draw % (jitter_ms + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lossy() -> FaultConfig {
        FaultConfig {
            delay_ms: 50,
            jitter_ms: 10,
            loss: 0.1,
            duplicate: 0.05,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_decisions() {
        let mut first = FaultPlan::new(lossy(), 7);
        let mut second = FaultPlan::new(lossy(), 7);
        for now in 0..1000 {
            assert_eq!(first.decide(now), second.decide(now));
        }
    }

    #[test]
    fn rates_and_delays_follow_the_config() {
        let mut plan = FaultPlan::new(lossy(), 11);
        let (mut dropped, mut duplicated) = (0, 0);
        let datagrams = 20_000;
        for now in 0..datagrams {
            match plan.decide(now) {
                Verdict::Drop => dropped += 1,
                Verdict::Deliver {
                    at_ms,
                    duplicate_at_ms,
                } => {
                    assert!((now + 50..=now + 60).contains(&at_ms));
                    duplicated += usize::from(duplicate_at_ms.is_some());
                }
            }
        }
        let loss = dropped as f64 / datagrams as f64;
        assert!((0.08..0.12).contains(&loss), "loss {loss}");
        let duplicate = duplicated as f64 / (datagrams - dropped) as f64;
        assert!((0.035..0.065).contains(&duplicate), "duplicate {duplicate}");
    }

    #[test]
    fn a_partition_drops_everything_until_it_heals() {
        let mut plan = FaultPlan::new(FaultConfig::NONE, 1);
        plan.partition_until(100);
        assert_eq!(plan.decide(99), Verdict::Drop);
        assert_eq!(
            plan.decide(100),
            Verdict::Deliver {
                at_ms: 100,
                duplicate_at_ms: None
            }
        );
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad = FaultConfig {
            loss: 1.5,
            ..FaultConfig::NONE
        };
        assert!(bad.validate().is_err());
        let slow = FaultConfig {
            delay_ms: DELAY_MS_MAX + 1,
            ..FaultConfig::NONE
        };
        assert!(slow.validate().is_err());
    }
}

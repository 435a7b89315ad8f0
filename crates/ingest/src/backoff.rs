//! Retry delays: capped exponential backoff with "equal jitter", built on `backon`. A salt seeds
//! the jitter, so a caller's delays are reproducible (no global RNG). Pure; no I/O.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Capped exponential backoff.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The delays before retries 1, 2, ... (never ending): retry `n` waits half of
    /// `min(max, base * 2^(n-1))` plus a jitter in the other half, drawn from an RNG seeded
    /// with `salt`. (backon's jitter adds up to 100% of the delay, so it runs on half delays.)
    pub fn delays(&self, salt: u64) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max;
        ExponentialBuilder::new()
            .with_min_delay(self.base / 2)
            .with_max_delay(self.max / 2)
            .with_factor(2.0)
            .without_max_times()
            .with_jitter()
            .with_jitter_seed(salt)
            .build()
            .map(move |delay| delay.min(max))
    }

    /// The delay before retry number `attempt` (1-based) of [`Backoff::delays`].
    pub fn delay(&self, attempt: u32, salt: u64) -> Duration {
        // Past 64 doublings every delay is capped; only the jitter still varies.
        let n = attempt.saturating_sub(1).min(64) as usize;
        self.delays(salt).nth(n).unwrap_or(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_caps() {
        let b = Backoff::default();
        for attempt in 1..30 {
            let d = b.delay(attempt, 7);
            let full = Duration::from_millis(50)
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(Duration::from_secs(5));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(b.delay(30, 1) <= Duration::from_secs(5));
    }

    #[test]
    fn the_same_salt_gives_the_same_delays() {
        let b = Backoff::default();
        let first: Vec<_> = b.delays(3).take(10).collect();
        assert_eq!(first, b.delays(3).take(10).collect::<Vec<_>>());
        assert_ne!(first, b.delays(4).take(10).collect::<Vec<_>>());
    }
}

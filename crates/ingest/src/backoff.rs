//! Retry delays: capped exponential backoff with deterministic "equal jitter" derived from the
//! attempt and a caller-supplied salt (no RNG needed). Pure; no I/O.

use std::time::Duration;

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
    /// The delay before retry number `attempt` (1-based): half of `min(max, base * 2^(attempt-1))`
    /// plus a jitter in the other half chosen by `salt`.
    pub fn delay(&self, attempt: u32, salt: u64) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1 << exp).min(self.max);
        let half = full / 2;
        let mixed = salt
            .wrapping_add(u64::from(attempt))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let frac = (mixed >> 11) as f64 / (1u64 << 53) as f64;
        half + half.mul_f64(frac)
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
}

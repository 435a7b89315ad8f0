//! A seeded SplitMix64 generator for the engine's benchmark examples (included with `#[path]`).
// Each example uses part of it.
#![allow(dead_code)]

/// SplitMix64: the same sequence for the same seed, everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Zipf-like index in 0..n (exponent about 1).
    pub fn power_law(&mut self, n: usize) -> usize {
        let x = ((n as f64 + 1.0).ln() * self.next_f64()).exp() - 1.0;
        (x as usize).min(n - 1)
    }
}

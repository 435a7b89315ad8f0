//! Offline ranking metrics with Personalize's definitions (GetSolutionMetrics keys): NDCG@K with
//! gain `1/log2(rank + 1)` and the ideal DCG over `min(|relevant|, K)`, precision@K = hits / K,
//! MRR@25, coverage; plus recall@K and hit rate for benchmarks.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

/// NDCG@K of a ranked list against a set of relevant items.
pub fn ndcg_at_k<T: PartialEq>(ranked: &[T], relevant: &[T], k: usize) -> f64 {
    let ideal_hits = relevant.len().min(k);
    if ideal_hits == 0 {
        return 0.0;
    }
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, item)| relevant.contains(item))
        .map(|(pos, _)| 1.0 / ((pos + 2) as f64).log2())
        .sum();
    let idcg: f64 = (0..ideal_hits)
        .map(|pos| 1.0 / ((pos + 2) as f64).log2())
        .sum();
    dcg / idcg
}

/// NDCG@K where each relevant item has its own gain (`gains[i]` for `relevant[i]`):
/// `normalized_discounted_cumulative_gain_with_event_weights_at_K`, whose gains are the event
/// weights. The ideal DCG puts the `min(|relevant|, K)` largest gains first.
pub fn weighted_ndcg_at_k<T: PartialEq>(
    ranked: &[T],
    relevant: &[T],
    gains: &[f64],
    k: usize,
) -> f64 {
    let gain = |item: &T| {
        relevant
            .iter()
            .position(|r| r == item)
            .and_then(|i| gains.get(i))
            .copied()
    };
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter_map(|(pos, item)| gain(item).map(|g| g / ((pos + 2) as f64).log2()))
        .sum();
    let mut best: Vec<f64> = gains.iter().take(relevant.len()).copied().collect();
    best.sort_by(|a, b| b.total_cmp(a));
    let idcg: f64 = best
        .iter()
        .take(k)
        .enumerate()
        .map(|(pos, g)| g / ((pos + 2) as f64).log2())
        .sum();
    if idcg > 0.0 { dcg / idcg } else { 0.0 }
}

/// Hits in the top K divided by K.
pub fn precision_at_k<T: PartialEq>(ranked: &[T], relevant: &[T], k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    hits_at_k(ranked, relevant, k) as f64 / k as f64
}

/// Hits in the top K divided by `min(|relevant|, K)`.
pub fn recall_at_k<T: PartialEq>(ranked: &[T], relevant: &[T], k: usize) -> f64 {
    let denom = relevant.len().min(k);
    if denom == 0 {
        return 0.0;
    }
    hits_at_k(ranked, relevant, k) as f64 / denom as f64
}

/// Reciprocal rank of the first relevant item within the top K (0 if none).
pub fn reciprocal_rank_at_k<T: PartialEq>(ranked: &[T], relevant: &[T], k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|item| relevant.contains(item))
        .map_or(0.0, |pos| 1.0 / (pos + 1) as f64)
}

/// Number of relevant items in the top K.
pub fn hits_at_k<T: PartialEq>(ranked: &[T], relevant: &[T], k: usize) -> usize {
    ranked
        .iter()
        .take(k)
        .filter(|item| relevant.contains(item))
        .count()
}

/// Accumulates GetSolutionMetrics over evaluated users.
#[derive(Debug, Clone)]
pub struct SolutionMetrics<T> {
    users: usize,
    sums: BTreeMap<&'static str, f64>,
    recommended: HashSet<T>,
}

const KEYS: [(&str, usize); 7] = [
    ("normalized_discounted_cumulative_gain_at_5", 5),
    ("normalized_discounted_cumulative_gain_at_10", 10),
    ("normalized_discounted_cumulative_gain_at_25", 25),
    ("precision_at_5", 5),
    ("precision_at_10", 10),
    ("precision_at_25", 25),
    ("mean_reciprocal_rank_at_25", 25),
];

/// With an events configuration, NDCG with each target's event weight as its gain.
const WEIGHTED_KEYS: [(&str, usize); 3] = [
    (
        "normalized_discounted_cumulative_gain_with_event_weights_at_5",
        5,
    ),
    (
        "normalized_discounted_cumulative_gain_with_event_weights_at_10",
        10,
    ),
    (
        "normalized_discounted_cumulative_gain_with_event_weights_at_25",
        25,
    ),
];

impl<T: PartialEq + Eq + Hash + Clone> Default for SolutionMetrics<T> {
    fn default() -> Self {
        Self {
            users: 0,
            sums: BTreeMap::new(),
            recommended: HashSet::new(),
        }
    }
}

impl<T: PartialEq + Eq + Hash + Clone> SolutionMetrics<T> {
    /// Adds one user's top-25 (or longer) list and relevant items.
    pub fn add(&mut self, ranked: &[T], relevant: &[T]) {
        self.users += 1;
        for (key, k) in KEYS {
            let v = if key.starts_with("normalized") {
                ndcg_at_k(ranked, relevant, k)
            } else if key.starts_with("precision") {
                precision_at_k(ranked, relevant, k)
            } else {
                reciprocal_rank_at_k(ranked, relevant, k)
            };
            *self.sums.entry(key).or_insert(0.0) += v;
        }
        self.recommended.extend(ranked.iter().take(25).cloned());
    }

    /// Adds one user's `normalized_discounted_cumulative_gain_with_event_weights_at_{5,10,25}`
    /// (call after [`SolutionMetrics::add`] for the same user, for every user or none).
    pub fn add_event_weighted(&mut self, ranked: &[T], relevant: &[T], gains: &[f64]) {
        for (key, k) in WEIGHTED_KEYS {
            *self.sums.entry(key).or_insert(0.0) += weighted_ndcg_at_k(ranked, relevant, gains, k);
        }
    }

    /// Number of users added.
    pub fn users(&self) -> usize {
        self.users
    }

    /// Means over users, and `coverage` = distinct recommended items / `catalog_size`.
    pub fn finish(&self, catalog_size: usize) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let weighted = WEIGHTED_KEYS
            .iter()
            .filter(|(key, _)| self.sums.contains_key(key));
        for &(key, _) in KEYS.iter().chain(weighted) {
            let sum = self.sums.get(key).copied().unwrap_or(0.0);
            out.insert(
                key.to_owned(),
                if self.users == 0 {
                    0.0
                } else {
                    sum / self.users as f64
                },
            );
        }
        let coverage = if catalog_size == 0 {
            0.0
        } else {
            self.recommended.len() as f64 / catalog_size as f64
        };
        out.insert("coverage".to_owned(), coverage);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_worked_example_hits_at_ranks_2_and_5() {
        let ranked = ["a", "HIT1", "b", "c", "HIT2", "d", "e", "f", "g", "h"];
        let relevant = ["HIT1", "HIT2"];
        let v = ndcg_at_k(&ranked, &relevant, 10);
        assert!((v - 0.6241).abs() < 5e-5, "{v}");
        // Ideal DCG is over min(|relevant|, K): with K = 1 only rank 1 counts.
        assert_eq!(ndcg_at_k(&ranked, &relevant, 1), 0.0);
        assert_eq!(ndcg_at_k(&["HIT1"], &relevant, 1), 1.0);
        assert_eq!(ndcg_at_k::<&str>(&ranked, &[], 10), 0.0);
    }

    #[test]
    fn weighted_ndcg_gives_each_target_its_gain() {
        // AWS's example: purchase 0.3 and click 0.1 give gains 1.5 and 0.5.
        let ranked = ["click", "x", "purchase"];
        let relevant = ["purchase", "click"];
        let gains = [1.5, 0.5];
        let dcg = 0.5 + 1.5 / 4f64.log2();
        let idcg = 1.5 + 0.5 / 3f64.log2();
        let v = weighted_ndcg_at_k(&ranked, &relevant, &gains, 10);
        assert!((v - dcg / idcg).abs() < 1e-12, "{v}");
        // Equal gains: plain NDCG.
        let plain = ndcg_at_k(&ranked, &relevant, 10);
        assert!((weighted_ndcg_at_k(&ranked, &relevant, &[1.0, 1.0], 10) - plain).abs() < 1e-12);
        let mut m = SolutionMetrics::default();
        m.add(&ranked, &relevant);
        assert_eq!(m.finish(3).len(), 8, "no weighted keys unless added");
        m.add_event_weighted(&ranked, &relevant, &gains);
        assert_eq!(m.finish(3).len(), 11);
    }

    #[test]
    fn precision_recall_and_reciprocal_rank() {
        let ranked = [1, 2, 3, 4, 5];
        let relevant = [3, 5, 9];
        assert_eq!(precision_at_k(&ranked, &relevant, 5), 0.4);
        assert_eq!(recall_at_k(&ranked, &relevant, 5), 2.0 / 3.0);
        assert_eq!(recall_at_k(&ranked, &relevant, 2), 0.0);
        assert_eq!(reciprocal_rank_at_k(&ranked, &relevant, 25), 1.0 / 3.0);
        assert_eq!(reciprocal_rank_at_k(&ranked, &relevant, 2), 0.0);
        assert_eq!(hits_at_k(&ranked, &relevant, 25), 2);
    }

    #[test]
    fn solution_metrics_average_over_users_and_count_coverage() {
        let mut m = SolutionMetrics::default();
        m.add(&[1, 2, 3], &[1]);
        m.add(&[4, 2, 3], &[9]);
        let out = m.finish(10);
        assert_eq!(out["mean_reciprocal_rank_at_25"], 0.5);
        assert_eq!(out["precision_at_5"], 0.1);
        assert_eq!(out["normalized_discounted_cumulative_gain_at_5"], 0.5);
        assert_eq!(out["coverage"], 0.4);
        assert_eq!(out.len(), 8);
        assert_eq!(m.users(), 2);
    }
}

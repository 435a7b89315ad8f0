//! Best-first selection of scored items: descending score, then descending popularity, then
//! ascending index, so every list is deterministic. A bounded heap keeps selection O(n log k)
//! with one float comparison for most items, and tests a predicate (filters) only on items that
//! would enter the list.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Descending by score, then ascending by index; NaN sorts last.
pub(crate) fn cmp_scored(a: &(u32, f32), b: &(u32, f32)) -> Ordering {
    b.1.partial_cmp(&a.1)
        .unwrap_or_else(|| a.1.is_nan().cmp(&b.1.is_nan()))
        .then(a.0.cmp(&b.0))
}

/// Sorts a scored list best first.
pub(crate) fn sort_scored(list: &mut [(u32, f32)]) {
    list.sort_unstable_by(cmp_scored);
}

/// A candidate whose `Ord` puts the worst first (so a max-heap's top is the one to evict).
#[derive(Debug, Clone, Copy)]
struct Worst {
    score: f32,
    pop: f32,
    idx: u32,
}

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(other.pop.total_cmp(&self.pop))
            .then(self.idx.cmp(&other.idx))
    }
}

/// Scores are scanned in blocks of this many.
const BLOCK: usize = 32;

/// The largest score of a block (NaN counts as smallest), in a form the compiler vectorises.
fn block_max(scores: &[f32]) -> f32 {
    scores
        .iter()
        .fold(f32::NEG_INFINITY, |m, &s| if s > m { s } else { m })
}

/// The best `k` indexes (score `-inf` = excluded) for which `keep` holds, best first.
pub(crate) fn top_k_where(
    scores: &[f32],
    pop: &[f32],
    k: usize,
    mut keep: impl FnMut(u32) -> bool,
) -> Vec<u32> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Worst> = BinaryHeap::with_capacity(k + 1);
    // The heap's worst score once it holds k items: a block of scores all below it cannot
    // enter, and most blocks are skipped on one vectorised maximum.
    let mut bar = f32::NEG_INFINITY;
    for (block, (scores, pop)) in scores.chunks(BLOCK).zip(pop.chunks(BLOCK)).enumerate() {
        if heap.len() == k && block_max(scores) < bar {
            continue;
        }
        for (offset, (&score, &p)) in scores.iter().zip(pop).enumerate() {
            if score == f32::NEG_INFINITY {
                continue;
            }
            let cand = Worst {
                score,
                pop: p,
                idx: (block * BLOCK + offset) as u32,
            };
            if heap.len() == k {
                let worst = heap.peek().expect("the heap holds k > 0 items");
                // A plain float comparison settles most candidates; ties go to the full order.
                if score < worst.score || cand >= *worst {
                    continue;
                }
            }
            if !keep(cand.idx) {
                continue;
            }
            if heap.len() == k {
                heap.pop();
            }
            heap.push(cand);
            if heap.len() == k {
                bar = heap.peek().map_or(f32::NEG_INFINITY, |w| w.score);
            }
        }
    }
    heap.into_sorted_vec().into_iter().map(|w| w.idx).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_best_first_with_deterministic_ties() {
        let scores = [1.0, 3.0, f32::NEG_INFINITY, 3.0, 2.0, 3.0];
        let pop = [0.0, 1.0, 9.0, 5.0, 0.0, 1.0];
        assert_eq!(top_k_where(&scores, &pop, 3, |_| true), vec![3, 1, 5]);
        assert_eq!(
            top_k_where(&scores, &pop, 10, |_| true),
            vec![3, 1, 5, 4, 0]
        );
        assert_eq!(top_k_where(&scores, &pop, 2, |j| j % 2 == 0), vec![4, 0]);
        assert!(top_k_where(&scores, &pop, 0, |_| true).is_empty());
    }

    #[test]
    fn blocks_skipped_on_their_maximum_change_nothing() {
        // Many ties (scores on a coarse grid), excluded items, several blocks and a ragged end:
        // the result equals a full sort by (score desc, popularity desc, index asc).
        let mut rng = crate::rng::SplitMix64::new(7);
        let mut next = || rng.next_u64();
        for n in [1usize, 31, 32, 33, 100, 1682] {
            let scores: Vec<f32> = (0..n)
                .map(|_| match next() % 10 {
                    0 => f32::NEG_INFINITY,
                    _ => (next() % 40) as f32 / 8.0,
                })
                .collect();
            let pop: Vec<f32> = (0..n).map(|_| (next() % 5) as f32).collect();
            for k in [1usize, 10, 25, n] {
                let mut all: Vec<u32> = (0..n as u32)
                    .filter(|&j| scores[j as usize] != f32::NEG_INFINITY)
                    .collect();
                all.sort_by(|&a, &b| {
                    let (a, b) = (a as usize, b as usize);
                    scores[b]
                        .total_cmp(&scores[a])
                        .then(pop[b].total_cmp(&pop[a]))
                        .then(a.cmp(&b))
                });
                all.truncate(k);
                assert_eq!(top_k_where(&scores, &pop, k, |_| true), all, "n {n} k {k}");
            }
        }
    }
}

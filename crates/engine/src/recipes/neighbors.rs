//! Item-to-item neighbours from co-interactions (SIMS, and the collaborative half of
//! similar-items): for each item the top-K items users interacted with together.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::Sequence;
use crate::recipes::ease::item_users;

/// How co-interaction counts become similarities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct NeighborParams {
    /// 0 ranks by raw co-interaction count; 1 divides fully by the neighbour's popularity.
    pub(crate) popularity_discount: f64,
    /// Pairs seen together fewer times are not neighbours.
    pub(crate) min_cointeractions: u32,
    /// Neighbours kept per item.
    pub(crate) max_neighbors: usize,
    /// Only each user's most recent items take part (bounds the quadratic cost of heavy users).
    pub(crate) max_user_history: usize,
}

/// Top-K neighbour lists in CSR form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Neighbors {
    offsets: Vec<usize>,
    items: Vec<u32>,
    scores: Vec<f32>,
}

impl Neighbors {
    pub(crate) fn fit(n_items: usize, seqs: &[Sequence], p: NeighborParams) -> Neighbors {
        let recent: Vec<&[(u32, i64)]> = seqs
            .iter()
            .map(|s| &s[s.len().saturating_sub(p.max_user_history)..])
            .collect();
        let trimmed: Vec<Sequence> = recent.iter().map(|s| s.to_vec()).collect();
        let by_item = item_users(n_items, &trimmed);
        let pop: Vec<f64> = by_item.iter().map(|u| u.len() as f64).collect();
        let lists: Vec<Vec<(u32, f32)>> = (0..n_items)
            .into_par_iter()
            .map_init(
                || (vec![0u32; n_items], Vec::<u32>::new()),
                |(counts, touched), i| {
                    for &u in &by_item[i] {
                        for &(j, _) in recent[u as usize] {
                            let j = j as usize;
                            if j != i {
                                if counts[j] == 0 {
                                    touched.push(j as u32);
                                }
                                counts[j] += 1;
                            }
                        }
                    }
                    let mut list: Vec<(u32, f32)> = Vec::with_capacity(touched.len());
                    let norm_i = pop[i].max(1.0).powf(p.popularity_discount);
                    for &j in touched.iter() {
                        let c = counts[j as usize];
                        counts[j as usize] = 0;
                        if c >= p.min_cointeractions.max(1) {
                            let norm_j = pop[j as usize].max(1.0).powf(p.popularity_discount);
                            list.push((j, (f64::from(c) / (norm_i * norm_j)) as f32));
                        }
                    }
                    touched.clear();
                    crate::topk::sort_scored(&mut list);
                    list.truncate(p.max_neighbors);
                    list
                },
            )
            .collect();
        let mut out = Neighbors {
            offsets: vec![0],
            ..Neighbors::default()
        };
        for list in lists {
            for (j, s) in list {
                out.items.push(j);
                out.scores.push(s);
            }
            out.offsets.push(out.items.len());
        }
        out
    }

    /// Adds `weight * sim(item, j)` to `out[j]` for the neighbours of `item`.
    pub(crate) fn add_neighbors(&self, item: u32, weight: f32, out: &mut [f32]) {
        let i = item as usize;
        if i + 1 >= self.offsets.len() {
            return;
        }
        let r = self.offsets[i]..self.offsets[i + 1];
        for (&j, &s) in self.items[r.clone()].iter().zip(&self.scores[r]) {
            out[j as usize] += weight * s;
        }
    }
}

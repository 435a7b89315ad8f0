//! Cold items: catalog items a model has no training interactions for. Each one is represented in
//! the model's item space as a weighted mix of the warm items whose metadata it shares, so that a
//! live event on it feeds the user's session and it can be scored for a user like any warm item.
//! Built once per (catalog, model) pair and cached in the catalog. Owns no policy on what is
//! recommended (the model decides); depends on the catalog's tokens only, no I/O.
//!
//! The representation of a cold item `c`:
//! - metadata: categorical tokens (`FIELD=value` of categorical fields) and text tokens
//!   (`FIELD~word` of text fields, strings of three words or more), see
//!   `catalog::metadata_tokens`;
//! - candidates: for each of `c`'s tokens, the [`CANDIDATES_PER_TOKEN`] most popular warm items
//!   carrying it;
//! - similarity `sim(c, j)` = Jaccard of the categorical tokens, of the text tokens, or their
//!   mean when `c` has both kinds, times the closeness of creation times
//!   (`0.5 + 0.5 * exp(-|created(c) - created(j)| / 1 year)`, where a warm item's creation time
//!   is its catalog `CREATION_TIMESTAMP`, else its first interaction; 1 when `c` has none);
//! - neighbours: the [`COLD_NEIGHBORS`] most similar candidates (ties: more popular, then lower
//!   index), weighted `sim(c, j) / (sum of sims + SHRINKAGE)`: the less metadata `c` shares, the
//!   weaker its representation.
//!
//! A cold item without tokens, or whose tokens no warm item carries, has no representation: it
//! is never scored (exploration may still pick it).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::catalog::{Catalog, jaccard, metadata_tokens};

/// Warm neighbours kept per cold item.
pub(crate) const COLD_NEIGHBORS: usize = 20;
/// Warm candidates read per token of a cold item (the most popular carriers of the token).
pub(crate) const CANDIDATES_PER_TOKEN: usize = 200;
/// Added to the sum of a cold item's neighbour similarities before normalising the weights.
pub(crate) const SHRINKAGE: f32 = 1.0;
/// Creation times this far apart halve the time part of the similarity's excess over 0.5
/// (`exp(-1)` of it, precisely).
const AGE_SCALE_SECS: f64 = 365.0 * 86_400.0;
/// The cold index of an item the model knows.
const NOT_COLD: u32 = u32::MAX;
/// Metadata similarity of a cold item to a warm one, from their (categorical, text) tokens: the
/// Jaccard of the kinds the cold item has, averaged when it has both.
fn similarity(cold: &(Vec<String>, Vec<String>), warm: &(Vec<String>, Vec<String>)) -> f32 {
    match (cold.0.is_empty(), cold.1.is_empty()) {
        (false, true) => jaccard(&cold.0, &warm.0),
        (true, false) => jaccard(&cold.1, &warm.1),
        (false, false) => 0.5 * (jaccard(&cold.0, &warm.0) + jaccard(&cold.1, &warm.1)),
        (true, true) => 0.0,
    }
}

/// Cold indexes kept per catalog (one per model serving from it).
const CACHED_MODELS: usize = 4;

/// What a model needs to know of itself to represent cold items.
pub(crate) struct WarmItems<'a> {
    pub(crate) index: &'a HashMap<String, u32>,
    pub(crate) popularity: &'a [f32],
    /// First interaction time of each item.
    pub(crate) first_seen: &'a [i64],
    /// Identifies this model's items and their statistics (the cache key).
    pub(crate) fingerprint: u64,
}

/// The cold items of a catalog for one model, with their representations.
#[derive(Debug, Default)]
pub(crate) struct ColdItems {
    /// The cold index of each catalog position ([`NOT_COLD`] for items the model knows).
    of_position: Vec<u32>,
    /// The catalog position of each cold item.
    positions: Vec<u32>,
    /// Cold item `c`'s neighbours are `offsets[c]..offsets[c + 1]` of `neighbours` / `weights`.
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
    weights: Vec<f32>,
}

impl ColdItems {
    /// Represents every catalog item `warm` does not know.
    pub(crate) fn build(catalog: &Catalog, warm: &WarmItems<'_>) -> ColdItems {
        let n = warm.popularity.len();
        let mut cold = ColdItems {
            of_position: Vec::with_capacity(catalog.item_count()),
            offsets: vec![0],
            ..ColdItems::default()
        };
        for record in catalog.items() {
            if warm.index.contains_key(&record.id) {
                cold.of_position.push(NOT_COLD);
            } else {
                cold.of_position.push(cold.positions.len() as u32);
                cold.positions.push((cold.of_position.len() - 1) as u32);
            }
        }
        if cold.positions.is_empty() {
            return cold;
        }
        // Every item's metadata; warm items' creation times, and each token's carriers, most
        // popular first.
        let metadata: Vec<(Vec<String>, Vec<String>)> =
            catalog.items().map(metadata_tokens).collect();
        let mut warm_metadata: Vec<Option<&(Vec<String>, Vec<String>)>> = vec![None; n];
        let mut warm_created: Vec<i64> = warm.first_seen.to_vec();
        let mut carriers: HashMap<&str, Vec<u32>> = HashMap::new();
        for (record, meta) in catalog.items().zip(&metadata) {
            if let Some(&j) = warm.index.get(&record.id) {
                warm_metadata[j as usize] = Some(meta);
                if let Some(created) = record.created {
                    warm_created[j as usize] = created;
                }
                for t in meta.0.iter().chain(&meta.1) {
                    carriers.entry(t.as_str()).or_default().push(j);
                }
            }
        }
        let by_popularity = |a: &u32, b: &u32| {
            warm.popularity[*b as usize]
                .total_cmp(&warm.popularity[*a as usize])
                .then(a.cmp(b))
        };
        for list in carriers.values_mut() {
            list.sort_unstable_by(by_popularity);
            list.dedup();
            list.truncate(CANDIDATES_PER_TOKEN);
        }
        let mut stamp = vec![u32::MAX; n];
        let mut scored: Vec<(f32, u32)> = Vec::new();
        for (c, &pos) in cold.positions.iter().enumerate() {
            let record = catalog.item_at(pos as usize);
            let meta = &metadata[pos as usize];
            scored.clear();
            for t in meta.0.iter().chain(&meta.1) {
                for &j in carriers.get(t.as_str()).map_or(&[][..], Vec::as_slice) {
                    if stamp[j as usize] == c as u32 {
                        continue;
                    }
                    stamp[j as usize] = c as u32;
                    let Some(other) = warm_metadata[j as usize] else {
                        continue;
                    };
                    let closeness = record.created.map_or(1.0, |created| {
                        let apart = (created - warm_created[j as usize]).unsigned_abs() as f64;
                        0.5 + 0.5 * (-apart / AGE_SCALE_SECS).exp()
                    });
                    let sim = similarity(meta, other) * closeness as f32;
                    if sim > 0.0 {
                        scored.push((sim, j));
                    }
                }
            }
            scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(by_popularity(&a.1, &b.1)));
            scored.truncate(COLD_NEIGHBORS);
            let total: f32 = scored.iter().map(|&(s, _)| s).sum::<f32>() + SHRINKAGE;
            for &(sim, j) in &scored {
                cold.neighbours.push(j);
                cold.weights.push(sim / total);
            }
            cold.offsets.push(cold.neighbours.len() as u32);
        }
        cold
    }

    /// Whether the catalog holds items the model does not know.
    pub(crate) fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Number of cold items.
    pub(crate) fn len(&self) -> usize {
        self.positions.len()
    }

    /// The cold index of the item at catalog position `pos`, if cold.
    pub(crate) fn of_position(&self, pos: usize) -> Option<u32> {
        self.of_position
            .get(pos)
            .copied()
            .filter(|&c| c != NOT_COLD)
    }

    /// The catalog position of cold item `c`.
    pub(crate) fn position(&self, c: u32) -> usize {
        self.positions[c as usize] as usize
    }

    /// Cold item `c`'s warm neighbours and their weights (empty: no representation).
    pub(crate) fn representation(&self, c: u32) -> (&[u32], &[f32]) {
        let r = self.offsets[c as usize] as usize..self.offsets[c as usize + 1] as usize;
        (&self.neighbours[r.clone()], &self.weights[r])
    }

    /// The score of cold item `c` from the warm items' scores: the weighted mix of its
    /// neighbours' scores; `None` without a representation.
    pub(crate) fn score(&self, c: u32, warm_scores: &[f32]) -> Option<f32> {
        let (neighbours, weights) = self.representation(c);
        if neighbours.is_empty() {
            return None;
        }
        Some(
            neighbours
                .iter()
                .zip(weights)
                .map(|(&j, &w)| w * warm_scores[j as usize])
                .sum(),
        )
    }

    /// Every cold item's score (see [`ColdItems::score`]), `-inf` for those without a
    /// representation.
    pub(crate) fn scores(&self, warm_scores: &[f32]) -> Vec<f32> {
        (0..self.len() as u32)
            .map(|c| self.score(c, warm_scores).unwrap_or(f32::NEG_INFINITY))
            .collect()
    }
}

/// The cold items of a catalog per model, built on first use (the catalog empties it when an
/// item changes). Cloning a catalog starts an empty cache.
#[derive(Debug, Default)]
pub(crate) struct ColdCache(RwLock<Vec<(u64, Arc<ColdItems>)>>);

impl Clone for ColdCache {
    fn clone(&self) -> Self {
        ColdCache::default()
    }
}

impl ColdCache {
    /// The cold items for the model `warm` describes, built now if not cached.
    pub(crate) fn get(&self, catalog: &Catalog, warm: &WarmItems<'_>) -> Arc<ColdItems> {
        let cached = self.0.read().unwrap_or_else(|e| e.into_inner());
        if let Some((_, cold)) = cached.iter().find(|(k, _)| *k == warm.fingerprint) {
            return Arc::clone(cold);
        }
        drop(cached);
        // Built outside the lock: two requests may both build it, with the same result.
        let cold = Arc::new(ColdItems::build(catalog, warm));
        let mut cache = self.0.write().unwrap_or_else(|e| e.into_inner());
        if !cache.iter().any(|(k, _)| *k == warm.fingerprint) {
            if cache.len() == CACHED_MODELS {
                cache.remove(0);
            }
            cache.push((warm.fingerprint, Arc::clone(&cold)));
        }
        cold
    }

    /// Forgets every cold index (the catalog changed).
    pub(crate) fn clear(&mut self) {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

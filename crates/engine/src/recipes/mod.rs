//! The algorithms behind the recipes, and the one interface the model serves them through.
//!
//! | recipe | algorithm |
//! |---|---|
//! | aws-user-personalization(-v2), aws-personalized-ranking(-v2) | EASE or iALS (below), history recency-weighted |
//! | aws-popularity-count | unique users per item |
//! | aws-trending-now | growth of interactions between the last two intervals |
//! | aws-sims | co-interaction counts discounted by popularity, top-K per item |
//! | aws-similar-items | co-interaction cosine blended with metadata (categorical fields) Jaccard |
//!
//! Choice for user-personalization and personalized-ranking, by memory budget:
//! EASE when its dense `n x n` fit fits in `memory_budget_mb` (default 4096 MB; EASE needs
//! 12 n^2 bytes at its peak, so up to about 18,900 items by default), iALS otherwise.
//! Why: measured on MovieLens 100K (temporal split, `make bench-quality`), EASE with a
//! recency-weighted history is the most accurate model we have (NDCG@10 0.166 against 0.164 for
//! our iALS and 0.131 / 0.136 for the numpy EASE / implicit iALS baselines; replay HR@10 0.183
//! against 0.145), has no iterations and no random start, fits in about 0.15 s, and folds a live
//! event in by reading one row of `B` (no solve at request time: top-10 in about 0.03 ms against
//! 0.15 ms for the iALS fold-in). Its cost is quadratic memory and cubic fit time in the catalog size,
//! which is what the budget bounds. iALS memory is linear in users + items (`factors` floats
//! each) and its fit linear in interactions, so it carries catalogs of 100k items and 20M
//! interactions. `algorithm=ease|ials` overrides the choice.
//!
//! Recency: the k-th newest item of a user's history weighs `recency_decay^k` when scoring
//! (default 0.9; `recency_mask=false` or `apply_recency_bias=false` turn it off; HPO tunes it),
//! and iALS also weights its training confidences by recency (`training_recency_decay`).
//! Only the newest 500 history items are scored (all are excluded).

pub(crate) mod ease;
pub(crate) mod ials;
pub(crate) mod neighbors;
pub(crate) mod popularity;
pub(crate) mod trending;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::corpus::Sequence;
use ease::Ease;
use ials::{Ials, IalsParams};
use neighbors::{NeighborParams, Neighbors};

/// An algorithm with its hyperparameters, ready to fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Algorithm {
    PopularityCount,
    Trending { interval_secs: i64 },
    Ease { lambda: f64 },
    Ials(IalsParams),
    Neighbors(NeighborParams),
}

/// The `eventsConfig` weight of entry `k` of sequence `u` (1 without weights).
pub(crate) fn event_weight(weights: Option<&[Vec<f32>]>, u: usize, k: usize) -> f32 {
    weights
        .and_then(|w| w.get(u))
        .and_then(|w| w.get(k))
        .copied()
        .unwrap_or(1.0)
}

/// One item of a user's session as scored: a model item, or a cold item represented by a mix of
/// model items (see `cold`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum SessionItem<'a> {
    Item(u32),
    Mix {
        items: &'a [u32],
        weights: &'a [f32],
    },
}

/// A fitted algorithm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Scorer {
    /// The same scores for everyone (popularity count, trending).
    Static(Vec<f32>),
    Ease(Ease),
    Ials(Ials),
    Neighbors(Neighbors),
}

impl Algorithm {
    /// Fits on `seqs`; `weights` (per sequence entry, aligned by position: a sequence may be a
    /// prefix of, or shorter than, its weights) are the `eventsConfig` weights EASE and iALS
    /// scale each interaction by (`None`: all 1; the other algorithms count events unweighted).
    pub(crate) fn fit_weighted(
        &self,
        n_items: usize,
        seqs: &[Sequence],
        weights: Option<&[Vec<f32>]>,
        seed: u64,
    ) -> Result<Scorer, TrainError> {
        Ok(match self {
            Algorithm::PopularityCount => Scorer::Static(popularity::unique_users(n_items, seqs)),
            Algorithm::Trending { interval_secs } => {
                Scorer::Static(trending::growth(n_items, seqs, *interval_secs))
            }
            Algorithm::Ease { lambda } => Scorer::Ease(Ease::fit(n_items, seqs, weights, *lambda)?),
            Algorithm::Ials(p) => {
                // Recent interactions count more: weight 0.2 + 0.8 * decay^k for the k-th newest,
                // times the event weight.
                let decay = p.training_recency_decay as f32;
                let weights: Vec<Vec<f32>> = seqs
                    .iter()
                    .enumerate()
                    .map(|(u, s)| {
                        crate::model::history_weights(s.len(), decay)
                            .into_iter()
                            .enumerate()
                            .map(|(k, w)| (0.2 + 0.8 * w) * event_weight(weights, u, k))
                            .collect()
                    })
                    .collect();
                Scorer::Ials(Ials::fit(n_items, seqs, &weights, *p, seed))
            }
            Algorithm::Neighbors(p) => Scorer::Neighbors(Neighbors::fit(n_items, seqs, *p)),
        })
    }

    /// The hyperparameters as `algorithmHyperParameters` keys (training with them reproduces the model).
    pub(crate) fn hyper_parameters(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_owned(), v);
        };
        match self {
            Algorithm::PopularityCount => {}
            Algorithm::Trending { interval_secs } => put(
                "trend_discovery_frequency",
                format!("{interval_secs} seconds"),
            ),
            Algorithm::Ease { lambda } => {
                put("algorithm", "ease".to_owned());
                put("ease_lambda", lambda.to_string());
            }
            Algorithm::Ials(p) => {
                put("algorithm", "ials".to_owned());
                put("factors", p.factors.to_string());
                put("regularization", p.regularization.to_string());
                put("alpha", p.alpha.to_string());
                put("iterations", p.iterations.to_string());
                put("cg_steps", p.cg_steps.to_string());
                put(
                    "training_recency_decay",
                    p.training_recency_decay.to_string(),
                );
            }
            Algorithm::Neighbors(p) => {
                put(
                    "popularity_discount_factor",
                    p.popularity_discount.to_string(),
                );
                put("min_cointeraction_count", p.min_cointeractions.to_string());
                put("max_neighbors", p.max_neighbors.to_string());
                put("max_user_history_length", p.max_user_history.to_string());
            }
        }
        m
    }

    /// A short human-readable description (for metrics and logs).
    pub(crate) fn describe(&self) -> String {
        match self {
            Algorithm::PopularityCount => "popularity-count".to_owned(),
            Algorithm::Trending { interval_secs } => format!("trending(interval={interval_secs}s)"),
            Algorithm::Ease { lambda } => format!("ease(lambda={lambda})"),
            Algorithm::Ials(p) => format!(
                "ials(factors={}, reg={}, alpha={}, iterations={})",
                p.factors, p.regularization, p.alpha, p.iterations
            ),
            Algorithm::Neighbors(p) => format!(
                "neighbors(discount={}, min_co={})",
                p.popularity_discount, p.min_cointeractions
            ),
        }
    }
}

impl Scorer {
    /// Adds the scores for a user with this weighted history (oldest first) to `out`.
    pub(crate) fn score_user(&self, history: &[u32], weights: &[f32], out: &mut [f32]) {
        match self {
            Scorer::Static(s) => {
                for (o, v) in out.iter_mut().zip(s) {
                    *o += v;
                }
            }
            Scorer::Ease(m) => m.score(history, weights, out),
            Scorer::Ials(m) => m.score(history, weights, out),
            Scorer::Neighbors(m) => {
                for (&h, &w) in history.iter().zip(weights) {
                    m.add_neighbors(h, w, out);
                }
            }
        }
    }

    /// Like [`Scorer::score_user`] for a session that may hold cold items. A mix counts as its
    /// items with their weights scaled by the session weight (linear scorers), and iALS folds it
    /// in as one item whose factors are the mix of its items' factors.
    pub(crate) fn score_session(
        &self,
        session: &[SessionItem<'_>],
        weights: &[f32],
        out: &mut [f32],
    ) {
        if let Scorer::Ials(m) = self {
            return m.score_session(session, weights, out);
        }
        let mut items = Vec::with_capacity(session.len());
        let mut expanded = Vec::with_capacity(session.len());
        for (entry, &w) in session.iter().zip(weights) {
            match *entry {
                SessionItem::Item(i) => {
                    items.push(i);
                    expanded.push(w);
                }
                SessionItem::Mix {
                    items: mix,
                    weights: shares,
                } => {
                    items.extend_from_slice(mix);
                    expanded.extend(shares.iter().map(|s| s * w));
                }
            }
        }
        self.score_user(&items, &expanded, out);
    }

    /// Adds the scores of items related to `item` to `out`.
    pub(crate) fn score_item(&self, item: u32, out: &mut [f32]) {
        match self {
            Scorer::Neighbors(m) => m.add_neighbors(item, 1.0, out),
            other => other.score_user(&[item], &[1.0], out),
        }
    }

    /// Whether this scorer gives everyone the same list.
    pub(crate) fn is_static(&self) -> bool {
        matches!(self, Scorer::Static(_))
    }
}

//! The trained model and what it answers at request time: recommendations for a user (with
//! their live events folded in), related items for an item, and re-ranking of a given list.
//!
//! Rules applied to every user-based answer:
//! - History = the user's training events plus the live events of the request, counting only
//!   events the solution trains on (its eventType and eventValueThreshold). A live event on a
//!   cold item (in the catalog, without training interactions) counts through the item's
//!   metadata representation (a mix of the known items sharing its metadata, see `cold`).
//! - Items in that history are excluded (hyperparameter `exclude_interacted_items=false` keeps
//!   them, and so does a filter whose applying INCLUDE expression selects by
//!   `Interactions.EVENT_TYPE`: it asks for interacted items).
//! - A user with no usable history gets popular items (unique users per item); ties in any list
//!   are broken by popularity, then by item order, so answers are deterministic.
//! - Cold items with a representation are candidates too (user-personalization and
//!   personalized-ranking): their score is the weighted mix of their neighbours' scores for the
//!   user, and a known item wins a tie with a cold one.
//! - Scores are the model's positive scores normalised to sum to 1 over all candidate items.
//! - Exploration (User-Personalization only): `round(weight * num_results)` slots, spread evenly
//!   over the list, go to fresh items that have few interactions (at most the model's cold
//!   threshold; cold items have none). Fresh means created (catalog `CREATION_TIMESTAMP`), else
//!   first seen in training, within `item_age_cut_off_days` of `now`; a catalog item with
//!   neither is new, hence fresh. Fresh items are taken best first by the user's score (cold
//!   items by their representation), ties and items without a score in a per-user random order;
//!   weight 0 means none.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::catalog::{Catalog, jaccard};
use crate::cold::{ColdItems, WarmItems};
use crate::corpus::{Corpus, EventRule};
use crate::data::Interaction;
use crate::filter::{BoundFilter, Filter, FilterValueError};
use crate::recipe::Recipe;
use crate::recipes::{Algorithm, Scorer, SessionItem};
use crate::rng::hash_str;
use crate::topk::top_k_where;

/// One recommended item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub item_id: String,
    pub score: f64,
}

/// Campaign item exploration (`itemExplorationConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    /// 0..1: the share of the list given to fresh, little-seen items; 0 means none.
    pub weight: f64,
    /// Items created (or first seen) more than this many days before `now` are not fresh.
    pub item_age_cut_off_days: f64,
}

impl Exploration {
    /// No exploration.
    pub const NONE: Exploration = Exploration {
        weight: 0.0,
        item_age_cut_off_days: 30.0,
    };
}

impl Default for Exploration {
    /// Personalize's campaign defaults: weight 0.3, cut-off 30 days.
    fn default() -> Self {
        Exploration {
            weight: 0.3,
            item_age_cut_off_days: 30.0,
        }
    }
}

/// A GetRecommendations request as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct RecommendRequest<'a> {
    /// The user (user-based recipes). Exactly one of `user_id` / `item_id` is needed.
    pub user_id: Option<&'a str>,
    /// The item (SIMS, similar-items).
    pub item_id: Option<&'a str>,
    /// This user's events received after training (PutEvents), oldest first.
    pub live: &'a [Interaction],
    pub num_results: usize,
    /// A parsed filter and its `$PARAMETER` values.
    pub filter: Option<(&'a Filter, &'a BTreeMap<String, String>)>,
    /// Items and users known now (training data + PutItems / PutUsers).
    pub catalog: &'a Catalog,
    pub exploration: Exploration,
    /// Epoch seconds.
    pub now: i64,
}

/// A GetPersonalizedRanking request as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct RankRequest<'a> {
    pub user_id: &'a str,
    /// This user's events received after training (PutEvents), oldest first.
    pub live: &'a [Interaction],
    /// The items to rank (`inputList`).
    pub items: &'a [String],
    /// A parsed filter and its `$PARAMETER` values.
    pub filter: Option<(&'a Filter, &'a BTreeMap<String, String>)>,
    /// Items and users known now (training data + PutItems / PutUsers).
    pub catalog: &'a Catalog,
}

/// Why a request cannot be answered.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RecommendError {
    #[error("recipe {recipe} needs a userId")]
    UserIdRequired { recipe: &'static str },
    #[error("recipe {recipe} needs an itemId")]
    ItemIdRequired { recipe: &'static str },
    #[error(transparent)]
    Filter(#[from] FilterValueError),
}

/// Settings applied at request time (some chosen by HPO).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Serving {
    /// Weight of the k-th newest history item is `recency_decay^k` (1 = no recency weighting).
    pub(crate) recency_decay: f32,
    pub(crate) exclude_history: bool,
    /// Similar-items: metadata weight is `m / (m + users of the query item)`.
    pub(crate) metadata_shrinkage: f32,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            recency_decay: 1.0,
            exclude_history: true,
            metadata_shrinkage: 10.0,
        }
    }
}

/// A trained solution version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub(crate) recipe: Recipe,
    pub(crate) rule: EventRule,
    pub(crate) corpus: Corpus,
    pub(crate) algorithm: Algorithm,
    pub(crate) scorer: Scorer,
    /// Each user's positive sequence (item indexes, oldest first), CSR by user index.
    pub(crate) positive_offsets: Vec<usize>,
    pub(crate) positives: Vec<u32>,
    pub(crate) popularity: Vec<f32>,
    pub(crate) first_seen: Vec<i64>,
    /// Item indexes by `first_seen`, newest first.
    pub(crate) newest_first: Vec<u32>,
    pub(crate) cold_threshold: f32,
    pub(crate) serving: Serving,
    pub(crate) metrics: BTreeMap<String, f64>,
    pub(crate) seed: u64,
    /// Identifies the items and their statistics (the key of the catalog's cold-item cache);
    /// computed on first use.
    #[serde(skip)]
    pub(crate) fingerprint: OnceLock<u64>,
}

/// Weights of a history, oldest first: the newest item weighs 1, each older one `decay` times less.
pub(crate) fn history_weights(len: usize, decay: f32) -> Vec<f32> {
    let mut w = vec![1.0f32; len];
    if decay < 1.0 {
        let mut cur = 1.0f32;
        for x in w.iter_mut().rev() {
            *x = cur;
            cur *= decay;
        }
    }
    w
}

/// Only the newest this many history items are scored (all of them are still excluded): with
/// the default recency decay 0.9 older items weigh under 1e-20, and it bounds the request cost
/// of users with huge histories.
pub(crate) const MAX_SCORED_HISTORY: usize = 500;

/// The newest history items are scored until everything older weighs, all together, less than
/// this fraction of the newest item: 2^-8, the precision EASE serves its weights at (see
/// `recipes::ease`), so the rest would move scores by less than the weights' own rounding
/// (with decay 0.9, the newest 75 items are read; 0.95, 167).
const HISTORY_TAIL_WEIGHT: f64 = 1.0 / 256.0;

/// How many of the newest history items carry weight under `decay` (see
/// [`HISTORY_TAIL_WEIGHT`]): the smallest `k` with `decay^k / (1 - decay) <= HISTORY_TAIL_WEIGHT`.
pub(crate) fn scored_history_len(decay: f32) -> usize {
    if !(decay > 0.0 && decay < 1.0) {
        return MAX_SCORED_HISTORY;
    }
    let decay = f64::from(decay);
    let k = ((HISTORY_TAIL_WEIGHT * (1.0 - decay)).ln() / decay.ln()).ceil();
    (k as usize).clamp(1, MAX_SCORED_HISTORY)
}

/// Raw scores over the model's items for a history (oldest first); popularity when it is empty.
pub(crate) fn score_history(
    scorer: &Scorer,
    popularity: &[f32],
    history: &[u32],
    decay: f32,
    out: &mut [f32],
) {
    let history = &history[history.len().saturating_sub(scored_history_len(decay))..];
    if history.is_empty() && !scorer.is_static() {
        out.copy_from_slice(popularity);
    } else {
        scorer.score_user(history, &history_weights(history.len(), decay), out);
    }
}

/// The sum of the positive finite scores (`-inf` marks excluded items), in eight f64 lanes
/// the compiler can vectorise.
pub(crate) fn positive_sum(scores: &[f32]) -> f64 {
    // Both comparisons are evaluated (`&`, not `&&`) so the choice compiles to a mask, not a
    // branch per item; NaN fails both.
    let positive = |s: f32| {
        f64::from(if (s > 0.0) & (s < f32::INFINITY) {
            s
        } else {
            0.0
        })
    };
    let mut lanes = [0.0f64; 8];
    let chunks = scores.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|&s| positive(s)).sum();
    for chunk in chunks {
        for (lane, &s) in lanes.iter_mut().zip(chunk) {
            *lane += positive(s);
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// Item indexes ordered best first by (score, popularity, index), skipping excluded ones
/// (score `-inf`), keeping `k`.
pub(crate) fn top_indexes(scores: &[f32], popularity: &[f32], k: usize) -> Vec<u32> {
    top_k_where(scores, popularity, k, |_| true)
}

/// What exploration orders fresh items by: the user's scores of the model's items (excluded
/// ones `-inf`) and of the catalog's cold items.
struct Candidates<'a> {
    scores: &'a [f32],
    cold: Option<(&'a ColdItems, &'a [f32])>,
}

/// Merges two best-first lists by score, keeping `k`; `first` wins ties.
fn merge_ranked<'a>(
    first: Vec<(f32, &'a str)>,
    second: impl Iterator<Item = (f32, &'a str)>,
    k: usize,
) -> Vec<(f32, &'a str)> {
    let mut out = Vec::with_capacity(k);
    let mut first = first.into_iter().peekable();
    let mut second = second.peekable();
    while out.len() < k {
        let take_first = match (first.peek(), second.peek()) {
            (Some(a), Some(b)) => a.0 >= b.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_first {
            first.next()
        } else {
            second.next()
        });
    }
    out
}

/// One item of a session: a model item, or a cold item (its index in `ColdItems`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Warm(u32),
    Cold(u32),
}

/// A user's positive history at request time.
struct Session<'a> {
    /// The model items, oldest first, each once.
    warm: Cow<'a, [u32]>,
    /// The cold items, oldest first, each once.
    cold: Vec<u32>,
    /// Warm and cold items in time order when there are cold ones (empty otherwise: `warm` is
    /// the history).
    order: Vec<Entry>,
}

impl Model {
    /// GetSolutionMetrics, computed at training time (empty when training skipped them).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        self.metrics.clone()
    }

    /// The recipe this model was trained for.
    pub fn recipe(&self) -> Recipe {
        self.recipe
    }

    /// A short description of the fitted algorithm and its hyperparameters.
    pub fn algorithm(&self) -> String {
        format!(
            "{} recency_decay={}",
            self.algorithm.describe(),
            self.serving.recency_decay
        )
    }

    /// The effective hyperparameters (after HPO); training with them and `perform_hpo=false`
    /// gives the same model.
    pub fn hyper_parameters(&self) -> BTreeMap<String, String> {
        let mut m = self.algorithm.hyper_parameters();
        if !self.recipe.is_item_based() {
            m.insert(
                "recency_decay".to_owned(),
                self.serving.recency_decay.to_string(),
            );
            m.insert(
                "exclude_interacted_items".to_owned(),
                self.serving.exclude_history.to_string(),
            );
        }
        if self.recipe == Recipe::SimilarItems {
            m.insert(
                "metadata_weight_shrinkage".to_owned(),
                self.serving.metadata_shrinkage.to_string(),
            );
        }
        m
    }

    /// Number of items the model scores.
    pub fn item_count(&self) -> usize {
        self.corpus.n_items()
    }

    /// The user's positive history: model item indexes, oldest first, each item once (at its
    /// latest event), plus the cold items (catalog items the model does not know, see `cold`)
    /// of the live events that have a representation. Other live events on items the model does
    /// not know are left out.
    fn session<'a>(
        &'a self,
        user_id: &str,
        live: &[Interaction],
        cold: Option<(&Catalog, &ColdItems)>,
    ) -> Session<'a> {
        let trained: &[u32] = match self.corpus.user_index.get(user_id) {
            Some(&u) => {
                &self.positives
                    [self.positive_offsets[u as usize]..self.positive_offsets[u as usize + 1]]
            }
            None => &[],
        };
        let entry = |e: &Interaction| -> Option<Entry> {
            if !self.rule.qualifies(&e.event_type, e.event_value) {
                return None;
            }
            if let Some(&i) = self.corpus.item_index.get(&e.item_id) {
                return Some(Entry::Warm(i));
            }
            // A cold item without a representation cannot be scored: left out like unknown ones.
            let (catalog, cold) = cold?;
            cold.of_position(catalog.position(&e.item_id)?)
                .filter(|&c| !cold.representation(c).0.is_empty())
                .map(Entry::Cold)
        };
        let mut order: Option<Vec<Entry>> = None;
        for e in live {
            if let Some(x) = entry(e) {
                let h =
                    order.get_or_insert_with(|| trained.iter().map(|&i| Entry::Warm(i)).collect());
                if let Some(pos) = h.iter().position(|&y| y == x) {
                    h.remove(pos);
                }
                h.push(x);
            }
        }
        let Some(order) = order else {
            return Session {
                warm: Cow::Borrowed(trained),
                cold: Vec::new(),
                order: Vec::new(),
            };
        };
        let warm = order
            .iter()
            .filter_map(|e| match *e {
                Entry::Warm(i) => Some(i),
                Entry::Cold(_) => None,
            })
            .collect();
        let cold: Vec<u32> = order
            .iter()
            .filter_map(|e| match *e {
                Entry::Cold(c) => Some(c),
                Entry::Warm(_) => None,
            })
            .collect();
        Session {
            warm: Cow::Owned(warm),
            order: if cold.is_empty() { Vec::new() } else { order },
            cold,
        }
    }

    /// Raw scores over the model's items for a session (see [`score_history`]); cold items of
    /// the session count through their representations.
    fn score_session(&self, session: &Session<'_>, cold: Option<&ColdItems>, out: &mut [f32]) {
        let decay = self.serving.recency_decay;
        let Some(cold) = cold.filter(|_| !session.order.is_empty()) else {
            return score_history(&self.scorer, &self.popularity, &session.warm, decay, out);
        };
        let order = &session.order[session
            .order
            .len()
            .saturating_sub(scored_history_len(decay))..];
        let mut items: Vec<SessionItem<'_>> = Vec::with_capacity(order.len());
        let mut weights: Vec<f32> = Vec::with_capacity(order.len());
        for (e, w) in order.iter().zip(history_weights(order.len(), decay)) {
            let item = match *e {
                Entry::Warm(i) => SessionItem::Item(i),
                Entry::Cold(c) => {
                    let (items, weights) = cold.representation(c);
                    SessionItem::Mix { items, weights }
                }
            };
            items.push(item);
            weights.push(w);
        }
        if items.is_empty() && !self.scorer.is_static() {
            out.copy_from_slice(&self.popularity);
        } else {
            self.scorer.score_session(&items, &weights, out);
        }
    }

    /// The catalog's cold items for this model, for the recipes that score users' sessions
    /// (not item-to-item nor the static ones); `None` when the catalog has none.
    fn cold_items(&self, catalog: &Catalog) -> Option<Arc<ColdItems>> {
        if self.recipe.is_item_based() || self.scorer.is_static() || catalog.item_count() == 0 {
            return None;
        }
        let fingerprint = *self.fingerprint.get_or_init(|| {
            let mut h = self.seed ^ self.corpus.n_items() as u64;
            for (i, id) in self.corpus.item_ids.iter().enumerate() {
                let stats = u64::from(self.popularity[i].to_bits())
                    ^ (self.first_seen[i] as u64).rotate_left(32);
                h = hash_str(h ^ stats, id);
            }
            h
        });
        let cold = catalog.cold_items(&WarmItems {
            index: &self.corpus.item_index,
            popularity: &self.popularity,
            first_seen: &self.first_seen,
            fingerprint,
        });
        (!cold.is_empty()).then_some(cold)
    }

    /// Ids of every item in the user's positive history, including live items the model does
    /// not know (for exclusion from exploration).
    fn history_ids<'a>(&'a self, hist: &[u32], live: &'a [Interaction]) -> HashSet<&'a str> {
        let mut ids: HashSet<&str> = hist
            .iter()
            .map(|&i| self.corpus.item_ids[i as usize].as_str())
            .collect();
        ids.extend(
            live.iter()
                .filter(|e| self.rule.qualifies(&e.event_type, e.event_value))
                .map(|e| e.item_id.as_str()),
        );
        ids
    }

    /// Event types of the user's interactions per item id (training + live), for filters.
    fn interaction_types<'a>(
        &'a self,
        user_id: Option<&str>,
        live: &'a [Interaction],
    ) -> HashMap<&'a str, Vec<&'a str>> {
        let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
        if let Some(&u) = user_id.and_then(|id| self.corpus.user_index.get(id)) {
            for k in self.corpus.range(u as usize) {
                let item = self.corpus.item_ids[self.corpus.items[k] as usize].as_str();
                out.entry(item)
                    .or_default()
                    .push(self.corpus.event_types[self.corpus.events[k] as usize].as_str());
            }
        }
        for e in live {
            out.entry(e.item_id.as_str())
                .or_default()
                .push(e.event_type.as_str());
        }
        out
    }

    /// GetRecommendations.
    pub fn recommend(&self, req: &RecommendRequest<'_>) -> Result<Vec<Scored>, RecommendError> {
        let recipe = self.recipe.arn();
        let bound = match req.filter {
            Some((filter, values)) => {
                let user = req.user_id.and_then(|u| req.catalog.user(u));
                Some(filter.bind(values, req.user_id, user)?)
            }
            None => None,
        };
        let types = match &bound {
            Some(b) if b.uses_interactions() => self.interaction_types(req.user_id, req.live),
            _ => HashMap::new(),
        };
        let allows = |id: &str| match &bound {
            Some(b) => {
                let events = types.get(id).map(Vec::as_slice).unwrap_or(&[]);
                b.allows(id, req.catalog.item(id), events)
            }
            None => true,
        };
        if self.recipe.is_item_based() {
            let item_id = req
                .item_id
                .ok_or(RecommendError::ItemIdRequired { recipe })?;
            return Ok(self.related(item_id, req, &allows));
        }
        let user_id = req
            .user_id
            .ok_or(RecommendError::UserIdRequired { recipe })?;
        let cold = self.cold_items(req.catalog);
        let cold = cold.as_deref();
        let session = self.session(user_id, req.live, cold.map(|c| (req.catalog, c)));
        let hist = &session.warm;
        let mut scores = vec![0.0f32; self.corpus.n_items()];
        self.score_session(&session, cold, &mut scores);
        // Cold items score from the warm scores before the history is excluded (a cold item
        // like the items the user took is a good one).
        let mut cold_scores = cold.map_or_else(Vec::new, |c| c.scores(&scores));
        let exclude_history = self.serving.exclude_history
            && !bound
                .as_ref()
                .is_some_and(BoundFilter::includes_interactions);
        if exclude_history {
            for &i in hist.iter() {
                scores[i as usize] = f32::NEG_INFINITY;
            }
            for &c in &session.cold {
                cold_scores[c as usize] = f32::NEG_INFINITY;
            }
        }
        let total = positive_sum(&scores) + positive_sum(&cold_scores);
        let want = req.num_results;
        let picked: Vec<u32> = if bound.as_ref().is_none_or(BoundFilter::is_empty) {
            top_indexes(&scores, &self.popularity, want)
        } else {
            top_k_where(&scores, &self.popularity, want, |j| {
                allows(&self.corpus.item_ids[j as usize])
            })
        };
        let mut ranked: Vec<(f32, &str)> = picked
            .into_iter()
            .map(|j| {
                (
                    scores[j as usize],
                    self.corpus.item_ids[j as usize].as_str(),
                )
            })
            .collect();
        if let Some(cold) = cold {
            let cold_id = |c: u32| req.catalog.item_at(cold.position(c)).id.as_str();
            let no_popularity = vec![0.0f32; cold_scores.len()];
            let cold_ranked =
                top_k_where(&cold_scores, &no_popularity, want, |c| allows(cold_id(c)))
                    .into_iter()
                    .map(|c| (cold_scores[c as usize], cold_id(c)));
            ranked = merge_ranked(ranked, cold_ranked, want);
        }
        let norm = |s: f32| {
            if total > 0.0 {
                f64::from(s.max(0.0)) / total
            } else {
                0.0
            }
        };
        let mut out: Vec<Scored> = ranked
            .into_iter()
            .map(|(s, id)| Scored {
                item_id: id.to_owned(),
                score: norm(s),
            })
            .collect();
        if self.recipe == Recipe::UserPersonalization && req.exploration.weight > 0.0 {
            // The history's ids are gathered only if a fresh item turns up (most requests
            // have none): hashing ~100 ids per request is a visible share of serving.
            let hist_ids = std::cell::OnceCell::new();
            let excluded = |id: &str| {
                exclude_history
                    && hist_ids
                        .get_or_init(|| self.history_ids(hist, req.live))
                        .contains(id)
            };
            let candidates = Candidates {
                scores: &scores,
                cold: cold.map(|c| (c, cold_scores.as_slice())),
            };
            out = self.explore(out, user_id, req, &candidates, &|id| {
                !excluded(id) && allows(id)
            });
        }
        Ok(out)
    }

    /// Mixes fresh, little-seen items into `relevant`: the ones the user's scores rank first,
    /// ties (and items without a score) in a per-user random order.
    fn explore<'a>(
        &'a self,
        relevant: Vec<Scored>,
        user_id: &str,
        req: &RecommendRequest<'a>,
        candidates: &Candidates<'_>,
        ok: &dyn Fn(&str) -> bool,
    ) -> Vec<Scored> {
        let want = req.num_results;
        let slots =
            ((req.exploration.weight.clamp(0.0, 1.0) * want as f64).round() as usize).min(want);
        if slots == 0 {
            return relevant;
        }
        let cut_off = req.now - (req.exploration.item_age_cut_off_days.max(0.0) * 86_400.0) as i64;
        let in_list: HashSet<&str> = relevant.iter().map(|s| s.item_id.as_str()).collect();
        let mut fresh: Vec<(f32, u64, &str)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let user_seed = hash_str(self.seed, user_id);
        let cold = candidates.cold;
        let cold_score = |id: &str| -> f32 {
            cold.and_then(|(cold, scores)| {
                let c = cold.of_position(req.catalog.position(id)?)?;
                Some(scores[c as usize])
            })
            .unwrap_or(f32::NEG_INFINITY)
        };
        let mut push = |score: f32, id: &'a str| {
            if seen.insert(id) {
                fresh.push((score, hash_str(user_seed, id), id));
            }
        };
        for record in req.catalog.items_created_since(cut_off) {
            let id = record.id.as_str();
            match self.corpus.item_index.get(id).map(|&i| i as usize) {
                Some(i) if self.popularity[i] <= self.cold_threshold => {
                    push(candidates.scores[i], id);
                }
                Some(_) => {}
                None => push(cold_score(id), id),
            }
        }
        // Items without a catalog creation time: their first interaction counts as creation;
        // catalog items with neither are new.
        for &i in &self.newest_first {
            let i = i as usize;
            if self.first_seen[i] < cut_off {
                break;
            }
            let id = self.corpus.item_ids[i].as_str();
            if self.popularity[i] <= self.cold_threshold
                && req.catalog.item(id).is_none_or(|r| r.created.is_none())
            {
                push(candidates.scores[i], id);
            }
        }
        if let Some((cold, scores)) = cold {
            for c in 0..cold.len() as u32 {
                let record = req.catalog.item_at(cold.position(c));
                if record.created.is_none() {
                    push(scores[c as usize], record.id.as_str());
                }
            }
        }
        fresh.retain(|(_, _, id)| !in_list.contains(id) && ok(id));
        fresh.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
        let mut fresh = fresh.into_iter().map(|(_, _, id)| id);
        let mut relevant = relevant.into_iter();
        let mut out: Vec<Scored> = Vec::with_capacity(want);
        let mut explored = 0;
        let mut last_score = f64::MAX;
        while out.len() < want {
            let pos = out.len();
            let explore_now = explored < slots && (pos + 1) * slots >= (explored + 1) * want;
            let next = if explore_now {
                match fresh.next() {
                    Some(id) => {
                        explored += 1;
                        Some(Scored {
                            item_id: id.to_owned(),
                            score: if last_score == f64::MAX {
                                0.0
                            } else {
                                last_score
                            },
                        })
                    }
                    None => relevant.next(),
                }
            } else {
                relevant.next().or_else(|| {
                    fresh.next().map(|id| Scored {
                        item_id: id.to_owned(),
                        score: 0.0,
                    })
                })
            };
            match next {
                Some(s) => {
                    last_score = s.score;
                    out.push(s);
                }
                None => break,
            }
        }
        out
    }

    /// Items related to `item_id` (SIMS, similar-items); popular items for an unknown item.
    fn related(
        &self,
        item_id: &str,
        req: &RecommendRequest<'_>,
        allows: &dyn Fn(&str) -> bool,
    ) -> Vec<Scored> {
        let n = self.corpus.n_items();
        let known = self.corpus.item_index.get(item_id).copied();
        let mut scores = vec![0.0f32; n];
        let mut extra: Vec<(String, f32)> = Vec::new();
        let query_tokens = if self.recipe == Recipe::SimilarItems {
            req.catalog.item_tokens(item_id)
        } else {
            None
        };
        match known {
            Some(i) => self.scorer.score_item(i, &mut scores),
            None if query_tokens.is_none() => scores.copy_from_slice(&self.popularity),
            None => {}
        }
        if let Some(q) = query_tokens.filter(|q| !q.is_empty()) {
            // Blend: (1 - beta) * normalised co-interaction similarity + beta * Jaccard of metadata.
            let users = known.map_or(0.0, |i| self.popularity[i as usize]);
            let m = self.serving.metadata_shrinkage.max(0.0);
            let beta = if m + users > 0.0 {
                m / (m + users)
            } else {
                0.0
            };
            let max_cf = scores.iter().copied().fold(0.0f32, f32::max);
            if max_cf > 0.0 {
                scores
                    .iter_mut()
                    .for_each(|s| *s = (1.0 - beta) * *s / max_cf);
            }
            for (record, tokens) in req.catalog.items_with_tokens() {
                let sim = jaccard(q, tokens);
                if sim <= 0.0 || record.id == item_id {
                    continue;
                }
                match self.corpus.item_index.get(&record.id) {
                    Some(&j) => scores[j as usize] += beta.max(1e-3) * sim,
                    None => extra.push((record.id.clone(), beta.max(1e-3) * sim)),
                }
            }
        }
        if let Some(i) = known {
            scores[i as usize] = f32::NEG_INFINITY;
        }
        let total: f64 = scores
            .iter()
            .chain(extra.iter().map(|(_, s)| s))
            .filter(|s| s.is_finite() && **s > 0.0)
            .map(|&s| f64::from(s))
            .sum();
        let norm = |s: f32| {
            if total > 0.0 {
                f64::from(s.max(0.0)) / total
            } else {
                0.0
            }
        };
        let want = req.num_results;
        let mut ranked: Vec<(f32, &str)> = top_k_where(&scores, &self.popularity, want, |j| {
            allows(&self.corpus.item_ids[j as usize])
        })
        .into_iter()
        .map(|j| {
            (
                scores[j as usize],
                self.corpus.item_ids[j as usize].as_str(),
            )
        })
        .collect();
        if !extra.is_empty() {
            // Catalog-only items (metadata neighbours) merge in by score; model items win ties.
            ranked.extend(
                extra
                    .iter()
                    .filter(|(id, _)| allows(id))
                    .map(|(id, s)| (*s, id.as_str())),
            );
            ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
            ranked.truncate(want);
        }
        ranked
            .into_iter()
            .map(|(s, id)| Scored {
                item_id: id.to_owned(),
                score: norm(s),
            })
            .collect()
    }

    /// GetPersonalizedRanking with a filter: the items the filter rejects are left out, the
    /// others ranked as [`Model::rank`] does, except that the catalog's cold items (see `cold`)
    /// are scored like known items (from their metadata) and count in the user's live events.
    /// The filter sees the catalog, the user (for `IF CurrentUser...`) and their interactions
    /// (training + live) like in `recommend`.
    pub fn rank_filtered(&self, req: &RankRequest<'_>) -> Result<Vec<Scored>, RecommendError> {
        let Some((filter, values)) = req.filter else {
            return Ok(self.rank_in(req.user_id, req.live, req.items, Some(req.catalog)));
        };
        let user = req.catalog.user(req.user_id);
        let bound = filter.bind(values, Some(req.user_id), user)?;
        if bound.is_empty() {
            return Ok(self.rank_in(req.user_id, req.live, req.items, Some(req.catalog)));
        }
        let types = if bound.uses_interactions() {
            self.interaction_types(Some(req.user_id), req.live)
        } else {
            HashMap::new()
        };
        let kept: Vec<String> = req
            .items
            .iter()
            .filter(|id| {
                let events = types.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
                bound.allows(id, req.catalog.item(id), events)
            })
            .cloned()
            .collect();
        Ok(self.rank_in(req.user_id, req.live, &kept, Some(req.catalog)))
    }

    /// GetPersonalizedRanking: `items` ordered for the user, best first; items the model does
    /// not know come last, in their given order, with score 0. Scores of known items are their
    /// positive model scores normalised to sum to 1 over the list.
    pub fn rank(&self, user_id: &str, live: &[Interaction], items: &[String]) -> Vec<Scored> {
        self.rank_in(user_id, live, items, None)
    }

    /// [`Model::rank`], with the cold items of `catalog` scored and counted in the session.
    fn rank_in(
        &self,
        user_id: &str,
        live: &[Interaction],
        items: &[String],
        catalog: Option<&Catalog>,
    ) -> Vec<Scored> {
        let cold = catalog.and_then(|catalog| Some((catalog, self.cold_items(catalog)?)));
        let cold = cold
            .as_ref()
            .map(|(catalog, cold)| (*catalog, cold.as_ref()));
        let session = self.session(user_id, live, cold);
        let mut scores = vec![0.0f32; self.corpus.n_items()];
        // Item-to-item recipes score a history by summing its items' neighbour lists.
        self.score_session(&session, cold.map(|(_, c)| c), &mut scores);
        // (position in `items`, score, popularity); cold items have no popularity.
        let mut known: Vec<(usize, f32, f32)> = Vec::new();
        let mut unknown: Vec<&String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (pos, id) in items.iter().enumerate() {
            if !seen.insert(id.as_str()) {
                continue;
            }
            let scored = match self.corpus.item_index.get(id) {
                Some(&j) => Some((scores[j as usize], self.popularity[j as usize])),
                None => cold.and_then(|(catalog, cold)| {
                    let c = cold.of_position(catalog.position(id)?)?;
                    Some((cold.score(c, &scores)?, 0.0))
                }),
            };
            match scored {
                Some((s, p)) => known.push((pos, s, p)),
                None => unknown.push(id),
            }
        }
        known.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(b.2.total_cmp(&a.2))
                .then(a.0.cmp(&b.0))
        });
        let total: f64 = known.iter().map(|&(_, s, _)| f64::from(s.max(0.0))).sum();
        let mut out: Vec<Scored> = known
            .into_iter()
            .map(|(pos, s, _)| Scored {
                item_id: items[pos].clone(),
                score: if total > 0.0 {
                    f64::from(s.max(0.0)) / total
                } else {
                    0.0
                },
            })
            .collect();
        out.extend(unknown.into_iter().map(|id| Scored {
            item_id: id.clone(),
            score: 0.0,
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_read_until_the_rest_weighs_under_the_serving_precision() {
        assert_eq!(scored_history_len(0.9), 75);
        assert_eq!(scored_history_len(0.95), 167);
        assert_eq!(scored_history_len(1.0), MAX_SCORED_HISTORY);
        assert_eq!(scored_history_len(0.01), 2);
        for decay in [0.5f32, 0.8, 0.9, 0.95, 0.99] {
            let k = scored_history_len(decay);
            let tail = |k: usize| f64::from(decay).powi(k as i32) / (1.0 - f64::from(decay));
            assert!(
                tail(k) <= HISTORY_TAIL_WEIGHT || k == MAX_SCORED_HISTORY,
                "{decay}"
            );
            assert!(
                tail(k - 1) > HISTORY_TAIL_WEIGHT || k == 1,
                "{decay}: {k} is the least"
            );
        }
    }
}

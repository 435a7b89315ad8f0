//! Training: the solution configuration, the choice of algorithm and hyperparameters (with
//! optional HPO on a validation split carved from the training data), the GetSolutionMetrics
//! protocol, and the final fit on all data.
//!
//! - Validation split (HPO): each user's newest `ceil(10%)` positive items are held out, the rest
//!   train; candidates are ranked by NDCG@10 on up to 3,000 users.
//! - Metrics: 10% of users (chosen by a seeded hash) are held out; the model is fitted on the
//!   other 90%; each held-out user's oldest 90% is the input and the newest `ceil(10%)` the target.
//! - Final model: fitted on all data with the chosen hyperparameters.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::corpus::{Corpus, EventRule, Sequence};
use crate::data::Dataset;
use crate::metrics::SolutionMetrics;
use crate::model::{Model, Serving, score_history, top_indexes};
use crate::params::Params;
use crate::recipe::Recipe;
use crate::recipes::ials::IalsParams;
use crate::recipes::neighbors::NeighborParams;
use crate::recipes::{Algorithm, Scorer, ease, popularity, trending};
use crate::rng::hash_str;

/// Personalize's minimum: 1000 interactions and 25 users with at least 2 interactions each.
pub const MIN_INTERACTIONS: usize = 1000;
/// See [`MIN_INTERACTIONS`].
pub const MIN_USERS_WITH_TWO: usize = 25;

/// CreateSolution + CreateSolutionVersion inputs that shape the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub recipe: Recipe,
    /// Train only on events of this type (`eventType`).
    pub event_type: Option<String>,
    /// Train only on events whose value is at least this (`eventValueThreshold`).
    pub event_value_threshold: Option<f64>,
    /// `algorithmHyperParameters` (and the engine's own knobs, see the recipe modules).
    pub hyper_parameters: BTreeMap<String, String>,
    pub perform_hpo: bool,
    pub seed: u64,
    /// `eventsConfig.eventParametersList`: when not empty, training uses only these event types,
    /// each at or above its own value threshold, with its weight (over the largest weight; 0
    /// leaves the type out) scaling the interaction's confidence (iALS) or its entry of the
    /// user-item matrix (EASE). Histories at request time count the same events.
    #[serde(default)]
    pub event_parameters: Vec<EventParameter>,
}

/// One entry of `eventsConfig.eventParametersList`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventParameter {
    pub event_type: String,
    /// Events of this type with a value below this are left out.
    pub event_value_threshold: Option<f64>,
    /// 0..=1; only the ratio between the types' weights matters.
    pub weight: f64,
}

impl TrainConfig {
    /// A configuration with no event filter, no hyperparameters, no HPO and seed 0.
    pub fn new(recipe: Recipe) -> Self {
        TrainConfig {
            recipe,
            event_type: None,
            event_value_threshold: None,
            hyper_parameters: BTreeMap::new(),
            perform_hpo: false,
            seed: 0,
            event_parameters: Vec::new(),
        }
    }
}

/// Why training failed (the text becomes the solution version's failureReason).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TrainError {
    #[error(
        "not enough data: {interactions} usable interactions (need {MIN_INTERACTIONS}) and {users_with_two} users with at least 2 (need {MIN_USERS_WITH_TWO}){}",
        match event_type { Some(t) => format!(" for event type {t:?}"), None => String::new() }
    )]
    NotEnoughData {
        interactions: usize,
        users_with_two: usize,
        event_type: Option<String>,
    },
    #[error("invalid hyperparameter {name}={value:?}: {reason}")]
    HyperParameter {
        name: String,
        value: String,
        reason: String,
    },
    #[error("{step} failed: {detail}")]
    Numerical { step: String, detail: String },
}

/// Trains a model: hyperparameters (HPO if asked), metrics, then the final fit on all data.
pub fn train(data: &Dataset, cfg: &TrainConfig) -> Result<Model, TrainError> {
    train_inner(data, cfg, true)
}

/// Like [`train`] but skips the metrics fit (for benchmarks and tests); `metrics()` is empty.
pub fn train_without_metrics(data: &Dataset, cfg: &TrainConfig) -> Result<Model, TrainError> {
    train_inner(data, cfg, false)
}

/// One candidate: an algorithm and the serving settings to try with it.
struct Candidate {
    algorithm: Algorithm,
    decays: Vec<f32>,
}

fn train_inner(data: &Dataset, cfg: &TrainConfig, with_metrics: bool) -> Result<Model, TrainError> {
    let rule = EventRule {
        event_type: cfg.event_type.clone(),
        value_threshold: cfg.event_value_threshold,
        event_parameters: cfg.event_parameters.clone(),
    };
    let corpus = Corpus::build(&data.interactions, &rule);
    let seqs = corpus.sequences();
    let weights = corpus.sequence_weights(&rule);
    let weights = weights.as_deref();
    let interactions = corpus.qualifying_count();
    let users_with_two = seqs.iter().filter(|s| s.len() >= 2).count();
    if interactions < MIN_INTERACTIONS || users_with_two < MIN_USERS_WITH_TWO {
        return Err(TrainError::NotEnoughData {
            interactions,
            users_with_two,
            event_type: cfg.event_type.clone(),
        });
    }
    let params = Params(&cfg.hyper_parameters);
    let n = corpus.n_items();
    let mut serving = Serving {
        exclude_history: params.bool("exclude_interacted_items", true)?,
        metadata_shrinkage: params.f64_in("metadata_weight_shrinkage", 10.0, 0.0, 1e9)? as f32,
        ..Serving::default()
    };
    let mut candidates = candidates(cfg, &params, n, &seqs)?;
    // Without HPO there is one candidate with one decay; with it, the grid is searched.
    if cfg.perform_hpo && (candidates.len() > 1 || candidates.iter().any(|c| c.decays.len() > 1)) {
        let (alg, decay) = tune(&candidates, n, &seqs, weights, cfg)?;
        candidates = vec![Candidate {
            algorithm: alg,
            decays: vec![decay],
        }];
    }
    let chosen = candidates
        .into_iter()
        .next()
        .expect("every recipe has at least one candidate");
    serving.recency_decay = chosen.decays[0];
    let metrics = if with_metrics {
        let events = weights.zip(rule.mean_weight());
        solution_metrics(&chosen.algorithm, &serving, cfg, &corpus, &seqs, events)?
    } else {
        BTreeMap::new()
    };
    let scorer = chosen.algorithm.fit_weighted(n, &seqs, weights, cfg.seed)?;
    Ok(assemble(
        cfg.recipe,
        rule,
        corpus,
        &seqs,
        chosen.algorithm,
        scorer,
        serving,
        metrics,
        cfg.seed,
    ))
}

/// Why an incremental update cannot be done.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum UpdateError {
    #[error("recipe {recipe} does not support trainingMode UPDATE")]
    NotSupported { recipe: &'static str },
}

/// trainingMode UPDATE: folds `data` (all interactions now, items and users) into `previous`
/// without refitting. The item-item weights (EASE) or item factors (iALS) and the
/// hyperparameters are kept; users' histories, item popularity, first-seen times (exploration)
/// and the set of items are rebuilt from `data`. Items new since `previous` join with no learnt
/// weights: they are recommended through exploration and popularity until the next FULL
/// training. Metrics are those of `previous` (they describe the fit, which is unchanged).
pub fn update(previous: &Model, data: &Dataset) -> Result<Model, UpdateError> {
    let corpus = Corpus::build(&data.interactions, &previous.rule);
    let seqs = corpus.sequences();
    // New item index -> the previous model's index, for items it knows.
    let old_of: Vec<Option<u32>> = corpus
        .item_ids
        .iter()
        .map(|id| previous.corpus.item_index.get(id).copied())
        .collect();
    let scorer = match &previous.scorer {
        Scorer::Ease(e) => Scorer::Ease(e.remap(&old_of)),
        Scorer::Ials(m) => Scorer::Ials(m.remap(&old_of)),
        Scorer::Static(_) | Scorer::Neighbors(_) => {
            return Err(UpdateError::NotSupported {
                recipe: previous.recipe.arn(),
            });
        }
    };
    Ok(assemble(
        previous.recipe,
        previous.rule.clone(),
        corpus,
        &seqs,
        previous.algorithm.clone(),
        scorer,
        previous.serving.clone(),
        previous.metrics.clone(),
        previous.seed,
    ))
}

/// The model around a fitted scorer: users' positive histories, popularity, first-seen times.
#[allow(clippy::too_many_arguments)]
fn assemble(
    recipe: Recipe,
    rule: EventRule,
    corpus: Corpus,
    seqs: &[Sequence],
    algorithm: Algorithm,
    scorer: Scorer,
    serving: Serving,
    metrics: BTreeMap<String, f64>,
    seed: u64,
) -> Model {
    let n = corpus.n_items();
    let pop = popularity::unique_users(n, seqs);
    let mut first_seen = vec![i64::MAX; n];
    for (k, &i) in corpus.items.iter().enumerate() {
        first_seen[i as usize] = first_seen[i as usize].min(corpus.times[k]);
    }
    let mut newest_first: Vec<u32> = (0..n as u32).collect();
    newest_first.sort_by_key(|&i| (std::cmp::Reverse(first_seen[i as usize]), i));
    let mut positive_offsets = Vec::with_capacity(seqs.len() + 1);
    positive_offsets.push(0);
    let mut positives = Vec::with_capacity(seqs.iter().map(Vec::len).sum());
    for seq in seqs {
        positives.extend(seq.iter().map(|&(i, _)| i));
        positive_offsets.push(positives.len());
    }
    Model {
        recipe,
        positive_offsets,
        positives,
        rule,
        algorithm,
        scorer,
        cold_threshold: cold_threshold(&pop),
        popularity: pop,
        first_seen,
        newest_first,
        serving,
        metrics,
        seed,
        corpus,
        fingerprint: std::sync::OnceLock::new(),
    }
}

/// Items with at most this many users count as little-seen (for exploration): the 25th
/// percentile of item popularity, at least 1.
fn cold_threshold(pop: &[f32]) -> f32 {
    let mut sorted: Vec<f32> = pop.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted
        .get(sorted.len() / 4)
        .copied()
        .unwrap_or(1.0)
        .max(1.0)
}

/// Default EASE L2 weight (tuned on MovieLens 100K, temporal split).
const DEFAULT_EASE_LAMBDA: f64 = 200.0;
/// Default history recency decay (tuned on MovieLens 100K, temporal split).
const DEFAULT_RECENCY_DECAY: f64 = 0.9;

/// The algorithm (and, under HPO, the grid) for a configuration.
fn candidates(
    cfg: &TrainConfig,
    params: &Params<'_>,
    n: usize,
    seqs: &[Sequence],
) -> Result<Vec<Candidate>, TrainError> {
    let hpo = cfg.perform_hpo;
    let recency_on =
        params.bool("recency_mask", true)? && params.bool("apply_recency_bias", true)?;
    let decay_default = if recency_on {
        DEFAULT_RECENCY_DECAY
    } else {
        1.0
    };
    let decay = params.f64_in("recency_decay", decay_default, 0.01, 1.0)? as f32;
    let decays = if hpo && !params.has("recency_decay") && recency_on {
        vec![1.0, 0.95, 0.9, 0.8]
    } else {
        vec![decay]
    };
    let single = |algorithm| {
        Ok(vec![Candidate {
            algorithm,
            decays: vec![1.0],
        }])
    };
    match cfg.recipe {
        Recipe::PopularityCount => single(Algorithm::PopularityCount),
        Recipe::TrendingNow => {
            let interval = trending::parse_interval(
                params.str("trend_discovery_frequency").unwrap_or("1 day"),
            )?;
            single(Algorithm::Trending {
                interval_secs: interval,
            })
        }
        Recipe::Sims | Recipe::SimilarItems => {
            let sims = cfg.recipe == Recipe::Sims;
            single(Algorithm::Neighbors(NeighborParams {
                popularity_discount: params.f64_in("popularity_discount_factor", 0.5, 0.0, 1.0)?,
                min_cointeractions: params.usize_in(
                    "min_cointeraction_count",
                    if sims { 3 } else { 1 },
                    0,
                    1_000_000,
                )? as u32,
                max_neighbors: params.usize_in("max_neighbors", 250, 1, 10_000)?,
                max_user_history: params.usize_in("max_user_history_length", 200, 2, 100_000)?,
            }))
        }
        Recipe::UserPersonalization
        | Recipe::PersonalizedRanking
        | Recipe::ItemAffinity
        | Recipe::ItemAttributeAffinity => {
            let budget_mb = params.f64_in("memory_budget_mb", 4096.0, 0.0, 1e9)?;
            let ease_fits = ease::fit_bytes(n) <= (budget_mb * 1024.0 * 1024.0) as u128;
            let use_ease = match params.str("algorithm").unwrap_or("auto") {
                "ease" => true,
                "ials" => false,
                "auto" => ease_fits,
                other => {
                    return Err(TrainError::HyperParameter {
                        name: "algorithm".to_owned(),
                        value: other.to_owned(),
                        reason: "must be auto, ease or ials".to_owned(),
                    });
                }
            };
            if use_ease {
                let lambda = params.f64_in("ease_lambda", default_lambda(seqs), 1e-6, 1e12)?;
                let lambdas = if hpo && !params.has("ease_lambda") {
                    vec![lambda / 4.0, lambda / 2.0, lambda, lambda * 2.0]
                } else {
                    vec![lambda]
                };
                Ok(lambdas
                    .into_iter()
                    .map(|l| Candidate {
                        algorithm: Algorithm::Ease { lambda: l },
                        decays: decays.clone(),
                    })
                    .collect())
            } else {
                let base = IalsParams {
                    factors: params.usize_in(
                        "hidden_dimension",
                        params.usize_in("factors", 64, 1, 1024)?,
                        1,
                        1024,
                    )?,
                    regularization: params.f64_in("regularization", 5.0, 0.0, 1e9)?,
                    alpha: params.f64_in("alpha", 8.0, 0.0, 1e9)?,
                    iterations: params.usize_in("iterations", 15, 1, 1000)?,
                    cg_steps: params.usize_in("cg_steps", 3, 1, 100)?,
                    training_recency_decay: params.f64_in(
                        "training_recency_decay",
                        0.95,
                        0.01,
                        1.0,
                    )?,
                };
                let mut grid = vec![base];
                if hpo && !params.has("regularization") {
                    grid.push(IalsParams {
                        regularization: base.regularization * 4.0,
                        ..base
                    });
                    grid.push(IalsParams {
                        regularization: base.regularization / 4.0,
                        ..base
                    });
                }
                if hpo && !params.has("alpha") {
                    grid.push(IalsParams {
                        alpha: base.alpha * 4.0,
                        ..base
                    });
                }
                Ok(grid
                    .into_iter()
                    .map(|p| Candidate {
                        algorithm: Algorithm::Ials(p),
                        decays: decays.clone(),
                    })
                    .collect())
            }
        }
    }
}

/// The default EASE lambda: the MovieLens-tuned value, scaled with the mean item popularity
/// (the diagonal of the Gram matrix) relative to MovieLens 100K's (about 59).
fn default_lambda(seqs: &[Sequence]) -> f64 {
    let total: usize = seqs.iter().map(Vec::len).sum();
    let items: std::collections::HashSet<u32> = seqs.iter().flatten().map(|&(i, _)| i).collect();
    let mean_pop = total as f64 / items.len().max(1) as f64;
    (DEFAULT_EASE_LAMBDA * mean_pop / 59.0).clamp(1.0, 1e7)
}

/// One evaluation case: a user's input history and target items (with their event-weight
/// gains under an events configuration).
struct Case {
    input: Vec<u32>,
    target: Vec<u32>,
    gains: Option<Vec<f64>>,
}

fn split_tail(seq: &Sequence, frac: f64) -> (Vec<u32>, Vec<u32>) {
    let t = ((seq.len() as f64) * frac).ceil() as usize;
    let cut = seq.len() - t.min(seq.len());
    (
        seq[..cut].iter().map(|&(i, _)| i).collect(),
        seq[cut..].iter().map(|&(i, _)| i).collect(),
    )
}

/// Ranks each case and accumulates GetSolutionMetrics (users ranked in parallel, summed in order).
fn evaluate(
    scorer: &Scorer,
    pop: &[f32],
    cases: &[Case],
    decay: f32,
    item_based: bool,
    exclude: bool,
) -> SolutionMetrics<u32> {
    let n = pop.len();
    let lists: Vec<Vec<u32>> = cases
        .par_iter()
        .map_init(
            || vec![0.0f32; n],
            |scores, case| {
                scores.iter_mut().for_each(|s| *s = 0.0);
                if item_based {
                    match case.input.last() {
                        Some(&q) => scorer.score_item(q, scores),
                        None => scores.copy_from_slice(pop),
                    }
                } else {
                    score_history(scorer, pop, &case.input, decay, scores);
                }
                if exclude || item_based {
                    for &i in &case.input {
                        scores[i as usize] = f32::NEG_INFINITY;
                    }
                }
                top_indexes(scores, pop, 25)
            },
        )
        .collect();
    let mut m = SolutionMetrics::default();
    for (list, case) in lists.iter().zip(cases) {
        m.add(list, &case.target);
        if let Some(gains) = &case.gains {
            m.add_event_weighted(list, &case.target, gains);
        }
    }
    m
}

/// Grid search on the validation split; returns the best algorithm and decay by NDCG@10.
fn tune(
    candidates: &[Candidate],
    n: usize,
    seqs: &[Sequence],
    weights: Option<&[Vec<f32>]>,
    cfg: &TrainConfig,
) -> Result<(Algorithm, f32), TrainError> {
    let mut train: Vec<Sequence> = Vec::with_capacity(seqs.len());
    let mut cases: Vec<(u64, Case)> = Vec::new();
    for (u, seq) in seqs.iter().enumerate() {
        if seq.len() >= 3 {
            let (input, target) = split_tail(seq, 0.1);
            train.push(seq[..input.len()].to_vec());
            cases.push((
                hash_str(cfg.seed ^ 0x7A11, &u.to_string()),
                Case {
                    input,
                    target,
                    gains: None,
                },
            ));
        } else {
            train.push(seq.clone());
        }
    }
    cases.sort_by_key(|(h, _)| *h);
    cases.truncate(3000);
    let cases: Vec<Case> = cases.into_iter().map(|(_, c)| c).collect();
    let pop = popularity::unique_users(n, &train);
    let item_based = cfg.recipe.is_item_based();
    let mut best: Option<(f64, Algorithm, f32)> = None;
    for cand in candidates {
        let scorer = cand.algorithm.fit_weighted(n, &train, weights, cfg.seed)?;
        for &decay in &cand.decays {
            let m = evaluate(&scorer, &pop, &cases, decay, item_based, true).finish(n);
            let ndcg = m
                .get("normalized_discounted_cumulative_gain_at_10")
                .copied()
                .unwrap_or(0.0);
            if best.as_ref().is_none_or(|(b, _, _)| ndcg > *b) {
                best = Some((ndcg, cand.algorithm.clone(), decay));
            }
        }
    }
    let (_, alg, decay) = best.expect("the candidate grid is never empty");
    Ok((alg, decay))
}

/// GetSolutionMetrics with Personalize's protocol (see the module doc).
fn solution_metrics(
    alg: &Algorithm,
    serving: &Serving,
    cfg: &TrainConfig,
    corpus: &Corpus,
    seqs: &[Sequence],
    events: Option<(&[Vec<f32>], f64)>,
) -> Result<BTreeMap<String, f64>, TrainError> {
    let n = corpus.n_items();
    let mut eligible: Vec<(u64, usize)> = seqs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.len() >= 2)
        .map(|(u, _)| (hash_str(cfg.seed ^ 0x4E7, &corpus.user_ids[u]), u))
        .collect();
    eligible.sort_unstable();
    let held = eligible.len().div_ceil(10);
    let mut train: Vec<Sequence> = seqs.to_vec();
    let mut cases = Vec::with_capacity(held);
    // Under an events configuration a target's gain is its weight over the mean weight of the
    // listed event types (AWS: purchase 0.3 and click 0.1 give 1.5 and 0.5).
    for &(_, u) in &eligible[..held] {
        let (input, target) = split_tail(&seqs[u], 0.1);
        let gains = events.map(|(w, mean)| {
            w[u][input.len()..]
                .iter()
                .map(|&g| f64::from(g) / mean)
                .collect()
        });
        cases.push(Case {
            input,
            target,
            gains,
        });
        train[u] = Vec::new();
    }
    let scorer = alg.fit_weighted(n, &train, events.map(|(w, _)| w), cfg.seed)?;
    let pop = popularity::unique_users(n, &train);
    let m = evaluate(
        &scorer,
        &pop,
        &cases,
        serving.recency_decay,
        cfg.recipe.is_item_based(),
        serving.exclude_history,
    );
    Ok(m.finish(n))
}

#[cfg(test)]
mod event_weights {
    //! `eventsConfig`: which event types train, and how their weights move recommendations.

    use super::*;
    use crate::catalog::Catalog;
    use crate::data::Interaction;
    use crate::model::{Exploration, RecommendRequest};

    const GROUPS: usize = 4;
    const USERS: usize = 120;

    /// Users in 4 groups; a user of group `g` views 6 of `a{g}-*`, clicks 6 of `c{g}-*` and
    /// purchases 6 of `p{g}-*` (value 0.2 for the first purchase, 0.9 for the others).
    fn data() -> Dataset {
        let mut interactions = Vec::new();
        for u in 0..USERS {
            let g = u % GROUPS;
            let user = format!("u{u}");
            for k in 0..6 {
                let t = 1_700_000_000 + (u * 100 + k * 3) as i64;
                let pick = |n: usize| (u / GROUPS * 7 + k) % n;
                interactions.push(Interaction::new(
                    &user,
                    &format!("a{g}-{}", pick(10)),
                    t,
                    "view",
                ));
                interactions.push(Interaction::new(
                    &user,
                    &format!("c{g}-{}", pick(25)),
                    t + 1,
                    "click",
                ));
                let mut purchase =
                    Interaction::new(&user, &format!("p{g}-{}", pick(25)), t + 2, "purchase");
                purchase.event_value = Some(if k == 0 { 0.2 } else { 0.9 });
                interactions.push(purchase);
            }
        }
        Dataset {
            interactions,
            items: Vec::new(),
            users: Vec::new(),
        }
    }

    fn config(params: &[(&str, f64)], algorithm: &str) -> TrainConfig {
        let mut c = TrainConfig::new(Recipe::UserPersonalization);
        c.seed = 5;
        c.hyper_parameters
            .insert("algorithm".to_owned(), algorithm.to_owned());
        c.event_parameters = params
            .iter()
            .map(|&(t, w)| EventParameter {
                event_type: t.to_owned(),
                event_value_threshold: None,
                weight: w,
            })
            .collect();
        c
    }

    /// How many of user u0's top 10 are click items and purchase items.
    fn clicks_and_purchases(model: &Model) -> (usize, usize) {
        let catalog = Catalog::new(Vec::new(), Vec::new());
        let top = model
            .recommend(&RecommendRequest {
                user_id: Some("u0"),
                item_id: None,
                live: &[],
                num_results: 10,
                filter: None,
                catalog: &catalog,
                exploration: Exploration::NONE,
                now: 1_800_000_000,
            })
            .expect("recommends");
        let count = |prefix: &str| top.iter().filter(|s| s.item_id.starts_with(prefix)).count();
        (count("c0-"), count("p0-"))
    }

    #[test]
    fn heavier_event_types_are_recommended_more() {
        let d = data();
        for algorithm in ["ease", "ials"] {
            let clicks_first = train_without_metrics(
                &d,
                &config(
                    &[("view", 1.0), ("click", 1.0), ("purchase", 0.1)],
                    algorithm,
                ),
            )
            .expect("trains");
            let purchases_first = train_without_metrics(
                &d,
                &config(
                    &[("view", 1.0), ("click", 0.1), ("purchase", 1.0)],
                    algorithm,
                ),
            )
            .expect("trains");
            let (c, p) = clicks_and_purchases(&clicks_first);
            assert!(
                c > p,
                "{algorithm}, click weighs 10x purchase: {c} clicks, {p} purchases"
            );
            let (c, p) = clicks_and_purchases(&purchases_first);
            assert!(
                p > c,
                "{algorithm}, purchase weighs 10x click: {c} clicks, {p} purchases"
            );
            // Only the ratio of the weights matters.
            let halved = train_without_metrics(
                &d,
                &config(
                    &[("view", 0.5), ("click", 0.05), ("purchase", 0.5)],
                    algorithm,
                ),
            )
            .expect("trains");
            assert_eq!(clicks_and_purchases(&halved), (c, p), "{algorithm}");
        }
    }

    #[test]
    fn weight_zero_and_unlisted_types_are_left_out_and_thresholds_apply_per_type() {
        let d = data();
        let zero = config(&[("view", 1.0), ("click", 1.0), ("purchase", 0.0)], "ease");
        let unlisted = config(&[("view", 1.0), ("click", 1.0)], "ease");
        let a = train_without_metrics(&d, &zero).expect("trains");
        let b = train_without_metrics(&d, &unlisted).expect("trains");
        assert_eq!(a.corpus.qualifying_count(), USERS * 12);
        assert_eq!(clicks_and_purchases(&a), clicks_and_purchases(&b));
        let (_, p) = clicks_and_purchases(&a);
        assert_eq!(p, 0, "no purchase item is learnt from");
        // A per-type threshold drops the purchases below it (one per user), not other types.
        let mut c = config(&[("view", 1.0), ("click", 1.0), ("purchase", 1.0)], "ease");
        c.event_parameters[2].event_value_threshold = Some(0.5);
        let m = train_without_metrics(&d, &c).expect("trains");
        assert_eq!(m.corpus.qualifying_count(), USERS * 17);
        // GetSolutionMetrics adds NDCG with the event weights as gains.
        let m = train(&d, &config(&[("view", 1.0), ("click", 0.5)], "ease")).expect("trains");
        let weighted =
            m.metrics()["normalized_discounted_cumulative_gain_with_event_weights_at_10"];
        assert!(weighted > 0.0 && weighted.is_finite(), "{weighted}");
        // Without any events config every event counts, with weight 1.
        let m = train(&d, &config(&[], "ease")).expect("trains");
        assert_eq!(m.corpus.qualifying_count(), USERS * 18);
        assert!(m.corpus.sequence_weights(&m.rule).is_none());
        assert!(!m.metrics().keys().any(|k| k.contains("event_weights")));
    }
}

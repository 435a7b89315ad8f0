//! personalize-engine: the recommender behind personalize-local. Recipes (user-personalization,
//! personalized-ranking, popularity-count, trending-now, similar-items, SIMS, the
//! USER_SEGMENTATION item-affinity and item-attribute-affinity (see [`Model::segment`]), and
//! next-best-action with its own model: [`train_actions`], [`ActionModel`]), the filter
//! expression language, and offline metrics. Pure and synchronous: no I/O, no async, no network;
//! deterministic for a seed. Depends on numeric crates only (faer, rayon).
//!
//! Surface (agreed with crates/local, see docs/dev/engine-contract.md): build a [`Dataset`],
//! [`train`] it with a [`TrainConfig`] into a [`Model`] (serde-serialisable, `Send + Sync`), then
//! answer [`Model::recommend`] / [`Model::rank`] against a [`Catalog`], optionally through a
//! [`Filter`] from [`parse_filter`].
//!
//! Items of the catalog without training interactions (cold items) are served from their
//! metadata (categorical values, text words, creation time): represented as a mix of the known
//! items sharing it, they count in a user's live
//! session, are scored for users and are explored as new items (see docs/dev/engine-contract.md).
//!
//! Hyperparameters read from `TrainConfig::hyper_parameters` (Personalize's names where they
//! exist, the engine's own otherwise; anything else is ignored):
//!
//! | key | recipes | default |
//! |---|---|---|
//! | `algorithm` (`auto`, `ease`, `ials`) | user-personalization, personalized-ranking | `auto` (by memory budget) |
//! | `memory_budget_mb` | same | 4096 |
//! | `ease_lambda` | same, EASE | 200 scaled by mean item popularity / 59 |
//! | `hidden_dimension` or `factors`, `regularization`, `alpha`, `iterations`, `cg_steps`, `training_recency_decay` | same, iALS | 64, 5, 8, 15, 3, 0.95 |
//! | `recency_decay` (0..1], `recency_mask`, `apply_recency_bias` | same | 0.9, true, true |
//! | `exclude_interacted_items` | user-based recipes | true |
//! | `trend_discovery_frequency` ("30 mins", "1 hour", "1 day", ...) | trending-now | 1 day |
//! | `popularity_discount_factor` [0, 1], `min_cointeraction_count` | sims, similar-items | 0.5; 3 (sims), 1 (similar-items) |
//! | `max_neighbors`, `max_user_history_length` | sims, similar-items | 250, 200 |
//! | `metadata_weight_shrinkage` | similar-items | 10 |
//! | `action_optimization_period` (7..=28 days; the only one accepted) | next-best-action | 14 |
//!
//! With `perform_hpo`, the values not given are searched on a validation split (see `train`).
//! `TrainConfig::event_parameters` (`eventsConfig`) selects the event types trained on and
//! weights them (see [`EventParameter`]).
//! [`Model::hyper_parameters`] returns the values used.

mod catalog;
mod cold;
mod corpus;
mod data;
mod filter;
pub mod metrics;
mod model;
mod next_best_action;
mod params;
mod recipe;
mod recipes;
mod rng;
mod segment;
mod topk;
mod train;

pub use catalog::Catalog;
pub use data::{Dataset, FieldValue, Interaction, Record};
pub use filter::{BoundFilter, Filter, FilterError, FilterValueError, parse_filter};
pub use model::{Exploration, Model, RankRequest, RecommendError, RecommendRequest, Scored};
pub use next_best_action::{
    ActionDataset, ActionEvent, ActionModel, ActionRecommendError, ActionRequest, ActionTrainError,
    NEXT_BEST_ACTION_ARN, ScoredAction, optimization_period, train_actions,
};
pub use recipe::Recipe;
pub use segment::{
    ItemAttributes, ItemAttributesError, ScoredUser, SegmentError, SegmentOf, parse_item_attributes,
};
pub use train::{
    EventParameter, MIN_INTERACTIONS, MIN_USERS_WITH_TWO, TrainConfig, TrainError, UpdateError,
    train, train_without_metrics, update,
};

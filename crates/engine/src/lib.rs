//! personalize-engine: the recommender behind personalize-local. Recipes (user-personalization,
//! personalized-ranking, popularity-count, trending-now, similar-items, SIMS), the filter
//! expression language, and offline metrics. Pure and synchronous: no I/O, no async, no network;
//! deterministic for a seed. Depends on numeric crates only (faer, rayon).
//!
//! Surface (agreed with crates/local, see docs/dev/engine-contract.md): build a [`Dataset`],
//! [`train`] it with a [`TrainConfig`] into a [`Model`] (serde-serialisable, `Send + Sync`), then
//! answer [`Model::recommend`] / [`Model::rank`] against a [`Catalog`], optionally through a
//! [`Filter`] from [`parse_filter`].

mod catalog;
mod corpus;
mod data;
mod filter;
pub mod metrics;
mod model;
mod params;
mod recipe;
mod recipes;
mod rng;
mod topk;
mod train;

pub use catalog::Catalog;
pub use data::{Dataset, FieldValue, Interaction, Record};
pub use filter::{BoundFilter, Filter, FilterError, FilterValueError, parse_filter};
pub use model::{Exploration, Model, RecommendError, RecommendRequest, Scored};
pub use recipe::Recipe;
pub use train::{
    MIN_INTERACTIONS, MIN_USERS_WITH_TWO, TrainConfig, TrainError, train, train_without_metrics,
};

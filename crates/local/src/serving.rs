//! The engine facade for serving: caches of loaded models, catalogs and parsed filters, and the
//! calls to `Model::recommend` / `Model::rank` / `parse_filter`. Everything engine-facing for
//! requests lives here.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use personalize_engine as engine;

use crate::data::InteractionRow;
use crate::error::ApiError;
use crate::store::Store;
use crate::training::{interaction, records_of};

/// Parsed-once engine objects shared by requests.
#[derive(Default)]
pub struct Cache {
    models: Mutex<HashMap<String, Arc<engine::Model>>>,
    catalogs: Mutex<HashMap<String, (u64, Arc<engine::Catalog>)>>,
    filters: Mutex<HashMap<String, Arc<engine::Filter>>>,
}

/// One scored item.
pub struct Scored {
    pub item_id: String,
    pub score: f64,
}

/// Checks a filter expression; the error names the position.
pub fn check_filter(expression: &str) -> Result<(), String> {
    engine::parse_filter(expression)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// What a recommendation needs, gathered under the store lock.
pub struct Inputs {
    pub model: Arc<engine::Model>,
    pub catalog: Arc<engine::Catalog>,
    pub live: Vec<InteractionRow>,
    pub filter: Option<Arc<engine::Filter>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cache {
    /// Remembers a freshly trained model.
    pub fn insert_model(&self, arn: &str, model: Arc<engine::Model>) {
        lock(&self.models).insert(arn.to_string(), model);
    }

    /// Whether the model of `arn` is loaded.
    pub fn has_model(&self, arn: &str) -> bool {
        lock(&self.models).contains_key(arn)
    }

    /// Loads model `file` of solution version `arn` from `<data-dir>/models/` into the cache.
    /// Call without the store lock held: a large model takes a while to deserialize.
    pub fn load_model(
        &self,
        data_dir: Option<&Path>,
        arn: &str,
        file: &str,
    ) -> Result<Arc<engine::Model>, ApiError> {
        let dir = data_dir.ok_or_else(|| ApiError::Internal("no data directory".into()))?;
        let bytes = std::fs::read(dir.join("models").join(file))
            .map_err(|e| ApiError::Internal(format!("reading model {file}: {e}")))?;
        let model: engine::Model = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::Internal(format!("loading model {file}: {e}")))?;
        let model = Arc::new(model);
        lock(&self.models).insert(arn.to_string(), Arc::clone(&model));
        Ok(model)
    }

    /// The model of solution version `arn`, loading it from `<data-dir>/models/` if needed.
    pub fn model(
        &self,
        store: &Store,
        data_dir: Option<&Path>,
        arn: &str,
    ) -> Result<Arc<engine::Model>, ApiError> {
        if let Some(model) = lock(&self.models).get(arn) {
            return Ok(Arc::clone(model));
        }
        let file = store
            .trained
            .get(arn)
            .and_then(|m| m.model_file.clone())
            .ok_or_else(|| ApiError::Internal(format!("no trained model for {arn}")))?;
        self.load_model(data_dir, arn, &file)
    }

    /// The catalog of dataset group `dg`, rebuilt when its items or users changed.
    pub fn catalog(&self, store: &Store, dg: &str) -> Arc<engine::Catalog> {
        let version = store.catalog_version.get(dg).copied().unwrap_or(0);
        if let Some((v, catalog)) = lock(&self.catalogs).get(dg)
            && *v == version
        {
            return Arc::clone(catalog);
        }
        let (items, users) = records_of(store, dg);
        let catalog = Arc::new(engine::Catalog::new(items, users));
        lock(&self.catalogs).insert(dg.to_string(), (version, Arc::clone(&catalog)));
        catalog
    }

    /// The parsed filter `arn` with `expression`.
    pub fn filter(&self, arn: &str, expression: &str) -> Result<Arc<engine::Filter>, ApiError> {
        if let Some(filter) = lock(&self.filters).get(arn) {
            return Ok(Arc::clone(filter));
        }
        let filter = Arc::new(
            engine::parse_filter(expression)
                .map_err(|e| ApiError::InvalidInput(format!("filter {arn}: {e}")))?,
        );
        lock(&self.filters).insert(arn.to_string(), Arc::clone(&filter));
        Ok(filter)
    }

    /// Forgets everything cached about a deleted resource.
    pub fn forget(&self, arn: &str) {
        lock(&self.models).remove(arn);
        lock(&self.filters).remove(arn);
        lock(&self.catalogs).remove(arn);
    }
}

/// Exploration settings from a campaign's `itemExplorationConfig`.
pub fn exploration(config: Option<&BTreeMap<String, String>>) -> engine::Exploration {
    let mut e = engine::Exploration::default();
    if let Some(config) = config {
        if let Some(w) = config
            .get("explorationWeight")
            .and_then(|w| w.trim().parse::<f64>().ok())
        {
            e.weight = w.clamp(0.0, 1.0);
        }
        if let Some(d) = config
            .get("explorationItemAgeCutOff")
            .and_then(|d| d.trim().parse::<f64>().ok())
        {
            e.item_age_cut_off_days = d.max(0.0);
        }
    }
    e
}

/// GetRecommendations through the engine.
pub fn recommend(
    inputs: &Inputs,
    user_id: Option<&str>,
    item_id: Option<&str>,
    num_results: usize,
    filter_values: &BTreeMap<String, String>,
    exploration: engine::Exploration,
) -> Result<Vec<Scored>, ApiError> {
    let live: Vec<engine::Interaction> = inputs.live.iter().map(interaction).collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let request = engine::RecommendRequest {
        user_id,
        item_id,
        live: &live,
        num_results,
        filter: inputs.filter.as_deref().map(|f| (f, filter_values)),
        catalog: &inputs.catalog,
        exploration,
        now,
    };
    inputs
        .model
        .recommend(&request)
        .map(|list| {
            list.into_iter()
                .map(|s| Scored {
                    item_id: s.item_id,
                    score: s.score,
                })
                .collect()
        })
        .map_err(|e| ApiError::InvalidInput(e.to_string()))
}

/// GetPersonalizedRanking through the engine.
pub fn rank(inputs: &Inputs, user_id: &str, items: &[String]) -> Vec<Scored> {
    let live: Vec<engine::Interaction> = inputs.live.iter().map(interaction).collect();
    inputs
        .model
        .rank(user_id, &live, items)
        .into_iter()
        .map(|s| Scored {
            item_id: s.item_id,
            score: s.score,
        })
        .collect()
}

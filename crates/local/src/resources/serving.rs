//! The engine facade for serving: caches of loaded models, catalogs and parsed filters, and the
//! calls to `Model::recommend` / `Model::rank` / `parse_filter`. Everything engine-facing for
//! requests lives here.
//! Depends on the store, the wire layer and the engine; never on the router.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use personalize_engine as engine;

use crate::resources::training::records_of;
use crate::store::Store;
use crate::store::data::EventView;
use crate::wire::error::ApiError;

/// A loaded model, shared by the requests that use it.
pub type ModelRef = Arc<engine::Model>;

/// Parsed-once engine objects shared by requests (read-mostly: requests take read locks).
#[derive(Default)]
pub struct Cache {
    models: RwLock<HashMap<String, ModelRef>>,
    catalogs: RwLock<HashMap<String, (u64, Arc<engine::Catalog>)>>,
    filters: RwLock<HashMap<String, Arc<engine::Filter>>>,
    /// Next-Best-Action models by solution version ARN.
    action_models: RwLock<HashMap<String, Arc<engine::ActionModel>>>,
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
    pub live: Vec<engine::Interaction>,
    pub filter: Option<Arc<engine::Filter>>,
}

fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

/// A user's live events as the engine takes them.
pub fn live_interactions<'a>(
    events: impl Iterator<Item = EventView<'a>>,
) -> Vec<engine::Interaction> {
    events
        .map(|e| engine::Interaction {
            user_id: e.user_id.to_string(),
            item_id: e.item_id.to_string(),
            timestamp: e.timestamp,
            event_type: e.event_type.unwrap_or_default().to_string(),
            event_value: e.event_value,
        })
        .collect()
}

impl Cache {
    /// Remembers a freshly trained Next-Best-Action model.
    pub fn insert_action_model(&self, arn: &str, model: Arc<engine::ActionModel>) {
        write(&self.action_models).insert(arn.to_string(), model);
    }

    /// The Next-Best-Action model of solution version `arn`: cached, else read from `file`
    /// under `<data-dir>/models/` (call without the store lock held).
    pub fn action_model(
        &self,
        data_dir: Option<&Path>,
        arn: &str,
        file: Option<&str>,
    ) -> Result<Arc<engine::ActionModel>, ApiError> {
        if let Some(model) = read(&self.action_models).get(arn) {
            return Ok(Arc::clone(model));
        }
        let (Some(dir), Some(file)) = (data_dir, file) else {
            return Err(ApiError::Internal(format!("no trained model for {arn}")));
        };
        let model = Arc::new(
            read_bincode::<engine::ActionModel>(&dir.join("models").join(file))
                .map_err(|e| ApiError::Internal(format!("loading model {file}: {e}")))?,
        );
        write(&self.action_models).insert(arn.to_string(), Arc::clone(&model));
        Ok(model)
    }

    /// Remembers a freshly trained model.
    pub fn insert_model(&self, arn: &str, model: Arc<engine::Model>) {
        write(&self.models).insert(arn.to_string(), model);
    }

    /// The model of solution version `arn`, if loaded.
    pub fn cached_model(&self, arn: &str) -> Option<ModelRef> {
        read(&self.models).get(arn).cloned()
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
        let model = read_model(&dir.join("models").join(file))
            .map_err(|e| ApiError::Internal(format!("loading model {file}: {e}")))?;
        let model = Arc::new(model);
        write(&self.models).insert(arn.to_string(), Arc::clone(&model));
        Ok(model)
    }

    /// The catalog of dataset group `dg`, rebuilt when its items or users changed.
    pub fn catalog(&self, store: &Store, dg: &str) -> Arc<engine::Catalog> {
        let version = store.catalog_version.get(dg).copied().unwrap_or(0);
        if let Some((v, catalog)) = read(&self.catalogs).get(dg)
            && *v == version
        {
            return Arc::clone(catalog);
        }
        let (items, users) = records_of(store, dg);
        let catalog = Arc::new(engine::Catalog::new(items, users));
        write(&self.catalogs).insert(dg.to_string(), (version, Arc::clone(&catalog)));
        catalog
    }

    /// The parsed filter `arn` with `expression`.
    pub fn filter(&self, arn: &str, expression: &str) -> Result<Arc<engine::Filter>, ApiError> {
        if let Some(filter) = read(&self.filters).get(arn) {
            return Ok(Arc::clone(filter));
        }
        let filter = Arc::new(
            engine::parse_filter(expression)
                .map_err(|e| ApiError::InvalidInput(format!("filter {arn}: {e}")))?,
        );
        write(&self.filters).insert(arn.to_string(), Arc::clone(&filter));
        Ok(filter)
    }

    /// Forgets everything cached about a deleted resource.
    pub fn forget(&self, arn: &str) {
        write(&self.models).remove(arn);
        write(&self.filters).remove(arn);
        write(&self.catalogs).remove(arn);
    }
}

/// The number item `item_id` has in `column` (case-insensitive), if it has one (metric
/// attributions' `SUM(Items.COLUMN)`).
pub fn item_number(catalog: &engine::Catalog, item_id: &str, column: &str) -> Option<f64> {
    let record = catalog.item(item_id)?;
    match record
        .fields
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(column))?
        .1
    {
        engine::FieldValue::Num(n) => Some(*n),
        engine::FieldValue::Str(_) | engine::FieldValue::List(_) => None,
    }
}

/// Writes trained model `model` as `<model_dir>/<file_name>` when there is a model directory
/// (a server without a data directory keeps models in memory only); returns the file name
/// written.
pub fn save_model<T: serde::Serialize>(
    model_dir: Option<PathBuf>,
    file_name: String,
    model: &T,
) -> Result<Option<String>, String> {
    let Some(dir) = model_dir else {
        return Ok(None);
    };
    write_bincode(&dir.join(&file_name), model)
        .map_err(|e| format!("writing the model failed: {e}"))?;
    Ok(Some(file_name))
}

/// Writes a model file durably: bincode (`.bin`), streamed to disk.
pub fn write_bincode<T: serde::Serialize>(path: &Path, model: &T) -> std::io::Result<()> {
    crate::store::write_durably_with(path, |out| {
        bincode::serde::encode_into_std_write(model, out, bincode::config::standard())
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Reads a bincode model file written by [`write_bincode`].
pub fn read_bincode<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<T> {
    let mut input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    bincode::serde::decode_from_std_read(&mut input, bincode::config::standard())
        .map_err(std::io::Error::other)
}

/// Reads a model file: bincode, or JSON for a `.json` file written by earlier versions.
pub fn read_model(path: &Path) -> std::io::Result<engine::Model> {
    if path.extension().is_some_and(|e| e == "json") {
        let input = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        serde_json::from_reader(input).map_err(std::io::Error::other)
    } else {
        read_bincode(path)
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let request = engine::RecommendRequest {
        user_id,
        item_id,
        live: &inputs.live,
        num_results,
        filter: inputs.filter.as_deref().map(|f| (f, filter_values)),
        catalog: &inputs.catalog,
        exploration,
        now,
    };
    scored(inputs.model.recommend(&request))
}

/// GetPersonalizedRanking through the engine (items the filter rejects are left out).
pub fn rank(
    inputs: &Inputs,
    user_id: &str,
    items: &[String],
    filter_values: &BTreeMap<String, String>,
) -> Result<Vec<Scored>, ApiError> {
    let request = engine::RankRequest {
        user_id,
        live: &inputs.live,
        items,
        filter: inputs.filter.as_deref().map(|f| (f, filter_values)),
        catalog: &inputs.catalog,
    };
    scored(inputs.model.rank_filtered(&request))
}

/// The engine's answer as the runtime's scored items; its refusal is `InvalidInputException`.
fn scored(
    result: Result<Vec<engine::Scored>, engine::RecommendError>,
) -> Result<Vec<Scored>, ApiError> {
    result
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

/// A model of `recipe` trained on 60 users with 20 distinct items each out of 80 (1,200
/// interactions), for tests.
#[cfg(test)]
pub(crate) fn test_model(recipe: &str) -> engine::Model {
    let mut interactions = Vec::new();
    for u in 0..60usize {
        for k in 0..20usize {
            let item = (u * 7 + k * (1 + u % 3)) % 80;
            interactions.push(engine::Interaction::new(
                &format!("u{u}"),
                &format!("i{item}"),
                1_700_000_000 + (u * 20 + k) as i64,
                "click",
            ));
        }
    }
    let data = engine::Dataset {
        interactions,
        items: Vec::new(),
        users: Vec::new(),
    };
    let recipe = engine::Recipe::from_arn(recipe).expect("a supported recipe");
    engine::train_without_metrics(&data, &engine::TrainConfig::new(recipe)).expect("trains")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(model: &engine::Model, user: &str) -> Vec<(String, f64)> {
        let catalog = engine::Catalog::default();
        let request = engine::RecommendRequest {
            user_id: Some(user),
            item_id: None,
            live: &[],
            num_results: 10,
            filter: None,
            catalog: &catalog,
            exploration: engine::Exploration::NONE,
            now: 1_800_000_000,
        };
        model
            .recommend(&request)
            .expect("recommends")
            .into_iter()
            .map(|s| (s.item_id, s.score))
            .collect()
    }

    #[test]
    fn models_are_written_as_bincode_and_json_models_still_load() {
        let dir = crate::store::test_dir("models");
        let model = test_model("arn:aws:personalize:::recipe/aws-user-personalization");
        let bin = dir.join("m.bin");
        write_bincode(&bin, &model).expect("writes");
        let json = dir.join("m.json");
        std::fs::write(&json, serde_json::to_vec(&model).expect("serialises")).expect("writes");
        assert!(
            std::fs::metadata(&bin).expect("bin").len() * 2
                < std::fs::metadata(&json).expect("json").len(),
            "bincode is the compact form"
        );
        let expected = top(&model, "u3");
        assert_eq!(expected.len(), 10);
        assert_eq!(
            top(&read_model(&bin).expect("reads bincode"), "u3"),
            expected
        );
        assert_eq!(top(&read_model(&json).expect("reads JSON"), "u3"), expected);
        // A JSON file under a .bin name is refused, not misread.
        std::fs::copy(&json, &bin).expect("copies");
        assert!(read_model(&bin).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}

//! Batch inference jobs: CreateBatchInferenceJob (Describe and List: `resource.rs`) and the job:
//! each input line answered as GetRecommendations / GetPersonalizedRanking would be, written as
//! JSON lines to `<output path><input name>.out` (see `batch.rs`).
//!
//! Input lines by recipe type (AWS's formats): USER_PERSONALIZATION and POPULAR_ITEMS
//! `{"userId": "..."}`, RELATED_ITEMS `{"itemId": "..."}`, PERSONALIZED_RANKING
//! `{"userId": "...", "itemList": ["...", ...]}`, each with `filterValues` when the job has a
//! filter. Output: one line per non-blank input line, in order,
//! `{"input": {...}, "output": {"recommendedItems": [...], "scores": [...]}, "error": null}`; a
//! line that cannot be answered (not JSON, a missing or foreign member, bad filter values) gets
//! `{"input": ..., "output": null, "error": "<reason>"}` and the job still finishes ACTIVE.
//! Users' live events (PutEvents after training) count for USER_PERSONALIZATION and
//! PERSONALIZED_RANKING recipes, as AWS documents ("How new data influences batch
//! recommendations"); other recipes answer from what the version trained on. Personalized
//! ranking returns the whole list ranked unless `numResults` is given, which then caps it.
//! Depends on the store, the wire layer, the engine and `batch.rs`; never on the router.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use personalize_engine as engine;
use serde_json::{Map, Value};

use crate::resources::AppState;
use crate::resources::batch::{self, error_line};
use crate::resources::campaign::{check_exploration, refuse_ranking_influence};
use crate::resources::job::{self, Job};
use crate::resources::lifecycle::{ACTIVE, CREATE_PENDING};
use crate::resources::resource::{Created, get, reserve};
use crate::resources::serving;
use crate::resources::shapes::CreateBatchInferenceJob;
use crate::store::Entry;
use crate::store::model::{BatchInferenceJob, Filter};
use crate::wire::error::ApiError;
use crate::wire::names::check_arn;

/// numResults when not given, and its maximum.
pub const DEFAULT_NUM_RESULTS: i64 = 25;
pub const MAX_NUM_RESULTS: i64 = 500;
/// Most items of a PERSONALIZED_RANKING line's `itemList` (GetPersonalizedRanking's limit).
const MAX_ITEM_LIST: usize = 500;
/// Most `filterValues` entries (GetRecommendations' limit).
const MAX_FILTER_VALUES: usize = 25;

/// What a job's input lines name, by the recipe type of its solution version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// USER_PERSONALIZATION, POPULAR_ITEMS: `userId`.
    User,
    /// RELATED_ITEMS: `itemId`.
    Item,
    /// PERSONALIZED_RANKING: `userId` and `itemList`.
    Ranking,
}

impl LineKind {
    /// The kind of lines recipe `recipe` answers; `None` for recipes AWS gives no batch
    /// recommendations for (Trending-Now) and USER_SEGMENTATION ones (batch segment jobs).
    pub fn of(recipe: engine::Recipe) -> Option<LineKind> {
        use engine::Recipe::*;
        match recipe {
            UserPersonalization | PopularityCount => Some(LineKind::User),
            SimilarItems | Sims => Some(LineKind::Item),
            PersonalizedRanking => Some(LineKind::Ranking),
            TrendingNow | ItemAffinity | ItemAttributeAffinity => None,
        }
    }

    fn members(self) -> &'static [&'static str] {
        match self {
            LineKind::User => &["userId", "filterValues"],
            LineKind::Item => &["itemId", "filterValues"],
            LineKind::Ranking => &["userId", "itemList", "filterValues"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            LineKind::User => "USER_PERSONALIZATION",
            LineKind::Item => "RELATED_ITEMS",
            LineKind::Ranking => "PERSONALIZED_RANKING",
        }
    }
}

/// One input line, checked.
#[derive(Debug, PartialEq)]
pub struct Query {
    pub user_id: Option<String>,
    pub item_id: Option<String>,
    pub item_list: Option<Vec<String>>,
    pub filter_values: BTreeMap<String, String>,
}

/// A string member of 1..=256 characters.
fn id_member(line: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match line.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 256 => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} must be a string of 1 to 256 characters")),
    }
}

/// Checks one parsed input line against the job's recipe type and filter.
pub fn parse_query(line: &Value, kind: LineKind, has_filter: bool) -> Result<Query, String> {
    let Value::Object(line) = line else {
        return Err("the input line is not a JSON object".into());
    };
    if let Some(foreign) = line.keys().find(|k| !kind.members().contains(&k.as_str())) {
        return Err(format!(
            "{foreign} is not an input of {} recipes (they take {})",
            kind.name(),
            kind.members().join(", ")
        ));
    }
    let user_id = id_member(line, "userId")?;
    let item_id = id_member(line, "itemId")?;
    let required = match kind {
        LineKind::User | LineKind::Ranking => ("userId", user_id.is_some()),
        LineKind::Item => ("itemId", item_id.is_some()),
    };
    if !required.1 {
        return Err(format!("{} is required", required.0));
    }
    let item_list = match (kind, line.get("itemList")) {
        (LineKind::Ranking, Some(Value::Array(items))) => {
            let ids: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect();
            match ids {
                Some(ids) if !ids.is_empty() && ids.len() <= MAX_ITEM_LIST => Some(ids),
                _ => {
                    return Err(format!(
                        "itemList must be a list of 1 to {MAX_ITEM_LIST} item ids"
                    ));
                }
            }
        }
        (LineKind::Ranking, _) => {
            return Err(format!(
                "itemList (a list of 1 to {MAX_ITEM_LIST} item ids) is required"
            ));
        }
        _ => None,
    };
    let filter_values = match line.get("filterValues") {
        None => BTreeMap::new(),
        Some(_) if !has_filter => {
            return Err("filterValues given, but the job has no filterArn".into());
        }
        Some(Value::Object(values)) if values.len() <= MAX_FILTER_VALUES => values
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("filterValues.{k} must be a string")),
            })
            .collect::<Result<_, String>>()?,
        Some(_) => {
            return Err(format!(
                "filterValues must be an object of at most {MAX_FILTER_VALUES} string values"
            ));
        }
    };
    Ok(Query {
        user_id,
        item_id,
        item_list,
        filter_values,
    })
}

/// The output line of an answered input line: the input as given (it is a JSON object),
/// the items and their scores. Written directly (no JSON tree): this is the job's hot path.
fn success_line(input: &str, list: &[engine::Scored]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(input.len() + 64 + list.len() * 32);
    out.push_str("{\"input\":");
    out.push_str(input.trim());
    out.push_str(",\"output\":{\"recommendedItems\":[");
    for (k, s) in list.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        // A string always serializes.
        out.push_str(&serde_json::to_string(&s.item_id).unwrap_or_default());
    }
    out.push_str("],\"scores\":[");
    for (k, s) in list.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}", if s.score.is_finite() { s.score } else { 0.0 });
    }
    out.push_str("]},\"error\":null}");
    out
}

/// What answering a job's lines takes (engine objects, the job's settings, users' live events).
pub struct Answerer<'a> {
    pub model: &'a engine::Model,
    pub catalog: &'a engine::Catalog,
    pub filter: Option<&'a engine::Filter>,
    pub kind: LineKind,
    pub num_results: usize,
    /// numResults was given (it caps PERSONALIZED_RANKING lists).
    pub num_results_given: bool,
    pub exploration: engine::Exploration,
    /// Epoch seconds (exploration's item age).
    pub now: i64,
    /// Live events by user, for the users of the input.
    pub live: &'a HashMap<String, Vec<engine::Interaction>>,
}

impl Answerer<'_> {
    /// The output line for one input line.
    pub fn answer(&self, line: &str) -> String {
        let input: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return error_line(
                    Value::String(line.to_string()),
                    &format!("the input line is not JSON: {e}"),
                );
            }
        };
        let scored =
            parse_query(&input, self.kind, self.filter.is_some()).and_then(|q| self.recommend(&q));
        match scored {
            Ok(list) => success_line(line, &list),
            Err(reason) => error_line(input, &reason),
        }
    }

    fn recommend(&self, q: &Query) -> Result<Vec<engine::Scored>, String> {
        let no_live = Vec::new();
        let live = q
            .user_id
            .as_ref()
            .and_then(|u| self.live.get(u))
            .unwrap_or(&no_live);
        let filter = self.filter.map(|f| (f, &q.filter_values));
        let result = match (&q.item_list, &q.user_id) {
            (Some(items), Some(user_id)) => {
                let request = engine::RankRequest {
                    user_id,
                    live,
                    items,
                    filter,
                    catalog: self.catalog,
                };
                self.model.rank_filtered(&request).map(|mut ranked| {
                    if self.num_results_given {
                        ranked.truncate(self.num_results);
                    }
                    ranked
                })
            }
            _ => self.model.recommend(&engine::RecommendRequest {
                user_id: q.user_id.as_deref(),
                item_id: q.item_id.as_deref(),
                live,
                num_results: self.num_results,
                filter,
                catalog: self.catalog,
                exploration: self.exploration,
                now: self.now,
            }),
        };
        result.map_err(|e| e.to_string())
    }
}

pub fn create(
    state: &AppState,
    req: CreateBatchInferenceJob,
) -> Result<Created<BatchInferenceJob>, ApiError> {
    let num_results = batch::check_request(
        &req.job_name,
        req.tags.as_deref(),
        &req.job_input,
        &req.job_output,
        (req.num_results, DEFAULT_NUM_RESULTS, MAX_NUM_RESULTS),
    )?;
    let mode = req
        .batch_inference_job_mode
        .clone()
        .unwrap_or_else(|| "BATCH_INFERENCE".into());
    if mode == "THEME_GENERATION" || req.theme_generation_config.is_some() {
        return Err(ApiError::InvalidInput(
            "batchInferenceJobMode THEME_GENERATION (and themeGenerationConfig) is not supported \
             by personalize-local: themes are written by a generative model (Content \
             Generator), which it does not have; use BATCH_INFERENCE"
                .into(),
        ));
    }
    let config = req.batch_inference_job_config.as_ref();
    refuse_ranking_influence(
        config.and_then(|c| c.ranking_influence.as_ref()),
        "batch inference jobs",
    )?;
    let exploration = config.and_then(|c| c.item_exploration_config.as_ref());
    if let Some(exploration) = exploration {
        check_exploration(exploration)?;
    }
    if let Some(filter) = &req.filter_arn {
        check_arn("filterArn", filter)?;
    }
    let (arn, mut store) =
        reserve::<BatchInferenceJob>(state, "batch-inference-job", &req.job_name)?;
    let (version, recipe) = batch::active_version(&store, &req.solution_version_arn)?;
    if LineKind::of(recipe).is_none() {
        return Err(ApiError::InvalidInput(format!(
            "Solution version {} uses {}, which gives no batch recommendations{}",
            req.solution_version_arn,
            recipe.arn(),
            if recipe.is_user_segmentation() {
                ": it is a USER_SEGMENTATION recipe, use CreateBatchSegmentJob"
            } else {
                " (AWS has none for Trending-Now)"
            }
        )));
    }
    if exploration.is_some() && recipe != engine::Recipe::UserPersonalization {
        return Err(ApiError::InvalidInput(format!(
            "batchInferenceJobConfig.itemExplorationConfig applies to User-Personalization \
             solutions only; solution version {} uses {}",
            req.solution_version_arn,
            recipe.arn()
        )));
    }
    if let Some(filter_arn) = &req.filter_arn {
        let filter = get::<Filter>(&store, filter_arn)?;
        if filter.dataset_group_arn != version.dataset_group_arn {
            return Err(ApiError::InvalidInput(format!(
                "filterArn: filter {filter_arn} belongs to dataset group {}, not to the solution \
                 version's {}",
                filter.dataset_group_arn, version.dataset_group_arn
            )));
        }
        if filter.status != ACTIVE {
            return Err(ApiError::InUse(format!(
                "Filter {filter_arn} is in status {}, not ACTIVE",
                filter.status
            )));
        }
    }
    let now = store.now();
    let record = Entry::BatchInferenceJob(BatchInferenceJob {
        job_name: req.job_name,
        batch_inference_job_arn: arn.clone(),
        filter_arn: req.filter_arn,
        failure_reason: None,
        solution_version_arn: req.solution_version_arn,
        num_results: req.num_results.map(|_| num_results),
        job_input: req.job_input,
        job_output: req.job_output,
        batch_inference_job_config: req.batch_inference_job_config,
        role_arn: req.role_arn,
        batch_inference_job_mode: Some(mode),
        theme_generation_config: None,
        status: CREATE_PENDING.into(),
        creation_date_time: now,
        last_updated_date_time: now,
    });
    Ok(job::launch::<BatchInferenceJob>(
        state, store, arn, record, req.tags,
    ))
}

/// How batch inference jobs run (the driver is [`job`]'s).
impl Job for BatchInferenceJob {
    type Output = ();
    const NAME: &'static str = "batch inference job";

    /// Answers every input record and writes the output objects.
    async fn run(state: &AppState, arn: &str) -> Result<(), String> {
        let settings = settings(state, arn)?;
        let model = batch::model_of(state, &settings.job.solution_version_arn).await?;
        let inputs = batch::read_input(state, &settings.job.job_input.s3_data_source.path).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let exploration = serving::exploration(
            settings
                .job
                .batch_inference_job_config
                .as_ref()
                .and_then(|c| c.item_exploration_config.as_ref()),
        );
        let destination = settings.job.job_output.s3_data_destination.clone();
        let state_for_live = Arc::clone(state);
        let outputs = tokio::task::spawn_blocking(move || {
            let live = live_events(&state_for_live, &settings, &inputs);
            let answerer = Answerer {
                model: &model,
                catalog: &settings.catalog,
                filter: settings.filter.as_deref(),
                kind: settings.kind,
                num_results: settings.job.num_results.unwrap_or(DEFAULT_NUM_RESULTS) as usize,
                num_results_given: settings.job.num_results.is_some(),
                exploration,
                now,
                live: &live,
            };
            batch::answer_inputs(&inputs, |line| answerer.answer(line))
        })
        .await
        .map_err(|e| format!("batch inference worker failed: {e}"))?;
        batch::write_outputs(state, (arn, "batch inference"), &destination, outputs).await
    }
}

/// The job's settings, copied out of the store.
struct Settings {
    job: BatchInferenceJob,
    kind: LineKind,
    /// Whether users' live events count (AWS: USER_PERSONALIZATION and PERSONALIZED_RANKING
    /// recipes consider new interactions; the others only what the version trained on).
    live_counts: bool,
    dg: String,
    trained_seq: u64,
    catalog: Arc<engine::Catalog>,
    filter: Option<Arc<engine::Filter>>,
}

fn settings(state: &AppState, arn: &str) -> Result<Settings, String> {
    let store = state.lock();
    let job = store
        .batch_inference_jobs
        .get(arn)
        .cloned()
        .ok_or("batch inference job vanished")?;
    let version = store
        .solution_versions
        .get(&job.solution_version_arn)
        .ok_or_else(|| format!("solution version {} was deleted", job.solution_version_arn))?;
    let recipe_arn = version.recipe_arn.clone().unwrap_or_default();
    let recipe = engine::Recipe::from_arn(&recipe_arn);
    let kind = recipe
        .and_then(LineKind::of)
        .ok_or_else(|| format!("recipe {recipe_arn} gives no batch recommendations"))?;
    let live_counts = matches!(
        recipe,
        Some(engine::Recipe::UserPersonalization | engine::Recipe::PersonalizedRanking)
    );
    let filter = match &job.filter_arn {
        None => None,
        Some(filter_arn) => {
            let f = store
                .filters
                .get(filter_arn)
                .ok_or_else(|| format!("filter {filter_arn} was deleted"))?;
            Some(
                state
                    .serving
                    .filter(filter_arn, &f.filter_expression)
                    .map_err(|e| e.to_string())?,
            )
        }
    };
    let dg = version.dataset_group_arn.clone();
    Ok(Settings {
        trained_seq: store
            .trained
            .get(&job.solution_version_arn)
            .map_or(0, |m| m.trained_seq),
        catalog: state.serving.catalog(&store, &dg),
        dg,
        kind,
        live_counts,
        filter,
        job,
    })
}

/// The live events (after training) of the users named in `inputs` (the input is read for
/// user ids only when there are such events).
fn live_events(
    state: &AppState,
    settings: &Settings,
    inputs: &[(String, Vec<u8>)],
) -> HashMap<String, Vec<engine::Interaction>> {
    let newer = |store: &crate::store::Store| {
        store
            .live
            .get(&settings.dg)
            .is_some_and(|l| l.seq > settings.trained_seq)
    };
    if !settings.live_counts || !newer(&state.lock()) {
        return HashMap::new();
    }
    let mut users: Vec<String> = Vec::new();
    for (_, bytes) in inputs {
        for line in batch::records(bytes) {
            if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(line)
                && let Some(Value::String(u)) = o.get("userId")
            {
                users.push(u.clone());
            }
        }
    }
    let store = state.lock();
    let Some(live) = store.live.get(&settings.dg) else {
        return HashMap::new();
    };
    users
        .into_iter()
        .filter_map(|u| {
            let events = serving::live_interactions(live.newer_than(&u, settings.trained_seq));
            (!events.is_empty()).then_some((u, events))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::serving::test_model;

    fn parse(line: &str, kind: LineKind, has_filter: bool) -> Result<Query, String> {
        parse_query(&serde_json::from_str(line).expect("JSON"), kind, has_filter)
    }

    #[test]
    fn lines_are_checked_against_the_recipe_type() {
        let q = parse(r#"{"userId":"u1"}"#, LineKind::User, false).expect("user line");
        assert_eq!(q.user_id.as_deref(), Some("u1"));
        let q = parse(r#"{"itemId":"i1"}"#, LineKind::Item, false).expect("item line");
        assert_eq!(q.item_id.as_deref(), Some("i1"));
        let q = parse(
            r#"{"userId":"u1","itemList":["a","b"]}"#,
            LineKind::Ranking,
            false,
        )
        .expect("ranking line");
        assert_eq!(q.item_list, Some(vec!["a".to_string(), "b".to_string()]));
        let err = parse(r#"{"itemId":"i1"}"#, LineKind::User, false).expect_err("foreign");
        assert!(
            err.contains("itemId is not an input of USER_PERSONALIZATION"),
            "{err}"
        );
        let err = parse(r#"{}"#, LineKind::Item, false).expect_err("missing");
        assert_eq!(err, "itemId is required");
        let err = parse(r#"{"userId":"u1"}"#, LineKind::Ranking, false).expect_err("no list");
        assert!(err.contains("itemList"), "{err}");
        let err =
            parse(r#"{"userId":"u1","itemList":[]}"#, LineKind::Ranking, false).expect_err("empty");
        assert!(err.contains("1 to 500"), "{err}");
        let err = parse(r#"{"userId":5}"#, LineKind::User, false).expect_err("number");
        assert!(err.contains("userId must be a string"), "{err}");
        let err = parse(r#"[1]"#, LineKind::User, false).expect_err("array");
        assert!(err.contains("not a JSON object"), "{err}");
    }

    #[test]
    fn filter_values_need_a_filter_and_string_values() {
        let line = r#"{"userId":"u1","filterValues":{"GENRE":"\"Action\""}}"#;
        let q = parse(line, LineKind::User, true).expect("with a filter");
        assert_eq!(q.filter_values["GENRE"], "\"Action\"");
        let err = parse(line, LineKind::User, false).expect_err("without a filter");
        assert!(err.contains("no filterArn"), "{err}");
        let err = parse(
            r#"{"userId":"u1","filterValues":{"N":3}}"#,
            LineKind::User,
            true,
        )
        .expect_err("number");
        assert!(err.contains("filterValues.N"), "{err}");
    }

    #[test]
    fn recipes_map_to_line_kinds() {
        use engine::Recipe::*;
        assert_eq!(LineKind::of(UserPersonalization), Some(LineKind::User));
        assert_eq!(LineKind::of(PopularityCount), Some(LineKind::User));
        assert_eq!(LineKind::of(Sims), Some(LineKind::Item));
        assert_eq!(LineKind::of(PersonalizedRanking), Some(LineKind::Ranking));
        assert_eq!(LineKind::of(TrendingNow), None);
        assert_eq!(LineKind::of(ItemAffinity), None);
    }

    #[test]
    fn lines_are_answered_like_requests_and_bad_ones_get_an_error() {
        let model = test_model("aws-user-personalization");
        let catalog = engine::Catalog::default();
        let live = HashMap::new();
        let answerer = Answerer {
            model: &model,
            catalog: &catalog,
            filter: None,
            kind: LineKind::User,
            num_results: 7,
            num_results_given: true,
            exploration: engine::Exploration::NONE,
            now: 1_800_000_000,
            live: &live,
        };
        let out: Value =
            serde_json::from_str(&answerer.answer(r#"{"userId":"u3"}"#)).expect("JSON");
        assert_eq!(out["input"]["userId"], "u3");
        assert_eq!(out["error"], Value::Null);
        let items = out["output"]["recommendedItems"].as_array().expect("items");
        let scores = out["output"]["scores"].as_array().expect("scores");
        assert_eq!((items.len(), scores.len()), (7, 7));
        let expected = model
            .recommend(&engine::RecommendRequest {
                user_id: Some("u3"),
                item_id: None,
                live: &[],
                num_results: 7,
                filter: None,
                catalog: &catalog,
                exploration: engine::Exploration::NONE,
                now: 1_800_000_000,
            })
            .expect("recommends");
        let expected: Vec<&str> = expected.iter().map(|s| s.item_id.as_str()).collect();
        let got: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        assert_eq!(got, expected);
        let bad: Value = serde_json::from_str(&answerer.answer("not json")).expect("JSON");
        assert_eq!(bad["input"], "not json");
        assert_eq!(bad["output"], Value::Null);
        assert!(
            bad["error"]
                .as_str()
                .is_some_and(|e| e.contains("not JSON"))
        );
    }
}

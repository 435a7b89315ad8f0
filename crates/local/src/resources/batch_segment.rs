//! Batch segment jobs: CreateBatchSegmentJob (Describe and List: `resource.rs`) and the job:
//! for each input line, the users of the solution version (a USER_SEGMENTATION recipe) most
//! likely to interact with an item or with the items of given attributes, best first (the
//! engine's affinity, see `personalize_engine::segment`), written as JSON lines to
//! `<output path><input name>.out` (see `batch.rs`).
//!
//! Input and output lines, as AWS documents them: aws-item-affinity `{"itemId": "105"}` ->
//! `{"input": {"itemId": "105"}, "output": {"recommendedUsers": ["106", ...]}}`;
//! aws-item-attribute-affinity `{"itemAttributes": "ITEMS.GENRES = \"Action\""}` ->
//! `{"itemAttributes": "...", "output": {"recommendedUsers": [...]}}` (at most 10 queries per
//! job). A line that cannot be answered gets `"output": null, "error": "<reason>"` and the job
//! still finishes ACTIVE. Segments use the data of the solution version's training (AWS: "the
//! data present at the last full solution version training"), not later live events.
//! `filterArn` is refused: segment jobs take user filters (`UserID`), which personalize-local
//! does not support (CreateFilter refuses them).
//! Depends on the store, the wire layer, the engine and `batch.rs`; never on the router.

use std::sync::Arc;

use personalize_engine as engine;
use serde_json::{Map, Value};

use crate::resources::AppState;
use crate::resources::batch::{self, error_line};
use crate::resources::job::{self, Job};
use crate::resources::lifecycle::CREATE_PENDING;
use crate::resources::resource::{Created, reserve};
use crate::resources::shapes::CreateBatchSegmentJob;
use crate::store::Entry;
use crate::store::model::BatchSegmentJob;
use crate::wire::error::ApiError;

/// Users per segment when numResults is not given, and the most (AWS: 5 million).
pub const DEFAULT_NUM_RESULTS: i64 = 25;
pub const MAX_NUM_RESULTS: i64 = 5_000_000;
/// Most queries (input lines) of an aws-item-attribute-affinity job.
pub const MAX_ATTRIBUTE_QUERIES: usize = 10;

/// The output line for one input line of a job on `recipe` (a USER_SEGMENTATION recipe).
pub fn answer(
    model: &engine::Model,
    catalog: &engine::Catalog,
    recipe: engine::Recipe,
    num_results: usize,
    line: &str,
) -> String {
    let input: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return error_line(
                Value::String(line.to_string()),
                &format!("the input line is not JSON: {e}"),
            );
        }
    };
    let attributes = recipe == engine::Recipe::ItemAttributeAffinity;
    let member = if attributes {
        "itemAttributes"
    } else {
        "itemId"
    };
    let users = query(&input, member).and_then(|q| {
        let parsed;
        let of = if attributes {
            parsed = engine::parse_item_attributes(q).map_err(|e| e.to_string())?;
            engine::SegmentOf::Attributes(&parsed)
        } else {
            engine::SegmentOf::Item(q)
        };
        model
            .segment(of, catalog, num_results)
            .map_err(|e| e.to_string())
    });
    match users {
        Ok(users) => {
            let ids: Vec<String> = users.into_iter().map(|u| u.user_id).collect();
            let output = serde_json::json!({"recommendedUsers": ids});
            match (attributes, input) {
                (true, Value::Object(mut line)) => {
                    line.insert("output".into(), output);
                    Value::Object(line).to_string()
                }
                (_, input) => serde_json::json!({"input": input, "output": output}).to_string(),
            }
        }
        Err(reason) => error_line(input, &reason),
    }
}

/// The line's one member `member`, a non-empty string.
fn query<'a>(input: &'a Value, member: &str) -> Result<&'a str, String> {
    let Value::Object(line) = input else {
        return Err("the input line is not a JSON object".into());
    };
    let line: &Map<String, Value> = line;
    if let Some(foreign) = line.keys().find(|k| k.as_str() != member) {
        return Err(format!(
            "{foreign} is not an input of this recipe (it takes {member})"
        ));
    }
    match line.get(member) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("{member} must be a non-empty string")),
        None => Err(format!("{member} is required")),
    }
}

pub fn create(
    state: &AppState,
    req: CreateBatchSegmentJob,
) -> Result<Created<BatchSegmentJob>, ApiError> {
    let num_results = batch::check_request(
        &req.job_name,
        req.tags.as_deref(),
        &req.job_input,
        &req.job_output,
        (req.num_results, DEFAULT_NUM_RESULTS, MAX_NUM_RESULTS),
    )?;
    if let Some(filter) = &req.filter_arn {
        return Err(ApiError::InvalidInput(format!(
            "filterArn {filter}: batch segment jobs filter users (UserID filters), which \
             personalize-local does not support; leave filterArn out"
        )));
    }
    let (arn, mut store) = reserve::<BatchSegmentJob>(state, "batch-segment-job", &req.job_name)?;
    let (_, recipe) = batch::active_version(&store, &req.solution_version_arn)?;
    if !recipe.is_user_segmentation() {
        return Err(ApiError::InvalidInput(format!(
            "Solution version {} uses {}: batch segment jobs need a USER_SEGMENTATION recipe \
             (aws-item-affinity, aws-item-attribute-affinity); use CreateBatchInferenceJob",
            req.solution_version_arn,
            recipe.arn()
        )));
    }
    let now = store.now();
    let record = Entry::BatchSegmentJob(BatchSegmentJob {
        job_name: req.job_name,
        batch_segment_job_arn: arn.clone(),
        filter_arn: None,
        failure_reason: None,
        solution_version_arn: req.solution_version_arn,
        num_results: req.num_results.map(|_| num_results),
        job_input: req.job_input,
        job_output: req.job_output,
        role_arn: req.role_arn,
        status: CREATE_PENDING.into(),
        creation_date_time: now,
        last_updated_date_time: now,
    });
    Ok(job::launch::<BatchSegmentJob>(
        state, store, arn, record, req.tags,
    ))
}

/// How batch segment jobs run (the driver is [`job`]'s).
impl Job for BatchSegmentJob {
    type Output = ();
    const NAME: &'static str = "batch segment job";

    /// Answers every input record and writes the output objects.
    async fn run(state: &AppState, arn: &str) -> Result<(), String> {
        let (job, recipe, catalog) = {
            let store = state.lock();
            let job = store
                .batch_segment_jobs
                .get(arn)
                .cloned()
                .ok_or("batch segment job vanished")?;
            let version = store
                .solution_versions
                .get(&job.solution_version_arn)
                .ok_or_else(|| {
                    format!("solution version {} was deleted", job.solution_version_arn)
                })?;
            let recipe_arn = version.recipe_arn.clone().unwrap_or_default();
            let recipe = engine::Recipe::from_arn(&recipe_arn)
                .filter(engine::Recipe::is_user_segmentation)
                .ok_or_else(|| format!("recipe {recipe_arn} is not a USER_SEGMENTATION recipe"))?;
            let catalog = state.serving.catalog(&store, &version.dataset_group_arn);
            (job, recipe, catalog)
        };
        let model = batch::model_of(state, &job.solution_version_arn).await?;
        let inputs = batch::read_input(state, &job.job_input.s3_data_source.path).await?;
        if recipe == engine::Recipe::ItemAttributeAffinity {
            let queries: usize = inputs.iter().map(|(_, b)| batch::records(b).len()).sum();
            if queries > MAX_ATTRIBUTE_QUERIES {
                return Err(format!(
                    "The input has {queries} queries; aws-item-attribute-affinity takes at most \
                     {MAX_ATTRIBUTE_QUERIES}"
                ));
            }
        }
        let num_results = job.num_results.unwrap_or(DEFAULT_NUM_RESULTS) as usize;
        let catalog = Arc::clone(&catalog);
        let outputs = tokio::task::spawn_blocking(move || {
            batch::answer_inputs(&inputs, |line| {
                answer(&model, &catalog, recipe, num_results, line)
            })
        })
        .await
        .map_err(|e| format!("batch segment worker failed: {e}"))?;
        let destination = &job.job_output.s3_data_destination;
        batch::write_outputs(state, (arn, "batch segment"), destination, outputs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_one_member_of_the_recipe() {
        let v: Value = serde_json::from_str(r#"{"itemId":"i1"}"#).expect("JSON");
        assert_eq!(query(&v, "itemId"), Ok("i1"));
        let v: Value = serde_json::from_str(r#"{"userId":"u1"}"#).expect("JSON");
        assert!(query(&v, "itemId").expect_err("foreign").contains("userId"));
        let v: Value = serde_json::from_str(r#"{}"#).expect("JSON");
        assert_eq!(
            query(&v, "itemAttributes"),
            Err("itemAttributes is required".into())
        );
        let v: Value = serde_json::from_str(r#"{"itemId":""}"#).expect("JSON");
        assert!(query(&v, "itemId").is_err());
    }
}

//! What batch inference and batch segment jobs share: checks of a Create request (solution
//! version, S3 paths, numResults), reading the JSON-lines input from S3 (one object or every
//! object under a prefix), writing each input object's output as `<output path><name>.out`, and
//! the trained model it uses. Their driver is `job.rs`'s (a re-run after a restart overwrites the
//! same output objects).
//!
//! S3 is the configured endpoint (moto in tests) or `<data-dir>/s3/<bucket>/<key>`, as for
//! imports. The output is encrypted with SSE-KMS under `kmsKeyArn` through S3 (the file-backed
//! store has no KMS). Depends on the store, the wire layer, `s3.rs` and the serving cache; never on the
//! router.

use std::sync::Arc;

use crate::resources::AppState;
use crate::resources::lifecycle::{self, ACTIVE};
use crate::resources::objects::{self, parse_location};
use crate::resources::resource::get;
use crate::resources::s3::NewObject;
use crate::resources::serving::ModelRef;
use crate::resources::tags;
use crate::store::Store;
use crate::store::model::{BatchJobInput, BatchJobOutput, S3DataConfig, SolutionVersion, Tag};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

/// The checks every batch job's Create starts with, in order: `jobName`, the tags, `jobInput` and
/// `jobOutput` locations and `numResults` (returned, or `default` when not given; at most `max`).
pub(crate) fn check_request(
    job_name: &str,
    tags: Option<&[Tag]>,
    input: &BatchJobInput,
    output: &BatchJobOutput,
    (num_results_given, default, max): (Option<i64>, i64, i64),
) -> Result<i64, ApiError> {
    check_name("jobName", job_name)?;
    tags::check(tags.unwrap_or_default())?;
    check_location("jobInput.s3DataSource", &input.s3_data_source)?;
    check_location("jobOutput.s3DataDestination", &output.s3_data_destination)?;
    num_results(num_results_given, default, max)
}

/// Checks `<member>.path`: an `s3://bucket/key-or-prefix` location.
fn check_location(member: &str, config: &S3DataConfig) -> Result<(), ApiError> {
    parse_location(&config.path)
        .map(|_| ())
        .map_err(|e| ApiError::InvalidInput(format!("{member}.path: {e}")))
}

/// `numResults` or its default, checked against `1..=max`.
pub(crate) fn num_results(given: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let n = given.unwrap_or(default);
    if !(1..=max).contains(&n) {
        return Err(ApiError::InvalidInput(format!(
            "numResults {n} is out of range: it must be between 1 and {max}"
        )));
    }
    Ok(n)
}

/// The solution version a job uses: it must exist and be ACTIVE. Returns it and its recipe.
pub(crate) fn active_version(
    store: &Store,
    arn: &str,
) -> Result<(SolutionVersion, personalize_engine::Recipe), ApiError> {
    check_arn("solutionVersionArn", arn)?;
    let version = get::<SolutionVersion>(store, arn)?;
    if version.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Solution version {arn} is in status {}, not ACTIVE",
            version.status
        )));
    }
    let recipe_arn = version.recipe_arn.clone().unwrap_or_default();
    let recipe = personalize_engine::Recipe::from_arn(&recipe_arn)
        .ok_or_else(|| ApiError::InvalidInput(format!("recipe {recipe_arn} is not supported")))?;
    Ok((version.clone(), recipe))
}

/// A batch job still running on a solution version whose ARN starts with `version_prefix` (a
/// solution with one cannot be deleted).
pub(crate) fn running_job_of(store: &Store, version_prefix: &str) -> Option<String> {
    let inference = store
        .batch_inference_jobs
        .values()
        .filter(|j| lifecycle::is_creating(&j.status))
        .map(|j| (&j.solution_version_arn, &j.batch_inference_job_arn));
    let segment = store
        .batch_segment_jobs
        .values()
        .filter(|j| lifecycle::is_creating(&j.status))
        .map(|j| (&j.solution_version_arn, &j.batch_segment_job_arn));
    inference
        .chain(segment)
        .find(|(version, _)| version.starts_with(version_prefix))
        .map(|(_, job)| job.clone())
}

/// Whether `key` names an input object (folder markers `.../` are not).
fn is_object(key: &str) -> bool {
    !key.ends_with('/')
}

/// Reads the job input at `path`: the object itself, or every object under the prefix (sorted
/// by key). Each comes with its name.
pub(crate) async fn read_input(
    state: &AppState,
    path: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let files = objects::read_where(state, path, is_object).await?;
    if files.is_empty() {
        return Err(format!("Input data not found at {path}"));
    }
    Ok(files)
}

/// The output key for input object `input_name` under output prefix `prefix`: the input's file
/// name with `.out` appended (AWS's naming), in the output folder.
pub(crate) fn output_key(prefix: &str, input_name: &str) -> String {
    let file = input_name.rsplit('/').next().unwrap_or(input_name);
    match prefix.trim_end_matches('/') {
        "" => format!("{file}.out"),
        p => format!("{p}/{file}.out"),
    }
}

/// Writes one output object (encrypted under `kms_key` when given); returns its `s3://`
/// location.
async fn write_output(
    state: &AppState,
    destination: &str,
    kms_key: Option<&str>,
    input_name: &str,
    body: Vec<u8>,
) -> Result<String, String> {
    let (bucket, prefix) = parse_location(destination)?;
    let key = output_key(&prefix, input_name);
    let object = NewObject {
        bucket: &bucket,
        key: &key,
        content_type: "application/json",
        body,
        kms_key,
    };
    objects::write(state, object).await?;
    Ok(format!("s3://{bucket}/{key}"))
}

/// Writes the output object of each input object (named after it) to `destination`, encrypted
/// under its KMS key when it has one; `arn` and `what` (`batch inference`) name the job in logs.
pub(crate) async fn write_outputs(
    state: &AppState,
    (arn, what): (&str, &str),
    destination: &S3DataConfig,
    outputs: Vec<(String, Vec<u8>)>,
) -> Result<(), String> {
    let kms_key = destination.kms_key_arn.as_deref();
    for (name, body) in outputs {
        let written = write_output(state, &destination.path, kms_key, &name, body).await?;
        tracing::info!(%arn, output = %written, "{what} output written");
    }
    Ok(())
}

/// The output object of each input object, with its name: `answer` of each record
/// ([`answer_all`]).
pub fn answer_inputs(
    inputs: &[(String, Vec<u8>)],
    answer: impl Fn(&str) -> String + Sync,
) -> Vec<(String, Vec<u8>)> {
    inputs
        .iter()
        .map(|(name, bytes)| (name.clone(), answer_all(bytes, &answer)))
        .collect()
}

/// The input records of one object: its non-blank lines, in order.
pub fn records(bytes: &[u8]) -> Vec<&str> {
    // Invalid UTF-8 stays in the line (lossy decoding would shift nothing between lines), and
    // the line's own parse reports it.
    bytes
        .split(|&b| b == b'\n')
        .map(|l| std::str::from_utf8(l).unwrap_or("\u{fffd}"))
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Lines answered per parallel step of [`answer_all`].
const CHUNK: usize = 4096;

/// The output object of one input object: `answer` of each record (in parallel, over rayon's
/// pool), one line each, in order. Chunked, so that only one chunk's lines are held besides the
/// output.
pub fn answer_all(bytes: &[u8], answer: impl Fn(&str) -> String + Sync) -> Vec<u8> {
    use rayon::prelude::*;
    let lines = records(bytes);
    let mut body = Vec::with_capacity(bytes.len() * 4);
    for chunk in lines.chunks(CHUNK) {
        let answered: Vec<String> = chunk.par_iter().map(|line| answer(line)).collect();
        for line in answered {
            body.extend_from_slice(line.as_bytes());
            body.push(b'\n');
        }
    }
    body
}

/// An output line for a record that could not be answered: the input as given (as a string
/// when it is not JSON), no output, and the reason.
pub(crate) fn error_line(input: serde_json::Value, reason: &str) -> String {
    serde_json::json!({"input": input, "output": null, "error": reason}).to_string()
}

/// The model of solution version `arn`: cached, or read from `<data-dir>/models/` (on a
/// blocking thread, without the store lock).
pub(crate) async fn model_of(state: &AppState, arn: &str) -> Result<ModelRef, String> {
    if let Some(model) = state.serving.cached_model(arn) {
        return Ok(model);
    }
    let file = state
        .lock()
        .trained
        .get(arn)
        .and_then(|m| m.model_file.clone())
        .ok_or_else(|| format!("no trained model for {arn}"))?;
    let state = Arc::clone(state);
    let arn = arn.to_string();
    tokio::task::spawn_blocking(move || {
        state
            .serving
            .load_model(state.config.data_dir.as_deref(), &arn, &file)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("model loader failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_named_after_their_input_in_the_output_folder() {
        assert_eq!(output_key("out/", "in/users.json"), "out/users.json.out");
        assert_eq!(output_key("out", "users.json"), "out/users.json.out");
        assert_eq!(output_key("", "a/b/c.txt"), "c.txt.out");
    }

    #[test]
    fn records_are_the_non_blank_lines_in_order() {
        assert_eq!(
            records(b"{\"userId\":\"1\"}\r\n\n  \n{\"userId\":\"2\"}\nnot json"),
            vec!["{\"userId\":\"1\"}", "{\"userId\":\"2\"}", "not json"]
        );
        assert!(records(b"").is_empty());
    }

    #[test]
    fn every_record_is_answered_in_order() {
        let input: String = (0..10_000).map(|n| format!("{n}\n\n")).collect();
        let out = answer_all(input.as_bytes(), |l| format!("<{l}>"));
        let lines: Vec<&str> = std::str::from_utf8(&out).expect("UTF-8").lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines
                .iter()
                .enumerate()
                .all(|(n, l)| *l == format!("<{n}>"))
        );
    }

    #[test]
    fn num_results_has_a_default_and_limits() {
        assert_eq!(num_results(None, 25, 500).expect("default"), 25);
        assert_eq!(num_results(Some(500), 25, 500).expect("max"), 500);
        assert!(num_results(Some(0), 25, 500).is_err());
        assert!(num_results(Some(501), 25, 500).is_err());
    }
}

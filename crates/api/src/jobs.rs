//! What the job kinds share (BatchInferenceJob, BatchSegmentJob, DataDeletionJob,
//! DatasetExportJob): when they run (once, or on a cron schedule, like a Kubernetes Job and
//! CronJob) and the runs they report. A run is one Personalize job; Personalize can neither stop
//! nor delete jobs, so runs are never cancelled and stay in Personalize after the object is gone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::campaign::VersionPolicy;
use crate::common::{ObjectRef, patterns};

/// When a job runs. Without `schedule`, it runs once per spec: a run is started for the spec as
/// it is, and changing any field other than these (or `revision`) starts another. With
/// `schedule`, a run starts at each occurrence of the cron schedule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunPolicy {
    /// A cron schedule (5 fields, UTC), e.g. `0 2 * * *` for every day at 02:00. Unset: run
    /// once. Occurrences missed while the operator was down are caught up with one run (the
    /// latest), as a CronJob does; those more than 31 days old are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 9, max = 100), regex(pattern = r"^\S+(\s+\S+){4}$"))]
    pub schedule: Option<String>,
    /// Start no new run while true (runs in flight finish).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    /// What a scheduled occurrence does while a run is still in flight: Forbid (the default)
    /// skips it, Allow starts another run beside it. There is no Replace: Personalize cannot
    /// stop a job.
    #[serde(default)]
    pub concurrency_policy: ConcurrencyPolicy,
    /// Finished runs kept in `status.runs` (default 3). Personalize keeps every job.
    #[serde(default = "default_successful_history")]
    #[schemars(range(min = 0, max = 100))]
    pub successful_runs_history_limit: u32,
    /// Failed runs kept in `status.runs` (default 1).
    #[serde(default = "default_failed_history")]
    #[schemars(range(min = 0, max = 100))]
    pub failed_runs_history_limit: u32,
    /// Any string: changing it runs a job that runs once again with the same spec (e.g. after
    /// the input file changed, or to retry a failed run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub revision: Option<String>,
}

fn default_successful_history() -> u32 {
    3
}

fn default_failed_history() -> u32 {
    1
}

/// What a scheduled occurrence does while a run is in flight.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ConcurrencyPolicy {
    /// Skip the occurrence.
    #[default]
    Forbid,
    /// Start another run beside it.
    Allow,
}

/// The runs of a job kind, in its status.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunsStatus {
    /// The runs, newest first: every run in flight, and the finished ones the history limits
    /// keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<JobRun>,
    /// The last schedule occurrence acted on (a run started or skipped), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<String>,
    /// When the last successful run finished, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_time: Option<String>,
    /// The next schedule occurrence, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_schedule_time: Option<String>,
}

/// One run: one Personalize job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    /// The job's name in Personalize.
    pub name: String,
    /// The job's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Its status as Personalize reports it (e.g. `CREATE IN_PROGRESS`, `ACTIVE`,
    /// `CREATE FAILED`; data deletion jobs: `PENDING`, `IN_PROGRESS`, `COMPLETED`, `FAILED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The schedule occurrence it ran for, RFC 3339 (scheduled runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_time: Option<String>,
    /// When it was started, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// When it finished, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Where it writes its output (jobs with output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_path: Option<String>,
    /// The solution version it used (batch jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_version_arn: Option<String>,
    /// Records deleted (data deletion jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_deleted: Option<i64>,
    /// Why it failed, as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// The S3 location pattern of Personalize's job input and output.
pub const S3_PATH: &str = r"^(s3|http|https)://.+$";

/// What the batch jobs (BatchInferenceJob, BatchSegmentJob) read and where they write.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchSource {
    /// The Solution whose version runs the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_ref: Option<ObjectRef>,
    /// Which version: the newest ACTIVE one (Latest), the newest that passed the Solution's
    /// promotion gate (Promoted), or `solutionVersionArn` (Pinned). Resolved when a run starts.
    #[serde(default)]
    pub version_policy: VersionPolicy,
    /// The solution version when `versionPolicy` is Pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::SOLUTION_VERSION_ARN))]
    pub solution_version_arn: Option<String>,
    /// A Filter applied to every line's answer (its parameters come from each input line's
    /// `filterValues`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_ref: Option<ObjectRef>,
    /// ARN of a filter not managed by this operator (instead of `filterRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::PERSONALIZE_ARN))]
    pub filter_arn: Option<String>,
    /// The S3 object or prefix of JSON-lines input.
    #[schemars(length(max = 256), regex(pattern = S3_PATH))]
    pub input_path: String,
    /// The S3 prefix the output is written under (ends with `/`).
    #[schemars(length(max = 256), regex(pattern = S3_PATH))]
    pub output_path: String,
    /// KMS key to encrypt the output with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = patterns::KMS_KEY_ARN))]
    pub output_kms_key_arn: Option<String>,
    /// IAM role Personalize assumes to read the input and write the output.
    #[schemars(length(max = 256), regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: String,
}

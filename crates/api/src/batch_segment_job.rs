//! The `BatchSegmentJob` kind: the users most likely to interact with items (or items with
//! given attributes), written to S3 by a Personalize batch segment job, once or on a schedule.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{ResourceStatus, Tags, patterns};
use crate::jobs::{BatchSource, RunPolicy, RunsStatus};

/// A Personalize batch segment job, on a USER_SEGMENTATION solution (aws-item-affinity,
/// aws-item-attribute-affinity): reads JSON lines (`{"itemId": ...}` or `{"itemAttributes":
/// ...}`) from `inputPath` and writes one line of users per input line under `outputPath`.
/// Runs once per spec (see `revision`) or at each occurrence of `schedule`; scheduled runs
/// write under `<outputPath>/<run name>/`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "BatchSegmentJob",
    plural = "batchsegmentjobs",
    shortname = "pbsj",
    category = "personalize",
    namespaced,
    status = "BatchSegmentJobStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Last-Schedule","type":"date","jsonPath":".status.lastScheduleTime"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Output","type":"string","priority":1,"jsonPath":".status.runs[0].outputPath"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::version_rules::some_solution(),
    validation = crate::common::version_rules::pinned_needs_arn(),
    validation = crate::common::version_rules::arn_only_when_pinned(),
    validation = crate::common::version_rules::policy_needs_solution(),
    validation = crate::common::version_rules::one_filter()
)]
pub struct BatchSegmentJobSpec {
    /// Prefix of the Personalize jobs' names: each run is named `<name>-<suffix>`. Defaults to
    /// a prefix derived from the namespace and name of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 48), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The solution version, filter, input, output and role.
    #[serde(flatten)]
    pub source: BatchSource,
    /// Users per input line (Personalize's default is 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5000000))]
    pub num_results: Option<i32>,
    /// When the job runs, and how many runs status keeps.
    #[serde(flatten)]
    pub run: RunPolicy,
    /// Tags for each job.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Observed state of a batch segment job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchSegmentJobStatus {
    /// The newest run's ARN and status, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// The runs.
    #[serde(flatten)]
    pub jobs: RunsStatus,
}

//! The `BatchSegmentJob` kind: the users most likely to interact with items (or items with
//! given attributes), written to S3 by a Personalize batch segment job, once or on a schedule.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::campaign::VersionPolicy;
use crate::common::{ObjectRef, ResourceStatus, Tags, patterns};
use crate::jobs::{RunPolicy, RunsStatus, S3_PATH};

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
    validation = Rule::new("has(self.solutionRef) || has(self.solutionVersionArn)")
        .message("one of spec.solutionRef and spec.solutionVersionArn must be set"),
    validation = Rule::new("self.versionPolicy != 'Pinned' || has(self.solutionVersionArn)")
        .message("spec.solutionVersionArn is required when spec.versionPolicy is Pinned")
        .field_path(".versionPolicy"),
    validation = Rule::new("!has(self.solutionVersionArn) || self.versionPolicy == 'Pinned'")
        .message("spec.solutionVersionArn is only used with spec.versionPolicy: Pinned")
        .field_path(".solutionVersionArn"),
    validation = Rule::new("self.versionPolicy == 'Pinned' || has(self.solutionRef)")
        .message("spec.versionPolicy Latest or Promoted needs spec.solutionRef")
        .field_path(".versionPolicy"),
    validation = Rule::new("!(has(self.filterRef) && has(self.filterArn))")
        .message("at most one of spec.filterRef and spec.filterArn may be set")
        .field_path(".filterRef")
)]
pub struct BatchSegmentJobSpec {
    /// Prefix of the Personalize jobs' names: each run is named `<name>-<suffix>`. Defaults to
    /// a prefix derived from the namespace and name of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 48), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The Solution (USER_SEGMENTATION recipe) whose version makes the segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_ref: Option<ObjectRef>,
    /// Which version: Latest, Promoted or Pinned (`solutionVersionArn`). Resolved when a run
    /// starts.
    #[serde(default)]
    pub version_policy: VersionPolicy,
    /// The solution version when `versionPolicy` is Pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::SOLUTION_VERSION_ARN))]
    pub solution_version_arn: Option<String>,
    /// A Filter applied to every segment.
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

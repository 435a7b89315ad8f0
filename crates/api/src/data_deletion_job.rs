//! The `DataDeletionJob` kind: deletes the users listed in an S3 file (and their interactions)
//! from a dataset group, with a Personalize data deletion job, once or on a schedule.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{ObjectRef, ResourceStatus, Tags, patterns};
use crate::jobs::{RunPolicy, RunsStatus, S3_PATH};

/// A Personalize data deletion job: deletes the users whose USER_ID is listed in the CSV at
/// `dataLocation` from every dataset of the group. Training after it no longer sees them. Runs
/// once per spec (see `revision`) or at each occurrence of `schedule` (e.g. a nightly file of
/// privacy requests).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "DataDeletionJob",
    plural = "datadeletionjobs",
    shortname = "pddj",
    category = "personalize",
    namespaced,
    status = "DataDeletionJobStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Deleted","type":"integer","jsonPath":".status.runs[0].numDeleted"}"#,
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.datasetGroupRef) != has(self.datasetGroupArn)")
        .message("exactly one of spec.datasetGroupRef and spec.datasetGroupArn must be set")
)]
pub struct DataDeletionJobSpec {
    /// Prefix of the Personalize jobs' names: each run is named `<name>-<suffix>`. Defaults to
    /// a prefix derived from the namespace and name of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 48), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup to delete the users from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// The S3 CSV file (or prefix) listing the users, with a USER_ID column.
    #[schemars(length(max = 256), regex(pattern = S3_PATH))]
    pub data_location: String,
    /// IAM role Personalize assumes to read the file.
    #[schemars(length(max = 256), regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: String,
    /// When the job runs, and how many runs status keeps.
    #[serde(flatten)]
    pub run: RunPolicy,
    /// Tags for each job.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Observed state of a data deletion job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataDeletionJobStatus {
    /// The newest run's ARN and status, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// ARN of the dataset group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
    /// The runs.
    #[serde(flatten)]
    pub jobs: RunsStatus,
}

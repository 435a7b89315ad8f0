//! The `DatasetExportJob` kind: a dataset of a dataset group exported to S3 as CSV by a
//! Personalize dataset export job, once or on a schedule.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{ObjectRef, ResourceStatus, Tags, patterns};
use crate::dataset_group::DatasetType;
use crate::jobs::{RunPolicy, RunsStatus, S3_PATH};

/// A Personalize dataset export job: writes the records of one dataset (imported in bulk, added
/// one by one with PutEvents/PutItems/PutUsers, or both) as CSV under `outputPath`. Runs once
/// per spec (see `revision`) or at each occurrence of `schedule`; scheduled runs write under
/// `<outputPath>/<run name>/`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "DatasetExportJob",
    plural = "datasetexportjobs",
    shortname = "pdej",
    category = "personalize",
    namespaced,
    status = "DatasetExportJobStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Dataset","type":"string","jsonPath":".spec.datasetType"}"#,
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Output","type":"string","priority":1,"jsonPath":".status.runs[0].outputPath"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.datasetGroupRef) != has(self.datasetGroupArn)")
        .message("exactly one of spec.datasetGroupRef and spec.datasetGroupArn must be set")
)]
pub struct DatasetExportJobSpec {
    /// Prefix of the Personalize jobs' names: each run is named `<name>-<suffix>`. Defaults to
    /// a prefix derived from the namespace and name of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 48), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup whose dataset is exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// Which dataset of the group.
    pub dataset_type: DatasetType,
    /// Which records: Bulk (imported with import jobs), Put (added with PutEvents, PutItems,
    /// PutUsers...) or All (both; the default).
    #[serde(default)]
    pub ingestion_mode: IngestionMode,
    /// The S3 prefix the CSV files are written under (ends with `/`).
    #[schemars(length(max = 256), regex(pattern = S3_PATH))]
    pub output_path: String,
    /// KMS key to encrypt the output with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = patterns::KMS_KEY_ARN))]
    pub output_kms_key_arn: Option<String>,
    /// IAM role Personalize assumes to write the output.
    #[schemars(length(max = 256), regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: String,
    /// When the job runs, and how many runs status keeps.
    #[serde(flatten)]
    pub run: RunPolicy,
    /// Tags for each job.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Which records an export writes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum IngestionMode {
    /// Imported with dataset import jobs (BULK).
    Bulk,
    /// Added one by one with the events API (PUT).
    Put,
    /// Both (ALL).
    #[default]
    All,
}

impl IngestionMode {
    /// Personalize's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bulk => "BULK",
            Self::Put => "PUT",
            Self::All => "ALL",
        }
    }
}

/// Observed state of a dataset export job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatasetExportJobStatus {
    /// The newest run's ARN and status, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// ARN of the exported dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_arn: Option<String>,
    /// The runs.
    #[serde(flatten)]
    pub jobs: RunsStatus,
}

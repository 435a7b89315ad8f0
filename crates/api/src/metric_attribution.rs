//! The `MetricAttribution` kind: the Personalize metric attribution of a dataset group, which
//! measures the effect of recommendations (clicks, revenue) per event attribution source and
//! publishes the figures to CloudWatch and, for imported data, to S3.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize metric attribution (one per dataset group). Metrics are added, removed and the
/// output changed in place (UpdateMetricAttribution).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "MetricAttribution",
    plural = "metricattributions",
    shortname = "pma",
    category = "personalize",
    namespaced,
    status = "MetricAttributionStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Metrics","type":"string","jsonPath":".status.metricNames"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::immutable_optional("name", "spec.name"),
    validation = crate::common::immutable_optional("datasetGroupRef", "spec.datasetGroupRef"),
    validation = crate::common::immutable_optional("datasetGroupArn", "spec.datasetGroupArn"),
    validation = Rule::new("has(self.datasetGroupRef) != has(self.datasetGroupArn)")
        .message("exactly one of spec.datasetGroupRef and spec.datasetGroupArn must be set")
)]
pub struct MetricAttributionSpec {
    /// Name of the Personalize metric attribution. Defaults to a name derived from the
    /// namespace and name of this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup whose events are measured. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`).
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// The metrics (1 to 10, each `metricName` once). Added, removed or changed in place.
    #[schemars(length(min = 1, max = 10))]
    #[x_kube(validation = kube::core::Rule::new(
        "self.all(m, self.exists_one(n, n.metricName == m.metricName))"
    ).message("spec.metrics: each metricName may appear only once"))]
    pub metrics: Vec<Metric>,
    /// Where the metrics go besides CloudWatch.
    pub output: MetricsOutput,
    /// What happens to the AWS metric attribution when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the metric attribution.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

/// One metric: an aggregate over the events of one type, per event attribution source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// The name the metric is published under (CloudWatch metric name).
    #[schemars(length(min = 1, max = 256))]
    pub metric_name: String,
    /// The event type measured, e.g. `click`.
    #[schemars(length(min = 1, max = 256))]
    pub event_type: String,
    /// `SAMPLECOUNT()` (how many events) or `SUM(Items.<COLUMN>)` (the sum of a numeric column
    /// of the items dataset over the events' items, e.g. `SUM(Items.PRICE)`).
    #[schemars(regex(pattern = r"^(SAMPLECOUNT\(\)|SUM\(Items\.[A-Za-z_][A-Za-z0-9_]*\))$"))]
    pub expression: String,
}

/// The output of a metric attribution.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsOutput {
    /// IAM role Personalize assumes to publish the metrics (CloudWatch, and S3 when `s3Path`
    /// is set).
    #[schemars(regex(pattern = patterns::ROLE_ARN))]
    pub role_arn: String,
    /// `s3://bucket/prefix/` for the metrics of imported (bulk) interactions. Without it, only
    /// CloudWatch gets metrics (of live events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$"))]
    pub s3_path: Option<String>,
    /// KMS key for the S3 output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::KMS_KEY_ARN))]
    pub kms_key_arn: Option<String>,
}

/// Observed state of a metric attribution.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttributionStatus {
    /// ARN, AWS status, failure reason, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// ARN of the dataset group measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
    /// The metric names Personalize reports, comma-separated (for `kubectl get`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_names: Option<String>,
}

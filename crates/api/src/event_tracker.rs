//! The `EventTracker` kind: the Personalize event tracker of a dataset group, whose tracking id
//! PutEvents needs.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize event tracker (one per dataset group). Its `status.trackingId` is what
/// PutEvents needs; personalize-ingest reads it from here.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "EventTracker",
    plural = "eventtrackers",
    shortname = "pet",
    category = "personalize",
    namespaced,
    status = "EventTrackerStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Tracking-ID","type":"string","jsonPath":".status.trackingId"}"#,
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
pub struct EventTrackerSpec {
    /// Name of the Personalize event tracker. Defaults to a name derived from the namespace and
    /// name of this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup whose events this tracker records. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// Also write the tracking id to a Secret of this name (key `trackingId`), owned by this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = patterns::K8S_NAME))]
    pub tracking_id_secret_name: Option<String>,
    /// What happens to the AWS event tracker when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the event tracker.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

/// Observed state of an event tracker.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTrackerStatus {
    /// ARN, AWS status, failure reason, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// The tracking id PutEvents needs (usable once the tracker is ACTIVE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// ARN of the dataset group the tracker belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
}

//! The `Filter` kind: a Personalize filter of a dataset group, which GetRecommendations and
//! GetPersonalizedRanking take to include or exclude items and users by an expression.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize filter. Personalize cannot change a filter's expression, so a changed
/// `filterExpression` is rolled out as a replacement: a new filter is created, published in
/// `status.arn` once ACTIVE, and the old one is deleted after `retireAfterSeconds`. Once the
/// first filter is ACTIVE, `status.arn` never names one that is not ACTIVE or already deleted.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "Filter",
    plural = "filters",
    shortname = "pfilter",
    category = "personalize",
    namespaced,
    status = "FilterStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Replacement","type":"string","jsonPath":".status.replacementArn"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"Expression","type":"string","priority":1,"jsonPath":".status.filterExpression"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::immutable_optional("datasetGroupRef", "spec.datasetGroupRef"),
    validation = crate::common::immutable_optional("datasetGroupArn", "spec.datasetGroupArn"),
    validation = Rule::new("has(self.datasetGroupRef) != has(self.datasetGroupArn)")
        .message("exactly one of spec.datasetGroupRef and spec.datasetGroupArn must be set")
)]
pub struct FilterSpec {
    /// Prefix of the Personalize filter's name: the filter is named `<name>-<8 hex digits of
    /// the expression>`, so that a new expression gets a new filter. Defaults to a prefix
    /// derived from the namespace and name of this object. Changing it replaces the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 54), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup whose data the filter reads. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`).
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// The filter expression, in Personalize's filter syntax, e.g.
    /// `EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")`. Changing it replaces the
    /// filter (see the kind's description).
    #[schemars(length(min = 1, max = 2500))]
    pub filter_expression: String,
    /// How long a replaced filter stays after its replacement is published, for clients that
    /// read the old ARN just before (default 60).
    #[serde(default = "default_retire_after")]
    #[schemars(range(min = 0, max = 86400))]
    pub retire_after_seconds: u32,
    /// What happens to the AWS filters when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the filter.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

fn default_retire_after() -> u32 {
    60
}

/// Observed state of a filter.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FilterStatus {
    /// ARN (the published filter), AWS status, failure reason, observed generation and
    /// conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// The expression of the published filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_expression: Option<String>,
    /// ARN of the dataset group the filter belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
    /// The filter being created for a new expression; published once ACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_arn: Option<String>,
    /// Filters replaced or abandoned, deleted once their time comes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<RetiredFilter>,
}

/// A filter that is no longer published.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetiredFilter {
    /// Its ARN.
    pub arn: String,
    /// When it may be deleted (RFC 3339).
    pub delete_after: String,
}

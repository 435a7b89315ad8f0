//! The `Recommender` kind: a Personalize recommender of a domain dataset group (VIDEO_ON_DEMAND
//! or ECOMMERCE), serving one of the domain's use cases, started or stopped by `spec.state`.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize recommender: a domain use case (such as `aws-vod-top-picks`) trained and served
/// for a domain dataset group. `recommenderConfig` changes are applied in place
/// (UpdateRecommender); `state: Inactive` stops it (StopRecommender: no serving, no billing) and
/// `Active` starts it again.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "Recommender",
    plural = "recommenders",
    shortname = "prec",
    category = "personalize",
    namespaced,
    status = "RecommenderStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Recipe","type":"string","jsonPath":".spec.recipe"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".spec.state"}"#,
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
pub struct RecommenderSpec {
    /// Name of the Personalize recommender. Defaults to a name derived from the namespace and
    /// name of this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The domain DatasetGroup (with `domain: VIDEO_ON_DEMAND` or `ECOMMERCE`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a domain dataset group not managed by this operator (instead of
    /// `datasetGroupRef`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// The domain use case: a short name such as `aws-vod-top-picks` or
    /// `aws-ecomm-recommended-for-you`, or its full recipe ARN. Immutable.
    #[x_kube(validation = crate::common::immutable("spec.recipe"))]
    #[schemars(regex(
        pattern = r"^(aws-(vod|ecomm)-[a-z0-9-]+|arn:aws[a-z-]*:personalize:::recipe/aws-(vod|ecomm)-[a-z0-9-]+)$"
    ))]
    pub recipe: String,
    /// Recommender configuration, applied in place when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RecommenderConfig>,
    /// Active serves (and is billed); Inactive stops the recommender until set Active again.
    #[serde(default)]
    pub state: RecommenderState,
    /// What happens to the AWS recommender when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the recommender.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

impl RecommenderSpec {
    /// The use case as a full recipe ARN.
    pub fn recipe_arn(&self) -> String {
        if self.recipe.starts_with("arn:") {
            self.recipe.clone()
        } else {
            format!("arn:aws:personalize:::recipe/{}", self.recipe)
        }
    }
}

/// Whether a recommender runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum RecommenderState {
    /// Started: serving and billed.
    #[default]
    Active,
    /// Stopped (StopRecommender): not serving, not billed for requests capacity.
    Inactive,
}

/// Recommender configuration (Personalize's `recommenderConfig`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderConfig {
    /// Minimum requests per second the recommender is provisioned for (billed even when idle;
    /// Personalize's default is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_recommendation_requests_per_second: Option<i32>,
    /// How much to explore new, little-seen items (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub exploration_weight: Option<f64>,
    /// Only items younger than this many days are explored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub exploration_item_age_cut_off: Option<i32>,
    /// Return item metadata with recommendations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_metadata_with_recommendations: Option<bool>,
}

/// Observed state of a recommender.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderStatus {
    /// ARN, AWS status (ACTIVE, INACTIVE, ...), failure reason, observed generation and
    /// conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// ARN of the dataset group the recommender belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_arn: Option<String>,
    /// Status of the latest UpdateRecommender, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status: Option<String>,
}

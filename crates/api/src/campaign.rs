//! The `Campaign` kind: a Personalize campaign serving one solution version, rolled to new
//! versions through UpdateCampaign as the version policy selects them.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize campaign: a deployed solution version that answers GetRecommendations.
///
/// Billed by `minProvisionedTPS` for as long as it exists.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "Campaign",
    plural = "campaigns",
    shortname = "pcamp",
    category = "personalize",
    namespaced,
    status = "CampaignStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".status.deployedVersion"}"#,
    printcolumn = r#"{"name":"Min-TPS","type":"integer","jsonPath":".spec.minProvisionedTPS"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::immutable_optional("name", "spec.name"),
    validation = crate::common::immutable_optional("solutionRef", "spec.solutionRef"),
    validation = crate::common::version_rules::some_solution(),
    validation = crate::common::version_rules::pinned_needs_arn(),
    validation = crate::common::version_rules::arn_only_when_pinned(),
    validation = crate::common::version_rules::policy_needs_solution(),
    validation = Rule::new("!has(self.config) || !has(self.config.syncWithLatestSolutionVersion) || !self.config.syncWithLatestSolutionVersion || self.versionPolicy == 'Latest'")
        .message("spec.config.syncWithLatestSolutionVersion needs spec.versionPolicy: Latest")
        .field_path(".config")
)]
pub struct CampaignSpec {
    /// Name of the Personalize campaign. Defaults to a name derived from the namespace and name of
    /// this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The Solution whose versions this campaign serves. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_ref: Option<ObjectRef>,
    /// Which version to serve: the newest ACTIVE one (Latest), the newest that passed the
    /// Solution's promotion gate (Promoted), or `solutionVersionArn` (Pinned).
    #[serde(default)]
    pub version_policy: VersionPolicy,
    /// The solution version to serve when `versionPolicy` is Pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::SOLUTION_VERSION_ARN))]
    pub solution_version_arn: Option<String>,
    /// Minimum provisioned transactions per second (billed even when idle).
    #[serde(default = "default_min_tps", rename = "minProvisionedTPS")]
    #[schemars(range(min = 1, max = 500))]
    pub min_provisioned_tps: i32,
    /// Campaign configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<CampaignConfig>,
    /// What happens to the AWS campaign when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the campaign.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

fn default_min_tps() -> i32 {
    1
}

/// Which solution version a campaign serves.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum VersionPolicy {
    /// The newest ACTIVE version of the Solution.
    #[default]
    Latest,
    /// The newest version that passed the Solution's promotion gate.
    Promoted,
    /// Exactly `solutionVersionArn`.
    Pinned,
}

/// Campaign configuration (Personalize's `campaignConfig`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignConfig {
    /// How much to explore new, little-seen items (0 to 1; Personalize's default is 0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub exploration_weight: Option<f64>,
    /// Only items younger than this many days are explored (Personalize's default is 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub exploration_item_age_cut_off: Option<i32>,
    /// Return item metadata with recommendations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_metadata_with_recommendations: Option<bool>,
    /// Let Personalize move the campaign to each new solution version itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_with_latest_solution_version: Option<bool>,
    /// How much popularity and freshness push items up the ranking (campaigns of
    /// aws-semantic-similarity solutions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_influence: Option<RankingInfluence>,
}

/// Weights (0 to 1) of ranking influences; unset ones are Personalize's to choose.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RankingInfluence {
    /// Weight of popularity (POPULARITY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub popularity: Option<f64>,
    /// Weight of freshness, newer items first (FRESHNESS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub freshness: Option<f64>,
}

/// Observed state of a campaign.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignStatus {
    /// ARN, AWS status, failure reason, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// ARN of the solution version the campaign serves now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_version_arn: Option<String>,
    /// Short id of the deployed version (the last part of its ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_version: Option<String>,
    /// minProvisionedTPS the campaign runs with now.
    #[serde(
        default,
        rename = "minProvisionedTPS",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_provisioned_tps: Option<i32>,
    /// An UpdateCampaign that has not finished yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_update: Option<CampaignUpdateStatus>,
}

/// An in-flight or failed campaign update.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignUpdateStatus {
    /// The version the update moves to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution_version_arn: Option<String>,
    /// minProvisionedTPS the update sets.
    #[serde(
        default,
        rename = "minProvisionedTPS",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_provisioned_tps: Option<i32>,
    /// Status of the update as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why the update failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

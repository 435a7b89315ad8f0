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
    printcolumn = r#"{"name":"Rollout","type":"string","jsonPath":".status.rollout.phase"}"#,
    printcolumn = r#"{"name":"Canary","type":"integer","jsonPath":".status.rollout.weight"}"#,
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
        .field_path(".config"),
    validation = Rule::new("!has(self.rollout) || !has(self.config) || !has(self.config.syncWithLatestSolutionVersion) || !self.config.syncWithLatestSolutionVersion")
        .message("spec.rollout and spec.config.syncWithLatestSolutionVersion exclude each other: Personalize would move the campaign itself")
        .field_path(".rollout")
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
    /// Roll each newly selected version out progressively on live traffic (through the
    /// gateway's split) instead of in one UpdateCampaign. Absent: in one step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
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

/// The annotation that steers a rollout by hand: `promote` (now), `abort`, or `pause` (hold the
/// current step until the annotation is removed). `promote` and `abort` are removed by the
/// operator once the rollout has ended.
pub const ROLLOUT_ANNOTATION: &str = "personalize-operator.dev/rollout";

/// How a new solution version reaches users: a temporary candidate campaign on it serves a
/// share of users (chosen by a sticky hash of userId in the gateway) until it is promoted (the
/// campaign is updated to it) or aborted; either way the candidate is then deleted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.strategy != 'Canary' || (has(self.steps) && size(self.steps) > 0)")
        .message("spec.rollout.steps: a Canary needs at least one step")
        .field_path(".steps"),
    validation = Rule::new("self.strategy != 'Experiment' || has(self.experiment)")
        .message("spec.rollout.experiment is required when strategy is Experiment")
        .field_path(".experiment"),
    validation = Rule::new("self.strategy != 'Experiment' || !has(self.steps) || size(self.steps) == 0")
        .message("spec.rollout.steps are for strategy Canary; an Experiment has one fixed split")
        .field_path(".steps")
)]
pub struct Rollout {
    /// Canary: move the candidate through `steps`, judged by `analysis` after each, then promote
    /// or abort. Experiment: a fixed split for a duration, then report the arms and keep the
    /// stable version (promote by annotation).
    pub strategy: RolloutStrategy,
    /// The canary's steps, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub steps: Vec<RolloutStep>,
    /// The experiment's split and duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<RolloutStep>,
    /// How the candidate is judged against the stable arm. Absent: steps advance on their
    /// pauses alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RolloutAnalysis>,
}

/// How a rollout proceeds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RolloutStrategy {
    /// Steps of growing weight, each judged, then promote or abort.
    Canary,
    /// A fixed split for a duration, reported only.
    Experiment,
}

/// A share of users on the candidate, held for a while.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStep {
    /// Percent of users the candidate serves.
    #[schemars(range(min = 1, max = 99))]
    pub weight: i32,
    /// How long the step is held before it is judged (e.g. `30s`, `5m`, `1h30m`).
    #[schemars(regex(pattern = DURATION))]
    pub pause: String,
}

/// A duration as Kubernetes writes them: `90s`, `5m`, `1h30m`.
pub const DURATION: &str = r"^([0-9]+(ms|s|m|h))+$";

/// The judgement of a candidate: its click-through rate against the stable arm's, counted by
/// the gateway (`personalize_gateway_recommendations_total` and `..._clicks_total`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutAnalysis {
    /// The gateway's Prometheus endpoint, e.g. `http://personalize-gateway.team:8080/metrics`.
    /// With several gateway replicas, list each (the counts are added up).
    #[schemars(length(min = 1, max = 10))]
    pub metrics_urls: Vec<MetricsUrl>,
    /// Recommendation lists each arm must have served before it is judged.
    #[serde(default = "default_min_samples")]
    #[schemars(range(min = 1))]
    pub min_samples: i64,
    /// How much lower than the stable arm's click-through the candidate's may be, relative
    /// (0.05: 5% lower).
    #[serde(default = "default_max_regression")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_regression: f64,
    /// Failed judgements (each after another pause of the step) that abort the rollout.
    #[serde(default = "default_failure_limit")]
    #[schemars(range(min = 1, max = 10))]
    pub failure_limit: i32,
}

/// A plain-HTTP URL.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(transparent)]
pub struct MetricsUrl(
    #[schemars(regex(pattern = r"^http://[^/\s]+(/.*)?$"))]
    pub String,
);

fn default_min_samples() -> i64 {
    1000
}

fn default_max_regression() -> f64 {
    0.05
}

fn default_failure_limit() -> i32 {
    2
}

/// Where a rollout stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RolloutPhase {
    /// The candidate serves its step's share of users (or is being created).
    Progressing,
    /// Held by the pause annotation.
    Paused,
    /// The campaign is being updated to the candidate's version.
    Promoting,
    /// The campaign serves the candidate's version.
    Promoted,
    /// The candidate was rejected; the campaign keeps the stable version.
    Aborted,
    /// An experiment ran its course; the campaign keeps the stable version.
    Concluded,
    /// A newer version was selected (or the rollout removed) before this one ended.
    Superseded,
}

impl RolloutStatus {
    /// What the gateway labels this rollout's counts with: the candidate version's id (the
    /// last part of its ARN).
    pub fn id(&self) -> &str {
        rollout_id(&self.candidate_version_arn)
    }

    /// The candidate campaign and its share of users, while it serves.
    pub fn serving_candidate(&self) -> Option<(&str, i32)> {
        let arn = self.candidate_campaign_arn.as_deref()?;
        (self.phase.is_active() && self.weight > 0).then_some((arn, self.weight))
    }
}

/// The rollout id of a candidate version: the last part of its ARN.
pub fn rollout_id(version_arn: &str) -> &str {
    version_arn.rsplit('/').next().unwrap_or(version_arn)
}

impl RolloutPhase {
    /// The rollout is still deciding (the candidate serves, or the promotion is under way).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Progressing | Self::Paused | Self::Promoting)
    }
}

/// A rollout, in status: everything needed to resume it after a restart, and what the gateway
/// follows (`candidateCampaignArn` serves `weight` percent of users while the phase is
/// Progressing, Paused or Promoting).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    /// Where it stands.
    pub phase: RolloutPhase,
    /// The version the campaign served when the rollout began.
    pub stable_version_arn: String,
    /// The version being rolled out.
    pub candidate_version_arn: String,
    /// The temporary campaign on the candidate version (until it is deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_campaign_arn: Option<String>,
    /// Percent of users the candidate serves now.
    pub weight: i32,
    /// The current step (0-based).
    #[serde(default)]
    pub step: i32,
    /// When the current step began (or was last judged a failure), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_started_time: Option<String>,
    /// Failed judgements so far.
    #[serde(default)]
    pub failures: i32,
    /// When it ended (promoted, aborted, concluded or superseded), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_time: Option<String>,
    /// The last decision, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the stable arm served and earned (gateway counts for this rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<ArmStatus>,
    /// What the candidate arm served and earned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<ArmStatus>,
}

/// One arm's counts, as last read from the gateway.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ArmStatus {
    /// Recommendation lists served.
    pub impressions: i64,
    /// Clicks on them.
    pub clicks: i64,
    /// clicks / impressions, as a decimal string (e.g. `"0.1234"`).
    pub click_through: String,
}

/// The arm a user is served by while a candidate serves `weight` percent of users: a stable
/// hash (FNV-1a) of the user id into 100 buckets, so a user stays on one arm for a whole step
/// and users on the candidate stay on it as the weight grows. The gateway's split. Pure.
pub fn on_candidate(user_id: &str, weight: i32) -> bool {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in user_id.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % 100) < weight.clamp(0, 100) as u32
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
    /// The current or last rollout (spec.rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutStatus>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_sticky_close_to_its_weight_and_grows_monotonically() {
        let users: Vec<String> = (0..10_000).map(|u| format!("user-{u}")).collect();
        let share = |weight| users.iter().filter(|u| on_candidate(u, weight)).count();
        assert_eq!(share(0), 0);
        assert_eq!(share(100), users.len());
        let ten = share(10);
        assert!((800..1200).contains(&ten), "{ten} of 10000 at 10%");
        assert!(
            users
                .iter()
                .all(|u| !on_candidate(u, 10) || on_candidate(u, 50)),
            "a user on the candidate at 10% stays on it at 50%"
        );
    }
}

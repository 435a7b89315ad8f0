//! The `BatchInferenceJob` kind: recommendations for a file of users (or items, or users with
//! items to rank) written to S3 by a Personalize batch inference job, once or on a schedule.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{ResourceStatus, Tags, patterns};
use crate::jobs::{BatchSource, RunPolicy, RunsStatus};

/// A Personalize batch inference job: reads JSON lines (`{"userId": ...}`, `{"itemId": ...}`,
/// or `{"userId": ..., "itemList": [...]}` for ranking) from `inputPath` and writes one JSON
/// line of recommendations per input line under `outputPath`. Runs once per spec (see
/// `revision`) or at each occurrence of `schedule`; scheduled runs write under
/// `<outputPath>/<run name>/`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "BatchInferenceJob",
    plural = "batchinferencejobs",
    shortname = "pbij",
    category = "personalize",
    namespaced,
    status = "BatchInferenceJobStatus",
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
    validation = crate::common::version_rules::one_filter(),
    validation = Rule::new("self.mode != 'ThemeGeneration' || has(self.themeGeneration)")
        .message("spec.themeGeneration is required when spec.mode is ThemeGeneration")
        .field_path(".mode"),
    validation = Rule::new("!has(self.themeGeneration) || self.mode == 'ThemeGeneration'")
        .message("spec.themeGeneration is only used with spec.mode: ThemeGeneration")
        .field_path(".themeGeneration")
)]
pub struct BatchInferenceJobSpec {
    /// Prefix of the Personalize jobs' names: each run is named `<name>-<suffix>`. Defaults to
    /// a prefix derived from the namespace and name of this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 48), regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The solution version, filter, input, output and role.
    #[serde(flatten)]
    pub source: BatchSource,
    /// Recommendations per input line (Personalize's default is 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 500))]
    pub num_results: Option<i32>,
    /// Job configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BatchInferenceConfig>,
    /// BatchInference (recommendations) or ThemeGeneration (recommendations grouped into themes
    /// named from item metadata; RELATED_ITEMS solutions).
    #[serde(default)]
    pub mode: BatchInferenceMode,
    /// What theme generation reads, when `mode` is ThemeGeneration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_generation: Option<ThemeGeneration>,
    /// When the job runs, and how many runs status keeps.
    #[serde(flatten)]
    pub run: RunPolicy,
    /// Tags for each job.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// Personalize's batchInferenceJobConfig.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchInferenceConfig {
    /// How much to explore new, little-seen items (0 to 1; user-personalization solutions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub exploration_weight: Option<f64>,
    /// Only items younger than this many days are explored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub exploration_item_age_cut_off: Option<i32>,
    /// How much popularity and freshness push items up (aws-semantic-similarity solutions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_influence: Option<crate::campaign::RankingInfluence>,
}

/// What a batch inference job produces.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum BatchInferenceMode {
    /// Recommendations (BATCH_INFERENCE).
    #[default]
    BatchInference,
    /// Recommendations grouped into named themes (THEME_GENERATION).
    ThemeGeneration,
}

impl BatchInferenceMode {
    /// Personalize's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BatchInference => "BATCH_INFERENCE",
            Self::ThemeGeneration => "THEME_GENERATION",
        }
    }
}

/// themeGenerationConfig.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThemeGeneration {
    /// The Items dataset column holding each item's name.
    #[schemars(length(min = 1, max = 150))]
    pub item_name_field: String,
}

/// Observed state of a batch inference job.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchInferenceJobStatus {
    /// The newest run's ARN and status, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// The runs.
    #[serde(flatten)]
    pub jobs: RunsStatus,
}

//! The `Solution` kind: a Personalize solution (recipe + configuration), its training policy,
//! the versions it has trained and which of them is promoted.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{DeletionPolicy, ObjectRef, Publish, ResourceStatus, Tags, patterns};

/// A Personalize solution and its training policy.
///
/// The operator creates the solution once its dataset group is ready, trains the first version
/// once the interactions are imported, retrains as `training` says, and records recent versions
/// with their offline metrics.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "personalize-operator.dev",
    version = "v1alpha1",
    kind = "Solution",
    plural = "solutions",
    shortname = "psol",
    category = "personalize",
    namespaced,
    status = "SolutionStatus",
    derive = "PartialEq",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Recipe","type":"string","jsonPath":".spec.recipe"}"#,
    printcolumn = r#"{"name":"Latest","type":"string","jsonPath":".status.latestVersion"}"#,
    printcolumn = r#"{"name":"Training","type":"string","jsonPath":".status.versions[0].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"ARN","type":"string","priority":1,"jsonPath":".status.arn"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = crate::common::immutable_optional("name", "spec.name"),
    validation = crate::common::immutable_optional("datasetGroupRef", "spec.datasetGroupRef"),
    validation = crate::common::immutable_optional("datasetGroupArn", "spec.datasetGroupArn"),
    validation = crate::common::immutable_optional("eventType", "spec.eventType"),
    validation = crate::common::immutable_optional("config", "spec.config"),
    validation = Rule::new("has(self.datasetGroupRef) != has(self.datasetGroupArn)")
        .message("exactly one of spec.datasetGroupRef and spec.datasetGroupArn must be set"),
    validation = Rule::new("!has(self.config) || !has(self.config.hpoConfig) || self.performHPO")
        .message("spec.config.hpoConfig needs spec.performHPO: true")
        .field_path(".config"),
    validation = Rule::new("!has(self.training) || !has(self.training.retrain) || self.training.retrain.mode != 'UPDATE' || self.recipe.contains('user-personalization')")
        .message("spec.training.retrain.mode UPDATE needs the aws-user-personalization recipe")
        .field_path(".training")
)]
pub struct SolutionSpec {
    /// Name of the Personalize solution. Defaults to a name derived from the namespace and name
    /// of this object. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::AWS_NAME))]
    pub name: Option<String>,
    /// The DatasetGroup this solution trains on. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_group_ref: Option<ObjectRef>,
    /// ARN of a dataset group not managed by this operator (instead of `datasetGroupRef`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = patterns::DATASET_GROUP_ARN))]
    pub dataset_group_arn: Option<String>,
    /// Recipe: a short name such as `aws-user-personalization` or a full recipe ARN. Immutable.
    #[x_kube(validation = crate::common::immutable("spec.recipe"))]
    #[schemars(regex(
        pattern = r"^(aws-[a-z0-9-]+|arn:aws[a-z-]*:personalize:::recipe/aws-[a-z0-9-]+)$"
    ))]
    pub recipe: String,
    /// Train only on interactions of this event type (e.g. `watch`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub event_type: Option<String>,
    /// Run hyperparameter optimisation when training. Immutable.
    #[serde(default, rename = "performHPO")]
    #[x_kube(validation = crate::common::immutable("spec.performHPO"))]
    pub perform_hpo: bool,
    /// Solution configuration passed to CreateSolution. Immutable (Personalize cannot change it;
    /// create a new Solution instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<SolutionConfig>,
    /// Weights of event types in training (Personalize's `eventsConfig.eventParametersList`;
    /// aws-user-personalization-v2 and aws-personalized-ranking-v2). Changed in place
    /// (UpdateSolution); applies from the next solution version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub events_config: Vec<EventParameters>,
    /// Let Personalize update the model incrementally with new data between full trainings
    /// (`performIncrementalUpdate`; aws-semantic-similarity only). Changed in place
    /// (UpdateSolution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perform_incremental_update: Option<bool>,
    /// When new solution versions are trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    /// Gate a version must pass before a Campaign with versionPolicy Promoted serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Promotion>,
    /// What happens to the AWS resources when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Tags for the solution.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Publish the ARN to a ConfigMap or Secret for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
}

impl SolutionSpec {
    /// The recipe as a full ARN.
    pub fn recipe_arn(&self) -> String {
        if self.recipe.starts_with("arn:") {
            self.recipe.clone()
        } else {
            format!("arn:aws:personalize:::recipe/{}", self.recipe)
        }
    }
}

/// Solution configuration (Personalize's `solutionConfig`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolutionConfig {
    /// Only interactions with an EVENT_VALUE at or above this threshold are used for training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^-?[0-9]+(\.[0-9]+)?$"))]
    pub event_value_threshold: Option<String>,
    /// Algorithm hyperparameters, by name (values are strings, as Personalize takes them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub algorithm_hyper_parameters: BTreeMap<String, String>,
    /// Feature transformation parameters, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_transformation_parameters: BTreeMap<String, String>,
    /// Hyperparameter optimisation settings (needs `performHPO: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpo_config: Option<HpoConfig>,
    /// Columns left out of, or kept for, training, by dataset type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_data_config: Option<TrainingDataConfig>,
}

/// The weight of one event type in training.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventParameters {
    /// The event type, e.g. `click`.
    #[schemars(length(min = 1, max = 256))]
    pub event_type: String,
    /// Its weight, from 0 (ignored) to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight: f64,
    /// Events of this type with an EVENT_VALUE below this are not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_value_threshold: Option<f64>,
}

/// Columns of each dataset type (`Interactions`, `Items`, `Users`) left out of, or the only
/// ones kept for, training. A dataset type may be in one of the two only.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = kube::core::Rule::new("!has(self.excludedDatasetColumns) || !has(self.includedDatasetColumns) || self.excludedDatasetColumns.all(t, !(t in self.includedDatasetColumns))")
        .message("a dataset type may be in excludedDatasetColumns or includedDatasetColumns, not both")
)]
pub struct TrainingDataConfig {
    /// Columns left out, by dataset type (`Interactions`, `Items` or `Users`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 3))]
    #[x_kube(validation = kube::core::Rule::new("self.all(t, t in ['Interactions', 'Items', 'Users'])")
        .message("dataset types are Interactions, Items and Users"))]
    pub excluded_dataset_columns: BTreeMap<String, Vec<String>>,
    /// The only columns kept, by dataset type (`Interactions`, `Items` or `Users`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(length(max = 3))]
    #[x_kube(validation = kube::core::Rule::new("self.all(t, t in ['Interactions', 'Items', 'Users'])")
        .message("dataset types are Interactions, Items and Users"))]
    pub included_dataset_columns: BTreeMap<String, Vec<String>>,
}

/// Hyperparameter optimisation settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HpoConfig {
    /// The metric to optimise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<HpoObjective>,
    /// How many training jobs to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_config: Option<HpoResourceConfig>,
    /// The ranges to search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm_hyper_parameter_ranges: Option<HyperParameterRanges>,
}

/// The metric hyperparameter optimisation maximises or minimises.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HpoObjective {
    /// `Maximize` or `Minimize`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(Maximize|Minimize)$"))]
    pub type_: Option<String>,
    /// Name of the metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    /// Regular expression that finds the metric in the training logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_regex: Option<String>,
}

/// Limits on hyperparameter optimisation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HpoResourceConfig {
    /// Maximum number of training jobs (1-40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 40))]
    pub max_number_of_training_jobs: Option<i32>,
    /// Maximum number of training jobs run in parallel (1-10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub max_parallel_training_jobs: Option<i32>,
}

/// Ranges of hyperparameters to search.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HyperParameterRanges {
    /// Integer ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integer_hyper_parameter_ranges: Vec<IntegerRange>,
    /// Continuous ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub continuous_hyper_parameter_ranges: Vec<ContinuousRange>,
    /// Categorical values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorical_hyper_parameter_ranges: Vec<CategoricalRange>,
}

/// An integer hyperparameter range.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegerRange {
    /// Hyperparameter name.
    pub name: String,
    /// Smallest value.
    pub min_value: i64,
    /// Largest value.
    pub max_value: i64,
}

/// A continuous hyperparameter range.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousRange {
    /// Hyperparameter name.
    pub name: String,
    /// Smallest value.
    pub min_value: f64,
    /// Largest value.
    pub max_value: f64,
}

/// A categorical hyperparameter's candidate values.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoricalRange {
    /// Hyperparameter name.
    pub name: String,
    /// Candidate values.
    pub values: Vec<String>,
}

/// When new solution versions are trained. The first version is always trained once the
/// dataset group's interactions are imported.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Training {
    /// Personalize's own automatic training (UpdateSolution changes it in place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_training: Option<AutoTraining>,
    /// Retraining driven by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain: Option<Retrain>,
}

/// Personalize's native automatic training.
///
/// Unlike CreateSolution, where it defaults to on (a new version every 7 days, billed per training
/// hour), it is off unless `enabled` is true here; the operator always sends it explicitly.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoTraining {
    /// Turn Personalize's automatic training on.
    #[serde(default)]
    pub enabled: bool,
    /// How often: `rate(N days)` with N from 1 to 30. Personalize's default is `rate(7 days)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^rate\(([1-9]|[12][0-9]|30) days?\)$"))]
    pub schedule: Option<String>,
}

/// Retraining driven by the operator.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retrain {
    /// A cron schedule (5 fields, UTC), e.g. `0 3 * * 0` for Sundays at 03:00.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\s*(\S+\s+){4}\S+\s*$"))]
    pub schedule: Option<String>,
    /// Train a new version after each successful import into the dataset group.
    #[serde(default)]
    pub on_import: bool,
    /// FULL retrains from scratch; UPDATE (User-Personalization only) updates the latest FULL
    /// version with new items and interactions.
    #[serde(default)]
    pub mode: TrainingMode,
}

/// How a solution version is trained.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrainingMode {
    /// Train from scratch on all data.
    #[default]
    Full,
    /// Update the latest FULL version with new data.
    Update,
}

impl TrainingMode {
    /// The string Personalize uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Update => "UPDATE",
        }
    }
}

/// The gate a solution version must pass to be promoted.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// The offline metric (a GetSolutionMetrics name) the gate reads.
    #[serde(default)]
    pub metric: PromotionMetric,
    /// The version's metric must be at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub minimum: Option<f64>,
    /// The version's metric may be below the currently promoted version's by at most this much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_regression: Option<f64>,
}

/// Offline metrics Personalize reports for a solution version.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromotionMetric {
    /// Share of the catalog that appears in recommendations.
    Coverage,
    /// Mean reciprocal rank of the first relevant item in the top 25.
    #[serde(rename = "mean_reciprocal_rank_at_25")]
    MeanReciprocalRankAt25,
    /// NDCG at 5.
    #[serde(rename = "normalized_discounted_cumulative_gain_at_5")]
    NormalizedDiscountedCumulativeGainAt5,
    /// NDCG at 10.
    #[default]
    #[serde(rename = "normalized_discounted_cumulative_gain_at_10")]
    NormalizedDiscountedCumulativeGainAt10,
    /// NDCG at 25.
    #[serde(rename = "normalized_discounted_cumulative_gain_at_25")]
    NormalizedDiscountedCumulativeGainAt25,
    /// Precision at 5.
    #[serde(rename = "precision_at_5")]
    PrecisionAt5,
    /// Precision at 10.
    #[serde(rename = "precision_at_10")]
    PrecisionAt10,
    /// Precision at 25.
    #[serde(rename = "precision_at_25")]
    PrecisionAt25,
}

impl PromotionMetric {
    /// The key in GetSolutionMetrics' `metrics` map.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Coverage => "coverage",
            Self::MeanReciprocalRankAt25 => "mean_reciprocal_rank_at_25",
            Self::NormalizedDiscountedCumulativeGainAt5 => {
                "normalized_discounted_cumulative_gain_at_5"
            }
            Self::NormalizedDiscountedCumulativeGainAt10 => {
                "normalized_discounted_cumulative_gain_at_10"
            }
            Self::NormalizedDiscountedCumulativeGainAt25 => {
                "normalized_discounted_cumulative_gain_at_25"
            }
            Self::PrecisionAt5 => "precision_at_5",
            Self::PrecisionAt10 => "precision_at_10",
            Self::PrecisionAt25 => "precision_at_25",
        }
    }
}

/// Observed state of a solution.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolutionStatus {
    /// ARN, AWS status, failure reason, observed generation and conditions.
    #[serde(flatten)]
    pub resource: ResourceStatus,
    /// Recent solution versions, newest first (bounded history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<SolutionVersionStatus>,
    /// ARN of the newest ACTIVE version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version_arn: Option<String>,
    /// Short id of the newest ACTIVE version (the last part of its ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_version: Option<String>,
    /// ARN of the version that passed the promotion gate most recently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_version_arn: Option<String>,
    /// The import revision (dataset type and revision) the newest version was trained after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_on_import: Option<String>,
}

/// One solution version.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SolutionVersionStatus {
    /// ARN of the version.
    pub arn: String,
    /// Status as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// FULL, UPDATE or AUTOTRAIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_mode: Option<String>,
    /// When the version was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Why training failed, as Personalize reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Offline metrics from GetSolutionMetrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_metrics_serialize_as_get_solution_metrics_keys() {
        for metric in [
            PromotionMetric::Coverage,
            PromotionMetric::MeanReciprocalRankAt25,
            PromotionMetric::NormalizedDiscountedCumulativeGainAt5,
            PromotionMetric::NormalizedDiscountedCumulativeGainAt10,
            PromotionMetric::NormalizedDiscountedCumulativeGainAt25,
            PromotionMetric::PrecisionAt5,
            PromotionMetric::PrecisionAt10,
            PromotionMetric::PrecisionAt25,
        ] {
            let json = serde_json::to_value(metric).expect("serializes");
            assert_eq!(json, metric.as_str(), "{metric:?}");
        }
    }
}

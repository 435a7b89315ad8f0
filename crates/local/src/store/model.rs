//! The resource shapes as the store keeps them and Describe returns them (the service model's
//! members, camelCase on the wire and in the journal). Plain data: no behaviour, no dependencies
//! beyond serde.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// The DatasetGroup shape (also what the store keeps).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetGroup {
    pub name: String,
    pub dataset_group_arn: String,
    pub status: String,
    pub role_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
    pub domain: Option<String>,
}

/// The DatasetSchema shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSchema {
    pub name: String,
    pub schema_arn: String,
    pub schema: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub domain: Option<String>,
}

/// The Dataset shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub name: String,
    pub dataset_arn: String,
    pub dataset_group_arn: String,
    pub dataset_type: String,
    pub schema_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub latest_dataset_update: Option<DatasetUpdateSummary>,
    pub tracking_id: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetUpdateSummary {
    pub schema_arn: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// The DatasetImportJob shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetImportJob {
    pub job_name: String,
    pub dataset_import_job_arn: String,
    pub dataset_arn: String,
    pub data_source: DataSource,
    pub role_arn: Option<String>,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
    pub import_mode: String,
    pub publish_attribution_metrics_to_s3: Option<bool>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSource {
    pub data_location: Option<String>,
}

/// `solutionConfig`: the members the server uses are typed, the rest is kept as given.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionConfig {
    pub event_value_threshold: Option<String>,
    pub algorithm_hyper_parameters: Option<BTreeMap<String, String>>,
    pub feature_transformation_parameters: Option<BTreeMap<String, String>>,
    pub auto_training_config: Option<AutoTrainingConfig>,
    pub events_config: Option<EventsConfig>,
    pub training_data_config: Option<TrainingDataConfig>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `eventsConfig`: the event types a solution trains on, with their thresholds and weights.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsConfig {
    pub event_parameters_list: Option<Vec<EventParameters>>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventParameters {
    pub event_type: Option<String>,
    pub event_value_threshold: Option<f64>,
    pub weight: Option<f64>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoTrainingConfig {
    pub scheduling_expression: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionUpdateConfig {
    pub auto_training_config: Option<AutoTrainingConfig>,
    pub events_config: Option<EventsConfig>,
}

/// The Solution shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Solution {
    pub name: String,
    pub solution_arn: String,
    #[serde(rename = "performHPO")]
    pub perform_hpo: Option<bool>,
    #[serde(rename = "performAutoML")]
    pub perform_auto_ml: Option<bool>,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub recipe_arn: Option<String>,
    pub dataset_group_arn: String,
    pub event_type: Option<String>,
    pub solution_config: Option<SolutionConfig>,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub latest_solution_version: Option<SolutionVersionSummary>,
    pub latest_solution_update: Option<SolutionUpdateSummary>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionUpdateSummary {
    pub solution_update_config: Option<SolutionUpdateConfig>,
    pub status: String,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

/// The SolutionVersion shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionVersion {
    pub name: Option<String>,
    pub solution_version_arn: String,
    pub solution_arn: String,
    #[serde(rename = "performHPO")]
    pub perform_hpo: Option<bool>,
    #[serde(rename = "performAutoML")]
    pub perform_auto_ml: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub recipe_arn: Option<String>,
    pub event_type: Option<String>,
    pub dataset_group_arn: String,
    pub solution_config: Option<SolutionConfig>,
    pub training_hours: Option<f64>,
    pub training_mode: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub training_type: String,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolutionVersionSummary {
    pub solution_version_arn: String,
    pub status: String,
    pub training_mode: String,
    pub training_type: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignConfig {
    pub item_exploration_config: Option<BTreeMap<String, String>>,
    pub enable_metadata_with_recommendations: Option<bool>,
    pub sync_with_latest_solution_version: Option<bool>,
    pub ranking_influence: Option<BTreeMap<String, f64>>,
}

/// The Campaign shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub name: String,
    pub campaign_arn: String,
    pub solution_version_arn: String,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: i64,
    pub campaign_config: Option<CampaignConfig>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub latest_campaign_update: Option<CampaignUpdateSummary>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignUpdateSummary {
    pub solution_version_arn: Option<String>,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: Option<i64>,
    pub campaign_config: Option<CampaignConfig>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// The EventTracker shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventTracker {
    pub name: String,
    pub event_tracker_arn: String,
    pub account_id: String,
    pub tracking_id: String,
    pub dataset_group_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// The Filter shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub name: String,
    pub filter_arn: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub dataset_group_arn: String,
    pub failure_reason: Option<String>,
    pub filter_expression: String,
    pub status: String,
}

/// `recommenderConfig`: the members the server uses are typed, the rest is kept as given.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderConfig {
    pub item_exploration_config: Option<BTreeMap<String, String>>,
    pub min_recommendation_requests_per_second: Option<i64>,
    pub training_data_config: Option<TrainingDataConfig>,
    pub enable_metadata_with_recommendations: Option<bool>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `trainingDataConfig`: columns left out of (or kept for) training, by dataset type.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainingDataConfig {
    pub excluded_dataset_columns: Option<BTreeMap<String, Vec<String>>>,
    pub included_dataset_columns: Option<BTreeMap<String, Vec<String>>>,
}

/// The Recommender shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommender {
    pub recommender_arn: String,
    pub dataset_group_arn: String,
    pub name: String,
    pub recipe_arn: String,
    pub recommender_config: Option<RecommenderConfig>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub status: String,
    pub failure_reason: Option<String>,
    pub latest_recommender_update: Option<RecommenderUpdateSummary>,
    pub model_metrics: Option<BTreeMap<String, f64>>,
}

#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecommenderUpdateSummary {
    pub recommender_config: Option<RecommenderConfig>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub status: String,
    pub failure_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// `metricsOutputConfig` of a metric attribution.
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttributionOutput {
    pub s3_data_destination: Option<S3DataConfig>,
    pub role_arn: String,
}

/// An S3 destination (`path`, optional `kmsKeyArn`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3DataConfig {
    pub path: String,
    pub kms_key_arn: Option<String>,
}

/// The MetricAttribution shape (its metrics are kept apart: Describe does not return them,
/// ListMetricAttributionMetrics does).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttribution {
    pub name: String,
    pub metric_attribution_arn: String,
    pub dataset_group_arn: String,
    pub metrics_output_config: MetricAttributionOutput,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

/// One metric of a metric attribution (the MetricAttribute shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttribute {
    pub event_type: String,
    pub metric_name: String,
    pub expression: String,
}

// Batch jobs (CreateBatchInferenceJob, CreateBatchSegmentJob).

/// `jobInput` of a batch job: where its JSON-lines input is read from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJobInput {
    pub s3_data_source: S3DataConfig,
}

/// `jobOutput` of a batch job: where its output files are written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJobOutput {
    pub s3_data_destination: S3DataConfig,
}

/// `batchInferenceJobConfig`.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInferenceJobConfig {
    pub item_exploration_config: Option<BTreeMap<String, String>>,
    pub ranking_influence: Option<BTreeMap<String, f64>>,
}

/// The BatchInferenceJob shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInferenceJob {
    pub job_name: String,
    pub batch_inference_job_arn: String,
    pub filter_arn: Option<String>,
    pub failure_reason: Option<String>,
    pub solution_version_arn: String,
    pub num_results: Option<i64>,
    pub job_input: BatchJobInput,
    pub job_output: BatchJobOutput,
    pub batch_inference_job_config: Option<BatchInferenceJobConfig>,
    pub role_arn: String,
    pub batch_inference_job_mode: Option<String>,
    pub theme_generation_config: Option<serde_json::Value>,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// The BatchSegmentJob shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSegmentJob {
    pub job_name: String,
    pub batch_segment_job_arn: String,
    pub filter_arn: Option<String>,
    pub failure_reason: Option<String>,
    pub solution_version_arn: String,
    pub num_results: Option<i64>,
    pub job_input: BatchJobInput,
    pub job_output: BatchJobOutput,
    pub role_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// `jobOutput` of a dataset export job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetExportJobOutput {
    pub s3_data_destination: S3DataConfig,
}

/// The DatasetExportJob shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetExportJob {
    pub job_name: String,
    pub dataset_export_job_arn: String,
    pub dataset_arn: String,
    pub ingestion_mode: String,
    pub role_arn: String,
    pub status: String,
    pub job_output: DatasetExportJobOutput,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

/// The DataDeletionJob shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataDeletionJob {
    pub job_name: String,
    pub data_deletion_job_arn: String,
    pub dataset_group_arn: String,
    pub data_source: DataSource,
    pub role_arn: String,
    pub status: String,
    pub num_deleted: Option<i64>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub failure_reason: Option<String>,
}

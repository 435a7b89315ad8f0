//! The operations' own input and output shapes: everything on the wire but the resources, which
//! are in `store::model`. Plain data, named as the service models name them (camelCase on the
//! wire); what each operation does with them is in its resource's module.
//! Depends on the store's resource shapes only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::store::model::{
    BatchInferenceJobConfig, BatchJobInput, BatchJobOutput, CampaignConfig, DataSource,
    DatasetExportJobOutput, RecommenderConfig, SolutionConfig, SolutionUpdateConfig, Tag,
};

// Create and Update inputs.

/// The input of `CreateDatasetGroup`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetGroup {
    pub name: String,
    pub role_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub domain: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `CreateSchema`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSchema {
    pub name: String,
    pub schema: String,
    pub domain: Option<String>,
}

/// The input of `CreateDataset`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDataset {
    pub name: String,
    pub schema_arn: String,
    pub dataset_group_arn: String,
    pub dataset_type: String,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `UpdateDataset`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDataset {
    pub dataset_arn: String,
    pub schema_arn: String,
}

/// The input of `CreateDatasetImportJob`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetImportJob {
    pub job_name: String,
    pub dataset_arn: String,
    pub data_source: DataSource,
    pub role_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub import_mode: Option<String>,
    pub publish_attribution_metrics_to_s3: Option<bool>,
}

/// The input of `CreateBatchInferenceJob`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBatchInferenceJob {
    pub job_name: String,
    pub solution_version_arn: String,
    pub filter_arn: Option<String>,
    pub num_results: Option<i64>,
    pub job_input: BatchJobInput,
    pub job_output: BatchJobOutput,
    pub role_arn: String,
    pub batch_inference_job_config: Option<BatchInferenceJobConfig>,
    pub tags: Option<Vec<Tag>>,
    pub batch_inference_job_mode: Option<String>,
    pub theme_generation_config: Option<serde_json::Value>,
}

/// The input of `CreateBatchSegmentJob`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBatchSegmentJob {
    pub job_name: String,
    pub solution_version_arn: String,
    pub filter_arn: Option<String>,
    pub num_results: Option<i64>,
    pub job_input: BatchJobInput,
    pub job_output: BatchJobOutput,
    pub role_arn: String,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `CreateSolution`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolution {
    pub name: String,
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
    pub tags: Option<Vec<Tag>>,
}

/// The input of `UpdateSolution`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSolution {
    pub solution_arn: String,
    pub perform_auto_training: Option<bool>,
    pub perform_incremental_update: Option<bool>,
    pub solution_update_config: Option<SolutionUpdateConfig>,
}

/// The input of `CreateSolutionVersion`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSolutionVersion {
    pub name: Option<String>,
    pub solution_arn: String,
    pub training_mode: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `CreateCampaign`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCampaign {
    pub name: String,
    pub solution_version_arn: String,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: Option<i64>,
    pub campaign_config: Option<CampaignConfig>,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `UpdateCampaign`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCampaign {
    pub campaign_arn: String,
    pub solution_version_arn: Option<String>,
    #[serde(rename = "minProvisionedTPS")]
    pub min_provisioned_tps: Option<i64>,
    pub campaign_config: Option<CampaignConfig>,
}

/// The input of `CreateEventTracker`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEventTracker {
    pub name: String,
    pub dataset_group_arn: String,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `CreateRecommender`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRecommender {
    pub name: String,
    pub dataset_group_arn: String,
    pub recipe_arn: String,
    pub recommender_config: Option<RecommenderConfig>,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `UpdateRecommender`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRecommender {
    pub recommender_arn: String,
    pub recommender_config: RecommenderConfig,
}

/// The input of `CreateFilter`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFilter {
    pub name: String,
    pub dataset_group_arn: String,
    pub filter_expression: String,
    pub tags: Option<Vec<Tag>>,
}

// Dataset groups.

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetGroupResponse {
    pub dataset_group_arn: String,
    pub domain: Option<String>,
}

// Event trackers.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEventTrackerResponse {
    pub event_tracker_arn: String,
    pub tracking_id: String,
}

// personalize-events.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutEventsRequest {
    pub tracking_id: String,
    pub user_id: Option<String>,
    pub session_id: String,
    pub event_list: Vec<Event>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_id: Option<String>,
    pub event_type: String,
    pub event_value: Option<f64>,
    pub item_id: Option<String>,
    /// A JSON object serialised as a string (not an object).
    pub properties: Option<String>,
    /// Epoch seconds.
    pub sent_at: f64,
    pub recommendation_id: Option<String>,
    pub impression: Option<Vec<String>>,
    pub metric_attribution: Option<EventMetricAttribution>,
}

/// An event's `metricAttribution`: the source metric attributions report it under.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetricAttribution {
    pub event_attribution_source: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutItemsRequest {
    pub dataset_arn: String,
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutUsersRequest {
    pub dataset_arn: String,
    pub users: Vec<User>,
}

/// An item with its properties (a JSON object as a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub item_id: String,
    pub properties: Option<String>,
}

/// A user with its properties (a JSON object as a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: String,
    pub properties: Option<String>,
}

// Recipes.

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipeSummary {
    pub name: String,
    pub recipe_arn: String,
    pub status: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub domain: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRecipesRequest {
    pub recipe_provider: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    pub domain: Option<String>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRecipesResponse {
    pub recipes: Vec<RecipeSummary>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRecipeRequest {
    pub recipe_arn: String,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipe {
    pub name: String,
    pub recipe_arn: String,
    pub algorithm_arn: Option<String>,
    pub feature_transformation_arn: Option<String>,
    pub status: String,
    pub description: String,
    pub creation_date_time: f64,
    pub recipe_type: String,
    pub last_updated_date_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRecipeResponse {
    pub recipe: Recipe,
}

// personalize-runtime.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsRequest {
    pub campaign_arn: Option<String>,
    pub item_id: Option<String>,
    pub user_id: Option<String>,
    pub num_results: Option<i64>,
    pub context: Option<BTreeMap<String, String>>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
    pub recommender_arn: Option<String>,
    pub promotions: Option<Vec<Promotion>>,
    pub metadata_columns: Option<BTreeMap<String, Vec<String>>>,
}

/// A promotion of GetRecommendations: `percentPromotedItems` of the results come from the
/// items `filterArn` (with `filterValues`) keeps.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub name: Option<String>,
    pub percent_promoted_items: Option<i64>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictedItem {
    pub item_id: String,
    pub score: f64,
    /// The item's metadata columns asked for (`metadataColumns`).
    pub metadata: Option<BTreeMap<String, String>>,
    /// The promotion that placed this item (`promotions`).
    pub promotion_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetRecommendationsResponse {
    pub item_list: Vec<PredictedItem>,
    pub recommendation_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingRequest {
    pub campaign_arn: String,
    pub input_list: Vec<String>,
    pub user_id: String,
    pub context: Option<BTreeMap<String, String>>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
    pub metadata_columns: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPersonalizedRankingResponse {
    pub personalized_ranking: Vec<PredictedItem>,
    pub recommendation_id: String,
}

// Solution versions.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetSolutionMetricsResponse {
    pub solution_version_arn: String,
    pub metrics: BTreeMap<String, f64>,
}

// Tags.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceRequest {
    pub resource_arn: String,
    pub tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceRequest {
    pub resource_arn: String,
    pub tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceRequest {
    pub resource_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceResponse {
    pub tags: Vec<Tag>,
}

// Dataset export and data deletion jobs; algorithms and feature transformations.

/// The input of `CreateDatasetExportJob`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDatasetExportJob {
    pub job_name: String,
    pub dataset_arn: String,
    pub ingestion_mode: Option<String>,
    pub role_arn: String,
    pub job_output: DatasetExportJobOutput,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `CreateDataDeletionJob`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDataDeletionJob {
    pub job_name: String,
    pub dataset_group_arn: String,
    pub data_source: DataSource,
    pub role_arn: String,
    pub tags: Option<Vec<Tag>>,
}

/// The input of `DescribeAlgorithm`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeAlgorithmRequest {
    pub algorithm_arn: String,
}

/// `algorithmImage` of an algorithm.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlgorithmImage {
    pub name: String,
    #[serde(rename = "dockerURI")]
    pub docker_uri: String,
}

/// An integer hyperparameter's range.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultIntegerHyperParameterRange {
    pub name: String,
    pub min_value: i64,
    pub max_value: i64,
    pub is_tunable: bool,
}

/// A continuous hyperparameter's range.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultContinuousHyperParameterRange {
    pub name: String,
    pub min_value: f64,
    pub max_value: f64,
    pub is_tunable: bool,
}

/// A categorical hyperparameter's values.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultCategoricalHyperParameterRange {
    pub name: String,
    pub values: Vec<String>,
    pub is_tunable: bool,
}

/// `defaultHyperParameterRanges` of an algorithm.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultHyperParameterRanges {
    pub integer_hyper_parameter_ranges: Vec<DefaultIntegerHyperParameterRange>,
    pub continuous_hyper_parameter_ranges: Vec<DefaultContinuousHyperParameterRange>,
    pub categorical_hyper_parameter_ranges: Vec<DefaultCategoricalHyperParameterRange>,
}

/// The Algorithm shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Algorithm {
    pub name: String,
    pub algorithm_arn: String,
    pub algorithm_image: AlgorithmImage,
    pub default_hyper_parameters: BTreeMap<String, String>,
    pub default_hyper_parameter_ranges: DefaultHyperParameterRanges,
    pub training_input_mode: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
}

/// The output of `DescribeAlgorithm`.
#[derive(Serialize)]
pub struct DescribeAlgorithmResponse {
    pub algorithm: Algorithm,
}

/// The input of `DescribeFeatureTransformation`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeFeatureTransformationRequest {
    pub feature_transformation_arn: String,
}

/// The FeatureTransformation shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureTransformation {
    pub name: String,
    pub feature_transformation_arn: String,
    pub default_parameters: BTreeMap<String, String>,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub status: String,
}

/// The output of `DescribeFeatureTransformation`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeFeatureTransformationResponse {
    pub feature_transformation: FeatureTransformation,
}
// Next-Best-Action (personalize-events PutActions / PutActionInteractions, personalize-runtime
// GetActionRecommendations).

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutActionsRequest {
    pub dataset_arn: String,
    pub actions: Vec<ActionRecord>,
}

/// An action with its properties (a JSON object as a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRecord {
    pub action_id: String,
    pub properties: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutActionInteractionsRequest {
    pub tracking_id: String,
    pub action_interactions: Vec<ActionInteraction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInteraction {
    pub action_id: String,
    pub user_id: Option<String>,
    pub session_id: String,
    /// Epoch seconds.
    pub timestamp: f64,
    pub event_type: String,
    pub event_id: Option<String>,
    pub recommendation_id: Option<String>,
    pub impression: Option<Vec<String>>,
    /// A JSON object serialised as a string (not an object).
    pub properties: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActionRecommendationsRequest {
    pub campaign_arn: Option<String>,
    pub user_id: Option<String>,
    pub num_results: Option<i64>,
    pub filter_arn: Option<String>,
    pub filter_values: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActionRecommendationsResponse {
    pub action_list: Vec<PredictedAction>,
    pub recommendation_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictedAction {
    pub action_id: String,
    pub score: f64,
}

//! The operator's seam to Amazon Personalize: the [`Personalize`] trait, in the operator's own
//! request and observation types, and the errors classified into the few kinds reconcilers act on.
//!
//! [`sdk`] implements it with `aws-sdk-personalize` (the only module that names SDK types);
//! `fake` (tests only) implements it in memory. Nothing here knows Kubernetes.

pub mod jobs;
pub mod read_only;
pub mod sdk;

#[cfg(test)]
pub mod fake;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::jiff::Timestamp;
use personalize_api::solution::{EventParameters, HpoConfig, TrainingDataConfig};
use personalize_api::{Metric, MetricsOutput, aws_status};

pub use jobs::{
    BatchJob, JobDetails, NewBatchInferenceJob, NewBatchSegmentJob, NewDataDeletionJob,
    NewDatasetExportJob,
};

/// AWS tags, key to value.
pub type Tags = BTreeMap<String, String>;

/// Personalize clients by region: the SDK's (one client per region), or a fake.
pub trait Backend: Send + Sync {
    /// The client for a region (`None`: the default region).
    fn personalize(&self, region: Option<&str>) -> Arc<dyn Personalize>;
}

/// The Personalize control-plane operations the operator calls.
///
/// A describe of a resource that does not exist fails with [`ErrorKind::NotFound`]; creates
/// return the new resource's ARN.
#[async_trait]
pub trait Personalize: Send + Sync {
    /// ListTagsForResource.
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError>;
    /// TagResource: adds or overwrites these tags.
    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), AwsError>;
    /// UntagResource: removes the tags of these keys.
    async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), AwsError>;
    /// Every resource of a listing (all pages).
    async fn list(&self, listing: Listing<'_>) -> Result<Vec<Summary>, AwsError>;
    /// Delete<Kind>: asks Personalize to delete a resource.
    async fn delete(&self, kind: Kind, arn: &str) -> Result<(), AwsError>;

    /// CreateDatasetGroup.
    async fn create_dataset_group(&self, req: &NewDatasetGroup) -> Result<String, AwsError>;
    /// DescribeDatasetGroup.
    async fn describe_dataset_group(&self, arn: &str) -> Result<Observation<()>, AwsError>;

    /// CreateSchema.
    async fn create_schema(&self, req: &NewSchema) -> Result<String, AwsError>;
    /// DescribeSchema (schemas have no status: one that exists is ACTIVE).
    async fn describe_schema(&self, arn: &str) -> Result<Observation<()>, AwsError>;

    /// CreateDataset.
    async fn create_dataset(&self, req: &NewDataset) -> Result<String, AwsError>;
    /// DescribeDataset.
    async fn describe_dataset(&self, arn: &str) -> Result<Observation<DatasetDetails>, AwsError>;
    /// UpdateDataset: moves the dataset to another schema.
    async fn update_dataset(&self, arn: &str, schema_arn: &str) -> Result<(), AwsError>;

    /// CreateDatasetImportJob.
    async fn create_import_job(&self, req: &NewImportJob) -> Result<String, AwsError>;
    /// DescribeDatasetImportJob.
    async fn describe_import_job(&self, arn: &str) -> Result<Observation<ImportDetails>, AwsError>;

    /// CreateSolution.
    async fn create_solution(&self, req: &NewSolution) -> Result<String, AwsError>;
    /// DescribeSolution.
    async fn describe_solution(&self, arn: &str) -> Result<Observation<SolutionDetails>, AwsError>;
    /// UpdateSolution: what can change in place (auto-training, eventsConfig,
    /// performIncrementalUpdate), as `req` wants it.
    async fn update_solution(&self, arn: &str, req: &NewSolution) -> Result<(), AwsError>;
    /// CreateSolutionVersion: starts training; returns the version's ARN.
    async fn create_solution_version(
        &self,
        solution_arn: &str,
        mode: &str,
    ) -> Result<String, AwsError>;
    /// StopSolutionVersionCreation.
    async fn stop_solution_version(&self, arn: &str) -> Result<(), AwsError>;
    /// GetSolutionMetrics.
    async fn solution_metrics(&self, version_arn: &str) -> Result<BTreeMap<String, f64>, AwsError>;

    /// CreateCampaign.
    async fn create_campaign(&self, req: &NewCampaign) -> Result<String, AwsError>;
    /// DescribeCampaign.
    async fn describe_campaign(&self, arn: &str) -> Result<Observation<CampaignDetails>, AwsError>;
    /// UpdateCampaign.
    async fn update_campaign(&self, arn: &str, req: &NewCampaign) -> Result<(), AwsError>;

    /// CreateEventTracker.
    async fn create_event_tracker(&self, req: &NewEventTracker) -> Result<String, AwsError>;
    /// DescribeEventTracker.
    async fn describe_event_tracker(
        &self,
        arn: &str,
    ) -> Result<Observation<EventTrackerDetails>, AwsError>;

    /// CreateFilter.
    async fn create_filter(&self, req: &NewFilter) -> Result<String, AwsError>;
    /// DescribeFilter.
    async fn describe_filter(&self, arn: &str) -> Result<Observation<FilterDetails>, AwsError>;

    /// CreateRecommender.
    async fn create_recommender(&self, req: &NewRecommender) -> Result<String, AwsError>;
    /// DescribeRecommender.
    async fn describe_recommender(
        &self,
        arn: &str,
    ) -> Result<Observation<RecommenderDetails>, AwsError>;
    /// UpdateRecommender: the recommender configuration.
    async fn update_recommender(
        &self,
        arn: &str,
        config: &RecommenderSettings,
    ) -> Result<(), AwsError>;
    /// StartRecommender (`true`) or StopRecommender (`false`).
    async fn set_recommender_running(&self, arn: &str, running: bool) -> Result<(), AwsError>;

    /// CreateMetricAttribution, then TagResource with its tags (CreateMetricAttribution takes
    /// none).
    async fn create_metric_attribution(
        &self,
        req: &NewMetricAttribution,
    ) -> Result<String, AwsError>;
    /// DescribeMetricAttribution and ListMetricAttributionMetrics (Describe does not say the
    /// metrics).
    async fn describe_metric_attribution(
        &self,
        arn: &str,
    ) -> Result<Observation<MetricAttributionDetails>, AwsError>;
    /// UpdateMetricAttribution.
    async fn update_metric_attribution(
        &self,
        arn: &str,
        change: &MetricAttributionChange,
    ) -> Result<(), AwsError>;

    /// CreateBatchInferenceJob.
    async fn create_batch_inference_job(
        &self,
        req: &NewBatchInferenceJob,
    ) -> Result<String, AwsError>;
    /// DescribeBatchInferenceJob.
    async fn describe_batch_inference_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError>;
    /// CreateBatchSegmentJob.
    async fn create_batch_segment_job(&self, req: &NewBatchSegmentJob) -> Result<String, AwsError>;
    /// DescribeBatchSegmentJob.
    async fn describe_batch_segment_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError>;
    /// CreateDatasetExportJob.
    async fn create_dataset_export_job(
        &self,
        req: &NewDatasetExportJob,
    ) -> Result<String, AwsError>;
    /// DescribeDatasetExportJob.
    async fn describe_dataset_export_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError>;
    /// CreateDataDeletionJob.
    async fn create_data_deletion_job(&self, req: &NewDataDeletionJob) -> Result<String, AwsError>;
    /// DescribeDataDeletionJob.
    async fn describe_data_deletion_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError>;
}

/// The kinds of Personalize resource the operator deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A dataset group.
    DatasetGroup,
    /// A schema.
    Schema,
    /// A dataset.
    Dataset,
    /// A dataset import job (a run: never deleted).
    DatasetImportJob,
    /// A solution (and its versions).
    Solution,
    /// A campaign.
    Campaign,
    /// An event tracker.
    EventTracker,
    /// A filter.
    Filter,
    /// A recommender.
    Recommender,
    /// A metric attribution.
    MetricAttribution,
    /// A batch inference job (a run: never deleted).
    BatchInferenceJob,
    /// A batch segment job (a run: never deleted).
    BatchSegmentJob,
    /// A dataset export job (a run: never deleted).
    DatasetExportJob,
    /// A data deletion job (a run: never deleted).
    DataDeletionJob,
}

impl Kind {
    /// The resource's name in messages, e.g. "event tracker".
    pub fn noun(self) -> &'static str {
        match self {
            Self::DatasetGroup => "dataset group",
            Self::Schema => "schema",
            Self::Dataset => "dataset",
            Self::DatasetImportJob => "dataset import job",
            Self::Solution => "solution",
            Self::Campaign => "campaign",
            Self::EventTracker => "event tracker",
            Self::Filter => "filter",
            Self::Recommender => "recommender",
            Self::MetricAttribution => "metric attribution",
            Self::BatchInferenceJob => "batch inference job",
            Self::BatchSegmentJob => "batch segment job",
            Self::DatasetExportJob => "dataset export job",
            Self::DataDeletionJob => "data deletion job",
        }
    }
}

impl Kind {
    /// Its Delete operation, e.g. `DeleteEventTracker`.
    pub fn delete_operation(self) -> &'static str {
        match self {
            Self::DatasetGroup => "DeleteDatasetGroup",
            Self::Schema => "DeleteSchema",
            Self::Dataset => "DeleteDataset",
            Self::DatasetImportJob => "DeleteDatasetImportJob",
            Self::Solution => "DeleteSolution",
            Self::Campaign => "DeleteCampaign",
            Self::EventTracker => "DeleteEventTracker",
            Self::Filter => "DeleteFilter",
            Self::Recommender => "DeleteRecommender",
            Self::MetricAttribution => "DeleteMetricAttribution",
            Self::BatchInferenceJob => "DeleteBatchInferenceJob",
            Self::BatchSegmentJob => "DeleteBatchSegmentJob",
            Self::DatasetExportJob => "DeleteDatasetExportJob",
            Self::DataDeletionJob => "DeleteDataDeletionJob",
        }
    }

    /// The resource's ARN path for a name, e.g. `event-tracker/<name>` (datasets, which are
    /// `dataset/<group>/<TYPE>`, are placed by their group instead).
    pub fn path(self, name: &str) -> String {
        let segment = match self {
            Self::DatasetGroup => "dataset-group",
            Self::Schema => "schema",
            Self::Dataset => "dataset",
            Self::DatasetImportJob => "dataset-import-job",
            Self::Solution => "solution",
            Self::Campaign => "campaign",
            Self::EventTracker => "event-tracker",
            Self::Filter => "filter",
            Self::Recommender => "recommender",
            Self::MetricAttribution => "metric-attribution",
            Self::BatchInferenceJob => "batch-inference-job",
            Self::BatchSegmentJob => "batch-segment-job",
            Self::DatasetExportJob => "dataset-export-job",
            Self::DataDeletionJob => "data-deletion-job",
        };
        format!("{segment}/{name}")
    }
}

/// A create request, tied to its resource's kind, Describe and place: what lets one algorithm
/// create, find and read every kind of resource.
pub trait Request: Send + Sync {
    /// What its Describe reports beyond the status.
    type Details: Send + Sync + std::fmt::Debug;
    /// The kind of resource it creates.
    const KIND: Kind;
    /// The resource's name.
    fn name(&self) -> &str;
    /// An ARN in the same account and region that the resource's ARN derives from (its
    /// parent's), if the request names one.
    fn anchor(&self) -> Option<&str>;
    /// Create<Kind>; returns the ARN.
    fn create<'a>(&'a self, api: &'a dyn Personalize) -> BoxFuture<'a, Result<String, AwsError>>;
    /// Describe<Kind>.
    fn describe<'a>(
        api: &'a dyn Personalize,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Observation<Self::Details>, AwsError>>;
}

/// A boxed future, as the [`Personalize`] trait's methods return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Implements [`Request`] for each create request: `Request => Details, Kind, create, describe,
/// |request| anchor`.
macro_rules! requests {
    ($($request:ty => $details:ty, $kind:ident, $create:ident, $describe:ident, |$r:ident| $anchor:expr;)*) => {$(
        impl Request for $request {
            type Details = $details;
            const KIND: Kind = Kind::$kind;
            fn name(&self) -> &str {
                &self.name
            }
            fn anchor(&self) -> Option<&str> {
                let $r = self;
                $anchor
            }
            fn create<'a>(&'a self, api: &'a dyn Personalize) -> BoxFuture<'a, Result<String, AwsError>> {
                api.$create(self)
            }
            fn describe<'a>(
                api: &'a dyn Personalize,
                arn: &'a str,
            ) -> BoxFuture<'a, Result<Observation<$details>, AwsError>> {
                api.$describe(arn)
            }
        }
    )*};
}

requests! {
    NewDatasetGroup => (), DatasetGroup, create_dataset_group, describe_dataset_group, |_r| None;
    NewSchema => (), Schema, create_schema, describe_schema, |_r| None;
    NewDataset => DatasetDetails, Dataset, create_dataset, describe_dataset,
        |r| Some(&r.dataset_group_arn);
    NewImportJob => ImportDetails, DatasetImportJob, create_import_job, describe_import_job,
        |r| Some(&r.dataset_arn);
    NewSolution => SolutionDetails, Solution, create_solution, describe_solution,
        |r| Some(&r.dataset_group_arn);
    NewCampaign => CampaignDetails, Campaign, create_campaign, describe_campaign,
        |r| Some(&r.solution_version_arn);
    NewEventTracker => EventTrackerDetails, EventTracker, create_event_tracker,
        describe_event_tracker, |r| Some(&r.dataset_group_arn);
    NewFilter => FilterDetails, Filter, create_filter, describe_filter,
        |r| Some(&r.dataset_group_arn);
    NewRecommender => RecommenderDetails, Recommender, create_recommender, describe_recommender,
        |r| Some(&r.dataset_group_arn);
    NewMetricAttribution => MetricAttributionDetails, MetricAttribution,
        create_metric_attribution, describe_metric_attribution, |r| Some(&r.dataset_group_arn);
    NewBatchInferenceJob => JobDetails, BatchInferenceJob, create_batch_inference_job,
        describe_batch_inference_job, |r| Some(&r.solution_version_arn);
    NewBatchSegmentJob => JobDetails, BatchSegmentJob, create_batch_segment_job,
        describe_batch_segment_job, |r| Some(&r.solution_version_arn);
    NewDatasetExportJob => JobDetails, DatasetExportJob, create_dataset_export_job,
        describe_dataset_export_job, |r| Some(&r.dataset_arn);
    NewDataDeletionJob => JobDetails, DataDeletionJob, create_data_deletion_job,
        describe_data_deletion_job, |r| Some(&r.dataset_group_arn);
}

/// What to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing<'a> {
    /// Every dataset group of the account and region.
    DatasetGroups,
    /// Every schema of the account and region.
    Schemas,
    /// The datasets of a dataset group.
    Datasets(&'a str),
    /// The solutions of a dataset group.
    Solutions(&'a str),
    /// The event trackers of a dataset group.
    EventTrackers(&'a str),
    /// The filters of a dataset group.
    Filters(&'a str),
    /// The recommenders of a dataset group.
    Recommenders(&'a str),
    /// The metric attributions of a dataset group (at most one).
    MetricAttributions(&'a str),
    /// The campaigns of a solution.
    Campaigns(&'a str),
    /// The versions of a solution.
    SolutionVersions(&'a str),
}

/// One entry of a listing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Its ARN.
    pub arn: String,
    /// Its name (versions have none).
    pub name: Option<String>,
    /// Its status (schemas have none).
    pub status: Option<Status>,
    /// When it was created.
    pub created: Option<Timestamp>,
    /// FULL, UPDATE or AUTOTRAIN (solution versions).
    pub training_mode: Option<String>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
}

/// A Personalize status string, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// `CREATE PENDING`.
    CreatePending,
    /// `CREATE IN_PROGRESS`.
    CreateInProgress,
    /// `ACTIVE`.
    Active,
    /// `CREATE FAILED`.
    CreateFailed,
    /// `CREATE STOPPING` (solution versions).
    CreateStopping,
    /// `CREATE STOPPED` (solution versions).
    CreateStopped,
    /// `DELETE PENDING`.
    DeletePending,
    /// `DELETE IN_PROGRESS`.
    DeleteInProgress,
    /// `STOP PENDING` (recommenders).
    StopPending,
    /// `STOP IN_PROGRESS` (recommenders).
    StopInProgress,
    /// `INACTIVE` (a stopped recommender).
    Inactive,
    /// `START PENDING` (recommenders).
    StartPending,
    /// `START IN_PROGRESS` (recommenders).
    StartInProgress,
    /// Anything else, as reported.
    Other(String),
}

impl Status {
    /// Parses a status string as Personalize writes it.
    pub fn parse(s: &str) -> Self {
        match s {
            aws_status::CREATE_PENDING => Self::CreatePending,
            aws_status::CREATE_IN_PROGRESS => Self::CreateInProgress,
            aws_status::ACTIVE => Self::Active,
            aws_status::CREATE_FAILED => Self::CreateFailed,
            aws_status::CREATE_STOPPING => Self::CreateStopping,
            aws_status::CREATE_STOPPED => Self::CreateStopped,
            aws_status::DELETE_PENDING => Self::DeletePending,
            aws_status::DELETE_IN_PROGRESS => Self::DeleteInProgress,
            aws_status::STOP_PENDING => Self::StopPending,
            aws_status::STOP_IN_PROGRESS => Self::StopInProgress,
            aws_status::INACTIVE => Self::Inactive,
            aws_status::START_PENDING => Self::StartPending,
            aws_status::START_IN_PROGRESS => Self::StartInProgress,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The status string as Personalize writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::CreatePending => aws_status::CREATE_PENDING,
            Self::CreateInProgress => aws_status::CREATE_IN_PROGRESS,
            Self::Active => aws_status::ACTIVE,
            Self::CreateFailed => aws_status::CREATE_FAILED,
            Self::CreateStopping => aws_status::CREATE_STOPPING,
            Self::CreateStopped => aws_status::CREATE_STOPPED,
            Self::DeletePending => aws_status::DELETE_PENDING,
            Self::DeleteInProgress => aws_status::DELETE_IN_PROGRESS,
            Self::StopPending => aws_status::STOP_PENDING,
            Self::StopInProgress => aws_status::STOP_IN_PROGRESS,
            Self::Inactive => aws_status::INACTIVE,
            Self::StartPending => aws_status::START_PENDING,
            Self::StartInProgress => aws_status::START_IN_PROGRESS,
            Self::Other(s) => s,
        }
    }

    /// Being created (Personalize refuses to delete it now).
    pub fn is_creating(&self) -> bool {
        matches!(self, Self::CreatePending | Self::CreateInProgress)
    }

    /// Being deleted.
    pub fn is_deleting(&self) -> bool {
        matches!(self, Self::DeletePending | Self::DeleteInProgress)
    }

    /// Being started or stopped (recommenders).
    pub fn is_switching(&self) -> bool {
        matches!(
            self,
            Self::StopPending | Self::StopInProgress | Self::StartPending | Self::StartInProgress
        )
    }

    /// Training or stopping (solution versions): work is in flight.
    pub fn is_in_flight(&self) -> bool {
        self.is_creating() || *self == Self::CreateStopping
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a Describe reports: the status, why it failed, and what is specific to the resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation<T> {
    /// The resource's status.
    pub status: Status,
    /// Why creation failed, if it did.
    pub failure_reason: Option<String>,
    /// The resource's own fields.
    pub details: T,
}

impl<T> Observation<T> {
    /// An observation with no failure.
    pub fn new(status: Status, details: T) -> Self {
        Self {
            status,
            failure_reason: None,
            details,
        }
    }
}

/// CreateDatasetGroup's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDatasetGroup {
    /// Name.
    pub name: String,
    /// ECOMMERCE or VIDEO_ON_DEMAND.
    pub domain: Option<String>,
    /// KMS key for the data.
    pub kms_key_arn: Option<String>,
    /// Role Personalize assumes for the KMS key.
    pub role_arn: Option<String>,
    /// Tags.
    pub tags: Tags,
}

/// CreateSchema's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewSchema {
    /// Name.
    pub name: String,
    /// The Avro schema, as JSON text.
    pub schema: String,
    /// The domain of a domain dataset group.
    pub domain: Option<String>,
}

/// CreateDataset's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDataset {
    /// Name.
    pub name: String,
    /// The group it belongs to.
    pub dataset_group_arn: String,
    /// INTERACTIONS, ITEMS or USERS.
    pub dataset_type: String,
    /// Its schema.
    pub schema_arn: String,
}

/// What DescribeDataset reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetDetails {
    /// The schema it uses.
    pub schema_arn: Option<String>,
}

/// CreateDatasetImportJob's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewImportJob {
    /// Job name.
    pub name: String,
    /// The dataset to import into.
    pub dataset_arn: String,
    /// The S3 location of the data.
    pub data_location: String,
    /// Role Personalize assumes to read it (none: the bucket policy grants Personalize access).
    pub role_arn: Option<String>,
    /// FULL or INCREMENTAL.
    pub mode: String,
}

/// What DescribeDatasetImportJob reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportDetails {
    /// When the job last changed (its completion time once finished).
    pub last_updated: Option<Timestamp>,
}

/// Native auto-training settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoTraining {
    /// performAutoTraining.
    pub enabled: bool,
    /// `rate(N days)`, when enabled with a schedule.
    pub schedule: Option<String>,
}

/// CreateSolution's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewSolution {
    /// Name.
    pub name: String,
    /// The group whose data it trains on.
    pub dataset_group_arn: String,
    /// The recipe.
    pub recipe_arn: String,
    /// Train on this event type only.
    pub event_type: Option<String>,
    /// Hyperparameter optimisation.
    pub perform_hpo: bool,
    /// Native auto-training (always sent: AWS defaults it to on).
    pub auto_training: AutoTraining,
    /// eventValueThreshold.
    pub event_value_threshold: Option<String>,
    /// algorithmHyperParameters.
    pub hyper_parameters: BTreeMap<String, String>,
    /// featureTransformationParameters.
    pub feature_transformation: BTreeMap<String, String>,
    /// eventsConfig.eventParametersList, by event type (empty: not set).
    pub events: Vec<EventParameters>,
    /// performIncrementalUpdate (None: not set).
    pub incremental_update: Option<bool>,
    /// trainingDataConfig.
    pub training_data: Option<TrainingDataConfig>,
    /// hpoConfig.
    pub hpo: Option<HpoConfig>,
    /// Tags.
    pub tags: Tags,
}

/// What DescribeSolution reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolutionDetails {
    /// performAutoTraining (AWS's default is true).
    pub perform_auto_training: Option<bool>,
    /// The auto-training schedule.
    pub schedule: Option<String>,
    /// The status of the latest UpdateSolution, if any.
    pub update_status: Option<Status>,
    /// The event weights in effect (the latest successful update's, else the creation's), by
    /// event type.
    pub events: Vec<EventParameters>,
    /// performIncrementalUpdate in effect.
    pub incremental_update: Option<bool>,
    /// The newest version: (ARN, status).
    pub latest_version: Option<(String, Status)>,
}

/// CreateCampaign's (and UpdateCampaign's) input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewCampaign {
    /// Name.
    pub name: String,
    /// The version to serve.
    pub solution_version_arn: String,
    /// minProvisionedTPS.
    pub min_provisioned_tps: i32,
    /// campaignConfig, when the spec has one.
    pub config: Option<CampaignConfig>,
    /// Tags.
    pub tags: Tags,
}

/// campaignConfig.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignConfig {
    /// itemExplorationConfig as Personalize stores it (strings).
    pub item_exploration: BTreeMap<String, String>,
    /// enableMetadataWithRecommendations.
    pub enable_metadata: Option<bool>,
    /// syncWithLatestSolutionVersion.
    pub sync_with_latest: Option<bool>,
    /// rankingInfluence (POPULARITY, FRESHNESS) as the spec sets it.
    pub ranking_influence: BTreeMap<String, f64>,
}

/// What DescribeCampaign reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignDetails {
    /// The version it serves.
    pub solution_version_arn: Option<String>,
    /// minProvisionedTPS.
    pub min_provisioned_tps: Option<i32>,
    /// rankingInfluence.
    pub ranking_influence: BTreeMap<String, f64>,
    /// itemExplorationConfig.
    pub item_exploration: BTreeMap<String, String>,
    /// The latest UpdateCampaign, if any.
    pub latest_update: Option<CampaignUpdate>,
}

/// The latest UpdateCampaign.
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignUpdate {
    /// Its status.
    pub status: Status,
    /// The version it moves to.
    pub solution_version_arn: Option<String>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
}

/// CreateEventTracker's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewEventTracker {
    /// Name.
    pub name: String,
    /// The group whose interactions it records.
    pub dataset_group_arn: String,
    /// Tags.
    pub tags: Tags,
}

/// What DescribeEventTracker reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventTrackerDetails {
    /// The id PutEvents takes.
    pub tracking_id: Option<String>,
}

/// CreateFilter's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewFilter {
    /// Name.
    pub name: String,
    /// The group whose data it reads.
    pub dataset_group_arn: String,
    /// filterExpression.
    pub filter_expression: String,
    /// Tags.
    pub tags: Tags,
}

/// What DescribeFilter reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterDetails {
    /// filterExpression.
    pub filter_expression: Option<String>,
}

/// CreateRecommender's input, with the state the recommender should be in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewRecommender {
    /// Name.
    pub name: String,
    /// The domain group it serves.
    pub dataset_group_arn: String,
    /// The domain use case's recipe ARN.
    pub recipe_arn: String,
    /// recommenderConfig.
    pub config: RecommenderSettings,
    /// Started (ACTIVE) or stopped (INACTIVE): not part of CreateRecommender.
    pub running: bool,
    /// Tags.
    pub tags: Tags,
}

/// recommenderConfig: the fields the spec sets (None: Personalize's default, not compared).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecommenderSettings {
    /// minRecommendationRequestsPerSecond.
    pub min_requests_per_second: Option<i32>,
    /// itemExplorationConfig as Personalize stores it (strings).
    pub item_exploration: BTreeMap<String, String>,
    /// enableMetadataWithRecommendations.
    pub enable_metadata: Option<bool>,
}

/// What DescribeRecommender reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecommenderDetails {
    /// recommenderConfig as Personalize reports it.
    pub config: RecommenderSettings,
    /// The latest UpdateRecommender, if any.
    pub latest_update: Option<RecommenderUpdate>,
}

/// The latest UpdateRecommender.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommenderUpdate {
    /// Its status.
    pub status: Status,
    /// The configuration it applies.
    pub config: RecommenderSettings,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
}

/// CreateMetricAttribution's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewMetricAttribution {
    /// Name.
    pub name: String,
    /// The group whose events it measures.
    pub dataset_group_arn: String,
    /// metrics, in a stable order.
    pub metrics: Vec<Metric>,
    /// metricsOutputConfig.
    pub output: MetricsOutput,
    /// Tags (applied with TagResource).
    pub tags: Tags,
}

/// What DescribeMetricAttribution and ListMetricAttributionMetrics report beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricAttributionDetails {
    /// The metrics, in a stable order.
    pub metrics: Vec<Metric>,
    /// metricsOutputConfig.
    pub output: Option<MetricsOutput>,
}

/// UpdateMetricAttribution's input: what changes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricAttributionChange {
    /// addMetrics.
    pub add: Vec<Metric>,
    /// removeMetrics (metric names).
    pub remove: Vec<String>,
    /// metricsOutputConfig, when it changes.
    pub output: Option<MetricsOutput>,
}

/// What a failed AWS call means for a reconciler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The resource does not exist: create it (or, when deleting, it is gone).
    NotFound,
    /// A resource of that name exists: adopt it if it is ours.
    AlreadyExists,
    /// Dependents or in-flight work block the call: wait and retry.
    InUse,
    /// The request is invalid: nothing will change until the spec does.
    InvalidInput,
    /// Throttled or over a limit: retry with backoff.
    Throttled,
    /// Anything else (network, 5xx, access denied): retry with backoff.
    Other,
    /// A write refused because the object is observe-only ([`read_only`]): report, never act.
    ReadOnly,
}

impl ErrorKind {
    /// A low-cardinality label for metrics and condition reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "NotFound",
            Self::AlreadyExists => "AlreadyExists",
            Self::InUse => "InUse",
            Self::InvalidInput => "InvalidInput",
            Self::Throttled => "Throttled",
            Self::Other => "Other",
            Self::ReadOnly => "ReadOnly",
        }
    }

    /// Classifies an AWS error code (`__type`).
    pub fn from_code(code: &str) -> Self {
        match code {
            "ResourceNotFoundException" => Self::NotFound,
            "ResourceAlreadyExistsException" => Self::AlreadyExists,
            "ResourceInUseException" => Self::InUse,
            "InvalidInputException"
            | "ValidationException"
            | "InvalidNextTokenException"
            | "TooManyTagsException"
            | "TooManyTagKeysException" => Self::InvalidInput,
            "LimitExceededException" | "ThrottlingException" | "TooManyRequestsException" => {
                Self::Throttled
            }
            _ => Self::Other,
        }
    }
}

/// A failed Personalize call.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    /// The API operation, e.g. `CreateCampaign`.
    pub operation: &'static str,
    /// What it means for the reconciler.
    pub kind: ErrorKind,
    /// The AWS error code, or a description of a transport failure.
    pub code: String,
    /// The AWS error message.
    pub message: String,
}

impl AwsError {
    /// An error of a modelled AWS code (fakes and tests build them this way).
    pub fn new(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        Self {
            operation,
            kind: ErrorKind::from_code(code),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// True when the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Turns NotFound into `None`.
pub fn found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// The region of a Personalize ARN (`arn:aws:personalize:<region>:...`), if it names one.
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The last path segment of an ARN (a solution version's short id).
pub fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The ARN of a sibling resource in the same partition, region and account as `arn`:
/// `arn:aws:personalize:<region>:<account>:<path>`.
pub fn sibling_arn(arn: &str, path: &str) -> String {
    let prefix: Vec<&str> = arn.splitn(6, ':').take(5).collect();
    format!("{}:{path}", prefix.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_modelled_personalize_errors() {
        let cases = [
            ("ResourceNotFoundException", ErrorKind::NotFound),
            ("ResourceAlreadyExistsException", ErrorKind::AlreadyExists),
            ("ResourceInUseException", ErrorKind::InUse),
            ("LimitExceededException", ErrorKind::Throttled),
            ("ThrottlingException", ErrorKind::Throttled),
            ("InvalidInputException", ErrorKind::InvalidInput),
            ("TooManyTagsException", ErrorKind::InvalidInput),
            ("InternalFailure", ErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(ErrorKind::from_code(code), kind, "{code}");
        }
    }

    #[test]
    fn status_strings_round_trip_and_classify() {
        for s in [
            "CREATE PENDING",
            "CREATE IN_PROGRESS",
            "ACTIVE",
            "CREATE FAILED",
            "CREATE STOPPING",
            "CREATE STOPPED",
            "DELETE PENDING",
            "DELETE IN_PROGRESS",
            "STOP PENDING",
            "STOP IN_PROGRESS",
            "INACTIVE",
            "START PENDING",
            "START IN_PROGRESS",
            "SOMETHING NEW",
        ] {
            assert_eq!(Status::parse(s).as_str(), s);
        }
        assert!(Status::parse("CREATE PENDING").is_creating());
        assert!(Status::parse("DELETE IN_PROGRESS").is_deleting());
        assert!(Status::parse("CREATE STOPPING").is_in_flight());
        assert!(!Status::parse("ACTIVE").is_in_flight());
    }

    #[test]
    fn reads_region_short_id_and_sibling_arns() {
        let arn = "arn:aws:personalize:eu-west-1:123456789012:solution/s/abc123";
        assert_eq!(region_of(arn), Some("eu-west-1"));
        assert_eq!(short_id(arn), "abc123");
        assert_eq!(region_of("arn:aws:personalize:::recipe/aws-sims"), None);
        assert_eq!(
            sibling_arn(arn, "campaign/c"),
            "arn:aws:personalize:eu-west-1:123456789012:campaign/c"
        );
    }
}

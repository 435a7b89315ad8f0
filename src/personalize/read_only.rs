//! Observe-only access to Personalize: every read goes through, every write is refused with
//! [`ErrorKind::ReadOnly`] naming the operation it would have called. Objects annotated
//! `personalize-operator.dev/observe-only` are reconciled through it, so whatever a kind's code
//! decides, nothing is created, changed or deleted in AWS for them.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::{
    AwsError, CampaignDetails, DatasetDetails, ErrorKind, EventTrackerDetails, FilterDetails,
    ImportDetails, Kind, Listing, MetricAttributionChange, MetricAttributionDetails, NewCampaign,
    NewDataset, NewDatasetGroup, NewEventTracker, NewFilter, NewImportJob, NewMetricAttribution,
    NewRecommender, NewSchema, NewSolution, Observation, Personalize, RecommenderDetails,
    RecommenderSettings, SolutionDetails, Summary, Tags,
};
use super::{
    JobDetails, NewBatchInferenceJob, NewBatchSegmentJob, NewDataDeletionJob, NewDatasetExportJob,
};

/// A [`Personalize`] that only reads.
pub struct ReadOnly(pub Arc<dyn Personalize>);

/// The refusal of a write.
pub fn refused(operation: &'static str, target: &str) -> AwsError {
    AwsError {
        operation,
        kind: ErrorKind::ReadOnly,
        code: "ObserveOnly".to_owned(),
        message: format!(
            "the object is observe-only: the operator would call {operation} ({target}) but does \
             not change Personalize"
        ),
    }
}

#[async_trait]
impl Personalize for ReadOnly {
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        self.0.list_tags(arn).await
    }
    async fn tag(&self, arn: &str, _: &Tags) -> Result<(), AwsError> {
        Err(refused("TagResource", arn))
    }
    async fn untag(&self, arn: &str, _: &[String]) -> Result<(), AwsError> {
        Err(refused("UntagResource", arn))
    }
    async fn list(&self, listing: Listing<'_>) -> Result<Vec<Summary>, AwsError> {
        self.0.list(listing).await
    }
    async fn delete(&self, kind: Kind, arn: &str) -> Result<(), AwsError> {
        Err(refused(kind.delete_operation(), arn))
    }

    async fn create_dataset_group(&self, req: &NewDatasetGroup) -> Result<String, AwsError> {
        Err(refused("CreateDatasetGroup", &req.name))
    }
    async fn describe_dataset_group(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        self.0.describe_dataset_group(arn).await
    }

    async fn create_schema(&self, req: &NewSchema) -> Result<String, AwsError> {
        Err(refused("CreateSchema", &req.name))
    }
    async fn describe_schema(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        self.0.describe_schema(arn).await
    }

    async fn create_dataset(&self, req: &NewDataset) -> Result<String, AwsError> {
        Err(refused("CreateDataset", &req.name))
    }
    async fn describe_dataset(&self, arn: &str) -> Result<Observation<DatasetDetails>, AwsError> {
        self.0.describe_dataset(arn).await
    }
    async fn update_dataset(&self, arn: &str, _: &str) -> Result<(), AwsError> {
        Err(refused("UpdateDataset", arn))
    }

    async fn create_import_job(&self, req: &NewImportJob) -> Result<String, AwsError> {
        Err(refused("CreateDatasetImportJob", &req.name))
    }
    async fn describe_import_job(&self, arn: &str) -> Result<Observation<ImportDetails>, AwsError> {
        self.0.describe_import_job(arn).await
    }

    async fn create_solution(&self, req: &NewSolution) -> Result<String, AwsError> {
        Err(refused("CreateSolution", &req.name))
    }
    async fn describe_solution(&self, arn: &str) -> Result<Observation<SolutionDetails>, AwsError> {
        self.0.describe_solution(arn).await
    }
    async fn update_solution(&self, arn: &str, _: &NewSolution) -> Result<(), AwsError> {
        Err(refused("UpdateSolution", arn))
    }
    async fn create_solution_version(&self, solution: &str, _: &str) -> Result<String, AwsError> {
        Err(refused("CreateSolutionVersion", solution))
    }
    async fn stop_solution_version(&self, arn: &str) -> Result<(), AwsError> {
        Err(refused("StopSolutionVersionCreation", arn))
    }
    async fn solution_metrics(&self, version: &str) -> Result<BTreeMap<String, f64>, AwsError> {
        self.0.solution_metrics(version).await
    }

    async fn create_campaign(&self, req: &NewCampaign) -> Result<String, AwsError> {
        Err(refused("CreateCampaign", &req.name))
    }
    async fn describe_campaign(&self, arn: &str) -> Result<Observation<CampaignDetails>, AwsError> {
        self.0.describe_campaign(arn).await
    }
    async fn update_campaign(&self, arn: &str, _: &NewCampaign) -> Result<(), AwsError> {
        Err(refused("UpdateCampaign", arn))
    }

    async fn create_event_tracker(&self, req: &NewEventTracker) -> Result<String, AwsError> {
        Err(refused("CreateEventTracker", &req.name))
    }
    async fn describe_event_tracker(
        &self,
        arn: &str,
    ) -> Result<Observation<EventTrackerDetails>, AwsError> {
        self.0.describe_event_tracker(arn).await
    }

    async fn create_filter(&self, req: &NewFilter) -> Result<String, AwsError> {
        Err(refused("CreateFilter", &req.name))
    }
    async fn describe_filter(&self, arn: &str) -> Result<Observation<FilterDetails>, AwsError> {
        self.0.describe_filter(arn).await
    }

    async fn create_recommender(&self, req: &NewRecommender) -> Result<String, AwsError> {
        Err(refused("CreateRecommender", &req.name))
    }
    async fn describe_recommender(
        &self,
        arn: &str,
    ) -> Result<Observation<RecommenderDetails>, AwsError> {
        self.0.describe_recommender(arn).await
    }
    async fn update_recommender(&self, arn: &str, _: &RecommenderSettings) -> Result<(), AwsError> {
        Err(refused("UpdateRecommender", arn))
    }
    async fn set_recommender_running(&self, arn: &str, running: bool) -> Result<(), AwsError> {
        let operation = if running {
            "StartRecommender"
        } else {
            "StopRecommender"
        };
        Err(refused(operation, arn))
    }

    async fn create_metric_attribution(
        &self,
        req: &NewMetricAttribution,
    ) -> Result<String, AwsError> {
        Err(refused("CreateMetricAttribution", &req.name))
    }
    async fn describe_metric_attribution(
        &self,
        arn: &str,
    ) -> Result<Observation<MetricAttributionDetails>, AwsError> {
        self.0.describe_metric_attribution(arn).await
    }
    async fn update_metric_attribution(
        &self,
        arn: &str,
        _: &MetricAttributionChange,
    ) -> Result<(), AwsError> {
        Err(refused("UpdateMetricAttribution", arn))
    }
    async fn create_batch_inference_job(
        &self,
        r: &NewBatchInferenceJob,
    ) -> Result<String, AwsError> {
        Err(refused("CreateBatchInferenceJob", &r.name))
    }
    async fn describe_batch_inference_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.0.describe_batch_inference_job(arn).await
    }
    async fn create_batch_segment_job(&self, r: &NewBatchSegmentJob) -> Result<String, AwsError> {
        Err(refused("CreateBatchSegmentJob", &r.name))
    }
    async fn describe_batch_segment_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.0.describe_batch_segment_job(arn).await
    }
    async fn create_dataset_export_job(&self, r: &NewDatasetExportJob) -> Result<String, AwsError> {
        Err(refused("CreateDatasetExportJob", &r.name))
    }
    async fn describe_dataset_export_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.0.describe_dataset_export_job(arn).await
    }
    async fn create_data_deletion_job(&self, r: &NewDataDeletionJob) -> Result<String, AwsError> {
        Err(refused("CreateDataDeletionJob", &r.name))
    }
    async fn describe_data_deletion_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        self.0.describe_data_deletion_job(arn).await
    }
}

//! The create requests of Personalize's jobs (runs that are never changed, stopped or deleted)
//! and what their Describes report.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use super::Tags;

/// What CreateBatchInferenceJob and CreateBatchSegmentJob both take.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchJob {
    /// Job name.
    pub name: String,
    /// The solution version that recommends (or makes the segments).
    pub solution_version_arn: String,
    /// filterArn.
    pub filter_arn: Option<String>,
    /// jobInput.s3DataSource.path.
    pub input_path: String,
    /// jobOutput.s3DataDestination.path.
    pub output_path: String,
    /// jobOutput.s3DataDestination.kmsKeyArn.
    pub output_kms_key_arn: Option<String>,
    /// roleArn.
    pub role_arn: String,
    /// numResults.
    pub num_results: Option<i32>,
    /// Tags.
    pub tags: Tags,
}

/// CreateBatchInferenceJob's input: a [`BatchJob`] (its fields are read through it) and the
/// inference settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewBatchInferenceJob {
    /// What every batch job takes.
    pub job: BatchJob,
    /// batchInferenceJobConfig.itemExplorationConfig (empty: not set).
    pub item_exploration: BTreeMap<String, String>,
    /// batchInferenceJobConfig.rankingInfluence (empty: not set).
    pub ranking_influence: BTreeMap<String, f64>,
    /// batchInferenceJobMode: BATCH_INFERENCE or THEME_GENERATION.
    pub mode: String,
    /// themeGenerationConfig.fieldsForThemeGeneration.itemName.
    pub theme_item_name: Option<String>,
}

/// CreateBatchSegmentJob's input: a [`BatchJob`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewBatchSegmentJob(pub BatchJob);

impl std::ops::Deref for NewBatchInferenceJob {
    type Target = BatchJob;

    fn deref(&self) -> &BatchJob {
        &self.job
    }
}

impl std::ops::Deref for NewBatchSegmentJob {
    type Target = BatchJob;

    fn deref(&self) -> &BatchJob {
        &self.0
    }
}

/// CreateDatasetExportJob's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDatasetExportJob {
    /// Job name.
    pub name: String,
    /// The dataset to export.
    pub dataset_arn: String,
    /// BULK, PUT or ALL.
    pub ingestion_mode: String,
    /// jobOutput.s3DataDestination.path.
    pub output_path: String,
    /// jobOutput.s3DataDestination.kmsKeyArn.
    pub output_kms_key_arn: Option<String>,
    /// roleArn.
    pub role_arn: String,
    /// Tags.
    pub tags: Tags,
}

/// CreateDataDeletionJob's input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDataDeletionJob {
    /// Job name.
    pub name: String,
    /// The group to delete users from.
    pub dataset_group_arn: String,
    /// dataSource.dataLocation: the CSV of USER_IDs.
    pub data_location: String,
    /// roleArn.
    pub role_arn: String,
    /// Tags.
    pub tags: Tags,
}

/// What a job's Describe reports beyond the status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobDetails {
    /// When it was created.
    pub created: Option<Timestamp>,
    /// When it last changed (its completion time once finished).
    pub last_updated: Option<Timestamp>,
    /// Records deleted (data deletion jobs).
    pub num_deleted: Option<i64>,
}

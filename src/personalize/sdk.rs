//! [`Personalize`] over `aws-sdk-personalize`: the only module that names SDK types. Clients are
//! built per region from one configuration loaded from the standard chain (env, profile, IRSA web
//! identity; `AWS_ENDPOINT_URL*`). Every call is counted in the operator's metrics by operation
//! and outcome.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_personalize::Client;
use aws_sdk_personalize::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_personalize::primitives::DateTime;
use aws_sdk_personalize::types as sdk;
use k8s_openapi::jiff::Timestamp;

use super::{
    AutoTraining, AwsError, Backend, CampaignConfig, CampaignDetails, CampaignUpdate,
    DatasetDetails, ErrorKind, EventTrackerDetails, FilterDetails, ImportDetails, Kind, Listing,
    MetricAttributionChange, MetricAttributionDetails, NewCampaign, NewDataset, NewDatasetGroup,
    NewEventTracker, NewFilter, NewImportJob, NewMetricAttribution, NewRecommender, NewSchema,
    NewSolution, Observation, Personalize, RecommenderDetails, RecommenderSettings,
    RecommenderUpdate, SolutionDetails, Status, Summary, Tags,
};
use super::{
    JobDetails, NewBatchInferenceJob, NewBatchSegmentJob, NewDataDeletionJob, NewDatasetExportJob,
};
use personalize_api::solution::{EventParameters, HpoConfig, TrainingDataConfig};
use personalize_api::{Metric, MetricsOutput};

/// Personalize clients, one per region, sharing the credentials and endpoint configuration.
pub struct Clients {
    base: aws_config::SdkConfig,
    by_region: Mutex<HashMap<String, Arc<Sdk>>>,
}

impl Clients {
    /// Clients built from an already-loaded SDK configuration.
    pub fn new(base: aws_config::SdkConfig) -> Self {
        Self {
            base,
            by_region: Mutex::default(),
        }
    }

    /// Loads the standard AWS configuration chain.
    pub async fn from_env() -> Self {
        Self::new(aws_config::load_from_env().await)
    }
}

impl Backend for Clients {
    fn personalize(&self, region: Option<&str>) -> Arc<dyn Personalize> {
        let Some(region) = region else {
            return Arc::new(Sdk(Client::new(&self.base)));
        };
        let mut clients = self.by_region.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_personalize::config::Builder::from(&self.base)
                    .region(aws_config::Region::new(region.to_owned()))
                    .build();
                Arc::new(Sdk(Client::from_conf(config)))
            })
            .clone()
    }
}

/// One region's SDK client.
pub struct Sdk(Client);

/// Turns an SDK result into one with an [`AwsError`] naming the operation, and counts the call.
trait AwsResultExt<T> {
    fn aws(self, operation: &'static str) -> Result<T, AwsError>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn aws(self, operation: &'static str) -> Result<T, AwsError> {
        let metrics = crate::metrics::global();
        if self.is_ok() {
            metrics.aws_call(operation, "ok");
        }
        self.map_err(|err| {
            let (code, message) = match err.as_service_error() {
                Some(service) => (
                    service.code().unwrap_or("Unknown").to_owned(),
                    service.message().unwrap_or_default().to_owned(),
                ),
                None => ("RequestFailed".to_owned(), describe_chain(&err)),
            };
            let kind = ErrorKind::from_code(&code);
            metrics.aws_call(operation, kind.as_str());
            AwsError {
                operation,
                kind,
                code,
                message,
            }
        })
    }
}

/// The messages of an error and its sources, joined: transport errors hide the cause deep down.
fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

fn status(s: Option<&str>) -> Status {
    Status::parse(s.unwrap_or_default())
}

fn time(t: Option<&DateTime>) -> Option<Timestamp> {
    let t = t?;
    Timestamp::new(t.secs(), t.subsec_nanos().try_into().unwrap_or(0)).ok()
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn sdk_tags(tags: &Tags) -> Option<Vec<sdk::Tag>> {
    Some(
        tags.iter()
            .filter_map(|(k, v)| sdk::Tag::builder().tag_key(k).tag_value(v).build().ok())
            .collect(),
    )
}

fn sdk_metric(m: &Metric) -> Option<sdk::MetricAttribute> {
    sdk::MetricAttribute::builder()
        .metric_name(&m.metric_name)
        .event_type(&m.event_type)
        .expression(&m.expression)
        .build()
        .ok()
}

fn metric(m: &sdk::MetricAttribute) -> Metric {
    Metric {
        metric_name: m.metric_name().to_owned(),
        event_type: m.event_type().to_owned(),
        expression: m.expression().to_owned(),
    }
}

fn sdk_metrics_output(o: &MetricsOutput) -> Option<sdk::MetricAttributionOutput> {
    let s3 = o.s3_path.as_ref().and_then(|path| {
        sdk::S3DataConfig::builder()
            .path(path)
            .set_kms_key_arn(o.kms_key_arn.clone())
            .build()
            .ok()
    });
    sdk::MetricAttributionOutput::builder()
        .role_arn(&o.role_arn)
        .set_s3_data_destination(s3)
        .build()
        .ok()
}

fn metrics_output(o: &sdk::MetricAttributionOutput) -> MetricsOutput {
    let s3 = o.s3_data_destination();
    MetricsOutput {
        role_arn: o.role_arn().to_owned(),
        s3_path: s3.map(|d| d.path().to_owned()),
        kms_key_arn: owned(s3.and_then(|d| d.kms_key_arn())),
    }
}

fn events_config(events: &[EventParameters]) -> Option<sdk::EventsConfig> {
    if events.is_empty() {
        return None;
    }
    let list = events.iter().map(|e| {
        sdk::EventParameters::builder()
            .event_type(&e.event_type)
            .weight(e.weight)
            .set_event_value_threshold(e.event_value_threshold)
            .build()
    });
    Some(
        sdk::EventsConfig::builder()
            .set_event_parameters_list(Some(list.collect()))
            .build(),
    )
}

/// The event weights an eventsConfig sets, by event type.
fn events_of(config: Option<&sdk::EventsConfig>) -> Vec<EventParameters> {
    let mut events: Vec<EventParameters> = config
        .map(|c| c.event_parameters_list())
        .unwrap_or_default()
        .iter()
        .map(|e| EventParameters {
            event_type: e.event_type().unwrap_or_default().to_owned(),
            weight: e.weight().unwrap_or_default(),
            event_value_threshold: e.event_value_threshold(),
        })
        .collect();
    events.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    events
}

fn hpo_config(config: &HpoConfig) -> sdk::HpoConfig {
    let objective = config.objective.as_ref().map(|o| {
        sdk::HpoObjective::builder()
            .set_type(o.type_.clone())
            .set_metric_name(o.metric_name.clone())
            .set_metric_regex(o.metric_regex.clone())
            .build()
    });
    let resources = config.resource_config.as_ref().map(|r| {
        sdk::HpoResourceConfig::builder()
            .set_max_number_of_training_jobs(r.max_number_of_training_jobs.map(|n| n.to_string()))
            .set_max_parallel_training_jobs(r.max_parallel_training_jobs.map(|n| n.to_string()))
            .build()
    });
    let ranges = config.algorithm_hyper_parameter_ranges.as_ref().map(|r| {
        let integer = r.integer_hyper_parameter_ranges.iter().map(|i| {
            sdk::IntegerHyperParameterRange::builder()
                .name(&i.name)
                .min_value(i.min_value.try_into().unwrap_or(i32::MAX))
                .max_value(i.max_value.try_into().unwrap_or(i32::MAX))
                .build()
        });
        let continuous = r.continuous_hyper_parameter_ranges.iter().map(|c| {
            sdk::ContinuousHyperParameterRange::builder()
                .name(&c.name)
                .min_value(c.min_value)
                .max_value(c.max_value)
                .build()
        });
        let categorical = r.categorical_hyper_parameter_ranges.iter().map(|c| {
            sdk::CategoricalHyperParameterRange::builder()
                .name(&c.name)
                .set_values(Some(c.values.clone()))
                .build()
        });
        sdk::HyperParameterRanges::builder()
            .set_integer_hyper_parameter_ranges(Some(integer.collect()))
            .set_continuous_hyper_parameter_ranges(Some(continuous.collect()))
            .set_categorical_hyper_parameter_ranges(Some(categorical.collect()))
            .build()
    });
    sdk::HpoConfig::builder()
        .set_hpo_objective(objective)
        .set_hpo_resource_config(resources)
        .set_algorithm_hyper_parameter_ranges(ranges)
        .build()
}

fn training_data_config(config: &TrainingDataConfig) -> sdk::TrainingDataConfig {
    let map = |m: &BTreeMap<String, Vec<String>>| {
        (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    sdk::TrainingDataConfig::builder()
        .set_excluded_dataset_columns(map(&config.excluded_dataset_columns))
        .set_included_dataset_columns(map(&config.included_dataset_columns))
        .build()
}

fn non_empty(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn auto_training_config(auto: &AutoTraining) -> Option<sdk::AutoTrainingConfig> {
    let schedule = auto.schedule.as_ref().filter(|_| auto.enabled)?;
    Some(
        sdk::AutoTrainingConfig::builder()
            .scheduling_expression(schedule)
            .build(),
    )
}

fn campaign_config(config: Option<&CampaignConfig>) -> Option<sdk::CampaignConfig> {
    let config = config?;
    Some(
        sdk::CampaignConfig::builder()
            .set_item_exploration_config(non_empty(&config.item_exploration))
            .set_enable_metadata_with_recommendations(config.enable_metadata)
            .set_sync_with_latest_solution_version(config.sync_with_latest)
            .set_ranking_influence((!config.ranking_influence.is_empty()).then(|| {
                config
                    .ranking_influence
                    .iter()
                    .map(|(k, v)| (sdk::RankingInfluenceType::from(k.as_str()), *v))
                    .collect()
            }))
            .build(),
    )
}

/// An S3 location (path and optional KMS key) as the jobs take it.
fn s3(path: &str, kms_key_arn: Option<&String>) -> Result<sdk::S3DataConfig, AwsError> {
    sdk::S3DataConfig::builder()
        .path(path)
        .set_kms_key_arn(kms_key_arn.cloned())
        .build()
        .map_err(|e| AwsError::new("Create", "InvalidInputException", e.to_string()))
}

fn ranking_influence(
    influence: &BTreeMap<String, f64>,
) -> Option<HashMap<sdk::RankingInfluenceType, f64>> {
    (!influence.is_empty()).then(|| {
        influence
            .iter()
            .map(|(k, v)| (sdk::RankingInfluenceType::from(k.as_str()), *v))
            .collect()
    })
}

/// A job's Describe output (`$out`, whose `$job()` is the job) as an observation; `$num_deleted`
/// reads the records deleted (data deletion jobs).
macro_rules! described_job {
    ($out:expr, $job:ident, $num_deleted:expr) => {{
        let out = $out;
        let j = out.$job();
        Ok(job(
            j.and_then(|j| j.status()),
            j.and_then(|j| j.failure_reason()),
            j.and_then(|j| j.creation_date_time()),
            j.and_then(|j| j.last_updated_date_time()),
            j.and_then($num_deleted),
        ))
    }};
}

/// A job's Describe, as an observation: status, failure reason, times, records deleted.
fn job(
    state: Option<&str>,
    failure: Option<&str>,
    created: Option<&DateTime>,
    updated: Option<&DateTime>,
    num_deleted: Option<i32>,
) -> Observation<JobDetails> {
    Observation {
        status: status(state),
        failure_reason: owned(failure),
        details: JobDetails {
            created: time(created),
            last_updated: time(updated),
            num_deleted: num_deleted.map(i64::from),
        },
    }
}

fn recommender_config(config: &RecommenderSettings) -> sdk::RecommenderConfig {
    sdk::RecommenderConfig::builder()
        .set_min_recommendation_requests_per_second(config.min_requests_per_second)
        .set_item_exploration_config(non_empty(&config.item_exploration))
        .set_enable_metadata_with_recommendations(config.enable_metadata)
        .build()
}

fn recommender_settings(config: Option<&sdk::RecommenderConfig>) -> RecommenderSettings {
    RecommenderSettings {
        min_requests_per_second: config.and_then(|c| c.min_recommendation_requests_per_second()),
        item_exploration: config
            .and_then(|c| c.item_exploration_config())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        enable_metadata: config.and_then(|c| c.enable_metadata_with_recommendations()),
    }
}

/// A page of a listing: its entries and the token of the next page.
type Page = (Vec<Summary>, Option<String>);

/// A summary of what most listings report.
fn summary(arn: Option<&str>, name: Option<&str>, state: Option<&str>) -> Summary {
    Summary {
        arn: arn.unwrap_or_default().to_owned(),
        name: owned(name),
        status: state.map(Status::parse),
        ..Summary::default()
    }
}

/// Sends one page of a List call: `page!(token, <operation name>, request, items, |item| summary)`.
macro_rules! page {
    ($token:ident, $operation:literal, $request:expr, $items:ident, |$x:ident| $summary:expr) => {{
        let out = $request
            .set_next_token($token)
            .max_results(100)
            .send()
            .await
            .aws($operation)?;
        let items = out.$items().iter().map(|$x| $summary).collect();
        (items, owned(out.next_token()))
    }};
}

/// Sends a Delete call: `deleted!(<operation name>, request)`.
macro_rules! deleted {
    ($operation:literal, $request:expr) => {
        $request.send().await.aws($operation).map(drop)
    };
}

impl Sdk {
    async fn page(&self, listing: Listing<'_>, token: Option<String>) -> Result<Page, AwsError> {
        let c = &self.0;
        Ok(match listing {
            Listing::DatasetGroups => page!(
                token,
                "ListDatasetGroups",
                c.list_dataset_groups(),
                dataset_groups,
                |g| summary(g.dataset_group_arn(), g.name(), g.status())
            ),
            Listing::Schemas => page!(
                token,
                "ListSchemas",
                c.list_schemas(),
                schemas,
                |x| summary(x.schema_arn(), x.name(), None)
            ),
            Listing::Datasets(group) => page!(
                token,
                "ListDatasets",
                c.list_datasets().dataset_group_arn(group),
                datasets,
                |d| summary(d.dataset_arn(), d.name(), d.status())
            ),
            Listing::Solutions(group) => page!(
                token,
                "ListSolutions",
                c.list_solutions().dataset_group_arn(group),
                solutions,
                |x| summary(x.solution_arn(), x.name(), x.status())
            ),
            Listing::EventTrackers(group) => page!(
                token,
                "ListEventTrackers",
                c.list_event_trackers().dataset_group_arn(group),
                event_trackers,
                |t| summary(t.event_tracker_arn(), t.name(), t.status())
            ),
            Listing::Filters(group) => page!(
                token,
                "ListFilters",
                c.list_filters().dataset_group_arn(group),
                filters,
                |f| summary(f.filter_arn(), f.name(), f.status())
            ),
            Listing::Recommenders(group) => page!(
                token,
                "ListRecommenders",
                c.list_recommenders().dataset_group_arn(group),
                recommenders,
                |r| summary(r.recommender_arn(), r.name(), r.status())
            ),
            Listing::MetricAttributions(group) => page!(
                token,
                "ListMetricAttributions",
                c.list_metric_attributions().dataset_group_arn(group),
                metric_attributions,
                |m| summary(m.metric_attribution_arn(), m.name(), m.status())
            ),
            Listing::Campaigns(solution) => page!(
                token,
                "ListCampaigns",
                c.list_campaigns().solution_arn(solution),
                campaigns,
                |k| summary(k.campaign_arn(), k.name(), k.status())
            ),
            Listing::SolutionVersions(solution) => page!(
                token,
                "ListSolutionVersions",
                c.list_solution_versions().solution_arn(solution),
                solution_versions,
                |v| Summary {
                    created: time(v.creation_date_time()),
                    training_mode: v.training_mode().map(|m| m.as_str().to_owned()),
                    failure_reason: owned(v.failure_reason()),
                    ..summary(v.solution_version_arn(), None, v.status())
                }
            ),
        })
    }
}

#[async_trait]
impl Personalize for Sdk {
    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let out = self
            .0
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .aws("ListTagsForResource")?;
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
            .collect())
    }

    async fn tag(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.0
            .tag_resource()
            .resource_arn(arn)
            .set_tags(sdk_tags(tags))
            .send()
            .await
            .aws("TagResource")
            .map(drop)
    }

    async fn untag(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.0
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .aws("UntagResource")
            .map(drop)
    }

    async fn list(&self, listing: Listing<'_>) -> Result<Vec<Summary>, AwsError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let (items, next) = self.page(listing, token).await?;
            all.extend(items);
            match next {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn delete(&self, kind: Kind, arn: &str) -> Result<(), AwsError> {
        let c = &self.0;
        match kind {
            Kind::DatasetGroup => deleted!(
                "DeleteDatasetGroup",
                c.delete_dataset_group().dataset_group_arn(arn)
            ),
            Kind::Schema => deleted!("DeleteSchema", c.delete_schema().schema_arn(arn)),
            Kind::Dataset => deleted!("DeleteDataset", c.delete_dataset().dataset_arn(arn)),
            Kind::DatasetImportJob
            | Kind::BatchInferenceJob
            | Kind::BatchSegmentJob
            | Kind::DatasetExportJob
            | Kind::DataDeletionJob => Err(AwsError::new(
                kind.delete_operation(),
                "InvalidInputException",
                format!("Personalize cannot delete a {}", kind.noun()),
            )),
            Kind::Solution => deleted!("DeleteSolution", c.delete_solution().solution_arn(arn)),
            Kind::Campaign => deleted!("DeleteCampaign", c.delete_campaign().campaign_arn(arn)),
            Kind::EventTracker => deleted!(
                "DeleteEventTracker",
                c.delete_event_tracker().event_tracker_arn(arn)
            ),
            Kind::Filter => deleted!("DeleteFilter", c.delete_filter().filter_arn(arn)),
            Kind::Recommender => deleted!(
                "DeleteRecommender",
                c.delete_recommender().recommender_arn(arn)
            ),
            Kind::MetricAttribution => deleted!(
                "DeleteMetricAttribution",
                c.delete_metric_attribution().metric_attribution_arn(arn)
            ),
        }
    }

    async fn create_dataset_group(&self, req: &NewDatasetGroup) -> Result<String, AwsError> {
        let out = self
            .0
            .create_dataset_group()
            .name(&req.name)
            .set_domain(req.domain.as_deref().map(sdk::Domain::from))
            .set_kms_key_arn(req.kms_key_arn.clone())
            .set_role_arn(req.role_arn.clone())
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateDatasetGroup")?;
        Ok(out.dataset_group_arn().unwrap_or_default().to_owned())
    }

    async fn describe_dataset_group(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        let out = self
            .0
            .describe_dataset_group()
            .dataset_group_arn(arn)
            .send()
            .await
            .aws("DescribeDatasetGroup")?;
        let group = out.dataset_group();
        Ok(Observation {
            status: status(group.and_then(|g| g.status())),
            failure_reason: owned(group.and_then(|g| g.failure_reason())),
            details: (),
        })
    }

    async fn create_schema(&self, req: &NewSchema) -> Result<String, AwsError> {
        let out = self
            .0
            .create_schema()
            .name(&req.name)
            .schema(&req.schema)
            .set_domain(req.domain.as_deref().map(sdk::Domain::from))
            .send()
            .await
            .aws("CreateSchema")?;
        Ok(out.schema_arn().unwrap_or_default().to_owned())
    }

    async fn describe_schema(&self, arn: &str) -> Result<Observation<()>, AwsError> {
        self.0
            .describe_schema()
            .schema_arn(arn)
            .send()
            .await
            .aws("DescribeSchema")?;
        Ok(Observation::new(Status::Active, ()))
    }

    async fn create_dataset(&self, req: &NewDataset) -> Result<String, AwsError> {
        let out = self
            .0
            .create_dataset()
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .dataset_type(&req.dataset_type)
            .schema_arn(&req.schema_arn)
            .send()
            .await
            .aws("CreateDataset")?;
        Ok(out.dataset_arn().unwrap_or_default().to_owned())
    }

    async fn describe_dataset(&self, arn: &str) -> Result<Observation<DatasetDetails>, AwsError> {
        let out = self
            .0
            .describe_dataset()
            .dataset_arn(arn)
            .send()
            .await
            .aws("DescribeDataset")?;
        let dataset = out.dataset();
        Ok(Observation::new(
            status(dataset.and_then(|d| d.status())),
            DatasetDetails {
                schema_arn: owned(dataset.and_then(|d| d.schema_arn())),
            },
        ))
    }

    async fn update_dataset(&self, arn: &str, schema_arn: &str) -> Result<(), AwsError> {
        self.0
            .update_dataset()
            .dataset_arn(arn)
            .schema_arn(schema_arn)
            .send()
            .await
            .aws("UpdateDataset")
            .map(drop)
    }

    async fn create_import_job(&self, req: &NewImportJob) -> Result<String, AwsError> {
        let out = self
            .0
            .create_dataset_import_job()
            .job_name(&req.name)
            .dataset_arn(&req.dataset_arn)
            .data_source(
                sdk::DataSource::builder()
                    .data_location(&req.data_location)
                    .build(),
            )
            .set_role_arn(req.role_arn.clone())
            .import_mode(sdk::ImportMode::from(req.mode.as_str()))
            .send()
            .await
            .aws("CreateDatasetImportJob")?;
        Ok(out.dataset_import_job_arn().unwrap_or_default().to_owned())
    }

    async fn describe_import_job(&self, arn: &str) -> Result<Observation<ImportDetails>, AwsError> {
        let out = self
            .0
            .describe_dataset_import_job()
            .dataset_import_job_arn(arn)
            .send()
            .await
            .aws("DescribeDatasetImportJob")?;
        let job = out.dataset_import_job();
        Ok(Observation {
            status: status(job.and_then(|j| j.status())),
            failure_reason: owned(job.and_then(|j| j.failure_reason())),
            details: ImportDetails {
                last_updated: time(job.and_then(|j| j.last_updated_date_time())),
            },
        })
    }

    async fn create_solution(&self, req: &NewSolution) -> Result<String, AwsError> {
        let config = sdk::SolutionConfig::builder()
            .set_event_value_threshold(req.event_value_threshold.clone())
            .set_algorithm_hyper_parameters(non_empty(&req.hyper_parameters))
            .set_feature_transformation_parameters(non_empty(&req.feature_transformation))
            .set_auto_training_config(auto_training_config(&req.auto_training))
            .set_events_config(events_config(&req.events))
            .set_training_data_config(req.training_data.as_ref().map(training_data_config))
            .set_hpo_config(req.hpo.as_ref().map(hpo_config))
            .build();
        let out = self
            .0
            .create_solution()
            .set_perform_incremental_update(req.incremental_update)
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .recipe_arn(&req.recipe_arn)
            .set_event_type(req.event_type.clone())
            .perform_hpo(req.perform_hpo)
            .perform_auto_training(req.auto_training.enabled)
            .solution_config(config)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateSolution")?;
        Ok(out.solution_arn().unwrap_or_default().to_owned())
    }

    async fn describe_solution(&self, arn: &str) -> Result<Observation<SolutionDetails>, AwsError> {
        let out = self
            .0
            .describe_solution()
            .solution_arn(arn)
            .send()
            .await
            .aws("DescribeSolution")?;
        let solution = out.solution();
        let latest = solution.and_then(|s| s.latest_solution_version());
        let update = solution.and_then(|s| s.latest_solution_update());
        // What the latest update set is in effect once it succeeded.
        let applied = update.filter(|u| u.status() == Some(super::aws_status::ACTIVE));
        Ok(Observation {
            status: status(solution.and_then(|s| s.status())),
            failure_reason: None,
            details: SolutionDetails {
                perform_auto_training: solution.and_then(|s| s.perform_auto_training()),
                schedule: owned(
                    solution
                        .and_then(|s| s.solution_config())
                        .and_then(|c| c.auto_training_config())
                        .and_then(|a| a.scheduling_expression()),
                ),
                update_status: update.and_then(|u| u.status()).map(Status::parse),
                events: events_of(
                    applied
                        .and_then(|u| u.solution_update_config())
                        .and_then(|c| c.events_config())
                        .or_else(|| {
                            solution
                                .and_then(|s| s.solution_config())
                                .and_then(|c| c.events_config())
                        }),
                ),
                incremental_update: applied
                    .and_then(|u| u.perform_incremental_update())
                    .or_else(|| solution.and_then(|s| s.perform_incremental_update())),
                latest_version: latest
                    .and_then(|v| Some((v.solution_version_arn()?.to_owned(), status(v.status())))),
            },
        })
    }

    async fn update_solution(&self, arn: &str, req: &NewSolution) -> Result<(), AwsError> {
        let update = sdk::SolutionUpdateConfig::builder()
            .set_auto_training_config(auto_training_config(&req.auto_training))
            .set_events_config(events_config(&req.events))
            .build();
        self.0
            .update_solution()
            .solution_arn(arn)
            .perform_auto_training(req.auto_training.enabled)
            .set_perform_incremental_update(req.incremental_update)
            .solution_update_config(update)
            .send()
            .await
            .aws("UpdateSolution")
            .map(drop)
    }

    async fn create_solution_version(
        &self,
        solution_arn: &str,
        mode: &str,
    ) -> Result<String, AwsError> {
        let out = self
            .0
            .create_solution_version()
            .solution_arn(solution_arn)
            .training_mode(sdk::TrainingMode::from(mode))
            .send()
            .await
            .aws("CreateSolutionVersion")?;
        Ok(out.solution_version_arn().unwrap_or_default().to_owned())
    }

    async fn stop_solution_version(&self, arn: &str) -> Result<(), AwsError> {
        self.0
            .stop_solution_version_creation()
            .solution_version_arn(arn)
            .send()
            .await
            .aws("StopSolutionVersionCreation")
            .map(drop)
    }

    async fn solution_metrics(&self, version_arn: &str) -> Result<BTreeMap<String, f64>, AwsError> {
        let out = self
            .0
            .get_solution_metrics()
            .solution_version_arn(version_arn)
            .send()
            .await
            .aws("GetSolutionMetrics")?;
        Ok(out
            .metrics()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default())
    }

    async fn create_campaign(&self, req: &NewCampaign) -> Result<String, AwsError> {
        let out = self
            .0
            .create_campaign()
            .name(&req.name)
            .solution_version_arn(&req.solution_version_arn)
            .min_provisioned_tps(req.min_provisioned_tps)
            .set_campaign_config(campaign_config(req.config.as_ref()))
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateCampaign")?;
        Ok(out.campaign_arn().unwrap_or_default().to_owned())
    }

    async fn describe_campaign(&self, arn: &str) -> Result<Observation<CampaignDetails>, AwsError> {
        let out = self
            .0
            .describe_campaign()
            .campaign_arn(arn)
            .send()
            .await
            .aws("DescribeCampaign")?;
        let campaign = out.campaign();
        Ok(Observation {
            status: status(campaign.and_then(|c| c.status())),
            failure_reason: owned(campaign.and_then(|c| c.failure_reason())),
            details: CampaignDetails {
                solution_version_arn: owned(campaign.and_then(|c| c.solution_version_arn())),
                min_provisioned_tps: campaign.and_then(|c| c.min_provisioned_tps()),
                ranking_influence: campaign
                    .and_then(|c| c.campaign_config())
                    .and_then(|c| c.ranking_influence())
                    .map(|m| m.iter().map(|(k, v)| (k.as_str().to_owned(), *v)).collect())
                    .unwrap_or_default(),
                item_exploration: campaign
                    .and_then(|c| c.campaign_config())
                    .and_then(|c| c.item_exploration_config())
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                latest_update: campaign.and_then(|c| c.latest_campaign_update()).map(|u| {
                    CampaignUpdate {
                        status: status(u.status()),
                        solution_version_arn: owned(u.solution_version_arn()),
                        failure_reason: owned(u.failure_reason()),
                    }
                }),
            },
        })
    }

    async fn update_campaign(&self, arn: &str, req: &NewCampaign) -> Result<(), AwsError> {
        self.0
            .update_campaign()
            .campaign_arn(arn)
            .solution_version_arn(&req.solution_version_arn)
            .min_provisioned_tps(req.min_provisioned_tps)
            .set_campaign_config(campaign_config(req.config.as_ref()))
            .send()
            .await
            .aws("UpdateCampaign")
            .map(drop)
    }

    async fn create_event_tracker(&self, req: &NewEventTracker) -> Result<String, AwsError> {
        let out = self
            .0
            .create_event_tracker()
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateEventTracker")?;
        Ok(out.event_tracker_arn().unwrap_or_default().to_owned())
    }

    async fn describe_event_tracker(
        &self,
        arn: &str,
    ) -> Result<Observation<EventTrackerDetails>, AwsError> {
        let out = self
            .0
            .describe_event_tracker()
            .event_tracker_arn(arn)
            .send()
            .await
            .aws("DescribeEventTracker")?;
        let tracker = out.event_tracker();
        Ok(Observation::new(
            status(tracker.and_then(|t| t.status())),
            EventTrackerDetails {
                tracking_id: owned(tracker.and_then(|t| t.tracking_id())),
            },
        ))
    }

    async fn create_filter(&self, req: &NewFilter) -> Result<String, AwsError> {
        let out = self
            .0
            .create_filter()
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .filter_expression(&req.filter_expression)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateFilter")?;
        Ok(out.filter_arn().unwrap_or_default().to_owned())
    }

    async fn describe_filter(&self, arn: &str) -> Result<Observation<FilterDetails>, AwsError> {
        let out = self
            .0
            .describe_filter()
            .filter_arn(arn)
            .send()
            .await
            .aws("DescribeFilter")?;
        let filter = out.filter();
        Ok(Observation {
            status: status(filter.and_then(|f| f.status())),
            failure_reason: owned(filter.and_then(|f| f.failure_reason())),
            details: FilterDetails {
                filter_expression: owned(filter.and_then(|f| f.filter_expression())),
            },
        })
    }

    async fn create_recommender(&self, req: &NewRecommender) -> Result<String, AwsError> {
        let out = self
            .0
            .create_recommender()
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .recipe_arn(&req.recipe_arn)
            .recommender_config(recommender_config(&req.config))
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateRecommender")?;
        Ok(out.recommender_arn().unwrap_or_default().to_owned())
    }

    async fn describe_recommender(
        &self,
        arn: &str,
    ) -> Result<Observation<RecommenderDetails>, AwsError> {
        let out = self
            .0
            .describe_recommender()
            .recommender_arn(arn)
            .send()
            .await
            .aws("DescribeRecommender")?;
        let recommender = out.recommender();
        Ok(Observation {
            status: status(recommender.and_then(|r| r.status())),
            failure_reason: owned(recommender.and_then(|r| r.failure_reason())),
            details: RecommenderDetails {
                config: recommender_settings(recommender.and_then(|r| r.recommender_config())),
                latest_update: recommender
                    .and_then(|r| r.latest_recommender_update())
                    .map(|u| RecommenderUpdate {
                        status: status(u.status()),
                        config: recommender_settings(u.recommender_config()),
                        failure_reason: owned(u.failure_reason()),
                    }),
            },
        })
    }

    async fn update_recommender(
        &self,
        arn: &str,
        config: &RecommenderSettings,
    ) -> Result<(), AwsError> {
        self.0
            .update_recommender()
            .recommender_arn(arn)
            .recommender_config(recommender_config(config))
            .send()
            .await
            .aws("UpdateRecommender")
            .map(drop)
    }

    async fn set_recommender_running(&self, arn: &str, running: bool) -> Result<(), AwsError> {
        if running {
            let call = self.0.start_recommender().recommender_arn(arn).send().await;
            call.aws("StartRecommender").map(drop)
        } else {
            let call = self.0.stop_recommender().recommender_arn(arn).send().await;
            call.aws("StopRecommender").map(drop)
        }
    }

    async fn create_metric_attribution(
        &self,
        req: &NewMetricAttribution,
    ) -> Result<String, AwsError> {
        let out = self
            .0
            .create_metric_attribution()
            .name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .set_metrics(Some(req.metrics.iter().filter_map(sdk_metric).collect()))
            .set_metrics_output_config(sdk_metrics_output(&req.output))
            .send()
            .await
            .aws("CreateMetricAttribution")?;
        let arn = out.metric_attribution_arn().unwrap_or_default().to_owned();
        if !req.tags.is_empty() {
            self.tag(&arn, &req.tags).await?;
        }
        Ok(arn)
    }

    async fn describe_metric_attribution(
        &self,
        arn: &str,
    ) -> Result<Observation<MetricAttributionDetails>, AwsError> {
        let out = self
            .0
            .describe_metric_attribution()
            .metric_attribution_arn(arn)
            .send()
            .await
            .aws("DescribeMetricAttribution")?;
        let attribution = out.metric_attribution();
        // At most 10 metrics: one page.
        let listed = self
            .0
            .list_metric_attribution_metrics()
            .metric_attribution_arn(arn)
            .max_results(100)
            .send()
            .await
            .aws("ListMetricAttributionMetrics")?;
        let mut metrics: Vec<Metric> = listed.metrics().iter().map(metric).collect();
        metrics.sort();
        Ok(Observation {
            status: status(attribution.and_then(|a| a.status())),
            failure_reason: owned(attribution.and_then(|a| a.failure_reason())),
            details: MetricAttributionDetails {
                metrics,
                output: attribution
                    .and_then(|a| a.metrics_output_config())
                    .map(metrics_output),
            },
        })
    }

    async fn update_metric_attribution(
        &self,
        arn: &str,
        change: &MetricAttributionChange,
    ) -> Result<(), AwsError> {
        let add = change.add.iter().filter_map(sdk_metric).collect::<Vec<_>>();
        self.0
            .update_metric_attribution()
            .metric_attribution_arn(arn)
            .set_add_metrics((!add.is_empty()).then_some(add))
            .set_remove_metrics((!change.remove.is_empty()).then(|| change.remove.clone()))
            .set_metrics_output_config(change.output.as_ref().and_then(sdk_metrics_output))
            .send()
            .await
            .aws("UpdateMetricAttribution")
            .map(drop)
    }

    async fn create_batch_inference_job(
        &self,
        req: &NewBatchInferenceJob,
    ) -> Result<String, AwsError> {
        let input = sdk::BatchInferenceJobInput::builder()
            .s3_data_source(s3(&req.input_path, None)?)
            .build();
        let output = sdk::BatchInferenceJobOutput::builder()
            .s3_data_destination(s3(&req.output_path, req.output_kms_key_arn.as_ref())?)
            .build();
        let config =
            (!req.item_exploration.is_empty() || !req.ranking_influence.is_empty()).then(|| {
                sdk::BatchInferenceJobConfig::builder()
                    .set_item_exploration_config(non_empty(&req.item_exploration))
                    .set_ranking_influence(ranking_influence(&req.ranking_influence))
                    .build()
            });
        let theme = match &req.theme_item_name {
            Some(name) => Some(
                sdk::ThemeGenerationConfig::builder()
                    .fields_for_theme_generation(
                        sdk::FieldsForThemeGeneration::builder()
                            .item_name(name)
                            .build()
                            .map_err(|e| {
                                AwsError::new(
                                    "CreateBatchInferenceJob",
                                    "InvalidInputException",
                                    e.to_string(),
                                )
                            })?,
                    )
                    .build(),
            ),
            None => None,
        };
        let out = self
            .0
            .create_batch_inference_job()
            .job_name(&req.name)
            .solution_version_arn(&req.solution_version_arn)
            .set_filter_arn(req.filter_arn.clone())
            .set_num_results(req.num_results)
            .job_input(input)
            .job_output(output)
            .role_arn(&req.role_arn)
            .set_batch_inference_job_config(config)
            .batch_inference_job_mode(sdk::BatchInferenceJobMode::from(req.mode.as_str()))
            .set_theme_generation_config(theme)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateBatchInferenceJob")?;
        Ok(out.batch_inference_job_arn().unwrap_or_default().to_owned())
    }

    async fn describe_batch_inference_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let out = self
            .0
            .describe_batch_inference_job()
            .batch_inference_job_arn(arn)
            .send()
            .await;
        described_job!(
            out.aws("DescribeBatchInferenceJob")?,
            batch_inference_job,
            |_| None::<i32>
        )
    }

    async fn create_batch_segment_job(&self, req: &NewBatchSegmentJob) -> Result<String, AwsError> {
        let input = sdk::BatchSegmentJobInput::builder()
            .s3_data_source(s3(&req.input_path, None)?)
            .build();
        let output = sdk::BatchSegmentJobOutput::builder()
            .s3_data_destination(s3(&req.output_path, req.output_kms_key_arn.as_ref())?)
            .build();
        let out = self
            .0
            .create_batch_segment_job()
            .job_name(&req.name)
            .solution_version_arn(&req.solution_version_arn)
            .set_filter_arn(req.filter_arn.clone())
            .set_num_results(req.num_results)
            .job_input(input)
            .job_output(output)
            .role_arn(&req.role_arn)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateBatchSegmentJob")?;
        Ok(out.batch_segment_job_arn().unwrap_or_default().to_owned())
    }

    async fn describe_batch_segment_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let out = self
            .0
            .describe_batch_segment_job()
            .batch_segment_job_arn(arn)
            .send()
            .await;
        described_job!(
            out.aws("DescribeBatchSegmentJob")?,
            batch_segment_job,
            |_| None::<i32>
        )
    }

    async fn create_dataset_export_job(
        &self,
        req: &NewDatasetExportJob,
    ) -> Result<String, AwsError> {
        let output = sdk::DatasetExportJobOutput::builder()
            .s3_data_destination(s3(&req.output_path, req.output_kms_key_arn.as_ref())?)
            .build();
        let out = self
            .0
            .create_dataset_export_job()
            .job_name(&req.name)
            .dataset_arn(&req.dataset_arn)
            .ingestion_mode(sdk::IngestionMode::from(req.ingestion_mode.as_str()))
            .role_arn(&req.role_arn)
            .job_output(output)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateDatasetExportJob")?;
        Ok(out.dataset_export_job_arn().unwrap_or_default().to_owned())
    }

    async fn describe_dataset_export_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let out = self
            .0
            .describe_dataset_export_job()
            .dataset_export_job_arn(arn)
            .send()
            .await;
        described_job!(
            out.aws("DescribeDatasetExportJob")?,
            dataset_export_job,
            |_| None::<i32>
        )
    }

    async fn create_data_deletion_job(&self, req: &NewDataDeletionJob) -> Result<String, AwsError> {
        let out = self
            .0
            .create_data_deletion_job()
            .job_name(&req.name)
            .dataset_group_arn(&req.dataset_group_arn)
            .data_source(
                sdk::DataSource::builder()
                    .data_location(&req.data_location)
                    .build(),
            )
            .role_arn(&req.role_arn)
            .set_tags(sdk_tags(&req.tags))
            .send()
            .await
            .aws("CreateDataDeletionJob")?;
        Ok(out.data_deletion_job_arn().unwrap_or_default().to_owned())
    }

    async fn describe_data_deletion_job(
        &self,
        arn: &str,
    ) -> Result<Observation<JobDetails>, AwsError> {
        let out = self
            .0
            .describe_data_deletion_job()
            .data_deletion_job_arn(arn)
            .send()
            .await;
        described_job!(
            out.aws("DescribeDataDeletionJob")?,
            data_deletion_job,
            |j| j.num_deleted()
        )
    }
}

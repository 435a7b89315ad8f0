//! The Rust SDK calls every operation of the three official models (71 control plane, 5 events,
//! 3 runtime), each once or more in a realistic order, and each answer is checked. An SDK
//! interceptor on every client records the operations that completed successfully (from the
//! SDK's own operation metadata, not from this file's calls); the test ends by comparing that set
//! with the models' operation list, so an operation the suite stops calling fails it.
//! Jobs read and write the server's file-backed S3 under its data dir; StopSolutionVersionCreation
//! needs a version still training, so it runs on a second server with timed transitions.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_personalize::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_personalize::error::BoxError;
use aws_sdk_personalize::types::{
    BatchInferenceJobInput, BatchInferenceJobOutput, BatchSegmentJobInput, BatchSegmentJobOutput,
    CampaignConfig, DataSource, DatasetExportJobOutput, Domain, IngestionMode, MetricAttribute,
    MetricAttributionOutput, RecommenderConfig, S3DataConfig, SolutionUpdateConfig, Tag,
    TrainingMode,
};
use aws_sdk_personalizeevents::Client as Events;
use aws_sdk_personalizeevents::types::{Action, Item, User};
use aws_sdk_personalizeruntime::Client as Runtime;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use personalize_local::wire::model::SERVICES;
use personalize_local::{Config, Running};
use serde_json::Value;

use crate::support::*;
use crate::{next_best_action as nba, recommenders};

const UP: &str = "arn:aws:personalize:::recipe/aws-user-personalization";
const RANKING: &str = "arn:aws:personalize:::recipe/aws-personalized-ranking";
const ITEM_AFFINITY: &str = "arn:aws:personalize:::recipe/aws-item-affinity";
const VOD_TOP_PICKS: &str = "arn:aws:personalize:::recipe/aws-vod-top-picks";
const ROLE: &str = "arn:aws:iam::000000000000:role/personalize";
const TIMEOUT: Duration = Duration::from_secs(60);

/// (service id, operation) of every call that an SDK client completed successfully.
#[derive(Clone, Debug, Default)]
struct Called(Arc<Mutex<BTreeSet<(String, String)>>>);

impl Intercept for Called {
    fn name(&self) -> &'static str {
        "Called"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(Ok(_)), Some(meta)) = (context.output_or_error(), cfg.load::<Metadata>()) {
            self.0
                .lock()
                .expect("no panic while recording")
                .insert((meta.service().to_string(), meta.name().to_string()));
        }
        Ok(())
    }
}

impl Called {
    fn set(&self) -> BTreeSet<(String, String)> {
        self.0.lock().expect("no panic while recording").clone()
    }
}

/// The three clients, each recording into `called`.
async fn recording_clients(url: &str, called: &Called) -> (ControlPlane, Events, Runtime) {
    let config = sdk_config(url).await;
    let cp = aws_sdk_personalize::config::Builder::from(&config)
        .interceptor(called.clone())
        .build();
    let ev = aws_sdk_personalizeevents::config::Builder::from(&config)
        .interceptor(called.clone())
        .build();
    let rt = aws_sdk_personalizeruntime::config::Builder::from(&config)
        .interceptor(called.clone())
        .build();
    (
        ControlPlane::from_conf(cp),
        Events::from_conf(ev),
        Runtime::from_conf(rt),
    )
}

/// (service id, operation) of every operation in the official models.
fn modelled_operations() -> BTreeSet<(String, String)> {
    SERVICES
        .iter()
        .flat_map(|service| {
            let model = service.model();
            let id = model["metadata"]["serviceId"]
                .as_str()
                .expect("serviceId")
                .to_string();
            model["operations"]
                .as_object()
                .expect("operations")
                .keys()
                .map(move |op| (id.clone(), op.clone()))
        })
        .collect()
}

fn s3(path: &str) -> S3DataConfig {
    S3DataConfig::builder().path(path).build().expect("path")
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
        .expect("tag")
}

/// The lines of an object in the data dir's file-backed S3.
fn object_lines(dir: &Path, bucket_key: &str) -> Vec<String> {
    let path = dir.join("s3").join(bucket_key);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

async fn group_status(cp: &ControlPlane, arn: &str) -> String {
    cp.describe_dataset_group()
        .dataset_group_arn(arn)
        .send()
        .await
        .expect("DescribeDatasetGroup")
        .dataset_group
        .and_then(|g| g.status)
        .unwrap_or_default()
}

async fn version_status(cp: &ControlPlane, arn: &str) -> String {
    cp.describe_solution_version()
        .solution_version_arn(arn)
        .send()
        .await
        .expect("DescribeSolutionVersion")
        .solution_version
        .and_then(|v| v.status)
        .unwrap_or_default()
}

async fn create_dataset(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    kind: &str,
    schema: &str,
) -> String {
    cp.create_dataset()
        .name(name)
        .dataset_group_arn(dg)
        .dataset_type(kind)
        .schema_arn(schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("datasetArn")
}

async fn create_schema(cp: &ControlPlane, name: &str, schema: &str) -> String {
    cp.create_schema()
        .name(name)
        .schema(schema)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("schemaArn")
}

/// DatasetExportJob of `dataset` (PUT data only) to `s3://out/<name>/`, waited for; the rows of
/// its CSV (header first).
async fn export_put(cp: &ControlPlane, dir: &Path, name: &str, dataset: &str) -> Vec<String> {
    let arn = cp
        .create_dataset_export_job()
        .job_name(name)
        .dataset_arn(dataset)
        .ingestion_mode(IngestionMode::Put)
        .role_arn(ROLE)
        .job_output(
            DatasetExportJobOutput::builder()
                .s3_data_destination(s3(&format!("s3://out/{name}/")))
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetExportJob")
        .dataset_export_job_arn
        .expect("arn");
    assert_eq!(
        wait_job(cp, Job::Export, &arn).await.0,
        "ACTIVE",
        "export {name}"
    );
    let listed = cp
        .list_dataset_export_jobs()
        .dataset_arn(dataset)
        .send()
        .await
        .expect("ListDatasetExportJobs");
    assert!(
        listed
            .dataset_export_jobs()
            .iter()
            .any(|j| j.dataset_export_job_arn() == Some(arn.as_str())),
        "{listed:?}"
    );
    object_lines(dir, &format!("out/{name}/{name}/part-00000.csv"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation() {
    let started = std::time::Instant::now();
    let called = Called::default();
    let dir = temp_dir("every-operation");
    let server = Running::start(Config {
        // Metric attributions need a CloudWatch endpoint; this one is closed (nothing is read
        // back from CloudWatch here: `metric_attribution.rs` does, from moto).
        cloudwatch_endpoint: Some("http://127.0.0.1:9".into()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, events, rt) = recording_clients(&server.url(), &called).await;

    // Recipes, algorithms, feature transformations.
    let recipes = cp
        .list_recipes()
        .max_results(100)
        .send()
        .await
        .expect("ListRecipes");
    assert!(recipes.recipes().iter().any(|r| r.recipe_arn() == Some(UP)));
    let recipe = cp
        .describe_recipe()
        .recipe_arn(UP)
        .send()
        .await
        .expect("DescribeRecipe")
        .recipe
        .expect("recipe");
    let algorithm_arn = recipe.algorithm_arn().expect("algorithmArn");
    let algorithm = cp
        .describe_algorithm()
        .algorithm_arn(algorithm_arn)
        .send()
        .await
        .expect("DescribeAlgorithm")
        .algorithm
        .expect("algorithm");
    assert_eq!(algorithm.algorithm_arn(), Some(algorithm_arn));
    let transformation = cp
        .describe_feature_transformation()
        .feature_transformation_arn(recipe.feature_transformation_arn().expect("ft arn"))
        .send()
        .await
        .expect("DescribeFeatureTransformation")
        .feature_transformation
        .expect("featureTransformation");
    assert_eq!(transformation.status(), Some("ACTIVE"));

    // Dataset group, schemas, datasets, imports.
    let dg = cp
        .create_dataset_group()
        .name("every")
        .tags(tag("team", "growth"))
        .send()
        .await
        .expect("CreateDatasetGroup")
        .dataset_group_arn
        .expect("arn");
    assert_eq!(group_status(&cp, &dg).await, "ACTIVE");
    let groups = cp
        .list_dataset_groups()
        .send()
        .await
        .expect("ListDatasetGroups");
    assert!(
        groups
            .dataset_groups()
            .iter()
            .any(|g| g.dataset_group_arn() == Some(dg.as_str()))
    );
    let interactions_schema = create_schema(&cp, "every-interactions", INTERACTIONS_SCHEMA).await;
    let items_schema = create_schema(&cp, "every-items", ITEMS_SCHEMA).await;
    let users_schema = create_schema(&cp, "every-users", nba::USERS_SCHEMA).await;
    let described = cp
        .describe_schema()
        .schema_arn(&items_schema)
        .send()
        .await
        .expect("DescribeSchema")
        .schema
        .expect("schema");
    assert_eq!(described.schema(), Some(ITEMS_SCHEMA));
    let schemas = cp.list_schemas().send().await.expect("ListSchemas");
    assert_eq!(schemas.schemas().len(), 3, "{schemas:?}");
    let interactions = create_dataset(
        &cp,
        &dg,
        "every-interactions",
        "Interactions",
        &interactions_schema,
    )
    .await;
    let items = create_dataset(&cp, &dg, "every-items", "Items", &items_schema).await;
    let users = create_dataset(&cp, &dg, "every-users", "Users", &users_schema).await;
    let dataset = cp
        .describe_dataset()
        .dataset_arn(&items)
        .send()
        .await
        .expect("DescribeDataset")
        .dataset
        .expect("dataset");
    assert_eq!(
        (dataset.dataset_type(), dataset.status()),
        (Some("ITEMS"), Some("ACTIVE"))
    );
    let datasets = cp
        .list_datasets()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListDatasets");
    assert_eq!(datasets.datasets().len(), 3);
    put_object(&dir, "seed", "every/interactions.csv", &interactions_csv());
    put_object(&dir, "seed", "every/items.csv", &items_csv());
    for (dataset, key) in [(&interactions, "interactions"), (&items, "items")] {
        let job = cp
            .create_dataset_import_job()
            .job_name(format!("every-{key}"))
            .dataset_arn(dataset)
            .data_source(
                DataSource::builder()
                    .data_location(format!("s3://seed/every/{key}.csv"))
                    .build(),
            )
            .role_arn(ROLE)
            .send()
            .await
            .expect("CreateDatasetImportJob")
            .dataset_import_job_arn
            .expect("arn");
        assert_eq!(
            wait_job(&cp, Job::Import, &job).await.0,
            "ACTIVE",
            "{key} imported"
        );
    }
    let imports = cp
        .list_dataset_import_jobs()
        .dataset_arn(&interactions)
        .send()
        .await
        .expect("ListDatasetImportJobs");
    assert_eq!(imports.dataset_import_jobs().len(), 1);
    // UpdateDataset: the items dataset takes a second (equivalent) schema.
    let items_v2 = create_schema(&cp, "every-items-v2", ITEMS_SCHEMA).await;
    cp.update_dataset()
        .dataset_arn(&items)
        .schema_arn(&items_v2)
        .send()
        .await
        .expect("UpdateDataset");
    let updated = cp
        .describe_dataset()
        .dataset_arn(&items)
        .send()
        .await
        .expect("DescribeDataset")
        .dataset
        .expect("dataset");
    assert_eq!(updated.schema_arn(), Some(items_v2.as_str()));

    // Tags.
    cp.tag_resource()
        .resource_arn(&dg)
        .tags(tag("stage", "test"))
        .send()
        .await
        .expect("TagResource");
    cp.untag_resource()
        .resource_arn(&dg)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&dg)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags(), [tag("stage", "test")]);

    // Solution, versions, campaign.
    let solution = cp
        .create_solution()
        .name("every-up")
        .dataset_group_arn(&dg)
        .recipe_arn(UP)
        .perform_auto_training(false)
        .send()
        .await
        .expect("CreateSolution")
        .solution_arn
        .expect("arn");
    let solutions = cp
        .list_solutions()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListSolutions");
    assert_eq!(solutions.solutions().len(), 1);
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .training_mode(TrainingMode::Full)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    wait_status(
        "version",
        TIMEOUT,
        || version_status(&cp, &version),
        &["ACTIVE"],
    )
    .await;
    let versions = cp
        .list_solution_versions()
        .solution_arn(&solution)
        .send()
        .await
        .expect("ListSolutionVersions");
    assert_eq!(versions.solution_versions().len(), 1);
    let metrics = cp
        .get_solution_metrics()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("GetSolutionMetrics");
    assert!(
        metrics
            .metrics()
            .is_some_and(|m| m.contains_key("precision_at_10")),
        "{metrics:?}"
    );
    cp.update_solution()
        .solution_arn(&solution)
        .perform_auto_training(true)
        .solution_update_config(
            SolutionUpdateConfig::builder()
                .auto_training_config(
                    aws_sdk_personalize::types::AutoTrainingConfig::builder()
                        .scheduling_expression("rate(30 days)")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateSolution");
    let updated = describe_solution(&cp, &solution).await;
    assert_eq!(updated.perform_auto_training(), Some(true), "{updated:?}");
    let no_exploration = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .build();
    let campaign = create_campaign(&cp, "every-campaign", &version, no_exploration).await;
    let campaigns = cp
        .list_campaigns()
        .solution_arn(&solution)
        .send()
        .await
        .expect("ListCampaigns");
    assert_eq!(campaigns.campaigns().len(), 1);
    cp.update_campaign()
        .campaign_arn(&campaign)
        .min_provisioned_tps(2)
        .send()
        .await
        .expect("UpdateCampaign");
    let described = cp
        .describe_campaign()
        .campaign_arn(&campaign)
        .send()
        .await
        .expect("DescribeCampaign")
        .campaign
        .expect("campaign");
    assert_eq!(described.min_provisioned_tps(), Some(2), "{described:?}");

    // Events: an event tracker, PutEvents changing recommendations, PutItems and PutUsers seen by
    // exports of the PUT data.
    let tracker = cp
        .create_event_tracker()
        .name("every-tracker")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("CreateEventTracker");
    let tracker_arn = tracker.event_tracker_arn().expect("arn").to_string();
    let described = cp
        .describe_event_tracker()
        .event_tracker_arn(&tracker_arn)
        .send()
        .await
        .expect("DescribeEventTracker")
        .event_tracker
        .expect("eventTracker");
    assert_eq!(described.status(), Some("ACTIVE"));
    let trackers = cp
        .list_event_trackers()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListEventTrackers");
    assert_eq!(trackers.event_trackers().len(), 1);
    let before = recommend(&rt, &campaign, "u0", 10).await;
    let clicks: Vec<String> = (0..20).map(|k| format!("i{}", k * CLUSTERS + 3)).collect();
    put_clicks(
        &events,
        tracker.tracking_id().expect("trackingId"),
        "u0",
        &clicks,
    )
    .await;
    let after = recommend(&rt, &campaign, "u0", 10).await;
    assert_ne!(before, after, "PutEvents changes u0's recommendations");
    events
        .put_items()
        .dataset_arn(&items)
        .items(
            Item::builder()
                .item_id("i-put")
                .properties(r#"{"genres": "genre1"}"#)
                .build()
                .expect("item"),
        )
        .send()
        .await
        .expect("PutItems");
    events
        .put_users()
        .dataset_arn(&users)
        .users(
            User::builder()
                .user_id("u-put")
                .properties(r#"{"segment": "gold"}"#)
                .build()
                .expect("user"),
        )
        .send()
        .await
        .expect("PutUsers");
    let rows = export_put(&cp, &dir, "every-items-put", &items).await;
    assert_eq!(rows, ["ITEM_ID,GENRES", "i-put,genre1"]);
    let rows = export_put(&cp, &dir, "every-users-put", &users).await;
    assert_eq!(rows, ["USER_ID,SEGMENT", "u-put,gold"]);

    // Filters and ranking.
    let filter = create_filter(
        &cp,
        &dg,
        "every-no-genre0",
        "EXCLUDE ItemID WHERE Items.GENRES IN (\"genre0\")",
    )
    .await;
    let described = cp
        .describe_filter()
        .filter_arn(&filter)
        .send()
        .await
        .expect("DescribeFilter")
        .filter
        .expect("filter");
    assert_eq!(described.status(), Some("ACTIVE"));
    let filters = cp
        .list_filters()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListFilters");
    assert_eq!(filters.filters().len(), 1);
    let filtered = rt
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("u0")
        .num_results(25)
        .filter_arn(&filter)
        .send()
        .await
        .expect("filtered GetRecommendations");
    let filtered: Vec<&str> = filtered
        .item_list()
        .iter()
        .filter_map(|i| i.item_id())
        .collect();
    assert_eq!(filtered.len(), 25);
    assert!(
        filtered
            .iter()
            .all(|i| cluster_of(i[1..].parse().expect("iN")) != 0),
        "{filtered:?}"
    );
    let (_, ranking_version) = train(&cp, &dg, "every-ranking", RANKING).await;
    let ranking = create_campaign(
        &cp,
        "every-ranking",
        &ranking_version,
        CampaignConfig::builder().build(),
    )
    .await;
    let input: Vec<String> = (0..10).map(|k| format!("i{k}")).collect();
    let ranked = rt
        .get_personalized_ranking()
        .campaign_arn(&ranking)
        .user_id("u0")
        .set_input_list(Some(input.clone()))
        .send()
        .await
        .expect("GetPersonalizedRanking");
    let ranked: BTreeSet<String> = ranked
        .personalized_ranking()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    assert_eq!(
        ranked,
        input.into_iter().collect(),
        "a permutation of the input"
    );

    // A metric attribution: its six operations.
    let attribution = cp
        .create_metric_attribution()
        .name("every-metrics")
        .dataset_group_arn(&dg)
        .metrics(
            MetricAttribute::builder()
                .event_type("click")
                .metric_name("CLICKS")
                .expression("SAMPLECOUNT()")
                .build()
                .expect("metric"),
        )
        .metrics_output_config(
            MetricAttributionOutput::builder()
                .role_arn(ROLE)
                .build()
                .expect("output"),
        )
        .send()
        .await
        .expect("CreateMetricAttribution")
        .metric_attribution_arn
        .expect("arn");
    let described = cp
        .describe_metric_attribution()
        .metric_attribution_arn(&attribution)
        .send()
        .await
        .expect("DescribeMetricAttribution")
        .metric_attribution
        .expect("metricAttribution");
    assert_eq!(described.dataset_group_arn(), Some(dg.as_str()));
    let listed = cp
        .list_metric_attributions()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListMetricAttributions");
    assert_eq!(listed.metric_attributions().len(), 1);
    cp.update_metric_attribution()
        .metric_attribution_arn(&attribution)
        .add_metrics(
            MetricAttribute::builder()
                .event_type("watch")
                .metric_name("WATCHES")
                .expression("SAMPLECOUNT()")
                .build()
                .expect("metric"),
        )
        .send()
        .await
        .expect("UpdateMetricAttribution");
    let metrics = cp
        .list_metric_attribution_metrics()
        .metric_attribution_arn(&attribution)
        .send()
        .await
        .expect("ListMetricAttributionMetrics");
    let names: Vec<&str> = metrics.metrics().iter().map(|m| m.metric_name()).collect();
    assert_eq!(names, ["CLICKS", "WATCHES"]);
    cp.delete_metric_attribution()
        .metric_attribution_arn(&attribution)
        .send()
        .await
        .expect("DeleteMetricAttribution");
    let gone = cp
        .describe_metric_attribution()
        .metric_attribution_arn(&attribution)
        .send()
        .await;
    assert_eq!(code_of(gone, "deleted"), "ResourceNotFoundException");

    // Batch inference (the UP version) and batch segment (an item-affinity version).
    put_object(
        &dir,
        "batch",
        "in/users.json",
        "{\"userId\":\"u1\"}\n{\"userId\":\"u2\"}\n",
    );
    let job = cp
        .create_batch_inference_job()
        .job_name("every-inference")
        .solution_version_arn(&version)
        .num_results(5)
        .job_input(
            BatchInferenceJobInput::builder()
                .s3_data_source(s3("s3://batch/in/users.json"))
                .build(),
        )
        .job_output(
            BatchInferenceJobOutput::builder()
                .s3_data_destination(s3("s3://batch/inference/"))
                .build(),
        )
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchInference, &job).await.0, "ACTIVE");
    let jobs = cp
        .list_batch_inference_jobs()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("ListBatchInferenceJobs");
    assert_eq!(jobs.batch_inference_jobs().len(), 1);
    let out = object_lines(&dir, "batch/inference/users.json.out");
    assert_eq!(out.len(), 2, "one output line per input line");
    for line in &out {
        let line: Value = serde_json::from_str(line).expect("JSON line");
        let recommended = line["output"]["recommendedItems"]
            .as_array()
            .expect("recommendedItems");
        assert_eq!(recommended.len(), 5, "{line}");
    }
    let (_, affinity) = train(&cp, &dg, "every-affinity", ITEM_AFFINITY).await;
    put_object(&dir, "batch", "in/items.json", "{\"itemId\":\"i0\"}\n");
    let job = cp
        .create_batch_segment_job()
        .job_name("every-segment")
        .solution_version_arn(&affinity)
        .num_results(10)
        .job_input(
            BatchSegmentJobInput::builder()
                .s3_data_source(s3("s3://batch/in/items.json"))
                .build(),
        )
        .job_output(
            BatchSegmentJobOutput::builder()
                .s3_data_destination(s3("s3://batch/segments/"))
                .build(),
        )
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchSegmentJob")
        .batch_segment_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchSegment, &job).await.0, "ACTIVE");
    let jobs = cp
        .list_batch_segment_jobs()
        .solution_version_arn(&affinity)
        .send()
        .await
        .expect("ListBatchSegmentJobs");
    assert_eq!(jobs.batch_segment_jobs().len(), 1);
    let out = object_lines(&dir, "batch/segments/items.json.out");
    let line: Value = serde_json::from_str(&out[0]).expect("JSON line");
    let segment = line["output"]["recommendedUsers"]
        .as_array()
        .expect("recommendedUsers");
    assert_eq!(segment.len(), 10, "{line}");

    // A data deletion job: u119 leaves the dataset group.
    put_object(&dir, "seed", "every/delete.csv", "USER_ID\nu119\n");
    let deletion = cp
        .create_data_deletion_job()
        .job_name("every-delete")
        .dataset_group_arn(&dg)
        .data_source(
            DataSource::builder()
                .data_location("s3://seed/every/delete.csv")
                .build(),
        )
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateDataDeletionJob")
        .data_deletion_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Deletion, &deletion).await.0, "COMPLETED");
    let jobs = cp
        .list_data_deletion_jobs()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListDataDeletionJobs");
    assert_eq!(jobs.data_deletion_jobs().len(), 1);
    let job = cp
        .describe_data_deletion_job()
        .data_deletion_job_arn(&deletion)
        .send()
        .await
        .expect("DescribeDataDeletionJob")
        .data_deletion_job
        .expect("job");
    assert_eq!(job.num_deleted(), Some(1), "{job:?}");

    next_best_action(&cp, &events, &rt, &dir).await;
    recommender(&cp, &rt, &dir).await;

    // Teardown, dependents first.
    cp.delete_filter()
        .filter_arn(&filter)
        .send()
        .await
        .expect("DeleteFilter");
    for campaign in [&campaign, &ranking] {
        cp.delete_campaign()
            .campaign_arn(campaign)
            .send()
            .await
            .expect("DeleteCampaign");
    }
    cp.delete_event_tracker()
        .event_tracker_arn(&tracker_arn)
        .send()
        .await
        .expect("DeleteEventTracker");
    let solutions = cp
        .list_solutions()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListSolutions");
    assert_eq!(solutions.solutions().len(), 3, "UP, ranking, item affinity");
    for solution in solutions.solutions() {
        cp.delete_solution()
            .solution_arn(solution.solution_arn().expect("arn"))
            .send()
            .await
            .expect("DeleteSolution");
    }
    for dataset in [&interactions, &items, &users] {
        cp.delete_dataset()
            .dataset_arn(dataset)
            .send()
            .await
            .expect("DeleteDataset");
    }
    for schema in [
        &interactions_schema,
        &items_schema,
        &items_v2,
        &users_schema,
    ] {
        cp.delete_schema()
            .schema_arn(schema)
            .send()
            .await
            .expect("DeleteSchema");
    }
    cp.delete_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("DeleteDatasetGroup");
    let gone = cp
        .describe_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await;
    assert_eq!(code_of(gone, "deleted"), "ResourceNotFoundException");
    server.stop().await.expect("stops");

    stop_a_version(&called).await;

    let missing: Vec<_> = modelled_operations()
        .difference(&called.set())
        .cloned()
        .collect();
    let total = modelled_operations().len();
    println!(
        "the Rust SDK called {} of {total} operations in {:.1}s",
        total - missing.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(total, 79, "the three models have 79 operations");
    assert!(missing.is_empty(), "never called successfully: {missing:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// Next-Best-Action: PutActions, PutActionInteractions, GetActionRecommendations on the
/// `next_best_action.rs` data.
async fn next_best_action(cp: &ControlPlane, events: &Events, rt: &Runtime, dir: &Path) {
    let now = nba::now();
    let group = nba::dataset_group(cp, "every-nba").await;
    let (interactions, users, actions, action_interactions) = nba::data(now);
    let s = nba::schema(cp, "every-nba-interactions", nba::INTERACTIONS_SCHEMA).await;
    nba::import(cp, dir, &group, "Interactions", &s, &interactions).await;
    let s = nba::schema(cp, "every-nba-users", nba::USERS_SCHEMA).await;
    nba::import(cp, dir, &group, "Users", &s, &users).await;
    let s = nba::schema(cp, "every-nba-actions", nba::ACTIONS_SCHEMA).await;
    let actions_dataset = nba::import(cp, dir, &group, "Actions", &s, &actions).await;
    let s = nba::schema(
        cp,
        "every-nba-action-interactions",
        nba::ACTION_INTERACTIONS_SCHEMA,
    )
    .await;
    nba::import(
        cp,
        dir,
        &group,
        "Action_Interactions",
        &s,
        &action_interactions,
    )
    .await;
    let tracker = cp
        .create_event_tracker()
        .name("every-nba-tracker")
        .dataset_group_arn(&group)
        .send()
        .await
        .expect("CreateEventTracker");
    let tracking_id = tracker.tracking_id().expect("trackingId");
    let (version, status) =
        nba::solution_version(cp, &group, "every-nba-solution", nba::NBA, None).await;
    assert_eq!(status, "ACTIVE");
    let no_exploration = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .build();
    let campaign = create_campaign(cp, "every-nba-campaign", &version, no_exploration).await;
    let gold = nba::actions_for(rt, &campaign, "gold-new").await;
    assert_eq!(gold[0].0, "enroll", "{gold:?}");
    assert!(nba::ids(&gold).contains(&"survey"), "{gold:?}");
    // Taking survey (30-day repeat frequency) removes it at once.
    events
        .put_action_interactions()
        .tracking_id(tracking_id)
        .action_interactions(nba::taken("gold-new", "survey", now - 60))
        .send()
        .await
        .expect("PutActionInteractions");
    let after = nba::actions_for(rt, &campaign, "gold-new").await;
    assert!(!nba::ids(&after).contains(&"survey"), "{after:?}");
    // A new action is a candidate at once.
    events
        .put_actions()
        .dataset_arn(&actions_dataset)
        .actions(
            Action::builder()
                .action_id("newsletter")
                .properties(r#"{"value": 3}"#)
                .build()
                .expect("action"),
        )
        .send()
        .await
        .expect("PutActions");
    let after = nba::actions_for(rt, &campaign, "gold-new").await;
    assert!(nba::ids(&after).contains(&"newsletter"), "{after:?}");
}

/// A VIDEO_ON_DEMAND recommender: its seven operations and GetRecommendations through it.
async fn recommender(cp: &ControlPlane, rt: &Runtime, dir: &Path) {
    let vod = recommenders::seed_vod(cp, dir).await;
    let vod_recipes = cp
        .list_recipes()
        .domain(Domain::VideoOnDemand)
        .send()
        .await
        .expect("ListRecipes");
    assert!(
        vod_recipes
            .recipes()
            .iter()
            .any(|r| r.recipe_arn() == Some(VOD_TOP_PICKS))
    );
    let arn = cp
        .create_recommender()
        .name("every-top-picks")
        .dataset_group_arn(&vod)
        .recipe_arn(VOD_TOP_PICKS)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(1)
                .build(),
        )
        .send()
        .await
        .expect("CreateRecommender")
        .recommender_arn
        .expect("arn");
    let status = || async {
        cp.describe_recommender()
            .recommender_arn(&arn)
            .send()
            .await
            .expect("DescribeRecommender")
            .recommender
            .and_then(|r| r.status)
            .unwrap_or_default()
    };
    wait_status("recommender", TIMEOUT, status, &["ACTIVE"]).await;
    let listed = cp
        .list_recommenders()
        .dataset_group_arn(&vod)
        .send()
        .await
        .expect("ListRecommenders");
    assert_eq!(listed.recommenders().len(), 1);
    let picks = rt
        .get_recommendations()
        .recommender_arn(&arn)
        .user_id("u0")
        .num_results(5)
        .send()
        .await
        .expect("GetRecommendations");
    assert_eq!(picks.item_list().len(), 5);
    cp.stop_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("StopRecommender");
    wait_status("stopped", TIMEOUT, status, &["INACTIVE"]).await;
    cp.start_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("StartRecommender");
    wait_status("started", TIMEOUT, status, &["ACTIVE"]).await;
    cp.update_recommender()
        .recommender_arn(&arn)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(2)
                .build(),
        )
        .send()
        .await
        .expect("UpdateRecommender");
    let updated = cp
        .describe_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("DescribeRecommender")
        .recommender
        .expect("recommender");
    assert_eq!(
        updated
            .recommender_config()
            .and_then(|c| c.min_recommendation_requests_per_second()),
        Some(2),
        "{updated:?}"
    );
    cp.delete_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("DeleteRecommender");
    let gone = cp.describe_recommender().recommender_arn(&arn).send().await;
    assert_eq!(code_of(gone, "deleted"), "ResourceNotFoundException");
}

/// StopSolutionVersionCreation needs a version still being created: a server whose every step
/// takes 400 ms.
async fn stop_a_version(called: &Called) {
    let dir = temp_dir("every-operation-stop");
    let server = Running::start(Config {
        transition: Duration::from_millis(400),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, _, _) = recording_clients(&server.url(), called).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "every-stop").await;
    let solution = cp
        .create_solution()
        .name("every-stop")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-popularity-count")
        .perform_auto_training(false)
        .send()
        .await
        .expect("CreateSolution")
        .solution_arn
        .expect("arn");
    wait_status(
        "solution",
        TIMEOUT,
        || async {
            describe_solution(&cp, &solution)
                .await
                .status
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    cp.stop_solution_version_creation()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("StopSolutionVersionCreation");
    wait_status(
        "stopped",
        TIMEOUT,
        || version_status(&cp, &version),
        &["CREATE STOPPED"],
    )
    .await;
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

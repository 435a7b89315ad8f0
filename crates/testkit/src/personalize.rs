//! Deploying a trained campaign on a Personalize-compatible endpoint for tests and benchmarks:
//! synthetic data (users in clusters of taste), S3 objects in a personalize-local data dir, and
//! dataset group -> imports -> solution version -> campaign -> event tracker through the real
//! Rust SDK. It speaks only the public Personalize API over HTTP, so it needs no project crate:
//! the caller starts personalize-local (one line) and hands over its URL and data dir.
//! Every wait is bounded; only loopback endpoints are meant.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_personalize::Client;
use aws_sdk_personalize::error::DisplayErrorContext;
use aws_sdk_personalize::types::DataSource;

/// The static access key id personalize-local's tests sign with.
pub const ACCESS_KEY_ID: &str = "AKIDLOCALTEST";
/// The secret matching [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "local-test-secret";
/// The region of every test client.
pub const REGION: &str = "us-east-1";
/// The role ARN sent with import jobs (personalize-local checks only its shape).
pub const ROLE_ARN: &str = "arn:aws:iam::000000000000:role/personalize";
/// The bucket [`deploy`] and [`seed_dataset_group`] put their CSV files in.
pub const BUCKET: &str = "seed";

/// The interactions schema of the synthetic data (and of MovieLens as the project converts it).
pub const INTERACTIONS_SCHEMA: &str = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"EVENT_TYPE","type":"string"},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#;
/// The items schema of the synthetic data: a categorical genre per item.
pub const ITEMS_SCHEMA: &str = r#"{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ITEM_ID","type":"string"},{"name":"GENRES","type":"string","categorical":true}],"version":"1.0"}"#;

/// Users of the synthetic data set.
pub const USERS: usize = 120;
/// Items of the synthetic data set.
pub const ITEMS: usize = 300;
/// Clusters (genres) of the synthetic data set: user `u` likes items `i` with `i % CLUSTERS == u % CLUSTERS`.
pub const CLUSTERS: usize = 6;

/// The recipe [`deploy`] trains.
pub const USER_PERSONALIZATION: &str = "arn:aws:personalize:::recipe/aws-user-personalization";

/// A deployment step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("{operation}: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
    /// An API call answered without a field it always returns.
    #[error("{operation} answered without {field}")]
    Missing {
        operation: &'static str,
        field: &'static str,
    },
    /// A resource ended in a failed state.
    #[error("{what} {arn}: {status}")]
    Failed {
        what: &'static str,
        arn: String,
        status: String,
    },
    /// A resource did not reach its final state in time.
    #[error("{what} {arn}: still {status:?} after {timeout:?}")]
    Timeout {
        what: &'static str,
        arn: String,
        status: String,
        timeout: Duration,
    },
    /// A CSV file could not be written into the data dir.
    #[error("writing {path}")]
    WriteObject {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How long to wait for a resource to turn ACTIVE.
const RESOURCE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for training.
const TRAINING_TIMEOUT: Duration = Duration::from_secs(900);

fn call<T, E>(operation: &'static str, result: Result<T, E>) -> Result<T, Error>
where
    E: std::error::Error,
{
    result.map_err(|e| Error::Call {
        operation,
        message: DisplayErrorContext(&e).to_string(),
    })
}

fn field(
    operation: &'static str,
    field: &'static str,
    value: Option<String>,
) -> Result<String, Error> {
    value.ok_or(Error::Missing { operation, field })
}

/// SDK configuration for `url` with static test credentials.
pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_personalize::config::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "static",
        ))
        .load()
        .await
}

/// The cluster of an item.
pub fn cluster_of(item: usize) -> usize {
    item % CLUSTERS
}

/// Interactions CSV: each user clicks 12 items of their own cluster (1440 rows), drawn from an
/// RNG with a fixed seed.
pub fn interactions_csv() -> String {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut csv = String::from("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n");
    for user in 0..USERS {
        let cluster = user % CLUSTERS;
        for k in 0..12 {
            let item = rng.usize(..ITEMS / CLUSTERS) * CLUSTERS + cluster;
            csv.push_str(&format!(
                "u{user},i{item},click,{}\n",
                1_700_000_000 + user * 100 + k
            ));
        }
    }
    csv
}

/// Items CSV with a genre per cluster.
pub fn items_csv() -> String {
    let mut csv = String::from("ITEM_ID,GENRES\n");
    for item in 0..ITEMS {
        csv.push_str(&format!("i{item},genre{}\n", cluster_of(item)));
    }
    csv
}

/// Writes `content` to `<data_dir>/s3/<bucket>/<key>`, where personalize-local's built-in S3
/// reads it.
pub fn put_object(data_dir: &Path, bucket: &str, key: &str, content: &str) -> Result<(), Error> {
    let path = data_dir.join("s3").join(bucket).join(key);
    let written = match path.parent() {
        Some(parent) => {
            std::fs::create_dir_all(parent).and_then(|()| std::fs::write(&path, content))
        }
        None => std::fs::write(&path, content),
    };
    written.map_err(|source| Error::WriteObject { path, source })
}

/// Polls `status` every 50 ms until it is one of `done` (returned) or contains `FAILED` (an
/// error), for at most `timeout`.
pub async fn wait_status<F, Fut>(
    what: &'static str,
    arn: &str,
    timeout: Duration,
    done: &[&str],
    mut status: F,
) -> Result<String, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<String, Error>>,
{
    let started = Instant::now();
    loop {
        let s = status().await?;
        if done.contains(&s.as_str()) {
            return Ok(s);
        }
        if s.contains("FAILED") {
            return Err(Error::Failed {
                what,
                arn: arn.to_owned(),
                status: s,
            });
        }
        if started.elapsed() > timeout {
            return Err(Error::Timeout {
                what,
                arn: arn.to_owned(),
                status: s,
                timeout,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The data of a dataset group: interactions, and optionally items with their schema.
#[derive(Clone, Copy, Debug)]
pub struct Data<'a> {
    pub interactions_csv: &'a str,
    /// `(schema, csv)` of the items dataset.
    pub items: Option<(&'a str, &'a str)>,
}

/// What [`seed_dataset_group`] created.
#[derive(Clone, Debug)]
pub struct DatasetGroup {
    pub arn: String,
    pub interactions: String,
    pub items: Option<String>,
}

/// A dataset group named `name` with its datasets created and imported (CSV files written under
/// `<data_dir>/s3/seed/<name>/`), everything ACTIVE. The server must use `data_dir`.
pub async fn seed_dataset_group(
    cp: &Client,
    data_dir: &Path,
    name: &str,
    data: Data<'_>,
) -> Result<DatasetGroup, Error> {
    let dg = field(
        "CreateDatasetGroup",
        "datasetGroupArn",
        call(
            "CreateDatasetGroup",
            cp.create_dataset_group().name(name).send().await,
        )?
        .dataset_group_arn,
    )?;
    wait_status(
        "dataset group",
        &dg,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeDatasetGroup",
                cp.describe_dataset_group()
                    .dataset_group_arn(&dg)
                    .send()
                    .await,
            )?;
            Ok(out.dataset_group.and_then(|g| g.status).unwrap_or_default())
        },
    )
    .await?;
    let interactions = import(
        cp,
        data_dir,
        &dg,
        name,
        "Interactions",
        INTERACTIONS_SCHEMA,
        data.interactions_csv,
    )
    .await?;
    let items = match data.items {
        Some((schema, csv)) => Some(import(cp, data_dir, &dg, name, "Items", schema, csv).await?),
        None => None,
    };
    Ok(DatasetGroup {
        arn: dg,
        interactions,
        items,
    })
}

/// Creates the `kind` dataset of `dg` and imports `csv` into it; returns the dataset ARN.
async fn import(
    cp: &Client,
    data_dir: &Path,
    dg: &str,
    name: &str,
    kind: &str,
    schema: &str,
    csv: &str,
) -> Result<String, Error> {
    let lower = kind.to_lowercase();
    let key = format!("{name}/{lower}.csv");
    put_object(data_dir, BUCKET, &key, csv)?;
    let schema_arn = field(
        "CreateSchema",
        "schemaArn",
        call(
            "CreateSchema",
            cp.create_schema()
                .name(format!("{name}-{lower}"))
                .schema(schema)
                .send()
                .await,
        )?
        .schema_arn,
    )?;
    let dataset = field(
        "CreateDataset",
        "datasetArn",
        call(
            "CreateDataset",
            cp.create_dataset()
                .name(format!("{name}-{lower}"))
                .dataset_group_arn(dg)
                .dataset_type(kind)
                .schema_arn(&schema_arn)
                .send()
                .await,
        )?
        .dataset_arn,
    )?;
    wait_status(
        "dataset",
        &dataset,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeDataset",
                cp.describe_dataset().dataset_arn(&dataset).send().await,
            )?;
            Ok(out.dataset.and_then(|d| d.status).unwrap_or_default())
        },
    )
    .await?;
    let job = field(
        "CreateDatasetImportJob",
        "datasetImportJobArn",
        call(
            "CreateDatasetImportJob",
            cp.create_dataset_import_job()
                .job_name(format!("{name}-{lower}"))
                .dataset_arn(&dataset)
                .data_source(
                    DataSource::builder()
                        .data_location(format!("s3://{BUCKET}/{key}"))
                        .build(),
                )
                .role_arn(ROLE_ARN)
                .send()
                .await,
        )?
        .dataset_import_job_arn,
    )?;
    wait_status(
        "import job",
        &job,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeDatasetImportJob",
                cp.describe_dataset_import_job()
                    .dataset_import_job_arn(&job)
                    .send()
                    .await,
            )?;
            Ok(out
                .dataset_import_job
                .and_then(|j| j.status)
                .unwrap_or_default())
        },
    )
    .await?;
    Ok(dataset)
}

/// What [`train`] created.
#[derive(Clone, Debug)]
pub struct Trained {
    pub solution: String,
    pub version: String,
    /// Wall time of CreateSolutionVersion until ACTIVE.
    pub training: Duration,
}

/// A solution of `recipe` (no auto-training) and one version trained to ACTIVE.
pub async fn train(cp: &Client, dg: &str, name: &str, recipe: &str) -> Result<Trained, Error> {
    let solution = field(
        "CreateSolution",
        "solutionArn",
        call(
            "CreateSolution",
            cp.create_solution()
                .name(name)
                .dataset_group_arn(dg)
                .recipe_arn(recipe)
                .perform_auto_training(false)
                .send()
                .await,
        )?
        .solution_arn,
    )?;
    wait_status(
        "solution",
        &solution,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeSolution",
                cp.describe_solution().solution_arn(&solution).send().await,
            )?;
            Ok(out.solution.and_then(|s| s.status).unwrap_or_default())
        },
    )
    .await?;
    let started = Instant::now();
    let version = field(
        "CreateSolutionVersion",
        "solutionVersionArn",
        call(
            "CreateSolutionVersion",
            cp.create_solution_version()
                .solution_arn(&solution)
                .send()
                .await,
        )?
        .solution_version_arn,
    )?;
    wait_status(
        "solution version",
        &version,
        TRAINING_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeSolutionVersion",
                cp.describe_solution_version()
                    .solution_version_arn(&version)
                    .send()
                    .await,
            )?;
            Ok(out
                .solution_version
                .and_then(|v| v.status)
                .unwrap_or_default())
        },
    )
    .await?;
    Ok(Trained {
        solution,
        version,
        training: started.elapsed(),
    })
}

/// A campaign (1 TPS) serving `version`, ACTIVE; returns its ARN.
pub async fn create_campaign(cp: &Client, name: &str, version: &str) -> Result<String, Error> {
    let campaign = field(
        "CreateCampaign",
        "campaignArn",
        call(
            "CreateCampaign",
            cp.create_campaign()
                .name(name)
                .solution_version_arn(version)
                .min_provisioned_tps(1)
                .send()
                .await,
        )?
        .campaign_arn,
    )?;
    wait_status(
        "campaign",
        &campaign,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeCampaign",
                cp.describe_campaign().campaign_arn(&campaign).send().await,
            )?;
            Ok(out.campaign.and_then(|c| c.status).unwrap_or_default())
        },
    )
    .await?;
    Ok(campaign)
}

/// An event tracker of `dg`, ACTIVE; returns (tracker ARN, tracking id).
pub async fn create_event_tracker(
    cp: &Client,
    name: &str,
    dg: &str,
) -> Result<(String, String), Error> {
    let out = call(
        "CreateEventTracker",
        cp.create_event_tracker()
            .name(name)
            .dataset_group_arn(dg)
            .send()
            .await,
    )?;
    let tracker = field(
        "CreateEventTracker",
        "eventTrackerArn",
        out.event_tracker_arn,
    )?;
    let tracking_id = field("CreateEventTracker", "trackingId", out.tracking_id)?;
    wait_status(
        "event tracker",
        &tracker,
        RESOURCE_TIMEOUT,
        &["ACTIVE"],
        || async {
            let out = call(
                "DescribeEventTracker",
                cp.describe_event_tracker()
                    .event_tracker_arn(&tracker)
                    .send()
                    .await,
            )?;
            Ok(out.event_tracker.and_then(|t| t.status).unwrap_or_default())
        },
    )
    .await?;
    Ok((tracker, tracking_id))
}

/// What [`deploy`] created.
#[derive(Clone, Debug)]
pub struct Deployed {
    pub dataset_group: DatasetGroup,
    pub solution: String,
    pub solution_version: String,
    pub campaign: String,
    pub event_tracker: String,
    pub tracking_id: String,
    /// Wall time of CreateSolutionVersion until ACTIVE (informational, not a benchmark figure).
    pub training: Duration,
}

/// The whole chain on the server at `url` whose data dir is `data_dir`: [`seed_dataset_group`]
/// with `data`, an aws-user-personalization solution and version ([`train`]), a campaign and an
/// event tracker, each ACTIVE. Resources are named after `name`.
pub async fn deploy(
    url: &str,
    data_dir: &Path,
    name: &str,
    data: Data<'_>,
) -> Result<Deployed, Error> {
    let cp = Client::new(&sdk_config(url).await);
    let dataset_group = seed_dataset_group(&cp, data_dir, name, data).await?;
    let trained = train(&cp, &dataset_group.arn, name, USER_PERSONALIZATION).await?;
    let campaign = create_campaign(&cp, name, &trained.version).await?;
    let (event_tracker, tracking_id) = create_event_tracker(&cp, name, &dataset_group.arn).await?;
    Ok(Deployed {
        dataset_group,
        solution: trained.solution,
        solution_version: trained.version,
        campaign,
        event_tracker,
        tracking_id,
        training: trained.training,
    })
}

//! Shared helpers: temp dirs, deterministic seed data, SDK clients, waits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalizeevents::Client as Events;
use aws_sdk_personalizeruntime::Client as Runtime;

pub const INTERACTIONS_SCHEMA: &str = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"EVENT_TYPE","type":"string"},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#;
pub const ITEMS_SCHEMA: &str = r#"{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ITEM_ID","type":"string"},{"name":"GENRES","type":"string","categorical":true}],"version":"1.0"}"#;

/// Users, items and clusters of the synthetic data set.
pub const USERS: usize = 120;
pub const ITEMS: usize = 300;
pub const CLUSTERS: usize = 6;

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "personalize-local-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The cluster of an item (items are split into CLUSTERS genres).
pub fn cluster_of(item: usize) -> usize {
    item % CLUSTERS
}

/// Interactions CSV: each user interacts with 12 items of their own cluster (1440 rows).
pub fn interactions_csv() -> String {
    let mut csv = String::from("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n");
    let mut state: u64 = 7;
    for user in 0..USERS {
        let cluster = user % CLUSTERS;
        for k in 0..12 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let slot = (state >> 33) as usize % (ITEMS / CLUSTERS);
            let item = slot * CLUSTERS + cluster;
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

/// Writes `content` to `<data_dir>/s3/<bucket>/<key>`.
pub fn put_object(data_dir: &Path, bucket: &str, key: &str, content: &str) {
    let path = data_dir.join("s3").join(bucket).join(key);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, content).expect("write object");
}

/// SDK configuration pointing at `url` with static test credentials.
pub async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_personalize::config::Credentials::new(
            "AKIDLOCALTEST",
            "local-test-secret",
            None,
            None,
            "static",
        ))
        .load()
        .await
}

/// The three clients.
pub async fn clients(url: &str) -> (ControlPlane, Events, Runtime) {
    let config = sdk_config(url).await;
    (
        ControlPlane::new(&config),
        Events::new(&config),
        Runtime::new(&config),
    )
}

/// Polls `status` until it returns one of `done`, failing after `timeout`.
pub async fn wait_status<F, Fut>(
    what: &str,
    timeout: Duration,
    mut status: F,
    done: &[&str],
) -> String
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let s = status().await;
        if done.contains(&s.as_str()) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: still {s} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A dataset group with interactions (+ items) imported and ACTIVE; returns
/// (dataset group, interactions dataset, items dataset).
pub async fn seed_dataset_group(
    cp: &ControlPlane,
    data_dir: &Path,
    name: &str,
) -> (String, String, String) {
    put_object(
        data_dir,
        "seed",
        &format!("{name}/interactions.csv"),
        &interactions_csv(),
    );
    put_object(data_dir, "seed", &format!("{name}/items.csv"), &items_csv());
    let dg = cp
        .create_dataset_group()
        .name(name)
        .send()
        .await
        .expect("CreateDatasetGroup")
        .dataset_group_arn
        .expect("arn");
    wait_status(
        "dataset group",
        Duration::from_secs(30),
        || async {
            cp.describe_dataset_group()
                .dataset_group_arn(&dg)
                .send()
                .await
                .expect("DescribeDatasetGroup")
                .dataset_group
                .and_then(|g| g.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    let interactions_schema = cp
        .create_schema()
        .name(format!("{name}-interactions"))
        .schema(INTERACTIONS_SCHEMA)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("arn");
    let items_schema = cp
        .create_schema()
        .name(format!("{name}-items"))
        .schema(ITEMS_SCHEMA)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("arn");
    let interactions = cp
        .create_dataset()
        .name(format!("{name}-interactions"))
        .dataset_group_arn(&dg)
        .dataset_type("Interactions")
        .schema_arn(&interactions_schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("arn");
    let items = cp
        .create_dataset()
        .name(format!("{name}-items"))
        .dataset_group_arn(&dg)
        .dataset_type("Items")
        .schema_arn(&items_schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("arn");
    for (dataset, key) in [(&interactions, "interactions.csv"), (&items, "items.csv")] {
        wait_status(
            "dataset",
            Duration::from_secs(30),
            || async {
                cp.describe_dataset()
                    .dataset_arn(dataset)
                    .send()
                    .await
                    .expect("DescribeDataset")
                    .dataset
                    .and_then(|d| d.status)
                    .unwrap_or_default()
            },
            &["ACTIVE"],
        )
        .await;
        let job = cp
            .create_dataset_import_job()
            .job_name(format!("{name}-{}", key.trim_end_matches(".csv")))
            .dataset_arn(dataset)
            .data_source(
                aws_sdk_personalize::types::DataSource::builder()
                    .data_location(format!("s3://seed/{name}/{key}"))
                    .build(),
            )
            .role_arn("arn:aws:iam::000000000000:role/personalize")
            .send()
            .await
            .expect("CreateDatasetImportJob")
            .dataset_import_job_arn
            .expect("arn");
        let status = wait_status(
            "import job",
            Duration::from_secs(60),
            || async {
                cp.describe_dataset_import_job()
                    .dataset_import_job_arn(&job)
                    .send()
                    .await
                    .expect("DescribeDatasetImportJob")
                    .dataset_import_job
                    .and_then(|j| j.status)
                    .unwrap_or_default()
            },
            &["ACTIVE", "CREATE FAILED"],
        )
        .await;
        assert_eq!(status, "ACTIVE", "import of {key}");
    }
    (dg, interactions, items)
}

/// Trains a solution version of `recipe` and waits for ACTIVE; returns (solution, version).
pub async fn train(cp: &ControlPlane, dg: &str, name: &str, recipe: &str) -> (String, String) {
    let solution = cp
        .create_solution()
        .name(name)
        .dataset_group_arn(dg)
        .recipe_arn(recipe)
        .perform_auto_training(false)
        .send()
        .await
        .expect("CreateSolution")
        .solution_arn
        .expect("arn");
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    let status = wait_status(
        "solution version",
        Duration::from_secs(300),
        || async {
            cp.describe_solution_version()
                .solution_version_arn(&version)
                .send()
                .await
                .expect("DescribeSolutionVersion")
                .solution_version
                .and_then(|v| v.status)
                .unwrap_or_default()
        },
        &["ACTIVE", "CREATE FAILED"],
    )
    .await;
    assert_eq!(status, "ACTIVE", "training {name}");
    (solution, version)
}

/// Item ids of a GetRecommendations answer.
pub async fn recommend(rt: &Runtime, campaign: &str, user: &str, n: i32) -> Vec<String> {
    rt.get_recommendations()
        .campaign_arn(campaign)
        .user_id(user)
        .num_results(n)
        .send()
        .await
        .expect("GetRecommendations")
        .item_list()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect()
}

/// Puts `items` as click events of `user`, 10 per call.
pub async fn put_clicks(events: &Events, tracking_id: &str, user: &str, items: &[String]) {
    for (n, chunk) in items.chunks(10).enumerate() {
        let list = chunk
            .iter()
            .enumerate()
            .map(|(k, item)| {
                aws_sdk_personalizeevents::types::Event::builder()
                    .event_type("click")
                    .item_id(item)
                    .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
                        1_800_000_000 + (n * 10 + k) as i64,
                    ))
                    .build()
                    .expect("event")
            })
            .collect::<Vec<_>>();
        events
            .put_events()
            .tracking_id(tracking_id)
            .user_id(user)
            .session_id(format!("session-{user}"))
            .set_event_list(Some(list))
            .send()
            .await
            .expect("PutEvents");
    }
}

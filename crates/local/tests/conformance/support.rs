//! Conformance helpers: temp dirs, SDK clients, waits, recommendations and clicks; seed data and
//! the dataset group / training steps come from `personalize_testkit::personalize`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::error::ProvideErrorMetadata;
use aws_sdk_personalizeevents::Client as Events;
use aws_sdk_personalizeruntime::Client as Runtime;
use personalize_testkit::personalize::{self as deploy, Data};
pub use personalize_testkit::personalize::{
    CLUSTERS, INTERACTIONS_SCHEMA, ITEMS, ITEMS_SCHEMA, cluster_of, interactions_csv, items_csv,
    sdk_config,
};

/// The AWS error code of a call that must be refused (`why` names the case).
pub fn code_of<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    result: Result<T, E>,
    why: &str,
) -> String {
    let err = result.expect_err(why);
    err.code().unwrap_or_default().to_owned()
}

/// CreateFilter; the new filter's ARN.
pub async fn create_filter(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    expression: impl Into<String>,
) -> String {
    cp.create_filter()
        .name(name)
        .dataset_group_arn(dg)
        .filter_expression(expression)
        .send()
        .await
        .expect("CreateFilter")
        .filter_arn
        .expect("filterArn")
}

/// CreateCampaign with `config`, waiting for ACTIVE; the campaign's ARN.
pub async fn create_campaign(
    cp: &ControlPlane,
    name: &str,
    version: &str,
    config: aws_sdk_personalize::types::CampaignConfig,
) -> String {
    let arn = cp
        .create_campaign()
        .name(name)
        .solution_version_arn(version)
        .campaign_config(config)
        .send()
        .await
        .expect("CreateCampaign")
        .campaign_arn
        .expect("arn");
    wait_status(
        name,
        Duration::from_secs(60),
        || async {
            cp.describe_campaign()
                .campaign_arn(&arn)
                .send()
                .await
                .ok()
                .and_then(|d| d.campaign)
                .and_then(|c| c.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    arn
}

/// A fresh, empty directory under the system temp dir (kept after the test).
pub fn temp_dir(name: &str) -> PathBuf {
    personalize_testkit::temp_dir(&format!("local-{name}")).expect("create temp dir")
}

/// Writes `content` to `<data_dir>/s3/<bucket>/<key>`.
pub fn put_object(data_dir: &Path, bucket: &str, key: &str, content: &str) {
    deploy::put_object(data_dir, bucket, key, content).expect("write object");
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
    let (interactions, items) = (interactions_csv(), items_csv());
    let data = Data {
        interactions_csv: &interactions,
        items: Some((ITEMS_SCHEMA, &items)),
    };
    let group = deploy::seed_dataset_group(cp, data_dir, name, data)
        .await
        .expect("dataset group with imported interactions and items");
    let items = group.items.expect("items dataset");
    (group.arn, group.interactions, items)
}

/// Trains a solution version of `recipe` and waits for ACTIVE; returns (solution, version).
pub async fn train(cp: &ControlPlane, dg: &str, name: &str, recipe: &str) -> (String, String) {
    let trained = deploy::train(cp, dg, name, recipe)
        .await
        .unwrap_or_else(|e| panic!("training {name}: {e}"));
    (trained.solution, trained.version)
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

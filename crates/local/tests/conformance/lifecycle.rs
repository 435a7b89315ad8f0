//! Timed state machines, SigV4 verification and fault injection, seen through the Rust SDK.

use std::time::Duration;

use aws_sdk_personalize::error::ProvideErrorMetadata;
use personalize_local::{Config, Running};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_take_time_and_use_the_literal_statuses() {
    let config = Config {
        transition: Duration::from_millis(400),
        ..Config::for_tests(None)
    };
    let server = Running::start(config).await.expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("slow")
        .send()
        .await
        .expect("create")
        .dataset_group_arn
        .expect("arn");
    let status = |cp: aws_sdk_personalize::Client, dg: String| async move {
        match cp
            .describe_dataset_group()
            .dataset_group_arn(dg)
            .send()
            .await
        {
            Ok(out) => out.dataset_group.and_then(|g| g.status).unwrap_or_default(),
            Err(e) => e.code().unwrap_or_default().to_string(),
        }
    };
    assert_eq!(status(cp.clone(), dg.clone()).await, "CREATE PENDING");
    let call = cp
        .delete_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await;
    assert_eq!(
        code_of(call, "cannot delete while creating"),
        "ResourceInUseException"
    );
    let seen = wait_status(
        "in progress",
        Duration::from_secs(5),
        || status(cp.clone(), dg.clone()),
        &["CREATE IN_PROGRESS", "ACTIVE"],
    )
    .await;
    assert_eq!(seen, "CREATE IN_PROGRESS");
    wait_status(
        "active",
        Duration::from_secs(5),
        || status(cp.clone(), dg.clone()),
        &["ACTIVE"],
    )
    .await;
    cp.delete_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("delete");
    assert_eq!(status(cp.clone(), dg.clone()).await, "DELETE PENDING");
    wait_status(
        "deleted",
        Duration::from_secs(5),
        || status(cp.clone(), dg.clone()),
        &["ResourceNotFoundException"],
    )
    .await;
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_is_verified_when_enabled() {
    let config = Config {
        verify_sigv4: true,
        credentials: vec![("AKIDLOCALTEST".into(), "local-test-secret".into())],
        ..Config::for_tests(None)
    };
    let server = Running::start(config).await.expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    cp.create_dataset_group()
        .name("signed")
        .send()
        .await
        .expect("a correctly signed request passes");
    let wrong = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(server.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_personalize::config::Credentials::new(
            "AKIDLOCALTEST",
            "wrong-secret",
            None,
            None,
            "static",
        ))
        .load()
        .await;
    let call = aws_sdk_personalize::Client::new(&wrong)
        .list_dataset_groups()
        .send()
        .await;
    assert_eq!(code_of(call, "bad signature"), "InvalidSignatureException");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_reach_the_client() {
    let mut config = Config::for_tests(None);
    config.faults.add("ListSchemas:throttle=1").expect("spec");
    config.faults.add("CreateSchema:throttle=1").expect("spec");
    let server = Running::start(config).await.expect("server starts");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(server.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_personalize::config::Credentials::new(
            "AKIDLOCALTEST",
            "local-test-secret",
            None,
            None,
            "static",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let cp = aws_sdk_personalize::Client::new(&sdk);
    // ListSchemas models no LimitExceededException: AWS's common ThrottlingException.
    let call = cp.list_schemas().send().await;
    assert_eq!(code_of(call, "throttled"), "ThrottlingException");
    let call = cp
        .create_schema()
        .name("throttled")
        .schema(ITEMS_SCHEMA)
        .send()
        .await;
    assert_eq!(code_of(call, "throttled"), "LimitExceededException");
    cp.list_dataset_groups()
        .send()
        .await
        .expect("other operations are unaffected");
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_training_starts_a_version_by_itself() {
    let config = Config {
        auto_training_first_delay: Duration::from_millis(200),
        ..Config::for_tests(None)
    };
    let server = Running::start(config).await.expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("auto")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let manual = cp
        .create_solution()
        .name("auto-off")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-popularity-count")
        .perform_auto_training(false)
        .send()
        .await
        .expect("solution")
        .solution_arn
        .expect("arn");
    let auto = cp
        .create_solution()
        .name("auto-default")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-popularity-count")
        .send()
        .await
        .expect("solution")
        .solution_arn
        .expect("arn");
    let training_type = wait_status(
        "automatic version",
        Duration::from_secs(10),
        || async {
            cp.list_solution_versions()
                .solution_arn(&auto)
                .send()
                .await
                .expect("list")
                .solution_versions()
                .first()
                .and_then(|v| v.training_type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_default()
        },
        &["AUTOMATIC"],
    )
    .await;
    assert_eq!(training_type, "AUTOMATIC");
    let none = cp
        .list_solution_versions()
        .solution_arn(&manual)
        .send()
        .await
        .expect("list");
    assert!(none.solution_versions().is_empty());
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_version_and_updating_a_dataset() {
    let dir = temp_dir("stop");
    let config = Config {
        transition: Duration::from_millis(400),
        ..Config::for_tests(Some(dir.clone()))
    };
    let server = Running::start(config).await.expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let (dg, interactions, _) = seed_dataset_group(&cp, &dir, "stop").await;
    let solution = cp
        .create_solution()
        .name("stop")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-popularity-count")
        .perform_auto_training(false)
        .send()
        .await
        .expect("solution")
        .solution_arn
        .expect("arn");
    let describe_solution = || async {
        cp.describe_solution()
            .solution_arn(&solution)
            .send()
            .await
            .expect("describe")
            .solution
            .and_then(|s| s.status)
            .unwrap_or_default()
    };
    wait_status(
        "solution",
        Duration::from_secs(10),
        describe_solution,
        &["ACTIVE"],
    )
    .await;
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("version")
        .solution_version_arn
        .expect("arn");
    let call = cp.delete_solution().solution_arn(&solution).send().await;
    assert_eq!(
        code_of(call, "version in progress"),
        "ResourceInUseException"
    );
    cp.stop_solution_version_creation()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("StopSolutionVersionCreation");
    let describe_version = || async {
        cp.describe_solution_version()
            .solution_version_arn(&version)
            .send()
            .await
            .expect("describe")
            .solution_version
            .and_then(|v| v.status)
            .unwrap_or_default()
    };
    assert_eq!(describe_version().await, "CREATE STOPPING");
    wait_status(
        "stopped",
        Duration::from_secs(10),
        describe_version,
        &["CREATE STOPPED"],
    )
    .await;

    // UpdateDataset: latestDatasetUpdate goes through the states, then the schema applies.
    let schema2 = cp
        .create_schema()
        .name("stop-interactions-v2")
        .schema(INTERACTIONS_SCHEMA.replace(
            r#"{"name":"TIMESTAMP","type":"long"}"#,
            r#"{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_VALUE","type":["null","float"]}"#,
        ))
        .send()
        .await
        .expect("schema v2")
        .schema_arn
        .expect("arn");
    cp.update_dataset()
        .dataset_arn(&interactions)
        .schema_arn(&schema2)
        .send()
        .await
        .expect("UpdateDataset");
    let describe_update = || async {
        cp.describe_dataset()
            .dataset_arn(&interactions)
            .send()
            .await
            .expect("describe")
            .dataset
            .and_then(|d| d.latest_dataset_update)
            .and_then(|u| u.status)
            .unwrap_or_default()
    };
    assert_eq!(describe_update().await, "CREATE PENDING");
    wait_status(
        "update",
        Duration::from_secs(10),
        describe_update,
        &["ACTIVE"],
    )
    .await;
    let dataset = cp
        .describe_dataset()
        .dataset_arn(&interactions)
        .send()
        .await
        .expect("describe")
        .dataset
        .expect("dataset");
    assert_eq!(dataset.schema_arn(), Some(schema2.as_str()));
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

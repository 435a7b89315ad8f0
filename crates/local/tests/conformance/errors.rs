//! Error paths through the Rust SDK: in-use, already-exists, not-found, invalid input, limits,
//! paging, and a failed import naming the bad line.

use std::time::Duration;

use personalize_local::{Config, Running};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modelled_errors_reach_the_sdk() {
    let dir = temp_dir("errors");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;

    // Invalid input: a bad name.
    let call = cp.create_dataset_group().name("bad name!").send().await;
    assert_eq!(code_of(call, "invalid name"), "InvalidInputException");

    // Already exists.
    let dg = cp
        .create_dataset_group()
        .name("errors")
        .send()
        .await
        .expect("create")
        .dataset_group_arn
        .expect("arn");
    let call = cp.create_dataset_group().name("errors").send().await;
    assert_eq!(code_of(call, "duplicate"), "ResourceAlreadyExistsException");

    // Not found.
    let call = cp
        .describe_solution()
        .solution_arn("arn:aws:personalize:us-east-1:000000000000:solution/nope")
        .send()
        .await;
    assert_eq!(code_of(call, "missing"), "ResourceNotFoundException");

    // Invalid schema.
    let call = cp
        .create_schema()
        .name("broken")
        .schema("{not json")
        .send()
        .await;
    assert_eq!(code_of(call, "bad schema"), "InvalidInputException");

    // In use: a dataset group with a dataset; a schema used by a dataset.
    let schema = cp
        .create_schema()
        .name("errors-interactions")
        .schema(INTERACTIONS_SCHEMA)
        .send()
        .await
        .expect("schema")
        .schema_arn
        .expect("arn");
    let dataset = cp
        .create_dataset()
        .name("errors-interactions")
        .dataset_group_arn(&dg)
        .dataset_type("INTERACTIONS")
        .schema_arn(&schema)
        .send()
        .await
        .expect("dataset")
        .dataset_arn
        .expect("arn");
    let call = cp
        .delete_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await;
    assert_eq!(code_of(call, "has children"), "ResourceInUseException");
    let call = cp.delete_schema().schema_arn(&schema).send().await;
    assert_eq!(code_of(call, "schema in use"), "ResourceInUseException");
    let call = cp
        .create_dataset()
        .name("errors-interactions-2")
        .dataset_group_arn(&dg)
        .dataset_type("INTERACTIONS")
        .schema_arn(&schema)
        .send()
        .await;
    assert_eq!(
        code_of(call, "one dataset per type"),
        "ResourceAlreadyExistsException"
    );

    // A bad row fails the import with the line and the reason.
    let mut csv = interactions_csv();
    csv.push_str("u1,i1,click,not-a-time\n");
    put_object(&dir, "bad", "interactions.csv", &csv);
    let job = cp
        .create_dataset_import_job()
        .job_name("errors-bad-import")
        .dataset_arn(&dataset)
        .data_source(
            aws_sdk_personalize::types::DataSource::builder()
                .data_location("s3://bad/interactions.csv")
                .build(),
        )
        .send()
        .await
        .expect("import job")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Import, &job).await.0, "CREATE FAILED");
    let failed = cp
        .describe_dataset_import_job()
        .dataset_import_job_arn(&job)
        .send()
        .await
        .expect("describe")
        .dataset_import_job
        .expect("job");
    let reason = failed.failure_reason().unwrap_or_default();
    assert!(
        reason.contains("line 1442") && reason.contains("TIMESTAMP"),
        "{reason}"
    );

    // Training minimums: no data -> the version fails with a reason.
    let solution = cp
        .create_solution()
        .name("errors-solution")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-user-personalization")
        .perform_auto_training(false)
        .send()
        .await
        .expect("solution")
        .solution_arn
        .expect("arn");
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("version")
        .solution_version_arn
        .expect("arn");
    wait_status(
        "untrainable version",
        Duration::from_secs(30),
        || async {
            cp.describe_solution_version()
                .solution_version_arn(&version)
                .send()
                .await
                .expect("describe")
                .solution_version
                .and_then(|v| v.status)
                .unwrap_or_default()
        },
        &["CREATE FAILED"],
    )
    .await;
    let call = cp
        .get_solution_metrics()
        .solution_version_arn(&version)
        .send()
        .await;
    assert_eq!(
        code_of(call, "no metrics for a failed version"),
        "ResourceInUseException"
    );
    let call = cp
        .create_campaign()
        .name("errors-campaign")
        .solution_version_arn(&version)
        .send()
        .await;
    assert_eq!(
        code_of(call, "failed version cannot be deployed"),
        "ResourceInUseException"
    );
    let call = cp
        .create_solution()
        .name("errors-unknown-recipe")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-nonexistent")
        .send()
        .await;
    assert_eq!(code_of(call, "unknown recipe"), "InvalidInputException");

    // One event tracker per dataset group.
    let tracker = cp
        .create_event_tracker()
        .name("errors-tracker")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("tracker");
    let call = cp
        .create_event_tracker()
        .name("errors-tracker-2")
        .dataset_group_arn(&dg)
        .send()
        .await;
    assert_eq!(
        code_of(call, "second tracker"),
        "ResourceAlreadyExistsException"
    );

    // Events: an unknown tracking id and an object as properties are invalid input (PutEvents
    // models no other error).
    let event = aws_sdk_personalizeevents::types::Event::builder()
        .event_type("click")
        .item_id("i1")
        .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
            1,
        ))
        .build()
        .expect("event");
    let err = events
        .put_events()
        .tracking_id("no-such-tracker")
        .session_id("s")
        .event_list(event.clone())
        .send()
        .await
        .expect_err("unknown tracker");
    assert_eq!(
        aws_sdk_personalizeevents::error::ProvideErrorMetadata::code(&err),
        Some("InvalidInputException")
    );
    let bad_properties = aws_sdk_personalizeevents::types::Event::builder()
        .event_type("click")
        .item_id("i1")
        .properties("not an object")
        .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
            1,
        ))
        .build()
        .expect("event");
    let err = events
        .put_events()
        .tracking_id(tracker.tracking_id().expect("id"))
        .session_id("s")
        .event_list(bad_properties)
        .send()
        .await
        .expect_err("bad properties");
    assert_eq!(
        aws_sdk_personalizeevents::error::ProvideErrorMetadata::code(&err),
        Some("InvalidInputException")
    );
    // A metric attribution source is taken (and attributed when the group has a metric
    // attribution, see `metric_attribution.rs`); a blank one is refused as the model says.
    let attributed = |source: &str| {
        aws_sdk_personalizeevents::types::Event::builder()
            .event_type("click")
            .item_id("i1")
            .metric_attribution(
                aws_sdk_personalizeevents::types::MetricAttribution::builder()
                    .event_attribution_source(source)
                    .build()
                    .expect("metric attribution"),
            )
            .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
                1,
            ))
            .build()
            .expect("event")
    };
    events
        .put_events()
        .tracking_id(tracker.tracking_id().expect("id"))
        .session_id("s")
        .event_list(attributed("email"))
        .send()
        .await
        .expect("metricAttribution is accepted");
    let blank = events
        .put_events()
        .tracking_id(tracker.tracking_id().expect("id"))
        .session_id("s")
        .event_list(attributed("   "))
        .send()
        .await;
    assert_eq!(code_of(blank, "blank source"), "InvalidInputException");

    // Runtime: unknown campaign.
    let err = rt
        .get_recommendations()
        .campaign_arn("arn:aws:personalize:us-east-1:000000000000:campaign/nope")
        .user_id("u1")
        .send()
        .await
        .expect_err("unknown campaign");
    assert_eq!(
        aws_sdk_personalizeruntime::error::ProvideErrorMetadata::code(&err),
        Some("ResourceNotFoundException")
    );

    // Paging over schemas.
    for i in 0..4 {
        cp.create_schema()
            .name(format!("page-{i}"))
            .schema(ITEMS_SCHEMA)
            .send()
            .await
            .expect("schema");
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = cp
            .list_schemas()
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListSchemas");
        assert!(page.schemas().len() <= 2);
        seen.extend(
            page.schemas()
                .iter()
                .filter_map(|s| s.name().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let call = cp.list_schemas().next_token("garbage").send().await;
    assert_eq!(code_of(call, "bad token"), "InvalidNextTokenException");

    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_limits_and_update_rules() {
    let dir = temp_dir("limits");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _events, _rt) = clients(&server.url()).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "limits").await;
    let (solution, version) = train(
        &cp,
        &dg,
        "limits-pop",
        "arn:aws:personalize:::recipe/aws-popularity-count",
    )
    .await;
    for i in 0..5 {
        cp.create_campaign()
            .name(format!("limits-{i}"))
            .solution_version_arn(&version)
            .send()
            .await
            .expect("campaign");
    }
    let call = cp
        .create_campaign()
        .name("limits-5")
        .solution_version_arn(&version)
        .send()
        .await;
    assert_eq!(code_of(call, "sixth campaign"), "LimitExceededException");
    let call = cp.delete_solution().solution_arn(&solution).send().await;
    assert_eq!(code_of(call, "campaigns use it"), "ResourceInUseException");
    let listed = cp
        .list_campaigns()
        .solution_arn(&solution)
        .send()
        .await
        .expect("ListCampaigns");
    assert_eq!(listed.campaigns().len(), 5);
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

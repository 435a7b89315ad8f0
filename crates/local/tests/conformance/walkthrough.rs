//! The seed lifecycle with the Rust SDKs: import, train, metrics, campaign, tracker, PutEvents
//! changing recommendations at once, filters, updates, then teardown in AWS's order.

use std::time::Duration;

use aws_sdk_personalize::error::ProvideErrorMetadata;
use personalize_local::{Config, Running};

use crate::support::*;

const USER_PERSONALIZATION: &str = "arn:aws:personalize:::recipe/aws-user-personalization";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_lifecycle_with_the_rust_sdks() {
    let dir = temp_dir("walkthrough");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;

    // Dataset group, schemas, datasets, imports.
    let (dg, interactions, items) = seed_dataset_group(&cp, &dir, "movies").await;
    assert_eq!(
        dg,
        "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"
    );
    assert_eq!(
        interactions,
        "arn:aws:personalize:us-east-1:000000000000:dataset/movies/INTERACTIONS"
    );
    let described = cp
        .describe_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("DescribeDatasetGroup")
        .dataset_group
        .expect("group");
    assert_eq!(described.status(), Some("ACTIVE"));
    assert!(described.creation_date_time().is_some());
    let datasets = cp
        .list_datasets()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListDatasets");
    assert_eq!(datasets.datasets().len(), 2);

    // Recipes.
    let recipes = cp.list_recipes().send().await.expect("ListRecipes");
    assert!(
        recipes
            .recipes()
            .iter()
            .any(|r| r.recipe_arn() == Some(USER_PERSONALIZATION))
    );
    let recipe = cp
        .describe_recipe()
        .recipe_arn(USER_PERSONALIZATION)
        .send()
        .await
        .expect("DescribeRecipe");
    assert_eq!(recipe.recipe().and_then(|r| r.status()), Some("ACTIVE"));

    // Solution: performAutoTraining defaults to true when absent.
    let auto = cp
        .create_solution()
        .name("movies-auto")
        .dataset_group_arn(&dg)
        .recipe_arn(USER_PERSONALIZATION)
        .send()
        .await
        .expect("CreateSolution")
        .solution_arn
        .expect("arn");
    let auto_described = cp
        .describe_solution()
        .solution_arn(&auto)
        .send()
        .await
        .expect("DescribeSolution")
        .solution
        .expect("solution");
    assert_eq!(auto_described.perform_auto_training(), Some(true));
    cp.update_solution()
        .solution_arn(&auto)
        .perform_auto_training(false)
        .send()
        .await
        .expect("UpdateSolution");
    let updated = cp
        .describe_solution()
        .solution_arn(&auto)
        .send()
        .await
        .expect("DescribeSolution")
        .solution
        .expect("solution");
    assert_eq!(updated.perform_auto_training(), Some(false));
    assert_eq!(
        updated.latest_solution_update().and_then(|u| u.status()),
        Some("ACTIVE")
    );
    cp.delete_solution()
        .solution_arn(&auto)
        .send()
        .await
        .expect("DeleteSolution");

    // Train, metrics.
    let (solution, version) = train(&cp, &dg, "movies-up", USER_PERSONALIZATION).await;
    assert!(version.starts_with(&format!("{solution}/")));
    let metrics = cp
        .get_solution_metrics()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("GetSolutionMetrics");
    let metrics = metrics.metrics().expect("metrics");
    assert!(
        metrics.contains_key("normalized_discounted_cumulative_gain_at_10"),
        "{metrics:?}"
    );
    let listed = cp
        .list_solution_versions()
        .solution_arn(&solution)
        .send()
        .await
        .expect("ListSolutionVersions");
    assert_eq!(listed.solution_versions().len(), 1);
    let latest = cp
        .describe_solution()
        .solution_arn(&solution)
        .send()
        .await
        .expect("DescribeSolution")
        .solution
        .and_then(|s| s.latest_solution_version)
        .and_then(|v| v.solution_version_arn);
    assert_eq!(latest.as_deref(), Some(version.as_str()));

    // Campaign.
    let campaign = cp
        .create_campaign()
        .name("movies-campaign")
        .solution_version_arn(&version)
        .min_provisioned_tps(1)
        .send()
        .await
        .expect("CreateCampaign")
        .campaign_arn
        .expect("arn");
    let c = cp
        .describe_campaign()
        .campaign_arn(&campaign)
        .send()
        .await
        .expect("DescribeCampaign")
        .campaign
        .expect("campaign");
    assert_eq!(c.status(), Some("ACTIVE"));
    assert_eq!(c.min_provisioned_tps(), Some(1));

    // Event tracker, PutEvents: the user's recommendations change at once.
    let tracker = cp
        .create_event_tracker()
        .name("movies-tracker")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("CreateEventTracker");
    let tracker_arn = tracker.event_tracker_arn.expect("arn");
    let tracking_id = tracker.tracking_id.expect("trackingId");
    let user = "u0"; // cluster 0
    let before = recommend(&rt, &campaign, user, 10).await;
    assert_eq!(before.len(), 10);
    let other_cluster: Vec<String> = (0..ITEMS)
        .filter(|i| cluster_of(*i) == 3)
        .take(20)
        .map(|i| format!("i{i}"))
        .collect();
    put_clicks(&events, &tracking_id, user, &other_cluster).await;
    let after = recommend(&rt, &campaign, user, 10).await;
    assert_ne!(
        before, after,
        "PutEvents must change the next recommendations"
    );
    let untouched = recommend(&rt, &campaign, "u1", 10).await;
    assert_eq!(untouched.len(), 10);

    // Items through PutItems, and a filter.
    events
        .put_items()
        .dataset_arn(&items)
        .items(
            aws_sdk_personalizeevents::types::Item::builder()
                .item_id("i-new")
                .properties(r#"{"genres": "genre3"}"#)
                .build()
                .expect("item"),
        )
        .send()
        .await
        .expect("PutItems");
    let filter = create_filter(
        &cp,
        &dg,
        "only-genre0",
        r#"INCLUDE ItemID WHERE Items.GENRES IN ("genre0")"#,
    )
    .await;
    let filtered = rt
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("u1")
        .num_results(10)
        .filter_arn(&filter)
        .send()
        .await
        .expect("GetRecommendations with filter");
    for item in filtered.item_list() {
        let id: usize = item.item_id().expect("id")[1..]
            .parse()
            .expect("numeric id");
        assert_eq!(cluster_of(id), 0, "filter lets through {id}");
    }
    assert!(filtered.recommendation_id().is_some());

    // Tags.
    cp.tag_resource()
        .resource_arn(&campaign)
        .tags(
            aws_sdk_personalize::types::Tag::builder()
                .tag_key("team")
                .tag_value("recs")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&campaign)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags().len(), 1);
    cp.untag_resource()
        .resource_arn(&campaign)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");

    // A second version rolls out through UpdateCampaign.
    let version2 = cp
        .create_solution_version()
        .solution_arn(&solution)
        .training_mode(aws_sdk_personalize::types::TrainingMode::Update)
        .send()
        .await
        .expect("CreateSolutionVersion UPDATE")
        .solution_version_arn
        .expect("arn");
    wait_status(
        "version 2",
        Duration::from_secs(300),
        || async {
            cp.describe_solution_version()
                .solution_version_arn(&version2)
                .send()
                .await
                .expect("describe")
                .solution_version
                .and_then(|v| v.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    cp.update_campaign()
        .campaign_arn(&campaign)
        .solution_version_arn(&version2)
        .send()
        .await
        .expect("UpdateCampaign");
    let c = cp
        .describe_campaign()
        .campaign_arn(&campaign)
        .send()
        .await
        .expect("DescribeCampaign")
        .campaign
        .expect("campaign");
    assert_eq!(c.solution_version_arn(), Some(version2.as_str()));
    assert_eq!(
        c.latest_campaign_update().and_then(|u| u.status()),
        Some("ACTIVE")
    );

    // Teardown in AWS's order.
    cp.delete_campaign()
        .campaign_arn(&campaign)
        .send()
        .await
        .expect("DeleteCampaign");
    cp.delete_event_tracker()
        .event_tracker_arn(&tracker_arn)
        .send()
        .await
        .expect("DeleteEventTracker");
    cp.delete_filter()
        .filter_arn(&filter)
        .send()
        .await
        .expect("DeleteFilter");
    cp.delete_solution()
        .solution_arn(&solution)
        .send()
        .await
        .expect("DeleteSolution");
    for dataset in [&interactions, &items] {
        cp.delete_dataset()
            .dataset_arn(dataset)
            .send()
            .await
            .expect("DeleteDataset");
    }
    for schema in ["movies-interactions", "movies-items"] {
        cp.delete_schema()
            .schema_arn(format!(
                "arn:aws:personalize:us-east-1:000000000000:schema/{schema}"
            ))
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
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

//! New items: an item imported with the items dataset but absent from the interactions the
//! solution trained on is still served. A PutEvents event on it changes the user's next
//! recommendations towards the items that share its metadata.

use aws_sdk_personalize::types::CampaignConfig;
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{Data, seed_dataset_group as seed};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_on_an_item_without_interactions_changes_recommendations() {
    let dir = temp_dir("cold-items");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;
    // The usual data, plus one item of genre 3 that nobody interacted with.
    let interactions = interactions_csv();
    let items = format!("{}i-cold,genre3\n", items_csv());
    let dg = seed(
        &cp,
        &dir,
        "cold-items",
        Data {
            interactions_csv: &interactions,
            items: Some((ITEMS_SCHEMA, &items)),
        },
    )
    .await
    .expect("dataset group with imported interactions and items")
    .arn;
    let (_, version) = train(
        &cp,
        &dg,
        "cold-items",
        "arn:aws:personalize:::recipe/aws-user-personalization",
    )
    .await;
    let config = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .build();
    let campaign = create_campaign(&cp, "cold-items", &version, config).await;
    let tracking_id = cp
        .create_event_tracker()
        .name("cold-items")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("CreateEventTracker")
        .tracking_id
        .expect("trackingId");
    let genre3 = |list: &[String]| {
        list.iter()
            .filter(|id| {
                id.strip_prefix('i')
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| cluster_of(n) == 3)
            })
            .count()
    };

    // u0 likes genre 0; a click on an item no model knows and the catalog lacks changes nothing.
    let before = recommend(&rt, &campaign, "u0", 10).await;
    assert!(genre3(&before) <= 2, "{before:?}");
    put_clicks(&events, &tracking_id, "u0", &["i-nowhere".to_owned()]).await;
    assert_eq!(recommend(&rt, &campaign, "u0", 10).await, before);

    // A new user gets popular items of every genre; after one click on the new genre-3 item,
    // genre-3 items.
    let before = recommend(&rt, &campaign, "u-new", 10).await;
    assert!(genre3(&before) <= 4, "{before:?}");
    put_clicks(&events, &tracking_id, "u-new", &["i-cold".to_owned()]).await;
    let after = recommend(&rt, &campaign, "u-new", 10).await;
    assert!(genre3(&after) >= 8, "{before:?} -> {after:?}");
    assert!(!after.contains(&"i-cold".to_owned()), "clicked: excluded");
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

//! GetRecommendations on a campaign with `metadataColumns` and `promotions`, and the request
//! members personalize-local refuses rather than ignores (`context`), through the Rust SDK.

use aws_sdk_personalize::types::CampaignConfig;
use aws_sdk_personalizeruntime::error::ProvideErrorMetadata;
use aws_sdk_personalizeruntime::types::{PredictedItem, Promotion};
use personalize_local::{Config, Running};

use crate::support::*;

const USER_PERSONALIZATION: &str = "arn:aws:personalize:::recipe/aws-user-personalization";

fn number(item: &str) -> usize {
    item.strip_prefix('i')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("item id i<n>: {item}"))
}

fn ids(items: &[PredictedItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect()
}

fn promotion(name: &str, percent: i32, filter: &str) -> Promotion {
    Promotion::builder()
        .name(name)
        .percent_promoted_items(percent)
        .filter_arn(filter)
        .build()
}

async fn campaign(
    cp: &aws_sdk_personalize::Client,
    name: &str,
    version: &str,
    metadata: bool,
) -> String {
    let config = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .enable_metadata_with_recommendations(metadata)
        .build();
    create_campaign(cp, name, version, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_columns_and_promotions_on_a_campaign() {
    let dir = temp_dir("promotions");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "promotions").await;
    let (_, version) = train(&cp, &dg, "promotions", USER_PERSONALIZATION).await;
    let with_metadata = campaign(&cp, "promotions-metadata", &version, true).await;
    let without_metadata = campaign(&cp, "promotions-plain", &version, false).await;

    // Metadata: each item carries the values of the columns asked for, from the items dataset.
    let answer = rt
        .get_recommendations()
        .campaign_arn(&with_metadata)
        .user_id("u0")
        .num_results(10)
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await
        .expect("GetRecommendations with metadataColumns");
    assert_eq!(answer.item_list().len(), 10);
    for item in answer.item_list() {
        let id = item.item_id().expect("itemId");
        let genre = item
            .metadata()
            .and_then(|m| m.get("GENRES"))
            .unwrap_or_else(|| panic!("{id} has no GENRES metadata: {item:?}"));
        assert_eq!(genre, &format!("genre{}", cluster_of(number(id))), "{id}");
        assert_eq!(item.promotion_name(), None);
    }
    // Without metadataColumns, no metadata.
    let plain = rt
        .get_recommendations()
        .campaign_arn(&with_metadata)
        .user_id("u0")
        .num_results(10)
        .send()
        .await
        .expect("GetRecommendations");
    assert!(plain.item_list().iter().all(|i| i.metadata().is_none()));
    // Refused: a campaign without enableMetadataWithRecommendations, an unknown column, another
    // dataset type.
    for (what, campaign, dataset_type, column) in [
        ("metadata not enabled", &without_metadata, "ITEMS", "GENRES"),
        ("unknown column", &with_metadata, "ITEMS", "NO_SUCH_COLUMN"),
        ("USERS dataset", &with_metadata, "USERS", "GENRES"),
    ] {
        let err = rt
            .get_recommendations()
            .campaign_arn(campaign)
            .user_id("u0")
            .metadata_columns(dataset_type, vec![column.into()])
            .send()
            .await
            .expect_err(what);
        assert_eq!(err.code(), Some("InvalidInputException"), "{what}: {err:?}");
        let message = err.message().unwrap_or_default();
        assert!(message.contains("metadataColumns"), "{what}: {message}");
    }
    let err = rt
        .get_recommendations()
        .campaign_arn(&without_metadata)
        .user_id("u0")
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await
        .expect_err("metadata not enabled");
    assert!(
        err.message()
            .is_some_and(|m| m.contains("enableMetadataWithRecommendations")),
        "{err:?}"
    );

    // A promotion of 20% of 10 results: 2 items of genre 3 (u0 likes genre 0), the model's top
    // two among them, each carrying promotionName; the other 8 are the normal top 10 minus them.
    let promoted_genre = format!("genre{}", cluster_of(3));
    let in_house = create_filter(
        &cp,
        &dg,
        "in-house",
        &format!(r#"INCLUDE ItemID WHERE Items.GENRES IN ("{promoted_genre}")"#),
    )
    .await;
    let normal = recommend(&rt, &with_metadata, "u0", 10).await;
    let ask = || {
        rt.get_recommendations()
            .campaign_arn(&with_metadata)
            .user_id("u0")
            .num_results(10)
            .promotions(promotion("in-house-shows", 20, &in_house))
            .metadata_columns("ITEMS", vec!["GENRES".into()])
    };
    let answer = ask()
        .send()
        .await
        .expect("GetRecommendations with a promotion");
    let items = answer.item_list();
    assert_eq!(items.len(), 10, "{items:?}");
    let (promoted, rest): (Vec<_>, Vec<_>) =
        items.iter().partition(|i| i.promotion_name().is_some());
    assert_eq!(promoted.len(), 2, "{items:?}");
    for item in &promoted {
        assert_eq!(item.promotion_name(), Some("in-house-shows"));
        let id = item.item_id().expect("itemId");
        assert_eq!(
            cluster_of(number(id)),
            cluster_of(3),
            "{id} is not promoted"
        );
        assert_eq!(
            item.metadata().and_then(|m| m.get("GENRES")),
            Some(&promoted_genre),
            "promoted items carry metadata too"
        );
    }
    let promoted_ids: Vec<String> = promoted
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    let filter_top = rt
        .get_recommendations()
        .campaign_arn(&with_metadata)
        .user_id("u0")
        .num_results(2)
        .filter_arn(&in_house)
        .send()
        .await
        .expect("GetRecommendations with the promotion's filter");
    assert_eq!(
        promoted_ids,
        ids(filter_top.item_list()),
        "promoted: the model's top items among the filter's, in order"
    );
    let expected_rest: Vec<String> = normal
        .iter()
        .filter(|id| !promoted_ids.contains(id))
        .take(8)
        .cloned()
        .collect();
    let rest_ids: Vec<String> = rest
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    assert_eq!(rest_ids, expected_rest, "the rest: the normal top items");
    // The same request, the same answer.
    let again = ask().send().await.expect("again");
    assert_eq!(ids(again.item_list()), ids(items));
    assert_eq!(
        again
            .item_list()
            .iter()
            .map(|i| i.promotion_name().is_some())
            .collect::<Vec<_>>(),
        items
            .iter()
            .map(|i| i.promotion_name().is_some())
            .collect::<Vec<_>>()
    );

    // Invalid promotions are refused.
    let (other_dg, _, _) = seed_dataset_group(&cp, &dir, "promotions-other").await;
    let foreign = create_filter(
        &cp,
        &other_dg,
        "foreign",
        r#"INCLUDE ItemID WHERE Items.GENRES IN ("genre1")"#,
    )
    .await;
    let unknown = in_house.replace("in-house", "no-such-filter");
    let no_filter = Promotion::builder()
        .name("p")
        .percent_promoted_items(20)
        .build();
    for (what, promotion, code) in [
        (
            "percent 0",
            promotion("p", 0, &in_house),
            "InvalidInputException",
        ),
        (
            "percent 101",
            promotion("p", 101, &in_house),
            "InvalidInputException",
        ),
        (
            "unknown filter",
            promotion("p", 20, &unknown),
            "ResourceNotFoundException",
        ),
        (
            "filter of another dataset group",
            promotion("p", 20, &foreign),
            "InvalidInputException",
        ),
        ("no filterArn", no_filter, "InvalidInputException"),
    ] {
        let err = rt
            .get_recommendations()
            .campaign_arn(&with_metadata)
            .user_id("u0")
            .num_results(10)
            .promotions(promotion)
            .send()
            .await
            .expect_err(what);
        assert_eq!(err.code(), Some(code), "{what}: {err:?}");
    }

    // `context` would change nothing here: refused, not ignored.
    let err = rt
        .get_recommendations()
        .campaign_arn(&with_metadata)
        .user_id("u0")
        .context("DEVICE", "phone")
        .send()
        .await
        .expect_err("context");
    assert_eq!(err.code(), Some("InvalidInputException"), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("context")));
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_columns_on_personalized_ranking() {
    let dir = temp_dir("ranking-metadata");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "ranking-metadata").await;
    let (_, version) = train(
        &cp,
        &dg,
        "ranking-metadata",
        "arn:aws:personalize:::recipe/aws-personalized-ranking",
    )
    .await;
    let with_metadata = campaign(&cp, "ranking-metadata", &version, true).await;
    let without_metadata = campaign(&cp, "ranking-plain", &version, false).await;
    let input: Vec<String> = ["i0", "i1", "i7", "i9"].map(String::from).to_vec();
    let ranked = rt
        .get_personalized_ranking()
        .campaign_arn(&with_metadata)
        .user_id("u0")
        .set_input_list(Some(input.clone()))
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await
        .expect("GetPersonalizedRanking with metadataColumns");
    assert_eq!(ranked.personalized_ranking().len(), 4);
    for item in ranked.personalized_ranking() {
        let id = item.item_id().expect("itemId");
        assert_eq!(
            item.metadata().and_then(|m| m.get("GENRES")),
            Some(&format!("genre{}", cluster_of(number(id)))),
            "{id}"
        );
    }
    let err = rt
        .get_personalized_ranking()
        .campaign_arn(&without_metadata)
        .user_id("u0")
        .set_input_list(Some(input))
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await
        .expect_err("metadata not enabled");
    assert_eq!(err.code(), Some("InvalidInputException"), "{err:?}");
    server.stop().await.expect("stops");
}

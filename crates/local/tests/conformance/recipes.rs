//! The other runtime shapes: GetPersonalizedRanking on a ranking campaign, item-based
//! GetRecommendations on a SIMS campaign, and the recipe/request mismatches.

use personalize_local::{Config, Running};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_and_related_items() {
    let dir = temp_dir("recipes");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "recipes").await;

    let (_, ranking) = train(
        &cp,
        &dg,
        "recipes-ranking",
        "arn:aws:personalize:::recipe/aws-personalized-ranking",
    )
    .await;
    let ranking_campaign = cp
        .create_campaign()
        .name("recipes-ranking")
        .solution_version_arn(&ranking)
        .send()
        .await
        .expect("campaign")
        .campaign_arn
        .expect("arn");
    let input: Vec<String> = ["i0", "i1", "i6", "i9", "unknown-item"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ranked = rt
        .get_personalized_ranking()
        .campaign_arn(&ranking_campaign)
        .user_id("u0")
        .set_input_list(Some(input.clone()))
        .send()
        .await
        .expect("GetPersonalizedRanking");
    let ids: Vec<&str> = ranked
        .personalized_ranking()
        .iter()
        .filter_map(|i| i.item_id())
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert_eq!(ids.last(), Some(&"unknown-item"), "unknown items rank last");

    // A filter with a $GENRE parameter: the items it rejects leave the ranking.
    let filter = create_filter(
        &cp,
        &dg,
        "recipes-genre",
        r#"EXCLUDE ItemID WHERE Items.GENRES IN ($GENRE)"#,
    )
    .await;
    let input: Vec<String> = (0..12).map(|i| format!("i{i}")).collect();
    let filtered = rt
        .get_personalized_ranking()
        .campaign_arn(&ranking_campaign)
        .user_id("u0")
        .set_input_list(Some(input.clone()))
        .filter_arn(&filter)
        .filter_values("GENRE", "\"genre0\",\"genre3\"")
        .send()
        .await
        .expect("GetPersonalizedRanking with a filter");
    let mut kept: Vec<String> = filtered
        .personalized_ranking()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    kept.sort();
    let mut expected: Vec<String> = (0..12usize)
        .filter(|i| ![0, 3].contains(&cluster_of(*i)))
        .map(|i| format!("i{i}"))
        .collect();
    expected.sort();
    assert_eq!(kept, expected, "the filter removes genre0 and genre3 items");
    assert!(
        filtered
            .personalized_ranking()
            .iter()
            .all(|i| i.score().is_some_and(|s| s >= 0.0))
    );
    let unfiltered = rt
        .get_personalized_ranking()
        .campaign_arn(&ranking_campaign)
        .user_id("u0")
        .set_input_list(Some(input.clone()))
        .filter_arn(&filter)
        .send()
        .await
        .expect("an EXCLUDE expression without its value is skipped");
    assert_eq!(unfiltered.personalized_ranking().len(), 12);
    let include = create_filter(
        &cp,
        &dg,
        "recipes-only-genre",
        r#"INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)"#,
    )
    .await;
    let call = rt
        .get_personalized_ranking()
        .campaign_arn(&ranking_campaign)
        .user_id("u0")
        .set_input_list(Some(input))
        .filter_arn(&include)
        .send()
        .await;
    assert_eq!(
        code_of(call, "an INCLUDE expression needs its value"),
        "InvalidInputException"
    );
    let call = rt
        .get_recommendations()
        .campaign_arn(&ranking_campaign)
        .user_id("u0")
        .send()
        .await;
    assert_eq!(code_of(call, "ranking campaign"), "InvalidInputException");

    let (_, sims) = train(
        &cp,
        &dg,
        "recipes-sims",
        "arn:aws:personalize:::recipe/aws-sims",
    )
    .await;
    let sims_campaign = cp
        .create_campaign()
        .name("recipes-sims")
        .solution_version_arn(&sims)
        .send()
        .await
        .expect("campaign")
        .campaign_arn
        .expect("arn");
    let related = rt
        .get_recommendations()
        .campaign_arn(&sims_campaign)
        .item_id("i0")
        .num_results(5)
        .send()
        .await
        .expect("related items");
    assert!(!related.item_list().is_empty());
    assert!(
        related
            .item_list()
            .iter()
            .all(|i| i.item_id() != Some("i0"))
    );
    let call = rt
        .get_recommendations()
        .campaign_arn(&sims_campaign)
        .user_id("u0")
        .send()
        .await;
    assert_eq!(
        code_of(call, "SIMS needs an itemId"),
        "InvalidInputException"
    );
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

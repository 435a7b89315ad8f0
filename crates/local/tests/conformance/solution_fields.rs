//! Solution and campaign request members that change training or are refused, never stored and
//! ignored: `eventsConfig` (CreateSolution and UpdateSolution), `trainingDataConfig`,
//! `performIncrementalUpdate`, the other `solutionConfig` members, campaign `rankingInfluence`;
//! and an import job without `roleArn`.

use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::types::{
    CampaignConfig, DataSource, EventParameters, EventsConfig, HpoConfig, HpoResourceConfig,
    ObjectiveSensitivity, OptimizationObjective, RankingInfluenceType, SolutionConfig,
    SolutionUpdateConfig, TrainingDataConfig,
};
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{self as deploy, Data};

use crate::support::*;

const V1: &str = "arn:aws:personalize:::recipe/aws-user-personalization";
const V2: &str = "arn:aws:personalize:::recipe/aws-user-personalization-v2";
const GROUPS: usize = 4;
const USERS: usize = 120;
const WAIT: Duration = Duration::from_secs(120);

/// Users in 4 groups; a user of group `g` views 6 of `a{g}-*`, clicks 6 of `c{g}-*` and
/// purchases 6 of `p{g}-*`.
fn interactions() -> String {
    let mut csv = String::from("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n");
    for u in 0..USERS {
        let g = u % GROUPS;
        for k in 0..6 {
            let t = 1_700_000_000 + u * 100 + k * 3;
            let pick = |n: usize| (u / GROUPS * 7 + k) % n;
            csv.push_str(&format!("u{u},a{g}-{},view,{t}\n", pick(10)));
            csv.push_str(&format!("u{u},c{g}-{},click,{}\n", pick(25), t + 1));
            csv.push_str(&format!("u{u},p{g}-{},purchase,{}\n", pick(25), t + 2));
        }
    }
    csv
}

fn events(weights: &[(&str, f64)]) -> EventsConfig {
    let list = weights
        .iter()
        .map(|(t, w)| EventParameters::builder().event_type(*t).weight(*w).build())
        .collect();
    EventsConfig::builder()
        .set_event_parameters_list(Some(list))
        .build()
}

async fn create_solution(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    recipe: &str,
    config: SolutionConfig,
) -> Result<String, String> {
    cp.create_solution()
        .name(name)
        .dataset_group_arn(dg)
        .recipe_arn(recipe)
        .perform_auto_training(false)
        .solution_config(config)
        .send()
        .await
        .map(|o| o.solution_arn.expect("solutionArn"))
        .map_err(|e| {
            use aws_sdk_personalize::error::ProvideErrorMetadata;
            e.code().unwrap_or_default().to_owned()
        })
}

/// Trains a version of `solution`, deploys it on a new (or given) campaign; returns the campaign.
async fn deploy_version(
    cp: &ControlPlane,
    solution: &str,
    campaign: Option<&str>,
    name: &str,
) -> String {
    let version = cp
        .create_solution_version()
        .solution_arn(solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    wait_status(
        "solution version",
        WAIT,
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
    match campaign {
        Some(campaign) => {
            cp.update_campaign()
                .campaign_arn(campaign)
                .solution_version_arn(&version)
                .send()
                .await
                .expect("UpdateCampaign");
            campaign.to_owned()
        }
        None => cp
            .create_campaign()
            .name(name)
            .solution_version_arn(&version)
            .send()
            .await
            .expect("CreateCampaign")
            .campaign_arn
            .expect("arn"),
    }
}

/// How many of u0's top 10 are click items (`c0-*`) and purchase items (`p0-*`).
async fn clicks_and_purchases(
    rt: &aws_sdk_personalizeruntime::Client,
    campaign: &str,
) -> (usize, usize) {
    let top = recommend(rt, campaign, "u0", 10).await;
    let count = |p: &str| top.iter().filter(|i| i.starts_with(p)).count();
    (count("c0-"), count("p0-"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solution_and_campaign_fields_are_honoured_or_refused() {
    let dir = temp_dir("solution-fields");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let csv = interactions();
    let group = deploy::seed_dataset_group(
        &cp,
        &dir,
        "fields",
        Data {
            interactions_csv: &csv,
            items: None,
        },
    )
    .await
    .expect("dataset group");
    let dg = group.arn;

    // An import job without roleArn (optional in the model since 2025-12).
    put_object(
        &dir,
        "seed",
        "fields/more.csv",
        "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\nu0,a0-9,view,1700000999\n",
    );
    let job = cp
        .create_dataset_import_job()
        .job_name("fields-no-role")
        .dataset_arn(&group.interactions)
        .data_source(
            DataSource::builder()
                .data_location("s3://seed/fields/more.csv")
                .build(),
        )
        .import_mode(aws_sdk_personalize::types::ImportMode::Incremental)
        .send()
        .await
        .expect("CreateDatasetImportJob without roleArn")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Import, &job).await.0, "ACTIVE");

    // eventsConfig is for the -v2 recipes only.
    let weights = |w: &[(&str, f64)]| SolutionConfig::builder().events_config(events(w)).build();
    let v1 = create_solution(&cp, &dg, "fields-v1", V1, weights(&[("click", 1.0)])).await;
    assert_eq!(v1.err().as_deref(), Some("InvalidInputException"));
    let all_zero = create_solution(&cp, &dg, "fields-zero", V2, weights(&[("click", 0.0)])).await;
    assert_eq!(all_zero.err().as_deref(), Some("InvalidInputException"));

    // Weight 0 leaves purchases out (as if they were not there); a heavier type is recommended more.
    let no_purchases = create_solution(
        &cp,
        &dg,
        "fields-no-purchases",
        V2,
        weights(&[("view", 1.0), ("click", 1.0), ("purchase", 0.0)]),
    )
    .await
    .expect("CreateSolution with eventsConfig");
    let described = describe_solution(&cp, &no_purchases).await;
    let list = described
        .solution_config()
        .and_then(|c| c.events_config())
        .map(|e| e.event_parameters_list().to_vec())
        .unwrap_or_default();
    assert_eq!(list.len(), 3, "{list:?}");
    let purchases_first = create_solution(
        &cp,
        &dg,
        "fields-purchases-first",
        V2,
        weights(&[("view", 1.0), ("click", 0.1), ("purchase", 1.0)]),
    )
    .await
    .expect("CreateSolution");
    let campaign = deploy_version(&cp, &no_purchases, None, "fields-no-purchases").await;
    let (clicks, purchases) = clicks_and_purchases(&rt, &campaign).await;
    assert!(clicks > 0, "{clicks} click items");
    assert_eq!(purchases, 0, "purchases weigh 0: none is learnt from");
    let other = deploy_version(&cp, &purchases_first, None, "fields-purchases-first").await;
    let (clicks, purchases) = clicks_and_purchases(&rt, &other).await;
    assert!(
        purchases > clicks,
        "purchase weighs 10x click: {clicks} click items, {purchases} purchase items"
    );

    // UpdateSolution's eventsConfig is what the next version trains with.
    cp.update_solution()
        .solution_arn(&no_purchases)
        .solution_update_config(
            SolutionUpdateConfig::builder()
                .events_config(events(&[("view", 1.0), ("click", 0.0), ("purchase", 1.0)]))
                .build(),
        )
        .send()
        .await
        .expect("UpdateSolution with eventsConfig");
    let updated = describe_solution(&cp, &no_purchases).await;
    let click = updated
        .solution_config()
        .and_then(|c| c.events_config())
        .and_then(|e| {
            e.event_parameters_list()
                .iter()
                .find(|p| p.event_type() == Some("click"))
                .and_then(|p| p.weight())
        });
    assert_eq!(click, Some(0.0));
    deploy_version(&cp, &no_purchases, Some(&campaign), "").await;
    wait_status(
        "campaign update",
        WAIT,
        || async {
            cp.describe_campaign()
                .campaign_arn(&campaign)
                .send()
                .await
                .expect("DescribeCampaign")
                .campaign
                .and_then(|c| c.latest_campaign_update)
                .and_then(|u| u.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    let (clicks, purchases) = clicks_and_purchases(&rt, &campaign).await;
    assert_eq!(clicks, 0, "clicks now weigh 0");
    assert!(purchases > 0, "{purchases} purchase items");
    let v1_solution = create_solution(
        &cp,
        &dg,
        "fields-plain",
        V1,
        SolutionConfig::builder().build(),
    )
    .await
    .expect("CreateSolution");
    let call = cp
        .update_solution()
        .solution_arn(&v1_solution)
        .solution_update_config(
            SolutionUpdateConfig::builder()
                .events_config(events(&[("click", 1.0)]))
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        code_of(call, "eventsConfig on a v1 solution"),
        "InvalidInputException"
    );

    // performIncrementalUpdate (AWS: aws-semantic-similarity only): true is refused.
    let call = cp
        .create_solution()
        .name("fields-incremental")
        .dataset_group_arn(&dg)
        .recipe_arn(V2)
        .perform_auto_training(false)
        .perform_incremental_update(true)
        .send()
        .await;
    assert_eq!(code_of(call, "incremental"), "InvalidInputException");
    let call = cp
        .update_solution()
        .solution_arn(&v1_solution)
        .perform_incremental_update(true)
        .send()
        .await;
    assert_eq!(code_of(call, "incremental update"), "InvalidInputException");
    let off = cp
        .create_solution()
        .name("fields-not-incremental")
        .dataset_group_arn(&dg)
        .recipe_arn(V2)
        .perform_auto_training(false)
        .perform_incremental_update(false)
        .send()
        .await
        .expect("performIncrementalUpdate false")
        .solution_arn
        .expect("arn");
    let described = describe_solution(&cp, &off).await;
    assert_eq!(described.perform_incremental_update(), Some(false));

    // trainingDataConfig: checked as for recommenders, kept for training.
    let exclude = |t: &str, c: &str| {
        TrainingDataConfig::builder()
            .excluded_dataset_columns(t, vec![c.to_owned()])
            .build()
    };
    let required = create_solution(
        &cp,
        &dg,
        "fields-no-user",
        V2,
        SolutionConfig::builder()
            .training_data_config(exclude("INTERACTIONS", "USER_ID"))
            .build(),
    )
    .await;
    assert_eq!(required.err().as_deref(), Some("InvalidInputException"));
    let both = create_solution(
        &cp,
        &dg,
        "fields-both",
        V2,
        SolutionConfig::builder()
            .training_data_config(
                TrainingDataConfig::builder()
                    .excluded_dataset_columns("ITEMS", vec!["GENRES".into()])
                    .included_dataset_columns("ITEMS", vec!["PRICE".into()])
                    .build(),
            )
            .build(),
    )
    .await;
    assert_eq!(both.err().as_deref(), Some("InvalidInputException"));
    let kept = create_solution(
        &cp,
        &dg,
        "fields-no-value",
        V2,
        SolutionConfig::builder()
            .training_data_config(exclude("INTERACTIONS", "EVENT_VALUE"))
            .build(),
    )
    .await
    .expect("excluding EVENT_VALUE");
    let described = describe_solution(&cp, &kept).await;
    let excluded = described
        .solution_config()
        .and_then(|c| c.training_data_config())
        .and_then(|t| t.excluded_dataset_columns())
        .and_then(|m| m.get("INTERACTIONS").cloned());
    assert_eq!(excluded, Some(vec!["EVENT_VALUE".to_owned()]));

    // Members personalize-local cannot honour are refused, not ignored.
    let refused = [
        (
            "fields-hpo",
            SolutionConfig::builder()
                .hpo_config(
                    HpoConfig::builder()
                        .hpo_resource_config(
                            HpoResourceConfig::builder()
                                .max_number_of_training_jobs("4")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        ),
        (
            "fields-objective",
            SolutionConfig::builder()
                .optimization_objective(
                    OptimizationObjective::builder()
                        .item_attribute("PRICE")
                        .objective_sensitivity(ObjectiveSensitivity::High)
                        .build(),
                )
                .build(),
        ),
        (
            "fields-transform",
            SolutionConfig::builder()
                .feature_transformation_parameters("max_user_history_length_percentile", "0.99")
                .build(),
        ),
    ];
    for (name, config) in refused {
        let call = create_solution(&cp, &dg, name, V2, config).await;
        assert_eq!(
            call.err().as_deref(),
            Some("InvalidInputException"),
            "{name}"
        );
    }

    // rankingInfluence (AWS: aws-semantic-similarity campaigns only) is refused unless 0.
    let version = cp
        .describe_campaign()
        .campaign_arn(&other)
        .send()
        .await
        .expect("DescribeCampaign")
        .campaign
        .and_then(|c| c.solution_version_arn)
        .expect("version");
    let metrics = cp
        .get_solution_metrics()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("GetSolutionMetrics")
        .metrics
        .unwrap_or_default();
    assert!(
        metrics.contains_key("normalized_discounted_cumulative_gain_with_event_weights_at_10"),
        "an eventsConfig solution reports NDCG with event weights: {metrics:?}"
    );
    let influence = |w: f64| {
        CampaignConfig::builder()
            .ranking_influence(RankingInfluenceType::Popularity, w)
            .build()
    };
    let call = cp
        .create_campaign()
        .name("fields-popular")
        .solution_version_arn(&version)
        .campaign_config(influence(1.0))
        .send()
        .await;
    assert_eq!(code_of(call, "rankingInfluence"), "InvalidInputException");
    let call = cp
        .update_campaign()
        .campaign_arn(&other)
        .campaign_config(influence(0.5))
        .send()
        .await;
    assert_eq!(
        code_of(call, "rankingInfluence on update"),
        "InvalidInputException"
    );
    cp.update_campaign()
        .campaign_arn(&other)
        .campaign_config(influence(0.0))
        .send()
        .await
        .expect("a weight of 0 (the default) asks for nothing");

    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

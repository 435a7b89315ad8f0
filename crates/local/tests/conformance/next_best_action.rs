//! Next-Best-Action end to end through the Rust SDKs: Actions, Action interactions, item
//! interactions and users imported from S3, an event tracker, an aws-next-best-action solution
//! version and campaign, GetActionRecommendations, then PutActions and PutActionInteractions
//! changing the answer at once. Quality: users of a segment take that segment's action, so it
//! ranks first for a held-out user of the segment; expired actions are never returned; an action
//! taken is not recommended again within its REPEAT_FREQUENCY; equally likely actions rank by
//! VALUE; the campaign's exploration weight gives slots to fresh unscored actions. Plus the
//! refusals AWS documents (data minimum, HPO, hyperparameter range, event types,
//! non-NBA campaigns, item filters).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::types::{CampaignConfig, DataSource, SolutionConfig};
use aws_sdk_personalizeevents::primitives::DateTime;
use aws_sdk_personalizeevents::types::{Action, ActionInteraction};
use aws_sdk_personalizeruntime::Client as Runtime;
use personalize_local::{Config, Running};

use crate::support::*;

pub const NBA: &str = "arn:aws:personalize:::recipe/aws-next-best-action";
const USER_PERSONALIZATION: &str = "arn:aws:personalize:::recipe/aws-user-personalization";
const DAY: i64 = 86_400;

pub const INTERACTIONS_SCHEMA: &str = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}],"version":"1.0"}"#;
pub const USERS_SCHEMA: &str = r#"{"type":"record","name":"Users","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"SEGMENT","type":"string","categorical":true}],"version":"1.0"}"#;
pub const ACTIONS_SCHEMA: &str = r#"{"type":"record","name":"Actions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ACTION_ID","type":"string"},{"name":"VALUE","type":["null","float"]},{"name":"ACTION_EXPIRATION_TIMESTAMP","type":["null","long"]},{"name":"REPEAT_FREQUENCY","type":["null","int"]}],"version":"1.0"}"#;
pub const ACTION_INTERACTIONS_SCHEMA: &str = r#"{"type":"record","name":"ActionInteractions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ACTION_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"},{"name":"CHANNEL","type":["null","string"],"categorical":true}],"version":"1.0"}"#;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// The synthetic data: 60 users per segment (gold, silver) plus a held-out newcomer of each
/// with item interactions and a segment but no action interactions. Gold users click gold items,
/// take `enroll`, view `app` and `survey`; silver users the other way round (`app` and `survey`
/// taken, so the two are equally likely for silver and VALUE decides). Everyone declines `card`;
/// gold users take `promo`, which expired yesterday. Returns (interactions, users, actions,
/// action interactions) CSVs.
pub fn data(now: i64) -> (String, String, String, String) {
    let mut interactions = String::from("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n");
    let mut users = String::from("USER_ID,SEGMENT\n");
    let mut action_interactions = String::from("USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE,CHANNEL\n");
    for segment in ["gold", "silver"] {
        let people = (0..60)
            .map(|u| (format!("{segment}-{u}"), u))
            .chain([(format!("{segment}-new"), 60)]);
        for (user, u) in people {
            users.push_str(&format!("{user},{segment}\n"));
            for k in 0..10 {
                let t = now - 40 * DAY + k;
                let item = format!("{segment}-item-{}", (u + k) % 20);
                interactions.push_str(&format!("{user},{item},{t},click\n"));
            }
            if user.ends_with("-new") {
                continue;
            }
            let t = now - 2 * DAY - u * DAY / 2;
            let (taken, viewed): (&[&str], &[&str]) = if segment == "gold" {
                (&["enroll", "promo"], &["app", "survey"])
            } else {
                (&["app", "survey"], &["enroll", "promo"])
            };
            for a in taken {
                action_interactions.push_str(&format!("{user},{a},{t},Taken,web\n"));
            }
            for a in viewed {
                action_interactions.push_str(&format!("{user},{a},{t},Viewed,\n"));
            }
            action_interactions.push_str(&format!("{user},card,{t},Not Taken,email\n"));
        }
    }
    let actions = format!(
        "ACTION_ID,VALUE,ACTION_EXPIRATION_TIMESTAMP,REPEAT_FREQUENCY\n\
         enroll,1.0,,\napp,1.0,,\nsurvey,2.0,,30\ncard,5.0,,\npromo,9.0,{},\n",
        now - DAY
    );
    (interactions, users, actions, action_interactions)
}

pub async fn schema(cp: &ControlPlane, name: &str, schema: &str) -> String {
    cp.create_schema()
        .name(name)
        .schema(schema)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("schemaArn")
}

/// CreateDataset of `kind` with `schema`, then an import of `csv`; the dataset's ARN.
pub async fn import(
    cp: &ControlPlane,
    dir: &std::path::Path,
    group: &str,
    kind: &str,
    schema_arn: &str,
    csv: &str,
) -> String {
    let name = format!(
        "{}-{}",
        group.rsplit('/').next().unwrap_or("g"),
        kind.to_ascii_lowercase().replace('_', "-")
    );
    let dataset = cp
        .create_dataset()
        .name(&name)
        .dataset_group_arn(group)
        .dataset_type(kind)
        .schema_arn(schema_arn)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("datasetArn");
    let key = format!("{name}.csv");
    put_object(dir, "nba", &key, csv);
    let job = cp
        .create_dataset_import_job()
        .job_name(&name)
        .dataset_arn(&dataset)
        .data_source(
            DataSource::builder()
                .data_location(format!("s3://nba/{key}"))
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetImportJob")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(
        wait_job(cp, Job::Import, &job).await.0,
        "ACTIVE",
        "{kind} imported"
    );
    dataset
}

pub async fn dataset_group(cp: &ControlPlane, name: &str) -> String {
    let arn = cp
        .create_dataset_group()
        .name(name)
        .send()
        .await
        .expect("CreateDatasetGroup")
        .dataset_group_arn
        .expect("arn");
    wait_status(
        name,
        Duration::from_secs(30),
        || async {
            cp.describe_dataset_group()
                .dataset_group_arn(&arn)
                .send()
                .await
                .ok()
                .and_then(|d| d.dataset_group)
                .and_then(|g| g.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    arn
}

/// CreateSolution (+ config) and CreateSolutionVersion; the version's ARN and final status.
pub async fn solution_version(
    cp: &ControlPlane,
    group: &str,
    name: &str,
    recipe: &str,
    config: Option<SolutionConfig>,
) -> (String, String) {
    let solution = cp
        .create_solution()
        .name(name)
        .dataset_group_arn(group)
        .recipe_arn(recipe)
        .perform_auto_training(false)
        .set_solution_config(config)
        .send()
        .await
        .expect("CreateSolution")
        .solution_arn
        .expect("arn");
    wait_status(
        name,
        Duration::from_secs(30),
        || async {
            describe_solution(cp, &solution)
                .await
                .status
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    let version = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    let status = wait_status(
        name,
        Duration::from_secs(120),
        || async {
            cp.describe_solution_version()
                .solution_version_arn(&version)
                .send()
                .await
                .ok()
                .and_then(|d| d.solution_version)
                .and_then(|v| v.status)
                .unwrap_or_default()
        },
        &["ACTIVE", "CREATE FAILED"],
    )
    .await;
    (version, status)
}

/// GetActionRecommendations: (actionId, score) best first.
pub async fn actions_for(rt: &Runtime, campaign: &str, user: &str) -> Vec<(String, f64)> {
    let answer = rt
        .get_action_recommendations()
        .campaign_arn(campaign)
        .user_id(user)
        .num_results(10)
        .send()
        .await
        .expect("GetActionRecommendations");
    let id = answer.recommendation_id().expect("recommendationId");
    assert!(id.starts_with("RID-") && id.len() <= 40, "{id}");
    answer
        .action_list()
        .iter()
        .map(|a| {
            (
                a.action_id().expect("actionId").to_string(),
                a.score().expect("score"),
            )
        })
        .collect()
}

pub fn ids(list: &[(String, f64)]) -> Vec<&str> {
    list.iter().map(|(id, _)| id.as_str()).collect()
}

pub fn taken(user: &str, action: &str, at: i64) -> ActionInteraction {
    ActionInteraction::builder()
        .action_id(action)
        .user_id(user)
        .session_id(format!("session-{user}"))
        .timestamp(DateTime::from_secs(at))
        .event_type("Taken")
        .build()
        .expect("action interaction")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_best_action_trains_serves_and_follows_live_actions_and_interactions() {
    let dir = temp_dir("next-best-action");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;
    let now = now();

    // The recipe is listed with its documented type.
    let recipe = cp
        .describe_recipe()
        .recipe_arn(NBA)
        .send()
        .await
        .expect("DescribeRecipe")
        .recipe
        .expect("recipe");
    assert_eq!(recipe.recipe_type(), Some("PERSONALIZED_ACTIONS"));
    let listed = cp
        .list_recipes()
        .max_results(100)
        .send()
        .await
        .expect("ListRecipes");
    assert!(listed.recipes().iter().any(|r| r.recipe_arn() == Some(NBA)));

    // Datasets and imports.
    let group = dataset_group(&cp, "nba-flow").await;
    let (interactions, users, actions, action_interactions) = data(now);
    let s = schema(&cp, "nba-interactions", INTERACTIONS_SCHEMA).await;
    import(&cp, &dir, &group, "Interactions", &s, &interactions).await;
    let s = schema(&cp, "nba-users", USERS_SCHEMA).await;
    let users_dataset = import(&cp, &dir, &group, "Users", &s, &users).await;
    let s = schema(&cp, "nba-actions", ACTIONS_SCHEMA).await;
    let actions_dataset = import(&cp, &dir, &group, "Actions", &s, &actions).await;
    let s = schema(&cp, "nba-action-interactions", ACTION_INTERACTIONS_SCHEMA).await;
    import(
        &cp,
        &dir,
        &group,
        "Action_Interactions",
        &s,
        &action_interactions,
    )
    .await;
    let tracker = cp
        .create_event_tracker()
        .name("nba-tracker")
        .dataset_group_arn(&group)
        .send()
        .await
        .expect("CreateEventTracker");
    let tracking_id = tracker.tracking_id().expect("trackingId").to_string();

    // Refused at CreateSolution: HPO, a hyperparameter out of range, an unknown one.
    for (name, config, hpo) in [
        ("nba-hpo", None, true),
        (
            "nba-period",
            Some(("action_optimization_period", "40")),
            false,
        ),
        ("nba-unknown", Some(("hidden_dimension", "8")), false),
    ] {
        let refused = cp
            .create_solution()
            .name(name)
            .dataset_group_arn(&group)
            .recipe_arn(NBA)
            .perform_hpo(hpo)
            .set_solution_config(config.map(|(k, v)| {
                SolutionConfig::builder()
                    .algorithm_hyper_parameters(k, v)
                    .build()
            }))
            .send()
            .await;
        assert_eq!(code_of(refused, name), "InvalidInputException");
    }

    // Train and deploy.
    let config = SolutionConfig::builder()
        .algorithm_hyper_parameters("action_optimization_period", "14")
        .build();
    let (version, status) = solution_version(&cp, &group, "nba-solution", NBA, Some(config)).await;
    assert_eq!(status, "ACTIVE");
    let metrics = cp
        .get_solution_metrics()
        .solution_version_arn(&version)
        .send()
        .await
        .expect("GetSolutionMetrics");
    let metrics = metrics.metrics().expect("metrics");
    assert!(metrics.contains_key("precision_at_5"), "{metrics:?}");
    let no_exploration = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .build();
    let campaign = create_campaign(&cp, "nba-campaign", &version, no_exploration).await;

    // Quality: each held-out newcomer gets their segment's action first.
    let gold = actions_for(&rt, &campaign, "gold-new").await;
    assert_eq!(gold[0].0, "enroll", "{gold:?}");
    assert!(gold[0].1 > gold[1].1, "{gold:?}");
    let silver = actions_for(&rt, &campaign, "silver-new").await;
    // app and survey are equally likely for silver users: the greater VALUE (survey) first.
    assert_eq!(ids(&silver)[..2], ["survey", "app"], "{silver:?}");
    assert_eq!(silver[0].1, silver[1].1, "{silver:?}");
    for list in [&gold, &silver] {
        assert!(
            list.iter().all(|(_, s)| (0.0..=1.0).contains(s)),
            "{list:?}"
        );
        // Expired: never returned, although gold users took it.
        assert!(!ids(list).contains(&"promo"), "{list:?}");
        // Never taken, so never scored: 0.0, after the scored actions.
        assert_eq!(
            list.last().map(|(id, s)| (id.as_str(), *s)),
            Some(("card", 0.0))
        );
    }
    // Exploration: with weight 1 every slot goes first to a fresh unscored action (card has
    // no creation time, so it is new), at score 0.0.
    let explore = CampaignConfig::builder()
        .item_exploration_config("explorationWeight", "1")
        .build();
    let exploring = create_campaign(&cp, "nba-explore", &version, explore).await;
    let explored = actions_for(&rt, &exploring, "gold-new").await;
    assert_eq!(explored[0], ("card".to_string(), 0.0), "{explored:?}");
    assert_eq!(ids(&explored)[1..], ids(&gold)[..3], "{explored:?}");
    // Repeat frequency: silver-3 took survey (30 days) 3.5 days ago, app (none) too.
    let silver3 = actions_for(&rt, &campaign, "silver-3").await;
    assert!(!ids(&silver3).contains(&"survey"), "{silver3:?}");
    assert!(ids(&silver3).contains(&"app"), "{silver3:?}");
    // Default numResults is 5.
    let default = rt
        .get_action_recommendations()
        .campaign_arn(&campaign)
        .user_id("gold-new")
        .send()
        .await
        .expect("GetActionRecommendations");
    assert!(default.action_list().len() <= 5);

    // A filter on action interactions: gold-new never declined anything; gold-3 declined card.
    let filter = create_filter(
        &cp,
        &group,
        "nba-declined",
        "EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN (\"NOT_TAKEN\")",
    )
    .await;
    let filtered = rt
        .get_action_recommendations()
        .campaign_arn(&campaign)
        .user_id("gold-3")
        .filter_arn(&filter)
        .send()
        .await
        .expect("filtered GetActionRecommendations");
    let filtered: Vec<&str> = filtered
        .action_list()
        .iter()
        .filter_map(|a| a.action_id())
        .collect();
    assert!(
        !filtered.is_empty() && !filtered.contains(&"card"),
        "{filtered:?}"
    );

    // PutActionInteractions: gold-new takes survey; its 30-day repeat frequency applies at once.
    assert!(ids(&gold).contains(&"survey"), "{gold:?}");
    events
        .put_action_interactions()
        .tracking_id(&tracking_id)
        .action_interactions(taken("gold-new", "survey", now - 60))
        .send()
        .await
        .expect("PutActionInteractions");
    let after = actions_for(&rt, &campaign, "gold-new").await;
    assert!(!ids(&after).contains(&"survey"), "{after:?}");
    assert_eq!(after[0].0, "enroll");

    // PutActions: a new action is a candidate at once (unscored: 0.0); enroll expiring now
    // removes it from recommendations at once.
    events
        .put_actions()
        .dataset_arn(&actions_dataset)
        .actions(
            Action::builder()
                .action_id("newsletter")
                .properties(r#"{"value": 3}"#)
                .build()
                .expect("action"),
        )
        .actions(
            Action::builder()
                .action_id("enroll")
                .properties(format!(
                    r#"{{"value": 1, "actionExpirationTimestamp": {}}}"#,
                    now - 1
                ))
                .build()
                .expect("action"),
        )
        .send()
        .await
        .expect("PutActions");
    let updated = actions_for(&rt, &campaign, "gold-new").await;
    assert!(!ids(&updated).contains(&"enroll"), "{updated:?}");
    assert!(
        updated.contains(&("newsletter".to_string(), 0.0)),
        "{updated:?}"
    );

    // Refusals on the events and runtime sides.
    let bad_type = events
        .put_action_interactions()
        .tracking_id(&tracking_id)
        .action_interactions(
            ActionInteraction::builder()
                .action_id("app")
                .session_id("s")
                .timestamp(DateTime::from_secs(now))
                .event_type("click")
                .build()
                .expect("action interaction"),
        )
        .send()
        .await;
    assert_eq!(code_of(bad_type, "bad type"), "InvalidInputException");
    let reserved = events
        .put_action_interactions()
        .tracking_id(&tracking_id)
        .action_interactions(
            ActionInteraction::builder()
                .action_id("app")
                .session_id("s")
                .timestamp(DateTime::from_secs(now))
                .event_type("Viewed")
                .properties(r#"{"userId": "x"}"#)
                .build()
                .expect("action interaction"),
        )
        .send()
        .await;
    assert_eq!(code_of(reserved, "reserved"), "InvalidInputException");
    let channel = events
        .put_action_interactions()
        .tracking_id(&tracking_id)
        .action_interactions(
            ActionInteraction::builder()
                .action_id("app")
                .session_id("s")
                .timestamp(DateTime::from_secs(now))
                .event_type("Not Taken")
                .properties(r#"{"channel": "web"}"#)
                .build()
                .expect("action interaction"),
        )
        .send()
        .await;
    assert!(channel.is_ok(), "a schema field as a property: {channel:?}");
    let wrong_dataset = events
        .put_actions()
        .dataset_arn(&users_dataset)
        .actions(Action::builder().action_id("x").build().expect("action"))
        .send()
        .await;
    assert_eq!(
        code_of(wrong_dataset, "PutActions to a Users dataset"),
        "InvalidInputException"
    );
    let unknown_property = events
        .put_actions()
        .dataset_arn(&actions_dataset)
        .actions(
            Action::builder()
                .action_id("x")
                .properties(r#"{"colour": "red"}"#)
                .build()
                .expect("action"),
        )
        .send()
        .await;
    assert_eq!(
        code_of(unknown_property, "a property outside the Actions schema"),
        "InvalidInputException"
    );
    let unknown_tracker = events
        .put_action_interactions()
        .tracking_id("no-such-tracker")
        .action_interactions(taken("u", "app", now))
        .send()
        .await;
    assert_eq!(
        code_of(unknown_tracker, "unknown tracker"),
        "ResourceNotFoundException"
    );
    let too_many = rt
        .get_action_recommendations()
        .campaign_arn(&campaign)
        .user_id("gold-new")
        .num_results(101)
        .send()
        .await;
    assert_eq!(code_of(too_many, "too many"), "InvalidInputException");
    let no_user = rt
        .get_action_recommendations()
        .campaign_arn(&campaign)
        .send()
        .await;
    assert_eq!(code_of(no_user, "no user"), "InvalidInputException");
    let item_filter = create_filter(
        &cp,
        &group,
        "nba-items",
        "EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"click\")",
    )
    .await;
    let wrong_filter = rt
        .get_action_recommendations()
        .campaign_arn(&campaign)
        .user_id("gold-new")
        .filter_arn(&item_filter)
        .send()
        .await;
    assert_eq!(
        code_of(wrong_filter, "wrong filter"),
        "InvalidInputException"
    );
    let not_items = rt
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("gold-new")
        .send()
        .await;
    assert_eq!(code_of(not_items, "not items"), "InvalidInputException");

    // A campaign of another recipe is refused by GetActionRecommendations.
    let (up_version, status) =
        solution_version(&cp, &group, "nba-up", USER_PERSONALIZATION, None).await;
    assert_eq!(status, "ACTIVE");
    let up_campaign = create_campaign(
        &cp,
        "nba-up",
        &up_version,
        CampaignConfig::builder().build(),
    )
    .await;
    let refused = rt
        .get_action_recommendations()
        .campaign_arn(&up_campaign)
        .user_id("gold-new")
        .send()
        .await;
    assert_eq!(code_of(refused, "refused"), "InvalidInputException");

    // Below AWS's minimum of 1000 item interactions, training fails and says why.
    let small = dataset_group(&cp, "nba-small").await;
    let few: String = interactions
        .lines()
        .take(500)
        .collect::<Vec<_>>()
        .join("\n");
    let s = schema(&cp, "nba-small-interactions", INTERACTIONS_SCHEMA).await;
    import(&cp, &dir, &small, "Interactions", &s, &format!("{few}\n")).await;
    let s = schema(&cp, "nba-small-actions", ACTIONS_SCHEMA).await;
    import(&cp, &dir, &small, "Actions", &s, &actions).await;
    let (small_version, status) = solution_version(&cp, &small, "nba-small", NBA, None).await;
    assert_eq!(status, "CREATE FAILED");
    let reason = cp
        .describe_solution_version()
        .solution_version_arn(&small_version)
        .send()
        .await
        .expect("DescribeSolutionVersion")
        .solution_version
        .and_then(|v| v.failure_reason)
        .unwrap_or_default();
    assert!(reason.contains("1000"), "{reason}");

    // Durability: after a restart (journal replayed) and another (the compacted journal), the
    // live actions and action interactions still shape the answer and the model loads from disk.
    server.stop().await.expect("server stops");
    for round in 0..2 {
        let server = Running::start(Config::for_tests(Some(dir.clone())))
            .await
            .expect("server restarts");
        let (_, _, rt) = clients(&server.url()).await;
        let again = actions_for(&rt, &campaign, "gold-new").await;
        assert_eq!(ids(&again), ids(&updated), "restart {round}: {again:?}");
        server.stop().await.expect("server stops");
    }
}

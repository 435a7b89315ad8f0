//! Recommenders on a VIDEO_ON_DEMAND dataset group, through the real SDKs: the seven operations,
//! the use cases' requirements, GetRecommendations with `recommenderArn`, Stop/Start, Update with
//! `latestRecommenderUpdate`, deletion, the refusals, and a restart of the real binary.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::error::ProvideErrorMetadata;
use aws_sdk_personalize::types::{DataSource, Domain, RecommenderConfig, Tag, TrainingDataConfig};
use aws_sdk_personalizeruntime::Client as Runtime;
use personalize_local::{Config, Running};

use crate::restart::{spawn_server, spawn_server_with};
use crate::support::*;

const TOP_PICKS: &str = "arn:aws:personalize:::recipe/aws-vod-top-picks";
const MORE_LIKE_X: &str = "arn:aws:personalize:::recipe/aws-vod-more-like-x";
const TIMEOUT: Duration = Duration::from_secs(120);

/// The synthetic data as VIDEO_ON_DEMAND interactions: every event a `Watch`.
fn watch_csv() -> String {
    interactions_csv().replace(",click,", ",Watch,")
}

/// Items `user` watched in [`watch_csv`].
fn watched(user: &str) -> HashSet<String> {
    watch_csv()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            (f.next() == Some(user)).then(|| f.next().map(str::to_string))?
        })
        .collect()
}

/// A dataset group's name and domain.
type Group<'a> = (&'a str, Domain);

/// Creates the `kind` dataset of `dg` (a schema of its domain) and imports `csv` into it.
async fn import(
    cp: &ControlPlane,
    dir: &Path,
    dg: (&str, Group<'_>),
    kind: &str,
    schema: &str,
    csv: &str,
) {
    let (dg, (group, domain)) = dg;
    let key = format!("{group}/{kind}.csv");
    put_object(dir, "seed", &key, csv);
    let schema_arn = cp
        .create_schema()
        .name(format!("{group}-{kind}"))
        .domain(domain)
        .schema(schema)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("schemaArn");
    let dataset = cp
        .create_dataset()
        .name(format!("{group}-{kind}"))
        .dataset_group_arn(dg)
        .dataset_type(kind)
        .schema_arn(schema_arn)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("datasetArn");
    wait_status(
        "dataset",
        TIMEOUT,
        || async {
            cp.describe_dataset()
                .dataset_arn(&dataset)
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
        .job_name(format!("{group}-{kind}"))
        .dataset_arn(&dataset)
        .data_source(
            DataSource::builder()
                .data_location(format!("s3://seed/{key}"))
                .build(),
        )
        .role_arn("arn:aws:iam::000000000000:role/personalize")
        .send()
        .await
        .expect("CreateDatasetImportJob")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(cp, Job::Import, &job).await.0, "ACTIVE");
}

/// A VIDEO_ON_DEMAND dataset group with Watch interactions and items (genre per cluster).
pub async fn seed_vod(cp: &ControlPlane, dir: &Path) -> String {
    seed(cp, dir, ("vod", Domain::VideoOnDemand), &watch_csv()).await
}

/// A dataset group of `group` with `interactions` and items (genre per cluster).
async fn seed(cp: &ControlPlane, dir: &Path, group: Group<'_>, interactions: &str) -> String {
    let dg = cp
        .create_dataset_group()
        .name(group.0)
        .domain(group.1.clone())
        .send()
        .await
        .expect("CreateDatasetGroup")
        .dataset_group_arn
        .expect("arn");
    wait_status(
        "dataset group",
        TIMEOUT,
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
    let target = (dg.as_str(), group.clone());
    import(
        cp,
        dir,
        target.clone(),
        "Interactions",
        INTERACTIONS_SCHEMA,
        interactions,
    )
    .await;
    import(cp, dir, target, "Items", ITEMS_SCHEMA, &items_csv()).await;
    dg
}

async fn create(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    recipe: &str,
    config: Option<RecommenderConfig>,
) -> String {
    cp.create_recommender()
        .name(name)
        .dataset_group_arn(dg)
        .recipe_arn(recipe)
        .set_recommender_config(config)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("vod")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreateRecommender")
        .recommender_arn
        .expect("recommenderArn")
}

async fn status(cp: &ControlPlane, arn: &str) -> String {
    cp.describe_recommender()
        .recommender_arn(arn)
        .send()
        .await
        .expect("DescribeRecommender")
        .recommender
        .and_then(|r| r.status)
        .unwrap_or_default()
}

async fn wait(cp: &ControlPlane, arn: &str, done: &str) {
    let s = wait_status(
        "recommender",
        TIMEOUT,
        || status(cp, arn),
        &[done, "CREATE FAILED"],
    )
    .await;
    assert_eq!(s, done, "{arn}");
}

/// Item ids recommended by `recommender` for `user` (and `item`).
async fn recommend_with(rt: &Runtime, arn: &str, user: &str, item: Option<&str>) -> Vec<String> {
    rt.get_recommendations()
        .recommender_arn(arn)
        .user_id(user)
        .set_item_id(item.map(str::to_string))
        .num_results(10)
        .send()
        .await
        .expect("GetRecommendations with recommenderArn")
        .item_list()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect()
}

fn cluster(item: &str) -> usize {
    cluster_of(item.trim_start_matches('i').parse().expect("item id i<n>"))
}

/// How many of `items` are in `c`'s cluster.
fn in_cluster(items: &[String], c: usize) -> usize {
    items.iter().filter(|i| cluster(i) == c).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vod_recommenders_serve_start_stop_update_and_delete() {
    let dir = temp_dir("recommenders");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;

    // The use cases are recipes of their domain.
    let vod = cp
        .list_recipes()
        .domain(Domain::VideoOnDemand)
        .send()
        .await
        .expect("ListRecipes domain");
    let names: Vec<&str> = vod.recipes().iter().filter_map(|r| r.name()).collect();
    assert!(names.contains(&"aws-vod-top-picks") && names.contains(&"aws-vod-more-like-x"));
    assert!(names.iter().all(|n| n.starts_with("aws-vod-")), "{names:?}");
    let recipe = cp
        .describe_recipe()
        .recipe_arn(MORE_LIKE_X)
        .send()
        .await
        .expect("DescribeRecipe");
    assert_eq!(
        recipe.recipe().and_then(|r| r.recipe_type()),
        Some("RELATED_ITEMS")
    );

    // A custom dataset group takes no recommender.
    let custom = cp
        .create_dataset_group()
        .name("custom")
        .send()
        .await
        .expect("CreateDatasetGroup")
        .dataset_group_arn
        .expect("arn");
    let err = cp
        .create_recommender()
        .name("nope")
        .dataset_group_arn(&custom)
        .recipe_arn(TOP_PICKS)
        .send()
        .await
        .expect_err("a custom group is refused");
    assert_eq!(err.code(), Some("InvalidInputException"), "{err:?}");

    let dg = seed_vod(&cp, &dir).await;
    // A custom recipe is not a use case; exploration applies to top picks only.
    let call = cp
        .create_recommender()
        .name("custom-recipe")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-user-personalization")
        .send()
        .await;
    assert_eq!(
        code_of(call, "a custom recipe is refused"),
        "InvalidInputException"
    );
    let call = cp
        .create_recommender()
        .name("explore-similar")
        .dataset_group_arn(&dg)
        .recipe_arn(MORE_LIKE_X)
        .recommender_config(
            RecommenderConfig::builder()
                .item_exploration_config("explorationWeight", "0.5")
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        code_of(call, "exploration is for top picks"),
        "InvalidInputException"
    );

    let top = create(
        &cp,
        &dg,
        "top-picks",
        TOP_PICKS,
        Some(
            RecommenderConfig::builder()
                .item_exploration_config("explorationWeight", "0")
                .enable_metadata_with_recommendations(true)
                .build(),
        ),
    )
    .await;
    let similar = create(&cp, &dg, "more-like-x", MORE_LIKE_X, None).await;
    wait(&cp, &top, "ACTIVE").await;
    wait(&cp, &similar, "ACTIVE").await;
    let described = describe(&cp, &top).await;
    assert_eq!(described.recipe_arn(), Some(TOP_PICKS));
    assert_eq!(described.dataset_group_arn(), Some(dg.as_str()));
    assert_eq!(
        described
            .recommender_config()
            .and_then(|c| c.min_recommendation_requests_per_second()),
        Some(1)
    );
    assert!(described.model_metrics().is_some_and(|m| !m.is_empty()));

    // Top picks: from the catalog, the user's own taste, different for different tastes.
    let u0 = recommend_with(&rt, &top, "u0", None).await;
    let u1 = recommend_with(&rt, &top, "u1", None).await;
    assert_eq!(u0.len(), 10);
    for item in u0.iter().chain(&u1) {
        let n: usize = item[1..].parse().expect("item id i<n>");
        assert!(n < ITEMS, "{item} is not in the catalog");
    }
    assert!(
        in_cluster(&u0, cluster_of(0)) >= 7,
        "u0 likes cluster 0: {u0:?}"
    );
    assert!(
        in_cluster(&u1, cluster_of(1)) >= 7,
        "u1 likes cluster 1: {u1:?}"
    );
    assert_ne!(u0, u1);
    // Metadata, as enabled on the recommender.
    let with_metadata = rt
        .get_recommendations()
        .recommender_arn(&top)
        .user_id("u0")
        .num_results(3)
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await
        .expect("metadataColumns");
    for item in with_metadata.item_list() {
        let genre = item
            .metadata()
            .and_then(|m| m.get("GENRES"))
            .expect("GENRES metadata");
        let id = item.item_id().expect("itemId");
        assert_eq!(genre, &format!("genre{}", cluster(id)));
    }
    // A promotion on a recommender: 30% of 10 from genre 2, each carrying promotionName.
    let genre2 = create_filter(
        &cp,
        &dg,
        "recommenders-genre2",
        r#"INCLUDE ItemID WHERE Items.GENRES IN ("genre2")"#,
    )
    .await;
    let promoted = rt
        .get_recommendations()
        .recommender_arn(&top)
        .user_id("u0")
        .num_results(10)
        .promotions(
            aws_sdk_personalizeruntime::types::Promotion::builder()
                .name("genre-two")
                .percent_promoted_items(30)
                .filter_arn(&genre2)
                .build(),
        )
        .send()
        .await
        .expect("promotions");
    let marked: Vec<&str> = promoted
        .item_list()
        .iter()
        .filter(|i| i.promotion_name() == Some("genre-two"))
        .filter_map(|i| i.item_id())
        .collect();
    assert_eq!(marked.len(), 3, "{:?}", promoted.item_list());
    assert!(marked.iter().all(|id| cluster(id) == 2), "{marked:?}");
    assert_eq!(promoted.item_list().len(), 10);

    // More like X: co-watched items of the item's genre, without what the user watched.
    let seen = watched("u0");
    let item = seen.iter().next().expect("u0 watched something").clone();
    let like = recommend_with(&rt, &similar, "u0", Some(&item)).await;
    assert!(!like.is_empty());
    assert!(
        in_cluster(&like, cluster(&item)) * 10 >= like.len() * 8,
        "more like {item}: {like:?}"
    );
    assert!(
        like.iter().all(|i| !seen.contains(i) && i != &item),
        "{like:?} repeats what u0 watched ({seen:?})"
    );
    let other = recommend_with(&rt, &similar, "u0", Some("i1")).await;
    assert!(in_cluster(&other, 1) * 10 >= other.len() * 8, "{other:?}");
    // A promotion of the item's own genre leaves out what the user watched too.
    let own_genre = create_filter(
        &cp,
        &dg,
        "own-genre",
        format!(
            "INCLUDE ItemID WHERE Items.GENRES IN (\"genre{}\")",
            cluster(&item)
        ),
    )
    .await;
    let promoted = rt
        .get_recommendations()
        .recommender_arn(&similar)
        .user_id("u0")
        .item_id(&item)
        .num_results(10)
        .promotions(
            aws_sdk_personalizeruntime::types::Promotion::builder()
                .name("own-genre")
                .percent_promoted_items(50)
                .filter_arn(&own_genre)
                .build(),
        )
        .send()
        .await
        .expect("promotion on more like X");
    let marked: Vec<String> = promoted
        .item_list()
        .iter()
        .filter(|i| i.promotion_name().is_some())
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    assert_eq!(marked.len(), 5, "{:?}", promoted.item_list());
    assert!(
        marked
            .iter()
            .all(|i| !seen.contains(i) && cluster(i) == cluster(&item)),
        "promoted {marked:?} repeats what u0 watched ({seen:?})"
    );
    // The caller's filter applies on top of the automatic one.
    let genre = format!("genre{}", cluster(&item));
    let filter = create_filter(
        &cp,
        &dg,
        "not-this-genre",
        format!("EXCLUDE ItemID WHERE Items.GENRES IN (\"{genre}\")"),
    )
    .await;
    let filtered: Vec<String> = rt
        .get_recommendations()
        .recommender_arn(&similar)
        .user_id("u0")
        .item_id(&item)
        .filter_arn(&filter)
        .send()
        .await
        .expect("GetRecommendations with a filter")
        .item_list()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect();
    assert!(!filtered.is_empty());
    assert!(
        filtered
            .iter()
            .all(|i| cluster(i) != cluster(&item) && !seen.contains(i)),
        "{filtered:?}"
    );
    cp.delete_filter()
        .filter_arn(&filter)
        .send()
        .await
        .expect("DeleteFilter");
    // It needs an itemId; a metadata request needs the config.
    let call = rt
        .get_recommendations()
        .recommender_arn(&similar)
        .user_id("u0")
        .send()
        .await;
    assert_eq!(code_of(call, "itemId is required"), "InvalidInputException");
    let call = rt
        .get_recommendations()
        .recommender_arn(&similar)
        .user_id("u0")
        .item_id(&item)
        .metadata_columns("ITEMS", vec!["GENRES".into()])
        .send()
        .await;
    assert_eq!(
        code_of(call, "metadata is not enabled on more-like-x"),
        "InvalidInputException"
    );

    // Exactly one of campaignArn and recommenderArn; unknown recommenders are 404s.
    let call = rt
        .get_recommendations()
        .recommender_arn(&top)
        .campaign_arn(top.replace(":recommender/", ":campaign/"))
        .user_id("u0")
        .send()
        .await;
    assert_eq!(
        code_of(call, "both ARNs are refused"),
        "InvalidInputException"
    );
    let missing = top.replace("top-picks", "missing");
    let call = rt
        .get_recommendations()
        .recommender_arn(&missing)
        .user_id("u0")
        .send()
        .await;
    assert_eq!(
        code_of(call, "unknown recommender"),
        "ResourceNotFoundException"
    );
    let call = cp
        .describe_recommender()
        .recommender_arn(&missing)
        .send()
        .await;
    assert_eq!(
        code_of(call, "unknown recommender"),
        "ResourceNotFoundException"
    );

    // List by dataset group, paged; tags.
    let page = cp
        .list_recommenders()
        .dataset_group_arn(&dg)
        .max_results(1)
        .send()
        .await
        .expect("ListRecommenders");
    assert_eq!(page.recommenders().len(), 1);
    let rest = cp
        .list_recommenders()
        .dataset_group_arn(&dg)
        .next_token(page.next_token().expect("a second page"))
        .send()
        .await
        .expect("ListRecommenders page 2");
    let mut listed: Vec<String> = page
        .recommenders()
        .iter()
        .chain(rest.recommenders())
        .filter_map(|r| r.recommender_arn().map(str::to_string))
        .collect();
    listed.sort();
    let mut both = vec![top.clone(), similar.clone()];
    both.sort();
    assert_eq!(listed, both);
    cp.tag_resource()
        .resource_arn(&top)
        .tags(
            Tag::builder()
                .tag_key("tier")
                .tag_value("gold")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&top)
        .send()
        .await
        .expect("ListTagsForResource");
    let mut keys: Vec<&str> = tags.tags().iter().map(|t| t.tag_key()).collect();
    keys.sort();
    assert_eq!(keys, ["team", "tier"]);

    // Stop: INACTIVE and refused; start: ACTIVE and serving again.
    cp.stop_recommender()
        .recommender_arn(&top)
        .send()
        .await
        .expect("StopRecommender");
    assert_eq!(status(&cp, &top).await, "INACTIVE");
    let call = rt
        .get_recommendations()
        .recommender_arn(&top)
        .user_id("u0")
        .send()
        .await;
    assert_eq!(
        code_of(call, "an INACTIVE recommender does not serve"),
        "InvalidInputException"
    );
    let call = cp.stop_recommender().recommender_arn(&top).send().await;
    assert_eq!(code_of(call, "stopping twice"), "ResourceInUseException");
    cp.start_recommender()
        .recommender_arn(&top)
        .send()
        .await
        .expect("StartRecommender");
    assert_eq!(status(&cp, &top).await, "ACTIVE");
    assert_eq!(recommend_with(&rt, &top, "u0", None).await, u0);

    // Update: a new trainingDataConfig retrains; latestRecommenderUpdate tracks it.
    cp.update_recommender()
        .recommender_arn(&top)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(2)
                .training_data_config(
                    TrainingDataConfig::builder()
                        .excluded_dataset_columns("ITEMS", vec!["GENRES".into()])
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateRecommender");
    let update_status = wait_status(
        "recommender update",
        TIMEOUT,
        || async {
            cp.describe_recommender()
                .recommender_arn(&top)
                .send()
                .await
                .expect("DescribeRecommender")
                .recommender
                .and_then(|r| r.latest_recommender_update)
                .and_then(|u| u.status)
                .unwrap_or_default()
        },
        &["ACTIVE", "CREATE FAILED"],
    )
    .await;
    assert_eq!(update_status, "ACTIVE");
    let updated = describe(&cp, &top).await;
    let config = updated.recommender_config().expect("config");
    assert_eq!(config.min_recommendation_requests_per_second(), Some(2));
    assert!(
        config
            .training_data_config()
            .and_then(|t| t.excluded_dataset_columns())
            .is_some_and(|c| c.contains_key("ITEMS"))
    );
    assert_eq!(updated.status(), Some("ACTIVE"));
    let call = cp
        .update_recommender()
        .recommender_arn(&top)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(0)
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        code_of(call, "minRecommendationRequestsPerSecond >= 1"),
        "InvalidInputException"
    );

    // The group cannot go while recommenders exist; they delete, then it does.
    let call = cp
        .delete_dataset_group()
        .dataset_group_arn(&dg)
        .send()
        .await;
    assert_eq!(
        code_of(call, "the group has recommenders"),
        "ResourceInUseException"
    );
    for arn in [&top, &similar] {
        cp.delete_recommender()
            .recommender_arn(arn)
            .send()
            .await
            .expect("DeleteRecommender");
        let call = cp.describe_recommender().recommender_arn(arn).send().await;
        assert_eq!(code_of(call, "deleted"), "ResourceNotFoundException");
    }
    let left = cp
        .list_recommenders()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListRecommenders");
    assert!(left.recommenders().is_empty());
    server.stop().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommenders_survive_a_restart() {
    let dir = temp_dir("recommenders-restart");
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, rt) = clients(&url).await;
    let dg = seed_vod(&cp, &dir).await;
    let config = RecommenderConfig::builder()
        .item_exploration_config("explorationWeight", "0")
        .build();
    let top = create(&cp, &dg, "durable-top-picks", TOP_PICKS, Some(config)).await;
    wait(&cp, &top, "ACTIVE").await;
    let before = recommend_with(&rt, &top, "u2", None).await;
    cp.stop_recommender()
        .recommender_arn(&top)
        .send()
        .await
        .expect("StopRecommender");
    child.kill();

    // A recommender caught in CREATE PENDING by a kill (slow transitions) is trained on restart.
    let (mut slow, url) = spawn_server_with(&dir, 5_000);
    let (cp, _, _) = clients(&url).await;
    let resumed = create(&cp, &dg, "resumed-more-like-x", MORE_LIKE_X, None).await;
    assert_eq!(status(&cp, &resumed).await, "CREATE PENDING");
    slow.kill();

    // Twice: the second start replays the journal the first one compacted.
    for _ in 0..2 {
        let (mut restarted, url) = spawn_server(&dir);
        let (cp, _, _) = clients(&url).await;
        assert_eq!(status(&cp, &top).await, "INACTIVE");
        restarted.kill();
    }
    let (_child, url) = spawn_server(&dir);
    let (cp, _, rt) = clients(&url).await;
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&top)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags().len(), 1);
    cp.start_recommender()
        .recommender_arn(&top)
        .send()
        .await
        .expect("StartRecommender");
    assert_eq!(status(&cp, &top).await, "ACTIVE");
    // The model is read back from its file: the same answer.
    assert_eq!(recommend_with(&rt, &top, "u2", None).await, before);
    wait(&cp, &resumed, "ACTIVE").await;
    assert!(
        !recommend_with(&rt, &resumed, "u2", Some("i2"))
            .await
            .is_empty()
    );
    drop(_child);

    // An update and a stop caught midway finish after a restart.
    let (mut slow, url) = spawn_server_with(&dir, 5_000);
    let (cp, _, _) = clients(&url).await;
    cp.update_recommender()
        .recommender_arn(&top)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(4)
                .build(),
        )
        .send()
        .await
        .expect("UpdateRecommender");
    cp.stop_recommender()
        .recommender_arn(&top)
        .send()
        .await
        .expect("StopRecommender");
    assert_eq!(status(&cp, &top).await, "STOP PENDING");
    slow.kill();
    let (_child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    wait(&cp, &top, "INACTIVE").await;
    let describe = || async { describe(&cp, &top).await };
    let update = wait_status(
        "recommender update",
        TIMEOUT,
        || async {
            describe()
                .await
                .latest_recommender_update
                .and_then(|u| u.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    assert_eq!(update, "ACTIVE");
    let config = describe().await.recommender_config;
    assert_eq!(
        config.and_then(|c| c.min_recommendation_requests_per_second),
        Some(4)
    );
}

/// The distinct values `read` returns, polled every 20 ms, until it returns `last`.
async fn statuses_until<F, Fut>(last: &str, mut read: F) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let s = read().await;
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == last {
            return seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "{seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommender_state_machines_use_the_literal_statuses() {
    let dir = temp_dir("recommenders-slow");
    let config = Config {
        transition: Duration::from_millis(250),
        ..Config::for_tests(Some(dir.clone()))
    };
    let server = Running::start(config).await.expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let dg = seed_vod(&cp, &dir).await;
    let call = cp
        .create_recommender()
        .name("wrong-domain")
        .dataset_group_arn(&dg)
        .recipe_arn("arn:aws:personalize:::recipe/aws-ecomm-recommended-for-you")
        .send()
        .await;
    assert_eq!(
        code_of(call, "an ECOMMERCE use case in a VIDEO_ON_DEMAND group"),
        "InvalidInputException"
    );

    let arn = create(&cp, &dg, "slow-top-picks", TOP_PICKS, None).await;
    let created = statuses_until("ACTIVE", || status(&cp, &arn)).await;
    assert_eq!(created, ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]);

    cp.stop_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("StopRecommender");
    for refused in [
        cp.delete_recommender()
            .recommender_arn(&arn)
            .send()
            .await
            .err()
            .map(|e| e.code().map(str::to_string)),
        cp.start_recommender()
            .recommender_arn(&arn)
            .send()
            .await
            .err()
            .map(|e| e.code().map(str::to_string)),
    ] {
        assert_eq!(refused, Some(Some("ResourceInUseException".to_string())));
    }
    let stopped = statuses_until("INACTIVE", || status(&cp, &arn)).await;
    assert_eq!(stopped, ["STOP PENDING", "STOP IN_PROGRESS", "INACTIVE"]);
    cp.start_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("StartRecommender");
    let started = statuses_until("ACTIVE", || status(&cp, &arn)).await;
    assert_eq!(started, ["START PENDING", "START IN_PROGRESS", "ACTIVE"]);

    // An update keeps the old configuration, and serving, until it is ACTIVE.
    cp.update_recommender()
        .recommender_arn(&arn)
        .recommender_config(
            RecommenderConfig::builder()
                .min_recommendation_requests_per_second(3)
                .build(),
        )
        .send()
        .await
        .expect("UpdateRecommender");
    let during = describe(&cp, &arn).await;
    assert_eq!(during.status(), Some("ACTIVE"));
    let update = during
        .latest_recommender_update()
        .expect("latestRecommenderUpdate");
    assert_eq!(update.status(), Some("CREATE PENDING"));
    assert_eq!(
        update
            .recommender_config()
            .and_then(|c| c.min_recommendation_requests_per_second()),
        Some(3)
    );
    assert_eq!(
        during
            .recommender_config()
            .and_then(|c| c.min_recommendation_requests_per_second()),
        Some(1)
    );
    assert!(!recommend_with(&rt, &arn, "u3", None).await.is_empty());
    let updated = statuses_until("ACTIVE", || async {
        cp.describe_recommender()
            .recommender_arn(&arn)
            .send()
            .await
            .expect("DescribeRecommender")
            .recommender
            .and_then(|r| r.latest_recommender_update)
            .and_then(|u| u.status)
            .unwrap_or_default()
    })
    .await;
    assert_eq!(updated, ["CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE"]);

    cp.delete_recommender()
        .recommender_arn(&arn)
        .send()
        .await
        .expect("DeleteRecommender");
    let deleting = describe(&cp, &arn).await;
    assert_eq!(deleting.status(), Some("DELETE PENDING"));
    assert!(
        deleting.model_metrics().is_none(),
        "modelMetrics is null while deleting"
    );
    server.stop().await.expect("server stops");
}

/// ECOMMERCE: the synthetic data as View events, and Purchase events where every user bought
/// `i5` (and nine items spread over the catalog).
fn shop_csv() -> String {
    let mut csv = interactions_csv().replace(",click,", ",View,");
    for user in 0..120 {
        for k in 0..10 {
            let item = if k == 0 {
                5
            } else {
                (user * 7 + k * 31) % ITEMS
            };
            csv.push_str(&format!(
                "u{user},i{item},Purchase,{}\n",
                1_700_100_000 + user * 10 + k
            ));
        }
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecommerce_use_cases_train_on_their_event_types() {
    let dir = temp_dir("recommenders-shop");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let csv = shop_csv();
    let dg = seed(&cp, &dir, ("shop", Domain::Ecommerce), &csv).await;
    let recipe = |name: &str| format!("arn:aws:personalize:::recipe/aws-ecomm-{name}");
    let by_purchases = create(
        &cp,
        &dg,
        "best-sellers",
        &recipe("popular-items-by-purchases"),
        None,
    )
    .await;
    let by_views = create(
        &cp,
        &dg,
        "most-viewed",
        &recipe("popular-items-by-views"),
        None,
    )
    .await;
    let together = create(
        &cp,
        &dg,
        "bought-together",
        &recipe("frequently-bought-together"),
        None,
    )
    .await;
    for arn in [&by_purchases, &by_views, &together] {
        wait(&cp, arn, "ACTIVE").await;
    }
    // A new user gets the plain ranking: i5, bought by everyone, leads the best sellers only.
    let best = recommend_with(&rt, &by_purchases, "new-user", None).await;
    assert_eq!(best.first().map(String::as_str), Some("i5"), "{best:?}");
    let viewed = recommend_with(&rt, &by_views, "new-user", None).await;
    // Popularity counts the distinct users who viewed an item.
    let mut viewers = std::collections::HashMap::<&str, HashSet<&str>>::new();
    for line in csv.lines().filter(|l| l.contains(",View,")) {
        let mut fields = line.split(',');
        let (user, item) = (fields.next().expect("user"), fields.next().expect("item"));
        viewers.entry(item).or_default().insert(user);
    }
    let most = viewers.values().map(HashSet::len).max().expect("views");
    let first = viewed.first().expect("most viewed");
    assert_eq!(
        viewers.get(first.as_str()).map(HashSet::len),
        Some(most),
        "{viewed:?}"
    );
    assert_ne!(best, viewed);
    // Frequently bought together needs an itemId, not a userId.
    let with_i5 = rt
        .get_recommendations()
        .recommender_arn(&together)
        .item_id("i5")
        .num_results(5)
        .send()
        .await
        .expect("frequently bought together without userId");
    assert!(!with_i5.item_list().is_empty());
    let call = rt
        .get_recommendations()
        .recommender_arn(&by_purchases)
        .send()
        .await;
    assert_eq!(
        code_of(call, "best sellers need a userId"),
        "InvalidInputException"
    );
    server.stop().await.expect("server stops");
}

/// DescribeRecommender.
async fn describe(
    cp: &aws_sdk_personalize::Client,
    arn: &str,
) -> aws_sdk_personalize::types::Recommender {
    cp.describe_recommender()
        .recommender_arn(arn)
        .send()
        .await
        .expect("DescribeRecommender")
        .recommender
        .expect("recommender")
}

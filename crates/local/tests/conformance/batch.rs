//! Batch inference and batch segment jobs through the Rust SDK, their input and output in moto's
//! S3 (or the data dir's file-backed S3 for the restart case): one output line per input line
//! in order, numResults, filters, error lines, failed jobs, user segments, and a job resumed
//! after a SIGKILL.

use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::types::{
    BatchInferenceJobConfig, BatchInferenceJobInput, BatchInferenceJobMode,
    BatchInferenceJobOutput, BatchSegmentJobInput, BatchSegmentJobOutput, S3DataConfig,
};
use personalize_local::{Config, Running};
use serde_json::Value;

use crate::restart::{spawn_server, spawn_server_with};
use crate::support::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/batch";
const SIMS: &str = "arn:aws:personalize:::recipe/aws-sims";
const RANKING: &str = "arn:aws:personalize:::recipe/aws-personalized-ranking";
const UP: &str = "arn:aws:personalize:::recipe/aws-user-personalization";
const ITEM_AFFINITY: &str = "arn:aws:personalize:::recipe/aws-item-affinity";
const ATTRIBUTE_AFFINITY: &str = "arn:aws:personalize:::recipe/aws-item-attribute-affinity";

fn s3(path: &str) -> S3DataConfig {
    S3DataConfig::builder().path(path).build().expect("path")
}

fn input(path: &str) -> BatchInferenceJobInput {
    BatchInferenceJobInput::builder()
        .s3_data_source(s3(path))
        .build()
}

fn output(path: &str) -> BatchInferenceJobOutput {
    BatchInferenceJobOutput::builder()
        .s3_data_destination(s3(path))
        .build()
}

/// Moto with the seed data (bucket `seed`, as the testkit lays it out for dataset group `dg`)
/// and an empty bucket `batch`, and a server using it.
async fn moto_server(dg: &str) -> (MotoServer, Running, ControlPlane) {
    let moto = start_moto().await;
    let endpoint = moto.endpoint.clone();
    for bucket in ["seed", "batch"] {
        put(&format!("{endpoint}/{bucket}"), String::new()).await;
    }
    put(
        &format!("{endpoint}/seed/{dg}/interactions.csv"),
        interactions_csv(),
    )
    .await;
    put(&format!("{endpoint}/seed/{dg}/items.csv"), items_csv()).await;
    let server = Running::start(Config {
        s3_endpoint: Some(endpoint),
        ..Config::for_tests(Some(temp_dir(dg)))
    })
    .await
    .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    (moto, server, cp)
}

async fn put(url: &str, body: String) {
    let auth = moto_authorization("s3");
    let (status, text) = http("PUT", url, &[("authorization", &auth)], body).await;
    assert!((200..300).contains(&status), "PUT {url}: {status} {text}");
}

/// The lines of an S3 object in moto, parsed.
async fn get_lines(endpoint: &str, bucket_key: &str) -> Vec<Value> {
    let auth = moto_authorization("s3");
    let url = format!("{endpoint}/{bucket_key}");
    let (status, text) = http("GET", &url, &[("authorization", &auth)], String::new()).await;
    assert_eq!(status, 200, "GET {url}: {text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

fn scores(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|s| s.as_f64().expect("a number"))
        .collect()
}

fn non_increasing(scores: &[f64]) -> bool {
    scores.windows(2).all(|w| w[0] >= w[1])
}

fn cluster_of_id(id: &str) -> usize {
    cluster_of(id[1..].parse().expect("<letter><number>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_inference_reads_and_writes_s3() {
    let (moto, server, cp) = moto_server("bi").await;
    let endpoint = moto.endpoint.clone();
    let (dg, _, _) = seed_dataset_group(&cp, &temp_dir("bi-seed"), "bi").await;
    let (_, up) = train(&cp, &dg, "bi-up", UP).await;
    let (_, sims) = train(&cp, &dg, "bi-sims", SIMS).await;
    let (_, ranking) = train(&cp, &dg, "bi-rank", RANKING).await;
    let no_genre = create_filter(
        &cp,
        &dg,
        "bi-no-genre",
        "EXCLUDE ItemID WHERE Items.GENRES IN ($GENRE)",
    )
    .await;

    // USER_PERSONALIZATION: 30 users, a bad line of each kind, numResults 10, a filter whose
    // value each line gives.
    let mut lines: Vec<String> = (0..30)
        .map(|u| {
            format!(
                r#"{{"userId":"u{u}","filterValues":{{"GENRE":"\"genre{}\""}}}}"#,
                u % 6
            )
        })
        .collect();
    lines.insert(3, "this is not json".into());
    lines.insert(7, r#"{"itemId":"i1"}"#.into());
    lines.insert(11, r#"{"userId":"u1","filterValues":{"GENRE":7}}"#.into());
    put(
        &format!("{endpoint}/batch/users/in.json"),
        lines.join("\n") + "\n",
    )
    .await;
    let job = cp
        .create_batch_inference_job()
        .job_name("bi-users")
        .solution_version_arn(&up)
        .filter_arn(&no_genre)
        .num_results(10)
        .job_input(input("s3://batch/users/in.json"))
        .job_output(output("s3://batch/out/users/"))
        .role_arn(ROLE)
        .batch_inference_job_config(
            BatchInferenceJobConfig::builder()
                .item_exploration_config("explorationWeight", "0")
                .build(),
        )
        .tags(
            aws_sdk_personalize::types::Tag::builder()
                .tag_key("team")
                .tag_value("growth")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(
        wait_job(&cp, Job::BatchInference, &job).await,
        ("ACTIVE".into(), None)
    );
    let out = get_lines(&endpoint, "batch/out/users/in.json.out").await;
    assert_eq!(out.len(), lines.len(), "one output line per input line");
    for (k, (line, got)) in lines.iter().zip(&out).enumerate() {
        match serde_json::from_str::<Value>(line) {
            Ok(input) => assert_eq!(got["input"], input, "line {k} in order"),
            Err(_) => assert_eq!(got["input"], Value::String(line.clone())),
        }
        if [3, 7, 11].contains(&k) {
            assert!(got["error"].is_string(), "line {k}: {got}");
            assert!(got["output"].is_null());
            continue;
        }
        assert!(got["error"].is_null(), "line {k}: {got}");
        let items = strings(&got["output"]["recommendedItems"]);
        let s = scores(&got["output"]["scores"]);
        assert_eq!(items.len(), 10, "numResults");
        assert_eq!(s.len(), 10);
        assert!(non_increasing(&s), "line {k}: {s:?}");
        let user = got["input"]["userId"].as_str().expect("user");
        let excluded = cluster_of_id(user);
        assert!(
            items.iter().all(|i| cluster_of_id(i) != excluded),
            "the filter excludes genre{excluded}: {items:?}"
        );
    }
    let err = out[7]["error"].as_str().expect("error");
    assert!(err.contains("itemId"), "{err}");
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&job)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags().len(), 1);

    // RELATED_ITEMS, default numResults (25), every object under a prefix.
    put(
        &format!("{endpoint}/batch/items/a.json"),
        "{\"itemId\":\"i0\"}\n{\"itemId\":\"i7\"}\n".into(),
    )
    .await;
    put(
        &format!("{endpoint}/batch/items/b.json"),
        "{\"itemId\":\"i14\"}\n{\"userId\":\"u1\"}\n".into(),
    )
    .await;
    let job = cp
        .create_batch_inference_job()
        .job_name("bi-items")
        .solution_version_arn(&sims)
        .job_input(input("s3://batch/items/"))
        .job_output(output("s3://batch/out/items"))
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchInference, &job).await.0, "ACTIVE");
    let a = get_lines(&endpoint, "batch/out/items/a.json.out").await;
    let b = get_lines(&endpoint, "batch/out/items/b.json.out").await;
    assert_eq!((a.len(), b.len()), (2, 2));
    for got in a.iter().chain(&b[..1]) {
        let items = strings(&got["output"]["recommendedItems"]);
        assert_eq!(items.len(), 25, "the default numResults");
        assert!(non_increasing(&scores(&got["output"]["scores"])));
        let query = got["input"]["itemId"].as_str().expect("item");
        assert!(!items.iter().any(|i| i == query));
    }
    assert!(b[1]["error"].is_string());

    // PERSONALIZED_RANKING: the list reordered, best first.
    let list: Vec<String> = (0..12).map(|i| format!("i{i}")).collect();
    let line = serde_json::json!({"userId": "u2", "itemList": list}).to_string();
    put(&format!("{endpoint}/batch/rank.json"), line).await;
    let job = cp
        .create_batch_inference_job()
        .job_name("bi-rank")
        .solution_version_arn(&ranking)
        .job_input(input("s3://batch/rank.json"))
        .job_output(output("s3://batch/out/"))
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchInference, &job).await.0, "ACTIVE");
    let ranked = get_lines(&endpoint, "batch/out/rank.json.out").await;
    let items = strings(&ranked[0]["output"]["recommendedItems"]);
    let mut sorted = items.clone();
    sorted.sort();
    let mut expected = list.clone();
    expected.sort();
    assert_eq!(sorted, expected, "a permutation of itemList");
    assert!(non_increasing(&scores(&ranked[0]["output"]["scores"])));
    assert_eq!(
        cluster_of_id(&items[0]),
        2,
        "u2's own genre first: {items:?}"
    );

    // Missing input: the job fails and says why.
    let job = cp
        .create_batch_inference_job()
        .job_name("bi-missing")
        .solution_version_arn(&up)
        .job_input(input("s3://batch/nothing-here/"))
        .job_output(output("s3://batch/out/missing/"))
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    let (status, reason) = wait_job(&cp, Job::BatchInference, &job).await;
    assert_eq!(status, "CREATE FAILED");
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("not found")),
        "{reason:?}"
    );

    // Refused at create.
    let create = |name: &str, version: &str| {
        cp.create_batch_inference_job()
            .job_name(name)
            .solution_version_arn(version)
            .job_input(input("s3://batch/users/in.json"))
            .job_output(output("s3://batch/out/x/"))
            .role_arn(ROLE)
    };
    let missing = format!("{up}-missing");
    for (why, request, code) in [
        (
            "existing name",
            create("bi-users", &up),
            "ResourceAlreadyExistsException",
        ),
        (
            "unknown version",
            create("bi-x", &missing),
            "ResourceNotFoundException",
        ),
        (
            "numResults 501",
            create("bi-x", &up).num_results(501),
            "InvalidInputException",
        ),
        (
            "themes",
            create("bi-x", &sims).batch_inference_job_mode(BatchInferenceJobMode::ThemeGeneration),
            "InvalidInputException",
        ),
        (
            "ranking influence",
            create("bi-x", &up).batch_inference_job_config(
                BatchInferenceJobConfig::builder()
                    .ranking_influence(
                        aws_sdk_personalize::types::RankingInfluenceType::Popularity,
                        0.5,
                    )
                    .build(),
            ),
            "InvalidInputException",
        ),
        (
            "exploration on SIMS",
            create("bi-x", &sims).batch_inference_job_config(
                BatchInferenceJobConfig::builder()
                    .item_exploration_config("explorationWeight", "0.5")
                    .build(),
            ),
            "InvalidInputException",
        ),
    ] {
        assert_eq!(code_of(request.send().await, why), code, "{why}");
    }

    // List by solution version, paged.
    let page = cp
        .list_batch_inference_jobs()
        .solution_version_arn(&up)
        .max_results(1)
        .send()
        .await
        .expect("ListBatchInferenceJobs");
    assert_eq!(page.batch_inference_jobs().len(), 1);
    let token = page.next_token().expect("a second page").to_string();
    let rest = cp
        .list_batch_inference_jobs()
        .solution_version_arn(&up)
        .next_token(token)
        .send()
        .await
        .expect("ListBatchInferenceJobs");
    let mut names: Vec<&str> = page
        .batch_inference_jobs()
        .iter()
        .chain(rest.batch_inference_jobs())
        .filter_map(|j| j.job_name())
        .collect();
    names.sort();
    assert_eq!(names, ["bi-missing", "bi-users"]);
    let all = cp
        .list_batch_inference_jobs()
        .send()
        .await
        .expect("ListBatchInferenceJobs");
    assert_eq!(all.batch_inference_jobs().len(), 4);

    // Live events after training count, as they do for a campaign: u0 (genre0) clicks genre3
    // items and its batch recommendations turn to genre3.
    let (_, events, _) = clients(&server.url()).await;
    let tracking_id = cp
        .create_event_tracker()
        .name("bi-tracker")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("CreateEventTracker")
        .tracking_id
        .expect("trackingId");
    let genre3: Vec<String> = (0..10).map(|k| format!("i{}", 3 + 6 * k)).collect();
    put_clicks(&events, &tracking_id, "u0", &genre3).await;
    put(
        &format!("{endpoint}/batch/live.json"),
        "{\"userId\":\"u0\"}\n".into(),
    )
    .await;
    let job = create("bi-live", &up)
        .job_input(input("s3://batch/live.json"))
        .job_output(output("s3://batch/out/"))
        .batch_inference_job_config(
            BatchInferenceJobConfig::builder()
                .item_exploration_config("explorationWeight", "0")
                .build(),
        )
        .num_results(5)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchInference, &job).await.0, "ACTIVE");
    let live = get_lines(&endpoint, "batch/out/live.json.out").await;
    let items = strings(&live[0]["output"]["recommendedItems"]);
    assert!(
        items
            .iter()
            .all(|i| cluster_of_id(i) == 3 && !genre3.contains(i)),
        "{items:?}"
    );
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_segments_rank_the_users_drawn_to_an_item() {
    let (moto, server, cp) = moto_server("seg").await;
    let endpoint = moto.endpoint.clone();
    let (dg, _, _) = seed_dataset_group(&cp, &temp_dir("seg-seed"), "seg").await;
    let recipes = cp
        .list_recipes()
        .send()
        .await
        .expect("ListRecipes")
        .recipes()
        .iter()
        .filter_map(|r| r.recipe_arn().map(str::to_string))
        .collect::<Vec<_>>();
    assert!(recipes.iter().any(|r| r == ITEM_AFFINITY));
    let described = cp
        .describe_recipe()
        .recipe_arn(ATTRIBUTE_AFFINITY)
        .send()
        .await
        .expect("DescribeRecipe")
        .recipe
        .expect("recipe");
    assert_eq!(described.recipe_type(), Some("USER_SEGMENTATION"));
    let (_, affinity) = train(&cp, &dg, "seg-item", ITEM_AFFINITY).await;
    let (_, attributes) = train(&cp, &dg, "seg-attr", ATTRIBUTE_AFFINITY).await;
    let (_, up) = train(&cp, &dg, "seg-up", UP).await;

    // A USER_SEGMENTATION version cannot back a campaign or a batch inference job, and a
    // segment job needs one.
    let campaign = cp
        .create_campaign()
        .name("seg-campaign")
        .solution_version_arn(&affinity)
        .send()
        .await;
    assert_eq!(code_of(campaign, "campaign"), "InvalidInputException");
    let inference = cp
        .create_batch_inference_job()
        .job_name("seg-inference")
        .solution_version_arn(&affinity)
        .job_input(input("s3://batch/seg/items.json"))
        .job_output(output("s3://batch/out/"))
        .role_arn(ROLE)
        .send()
        .await;
    assert_eq!(code_of(inference, "inference"), "InvalidInputException");
    let segment = |name: &str, version: &str, path: &str| {
        cp.create_batch_segment_job()
            .job_name(name)
            .solution_version_arn(version)
            .job_input(
                BatchSegmentJobInput::builder()
                    .s3_data_source(s3(path))
                    .build(),
            )
            .job_output(
                BatchSegmentJobOutput::builder()
                    .s3_data_destination(s3("s3://batch/segments/"))
                    .build(),
            )
            .role_arn(ROLE)
    };
    let wrong = segment("seg-up", &up, "s3://batch/seg/items.json")
        .send()
        .await;
    assert_eq!(code_of(wrong, "segment of UP"), "InvalidInputException");

    put(
        &format!("{endpoint}/batch/seg/items.json"),
        "{\"itemId\":\"i0\"}\n{\"itemId\":\"i9\"}\n{\"itemId\":\"nope\"}\n".into(),
    )
    .await;
    let job = segment("seg-items", &affinity, "s3://batch/seg/items.json")
        .num_results(10)
        .send()
        .await
        .expect("CreateBatchSegmentJob")
        .batch_segment_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchSegment, &job).await.0, "ACTIVE");
    let out = get_lines(&endpoint, "batch/segments/items.json.out").await;
    assert_eq!(out.len(), 3);
    for got in &out[..2] {
        let item = got["input"]["itemId"].as_str().expect("item");
        let users = strings(&got["output"]["recommendedUsers"]);
        assert_eq!(users.len(), 10, "numResults users");
        // Each user clicks 12 items of their own genre: the item's genre's users come first.
        assert!(
            users
                .iter()
                .all(|u| cluster_of_id(u) == cluster_of_id(item)),
            "{item}: {users:?}"
        );
    }
    assert!(out[2]["error"].as_str().is_some_and(|e| e.contains("nope")));

    put(
        &format!("{endpoint}/batch/seg/attributes.json"),
        concat!(
            "{\"itemAttributes\":\"ITEMS.GENRES = \\\"genre2\\\"\"}\n",
            "{\"itemAttributes\":\"ITEMS.GENRES IN (\\\"genre4\\\") OR ITEMS.GENRES = \\\"genre5\\\"\"}\n",
            "{\"itemAttributes\":\"ITEMS.GENRES = \"}\n",
        )
        .into(),
    )
    .await;
    let job = segment("seg-attrs", &attributes, "s3://batch/seg/attributes.json")
        .send()
        .await
        .expect("CreateBatchSegmentJob")
        .batch_segment_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::BatchSegment, &job).await.0, "ACTIVE");
    let out = get_lines(&endpoint, "batch/segments/attributes.json.out").await;
    assert_eq!(out.len(), 3);
    let genre2 = strings(&out[0]["output"]["recommendedUsers"]);
    assert_eq!(genre2.len(), 25, "the default numResults");
    // 20 users like genre2: they lead the segment.
    assert!(
        genre2[..20].iter().all(|u| cluster_of_id(u) == 2),
        "{genre2:?}"
    );
    assert!(
        genre2[20..].iter().all(|u| cluster_of_id(u) != 2),
        "{genre2:?}"
    );
    assert!(out[0]["itemAttributes"].is_string());
    let either = strings(&out[1]["output"]["recommendedUsers"]);
    assert!(
        either.iter().all(|u| [4, 5].contains(&cluster_of_id(u))),
        "{either:?}"
    );
    assert!(out[2]["error"].is_string());
    let listed = cp
        .list_batch_segment_jobs()
        .solution_version_arn(&affinity)
        .send()
        .await
        .expect("ListBatchSegmentJobs");
    assert_eq!(listed.batch_segment_jobs().len(), 1);
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_batch_job_resumes_after_restart() {
    let dir = temp_dir("batch-resume");
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "batch-resume").await;
    let (_, up) = train(&cp, &dg, "batch-resume", UP).await;
    let users: Vec<String> = (0..50).map(|u| format!(r#"{{"userId":"u{u}"}}"#)).collect();
    put_object(&dir, "batch", "in/users.json", &users.join("\n"));
    durable(&cp, &dg).await; // the training finished before the kill
    child.kill();
    // Slow transitions: the job is still pending when the server is killed.
    let (mut child, url) = spawn_server_with(&dir, 400);
    let (cp, _, _) = clients(&url).await;
    let job = cp
        .create_batch_inference_job()
        .job_name("resumed")
        .solution_version_arn(&up)
        .job_input(input("s3://batch/in/users.json"))
        .job_output(output("s3://batch/out/"))
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateBatchInferenceJob")
        .batch_inference_job_arn
        .expect("arn");
    assert_eq!(
        job_status(&cp, Job::BatchInference, &job).await,
        "CREATE PENDING"
    );
    child.kill();
    assert!(!dir.join("s3/batch/out/users.json.out").exists());
    // Restarted with slow transitions again: killed once more while in progress (a solution
    // with a running job cannot be deleted meanwhile).
    let (mut child, url) = spawn_server_with(&dir, 400);
    let (cp, _, _) = clients(&url).await;
    wait_status(
        "in progress",
        Duration::from_secs(30),
        || job_status(&cp, Job::BatchInference, &job),
        &["CREATE IN_PROGRESS"],
    )
    .await;
    let solution = up.rsplit_once('/').expect("solution/<name>/<id>").0;
    let deleted = cp.delete_solution().solution_arn(solution).send().await;
    assert_eq!(code_of(deleted, "running job"), "ResourceInUseException");
    child.kill();
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    assert_eq!(
        wait_job(&cp, Job::BatchInference, &job).await,
        ("ACTIVE".into(), None)
    );
    let text = std::fs::read_to_string(dir.join("s3/batch/out/users.json.out")).expect("output");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 50);
    for (u, line) in lines.iter().enumerate() {
        assert_eq!(line["input"]["userId"], format!("u{u}"));
        assert_eq!(strings(&line["output"]["recommendedItems"]).len(), 25);
    }
    child.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_attribute_affinity_needs_item_metadata() {
    use personalize_testkit::personalize::{self as deploy, Data};
    let dir = temp_dir("attr-no-items");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let interactions = interactions_csv();
    let data = Data {
        interactions_csv: &interactions,
        items: None,
    };
    let group = deploy::seed_dataset_group(&cp, &dir, "attr-no-items", data)
        .await
        .expect("dataset group with interactions only");
    let failed = deploy::train(&cp, &group.arn, "attr-no-items", ATTRIBUTE_AFFINITY)
        .await
        .expect_err("no Items dataset");
    assert!(failed.to_string().contains("CREATE FAILED"), "{failed}");
    let versions = cp
        .list_solution_versions()
        .send()
        .await
        .expect("ListSolutionVersions");
    let arn = versions.solution_versions()[0]
        .solution_version_arn()
        .expect("arn");
    let reason = cp
        .describe_solution_version()
        .solution_version_arn(arn)
        .send()
        .await
        .expect("DescribeSolutionVersion")
        .solution_version
        .and_then(|v| v.failure_reason)
        .unwrap_or_default();
    assert!(reason.contains("Items dataset"), "{reason}");
    server.stop().await.expect("stops");
}

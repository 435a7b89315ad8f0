//! Dataset export jobs and data deletion jobs through the Rust SDK, with moto's S3 holding the
//! imported data, the exports and the lists of users to delete; DescribeAlgorithm and
//! DescribeFeatureTransformation for every recipe; and both jobs resumed after a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::types::{
    DataSource, DatasetExportJobOutput, IngestionMode, S3DataConfig, SolutionConfig,
};
use aws_sdk_personalizeevents::types::{Item, User};
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{ROLE_ARN, create_event_tracker};

use crate::support::*;

const USERS_SCHEMA: &str = r#"{"type":"record","name":"Users","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"AGE","type":["null","int"]},{"name":"TAGS","type":["null","string"],"categorical":true}],"version":"1.0"}"#;

/// Users CSV: every user of the interactions, with an age and two tags (one missing age).
fn users_csv() -> String {
    let mut csv = String::from("USER_ID,AGE,TAGS\n");
    for user in 0..120 {
        let age = if user == 5 {
            String::new()
        } else {
            (20 + user % 40).to_string()
        };
        csv.push_str(&format!("u{user},{age},t{}|t{}\n", user % 3, user % 5));
    }
    csv
}

async fn s3_put(endpoint: &str, bucket_key: &str, body: String) {
    let url = format!("{endpoint}/{bucket_key}");
    let (status, text) = http("PUT", &url, &[], body).await;
    assert!((200..300).contains(&status), "PUT {url}: {status} {text}");
}

async fn s3_get(endpoint: &str, bucket_key: &str) -> String {
    let url = format!("{endpoint}/{bucket_key}");
    let auth = moto_authorization("s3");
    let (status, text) = http("GET", &url, &[("authorization", &auth)], String::new()).await;
    assert_eq!(status, 200, "GET {url}: {text}");
    text
}

/// A dataset group `name` whose interactions, items and users are imported from moto's S3;
/// returns (group, interactions, items, users) datasets.
async fn seed_on_moto(
    cp: &ControlPlane,
    endpoint: &str,
    data_dir: &Path,
    name: &str,
) -> (String, String, String, String) {
    s3_put(endpoint, "seed", String::new()).await;
    s3_put(
        endpoint,
        &format!("seed/{name}/interactions.csv"),
        interactions_csv(),
    )
    .await;
    s3_put(endpoint, &format!("seed/{name}/items.csv"), items_csv()).await;
    s3_put(endpoint, &format!("seed/{name}/users.csv"), users_csv()).await;
    let (dg, interactions, items) = seed_dataset_group(cp, data_dir, name).await;
    let schema = cp
        .create_schema()
        .name(format!("{name}-users"))
        .schema(USERS_SCHEMA)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("arn");
    let users = cp
        .create_dataset()
        .name(format!("{name}-users"))
        .dataset_group_arn(&dg)
        .dataset_type("USERS")
        .schema_arn(schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("arn");
    let job = cp
        .create_dataset_import_job()
        .job_name(format!("{name}-users"))
        .dataset_arn(&users)
        .role_arn(ROLE_ARN)
        .data_source(
            DataSource::builder()
                .data_location(format!("s3://seed/{name}/users.csv"))
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetImportJob")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(cp, Job::Import, &job).await.0, "ACTIVE");
    (dg, interactions, items, users)
}

/// The server-side encryption and KMS key moto reports for an object (HEAD).
async fn s3_encryption(endpoint: &str, bucket_key: &str) -> (Option<String>, Option<String>) {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let request = hyper::Request::builder()
        .method("HEAD")
        .uri(format!("{endpoint}/{bucket_key}"))
        .header("authorization", moto_authorization("s3"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("moto answers");
    assert_eq!(response.status().as_u16(), 200, "HEAD {bucket_key}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    (
        header("x-amz-server-side-encryption"),
        header("x-amz-server-side-encryption-aws-kms-key-id"),
    )
}

fn output(path: &str) -> DatasetExportJobOutput {
    DatasetExportJobOutput::builder()
        .s3_data_destination(S3DataConfig::builder().path(path).build().expect("path"))
        .build()
}

/// CreateDatasetExportJob to `s3://out/<dir>/` (no ingestionMode: AWS's default), waiting until
/// it is ACTIVE; the job's ARN.
async fn export(
    cp: &ControlPlane,
    name: &str,
    dataset: &str,
    mode: Option<IngestionMode>,
    dir: &str,
) -> String {
    let arn = cp
        .create_dataset_export_job()
        .job_name(name)
        .dataset_arn(dataset)
        .set_ingestion_mode(mode)
        .role_arn(ROLE_ARN)
        .job_output(output(&format!("s3://out/{dir}/")))
        .send()
        .await
        .expect("CreateDatasetExportJob")
        .dataset_export_job_arn
        .expect("arn");
    assert_eq!(
        wait_job(cp, Job::Export, &arn).await.0,
        "ACTIVE",
        "export {name}"
    );
    arn
}

/// An export's CSV: its header and its rows (each a line), read back from moto.
async fn exported(endpoint: &str, dir: &str, job: &str) -> (String, Vec<String>) {
    let text = s3_get(endpoint, &format!("out/{dir}/{job}/part-00000.csv")).await;
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().expect("header row");
    (header, lines.collect())
}

/// The data lines of a CSV.
fn rows_of(csv: &str) -> BTreeSet<String> {
    csv.lines().skip(1).map(str::to_string).collect()
}

fn event(item: &str, at: i64) -> aws_sdk_personalizeevents::types::Event {
    aws_sdk_personalizeevents::types::Event::builder()
        .event_type("click")
        .item_id(item)
        .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
            at,
        ))
        .build()
        .expect("event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_bulk_put_and_all_data_as_csv() {
    let moto = start_moto().await;
    let endpoint = moto.endpoint.clone();
    s3_put(&endpoint, "out", String::new()).await;
    let dir = temp_dir("export");
    let server = Running::start(Config {
        s3_endpoint: Some(endpoint.clone()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, events, _) = clients(&server.url()).await;
    let (dg, interactions, items, users) = seed_on_moto(&cp, &endpoint, &dir, "export").await;

    // Data put after the imports: 3 events of two users, a new item and a changed one, a user.
    let (_, tracking) = create_event_tracker(&cp, "export", &dg)
        .await
        .expect("event tracker");
    for (user, list) in [
        (
            "u1",
            vec![event("i7", 1_800_000_001), event("i13", 1_800_000_002)],
        ),
        ("new-user", vec![event("i2", 1_800_000_003)]),
    ] {
        events
            .put_events()
            .tracking_id(&tracking)
            .user_id(user)
            .session_id(format!("s-{user}"))
            .set_event_list(Some(list))
            .send()
            .await
            .expect("PutEvents");
    }
    for (id, genres) in [("i-new", "genreX|genreY"), ("i0", "genreZ")] {
        events
            .put_items()
            .dataset_arn(&items)
            .items(
                Item::builder()
                    .item_id(id)
                    .properties(format!(r#"{{"genres": "{genres}"}}"#))
                    .build()
                    .expect("item"),
            )
            .send()
            .await
            .expect("PutItems");
    }
    events
        .put_users()
        .dataset_arn(&users)
        .users(
            User::builder()
                .user_id("u-put")
                .properties(r#"{"age": 33, "tags": "a|b"}"#)
                .build()
                .expect("user"),
        )
        .send()
        .await
        .expect("PutUsers");

    // Interactions: BULK is the imported file, PUT the events, ALL both.
    export(
        &cp,
        "ix-bulk",
        &interactions,
        Some(IngestionMode::Bulk),
        "ix",
    )
    .await;
    export(&cp, "ix-put", &interactions, Some(IngestionMode::Put), "ix").await;
    export(&cp, "ix-all", &interactions, Some(IngestionMode::All), "ix").await;
    let (header, bulk) = exported(&endpoint, "ix", "ix-bulk").await;
    assert_eq!(header, "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP");
    let imported = rows_of(&interactions_csv());
    assert_eq!(bulk.len(), imported.len());
    assert_eq!(bulk.iter().cloned().collect::<BTreeSet<_>>(), imported);
    let (_, put) = exported(&endpoint, "ix", "ix-put").await;
    let put: BTreeSet<String> = put.into_iter().collect();
    let expected_put: BTreeSet<String> = [
        "u1,i7,click,1800000001",
        "u1,i13,click,1800000002",
        "new-user,i2,click,1800000003",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(put, expected_put);
    let (_, all) = exported(&endpoint, "ix", "ix-all").await;
    assert_eq!(all.len(), imported.len() + 3);
    let all: BTreeSet<String> = all.into_iter().collect();
    assert!(all.is_superset(&imported) && all.is_superset(&expected_put));

    // Items: BULK keeps the imported i0, PUT both puts, ALL the newest of each id.
    export(&cp, "it-bulk", &items, Some(IngestionMode::Bulk), "it").await;
    export(&cp, "it-put", &items, Some(IngestionMode::Put), "it").await;
    export(&cp, "it-all", &items, Some(IngestionMode::All), "it").await;
    let (header, bulk) = exported(&endpoint, "it", "it-bulk").await;
    assert_eq!(header, "ITEM_ID,GENRES");
    assert_eq!(
        bulk.iter().cloned().collect::<BTreeSet<_>>(),
        rows_of(&items_csv())
    );
    let (_, mut put) = exported(&endpoint, "it", "it-put").await;
    put.sort();
    assert_eq!(put, vec!["i-new,genreX|genreY", "i0,genreZ"]);
    let (_, all) = exported(&endpoint, "it", "it-all").await;
    assert_eq!(all.len(), 301, "300 imported items and one new");
    assert!(all.contains(&"i0,genreZ".to_string()) && !all.contains(&"i0,genre0".to_string()));

    // Users, without ingestionMode: PUT, AWS's default. A missing value is an empty cell.
    let job = export(&cp, "us-default", &users, None, "us").await;
    let described = cp
        .describe_dataset_export_job()
        .dataset_export_job_arn(&job)
        .send()
        .await
        .expect("describe")
        .dataset_export_job
        .expect("job");
    assert_eq!(described.ingestion_mode, Some(IngestionMode::Put));
    assert_eq!(described.dataset_arn.as_deref(), Some(users.as_str()));
    assert_eq!(
        described
            .job_output
            .and_then(|o| o.s3_data_destination)
            .map(|d| d.path),
        Some("s3://out/us/".to_string())
    );
    let (header, put) = exported(&endpoint, "us", "us-default").await;
    assert_eq!(header, "USER_ID,AGE,TAGS");
    assert_eq!(put, vec!["u-put,33,a|b"]);
    export(&cp, "us-bulk", &users, Some(IngestionMode::Bulk), "us").await;
    let (_, bulk) = exported(&endpoint, "us", "us-bulk").await;
    assert_eq!(bulk.len(), 120);
    assert!(bulk.contains(&"u5,,t2|t0".to_string()), "empty AGE");

    // A kmsKeyArn encrypts the export with that key (SSE-KMS).
    let key = "arn:aws:kms:us-east-1:000000000000:key/export-key";
    let arn = cp
        .create_dataset_export_job()
        .job_name("us-kms")
        .dataset_arn(&users)
        .role_arn(ROLE_ARN)
        .job_output(
            DatasetExportJobOutput::builder()
                .s3_data_destination(
                    S3DataConfig::builder()
                        .path("s3://out/kms/")
                        .kms_key_arn(key)
                        .build()
                        .expect("path"),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetExportJob")
        .dataset_export_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Export, &arn).await.0, "ACTIVE");
    let (sse, key_id) = s3_encryption(&endpoint, "out/kms/us-kms/part-00000.csv").await;
    assert_eq!(sse.as_deref(), Some("aws:kms"));
    assert_eq!(key_id.as_deref(), Some(key));

    // List: by dataset, newest first, paged.
    let page = cp
        .list_dataset_export_jobs()
        .dataset_arn(&interactions)
        .max_results(2)
        .send()
        .await
        .expect("ListDatasetExportJobs");
    let names: Vec<_> = page
        .dataset_export_jobs()
        .iter()
        .filter_map(|j| j.job_name.clone())
        .collect();
    assert_eq!(names, vec!["ix-all", "ix-put"]);
    let rest = cp
        .list_dataset_export_jobs()
        .dataset_arn(&interactions)
        .next_token(page.next_token.expect("a second page"))
        .send()
        .await
        .expect("ListDatasetExportJobs page 2");
    assert_eq!(rest.dataset_export_jobs().len(), 1);
    assert!(rest.next_token.is_none());
    let everything = cp
        .list_dataset_export_jobs()
        .send()
        .await
        .expect("all export jobs");
    assert_eq!(everything.dataset_export_jobs().len(), 9);

    // Refused as AWS refuses them.
    let again = cp
        .create_dataset_export_job()
        .job_name("ix-bulk")
        .dataset_arn(&interactions)
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/again/"))
        .send()
        .await;
    assert_eq!(
        code_of(again, "a name taken"),
        "ResourceAlreadyExistsException"
    );
    let missing = cp
        .create_dataset_export_job()
        .job_name("no-dataset")
        .dataset_arn(format!("{dg}-none"))
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/x/"))
        .send()
        .await;
    assert_eq!(
        code_of(missing, "no such dataset"),
        "ResourceNotFoundException"
    );
    let http_path = cp
        .create_dataset_export_job()
        .job_name("http-path")
        .dataset_arn(&interactions)
        .role_arn(ROLE_ARN)
        .job_output(output("https://example.com/out/"))
        .send()
        .await;
    assert_eq!(
        code_of(http_path, "not an s3:// path"),
        "InvalidInputException"
    );
    let bad_mode = cp
        .create_dataset_export_job()
        .job_name("bad-mode")
        .dataset_arn(&interactions)
        .ingestion_mode(IngestionMode::from("SOME"))
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/x/"))
        .send()
        .await;
    assert_eq!(
        code_of(bad_mode, "unknown ingestionMode"),
        "InvalidInputException"
    );
    // AWS cannot export Actions or Action interactions datasets.
    let actions_schema = cp
        .create_schema()
        .name("export-actions")
        .schema(r#"{"type":"record","name":"Actions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ACTION_ID","type":"string"},{"name":"VALUE","type":["null","float"]}],"version":"1.0"}"#)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("arn");
    let actions = cp
        .create_dataset()
        .name("export-actions")
        .dataset_group_arn(&dg)
        .dataset_type("ACTIONS")
        .schema_arn(actions_schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("arn");
    let refused = cp
        .create_dataset_export_job()
        .job_name("actions")
        .dataset_arn(&actions)
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/actions/"))
        .send()
        .await;
    assert_eq!(
        code_of(refused, "an Actions dataset"),
        "InvalidInputException"
    );
    let unknown = cp
        .describe_dataset_export_job()
        .dataset_export_job_arn(format!("{dg}-no-such-job"))
        .send()
        .await;
    assert_eq!(code_of(unknown, "no such job"), "ResourceNotFoundException");
    server.stop().await.expect("stops");
    drop(moto);
}

/// CreateDataDeletionJob reading `s3://lists/<key>`; waits until it is done and returns the job.
async fn delete_users(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    key: &str,
) -> aws_sdk_personalize::types::DataDeletionJob {
    let arn = cp
        .create_data_deletion_job()
        .job_name(name)
        .dataset_group_arn(dg)
        .role_arn(ROLE_ARN)
        .data_source(
            DataSource::builder()
                .data_location(format!("s3://lists/{key}"))
                .build(),
        )
        .send()
        .await
        .expect("CreateDataDeletionJob")
        .data_deletion_job_arn
        .expect("arn");
    wait_job(cp, Job::Deletion, &arn).await;
    data_deletion_job(cp, &arn).await
}

/// The items of cluster `c` among `items` (ids `i<n>`).
fn in_cluster(items: &[String], c: usize) -> usize {
    items
        .iter()
        .filter(|i| {
            i.trim_start_matches('i')
                .parse::<usize>()
                .is_ok_and(|n| cluster_of(n) == c)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_users_are_forgotten_by_the_next_version_and_exports() {
    let moto = start_moto().await;
    let endpoint = moto.endpoint.clone();
    for bucket in ["out", "lists"] {
        s3_put(&endpoint, bucket, String::new()).await;
    }
    let dir = temp_dir("deletion");
    let server = Running::start(Config {
        s3_endpoint: Some(endpoint.clone()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;
    let (dg, interactions, _, users) = seed_on_moto(&cp, &endpoint, &dir, "deletion").await;
    let (_, tracking) = create_event_tracker(&cp, "deletion", &dg)
        .await
        .expect("event tracker");
    // Live events of a user to delete (u0, cluster 0) and of one to keep (u1, cluster 1).
    put_clicks(
        &events,
        &tracking,
        "u0",
        &["i6".to_string(), "i12".to_string()],
    )
    .await;
    put_clicks(&events, &tracking, "u1", &["i7".to_string()]).await;

    let (solution, v1) = train(
        &cp,
        &dg,
        "deletion",
        "arn:aws:personalize:::recipe/aws-user-personalization",
    )
    .await;
    let campaign = create_campaign(
        &cp,
        "deletion",
        &v1,
        aws_sdk_personalize::types::CampaignConfig::builder().build(),
    )
    .await;
    let before = recommend(&rt, &campaign, "u0", 10).await;
    assert!(
        in_cluster(&before, 0) >= 8,
        "u0 is known before: {before:?}"
    );

    // u0 and u6 have data, "nobody" has none: two users deleted.
    s3_put(
        &endpoint,
        "lists/delete.csv",
        "USER_ID\nu0\nu6\nnobody\nu0\n".into(),
    )
    .await;
    let job = delete_users(&cp, &dg, "delete-two", "delete.csv").await;
    assert_eq!(job.status.as_deref(), Some("COMPLETED"), "{job:?}");
    assert_eq!(job.num_deleted, Some(2));
    assert_eq!(job.dataset_group_arn.as_deref(), Some(dg.as_str()));
    assert_eq!(
        job.data_source.and_then(|d| d.data_location).as_deref(),
        Some("s3://lists/delete.csv")
    );

    // The current version still serves what it learnt until a new one replaces it.
    let still = recommend(&rt, &campaign, "u0", 10).await;
    assert!(in_cluster(&still, 0) >= 8, "v1 still knows u0: {still:?}");

    // Exports no longer list them; other users are untouched.
    export(
        &cp,
        "after-ix",
        &interactions,
        Some(IngestionMode::All),
        "del",
    )
    .await;
    let (_, rows) = exported(&endpoint, "del", "after-ix").await;
    let user_of = |line: &String| line.split(',').next().unwrap_or_default().to_string();
    assert!(
        rows.iter()
            .all(|l| user_of(l) != "u0" && user_of(l) != "u6")
    );
    assert_eq!(
        rows.len(),
        1440 - 24 + 1,
        "12 rows each gone, u1's event kept"
    );
    assert_eq!(rows.iter().filter(|l| user_of(l) == "u1").count(), 13);
    export(&cp, "after-us", &users, Some(IngestionMode::All), "del").await;
    let (_, rows) = exported(&endpoint, "del", "after-us").await;
    assert_eq!(rows.len(), 118);
    assert!(
        rows.iter()
            .all(|l| user_of(l) != "u0" && user_of(l) != "u6")
    );

    // The next version does not know them: they get what a user never seen gets.
    let v2 = cp
        .create_solution_version()
        .solution_arn(&solution)
        .send()
        .await
        .expect("CreateSolutionVersion")
        .solution_version_arn
        .expect("arn");
    wait_status(
        "v2",
        Duration::from_secs(120),
        || async {
            cp.describe_solution_version()
                .solution_version_arn(&v2)
                .send()
                .await
                .expect("DescribeSolutionVersion")
                .solution_version
                .and_then(|v| v.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    let fresh = create_campaign(
        &cp,
        "deletion-v2",
        &v2,
        aws_sdk_personalize::types::CampaignConfig::builder()
            .item_exploration_config("explorationWeight", "0")
            .build(),
    )
    .await;
    let stranger = recommend(&rt, &fresh, "never-seen", 10).await;
    assert_eq!(recommend(&rt, &fresh, "u0", 10).await, stranger);
    assert_eq!(recommend(&rt, &fresh, "u6", 10).await, stranger);
    let kept = recommend(&rt, &fresh, "u7", 10).await;
    assert!(in_cluster(&kept, 1) >= 8, "u7 is still known: {kept:?}");

    // Bad files fail the job with a reason; a second list of the same users deletes nothing.
    s3_put(&endpoint, "lists/items.csv", "ITEM_ID\ni1\n".into()).await;
    let bad = delete_users(&cp, &dg, "no-user-column", "items.csv").await;
    assert_eq!(bad.status.as_deref(), Some("FAILED"));
    assert!(
        bad.failure_reason
            .as_deref()
            .unwrap_or_default()
            .contains("USER_ID"),
        "{bad:?}"
    );
    assert_eq!(bad.num_deleted, None);
    let missing = delete_users(&cp, &dg, "missing-file", "nothing-here.csv").await;
    assert_eq!(missing.status.as_deref(), Some("FAILED"));
    assert!(missing.failure_reason.is_some());
    let again = delete_users(&cp, &dg, "delete-again", "delete.csv").await;
    assert_eq!(again.num_deleted, Some(0));

    let listed = cp
        .list_data_deletion_jobs()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListDataDeletionJobs");
    let names: Vec<_> = listed
        .data_deletion_jobs()
        .iter()
        .filter_map(|j| j.job_name.clone())
        .collect();
    assert_eq!(
        names,
        vec![
            "delete-again",
            "missing-file",
            "no-user-column",
            "delete-two"
        ]
    );
    let failed = &listed.data_deletion_jobs()[2];
    assert_eq!(failed.status.as_deref(), Some("FAILED"));
    assert!(failed.failure_reason.is_some());

    // Refused as AWS refuses them.
    let no_group = cp
        .create_data_deletion_job()
        .job_name("no-group")
        .dataset_group_arn(format!("{dg}-none"))
        .role_arn(ROLE_ARN)
        .data_source(
            DataSource::builder()
                .data_location("s3://lists/delete.csv")
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        code_of(no_group, "no such dataset group"),
        "ResourceNotFoundException"
    );
    let no_location = cp
        .create_data_deletion_job()
        .job_name("no-location")
        .dataset_group_arn(&dg)
        .role_arn(ROLE_ARN)
        .data_source(DataSource::builder().build())
        .send()
        .await;
    assert_eq!(
        code_of(no_location, "no dataLocation"),
        "InvalidInputException"
    );
    let taken = cp
        .create_data_deletion_job()
        .job_name("delete-two")
        .dataset_group_arn(&dg)
        .role_arn(ROLE_ARN)
        .data_source(
            DataSource::builder()
                .data_location("s3://lists/delete.csv")
                .build(),
        )
        .send()
        .await;
    assert_eq!(
        code_of(taken, "a name taken"),
        "ResourceAlreadyExistsException"
    );
    server.stop().await.expect("stops");
    drop(moto);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describes_the_algorithm_and_feature_transformation_of_every_recipe() {
    let dir = temp_dir("algorithms");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let mut recipes = Vec::new();
    let mut token = None;
    loop {
        let page = cp
            .list_recipes()
            .set_next_token(token)
            .send()
            .await
            .expect("ListRecipes");
        recipes.extend(page.recipes().iter().filter_map(|r| r.recipe_arn.clone()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert!(recipes.len() >= 8, "{recipes:?}");
    let mut defaults_of = BTreeMap::new();
    for recipe_arn in &recipes {
        let recipe = cp
            .describe_recipe()
            .recipe_arn(recipe_arn)
            .send()
            .await
            .expect("DescribeRecipe")
            .recipe
            .expect("recipe");
        let name = recipe.name.clone().expect("name");
        let algorithm_arn = recipe.algorithm_arn.expect("algorithmArn");
        let algorithm = cp
            .describe_algorithm()
            .algorithm_arn(&algorithm_arn)
            .send()
            .await
            .expect("DescribeAlgorithm")
            .algorithm
            .expect("algorithm");
        assert_eq!(algorithm.name.as_deref(), Some(name.as_str()));
        assert_eq!(
            algorithm.algorithm_arn.as_deref(),
            Some(algorithm_arn.as_str())
        );
        assert!(algorithm.algorithm_image.is_some());
        let ranges = algorithm
            .default_hyper_parameter_ranges
            .expect("defaultHyperParameterRanges");
        let mut names: BTreeSet<String> = BTreeSet::new();
        names.extend(
            ranges
                .integer_hyper_parameter_ranges()
                .iter()
                .filter_map(|r| r.name.clone()),
        );
        names.extend(
            ranges
                .continuous_hyper_parameter_ranges()
                .iter()
                .filter_map(|r| r.name.clone()),
        );
        names.extend(
            ranges
                .categorical_hyper_parameter_ranges()
                .iter()
                .filter_map(|r| r.name.clone()),
        );
        assert!(!names.is_empty(), "{name} has hyperparameters");
        let defaults = algorithm.default_hyper_parameters.unwrap_or_default();
        for key in defaults.keys() {
            assert!(names.contains(key), "{name}: default {key} has no range");
        }
        defaults_of.insert(recipe_arn.clone(), defaults);
        let ft_arn = recipe
            .feature_transformation_arn
            .expect("featureTransformationArn");
        let ft = cp
            .describe_feature_transformation()
            .feature_transformation_arn(&ft_arn)
            .send()
            .await
            .expect("DescribeFeatureTransformation")
            .feature_transformation
            .expect("feature transformation");
        assert_eq!(ft.name.as_deref(), Some(name.as_str()));
        assert_eq!(ft.status.as_deref(), Some("ACTIVE"));
        assert!(ft.default_parameters.unwrap_or_default().is_empty());
    }
    for (call, what) in [
        (
            cp.describe_algorithm()
                .algorithm_arn("arn:aws:personalize:::algorithm/aws-hrnn")
                .send()
                .await
                .map(|_| ()),
            "unknown algorithm",
        ),
        (
            cp.describe_algorithm()
                .algorithm_arn("arn:aws:personalize:::recipe/aws-sims")
                .send()
                .await
                .map(|_| ()),
            "a recipe ARN",
        ),
    ] {
        assert_eq!(code_of(call, what), "ResourceNotFoundException");
    }
    let unknown_ft = cp
        .describe_feature_transformation()
        .feature_transformation_arn("arn:aws:personalize:::feature-transformation/aws-hrnn")
        .send()
        .await;
    assert_eq!(
        code_of(unknown_ft, "unknown feature transformation"),
        "ResourceNotFoundException"
    );

    // The defaults are what the engine takes: every custom recipe trains with them given
    // (Next-Best-Action needs action data: `next_best_action.rs` trains it).
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "algorithms").await;
    for (n, (recipe_arn, defaults)) in defaults_of
        .iter()
        .filter(|(arn, _)| !arn.contains("-vod-") && !arn.contains("ecomm"))
        .filter(|(arn, _)| !arn.ends_with("aws-next-best-action"))
        .enumerate()
    {
        let solution = cp
            .create_solution()
            .name(format!("defaults-{n}"))
            .dataset_group_arn(&dg)
            .recipe_arn(recipe_arn)
            .perform_auto_training(false)
            .solution_config(
                SolutionConfig::builder()
                    .set_algorithm_hyper_parameters(Some(defaults.clone()))
                    .build(),
            )
            .send()
            .await
            .expect("CreateSolution")
            .solution_arn
            .expect("arn");
        let version = cp
            .create_solution_version()
            .solution_arn(&solution)
            .send()
            .await
            .expect("CreateSolutionVersion")
            .solution_version_arn
            .expect("arn");
        let status = wait_status(
            recipe_arn,
            Duration::from_secs(120),
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
        assert_eq!(status, "ACTIVE", "{recipe_arn} with {defaults:?}");
    }
    server.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_export_and_deletion_jobs_resume_after_restart() {
    use crate::restart::{spawn_server, spawn_server_with};

    let dir = temp_dir("data-jobs-restart");
    put_object(&dir, "lists", "gone.csv", "USER_ID\nu0\nu1\n");
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    let (dg, interactions, items) = seed_dataset_group(&cp, &dir, "restart").await;
    durable(&cp, &dg).await; // the imports finished before the kill
    child.kill();

    // Slow transitions: the jobs are still PENDING when the server is killed.
    let (mut child, url) = spawn_server_with(&dir, 10_000);
    let (cp, _, _) = clients(&url).await;
    let export_arn = cp
        .create_dataset_export_job()
        .job_name("restart-items")
        .dataset_arn(&items)
        .ingestion_mode(IngestionMode::Bulk)
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/restart/"))
        .send()
        .await
        .expect("CreateDatasetExportJob")
        .dataset_export_job_arn
        .expect("arn");
    let mut deletions = Vec::new();
    for n in 0..6 {
        let created = cp
            .create_data_deletion_job()
            .job_name(format!("restart-{n}"))
            .dataset_group_arn(&dg)
            .role_arn(ROLE_ARN)
            .data_source(
                DataSource::builder()
                    .data_location("s3://lists/gone.csv")
                    .build(),
            )
            .send()
            .await;
        if n < 5 {
            deletions.push(
                created
                    .expect("CreateDataDeletionJob")
                    .data_deletion_job_arn
                    .expect("arn"),
            );
        } else {
            // At most 5 PENDING per dataset group.
            assert_eq!(
                code_of(created, "a sixth PENDING job"),
                "LimitExceededException"
            );
        }
    }
    assert_eq!(
        job_status(&cp, Job::Deletion, &deletions[0]).await,
        "PENDING"
    );
    let busy = cp.delete_dataset().dataset_arn(&items).send().await;
    assert_eq!(
        code_of(busy, "a dataset being exported"),
        "ResourceInUseException"
    );
    child.kill();

    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    assert_eq!(wait_job(&cp, Job::Export, &export_arn).await.0, "ACTIVE");
    let written = std::fs::read_to_string(dir.join("s3/out/restart/restart-items/part-00000.csv"))
        .expect("the export file");
    assert_eq!(rows_of(&written), rows_of(&items_csv()));
    let mut deleted = 0;
    for arn in &deletions {
        assert_eq!(wait_job(&cp, Job::Deletion, arn).await.0, "COMPLETED");
        deleted += data_deletion_job(&cp, arn)
            .await
            .num_deleted
            .unwrap_or_default();
    }
    assert_eq!(deleted, 2, "u0 and u1 deleted once");
    let arn = cp
        .create_dataset_export_job()
        .job_name("restart-after")
        .dataset_arn(&interactions)
        .ingestion_mode(IngestionMode::All)
        .role_arn(ROLE_ARN)
        .job_output(output("s3://out/restart/"))
        .send()
        .await
        .expect("CreateDatasetExportJob")
        .dataset_export_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Export, &arn).await.0, "ACTIVE");
    let written = std::fs::read_to_string(dir.join("s3/out/restart/restart-after/part-00000.csv"))
        .expect("the export file");
    let rows = rows_of(&written);
    assert_eq!(rows.len(), 1440 - 24);
    assert!(
        rows.iter()
            .all(|l| !l.starts_with("u0,") && !l.starts_with("u1,"))
    );
    child.kill();

    // Another restart (the journal was compacted at the last start): the jobs are all there.
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    assert_eq!(job_status(&cp, Job::Export, &export_arn).await, "ACTIVE");
    let listed = cp
        .list_data_deletion_jobs()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListDataDeletionJobs");
    assert_eq!(listed.data_deletion_jobs().len(), 5);
    assert!(
        listed
            .data_deletion_jobs()
            .iter()
            .all(|j| j.status.as_deref() == Some("COMPLETED"))
    );
    let exports = cp
        .list_dataset_export_jobs()
        .send()
        .await
        .expect("ListDatasetExportJobs");
    assert_eq!(exports.dataset_export_jobs().len(), 2);
    child.kill();
    let _ = std::fs::remove_dir_all(dir);
}

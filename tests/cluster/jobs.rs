//! The job kinds end to end on the real apiserver, personalize-local and moto S3: a
//! BatchInferenceJob's output file is parsed and checked (one line per input line, in order,
//! scores non-increasing, the filter applied, an error line for a bad line), a scheduled one fires
//! on time and keeps its history limit, a BatchSegmentJob finds the users of an item's cluster, a
//! DataDeletionJob deletes users that a DatasetExportJob then no longer exports, and deleting the
//! objects leaves the jobs in Personalize (which cannot delete them).

use std::str::FromStr;

use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, PostParams};
use personalize_api::{
    BatchInferenceJob, BatchSegmentJob, DataDeletionJob, DatasetExportJob, JobRun, Solution,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::crds::repo;
use crate::harness::{Harness, ready, s3_get, s3_put, wait_for};

const BUCKET: &str = "personalize-demo";
const ROLE: &str = "arn:aws:iam::000000000000:role/PersonalizeBatch";

/// Creates an object of kind `K` from JSON in the harness's namespace.
async fn create<K>(h: &Harness, object: Value) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DeserializeOwned
        + serde::Serialize
        + Clone
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(h.kube.clone(), &h.ns);
    let obj: K = serde_json::from_value(object).expect("a valid object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("created");
    api
}

/// Waits until the object is Ready; its newest run.
async fn finished<K>(api: &Api<K>, name: &str, runs: fn(&K) -> Option<&Vec<JobRun>>) -> JobRun
where
    K: kube::Resource
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + personalize_operator::reconcile::HasStatus,
    K::Status: personalize_operator::reconcile::HasResource,
{
    use personalize_operator::reconcile::HasResource;
    wait_for(&format!("{name} to finish"), || async {
        let obj = api.get(name).await.ok()?;
        let done = ready(&obj, |o| o.status().map(|s| s.resource()));
        done.then(|| runs(&obj)?.first().cloned())?
    })
    .await
}

/// The object at `key` of the bucket; fails listing what is there when it is not.
async fn object(s3: &str, key: &str) -> String {
    if let Some(body) = s3_get(s3, BUCKET, key).await {
        return body;
    }
    let prefix = key.split('/').next().unwrap_or_default();
    let listing = crate::harness::http("GET", &format!("{s3}/{BUCKET}?prefix={prefix}"), "").await;
    panic!("no s3://{BUCKET}/{key}; the bucket under {prefix}/ holds: {listing:?}");
}

/// The key of an `s3://personalize-demo/<key>` location.
fn key_of(location: &str) -> &str {
    location
        .strip_prefix(&format!("s3://{BUCKET}/"))
        .expect("in the bucket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_scheduled_segment_deletion_and_export_jobs_run_against_s3() {
    let h = Harness::start_on_moto_s3("jobs").await;
    let moto = personalize_testkit::Moto::shared().await.expect("moto");
    let s3 = moto.endpoint();
    let ns = h.ns.clone();
    for file in [
        "00-dataset-group.yaml",
        "10-solution.yaml",
        "20-filter.yaml",
    ] {
        h.apply(&repo().join("examples/movielens").join(file));
    }
    let solution_ref = json!({"name": "movielens-user-personalization"});

    // Every minute, keeping one successful run: created first, it fires while the rest runs.
    let scheduled = create::<BatchInferenceJob>(
        &h,
        json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "BatchInferenceJob",
            "metadata": {"name": "minutely"},
            "spec": {
                "solutionRef": solution_ref,
                "inputPath": format!("s3://{BUCKET}/{ns}/minutely.jsonl"),
                "outputPath": format!("s3://{BUCKET}/{ns}/minutely/"),
                "roleArn": ROLE, "numResults": 3,
                "schedule": "* * * * *", "successfulRunsHistoryLimit": 1,
            }
        }),
    )
    .await;
    s3_put(
        s3,
        BUCKET,
        &format!("{ns}/minutely.jsonl"),
        "{\"userId\": \"7\"}\n",
    )
    .await;

    // 1. One run: five lines, one not JSON, one without the genre filter's value.
    let lines = [
        r#"{"userId": "1", "filterValues": {"GENRE": "\"Comedy\""}}"#,
        r#"not json"#,
        r#"{"userId": "2"}"#,
        r#"{"userId": "44", "filterValues": {"GENRE": "\"Action\""}}"#,
        r#"{"userId": "5", "filterValues": {"GENRE": "\"Drama\""}}"#,
    ];
    s3_put(
        s3,
        BUCKET,
        &format!("{ns}/users.jsonl"),
        &(lines.join("\n") + "\n"),
    )
    .await;
    let batch = create::<BatchInferenceJob>(
        &h,
        json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "BatchInferenceJob",
            "metadata": {"name": "top"},
            "spec": {
                "solutionRef": solution_ref, "filterRef": {"name": "genre"},
                "inputPath": format!("s3://{BUCKET}/{ns}/users.jsonl"),
                "outputPath": format!("s3://{BUCKET}/{ns}/top/"),
                "roleArn": ROLE, "numResults": 5,
            }
        }),
    )
    .await;
    let run = finished(&batch, "top", |j| j.status.as_ref().map(|s| &s.jobs.runs)).await;
    assert_eq!(run.status.as_deref(), Some("ACTIVE"), "{run:?}");
    let output = object(
        s3,
        &format!(
            "{}users.jsonl.out",
            key_of(run.output_path.as_deref().unwrap_or_default())
        ),
    )
    .await;
    let out: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(
        out.len(),
        lines.len(),
        "one output line per input line:\n{output}"
    );
    for bad in [&out[1], &out[2]] {
        assert!(bad["error"].is_string() && bad["output"].is_null(), "{bad}");
    }
    assert!(
        out[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("$GENRE")),
        "a line without the filter's value says so: {}",
        out[2]
    );
    let genre_of = |item: &Value| match item.as_str().and_then(|i| i.parse::<u32>().ok()) {
        Some(i) if i < 40 => "Drama",
        Some(i) if i < 80 => "Comedy",
        _ => "Action",
    };
    for (i, want_genre) in [(0, "Comedy"), (3, "Action"), (4, "Drama")] {
        let line = &out[i];
        assert!(line["error"].is_null(), "{line}");
        assert_eq!(
            line["input"]["userId"],
            serde_json::from_str::<Value>(lines[i]).expect("json")["userId"]
        );
        let items = line["output"]["recommendedItems"]
            .as_array()
            .expect("items");
        let scores: Vec<f64> = line["output"]["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .map(|s| s.as_f64().expect("a score"))
            .collect();
        assert_eq!(items.len(), 5, "numResults: {line}");
        assert_eq!(scores.len(), items.len());
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "scores non-increasing: {scores:?}"
        );
        assert!(
            items.iter().all(|i| genre_of(i) == want_genre),
            "filter {want_genre}: {line}"
        );
    }

    // 2. A segment job on an item-affinity solution: the users of item 45's cluster.
    let solutions: Api<Solution> = Api::namespaced(h.kube.clone(), &h.ns);
    let affinity: Solution = serde_json::from_value(json!({
        "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "Solution",
        "metadata": {"name": "affinity"},
        "spec": {"datasetGroupRef": {"name": "movielens"}, "recipe": "aws-item-affinity",
                 "training": {"autoTraining": {"enabled": false}}}
    }))
    .expect("solution");
    solutions
        .create(&PostParams::default(), &affinity)
        .await
        .expect("affinity");
    s3_put(
        s3,
        BUCKET,
        &format!("{ns}/items.jsonl"),
        "{\"itemId\": \"45\"}\n",
    )
    .await;
    let segments = create::<BatchSegmentJob>(
        &h,
        json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "BatchSegmentJob",
            "metadata": {"name": "audience"},
            "spec": {
                "solutionRef": {"name": "affinity"},
                "inputPath": format!("s3://{BUCKET}/{ns}/items.jsonl"),
                "outputPath": format!("s3://{BUCKET}/{ns}/audience/"),
                "roleArn": ROLE, "numResults": 10,
            }
        }),
    )
    .await;
    let run = finished(&segments, "audience", |j| {
        j.status.as_ref().map(|s| &s.jobs.runs)
    })
    .await;
    let output = object(
        s3,
        &format!(
            "{}items.jsonl.out",
            key_of(run.output_path.as_deref().unwrap_or_default())
        ),
    )
    .await;
    let line: Value = serde_json::from_str(output.lines().next().expect("a line")).expect("json");
    let users: Vec<u32> = line["output"]["recommendedUsers"]
        .as_array()
        .expect("recommendedUsers")
        .iter()
        .filter_map(|u| u.as_str()?.parse().ok())
        .collect();
    assert_eq!(users.len(), 10, "{line}");
    let in_cluster = users.iter().filter(|u| *u % 3 == 1).count();
    assert!(
        in_cluster >= 8,
        "item 45 is watched by users u % 3 == 1: {users:?}"
    );

    // 3. Delete users 1 and 2, then export the interactions: they are gone, the others stay.
    s3_put(s3, BUCKET, &format!("{ns}/delete.csv"), "USER_ID\n1\n2\n").await;
    let deletion = create::<DataDeletionJob>(
        &h,
        json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "DataDeletionJob",
            "metadata": {"name": "privacy"},
            "spec": {"datasetGroupRef": {"name": "movielens"},
                     "dataLocation": format!("s3://{BUCKET}/{ns}/delete.csv"), "roleArn": ROLE}
        }),
    )
    .await;
    let run = finished(&deletion, "privacy", |j| {
        j.status.as_ref().map(|s| &s.jobs.runs)
    })
    .await;
    assert_eq!(run.status.as_deref(), Some("COMPLETED"));
    assert_eq!(run.num_deleted, Some(2));
    let export = create::<DatasetExportJob>(
        &h,
        json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "DatasetExportJob",
            "metadata": {"name": "interactions"},
            "spec": {"datasetGroupRef": {"name": "movielens"}, "datasetType": "Interactions",
                     "ingestionMode": "Bulk", "outputPath": format!("s3://{BUCKET}/{ns}/export/"),
                     "roleArn": ROLE}
        }),
    )
    .await;
    let run = finished(&export, "interactions", |j| {
        j.status.as_ref().map(|s| &s.jobs.runs)
    })
    .await;
    let csv = object(s3, &format!("{ns}/export/{}/part-00000.csv", run.name)).await;
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().expect("a header").split(',').collect();
    let user_column = header
        .iter()
        .position(|c| *c == "USER_ID")
        .expect("USER_ID");
    let users: Vec<String> = rows
        .map(|r| r.split(',').nth(user_column).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        users.len(),
        58 * 25,
        "every interaction of the 58 users left"
    );
    assert!(
        !users.iter().any(|u| u == "1" || u == "2"),
        "deleted users are not exported"
    );

    // 4. The scheduled job ran at least twice, each occurrence on time, and status keeps one.
    let runs = wait_for("two scheduled runs", || async {
        let jobs = h.aws.list_batch_inference_jobs().send().await.ok()?;
        let ours: Vec<String> = jobs
            .batch_inference_jobs()
            .iter()
            .filter_map(|j| j.job_name.clone())
            .filter(|n| n.contains("minutely"))
            .collect();
        let status = scheduled.get("minutely").await.ok()?.status?;
        let finished = status.jobs.runs.first()?.status.as_deref() == Some("ACTIVE");
        (ours.len() >= 2 && finished).then_some((ours, status))
    })
    .await;
    let (names, status) = runs;
    assert_eq!(
        status.jobs.runs.len(),
        1,
        "successfulRunsHistoryLimit 1: {:?}",
        status.jobs.runs
    );
    let newest = &status.jobs.runs[0];
    let at = |t: &Option<String>| Timestamp::from_str(t.as_deref().expect("a time")).expect("time");
    let (scheduled_at, started) = (at(&newest.scheduled_time), at(&newest.start_time));
    assert_eq!(scheduled_at.as_second() % 60, 0, "a minute boundary");
    let late = started.duration_since(scheduled_at).as_secs_f64();
    assert!(
        (0.0..15.0).contains(&late),
        "started {late} s after its occurrence"
    );
    assert!(
        newest
            .output_path
            .as_deref()
            .is_some_and(|p| p.ends_with(&format!("/{}/", newest.name)))
    );
    println!("scheduled runs: {names:?}; the newest started {late:.1} s after {scheduled_at}");

    // 5. Deleting the objects leaves the jobs: Personalize cannot delete them.
    let before = h
        .aws
        .list_batch_inference_jobs()
        .send()
        .await
        .expect("list")
        .batch_inference_jobs()
        .len();
    let dp = DeleteParams::default();
    batch.delete("top", &dp).await.expect("delete");
    scheduled.delete("minutely", &dp).await.expect("delete");
    wait_for("the job objects to go", || async {
        let left = batch.list(&Default::default()).await.ok()?;
        left.items.is_empty().then_some(())
    })
    .await;
    let after = h
        .aws
        .list_batch_inference_jobs()
        .send()
        .await
        .expect("list")
        .batch_inference_jobs()
        .len();
    assert!(
        after >= before,
        "jobs stay in Personalize ({before} -> {after})"
    );
    h.stop().await;
}

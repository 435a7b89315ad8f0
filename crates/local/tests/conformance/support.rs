//! Conformance helpers: temp dirs, SDK clients, waits, recommendations and clicks; seed data and
//! the dataset group / training steps come from `personalize_testkit::personalize`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::error::ProvideErrorMetadata;
use aws_sdk_personalizeevents::Client as Events;
use aws_sdk_personalizeruntime::Client as Runtime;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use personalize_testkit::personalize::{self as deploy, Data};
pub use personalize_testkit::personalize::{
    CLUSTERS, INTERACTIONS_SCHEMA, ITEMS, ITEMS_SCHEMA, cluster_of, interactions_csv, items_csv,
    sdk_config,
};

/// The AWS error code of a call that must be refused (`why` names the case).
pub fn code_of<T: std::fmt::Debug, E: ProvideErrorMetadata>(
    result: Result<T, E>,
    why: &str,
) -> String {
    let err = result.expect_err(why);
    err.code().unwrap_or_default().to_owned()
}

/// CreateFilter; the new filter's ARN.
pub async fn create_filter(
    cp: &ControlPlane,
    dg: &str,
    name: &str,
    expression: impl Into<String>,
) -> String {
    cp.create_filter()
        .name(name)
        .dataset_group_arn(dg)
        .filter_expression(expression)
        .send()
        .await
        .expect("CreateFilter")
        .filter_arn
        .expect("filterArn")
}

/// A moto server (S3, CloudWatch) from the project venv on a free loopback port; killed when
/// dropped.
pub struct MotoServer {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a [`MotoServer`] and waits (at most 30 s) until it listens.
pub async fn start_moto() -> MotoServer {
    let python = tokio::task::spawn_blocking(crate::boto3::venv_python)
        .await
        .expect("venv");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let child = std::process::Command::new(python.with_file_name("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = MotoServer {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    moto
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// An `authorization` header moto takes for `service` (it checks no signatures, but answers an
/// anonymous S3 GetObject 403).
pub fn moto_authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=0"
    )
}

/// One plain HTTP call to moto (which checks no signatures): status and body.
pub async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: String,
) -> (u16, String) {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from(body))).expect("request");
    let response = client.request(request).await.expect("moto answers");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// CreateCampaign with `config`, waiting for ACTIVE; the campaign's ARN.
pub async fn create_campaign(
    cp: &ControlPlane,
    name: &str,
    version: &str,
    config: aws_sdk_personalize::types::CampaignConfig,
) -> String {
    let arn = cp
        .create_campaign()
        .name(name)
        .solution_version_arn(version)
        .campaign_config(config)
        .send()
        .await
        .expect("CreateCampaign")
        .campaign_arn
        .expect("arn");
    wait_status(
        name,
        Duration::from_secs(60),
        || async {
            cp.describe_campaign()
                .campaign_arn(&arn)
                .send()
                .await
                .ok()
                .and_then(|d| d.campaign)
                .and_then(|c| c.status)
                .unwrap_or_default()
        },
        &["ACTIVE"],
    )
    .await;
    arn
}

/// A fresh, empty directory under the system temp dir (kept after the test).
pub fn temp_dir(name: &str) -> PathBuf {
    personalize_testkit::temp_dir(&format!("local-{name}")).expect("create temp dir")
}

/// Writes `content` to `<data_dir>/s3/<bucket>/<key>`.
pub fn put_object(data_dir: &Path, bucket: &str, key: &str, content: &str) {
    deploy::put_object(data_dir, bucket, key, content).expect("write object");
}

/// The three clients.
pub async fn clients(url: &str) -> (ControlPlane, Events, Runtime) {
    let config = sdk_config(url).await;
    (
        ControlPlane::new(&config),
        Events::new(&config),
        Runtime::new(&config),
    )
}

/// Polls `status` until it returns one of `done`, failing after `timeout`.
pub async fn wait_status<F, Fut>(
    what: &str,
    timeout: Duration,
    mut status: F,
    done: &[&str],
) -> String
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let s = status().await;
        if done.contains(&s.as_str()) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: still {s} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A kind of asynchronous job, for [`describe_job`] and [`wait_job`].
#[derive(Clone, Copy, Debug)]
pub enum Job {
    Import,
    Export,
    Deletion,
    BatchInference,
    BatchSegment,
}

impl Job {
    /// The statuses a job of this kind ends in.
    fn finished(self) -> &'static [&'static str] {
        match self {
            Job::Deletion => &["COMPLETED", "FAILED"],
            _ => &["ACTIVE", "CREATE FAILED"],
        }
    }
}

/// The status of job `arn` of kind `kind`, and its failure reason.
pub async fn describe_job(cp: &ControlPlane, kind: Job, arn: &str) -> (String, Option<String>) {
    let (status, reason) = match kind {
        Job::Import => {
            let job = cp
                .describe_dataset_import_job()
                .dataset_import_job_arn(arn)
                .send()
                .await
                .expect("DescribeDatasetImportJob")
                .dataset_import_job
                .expect("job");
            (job.status, job.failure_reason)
        }
        Job::Export => {
            let job = cp
                .describe_dataset_export_job()
                .dataset_export_job_arn(arn)
                .send()
                .await
                .expect("DescribeDatasetExportJob")
                .dataset_export_job
                .expect("job");
            (job.status, job.failure_reason)
        }
        Job::Deletion => {
            let job = data_deletion_job(cp, arn).await;
            (job.status, job.failure_reason)
        }
        Job::BatchInference => {
            let job = cp
                .describe_batch_inference_job()
                .batch_inference_job_arn(arn)
                .send()
                .await
                .expect("DescribeBatchInferenceJob")
                .batch_inference_job
                .expect("job");
            (job.status, job.failure_reason)
        }
        Job::BatchSegment => {
            let job = cp
                .describe_batch_segment_job()
                .batch_segment_job_arn(arn)
                .send()
                .await
                .expect("DescribeBatchSegmentJob")
                .batch_segment_job
                .expect("job");
            (job.status, job.failure_reason)
        }
    };
    (status.unwrap_or_default(), reason)
}

/// DescribeDataDeletionJob's job.
pub async fn data_deletion_job(
    cp: &ControlPlane,
    arn: &str,
) -> aws_sdk_personalize::types::DataDeletionJob {
    cp.describe_data_deletion_job()
        .data_deletion_job_arn(arn)
        .send()
        .await
        .expect("DescribeDataDeletionJob")
        .data_deletion_job
        .expect("job")
}

/// The status of job `arn` of kind `kind`.
pub async fn job_status(cp: &ControlPlane, kind: Job, arn: &str) -> String {
    describe_job(cp, kind, arn).await.0
}

/// Waits (at most 60 s) for job `arn` of kind `kind` to finish (ACTIVE or CREATE FAILED;
/// COMPLETED or FAILED for data deletion jobs); its status and failure reason.
pub async fn wait_job(cp: &ControlPlane, kind: Job, arn: &str) -> (String, Option<String>) {
    wait_status(
        arn,
        Duration::from_secs(60),
        || job_status(cp, kind, arn),
        kind.finished(),
    )
    .await;
    describe_job(cp, kind, arn).await
}

/// A dataset group with interactions (+ items) imported and ACTIVE; returns
/// (dataset group, interactions dataset, items dataset).
pub async fn seed_dataset_group(
    cp: &ControlPlane,
    data_dir: &Path,
    name: &str,
) -> (String, String, String) {
    let (interactions, items) = (interactions_csv(), items_csv());
    let data = Data {
        interactions_csv: &interactions,
        items: Some((ITEMS_SCHEMA, &items)),
    };
    let group = deploy::seed_dataset_group(cp, data_dir, name, data)
        .await
        .expect("dataset group with imported interactions and items");
    let items = group.items.expect("items dataset");
    (group.arn, group.interactions, items)
}

/// Trains a solution version of `recipe` and waits for ACTIVE; returns (solution, version).
pub async fn train(cp: &ControlPlane, dg: &str, name: &str, recipe: &str) -> (String, String) {
    let trained = deploy::train(cp, dg, name, recipe)
        .await
        .unwrap_or_else(|e| panic!("training {name}: {e}"));
    (trained.solution, trained.version)
}

/// Item ids of a GetRecommendations answer.
pub async fn recommend(rt: &Runtime, campaign: &str, user: &str, n: i32) -> Vec<String> {
    rt.get_recommendations()
        .campaign_arn(campaign)
        .user_id(user)
        .num_results(n)
        .send()
        .await
        .expect("GetRecommendations")
        .item_list()
        .iter()
        .filter_map(|i| i.item_id().map(str::to_string))
        .collect()
}

/// Puts `items` as click events of `user`, 10 per call.
pub async fn put_clicks(events: &Events, tracking_id: &str, user: &str, items: &[String]) {
    for (n, chunk) in items.chunks(10).enumerate() {
        let list = chunk
            .iter()
            .enumerate()
            .map(|(k, item)| {
                aws_sdk_personalizeevents::types::Event::builder()
                    .event_type("click")
                    .item_id(item)
                    .sent_at(aws_sdk_personalizeevents::primitives::DateTime::from_secs(
                        1_800_000_000 + (n * 10 + k) as i64,
                    ))
                    .build()
                    .expect("event")
            })
            .collect::<Vec<_>>();
        events
            .put_events()
            .tracking_id(tracking_id)
            .user_id(user)
            .session_id(format!("session-{user}"))
            .set_event_list(Some(list))
            .send()
            .await
            .expect("PutEvents");
    }
}

/// DescribeSolution's solution.
pub async fn describe_solution(
    cp: &ControlPlane,
    arn: &str,
) -> aws_sdk_personalize::types::Solution {
    cp.describe_solution()
        .solution_arn(arn)
        .send()
        .await
        .expect("DescribeSolution")
        .solution
        .expect("solution")
}

/// Returns once everything the server did so far is on disk (before a SIGKILL that must lose
/// nothing): a mutating request is answered only after every journal line before it is durable,
/// and an UntagResource of a key the resource does not have changes nothing else.
pub async fn durable(cp: &ControlPlane, arn: &str) {
    cp.untag_resource()
        .resource_arn(arn)
        .tag_keys("sync-point")
        .send()
        .await
        .expect("UntagResource");
}

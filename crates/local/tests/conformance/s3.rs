//! Import through an S3 endpoint: moto's S3 (from the project venv) serves the CSV files; a
//! single object and a prefix of several objects both import.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use personalize_local::{Config, Running};

use crate::boto3::venv_python;
use crate::support::*;

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn put(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    url: String,
    body: String,
) {
    let request = hyper::Request::put(url.clone())
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = client.request(request).await.expect("PUT to moto");
    let status = response.status();
    let _ = response.into_body().collect().await;
    assert!(status.is_success(), "PUT {url}: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_from_moto_s3() {
    let python = tokio::task::spawn_blocking(venv_python)
        .await
        .expect("venv");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let moto = Moto(
        Command::new(python.with_file_name("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server"),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    put(&client, format!("{endpoint}/data"), String::new()).await;
    let csv = interactions_csv();
    put(
        &client,
        format!("{endpoint}/data/one/interactions.csv"),
        csv.clone(),
    )
    .await;
    let mut lines = csv.lines();
    let header = lines.next().expect("header").to_string();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    put(
        &client,
        format!("{endpoint}/data/parts/a.csv"),
        format!("{header}\n{}\n", a.join("\n")),
    )
    .await;
    put(
        &client,
        format!("{endpoint}/data/parts/b.csv"),
        format!("{header}\n{}\n", b.join("\n")),
    )
    .await;

    let server = Running::start(Config {
        s3_endpoint: Some(endpoint),
        ..Config::for_tests(None)
    })
    .await
    .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("s3")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let schema = cp
        .create_schema()
        .name("s3")
        .schema(INTERACTIONS_SCHEMA)
        .send()
        .await
        .expect("schema")
        .schema_arn
        .expect("arn");
    let dataset = cp
        .create_dataset()
        .name("s3")
        .dataset_group_arn(&dg)
        .dataset_type("INTERACTIONS")
        .schema_arn(&schema)
        .send()
        .await
        .expect("dataset")
        .dataset_arn
        .expect("arn");
    for (job, location) in [
        ("s3-one", "s3://data/one/interactions.csv"),
        ("s3-prefix", "s3://data/parts/"),
        ("s3-missing", "s3://data/nothing-here/"),
    ] {
        let arn = cp
            .create_dataset_import_job()
            .job_name(job)
            .dataset_arn(&dataset)
            .data_source(
                aws_sdk_personalize::types::DataSource::builder()
                    .data_location(location)
                    .build(),
            )
            .send()
            .await
            .expect("import")
            .dataset_import_job_arn
            .expect("arn");
        let status = wait_status(
            job,
            Duration::from_secs(30),
            || import_status(&cp, &arn),
            &["ACTIVE", "CREATE FAILED"],
        )
        .await;
        let expected = if job == "s3-missing" {
            "CREATE FAILED"
        } else {
            "ACTIVE"
        };
        let reason = cp
            .describe_dataset_import_job()
            .dataset_import_job_arn(&arn)
            .send()
            .await
            .expect("describe")
            .dataset_import_job
            .and_then(|j| j.failure_reason)
            .unwrap_or_default();
        assert_eq!(status, expected, "{job}: {reason}");
    }
    // The prefix import (FULL) replaced the data with the same rows, in two files.
    let (_, version) = train(
        &cp,
        &dg,
        "s3-pop",
        "arn:aws:personalize:::recipe/aws-popularity-count",
    )
    .await;
    assert!(!version.is_empty());
    server.stop().await.expect("stops");
    drop(moto);
}

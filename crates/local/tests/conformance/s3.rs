//! Import through an S3 endpoint: moto's S3 (from the project venv) serves the CSV files; a
//! single object and a prefix of several objects both import.

use personalize_local::{Config, Running};

use crate::support::*;

async fn put(url: String, body: String) {
    let (status, text) = http("PUT", &url, &[], body).await;
    assert!((200..300).contains(&status), "PUT {url}: {status} {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_from_moto_s3() {
    let moto = start_moto().await;
    let endpoint = moto.endpoint.clone();
    put(format!("{endpoint}/data"), String::new()).await;
    let csv = interactions_csv();
    put(format!("{endpoint}/data/one/interactions.csv"), csv.clone()).await;
    let mut lines = csv.lines();
    let header = lines.next().expect("header").to_string();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    put(
        format!("{endpoint}/data/parts/a.csv"),
        format!("{header}\n{}\n", a.join("\n")),
    )
    .await;
    put(
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
        let status = wait_job(&cp, Job::Import, &arn).await.0;
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

//! Metric attributions through the real SDK clients: the six operations, paging and the errors
//! AWS documents; a known click stream whose SAMPLECOUNT() and SUM(Items.PRICE) figures are
//! computed by hand here and read back from moto's CloudWatch; the report of a bulk import with
//! `publishAttributionMetricsToS3`, read back from moto's S3.

use std::time::Duration;

use aws_sdk_personalize::types::{MetricAttribute, MetricAttributionOutput, S3DataConfig, Tag};
use aws_sdk_personalizeevents::primitives::DateTime;
use aws_sdk_personalizeevents::types::{Event, MetricAttribution as EventSource};
use personalize_local::config::DEFAULT_CLOUDWATCH_NAMESPACE;
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{self as deploy, Data};

use crate::support::*;

const ROLE: &str = "arn:aws:iam::000000000000:role/personalize";
const UNDEFINED: &str = "SOURCE_NAME_UNDEFINED";

/// The synthetic items with a PRICE column for `SUM(Items.PRICE)`.
const ITEMS_WITH_PRICE_SCHEMA: &str = r#"{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ITEM_ID","type":"string"},{"name":"GENRES","type":"string","categorical":true},{"name":"PRICE","type":"double"}],"version":"1.0"}"#;

/// Item `i<n>` costs 1.00 + 1.25 * (n mod 8): i1 2.25, i2 3.50, i3 4.75, i5 7.25, i7 9.75,
/// i10 3.50, i20 6.00 (all exact in binary, so the sums below are exact).
fn price(item: usize) -> f64 {
    1.0 + (item % 8) as f64 * 1.25
}

fn items_with_price_csv() -> String {
    let mut csv = String::from("ITEM_ID,GENRES,PRICE\n");
    for item in 0..ITEMS {
        csv.push_str(&format!(
            "i{item},genre{},{}\n",
            cluster_of(item),
            price(item)
        ));
    }
    csv
}

fn metric(event_type: &str, name: &str, expression: &str) -> MetricAttribute {
    MetricAttribute::builder()
        .event_type(event_type)
        .metric_name(name)
        .expression(expression)
        .build()
        .expect("metric")
}

fn output(path: Option<&str>) -> MetricAttributionOutput {
    MetricAttributionOutput::builder()
        .role_arn(ROLE)
        .set_s3_data_destination(path.map(|p| S3DataConfig::builder().path(p).build().expect("s3")))
        .build()
        .expect("output")
}

/// UpdateMetricAttribution of `ma`, to be completed.
fn update(
    cp: &aws_sdk_personalize::Client,
    ma: &str,
) -> aws_sdk_personalize::operation::update_metric_attribution::builders::UpdateMetricAttributionFluentBuilder
{
    cp.update_metric_attribution().metric_attribution_arn(ma)
}

/// DescribeMetricAttribution of `ma`, which must exist.
async fn describe(
    cp: &aws_sdk_personalize::Client,
    ma: &str,
) -> aws_sdk_personalize::types::MetricAttribution {
    cp.describe_metric_attribution()
        .metric_attribution_arn(ma)
        .send()
        .await
        .expect("DescribeMetricAttribution")
        .metric_attribution
        .expect("metricAttribution")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// CloudWatch GetMetricStatistics (AWS JSON 1.0) on moto: the Sum of `metric` for
/// EventAttributionSource `source` over the last day.
async fn cloudwatch_sum(endpoint: &str, metric: &str, source: &str) -> f64 {
    let now = unix_now();
    let body = serde_json::json!({
        "Namespace": DEFAULT_CLOUDWATCH_NAMESPACE,
        "MetricName": metric,
        "Dimensions": [{"Name": "EventAttributionSource", "Value": source}],
        "StartTime": now - 86_400,
        "EndTime": now + 3_600,
        "Period": 86_400,
        "Statistics": ["Sum"],
    });
    let (status, text) = http(
        "POST",
        &format!("{endpoint}/"),
        &[
            ("content-type", "application/x-amz-json-1.0"),
            (
                "x-amz-target",
                "GraniteServiceVersion20100801.GetMetricStatistics",
            ),
            ("authorization", &moto_authorization("monitoring")),
        ],
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "GetMetricStatistics: {text}");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON answer");
    answer["Datapoints"]
        .as_array()
        .map(|points| points.iter().filter_map(|p| p["Sum"].as_f64()).sum())
        .unwrap_or(0.0)
}

/// Polls CloudWatch until every `(metric, source, value)` reads back, failing after 30 s.
async fn wait_for_cloudwatch(endpoint: &str, expected: &[(&str, &str, f64)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut got = Vec::new();
        for (metric, source, _) in expected {
            got.push(cloudwatch_sum(endpoint, metric, source).await);
        }
        let want: Vec<f64> = expected.iter().map(|e| e.2).collect();
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "CloudWatch has {got:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn click(item: &str, sent_at: i64) -> aws_sdk_personalizeevents::types::builders::EventBuilder {
    Event::builder()
        .event_type("click")
        .item_id(item)
        .sent_at(DateTime::from_secs(sent_at))
}

fn source(name: &str) -> EventSource {
    EventSource::builder()
        .event_attribution_source(name)
        .build()
        .expect("source")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_attribution_operations_and_errors() {
    let dir = temp_dir("ma-ops");
    let server = Running::start(Config {
        // A closed port: this test publishes nothing (no events).
        cloudwatch_endpoint: Some("http://127.0.0.1:9".into()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let (interactions, items) = (interactions_csv(), items_with_price_csv());
    let data = Data {
        interactions_csv: &interactions,
        items: Some((ITEMS_WITH_PRICE_SCHEMA, &items)),
    };
    let dg = deploy::seed_dataset_group(&cp, &dir, "ma-ops", data)
        .await
        .expect("dataset group")
        .arn;

    let ma = cp
        .create_metric_attribution()
        .name("ma-ops")
        .dataset_group_arn(&dg)
        .metrics(metric("click", "CLICKS", "SAMPLECOUNT()"))
        .metrics(metric("click", "REVENUE", "SUM(Items.PRICE)"))
        .metrics_output_config(output(Some("s3://reports/ma-ops/")))
        .send()
        .await
        .expect("CreateMetricAttribution")
        .metric_attribution_arn
        .expect("arn");
    assert!(ma.ends_with(":metric-attribution/ma-ops"), "{ma}");
    let described = describe(&cp, &ma).await;
    assert_eq!(described.status(), Some("ACTIVE"));
    assert_eq!(described.name(), Some("ma-ops"));
    assert_eq!(described.dataset_group_arn(), Some(dg.as_str()));
    let config = described.metrics_output_config().expect("output config");
    assert_eq!(config.role_arn(), ROLE);
    assert_eq!(
        config.s3_data_destination().map(|d| d.path()),
        Some("s3://reports/ma-ops/")
    );
    assert!(described.creation_date_time().is_some());

    let listed = cp
        .list_metric_attributions()
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("ListMetricAttributions");
    let arns: Vec<&str> = listed
        .metric_attributions()
        .iter()
        .filter_map(|m| m.metric_attribution_arn())
        .collect();
    assert_eq!(arns, [ma.as_str()]);
    let names = |metrics: &[MetricAttribute]| -> Vec<String> {
        metrics
            .iter()
            .map(|m| m.metric_name().to_string())
            .collect()
    };
    let first = cp
        .list_metric_attribution_metrics()
        .metric_attribution_arn(&ma)
        .max_results(1)
        .send()
        .await
        .expect("ListMetricAttributionMetrics");
    assert_eq!(names(first.metrics()), ["CLICKS"]);
    assert_eq!(first.metrics()[0].expression(), "SAMPLECOUNT()");
    assert_eq!(first.metrics()[0].event_type(), "click");
    let second = cp
        .list_metric_attribution_metrics()
        .metric_attribution_arn(&ma)
        .max_results(1)
        .set_next_token(first.next_token().map(str::to_string))
        .send()
        .await
        .expect("second page");
    assert_eq!(names(second.metrics()), ["REVENUE"]);
    assert!(second.next_token().is_none());

    // One metric attribution per dataset group.
    let again = cp
        .create_metric_attribution()
        .name("ma-ops-2")
        .dataset_group_arn(&dg)
        .metrics(metric("click", "X", "SAMPLECOUNT()"))
        .metrics_output_config(output(None))
        .send()
        .await;
    assert_eq!(code_of(again, "second"), "ResourceAlreadyExistsException");
    let missing = cp
        .create_metric_attribution()
        .name("ma-ops-3")
        .dataset_group_arn("arn:aws:personalize:us-east-1:000000000000:dataset-group/nope")
        .metrics(metric("click", "X", "SAMPLECOUNT()"))
        .metrics_output_config(output(None))
        .send()
        .await;
    assert_eq!(code_of(missing, "no group"), "ResourceNotFoundException");

    // Metrics an update may not add: each refused with the documented error.
    let add = |m: MetricAttribute| update(&cp, &ma).add_metrics(m).send();
    for (m, code) in [
        (
            metric("click", "CLICKS", "SAMPLECOUNT()"),
            "ResourceAlreadyExistsException",
        ),
        (
            metric("click", "NOPE", "SUM(Items.NO_SUCH_COLUMN)"),
            "InvalidInputException",
        ),
        (
            metric("click", "GENRE", "SUM(Items.GENRES)"),
            "InvalidInputException",
        ),
        (
            metric("click", "AVG", "AVG(Items.PRICE)"),
            "InvalidInputException",
        ),
        (
            metric("click", "TS", "SUM(Interactions.TIMESTAMP)"),
            "InvalidInputException",
        ),
        (
            metric("click", "BARE", "SUM(PRICE)"),
            "InvalidInputException",
        ),
    ] {
        let why = m.metric_name().to_string();
        assert_eq!(code_of(add(m).await, &why), code, "{why}");
    }
    let unknown = update(&cp, &ma).remove_metrics("NOT_THERE").send().await;
    assert_eq!(code_of(unknown, "remove unknown"), "InvalidInputException");
    let too_many = update(&cp, &ma)
        .set_add_metrics(Some(
            (0..9)
                .map(|n| metric("click", &format!("M{n}"), "SAMPLECOUNT()"))
                .collect(),
        ))
        .send()
        .await;
    assert_eq!(code_of(too_many, "11 metrics"), "InvalidInputException");

    // Updates that are allowed.
    update(&cp, &ma)
        .add_metrics(metric("watch", "WATCHES", "samplecount()"))
        .metrics_output_config(output(None))
        .send()
        .await
        .expect("UpdateMetricAttribution");
    let all = cp
        .list_metric_attribution_metrics()
        .metric_attribution_arn(&ma)
        .send()
        .await
        .expect("list");
    assert_eq!(names(all.metrics()), ["CLICKS", "REVENUE", "WATCHES"]);
    assert!(
        describe(&cp, &ma)
            .await
            .metrics_output_config()
            .is_some_and(|c| c.s3_data_destination().is_none())
    );
    update(&cp, &ma)
        .remove_metrics("WATCHES")
        .send()
        .await
        .expect("remove");

    // Tags, as on every resource.
    cp.tag_resource()
        .resource_arn(&ma)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("growth")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let tags = cp
        .list_tags_for_resource()
        .resource_arn(&ma)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(tags.tags().len(), 1);

    // A bare dataset group: SAMPLECOUNT() needs no dataset, SUM(Items.X) needs the Items one;
    // the group cannot be deleted while its metric attribution stands.
    let bare = cp
        .create_dataset_group()
        .name("ma-ops-bare")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let no_items = cp
        .create_metric_attribution()
        .name("ma-bare-sum")
        .dataset_group_arn(&bare)
        .metrics(metric("click", "REVENUE", "SUM(Items.PRICE)"))
        .metrics_output_config(output(None))
        .send()
        .await;
    assert_eq!(
        code_of(no_items, "no items dataset"),
        "InvalidInputException"
    );
    let eleven = cp
        .create_metric_attribution()
        .name("ma-bare-11")
        .dataset_group_arn(&bare)
        .set_metrics(Some(
            (0..11)
                .map(|n| metric("click", &format!("M{n}"), "SAMPLECOUNT()"))
                .collect(),
        ))
        .metrics_output_config(output(None))
        .send()
        .await;
    assert_eq!(code_of(eleven, "11 metrics"), "InvalidInputException");
    let bare_ma = cp
        .create_metric_attribution()
        .name("ma-bare")
        .dataset_group_arn(&bare)
        .metrics(metric("click", "CLICKS", "SAMPLECOUNT()"))
        .metrics_output_config(output(None))
        .send()
        .await
        .expect("create on a bare group")
        .metric_attribution_arn
        .expect("arn");
    let in_use = cp
        .delete_dataset_group()
        .dataset_group_arn(&bare)
        .send()
        .await;
    assert_eq!(code_of(in_use, "group in use"), "ResourceInUseException");
    cp.delete_metric_attribution()
        .metric_attribution_arn(&bare_ma)
        .send()
        .await
        .expect("DeleteMetricAttribution");
    cp.delete_dataset_group()
        .dataset_group_arn(&bare)
        .send()
        .await
        .expect("the group goes once its metric attribution has");

    cp.delete_metric_attribution()
        .metric_attribution_arn(&ma)
        .send()
        .await
        .expect("delete");
    let gone = cp
        .describe_metric_attribution()
        .metric_attribution_arn(&ma)
        .send()
        .await;
    assert_eq!(code_of(gone, "deleted"), "ResourceNotFoundException");
    server.stop().await.expect("stops");

    // Without CloudWatch, AWS's reports would go nowhere: refused, not ignored.
    let server = Running::start(Config::for_tests(None))
        .await
        .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("ma-no-cw")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let err = cp
        .create_metric_attribution()
        .name("ma-no-cw")
        .dataset_group_arn(&dg)
        .metrics(metric("click", "CLICKS", "SAMPLECOUNT()"))
        .metrics_output_config(output(None))
        .send()
        .await
        .expect_err("no CloudWatch endpoint");
    assert_eq!(
        aws_sdk_personalize::error::ProvideErrorMetadata::code(&err),
        Some("InvalidInputException")
    );
    assert!(
        aws_sdk_personalize::error::ProvideErrorMetadata::message(&err)
            .is_some_and(|m| m.contains("CloudWatch")),
        "{err:?}"
    );
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

/// The known click stream (all clicks by user u1, a minute ago):
///
/// | item | price | eventAttributionSource | recommendationId | attributed to |
/// |------|-------|------------------------|------------------|---------------|
/// | i1   | 2.25  | A                      |                  | A             |
/// | i2   | 3.50  | A                      |                  | A             |
/// | i3   | 4.75  | A                      | campaign C's     | A (explicit source wins) |
/// | i10  | 3.50  |                        | campaign C's     | C             |
/// | i20  | 6.00  |                        | campaign C's     | C             |
/// | i5   | 7.25  |                        |                  | SOURCE_NAME_UNDEFINED |
/// | i7   | 9.75  |                        |                  | SOURCE_NAME_UNDEFINED |
///
/// plus one `purchase` of i1 with source A. By hand: CLICKS (SAMPLECOUNT() of click) is A 3,
/// C 2, undefined 2 (7 in all); CLICK_REVENUE (SUM(Items.PRICE) of click) is A 2.25 + 3.50 +
/// 4.75 = 10.50, C 3.50 + 6.00 = 9.50, undefined 7.25 + 9.75 = 17.00; PURCHASES (SAMPLECOUNT()
/// of purchase) is A 1 and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_click_stream_reaches_cloudwatch() {
    let moto = start_moto().await;
    let dir = temp_dir("ma-clicks");
    let server = Running::start(Config {
        cloudwatch_endpoint: Some(moto.endpoint.clone()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    let (cp, events, rt) = clients(&server.url()).await;
    let (interactions, items) = (interactions_csv(), items_with_price_csv());
    let data = Data {
        interactions_csv: &interactions,
        items: Some((ITEMS_WITH_PRICE_SCHEMA, &items)),
    };
    let deployed = deploy::deploy(&server.url(), &dir, "ma-clicks", data)
        .await
        .expect("deployed");
    let campaign = deployed.campaign.clone();
    cp.create_metric_attribution()
        .name("ma-clicks")
        .dataset_group_arn(&deployed.dataset_group.arn)
        .metrics(metric("click", "CLICKS", "SAMPLECOUNT()"))
        .metrics(metric("click", "CLICK_REVENUE", "SUM(Items.PRICE)"))
        .metrics(metric("purchase", "PURCHASES", "SAMPLECOUNT()"))
        .metrics_output_config(output(None))
        .send()
        .await
        .expect("CreateMetricAttribution");
    let rid = rt
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("u1")
        .num_results(5)
        .send()
        .await
        .expect("GetRecommendations")
        .recommendation_id
        .expect("recommendationId");
    assert!(rid.starts_with("RID-") && rid.len() <= 40, "{rid}");

    let at = unix_now() - 60;
    let stream = vec![
        click("i1", at).metric_attribution(source("A")),
        click("i2", at).metric_attribution(source("A")),
        click("i3", at)
            .metric_attribution(source("A"))
            .recommendation_id(&rid),
        click("i10", at).recommendation_id(&rid),
        click("i20", at)
            .recommendation_id(&rid)
            .impression("i20")
            .impression("i21"),
        click("i5", at),
        click("i7", at),
        Event::builder()
            .event_type("purchase")
            .item_id("i1")
            .sent_at(DateTime::from_secs(at))
            .metric_attribution(source("A")),
    ];
    events
        .put_events()
        .tracking_id(&deployed.tracking_id)
        .user_id("u1")
        .session_id("ma-session")
        .set_event_list(Some(
            stream
                .into_iter()
                .map(|e| e.build().expect("event"))
                .collect(),
        ))
        .send()
        .await
        .expect("PutEvents");

    wait_for_cloudwatch(
        &moto.endpoint,
        &[
            ("CLICKS", "A", 3.0),
            ("CLICKS", campaign.as_str(), 2.0),
            ("CLICKS", UNDEFINED, 2.0),
            ("CLICK_REVENUE", "A", 10.5),
            ("CLICK_REVENUE", campaign.as_str(), 9.5),
            ("CLICK_REVENUE", UNDEFINED, 17.0),
            ("PURCHASES", "A", 1.0),
            ("PURCHASES", UNDEFINED, 0.0),
        ],
    )
    .await;
    // Published once: nothing is left pending, and nothing is sent twice.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(server.state.lock().attribution_pending.is_empty());
    assert_eq!(cloudwatch_sum(&moto.endpoint, "CLICKS", "A").await, 3.0);
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

/// A bulk (incremental) import with `publishAttributionMetricsToS3`: its report lands under the
/// metric attribution's S3 path, and (being incremental) its values reach CloudWatch too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_import_report_is_written_to_s3() {
    let moto = start_moto().await;
    let endpoint = moto.endpoint.clone();
    let server = Running::start(Config {
        cloudwatch_endpoint: Some(endpoint.clone()),
        s3_endpoint: Some(endpoint.clone()),
        ..Config::for_tests(None)
    })
    .await
    .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let ts = unix_now() - 120;
    let window = ts.div_euclid(900) * 900;
    for bucket in ["ma-data", "ma-reports"] {
        let (status, text) = http("PUT", &format!("{endpoint}/{bucket}"), &[], String::new()).await;
        assert_eq!(status, 200, "CreateBucket {bucket}: {text}");
    }
    let interactions = format!(
        "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_ATTRIBUTION_SOURCE,RECOMMENDATION_ID\n\
         u1,i1,click,{ts},A,\n\
         u1,i2,click,{ts},A,\n\
         u2,i3,click,{ts},,\n\
         u2,i1,purchase,{ts},A,\n"
    );
    for (key, body) in [
        ("items.csv", items_with_price_csv()),
        ("interactions.csv", interactions),
    ] {
        let (status, text) = http("PUT", &format!("{endpoint}/ma-data/{key}"), &[], body).await;
        assert_eq!(status, 200, "PutObject {key}: {text}");
    }
    let dg = cp
        .create_dataset_group()
        .name("ma-bulk")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let interactions_schema = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},{"name":"EVENT_TYPE","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_ATTRIBUTION_SOURCE","type":["null","string"]},{"name":"RECOMMENDATION_ID","type":["null","string"]}],"version":"1.0"}"#;
    let mut datasets = Vec::new();
    for (kind, schema) in [
        ("Interactions", interactions_schema),
        ("Items", ITEMS_WITH_PRICE_SCHEMA),
    ] {
        let schema = cp
            .create_schema()
            .name(format!("ma-bulk-{kind}"))
            .schema(schema)
            .send()
            .await
            .expect("schema")
            .schema_arn
            .expect("arn");
        datasets.push(
            cp.create_dataset()
                .name(format!("ma-bulk-{kind}"))
                .dataset_group_arn(&dg)
                .dataset_type(kind)
                .schema_arn(schema)
                .send()
                .await
                .expect("dataset")
                .dataset_arn
                .expect("arn"),
        );
    }
    let import = |name: &str, dataset: &str, key: &str, incremental: bool, publish: bool| {
        cp.create_dataset_import_job()
            .job_name(name)
            .dataset_arn(dataset)
            .data_source(
                aws_sdk_personalize::types::DataSource::builder()
                    .data_location(format!("s3://ma-data/{key}"))
                    .build(),
            )
            .role_arn(ROLE)
            .import_mode(if incremental {
                aws_sdk_personalize::types::ImportMode::Incremental
            } else {
                aws_sdk_personalize::types::ImportMode::Full
            })
            .publish_attribution_metrics_to_s3(publish)
            .send()
    };
    let items_job = import("ma-bulk-items", &datasets[1], "items.csv", false, false)
        .await
        .expect("items import")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Import, &items_job).await.0, "ACTIVE");
    // No metric attribution with an S3 destination yet: the report is refused, not dropped.
    let early = import(
        "ma-bulk-early",
        &datasets[0],
        "interactions.csv",
        true,
        true,
    )
    .await;
    assert_eq!(code_of(early, "no destination"), "InvalidInputException");
    cp.create_metric_attribution()
        .name("ma-bulk")
        .dataset_group_arn(&dg)
        .metrics(metric("click", "BULK_CLICKS", "SAMPLECOUNT()"))
        .metrics(metric("click", "BULK_REVENUE", "SUM(Items.PRICE)"))
        .metrics_output_config(output(Some("s3://ma-reports/bulk/")))
        .send()
        .await
        .expect("CreateMetricAttribution");
    let job = import(
        "ma-bulk-clicks",
        &datasets[0],
        "interactions.csv",
        true,
        true,
    )
    .await
    .expect("interactions import")
    .dataset_import_job_arn
    .expect("arn");
    assert_eq!(wait_job(&cp, Job::Import, &job).await.0, "ACTIVE");

    let (status, listing) = http(
        "GET",
        &format!("{endpoint}/ma-reports?list-type=2&prefix=bulk/"),
        &[],
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{listing}");
    let keys: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split("</Key>").next())
        .collect();
    assert_eq!(keys.len(), 1, "{listing}");
    assert!(
        keys[0].starts_with("bulk/AggregatedAttributionMetrics-INCREMENTAL-")
            && keys[0].ends_with(".csv"),
        "{}",
        keys[0]
    );
    let (status, report) = http(
        "GET",
        &format!("{endpoint}/ma-reports/{}", keys[0]),
        &[("authorization", &moto_authorization("s3"))],
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let mut lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines.remove(0),
        "METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP"
    );
    lines.sort_unstable();
    // By hand: clicks A (i1, i2) and undefined (i3); the purchase is no click metric's.
    let expected = [
        format!("BULK_CLICKS,click,1.0,samplecount,{UNDEFINED},{window}"),
        format!("BULK_CLICKS,click,2.0,samplecount,A,{window}"),
        format!("BULK_REVENUE,click,4.75,sum,{UNDEFINED},{window}"),
        format!("BULK_REVENUE,click,5.75,sum,A,{window}"),
    ];
    assert_eq!(lines, expected);
    // Incremental bulk data goes to CloudWatch as well.
    wait_for_cloudwatch(
        &endpoint,
        &[
            ("BULK_CLICKS", "A", 2.0),
            ("BULK_CLICKS", UNDEFINED, 1.0),
            ("BULK_REVENUE", "A", 5.75),
        ],
    )
    .await;
    server.stop().await.expect("stops");
}

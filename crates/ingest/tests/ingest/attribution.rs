//! What metric attributions need from an event reaches PutEvents and personalize-local:
//! `recommendationId`, `impression` and the event attribution source (flat
//! `eventAttributionSource` or PutEvents' `metricAttribution`), from the sidecar and through the
//! gateway; bad ones are dead-lettered (sidecar) or refused (gateway) with their reason.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use personalize_ingest::gateway::{self, GatewayState};
use personalize_ingest::tracking::TrackingId;
use serde_json::{Value, json};

use super::e2e::{call, personalize_local_with};
use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribution_fields_are_forwarded_and_bad_ones_dead_lettered() {
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("attribution");
    create_stream(&k, &stream, 1).await;
    let fake = FakeEvents::start().await;
    let records: Vec<Value> = vec![
        json!({"userId": "u1", "itemId": "i1", "eventType": "click", "sentAt": 1700000000,
               "recommendationId": "RID-abc", "impression": ["i1", "i2"],
               "eventAttributionSource": "newsletter"}),
        json!({"userId": "u1", "eventList": [{"eventType": "click", "sentAt": 1700000001,
               "itemId": "i2", "metricAttribution": {"eventAttributionSource": "partner"}}]}),
        json!({"userId": "u1", "itemId": "i3", "eventType": "click", "sentAt": 1700000002,
               "eventAttributionSource": "   "}),
        json!({"userId": "u1", "itemId": "i4", "eventType": "click", "sentAt": 1700000003,
               "recommendationId": "R".repeat(41)}),
    ];
    let records: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|r| ("u1".to_string(), r.to_string().into_bytes()))
        .collect();
    put_records(&k, &stream, &records).await;
    let dir = temp_dir("attribution");
    let sidecar = start_sidecar(
        moto,
        &stream,
        &fake.url,
        TrackingId::literal("tid"),
        &dir,
        None,
        |_| {},
    )
    .await;
    let dl_path = dir.join("dead-letter.jsonl");
    wait_for(
        "2 events and 2 dead letters",
        Duration::from_secs(60),
        || async {
            let lines = std::fs::read_to_string(&dl_path)
                .map(|s| s.lines().count())
                .unwrap_or(0);
            fake.count() >= 2 && lines >= 2
        },
    )
    .await;
    sidecar.stop().await;
    let received = fake.received();
    assert_eq!(received.len(), 2);
    let first = &received[0].event;
    assert_eq!(first["recommendationId"], "RID-abc");
    assert_eq!(first["impression"], json!(["i1", "i2"]));
    assert_eq!(
        first["metricAttribution"],
        json!({"eventAttributionSource": "newsletter"})
    );
    assert_eq!(
        received[1].event["metricAttribution"]["eventAttributionSource"],
        "partner"
    );
    let dl = std::fs::read_to_string(&dl_path).expect("dead-letter file");
    let entries: Vec<Value> = dl
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert!(
        entries.iter().all(|e| e["reason"] == "InvalidField"),
        "{dl}"
    );
    for field in ["eventAttributionSource", "recommendationId"] {
        assert!(
            entries
                .iter()
                .any(|e| e["message"].as_str().is_some_and(|m| m.contains(field))),
            "{field}: {dl}"
        );
    }
}

async fn post(app: &axum::Router, data: Value) -> (StatusCode, Value) {
    let body = json!({"Data": data, "PartitionKey": "userId"});
    let req = Request::post("/data")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    call(app, req).await
}

/// Through the gateway, Kinesis and the sidecar, personalize-local attributes one click to the
/// source it names and one to the campaign behind its recommendationId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_attribution_reaches_personalize_local() {
    // CloudWatch is a closed port: the attributed values stay pending, where this test reads
    // them.
    let (local, campaign, tracking_id, _) = personalize_local_with("attribution", |c| {
        c.cloudwatch_endpoint = Some("http://127.0.0.1:9".into());
    })
    .await;
    let config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
    let cp = aws_sdk_personalize::Client::new(&config);
    let runtime = aws_sdk_personalizeruntime::Client::new(&config);
    let dg = cp
        .list_dataset_groups()
        .send()
        .await
        .expect("ListDatasetGroups")
        .dataset_groups()[0]
        .dataset_group_arn()
        .expect("arn")
        .to_string();
    cp.create_metric_attribution()
        .name("attribution")
        .dataset_group_arn(&dg)
        .metrics(
            aws_sdk_personalize::types::MetricAttribute::builder()
                .event_type("click")
                .metric_name("CLICKS")
                .expression("SAMPLECOUNT()")
                .build()
                .expect("metric"),
        )
        .metrics_output_config(
            aws_sdk_personalize::types::MetricAttributionOutput::builder()
                .role_arn("arn:aws:iam::000000000000:role/personalize")
                .build()
                .expect("output"),
        )
        .send()
        .await
        .expect("CreateMetricAttribution");
    let rid = runtime
        .get_recommendations()
        .campaign_arn(&campaign)
        .user_id("u0")
        .send()
        .await
        .expect("GetRecommendations")
        .recommendation_id
        .expect("recommendationId");

    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("attribution-gw");
    create_stream(&k, &stream, 1).await;
    let app = gateway::app(GatewayState {
        kinesis: k.clone(),
        runtime,
        kube: None,
        namespace: "default".into(),
        default_stream: Some(stream.clone()),
        arms: Default::default(),
    });
    let sent_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 30;
    let base = json!({"userId": "u0", "itemId": "i3", "eventType": "click",
                      "sentAt": sent_at.to_string(), "impression": ["i3", "i4"]});
    let mut by_source = base.clone();
    by_source["eventAttributionSource"] = json!("newsletter");
    let mut by_recommendation = base.clone();
    by_recommendation["recommendationId"] = json!(rid);
    for data in [by_source, by_recommendation] {
        let (status, body) = post(&app, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut bad = base.clone();
    bad["eventAttributionSource"] = json!("");
    let (status, body) = post(&app, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("eventAttributionSource")),
        "{body}"
    );

    let dir = temp_dir("attribution-gw");
    let sidecar = start_sidecar(
        moto,
        &stream,
        &local.url(),
        TrackingId::literal(tracking_id),
        &dir,
        None,
        |_| {},
    )
    .await;
    let attributed = |source: &str| {
        local
            .state
            .lock()
            .attribution_pending
            .values()
            .flat_map(|pending| pending.iter())
            .filter(|(key, _)| key.metric == "CLICKS" && key.source == source)
            .map(|(_, value)| *value)
            .sum::<f64>()
    };
    wait_for(
        "both clicks attributed",
        Duration::from_secs(60),
        || async { attributed("newsletter") == 1.0 && attributed(&campaign) == 1.0 },
    )
    .await;
    sidecar.stop().await;
    local.stop().await.expect("personalize-local stops");
}

//! Validation from the official models: inputs the models forbid (lengths, patterns, enums,
//! ranges, list and map sizes, required members, types) are refused before any handler runs, with
//! the operation's `InvalidInputException` (or `ValidationException` where it models none) naming
//! the member; values at the limits still pass. The issue's three cases also go through the SDKs.

use aws_sdk_personalize::error::ProvideErrorMetadata;
use axum::body::{Body, to_bytes};
use axum::http::Request;
use personalize_local::{AppState, Config, Running, app, open};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

const DG: &str = "arn:aws:personalize:us-east-1:000000000000:dataset-group/v";
const DATASET: &str = "arn:aws:personalize:us-east-1:000000000000:dataset/v/INTERACTIONS";
const CAMPAIGN: &str = "arn:aws:personalize:us-east-1:000000000000:campaign/none";

/// Where a request goes: a control-plane operation or a REST path.
#[derive(Clone, Copy)]
enum To {
    Op(&'static str),
    Path(&'static str),
}

async fn call(state: &AppState, to: To, body: &Value) -> (u16, String, String) {
    let request = match to {
        To::Op(op) => Request::post("/").header("x-amz-target", format!("AmazonPersonalize.{op}")),
        To::Path(path) => Request::post(path),
    };
    let response = app(state.clone())
        .oneshot(request.body(Body::from(body.to_string())).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = to_bytes(response.into_body(), 1 << 22).await.expect("body");
    (status, code, String::from_utf8_lossy(&bytes).into_owned())
}

fn entries(n: usize) -> Value {
    Value::Object((0..n).map(|i| (format!("k{i}"), json!("v"))).collect())
}

fn event(extra: Value) -> Value {
    let mut e = json!({"eventType": "click", "sentAt": 1_700_000_000, "itemId": "i1"});
    if let (Some(e), Value::Object(extra)) = (e.as_object_mut(), extra) {
        e.extend(extra);
    }
    e
}

fn put_events(events: Vec<Value>) -> Value {
    json!({"trackingId": "t", "sessionId": "s", "eventList": events})
}

/// (case, where, body, expected code, the member path the message must name).
fn refused_cases() -> Vec<(&'static str, To, Value, &'static str, &'static str)> {
    use To::*;
    let invalid = "InvalidInputException";
    let validation = "ValidationException";
    vec![
        (
            "tag key with <",
            Op("TagResource"),
            json!({"resourceArn": DG, "tags": [{"tagKey": "a<b", "tagValue": "v"}]}),
            invalid,
            "'tags.1.member.tagKey'",
        ),
        (
            "tag key with < on create",
            Op("CreateDatasetGroup"),
            json!({"name": "v", "tags": [{"tagKey": "<", "tagValue": "v"}]}),
            invalid,
            "'tags.1.member.tagKey'",
        ),
        (
            "untag key with <",
            Op("UntagResource"),
            json!({"resourceArn": DG, "tagKeys": ["<"]}),
            invalid,
            "'tagKeys.1.member'",
        ),
        (
            "tag without value",
            Op("TagResource"),
            json!({"resourceArn": DG, "tags": [{"tagKey": "k"}]}),
            invalid,
            "'tags.1.member.tagValue'",
        ),
        (
            "201 tags",
            Op("TagResource"),
            json!({"resourceArn": DG, "tags": (0..201).map(|i| json!({"tagKey": format!("k{i}"), "tagValue": "v"})).collect::<Vec<_>>()}),
            invalid,
            "'tags'",
        ),
        (
            "import roleArn not-a-role",
            Op("CreateDatasetImportJob"),
            json!({"jobName": "j", "datasetArn": DATASET, "roleArn": "not-a-role", "dataSource": {"dataLocation": "s3://b/k"}}),
            invalid,
            "'roleArn'",
        ),
        (
            "import dataLocation ftp",
            Op("CreateDatasetImportJob"),
            json!({"jobName": "j", "datasetArn": DATASET, "dataSource": {"dataLocation": "ftp://b/k"}}),
            invalid,
            "'dataSource.dataLocation'",
        ),
        (
            "import mode not in the enum",
            Op("CreateDatasetImportJob"),
            json!({"jobName": "j", "datasetArn": DATASET, "importMode": "PARTIAL", "dataSource": {"dataLocation": "s3://b/k"}}),
            invalid,
            "'importMode'",
        ),
        (
            "name of 64 characters",
            Op("CreateDatasetGroup"),
            json!({"name": "a".repeat(64)}),
            invalid,
            "'name'",
        ),
        (
            "name starting with -",
            Op("CreateDatasetGroup"),
            json!({"name": "-x"}),
            invalid,
            "'name'",
        ),
        (
            "name as a number",
            Op("CreateDatasetGroup"),
            json!({"name": 5}),
            invalid,
            "'name'",
        ),
        (
            "dataset group roleArn",
            Op("CreateDatasetGroup"),
            json!({"name": "v", "roleArn": "arn:aws:iam::12:role/x"}),
            invalid,
            "'roleArn'",
        ),
        (
            "kmsKeyArn pattern",
            Op("CreateDatasetGroup"),
            json!({"name": "v", "kmsKeyArn": "my-key"}),
            invalid,
            "'kmsKeyArn'",
        ),
        (
            "schema missing",
            Op("CreateSchema"),
            json!({"name": "v"}),
            invalid,
            "'schema'",
        ),
        (
            "dataset type pattern",
            Op("CreateDataset"),
            json!({"name": "v", "datasetGroupArn": DG, "schemaArn": DG, "datasetType": "ITEMS!"}),
            invalid,
            "'datasetType'",
        ),
        (
            "ARN pattern",
            Op("DescribeDatasetGroup"),
            json!({"datasetGroupArn": "arn:aws:s3:::bucket"}),
            invalid,
            "'datasetGroupArn'",
        ),
        (
            "minProvisionedTPS 0",
            Op("CreateCampaign"),
            json!({"name": "v", "solutionVersionArn": DG, "minProvisionedTPS": 0}),
            invalid,
            "'minProvisionedTPS'",
        ),
        (
            "exploration config over 100 entries",
            Op("CreateCampaign"),
            json!({"name": "v", "solutionVersionArn": DG, "campaignConfig": {"itemExplorationConfig": entries(101)}}),
            invalid,
            "'campaignConfig.itemExplorationConfig'",
        ),
        (
            "training mode not in the enum",
            Op("CreateSolutionVersion"),
            json!({"solutionArn": DG, "trainingMode": "PARTIAL"}),
            invalid,
            "'trainingMode'",
        ),
        (
            "scheduling expression pattern",
            Op("CreateSolution"),
            json!({"name": "v", "datasetGroupArn": DG, "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": "rate(1 week)"}}}),
            invalid,
            "'solutionConfig.autoTrainingConfig.schedulingExpression'",
        ),
        (
            "empty filter expression",
            Op("CreateFilter"),
            json!({"name": "v", "datasetGroupArn": DG, "filterExpression": ""}),
            invalid,
            "'filterExpression'",
        ),
        (
            "ListSolutions maxResults 101",
            Op("ListSolutions"),
            json!({"maxResults": 101}),
            invalid,
            "'maxResults'",
        ),
        (
            "ListDatasetGroups maxResults 101",
            Op("ListDatasetGroups"),
            json!({"maxResults": 101}),
            validation,
            "'maxResults'",
        ),
        (
            "ListSchemas non-ASCII token",
            Op("ListSchemas"),
            json!({"nextToken": "é"}),
            validation,
            "'nextToken'",
        ),
        (
            "11 events",
            Path("/events"),
            put_events((0..11).map(|_| event(json!({}))).collect()),
            invalid,
            "'eventList'",
        ),
        (
            "26 impressions",
            Path("/events"),
            put_events(vec![event(
                json!({"impression": (0..26).map(|i| i.to_string()).collect::<Vec<_>>()}),
            )]),
            invalid,
            "'eventList.1.member.impression'",
        ),
        (
            "properties over 1024",
            Path("/events"),
            put_events(vec![event(json!({"properties": "x".repeat(1025)}))]),
            invalid,
            "'eventList.1.member.properties'",
        ),
        (
            "empty session id",
            Path("/events"),
            json!({"trackingId": "t", "sessionId": "", "eventList": [event(json!({}))]}),
            invalid,
            "'sessionId'",
        ),
        (
            "event without sentAt",
            Path("/events"),
            put_events(vec![json!({"eventType": "click"})]),
            invalid,
            "'eventList.1.member.sentAt'",
        ),
        (
            "recommendation id over 40",
            Path("/events"),
            put_events(vec![event(json!({"recommendationId": "r".repeat(41)}))]),
            invalid,
            "'eventList.1.member.recommendationId'",
        ),
        (
            "PutItems without items",
            Path("/items"),
            json!({"datasetArn": DATASET}),
            invalid,
            "'items'",
        ),
        (
            "context of 151 entries",
            Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u", "context": entries(151)}),
            invalid,
            "'context'",
        ),
        (
            "context key pattern",
            Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u", "context": {"a-b": "v"}}),
            invalid,
            "'context.a-b'",
        ),
        (
            "26 filter values",
            Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u", "filterValues": entries(26)}),
            invalid,
            "'filterValues'",
        ),
        (
            "numResults -1",
            Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u", "numResults": -1}),
            invalid,
            "'numResults'",
        ),
        (
            "userId over 256",
            Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u".repeat(257)}),
            invalid,
            "'userId'",
        ),
        (
            "ranking without inputList",
            Path("/personalize-ranking"),
            json!({"campaignArn": CAMPAIGN, "userId": "u"}),
            invalid,
            "'inputList'",
        ),
    ]
}

#[tokio::test]
async fn inputs_the_models_forbid_are_refused_naming_the_member() {
    let state = open(Config::for_tests(None)).expect("state");
    let cases = refused_cases();
    assert!(cases.len() >= 35);
    let mut wrong = Vec::new();
    for (case, to, body, code, member) in cases {
        let (status, got, answer) = call(&state, to, &body).await;
        if status != 400 || got != code || !answer.contains(member) {
            wrong.push(format!("{case}: {status} {got} {answer}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        state.lock().dataset_groups.is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn values_at_the_limits_pass_validation() {
    let state = open(Config::for_tests(None)).expect("state");
    // Each reaches its handler: an unknown campaign / tracker is the operation's own error.
    let cases = [
        (
            To::Path("/recommendations"),
            json!({"campaignArn": CAMPAIGN, "userId": "u", "context": entries(150), "filterValues": entries(25)}),
            "ResourceNotFoundException",
        ),
        (
            To::Path("/events"),
            put_events(
                (0..10)
                    .map(|_| event(json!({"properties": "{}"})))
                    .collect(),
            ),
            "InvalidInputException",
        ),
        (
            To::Op("CreateDatasetGroup"),
            json!({"name": "a".repeat(63), "tags": [{"tagKey": "é:/=+-@ 1", "tagValue": "v"}]}),
            "",
        ),
        (To::Op("ListDatasetGroups"), json!({"maxResults": 100}), ""),
    ];
    for (to, body, code) in cases {
        let (_, got, answer) = call(&state, to, &body).await;
        assert_eq!(got, code, "{body}: {answer}");
        assert!(!answer.contains("validation error"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_cases_are_refused_through_the_sdks() {
    let server = Running::start(Config::for_tests(None))
        .await
        .expect("server starts");
    let (cp, _, rt) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("validation")
        .send()
        .await
        .expect("group")
        .dataset_group_arn
        .expect("arn");
    let tag = aws_sdk_personalize::types::Tag::builder()
        .tag_key("a<b")
        .tag_value("v")
        .build()
        .expect("tag");
    let err = cp
        .tag_resource()
        .resource_arn(&dg)
        .tags(tag)
        .send()
        .await
        .expect_err("tag key with <");
    assert_eq!(err.code(), Some("InvalidInputException"), "{err:?}");
    let err = cp
        .create_dataset_import_job()
        .job_name("validation")
        .dataset_arn(DATASET)
        .role_arn("not-a-role")
        .data_source(
            aws_sdk_personalize::types::DataSource::builder()
                .data_location("s3://bucket/key.csv")
                .build(),
        )
        .send()
        .await
        .expect_err("roleArn not-a-role");
    assert_eq!(err.code(), Some("InvalidInputException"), "{err:?}");
    let mut request = rt.get_recommendations().campaign_arn(CAMPAIGN).user_id("u");
    for i in 0..151 {
        request = request.context(format!("k{i}"), "v");
    }
    let err = request.send().await.expect_err("151 context entries");
    assert_eq!(
        aws_sdk_personalizeruntime::error::ProvideErrorMetadata::code(&err),
        Some("InvalidInputException")
    );
    assert!(
        aws_sdk_personalizeruntime::error::ProvideErrorMetadata::message(&err)
            .is_some_and(|m| m.contains("'context'")),
        "{err:?}"
    );
    server.stop().await.expect("stops");
}

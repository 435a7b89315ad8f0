//! The gateway's runtime parameters end to end: a Filter named by its custom resource on the
//! real apiserver is resolved to its published ARN and applied by personalize-local with the
//! filter values given; a Filter with no ACTIVE filter yet is answered 503, not passed on.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::Api;
use kube::api::{Patch, PatchParams};
use personalize_api::{Campaign, Filter};
use personalize_ingest::gateway::{self, GatewayState};
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{
    CLUSTERS, Data, ITEMS_SCHEMA, deploy, interactions_csv, items_csv,
};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::support::*;

async fn get(app: &axum::Router, query: &str) -> (StatusCode, Value) {
    let req = Request::get(format!("/getRecommendations?{query}"))
        .body(Body::empty())
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("gateway answers");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Server-side applies an object of the operator's API and merges `status` into its status.
pub async fn put<K>(api: &Api<K>, kind: &str, name: &str, spec: Value, status: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let pp = PatchParams::apply("gateway-test").force();
    let body = json!({
        "apiVersion": "personalize-operator.dev/v1alpha1", "kind": kind,
        "metadata": {"name": name}, "spec": spec,
    });
    api.patch(name, &pp, &Patch::Apply(body))
        .await
        .expect("apply");
    let status = json!({ "status": status });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
        .await
        .expect("status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_named_by_its_custom_resource_is_applied_with_its_values() {
    let cluster = cluster_with_crds().await;
    let ns = cluster
        .create_namespace("gateway")
        .await
        .expect("namespace");
    let client = cluster.client();
    let campaigns: Api<Campaign> = Api::namespaced(client.clone(), &ns);
    let filters: Api<Filter> = Api::namespaced(client.clone(), &ns);
    wait_for("CRDs served", Duration::from_secs(30), || async {
        filters.list(&Default::default()).await.is_ok()
    })
    .await;

    // personalize-local with items (a genre per cluster of items) and a genre filter.
    let dir = temp_dir("gateway-filter");
    let local = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("personalize-local starts");
    let (interactions, items) = (interactions_csv(), items_csv());
    let data = Data {
        interactions_csv: &interactions,
        items: Some((ITEMS_SCHEMA, &items)),
    };
    let deployed = deploy(&local.url(), &dir, "gateway", data)
        .await
        .expect("a trained campaign");
    let config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
    let control = aws_sdk_personalize::Client::new(&config);
    let filter_arn = control
        .create_filter()
        .name("gateway-genre")
        .dataset_group_arn(&deployed.dataset_group.arn)
        .filter_expression("INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)")
        .send()
        .await
        .expect("create filter")
        .filter_arn()
        .expect("ARN")
        .to_owned();
    wait_for(
        "the filter to be ACTIVE",
        Duration::from_secs(30),
        || async {
            let f = control
                .describe_filter()
                .filter_arn(&filter_arn)
                .send()
                .await;
            f.ok()
                .and_then(|f| f.filter()?.status().map(|s| s == "ACTIVE"))
                .unwrap_or(false)
        },
    )
    .await;

    let pinned =
        json!({"versionPolicy": "Pinned", "solutionVersionArn": deployed.solution_version});
    let active = json!({"arn": deployed.campaign, "status": "ACTIVE"});
    put(&campaigns, "Campaign", "movies", pinned, active).await;
    let spec = json!({
        "datasetGroupArn": deployed.dataset_group.arn,
        "filterExpression": "INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)",
    });
    let published = json!({"arn": filter_arn, "status": "ACTIVE"});
    put(&filters, "Filter", "genre", spec.clone(), published).await;

    let kinesis_config = sdk_config("http://127.0.0.1:9", "unused", "unused").await;
    let app = gateway::app(GatewayState {
        kinesis: aws_sdk_kinesis::Client::new(&kinesis_config),
        runtime: aws_sdk_personalizeruntime::Client::new(&config),
        kube: Some(client.clone()),
        namespace: ns.clone(),
        default_stream: None,
        arms: Default::default(),
    });

    for genre in 0..CLUSTERS {
        let query = format!(
            "campaign=movies&userId=u{genre}&numResults=10&filter=genre&filterValues.GENRE=%22genre{genre}%22"
        );
        let (status, body) = get(&app, &query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items: Vec<usize> = body["itemList"]
            .as_array()
            .expect("itemList")
            .iter()
            .map(|i| {
                i["itemId"].as_str().expect("itemId")[1..]
                    .parse()
                    .expect("i<n>")
            })
            .collect();
        assert!(!items.is_empty(), "{body}");
        // items_csv: item i<n> has genre<n % CLUSTERS>.
        assert!(
            items.iter().all(|n| n % CLUSTERS == genre),
            "genre{genre} only: {items:?}"
        );
    }
    // A promotion through the same Filter: 20% of 10 results from genre3, marked as promoted.
    let query = "campaign=movies&userId=u0&numResults=10&promotion.name=g3\
                 &promotion.percentPromotedItems=20&promotion.filter=genre\
                 &promotion.filterValues.GENRE=%22genre3%22";
    let (status, body) = get(&app, query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let promoted: Vec<usize> = body["itemList"]
        .as_array()
        .expect("itemList")
        .iter()
        .filter(|i| i["promotionName"] == "g3")
        .map(|i| {
            i["itemId"].as_str().expect("itemId")[1..]
                .parse()
                .expect("i<n>")
        })
        .collect();
    assert_eq!(promoted.len(), 2, "{body}");
    assert!(promoted.iter().all(|n| n % CLUSTERS == 3), "{promoted:?}");
    // Metadata needs a campaign that enables it: personalize-local's refusal is passed on.
    let (status, body) = get(
        &app,
        "campaign=movies&userId=u0&metadataColumns.ITEMS=GENRES",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The values are required by the expression: personalize-local's answer is passed on.
    let (status, body) = get(&app, "campaign=movies&userId=u0&filter=genre").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A Filter whose first filter is still being created is not called.
    let creating = json!({"arn": filter_arn, "status": "CREATE PENDING"});
    put(&filters, "Filter", "genre", spec, creating).await;
    let (status, body) = get(&app, "campaign=movies&userId=u0&filter=genre").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no ACTIVE ARN"),
        "{body}"
    );
    local.stop().await.expect("personalize-local stops");
}

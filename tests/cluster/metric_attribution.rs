//! The MetricAttribution kind end to end (`examples/movielens/30-metric-attribution.yaml`): it
//! becomes ACTIVE with its metrics, a changed metric and output are applied in place
//! (UpdateMetricAttribution, twice for a changed definition), and deleting it and its group
//! leaves nothing in personalize-local.

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use personalize_api::{DatasetGroup, MetricAttribution};

use crate::crds::repo;
use crate::harness::{Harness, ready, wait_for};

async fn wait_metrics(api: &Api<MetricAttribution>, want: &str) -> MetricAttribution {
    wait_for(&format!("metrics {want} and Ready"), || async {
        let m = api.get("movielens").await.ok()?;
        let names = m.status.as_ref()?.metric_names.clone()?;
        let ok = names == want && ready(&m, |m| m.status.as_ref().map(|s| &s.resource));
        ok.then_some(m)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_attribution_is_created_changed_in_place_and_deleted_in_order() {
    let h = Harness::start("metrics", &[]).await;
    h.apply(&repo().join("examples/movielens/00-dataset-group.yaml"));
    h.apply(&repo().join("examples/movielens/30-metric-attribution.yaml"));
    let api: Api<MetricAttribution> = Api::namespaced(h.kube.clone(), &h.ns);
    let created = wait_metrics(&api, "CLICKS,WATCHES").await;
    let arn = created
        .status
        .as_ref()
        .and_then(|s| s.resource.arn.clone())
        .expect("an ARN");

    // CLICKS now counts views, and a new metric: one update removes CLICKS, the next adds it.
    let patch = serde_json::json!({"spec": {"metrics": [
        {"metricName": "CLICKS", "eventType": "view", "expression": "SAMPLECOUNT()"},
        {"metricName": "WATCHES", "eventType": "watch", "expression": "SAMPLECOUNT()"},
        {"metricName": "RATED", "eventType": "rate", "expression": "SAMPLECOUNT()"},
    ]}});
    api.patch("movielens", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let updated = wait_metrics(&api, "CLICKS,RATED,WATCHES").await;
    assert_eq!(
        updated.status.and_then(|s| s.resource.arn),
        Some(arn.clone()),
        "changed in place"
    );
    assert!(h.calls("UpdateMetricAttribution") >= 2);
    let listed = h
        .aws
        .list_metric_attribution_metrics()
        .metric_attribution_arn(&arn)
        .send()
        .await
        .expect("list metrics");
    let clicks = listed
        .metrics()
        .iter()
        .find(|m| m.metric_name() == "CLICKS")
        .expect("CLICKS");
    assert_eq!(clicks.event_type(), "view");

    // The group waits for its metric attribution; both go, nothing is left.
    let groups: Api<DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    let dp = DeleteParams::default();
    groups.delete("movielens", &dp).await.expect("delete group");
    api.delete("movielens", &dp)
        .await
        .expect("delete attribution");
    wait_for("everything to be gone", || async {
        let left = h.aws.list_dataset_groups().send().await.ok()?;
        left.dataset_groups().is_empty().then_some(())
    })
    .await;
    assert_eq!(h.calls("DeleteMetricAttribution"), 1);
    h.stop().await;
}

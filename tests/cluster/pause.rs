//! The paused annotation on the real apiserver: a paused DatasetGroup reports Synced=False
//! Paused and makes no AWS call for a new import revision, nor for its deletion; removing the
//! annotation resumes both.

use std::time::Duration;

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use personalize_api::DatasetGroup;
use personalize_api::conditions::{READY, SYNCED};

use crate::crds::repo;
use crate::harness::{Harness, wait_for};

const PAUSED: &str = "personalize-operator.dev/paused";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_object_makes_no_aws_call_until_the_annotation_is_removed() {
    let h = Harness::start("pause", &[]).await;
    h.apply(&repo().join("examples/movielens/00-dataset-group.yaml"));
    let groups: Api<DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    wait_for("the dataset group to be Ready", || async {
        let g = groups.get("movielens").await.ok()?;
        g.status?.resource.is_true(READY).then_some(())
    })
    .await;

    let annotate =
        |value: Option<&str>| serde_json::json!({"metadata": {"annotations": {PAUSED: value}}});
    let pp = PatchParams::default();
    groups
        .patch("movielens", &pp, &Patch::Merge(annotate(Some("true"))))
        .await
        .expect("pause");
    let bump =
        serde_json::json!({"spec": {"datasets": {"interactions": {"import": {"revision": "2"}}}}});
    groups
        .patch("movielens", &pp, &Patch::Merge(&bump))
        .await
        .expect("new import revision");
    let status = wait_for("Synced=False Paused", || async {
        let status = groups.get("movielens").await.ok()?.status?;
        let synced = status.resource.condition(SYNCED)?;
        (synced.reason == "Paused").then_some(status)
    })
    .await;
    assert!(status.resource.is_true(READY), "Ready keeps what it said");
    let calls = h.calls_by_operation();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.calls_by_operation(), calls, "no AWS call while paused");

    // Deleting a paused object waits too.
    groups
        .delete("movielens", &DeleteParams::default())
        .await
        .expect("delete");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        groups.get_opt("movielens").await.expect("get").is_some(),
        "kept while paused"
    );
    assert_eq!(h.calls("DeleteDatasetGroup"), 0);

    // Unpaused: the deletion goes through.
    groups
        .patch("movielens", &pp, &Patch::Merge(annotate(None)))
        .await
        .expect("unpause");
    wait_for("the dataset group to be gone", || async {
        groups
            .get_opt("movielens")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    let left = h.aws.list_dataset_groups().send().await.expect("list");
    assert!(
        left.dataset_groups().is_empty(),
        "{:?}",
        left.dataset_groups()
    );
    h.stop().await;
}

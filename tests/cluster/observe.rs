//! The observe-only annotation on the real apiserver and personalize-local: an observe-only
//! DatasetGroup reports what exists, says what it would do for a new import revision without
//! doing it, and its deletion leaves the Personalize resources in place.

use std::time::Duration;

use kube::api::{Api, DeleteParams, Patch, PatchParams};
use personalize_api::DatasetGroup;
use personalize_api::conditions::{READY, SYNCED};

use crate::crds::repo;
use crate::harness::{Harness, wait_for};

const OBSERVE: &str = "personalize-operator.dev/observe-only";

/// Calls that change something in Personalize, by operation.
fn writes(h: &Harness) -> Vec<(String, u64)> {
    let reads = ["Describe", "List", "Get"];
    h.calls_by_operation()
        .into_iter()
        .filter(|(op, _)| !reads.iter().any(|r| op.starts_with(r)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observe_only_object_reads_but_never_writes_and_its_deletion_keeps_the_resources() {
    let h = Harness::start("observe", &[]).await;
    let example = repo().join("examples/movielens/00-dataset-group.yaml");
    h.apply(&example);
    let groups: Api<DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    let ready = || async {
        let g = groups.get("movielens").await.ok()?;
        g.status?.resource.is_true(READY).then_some(())
    };
    wait_for("the dataset group to be Ready", ready).await;

    // Observe-only, and a new import revision: reported, not done.
    let pp = PatchParams::default();
    let observe = serde_json::json!({
        "metadata": {"annotations": {OBSERVE: "true"}},
        "spec": {"datasets": {"interactions": {"import": {"revision": "2"}}}}
    });
    groups
        .patch("movielens", &pp, &Patch::Merge(&observe))
        .await
        .expect("observe-only");
    let synced = wait_for("Synced=False ObserveOnly", || async {
        let status = groups.get("movielens").await.ok()?.status?;
        let synced = status.resource.condition(SYNCED)?;
        (synced.reason == "ObserveOnly").then(|| synced.clone())
    })
    .await;
    assert!(
        synced.message.contains("CreateDatasetImportJob"),
        "says what it would do: {}",
        synced.message
    );
    let before = writes(&h);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(writes(&h), before, "no write while observe-only");

    // Deleting it leaves the dataset group in Personalize.
    groups
        .delete("movielens", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for("the object to be gone", || async {
        groups
            .get_opt("movielens")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(h.calls("DeleteDatasetGroup"), 0);
    let left = h.aws.list_dataset_groups().send().await.expect("list");
    assert_eq!(left.dataset_groups().len(), 1, "the group stays");

    // Managed again (its owner tag matches), then deleted for real: nothing left.
    h.apply(&example);
    wait_for("the managed dataset group to be Ready", ready).await;
    groups
        .delete("movielens", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for("the dataset group to be gone", || async {
        let left = h.aws.list_dataset_groups().send().await.ok()?;
        left.dataset_groups().is_empty().then_some(())
    })
    .await;
    h.stop().await;
}

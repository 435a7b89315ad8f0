//! Adoption: a Personalize resource with the CR's derived name that the operator did not create
//! is refused (Terminal NameTaken, naming the way out) until the CR carries the adopt
//! annotation; then it is taken over, not duplicated.

use kube::api::{Api, Patch, PatchParams};
use personalize_api::DatasetGroup;
use personalize_api::conditions::{READY, TERMINAL};
use personalize_operator::naming::{ADOPT_ANNOTATION, aws_name};

use crate::crds::repo;
use crate::harness::{Harness, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_resource_is_adopted_only_when_the_cr_asks() {
    let h = Harness::start("adopt", &[]).await;
    let name = aws_name(None, &h.ns, "movielens");
    let foreign = h
        .aws
        .create_dataset_group()
        .name(&name)
        .send()
        .await
        .expect("a dataset group created outside the operator");
    let foreign_arn = foreign.dataset_group_arn().expect("arn").to_owned();

    h.apply(&repo().join("examples/movielens/00-dataset-group.yaml"));
    let groups: Api<DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    let terminal = wait_for("the name clash to go Terminal", || async {
        let dg = groups.get("movielens").await.ok()?;
        let status = dg.status?;
        status
            .resource
            .condition(TERMINAL)
            .filter(|c| c.status == "True")
            .cloned()
    })
    .await;
    assert_eq!(terminal.reason, "NameTaken");
    assert!(
        terminal.message.contains(&name) && terminal.message.contains(ADOPT_ANNOTATION),
        "the message names the resource and the way out: {}",
        terminal.message
    );

    let annotate = serde_json::json!({
        "metadata": {"annotations": {ADOPT_ANNOTATION: "true"}}
    });
    groups
        .patch(
            "movielens",
            &PatchParams::default(),
            &Patch::Merge(&annotate),
        )
        .await
        .expect("annotate");
    let adopted = wait_for("the adopted group to be Ready", || async {
        let dg = groups.get("movielens").await.ok()?;
        let status = dg.status?;
        status.resource.is_true(READY).then_some(status)
    })
    .await;
    assert_eq!(adopted.resource.arn.as_deref(), Some(foreign_arn.as_str()));
    let all = h
        .aws
        .list_dataset_groups()
        .send()
        .await
        .expect("list groups");
    let named: Vec<_> = all
        .dataset_groups()
        .iter()
        .filter(|g| g.name() == Some(name.as_str()))
        .collect();
    assert_eq!(named.len(), 1, "adopted, not duplicated: {named:?}");
    h.stop().await;
}

//! A Solution's event weights (`spec.eventsConfig`) end to end: created with them on
//! aws-user-personalization-v2, trained, then changed in place with UpdateSolution (no new
//! solution), as personalize-local then reports them.

use kube::api::{Api, Patch, PatchParams};
use personalize_api::Solution;

use crate::crds::repo;
use crate::harness::{Harness, ready, wait_for};

const SOLUTION: &str = r#"
apiVersion: personalize-operator.dev/v1alpha1
kind: Solution
metadata:
  name: weighted
spec:
  datasetGroupRef:
    name: movielens
  recipe: aws-user-personalization-v2
  eventsConfig:
    - {eventType: watch, weight: 0.5}
"#;

/// The event weights personalize-local has in effect for `arn`: the latest successful
/// update's, else the creation's.
async fn weights(h: &Harness, arn: &str) -> Vec<(String, f64)> {
    let out = h
        .aws
        .describe_solution()
        .solution_arn(arn)
        .send()
        .await
        .expect("DescribeSolution");
    let solution = out.solution().expect("solution");
    let update = solution
        .latest_solution_update()
        .filter(|u| u.status() == Some("ACTIVE"))
        .and_then(|u| u.solution_update_config())
        .and_then(|c| c.events_config());
    let created = solution.solution_config().and_then(|c| c.events_config());
    update
        .or(created)
        .map(|c| c.event_parameters_list())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let event_type = e.event_type().unwrap_or_default().to_owned();
            (event_type, e.weight().unwrap_or_default())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_weights_are_sent_on_create_and_changed_in_place() {
    let h = Harness::start("events", &[]).await;
    h.apply(&repo().join("examples/movielens/00-dataset-group.yaml"));
    let file = personalize_testkit::temp_dir("events-config")
        .expect("temp dir")
        .join("solution.yaml");
    std::fs::write(&file, SOLUTION).expect("write the manifest");
    h.apply(&file);
    let solutions: Api<Solution> = Api::namespaced(h.kube.clone(), &h.ns);
    let trained = |weight: f64| {
        let solutions = solutions.clone();
        let h = &h;
        async move {
            let s = solutions.get("weighted").await.ok()?;
            let arn = s.status.as_ref()?.resource.arn.clone()?;
            let ok = ready(&s, |s| s.status.as_ref().map(|s| &s.resource))
                && weights(h, &arn).await == [("watch".to_owned(), weight)];
            ok.then_some(arn)
        }
    };
    let arn = wait_for("trained with watch weighted 0.5", || trained(0.5)).await;

    let patch =
        serde_json::json!({"spec": {"eventsConfig": [{"eventType": "watch", "weight": 0.8}]}});
    solutions
        .patch("weighted", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
    let updated = wait_for("watch weighted 0.8, in place", || trained(0.8)).await;
    assert_eq!(updated, arn, "the same solution");
    assert_eq!(h.calls("CreateSolution"), 1);
    // The update is visible to a Describe before its own request is counted (it is answered
    // once its journal line is on disk): wait for the count.
    wait_for("UpdateSolution to be counted", || async {
        (h.calls("UpdateSolution") >= 1).then_some(())
    })
    .await;
    h.stop().await;
}

//! The operator end to end: the real apiserver, the controllers in this process, and
//! personalize-local over HTTP through the real aws-sdk-personalize. The MovieLens example
//! (with generated data) becomes Ready, a new import retrains and the campaign rolls to the new
//! version, and deleting everything leaves nothing in Personalize.

use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use personalize_api::{Campaign, DatasetGroup, EventTracker, Filter, Solution};

use crate::crds::repo;
use crate::harness::{Harness, ready, spawn_operator, wait_for, wait_ready};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn movielens_example_becomes_ready_retrains_rolls_out_and_tears_down_cleanly() {
    let h = Harness::start("operator", &[]).await;
    let (cp, ns, kube, aws) = (h.cp, h.ns.clone(), h.kube.clone(), h.aws.clone());

    let mut apply = cp.kubectl();
    apply
        .args(["apply", "-n", &ns, "-f"])
        .arg(repo().join("examples/movielens"));
    let out = apply.output().expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let groups: Api<DatasetGroup> = Api::namespaced(kube.clone(), &ns);
    let solutions: Api<Solution> = Api::namespaced(kube.clone(), &ns);
    let campaigns: Api<Campaign> = Api::namespaced(kube.clone(), &ns);
    let trackers: Api<EventTracker> = Api::namespaced(kube.clone(), &ns);
    let filters: Api<Filter> = Api::namespaced(kube.clone(), &ns);

    // Everything becomes Ready.
    let campaign = wait_for("the campaign to be Ready", || async {
        let c = campaigns.get("movielens").await.ok()?;
        ready(&c, |c| c.status.as_ref().map(|s| &s.resource)).then_some(c)
    })
    .await;
    let tracker = wait_for("the event tracker to be Ready", || async {
        let t = trackers.get("movielens").await.ok()?;
        ready(&t, |t| t.status.as_ref().map(|s| &s.resource)).then_some(t)
    })
    .await;
    let tracking_id = tracker
        .status
        .and_then(|s| s.tracking_id)
        .expect("trackingId in status");
    assert!(!tracking_id.is_empty());
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(kube.clone(), &ns);
    let secret = secrets
        .get("movielens-tracking-id")
        .await
        .expect("tracking id secret");
    let stored = secret
        .data
        .and_then(|d| d.get("trackingId").cloned())
        .expect("trackingId key");
    assert_eq!(String::from_utf8_lossy(&stored.0), tracking_id);

    let solution = solutions
        .get("movielens-user-personalization")
        .await
        .expect("solution");
    let sol_status = solution.status.expect("solution status");
    let first = sol_status
        .latest_version_arn
        .clone()
        .expect("a trained version");
    assert!(
        !sol_status.versions[0].metrics.is_empty(),
        "metrics recorded: {:?}",
        sol_status.versions
    );
    let deployed = campaign
        .status
        .as_ref()
        .and_then(|s| s.deployed_version_arn.clone());
    assert_eq!(
        deployed.as_deref(),
        Some(first.as_str()),
        "the campaign serves the latest version"
    );

    // `kubectl get campaigns` shows the deployed version.
    let mut get = cp.kubectl();
    get.args(["get", "campaigns", "-n", &ns]);
    let listing = String::from_utf8_lossy(&get.output().expect("kubectl runs").stdout).into_owned();
    let short = first.rsplit('/').next().unwrap_or_default().to_owned();
    assert!(
        listing.contains(&short),
        "kubectl get campaigns shows version {short}:\n{listing}"
    );

    // New tags are applied to the campaign in place (TagResource), the owner tag kept.
    let campaign_arn = campaign
        .status
        .as_ref()
        .and_then(|s| s.resource.arn.clone())
        .expect("campaign ARN");
    let patch = serde_json::json!({"spec": {"tags": {"team": "recs"}}});
    campaigns
        .patch("movielens", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("tag the campaign");
    wait_for("the campaign's new tag in Personalize", || async {
        let out = aws
            .list_tags_for_resource()
            .resource_arn(&campaign_arn)
            .send()
            .await
            .ok()?;
        let has = |k: &str| out.tags().iter().any(|t| t.tag_key() == k);
        (has("team") && has("personalize-operator.dev/owner")).then_some(())
    })
    .await;

    // A new import retrains (retrain.onImport) and the campaign rolls to the new version.
    let patch =
        serde_json::json!({"spec": {"datasets": {"interactions": {"import": {"revision": "2"}}}}});
    groups
        .patch("movielens", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("bump revision");
    let second = wait_for("a second version to be deployed", || async {
        let c = campaigns.get("movielens").await.ok()?;
        let v = c.status.as_ref()?.deployed_version_arn.clone()?;
        (v != first && ready(&c, |c| c.status.as_ref().map(|s| &s.resource))).then_some(v)
    })
    .await;
    let versions = aws
        .list_solution_versions()
        .solution_arn(second.rsplit_once('/').expect("version arn").0)
        .send()
        .await;
    assert!(versions.expect("list versions").solution_versions().len() >= 2);

    // Events were recorded for every AWS mutation.
    let mut describe = cp.kubectl();
    describe.args([
        "get",
        "events",
        "-n",
        &ns,
        "-o",
        "jsonpath={.items[*].reason}",
    ]);
    let reasons =
        String::from_utf8_lossy(&describe.output().expect("kubectl runs").stdout).into_owned();
    for reason in [
        "CreateDatasetGroup",
        "CreateDatasetImportJob",
        "CreateSolutionVersion",
        "CreateCampaign",
        "UpdateCampaign",
        "CreateFilter",
        "CreateMetricAttribution",
    ] {
        assert!(
            reasons.contains(reason),
            "event {reason} missing from {reasons}"
        );
    }

    // Delete everything at once: the operator deletes in Personalize's order.
    for file in [
        "00-dataset-group.yaml",
        "10-solution.yaml",
        "20-campaign.yaml",
        "20-event-tracker.yaml",
        "20-filter.yaml",
        "30-metric-attribution.yaml",
    ] {
        let mut delete = cp.kubectl();
        delete
            .args(["delete", "--wait=false", "-n", &ns, "-f"])
            .arg(repo().join("examples/movielens").join(file));
        assert!(delete.output().expect("kubectl runs").status.success());
    }
    wait_for("every CR to be gone", || async {
        let left = groups.list(&Default::default()).await.ok()?.items.len()
            + solutions.list(&Default::default()).await.ok()?.items.len()
            + campaigns.list(&Default::default()).await.ok()?.items.len()
            + trackers.list(&Default::default()).await.ok()?.items.len()
            + filters.list(&Default::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    let groups_left = aws.list_dataset_groups().send().await.expect("list groups");
    assert!(
        groups_left.dataset_groups().is_empty(),
        "{:?}",
        groups_left.dataset_groups()
    );
    let schemas_left = aws.list_schemas().send().await.expect("list schemas");
    assert!(
        schemas_left.schemas().is_empty(),
        "{:?}",
        schemas_left.schemas()
    );
    let solutions_left = aws.list_solutions().send().await.expect("list solutions");
    assert!(solutions_left.solutions().is_empty());
    let campaigns_left = aws.list_campaigns().send().await.expect("list campaigns");
    assert!(campaigns_left.campaigns().is_empty());
    let filters_left = aws.list_filters().send().await.expect("list filters");
    assert!(
        filters_left.filters().is_empty(),
        "{:?}",
        filters_left.filters()
    );

    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_with_30_percent_throttling_and_server_errors() {
    let h = Harness::start("faults", &["*:throttle=0.15,error=0.15"]).await;
    h.apply(&repo().join("examples/movielens"));
    wait_ready(&h).await;
    let render = h.local.state.metrics.render();
    let failed: u64 = render
        .lines()
        .filter(|l| {
            l.starts_with("personalize_local_requests_total") && !l.contains("outcome=\"ok\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(failed > 0, "faults were injected:\n{render}");
    eprintln!("faults test: converged through {failed} injected failures");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_goes_terminal_with_the_aws_message_and_stops_calling() {
    let h = Harness::start("invalid", &[]).await;
    let group = h
        .aws
        .create_dataset_group()
        .name(format!("{}-external", h.ns))
        .send()
        .await;
    let group_arn = group
        .expect("group")
        .dataset_group_arn()
        .expect("arn")
        .to_owned();
    let manifest = h.data.join("bad-solution.yaml");
    let yaml = format!(
        "apiVersion: personalize-operator.dev/v1alpha1\nkind: Solution\nmetadata:\n  name: bad-recipe\n\
         spec:\n  datasetGroupArn: {group_arn}\n  recipe: aws-no-such-recipe\n"
    );
    std::fs::write(&manifest, yaml).expect("manifest");
    h.apply(&manifest);
    let solutions: Api<Solution> = Api::namespaced(h.kube.clone(), &h.ns);
    let terminal = wait_for("the Solution to go Terminal", || async {
        let status = solutions.get("bad-recipe").await.ok()?.status?;
        let terminal = status
            .resource
            .condition(personalize_api::conditions::TERMINAL)?;
        (terminal.status == "True").then(|| terminal.clone())
    })
    .await;
    assert_eq!(terminal.reason, "InvalidInput");
    assert!(
        terminal.message.contains("aws-no-such-recipe"),
        "AWS message kept: {}",
        terminal.message
    );
    let calls = h.calls("CreateSolution");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        h.calls("CreateSolution"),
        calls,
        "no CreateSolution while Terminal (no hot loop)"
    );
    assert!(calls <= 2, "CreateSolution was called {calls} times");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_creation_ten_times_leaves_no_duplicate_or_orphan() {
    let h = Harness::start_with("sigkill", &[], Duration::from_millis(300), false).await;
    h.apply(&repo().join("examples/movielens"));
    // Kill the operator at pseudo-random points (fixed seed) while it creates everything.
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for _ in 0..10 {
        let mut child = spawn_operator(&h, &["--leader-elect=false", "--http-address=off"]);
        tokio::time::sleep(Duration::from_millis(300 + rng.u64(..1200))).await;
        child.kill().expect("SIGKILL the operator");
        let _ = child.wait();
    }
    let mut child = spawn_operator(&h, &["--leader-elect=false", "--http-address=off"]);
    wait_ready(&h).await;

    let groups = h
        .aws
        .list_dataset_groups()
        .send()
        .await
        .expect("list groups");
    let ours: Vec<_> = groups
        .dataset_groups()
        .iter()
        .filter(|g| g.name().is_some_and(|n| n.starts_with(&h.ns)))
        .collect();
    assert_eq!(ours.len(), 1, "exactly one dataset group: {ours:?}");
    let group_arn = ours[0].dataset_group_arn().expect("arn");
    let datasets = h
        .aws
        .list_datasets()
        .dataset_group_arn(group_arn)
        .send()
        .await
        .expect("list datasets");
    assert_eq!(datasets.datasets().len(), 2, "interactions and items");
    let schemas = h.aws.list_schemas().send().await.expect("list schemas");
    assert_eq!(
        schemas
            .schemas()
            .iter()
            .filter(|s| s.name().is_some_and(|n| n.starts_with(&h.ns)))
            .count(),
        2
    );
    let imports = h
        .aws
        .list_dataset_import_jobs()
        .send()
        .await
        .expect("list imports");
    assert_eq!(
        imports.dataset_import_jobs().len(),
        2,
        "one import job per dataset"
    );
    let solutions = h
        .aws
        .list_solutions()
        .dataset_group_arn(group_arn)
        .send()
        .await
        .expect("list solutions");
    assert_eq!(solutions.solutions().len(), 1);
    let solution_arn = solutions.solutions()[0].solution_arn().expect("arn");
    let versions = h
        .aws
        .list_solution_versions()
        .solution_arn(solution_arn)
        .send()
        .await
        .expect("list versions");
    assert_eq!(
        versions.solution_versions().len(),
        1,
        "one trained version, not one per restart"
    );
    let campaigns = h
        .aws
        .list_campaigns()
        .solution_arn(solution_arn)
        .send()
        .await
        .expect("list campaigns");
    assert_eq!(campaigns.campaigns().len(), 1);
    let trackers = h
        .aws
        .list_event_trackers()
        .dataset_group_arn(group_arn)
        .send()
        .await
        .expect("trackers");
    assert_eq!(trackers.event_trackers().len(), 1);

    let _ = child.kill();
    let _ = child.wait();
    h.stop().await;
}

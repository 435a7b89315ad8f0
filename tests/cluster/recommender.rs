//! The Recommender kind end to end on a VIDEO_ON_DEMAND dataset group (`examples/video-on-demand`):
//! both use cases become ACTIVE and answer GetRecommendations by recommenderArn through the real
//! runtime SDK; `state: Inactive` stops one (personalize-local then refuses it) and `Active`
//! starts it again; a config change is applied in place; deleting everything leaves nothing.

use kube::api::{Api, Patch, PatchParams};
use personalize_api::{DatasetGroup, Recommender};

use crate::crds::repo;
use crate::harness::{Harness, ready, sdk_config, wait_for};

async fn wait_status(recommenders: &Api<Recommender>, name: &str, want: &str) -> Recommender {
    wait_for(&format!("recommender {name} {want} and Ready"), || async {
        let r = recommenders.get(name).await.ok()?;
        let status = r.status.as_ref()?.resource.status.clone()?;
        (status == want && ready(&r, |r| r.status.as_ref().map(|s| &s.resource))).then_some(r)
    })
    .await
}

fn arn(r: &Recommender) -> String {
    r.status
        .as_ref()
        .and_then(|s| s.resource.arn.clone())
        .expect("an ARN")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_on_demand_recommenders_serve_stop_start_update_and_tear_down() {
    let h = Harness::start("vod", &[]).await;
    h.apply(&repo().join("examples/video-on-demand"));
    let recommenders: Api<Recommender> = Api::namespaced(h.kube.clone(), &h.ns);
    let top_picks = wait_status(&recommenders, "top-picks", "ACTIVE").await;
    let popular = wait_status(&recommenders, "most-popular", "ACTIVE").await;

    let runtime = aws_sdk_personalizeruntime::Client::new(&sdk_config(&h.local.url()).await);
    let recommend = |arn: String, user: &'static str| {
        let runtime = runtime.clone();
        async move {
            let out = runtime
                .get_recommendations()
                .recommender_arn(arn)
                .user_id(user)
                .num_results(10)
                .send()
                .await?;
            let items: Vec<String> = out
                .item_list()
                .iter()
                .filter_map(|i| i.item_id().map(str::to_owned))
                .collect();
            Ok::<_, aws_sdk_personalizeruntime::Error>(items)
        }
    };
    let picks = recommend(arn(&top_picks), "1").await.expect("top picks");
    assert_eq!(picks.len(), 10, "{picks:?}");
    let most = recommend(arn(&popular), "1").await.expect("most popular");
    let most_other = recommend(arn(&popular), "2").await.expect("most popular");
    // What the example serves (shown with --nocapture).
    println!("top-picks for user 1: {picks:?}\nmost-popular for user 1: {most:?}");
    // The most watched videos, less what each user watched already: mostly the same list.
    let shared = most.iter().filter(|i| most_other.contains(i)).count();
    assert!(
        shared >= 5,
        "most popular is mostly shared: {most:?} / {most_other:?}"
    );

    // Stop: INACTIVE, Ready (the spec says Inactive), and no longer serving.
    let pp = PatchParams::default();
    let state = |s: &str| serde_json::json!({"spec": {"state": s}});
    recommenders
        .patch("top-picks", &pp, &Patch::Merge(state("Inactive")))
        .await
        .expect("stop");
    wait_status(&recommenders, "top-picks", "INACTIVE").await;
    assert!(
        recommend(arn(&top_picks), "1").await.is_err(),
        "a stopped recommender does not answer"
    );
    recommenders
        .patch("top-picks", &pp, &Patch::Merge(state("Active")))
        .await
        .expect("start");
    wait_status(&recommenders, "top-picks", "ACTIVE").await;
    recommend(arn(&top_picks), "1")
        .await
        .expect("serving again");

    // A config change is applied in place.
    let rps = serde_json::json!({"spec": {"config": {"minRecommendationRequestsPerSecond": 3}}});
    recommenders
        .patch("top-picks", &pp, &Patch::Merge(rps))
        .await
        .expect("config");
    wait_for(
        "minRecommendationRequestsPerSecond 3 in Personalize",
        || async {
            let out = h
                .aws
                .describe_recommender()
                .recommender_arn(arn(&top_picks))
                .send()
                .await
                .ok()?;
            let config = out.recommender()?.recommender_config()?;
            (config.min_recommendation_requests_per_second() == Some(3)).then_some(())
        },
    )
    .await;
    // personalize-local counts a request once its answer is sent: wait for the count too.
    wait_for("UpdateRecommender counted", || async {
        (h.calls("UpdateRecommender") >= 1).then_some(())
    })
    .await;
    assert_eq!(
        h.calls("CreateRecommender"),
        2,
        "one per recommender, none replaced"
    );

    // Everything deleted at once: recommenders first, then the group.
    let mut delete = h.cp.kubectl();
    delete
        .args(["delete", "--wait=false", "-n", &h.ns, "-f"])
        .arg(repo().join("examples/video-on-demand"));
    assert!(delete.output().expect("kubectl runs").status.success());
    let groups: Api<DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    wait_for("every object to be gone", || async {
        let left = groups.list(&Default::default()).await.ok()?.items.len()
            + recommenders
                .list(&Default::default())
                .await
                .ok()?
                .items
                .len();
        (left == 0).then_some(())
    })
    .await;
    let left = h.aws.list_recommenders().send().await.expect("list");
    assert!(left.recommenders().is_empty(), "{:?}", left.recommenders());
    let groups_left = h.aws.list_dataset_groups().send().await.expect("list");
    assert!(groups_left.dataset_groups().is_empty());
    h.stop().await;
}

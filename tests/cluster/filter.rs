//! The Filter kind end to end: the MovieLens example's genre filter serves GetRecommendations,
//! and a new expression is swapped in under traffic with no failed request: each request reads
//! `status.arn` from the Filter (as the gateway does) and calls personalize-local through the
//! real runtime SDK. Deleting the Filter leaves no filter in Personalize.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use personalize_api::{Campaign, Filter};

use crate::crds::repo;
use crate::harness::{Harness, TIMEOUT, ready, sdk_config, wait_for, wait_ready};

const EXCLUDE_GENRE: &str = "EXCLUDE ItemID WHERE Items.GENRES IN ($GENRE)";

/// The genre of an item of the generated data (`harness::write_data`).
fn genre(item: &str) -> &'static str {
    let item: u32 = item.parse().expect("numeric item ids");
    ["Drama", "Comedy", "Action"][(item / 40) as usize]
}

#[derive(Default)]
struct Traffic {
    ok: AtomicU64,
    failed: AtomicU64,
    /// Answers that broke the expression their filter ARN stood for.
    wrong: AtomicU64,
    with_new: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_expression_is_swapped_in_under_traffic_with_no_failed_request() {
    // Transitions take a while, so that traffic runs while the replacement is being created.
    let transition = std::time::Duration::from_millis(1500);
    let h = Harness::start_with("filter", &[], transition, true).await;
    h.apply(&repo().join("examples/movielens"));
    wait_ready(&h).await;
    let filters: Api<Filter> = Api::namespaced(h.kube.clone(), &h.ns);
    let first = wait_for("the filter to be Ready", || async {
        let f = filters.get("genre").await.ok()?;
        ready(&f, |f| f.status.as_ref().map(|s| &s.resource)).then_some(f)
    })
    .await;
    let first_arn = first.status.and_then(|s| s.resource.arn).expect("an ARN");
    let campaigns: Api<Campaign> = Api::namespaced(h.kube.clone(), &h.ns);
    let campaign = campaigns.get("movielens").await.expect("campaign");
    let campaign_arn = campaign.status.and_then(|s| s.resource.arn).expect("ARN");

    let runtime = aws_sdk_personalizeruntime::Client::new(&sdk_config(&h.local.url()).await);
    let traffic = Arc::new(Traffic::default());
    let stop = Arc::new(AtomicBool::new(false));
    let client = tokio::spawn({
        let (traffic, stop, filters) = (traffic.clone(), stop.clone(), filters.clone());
        let first_arn = first_arn.clone();
        async move {
            let mut user = 0u32;
            while !stop.load(Ordering::Relaxed) {
                user = (user + 1) % 60;
                let Some(arn) = filters
                    .get("genre")
                    .await
                    .ok()
                    .and_then(|f| f.status?.resource.arn)
                else {
                    traffic.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let values = HashMap::from([("GENRE".to_owned(), "\"Comedy\"".to_owned())]);
                let answer = runtime
                    .get_recommendations()
                    .campaign_arn(&campaign_arn)
                    .user_id(user.to_string())
                    .filter_arn(&arn)
                    .set_filter_values(Some(values))
                    .num_results(10)
                    .send()
                    .await;
                let Ok(answer) = answer else {
                    eprintln!("failed: {answer:?}");
                    traffic.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                traffic.ok.fetch_add(1, Ordering::Relaxed);
                let comedy = answer
                    .item_list()
                    .iter()
                    .filter_map(|i| i.item_id())
                    .map(|i| genre(i) == "Comedy")
                    .collect::<Vec<_>>();
                let included = arn == first_arn;
                if !included {
                    traffic.with_new.fetch_add(1, Ordering::Relaxed);
                }
                if comedy.is_empty() || comedy.iter().any(|&c| c != included) {
                    traffic.wrong.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });

    wait_until(&traffic.ok, 50).await;
    // Change the expression; a short grace so the old filter's deletion happens in the test.
    let patch = serde_json::json!({
        "spec": {
            "filterExpression": EXCLUDE_GENRE,
            "retireAfterSeconds": 2,
            "publish": {"configMapName": "genre-filter"}
        }
    });
    filters
        .patch("genre", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch the expression");
    let swapped = wait_for(
        "the new filter to be published and the old one deleted",
        || async {
            let status = filters.get("genre").await.ok()?.status?;
            let arn = status.resource.arn.clone()?;
            (arn != first_arn && status.retired.is_empty() && status.replacement_arn.is_none())
                .then_some(status)
        },
    )
    .await;
    assert_eq!(swapped.filter_expression.as_deref(), Some(EXCLUDE_GENRE));
    // spec.publish: the published ARN in a ConfigMap owned by the Filter, for apps.
    let config_maps: Api<ConfigMap> = Api::namespaced(h.kube.clone(), &h.ns);
    let new_arn = swapped.resource.arn.clone();
    let published = wait_for("the ConfigMap with the new ARN", || async {
        let cm = config_maps.get_opt("genre-filter").await.ok()??;
        let arn = cm.data.as_ref()?.get("filterArn").cloned();
        (arn == new_arn).then_some(cm)
    })
    .await;
    let owner = published.metadata.owner_references.unwrap_or_default();
    assert_eq!(owner.first().map(|o| o.kind.as_str()), Some("Filter"));
    // Some more traffic after the old filter is gone, then stop.
    wait_until(
        &traffic.with_new,
        traffic.with_new.load(Ordering::Relaxed) + 20,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    client.await.expect("traffic task");

    let (ok, failed, wrong) = (
        traffic.ok.load(Ordering::Relaxed),
        traffic.failed.load(Ordering::Relaxed),
        traffic.wrong.load(Ordering::Relaxed),
    );
    let with_new = traffic.with_new.load(Ordering::Relaxed);
    eprintln!(
        "filter swap under traffic: {ok} requests answered ({with_new} on the new filter), \
         {failed} failed, {wrong} answers that broke their filter"
    );
    assert!(
        ok - with_new >= 1 && with_new >= 20,
        "traffic on both filters: {ok}, {with_new}"
    );
    assert_eq!(failed, 0, "no request failed during the swap");
    assert_eq!(wrong, 0, "every answer obeyed the filter it named");

    // Only the new filter is left in Personalize; deleting the Filter removes it.
    let group_arn = swapped.dataset_group_arn.clone().expect("group ARN");
    let listed = h
        .aws
        .list_filters()
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .expect("list filters");
    let arns: Vec<_> = listed
        .filters()
        .iter()
        .filter_map(|f| f.filter_arn())
        .collect();
    assert_eq!(arns, [swapped.resource.arn.as_deref().unwrap_or_default()]);
    filters
        .delete("genre", &DeleteParams::default())
        .await
        .expect("delete the filter");
    wait_for("the Filter to be gone", || async {
        filters.get_opt("genre").await.ok()?.is_none().then_some(())
    })
    .await;
    let listed = h
        .aws
        .list_filters()
        .dataset_group_arn(&group_arn)
        .send()
        .await
        .expect("list filters");
    assert!(listed.filters().is_empty(), "{:?}", listed.filters());
    h.stop().await;
}

/// Waits until `counter` reaches `at_least` (at most [`TIMEOUT`]).
async fn wait_until(counter: &AtomicU64, at_least: u64) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while counter.load(Ordering::Relaxed) < at_least {
        assert!(tokio::time::Instant::now() < deadline, "traffic stalled");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

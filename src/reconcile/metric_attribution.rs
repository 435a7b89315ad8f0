//! `MetricAttribution`: its dataset group (a reference or an ARN), then the metric attribution,
//! whose metrics and output are changed in place (UpdateMetricAttribution).

use personalize_api::{MetricAttribution, MetricAttributionStatus};

use super::{Decided, Env, Error, Managed, aws_name, own_arn, settle, tags};
use crate::personalize::{
    MetricAttributionChange, MetricAttributionDetails, NewMetricAttribution, Observation, Status,
};
use crate::resource::{At, AwsResource, Deletion, Plan, Updated, lifecycle_plan};

impl AwsResource for NewMetricAttribution {
    /// Waits while it is created or updated; updates it while its metrics or output differ.
    fn plan(&self, observed: &Observation<MetricAttributionDetails>) -> Plan {
        match &observed.status {
            Status::Active
                if change(self, &observed.details) != MetricAttributionChange::default() =>
            {
                Plan::Update
            }
            Status::Other(s) if s.starts_with("UPDATE") => {
                Plan::wait("Updating", format!("metric attribution is {s}"))
            }
            _ => lifecycle_plan("metric attribution", observed),
        }
    }

    async fn update(&self, at: At<'_, MetricAttributionDetails>) -> Updated {
        let change = change(self, &at.observed.details);
        at.api.update_metric_attribution(at.arn, &change).await?;
        Ok("UpdateMetricAttribution")
    }
}

/// What UpdateMetricAttribution must send to go from `observed` to `desired`: metrics that are
/// not desired as they are, removed; desired metrics whose name is free, added; the output, if
/// it differs. A metric whose definition changed is removed by one update and added by the next
/// (Personalize refuses to add a name that is still there). Pure.
fn change(
    desired: &NewMetricAttribution,
    observed: &MetricAttributionDetails,
) -> MetricAttributionChange {
    let remove: Vec<String> = observed
        .metrics
        .iter()
        .filter(|m| !desired.metrics.contains(m))
        .map(|m| m.metric_name.clone())
        .collect();
    let add = desired
        .metrics
        .iter()
        .filter(|m| {
            !observed
                .metrics
                .iter()
                .any(|o| o.metric_name == m.metric_name)
        })
        .cloned()
        .collect();
    let output =
        (observed.output.as_ref() != Some(&desired.output)).then(|| desired.output.clone());
    MetricAttributionChange {
        add,
        remove,
        output,
    }
}

impl Managed for MetricAttribution {
    async fn sync(
        &self,
        env: &Env<'_>,
        group: String,
        status: &mut MetricAttributionStatus,
    ) -> Decided {
        status.dataset_group_arn = Some(group.clone());
        let mut metrics = self.spec.metrics.clone();
        metrics.sort();
        let desired = NewMetricAttribution {
            name: aws_name(self, self.spec.name.as_deref()),
            dataset_group_arn: group,
            metrics,
            output: self.spec.output.clone(),
            tags: tags(self, &self.spec.tags),
        };
        let synced = env.sync_own(self, &desired, status).await?;
        let (outcome, observed) = settle(synced, || {
            format!(
                "metric attribution {} is ACTIVE with {} metrics",
                desired.name,
                desired.metrics.len()
            )
        });
        let observed = observed.as_ref();
        status.resource.status = observed.map(|o| o.status.to_string());
        status.resource.failure_reason = observed.and_then(|o| o.failure_reason.clone());
        status.metric_names = observed.map(|o| {
            let names: Vec<&str> = o
                .details
                .metrics
                .iter()
                .map(|m| m.metric_name.as_str())
                .collect();
            names.join(",")
        });
        Ok(outcome)
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        env.delete_owned::<NewMetricAttribution>(own_arn(self))
            .await
    }
}

#[cfg(test)]
mod tests {
    use personalize_api::{Metric, MetricsOutput};

    use super::*;
    use crate::naming::OWNER_TAG;
    use crate::personalize::{Kind, Personalize, Tags};
    use crate::reconcile::testing::{World, arn_of, example};

    fn metric(name: &str, event_type: &str, expression: &str) -> Metric {
        Metric {
            metric_name: name.into(),
            event_type: event_type.into(),
            expression: expression.into(),
        }
    }

    fn output(role: &str, s3: Option<&str>) -> MetricsOutput {
        MetricsOutput {
            role_arn: role.into(),
            s3_path: s3.map(str::to_owned),
            kms_key_arn: None,
        }
    }

    fn desired(metrics: Vec<Metric>, out: MetricsOutput) -> NewMetricAttribution {
        NewMetricAttribution {
            name: "m".into(),
            dataset_group_arn: "arn:aws:personalize:us-east-1:000000000000:dataset-group/g".into(),
            metrics,
            output: out,
            tags: Tags::new(),
        }
    }

    const ROLE: &str = "arn:aws:iam::000000000000:role/R";

    #[test]
    fn plan_table() {
        let clicks = metric("CLICKS", "click", "SAMPLECOUNT()");
        let revenue = metric("REVENUE", "buy", "SUM(Items.PRICE)");
        let want = desired(vec![clicks.clone(), revenue.clone()], output(ROLE, None));
        let at = |status: Status, metrics: Vec<Metric>, out: Option<MetricsOutput>| Observation {
            status,
            failure_reason: None,
            details: MetricAttributionDetails {
                metrics,
                output: out,
            },
        };
        let same = || vec![clicks.clone(), revenue.clone()];
        let cases = [
            (at(Status::Active, same(), Some(output(ROLE, None))), "Done"),
            (
                at(
                    Status::Active,
                    vec![clicks.clone()],
                    Some(output(ROLE, None)),
                ),
                "Update",
            ),
            (
                at(
                    Status::Active,
                    same(),
                    Some(output(ROLE, Some("s3://b/p/"))),
                ),
                "Update",
            ),
            (at(Status::Active, same(), None), "Update"),
            (at(Status::CreatePending, vec![], None), "Creating"),
            (
                at(Status::Other("UPDATE IN_PROGRESS".into()), same(), None),
                "Updating",
            ),
            (at(Status::CreateFailed, vec![], None), "CreateFailed"),
            (at(Status::DeletePending, same(), None), "DeletedOutside"),
        ];
        for (observed, label) in cases {
            assert_eq!(want.plan(&observed).label(), label, "{observed:?}");
        }
    }

    #[test]
    fn a_changed_metric_is_removed_first_and_added_by_the_next_update() {
        let old = metric("CLICKS", "click", "SAMPLECOUNT()");
        let new = metric("CLICKS", "watch", "SAMPLECOUNT()");
        let extra = metric("REVENUE", "buy", "SUM(Items.PRICE)");
        let gone = metric("OLD", "view", "SAMPLECOUNT()");
        let want = desired(vec![new.clone(), extra.clone()], output(ROLE, None));
        let observed = MetricAttributionDetails {
            metrics: vec![old, gone],
            output: Some(output(ROLE, None)),
        };
        let first = change(&want, &observed);
        assert_eq!(first.remove, ["CLICKS", "OLD"]);
        assert_eq!(
            first.add,
            std::slice::from_ref(&extra),
            "REVENUE's name is free now"
        );
        assert_eq!(first.output, None, "the output is as desired");
        let after = MetricAttributionDetails {
            metrics: vec![extra],
            output: Some(output(ROLE, None)),
        };
        let second = change(&want, &after);
        assert_eq!(second.add, [new]);
        assert!(second.remove.is_empty());
    }

    fn example_attribution() -> MetricAttribution {
        example("30-metric-attribution.yaml")
    }

    /// A world with the example's metric attribution created (and its group Ready).
    async fn created() -> (World, MetricAttribution) {
        let mut world = World::new();
        let mut attribution = example_attribution();
        world
            .created_once_the_group_is_ready(&mut attribution, "CreateMetricAttribution")
            .await;
        (world, attribution)
    }

    #[tokio::test]
    async fn creates_it_once_the_group_is_ready_tagged_and_idle_resyncs_cost_two_reads() {
        let (world, mut attribution) = created().await;
        let arn = arn_of(&attribution);
        assert_eq!(
            world.fake.tags(&arn).get(OWNER_TAG).map(String::as_str),
            Some("team/movielens"),
            "tagged although CreateMetricAttribution takes no tags"
        );
        let status = attribution.status.clone().expect("status");
        assert_eq!(status.metric_names.as_deref(), Some("CLICKS,WATCHES"));
        let before = world.fake.total_calls();
        world.expect(&mut attribution, "Active", None).await;
        assert_eq!(
            world.fake.total_calls() - before,
            2,
            "Describe and ListMetricAttributionMetrics"
        );
    }

    #[tokio::test]
    async fn metrics_and_output_change_in_place() {
        let (world, mut attribution) = created().await;
        let arn = arn_of(&attribution);
        // A changed definition: removed by one update, added by the next.
        attribution.spec.metrics[0].event_type = "view".into();
        attribution.spec.output.s3_path = Some("s3://personalize-demo/metrics/".into());
        for _ in 0..2 {
            let update = Some("UpdateMetricAttribution");
            world.expect(&mut attribution, "Updating", update).await;
        }
        world.expect(&mut attribution, "Active", None).await;
        assert_eq!(world.fake.calls("UpdateMetricAttribution"), 2);
        assert_eq!(arn_of(&attribution), arn, "the same metric attribution");
        let observed = world.fake.describe_metric_attribution(&arn).await;
        let details = observed.expect("exists").details;
        assert!(details.metrics.contains(&attribution.spec.metrics[0]));
        assert_eq!(details.output, Some(attribution.spec.output.clone()));
    }

    #[tokio::test]
    async fn a_second_attribution_on_the_group_is_terminal_and_says_why() {
        let (world, _first) = created().await;
        let mut second = example_attribution();
        second.metadata.name = Some("another".into());
        let (outcome, _) = world.sync(&mut second).await;
        assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
        assert!(
            outcome
                .message()
                .contains("already has a metric attribution"),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn deleted_outside_is_created_again_and_cleanup_deletes_it() {
        let (world, mut attribution) = created().await;
        world
            .removed_and_recreated(&mut attribution, "CreateMetricAttribution")
            .await;
        world.cleanup_until_gone(&attribution).await;
        assert!(world.fake.arns(Kind::MetricAttribution).is_empty());
        assert_eq!(world.fake.calls("DeleteMetricAttribution"), 1);
    }

    #[tokio::test]
    async fn invalid_input_is_terminal() {
        let mut world = World::new();
        let mut attribution = example_attribution();
        crate::reconcile::testing::ready_group_and_solution(&mut world).await;
        world
            .fake
            .fail_next("CreateMetricAttribution", "InvalidInputException");
        world.expect(&mut attribution, "InvalidInput", None).await;
    }
}

//! `Recommender`: its domain dataset group (a reference or an ARN), then the recommender, whose
//! configuration is updated in place (UpdateRecommender) and which is started or stopped
//! (StartRecommender / StopRecommender) to match `spec.state`.

use std::collections::BTreeMap;

use personalize_api::{Recommender, RecommenderState, RecommenderStatus};

use super::{Decided, Env, Error, Managed, aws_name, own_arn, settle, tags};
use crate::personalize::{
    NewRecommender, Observation, RecommenderDetails, RecommenderSettings, Status,
};
use crate::resource::{At, AwsResource, Deletion, Plan, Updated, lifecycle_plan};

impl AwsResource for NewRecommender {
    /// Waits while it is created, started, stopped or updated; then starts or stops it to match
    /// the desired state, or updates its configuration where the spec sets a value Personalize
    /// does not have. An update that failed is not repeated for the same configuration.
    fn plan(&self, observed: &Observation<RecommenderDetails>) -> Plan {
        let status = &observed.status;
        if status.is_switching() {
            let reason = match status {
                Status::StartPending | Status::StartInProgress => "Starting",
                _ => "Stopping",
            };
            return Plan::wait(reason, format!("recommender is {status}"));
        }
        let update = observed.details.latest_update.as_ref();
        if let Some(update) = update.filter(|u| u.status.is_creating()) {
            return Plan::wait(
                "Updating",
                format!("recommender update is {}", update.status),
            );
        }
        let differs = differs_from(&self.config, &observed.details.config);
        if let Some(update) = update.filter(|u| u.status == Status::CreateFailed)
            && differs
            && !differs_from(&self.config, &update.config)
        {
            let reason = update
                .failure_reason
                .as_deref()
                .unwrap_or("no reason given");
            return Plan::fail(
                "UpdateFailed",
                format!("recommender update failed: {reason}"),
            );
        }
        match status {
            Status::Active if !self.running || differs => Plan::Update,
            Status::Inactive if self.running => Plan::Update,
            Status::Inactive => Plan::Done,
            _ => lifecycle_plan("recommender", observed),
        }
    }

    async fn update(&self, at: At<'_, RecommenderDetails>) -> Updated {
        if at.observed.status == Status::Inactive {
            at.api.set_recommender_running(at.arn, true).await?;
            Ok("StartRecommender")
        } else if !self.running {
            at.api.set_recommender_running(at.arn, false).await?;
            Ok("StopRecommender")
        } else {
            at.api.update_recommender(at.arn, &self.config).await?;
            Ok("UpdateRecommender")
        }
    }
}

/// Whether `want` sets a value that `have` does not (fields `want` leaves unset are
/// Personalize's to choose). Pure.
fn differs_from(want: &RecommenderSettings, have: &RecommenderSettings) -> bool {
    want.min_requests_per_second
        .is_some_and(|v| have.min_requests_per_second != Some(v))
        || want
            .enable_metadata
            .is_some_and(|v| have.enable_metadata != Some(v))
        || (!want.item_exploration.is_empty() && want.item_exploration != have.item_exploration)
}

/// Personalize's recommenderConfig for the spec's.
fn settings(spec: Option<&personalize_api::RecommenderConfig>) -> RecommenderSettings {
    let Some(spec) = spec else {
        return RecommenderSettings::default();
    };
    let mut exploration = BTreeMap::new();
    if let Some(weight) = spec.exploration_weight {
        exploration.insert("explorationWeight".to_owned(), weight.to_string());
    }
    if let Some(days) = spec.exploration_item_age_cut_off {
        exploration.insert("explorationItemAgeCutOff".to_owned(), days.to_string());
    }
    RecommenderSettings {
        min_requests_per_second: spec.min_recommendation_requests_per_second,
        item_exploration: exploration,
        enable_metadata: spec.enable_metadata_with_recommendations,
    }
}

impl Managed for Recommender {
    async fn sync(&self, env: &Env<'_>, group: String, status: &mut RecommenderStatus) -> Decided {
        status.dataset_group_arn = Some(group.clone());
        let desired = NewRecommender {
            name: aws_name(self, self.spec.name.as_deref()),
            dataset_group_arn: group,
            recipe_arn: self.spec.recipe_arn(),
            config: settings(self.spec.config.as_ref()),
            running: self.spec.state == RecommenderState::Active,
            tags: tags(self, &self.spec.tags),
        };
        let synced = env.sync_own(self, &desired, status).await?;
        let (outcome, observed) = settle(synced, || {
            let state = if desired.running {
                "ACTIVE"
            } else {
                "INACTIVE (stopped)"
            };
            format!("recommender {} is {state}", desired.name)
        });
        let observed = observed.as_ref();
        status.resource.status = observed.map(|o| o.status.to_string());
        status.resource.failure_reason = observed.and_then(|o| o.failure_reason.clone());
        let update = observed.and_then(|o| o.details.latest_update.as_ref());
        status.update_status = update.map(|u| u.status.to_string());
        Ok(outcome)
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        env.delete_owned::<NewRecommender>(own_arn(self)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personalize::fake::Fake;
    use crate::personalize::{Kind, RecommenderUpdate};
    use crate::reconcile::testing::{World, arn_of, ready_group_and_solution};

    fn top_picks() -> Recommender {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/video-on-demand/20-recommender-top-picks.yaml"
        ))
        .expect("example");
        let mut obj: Recommender = serde_yaml::from_str(&text).expect("parses");
        obj.metadata.namespace = Some(crate::reconcile::testing::NS.into());
        obj.metadata.uid = Some("uid-top-picks".into());
        // The tests' group is the MovieLens example's.
        obj.spec.dataset_group_ref = Some(personalize_api::ObjectRef {
            name: "movielens".into(),
            namespace: None,
        });
        obj
    }

    async fn world(steps: u32) -> (World, Recommender) {
        let mut world = World::with(Fake::with_steps(steps));
        ready_group_and_solution(&mut world).await;
        (world, top_picks())
    }

    fn observed(status: Status, rps: i32) -> Observation<RecommenderDetails> {
        let config = RecommenderSettings {
            min_requests_per_second: Some(rps),
            ..Default::default()
        };
        Observation::new(
            status,
            RecommenderDetails {
                config,
                latest_update: None,
            },
        )
    }

    #[test]
    fn plan_table() {
        let want = |rps: Option<i32>, running: bool| NewRecommender {
            config: RecommenderSettings {
                min_requests_per_second: rps,
                ..Default::default()
            },
            running,
            ..Default::default()
        };
        let failed_update = |rps: i32| {
            let mut o = observed(Status::Active, 1);
            o.details.latest_update = Some(RecommenderUpdate {
                status: Status::CreateFailed,
                config: RecommenderSettings {
                    min_requests_per_second: Some(rps),
                    ..Default::default()
                },
                failure_reason: Some("quota".into()),
            });
            o
        };
        let updating = {
            let mut o = observed(Status::Active, 1);
            o.details.latest_update = Some(RecommenderUpdate {
                status: Status::CreateInProgress,
                config: RecommenderSettings::default(),
                failure_reason: None,
            });
            o
        };
        let at = |status| observed(status, 1);
        let (run, stop) = (want(None, true), want(None, false));
        let cases = [
            (run.clone(), at(Status::Active), "Done"),
            (want(Some(1), true), at(Status::Active), "Done"),
            (want(Some(5), true), at(Status::Active), "Update"),
            (stop.clone(), at(Status::Active), "Update"),
            (stop, at(Status::Inactive), "Done"),
            (run.clone(), at(Status::Inactive), "Update"),
            (run.clone(), at(Status::StopPending), "Stopping"),
            (run.clone(), at(Status::StartInProgress), "Starting"),
            (run.clone(), at(Status::CreatePending), "Creating"),
            (run, at(Status::CreateFailed), "CreateFailed"),
            (want(Some(5), true), updating, "Updating"),
            (want(Some(5), true), failed_update(5), "UpdateFailed"),
            (want(Some(7), true), failed_update(5), "Update"),
        ];
        for (desired, observation, expected) in cases {
            let plan = desired.plan(&observation);
            assert_eq!(plan.label(), expected, "{desired:?} / {observation:?}");
        }
    }

    #[tokio::test]
    async fn creates_the_recommender_with_its_config_and_reports_it_active() {
        let (world, mut rec) = world(0).await;
        world
            .expect(&mut rec, "Active", Some("CreateRecommender"))
            .await;
        let status = rec.status.clone().expect("status");
        assert_eq!(status.resource.status.as_deref(), Some("ACTIVE"));
        assert!(status.dataset_group_arn.is_some());
        // An idle resync: one Describe.
        let before = world.fake.total_calls();
        let (_, changes) = world.sync(&mut rec).await;
        assert!(changes.is_empty());
        assert_eq!(world.fake.total_calls() - before, 1);
    }

    #[tokio::test]
    async fn inactive_stops_it_and_active_starts_it_again() {
        let (world, mut rec) = world(2).await;
        world.sync_until_ready(&mut rec).await;
        let arn = arn_of(&rec);
        rec.spec.state = RecommenderState::Inactive;
        world
            .expect(&mut rec, "Updating", Some("StopRecommender"))
            .await;
        world.expect(&mut rec, "Stopping", None).await;
        world.sync_until_ready(&mut rec).await;
        assert_eq!(world.fake.status(&arn), Some(Status::Inactive));
        rec.spec.state = RecommenderState::Active;
        world
            .expect(&mut rec, "Updating", Some("StartRecommender"))
            .await;
        world.sync_until_ready(&mut rec).await;
        assert_eq!(world.fake.status(&arn), Some(Status::Active));
        assert_eq!(world.fake.calls("CreateRecommender"), 1);
    }

    #[tokio::test]
    async fn a_config_change_updates_in_place() {
        let (world, mut rec) = world(2).await;
        world.sync_until_ready(&mut rec).await;
        let config = rec.spec.config.get_or_insert_default();
        config.min_recommendation_requests_per_second = Some(5);
        world
            .expect(&mut rec, "Updating", Some("UpdateRecommender"))
            .await;
        world.sync_until_ready(&mut rec).await;
        assert_eq!(world.fake.calls("UpdateRecommender"), 1, "updated once");
        assert_eq!(world.fake.arns(Kind::Recommender).len(), 1);
    }

    #[tokio::test]
    async fn deleted_outside_is_created_again_and_invalid_input_is_terminal() {
        let (world, mut rec) = world(0).await;
        world.sync(&mut rec).await;
        world
            .removed_and_recreated(&mut rec, "CreateRecommender")
            .await;
        let (world, mut rec) = self::world(0).await;
        world
            .fake
            .fail_next("CreateRecommender", "InvalidInputException");
        world.expect(&mut rec, "InvalidInput", None).await;
    }

    #[tokio::test]
    async fn cleanup_deletes_it_and_the_group_waits_for_it() {
        let (mut world, mut rec) = world(0).await;
        world.sync(&mut rec).await;
        world.put(&rec);
        let (mut group, ..) = crate::reconcile::testing::movielens();
        world.sync_until_ready(&mut group).await;
        let (step, _) = world.cleanup(&group).await.expect("cleanup step");
        assert!(
            matches!(&step, Deletion::Waiting { message, .. } if message.contains("Recommender team/top-picks")),
            "{step:?}"
        );
        world.cleanup_until_gone(&rec).await;
        assert!(world.fake.arns(Kind::Recommender).is_empty());
    }
}

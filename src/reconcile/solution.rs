//! `Solution`: its dataset group (Ready), then the solution (native auto-training sent
//! explicitly and kept in line through UpdateSolution), then its versions: the first once the
//! interactions are imported, retrains on the cron schedule or after each import, metrics of
//! each ACTIVE version, and the promoted one. The decisions about versions are in
//! [`super::training`]. Cleanup waits for the Campaigns that serve it, stops training in flight,
//! then deletes it.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use personalize_api::solution::SolutionVersionStatus;
use personalize_api::{Solution, SolutionStatus};

use super::dataset_group::{interactions_imported, referenced};
use super::training::{
    Decision, in_progress, promoted_version, sort_newest_first, training_decision,
    until_next_retrain,
};
use super::{
    Decided, Env, Error, Managed, Resolve, aws_name, namespace, own_arn, pending, tags, waiting_for,
};
use crate::outcome::{Outcome, Timing};
use crate::personalize::{
    AutoTraining, ErrorKind, Kind, Listing, NewSolution, Observation, Personalize, Request,
    SolutionDetails, Status, region_of, short_id,
};
use crate::references::References;
use crate::resource::{
    At, AwsResource, Changes, Deletion, Plan, Synced, Updated, delete_now, lifecycle_plan,
};

/// Versions kept in status.
pub const HISTORY: usize = 10;

impl AwsResource for NewSolution {
    async fn update(&self, at: At<'_, SolutionDetails>) -> Updated {
        at.api.update_solution(at.arn, self).await?;
        Ok("UpdateSolution")
    }

    /// Auto-training, event weights and incremental updates change in place (UpdateSolution);
    /// never during an update. Event weights and incremental updates left unset in the spec
    /// are Personalize's to keep.
    fn plan(&self, observed: &Observation<SolutionDetails>) -> Plan {
        let want = &self.auto_training;
        let have = &observed.details;
        if observed.status != Status::Active {
            return lifecycle_plan("solution", observed);
        }
        if have.update_status.as_ref().is_some_and(Status::is_creating) {
            return Plan::wait("Updating", "solution update in progress");
        }
        let schedule_differs =
            want.enabled && want.schedule.is_some() && want.schedule != have.schedule;
        let events_differ = !self.events.is_empty() && self.events != have.events;
        let incremental_differs = self
            .incremental_update
            .is_some_and(|v| have.incremental_update != Some(v));
        if want.enabled != have.perform_auto_training.unwrap_or(true)
            || schedule_differs
            || events_differ
            || incremental_differs
        {
            return Plan::Update;
        }
        Plan::Done
    }
}

/// Native auto-training as the spec wants it: off unless enabled.
fn auto_training(sol: &Solution) -> AutoTraining {
    let auto = sol
        .spec
        .training
        .as_ref()
        .and_then(|t| t.auto_training.as_ref());
    match auto {
        Some(a) if a.enabled => AutoTraining {
            enabled: true,
            schedule: a.schedule.clone(),
        },
        _ => AutoTraining::default(),
    }
}

/// What the solution trains on: the dataset group ARN and the revision of its last interactions
/// import (`None` until imported; a raw ARN is assumed to hold data).
pub struct Data {
    group_arn: String,
    imported: Option<String>,
}

/// The solution as the spec wants it, in the dataset group `group_arn`.
fn desired(sol: &Solution, group_arn: &str) -> NewSolution {
    let config = sol.spec.config.clone().unwrap_or_default();
    let mut events = sol.spec.events_config.clone();
    events.sort_by(|a, b| a.event_type.cmp(&b.event_type));
    NewSolution {
        name: aws_name(sol, sol.spec.name.as_deref()),
        dataset_group_arn: group_arn.to_owned(),
        recipe_arn: sol.spec.recipe_arn(),
        event_type: sol.spec.event_type.clone(),
        perform_hpo: sol.spec.perform_hpo,
        auto_training: auto_training(sol),
        event_value_threshold: config.event_value_threshold,
        hyper_parameters: config.algorithm_hyper_parameters,
        feature_transformation: config.feature_transformation_parameters,
        events,
        incremental_update: sol.spec.perform_incremental_update,
        training_data: config.training_data_config,
        hpo: config.hpo_config,
        tags: tags(sol, &sol.spec.tags),
    }
}

impl Resolve for Solution {
    type Refs = Data;

    /// The group must be ACTIVE for the solution to be created; training waits for the import.
    async fn resolve(&self, env: &Env<'_>) -> Result<Result<Data, Outcome>, Error> {
        if let Some(arn) = &self.spec.dataset_group_arn {
            return Ok(Ok(Data {
                group_arn: arn.clone(),
                imported: Some("external".into()),
            }));
        }
        let reference = self.spec.dataset_group_ref.as_ref();
        let group = referenced(env, &namespace(self)?, reference).await?;
        Ok(group.and_then(|dg| {
            let status = dg.status.as_ref();
            let active =
                status.and_then(|s| s.resource.status.as_deref()) == Some(Status::Active.as_str());
            match status.and_then(|s| s.resource.arn.clone()) {
                Some(group_arn) if active => Ok(Data {
                    group_arn,
                    imported: interactions_imported(&dg),
                }),
                _ => Err(waiting_for(
                    "DatasetGroupNotReady",
                    format!("DatasetGroup {} is not ACTIVE yet", dg.name_any()),
                )),
            }
        }))
    }
}

impl Managed for Solution {
    async fn sync(&self, env: &Env<'_>, data: Data, status: &mut SolutionStatus) -> Decided {
        let region = region_of(&data.group_arn);
        let desired = desired(self, &data.group_arn);
        let synced = env.sync_own(self, &desired, status).await?;
        let (arn, observed) = match synced {
            Synced::Done(arn, observed) => (arn, observed),
            Synced::Pending(why, observed) => {
                status.resource.status = observed.map(|o| o.status.to_string());
                return Ok(pending(why));
            }
        };
        status.resource.status = Some(observed.status.to_string());
        let api = env.personalize(region);
        versions(api.as_ref(), &arn, &observed.details, status).await?;
        status.promoted_version_arn = promoted_version(
            &status.versions,
            status.promoted_version_arn.as_deref(),
            self.spec.promotion.as_ref(),
        );
        train(self, api.as_ref(), &arn, &data, env, status).await
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        let changes = &env.changes;
        let Some(arn) = own_arn(self) else {
            return Ok(Deletion::Gone);
        };
        let refs = env.references;
        let dependents =
            References::referrers(&refs.campaigns, self, |c| c.spec.solution_ref.as_ref()).await?;
        if !dependents.is_empty() {
            let message = format!("waiting for {} to be deleted first", dependents.join(", "));
            return Ok(Deletion::waiting("DependentsExist", message));
        }
        let api = env.personalize(region_of(&arn));
        delete_solution(api.as_ref(), &arn, changes).await
    }

    fn requeue(
        &self,
        status: &SolutionStatus,
        now: Timestamp,
        _timing: Timing,
    ) -> Option<Duration> {
        let retrain = self.spec.training.as_ref()?.retrain.as_ref()?;
        until_next_retrain(retrain.schedule.as_deref()?, &status.versions, now)
    }
}

/// Refreshes the versions in status, newest first (at most [`HISTORY`]), with the metrics of
/// the ACTIVE ones (fetched once per version). DescribeSolution names the newest version: when
/// that is the one already known, finished, nothing changed and no call is made.
async fn versions(
    api: &dyn Personalize,
    arn: &str,
    solution: &SolutionDetails,
    status: &mut SolutionStatus,
) -> Result<(), Error> {
    let known_newest = status.versions.first();
    let unchanged = solution
        .latest_version
        .as_ref()
        .zip(known_newest)
        .is_some_and(|((latest, state), known)| {
            *latest == known.arn
                && Some(state.as_str()) == known.status.as_deref()
                && !state.is_in_flight()
        });
    if !unchanged {
        let listed = api.list(Listing::SolutionVersions(arn)).await?;
        let mut versions: Vec<SolutionVersionStatus> = listed
            .into_iter()
            .map(|v| SolutionVersionStatus {
                arn: v.arn,
                status: v.status.map(|s| s.to_string()),
                training_mode: v.training_mode,
                created: v.created.map(|t| t.to_string()),
                failure_reason: v.failure_reason,
                metrics: BTreeMap::new(),
            })
            .collect();
        sort_newest_first(&mut versions, &status.versions);
        versions.truncate(HISTORY);
        for version in &mut versions {
            let known = status
                .versions
                .iter()
                .find(|v| v.arn == version.arn && !v.metrics.is_empty());
            if let Some(known) = known {
                version.metrics = known.metrics.clone();
            } else if version.status.as_deref() == Some(Status::Active.as_str()) {
                version.metrics = api.solution_metrics(&version.arn).await?;
            }
        }
        status.versions = versions;
    }
    let latest_active = status
        .versions
        .iter()
        .find(|v| v.status.as_deref() == Some(Status::Active.as_str()));
    status.latest_version_arn = latest_active.map(|v| v.arn.clone());
    status.latest_version = latest_active.map(|v| short_id(&v.arn).to_owned());
    Ok(())
}

/// Starts training when [`training_decision`] says so; the outcome says where training stands.
async fn train(
    sol: &Solution,
    api: &dyn Personalize,
    arn: &str,
    data: &Data,
    env: &Env<'_>,
    status: &mut SolutionStatus,
) -> Result<Outcome, Error> {
    // Versions exist but the import they followed was never recorded (the status write was
    // lost, or the solution was adopted): they count as trained on the current data.
    if status.trained_on_import.is_none() && !status.versions.is_empty() {
        status.trained_on_import = data.imported.clone();
    }
    let retrain = sol.spec.training.as_ref().and_then(|t| t.retrain.as_ref());
    let decision = training_decision(
        &status.versions,
        data.imported.as_deref(),
        status.trained_on_import.as_deref(),
        retrain,
        env.now,
    );
    Ok(match decision {
        Decision::Train { mode, why } => {
            let version = api.create_solution_version(arn, mode.as_str()).await?;
            env.changes.record(
                "CreateSolutionVersion",
                format!("training {} version {version}: {why}", mode.as_str()),
            );
            status.trained_on_import = data.imported.clone();
            Outcome::Progressing {
                reason: "Training",
                message: format!("training version {}: {why}", short_id(&version)),
            }
        }
        Decision::WaitForTraining(version) => Outcome::Progressing {
            reason: "Training",
            message: format!("training version {}", short_id(&version)),
        },
        Decision::WaitForData => Outcome::Progressing {
            reason: "WaitingForData",
            message: "waiting for the dataset group's interactions to be imported".into(),
        },
        Decision::Idle => match (&status.latest_version_arn, status.versions.first()) {
            (Some(latest), _) => Outcome::Ready {
                message: format!("solution is ACTIVE; latest version {}", short_id(latest)),
            },
            (None, Some(failed)) => Outcome::Terminal {
                reason: "TrainingFailed",
                message: format!(
                    "training of version {} failed: {}",
                    short_id(&failed.arn),
                    failed
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            },
            (None, None) => Outcome::Progressing {
                reason: "WaitingForData",
                message: "no version trained yet".into(),
            },
        },
    })
}

/// One step of deleting a solution: wait for campaigns on it (made elsewhere too), stop
/// training in flight, then DeleteSolution (which deletes its versions).
async fn delete_solution(
    api: &dyn Personalize,
    arn: &str,
    changes: &Changes,
) -> Result<Deletion, Error> {
    let Some(observed) = crate::personalize::found(NewSolution::describe(api, arn).await)? else {
        return Ok(Deletion::Gone);
    };
    if observed.status.is_deleting() {
        return Ok(Deletion::waiting(
            "Deleting",
            format!("solution is {}", observed.status),
        ));
    }
    let campaigns = api.list(Listing::Campaigns(arn)).await?;
    if !campaigns.is_empty() {
        let names: Vec<&str> = campaigns.iter().filter_map(|c| c.name.as_deref()).collect();
        return Ok(Deletion::waiting(
            "DependentsExist",
            format!("waiting for campaigns {} to be deleted", names.join(", ")),
        ));
    }
    let mut stopping = Vec::new();
    for version in api.list(Listing::SolutionVersions(arn)).await? {
        let state = version.status.as_ref().map(Status::as_str);
        if !in_progress(state) {
            continue;
        }
        if version.status != Some(Status::CreateStopping) {
            match api.stop_solution_version(&version.arn).await {
                Ok(()) => changes.record(
                    "StopSolutionVersionCreation",
                    format!("stopping training of {}", version.arn),
                ),
                Err(err) if matches!(err.kind, ErrorKind::NotFound | ErrorKind::InvalidInput) => {}
                Err(err) => return Err(err.into()),
            }
        }
        stopping.push(short_id(&version.arn).to_owned());
    }
    if !stopping.is_empty() {
        return Ok(Deletion::waiting(
            "StoppingTraining",
            format!(
                "waiting for training of versions {} to stop",
                stopping.join(", ")
            ),
        ));
    }
    Ok(delete_now(api, Kind::Solution, arn, changes).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::testing::{World, arn_of, movielens, ready_group_and_solution};

    #[test]
    fn plan_table() {
        let desired = |enabled: bool, schedule: Option<&str>| NewSolution {
            auto_training: AutoTraining {
                enabled,
                schedule: schedule.map(str::to_owned),
            },
            ..NewSolution::default()
        };
        let observed = |status: Status, auto: Option<bool>, schedule: Option<&str>| {
            Observation::new(
                status,
                SolutionDetails {
                    perform_auto_training: auto,
                    schedule: schedule.map(str::to_owned),
                    ..SolutionDetails::default()
                },
            )
        };
        let mut updating = observed(Status::Active, Some(true), None);
        updating.details.update_status = Some(Status::CreateInProgress);
        let cases = [
            (
                "off as wanted",
                desired(false, None),
                observed(Status::Active, Some(false), None),
                Plan::Done,
            ),
            (
                "AWS's default (on) is turned off",
                desired(false, None),
                observed(Status::Active, None, None),
                Plan::Update,
            ),
            (
                "turned on",
                desired(true, None),
                observed(Status::Active, Some(false), None),
                Plan::Update,
            ),
            (
                "new schedule",
                desired(true, Some("rate(3 days)")),
                observed(Status::Active, Some(true), Some("rate(7 days)")),
                Plan::Update,
            ),
            (
                "same schedule",
                desired(true, Some("rate(3 days)")),
                observed(Status::Active, Some(true), Some("rate(3 days)")),
                Plan::Done,
            ),
            (
                "never during an update",
                desired(false, None),
                updating,
                Plan::wait("Updating", "solution update in progress"),
            ),
        ];
        for (what, desired, observed, want) in cases {
            assert_eq!(desired.plan(&observed), want, "{what}");
        }
        assert!(matches!(
            desired(false, None).plan(&observed(Status::CreateInProgress, None, None)),
            Plan::Wait {
                reason: "Creating",
                ..
            }
        ));
        assert!(matches!(
            desired(false, None).plan(&observed(Status::CreateFailed, None, None)),
            Plan::Fail {
                reason: "CreateFailed",
                ..
            }
        ));
    }

    fn is_ready(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Ready { .. })
    }

    #[tokio::test]
    async fn trains_the_first_version_once_the_data_is_imported_and_promotes_it() {
        let mut world = World::new();
        let (_, mut solution, _, _) = movielens();
        let (outcome, _) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "DatasetGroupNotFound", "{outcome:?}");
        let (mut group, ..) = movielens();
        world.sync_until_ready(&mut group).await;
        world.put(&group);
        let (outcome, changes) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "Training", "{outcome:?}");
        let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
        assert_eq!(actions, ["CreateSolution", "CreateSolutionVersion"]);
        let (outcome, _) = world.sync(&mut solution).await;
        assert!(is_ready(&outcome), "{outcome:?}");
        let status = solution.status.clone().expect("status");
        let latest = status.latest_version_arn.clone().expect("a version");
        assert_eq!(
            status.promoted_version_arn.as_deref(),
            Some(latest.as_str()),
            "passes the gate"
        );
        assert!(!status.versions[0].metrics.is_empty(), "metrics recorded");
        // Idle: one DescribeSolution, nothing listed again.
        let before = world.fake.total_calls();
        let (outcome, changes) = world.sync(&mut solution).await;
        assert!(is_ready(&outcome) && changes.is_empty());
        assert_eq!(world.fake.total_calls() - before, 1);
    }

    #[tokio::test]
    async fn auto_training_changes_in_place_through_update_solution() {
        let mut world = World::new();
        let (_, mut solution) = ready_group_and_solution(&mut world).await;
        let training = solution.spec.training.get_or_insert_default();
        training.auto_training = Some(personalize_api::solution::AutoTraining {
            enabled: true,
            schedule: Some("rate(3 days)".into()),
        });
        let (outcome, changes) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "Updating", "{outcome:?}");
        assert_eq!(changes[0].action, "UpdateSolution");
        let (outcome, _) = world.sync(&mut solution).await;
        assert!(is_ready(&outcome), "{outcome:?}");
        assert_eq!(
            world.fake.calls("CreateSolution"),
            1,
            "updated, not replaced"
        );
    }

    #[test]
    fn event_weights_and_incremental_updates_unset_in_the_spec_are_left_alone() {
        let click = |weight: f64| personalize_api::solution::EventParameters {
            event_type: "click".into(),
            weight,
            event_value_threshold: None,
        };
        let want = |events: Vec<_>, incremental: Option<bool>| NewSolution {
            events,
            incremental_update: incremental,
            ..NewSolution::default()
        };
        let have = |events: Vec<_>, incremental: Option<bool>| {
            Observation::new(
                Status::Active,
                SolutionDetails {
                    perform_auto_training: Some(false),
                    events,
                    incremental_update: incremental,
                    ..SolutionDetails::default()
                },
            )
        };
        let cases = [
            (
                want(vec![], None),
                have(vec![click(0.5)], Some(true)),
                Plan::Done,
            ),
            (
                want(vec![click(0.5)], None),
                have(vec![click(0.5)], None),
                Plan::Done,
            ),
            (
                want(vec![click(1.0)], None),
                have(vec![click(0.5)], None),
                Plan::Update,
            ),
            (
                want(vec![click(1.0)], None),
                have(vec![], None),
                Plan::Update,
            ),
            (
                want(vec![], Some(true)),
                have(vec![], Some(false)),
                Plan::Update,
            ),
            (want(vec![], Some(true)), have(vec![], None), Plan::Update),
            (
                want(vec![], Some(false)),
                have(vec![], Some(false)),
                Plan::Done,
            ),
        ];
        for (desired, observed, plan) in cases {
            assert_eq!(desired.plan(&observed), plan, "{desired:?} {observed:?}");
        }
    }

    #[tokio::test]
    async fn event_weights_change_in_place_through_update_solution() {
        let mut world = World::new();
        let (_, mut solution) = ready_group_and_solution(&mut world).await;
        solution.spec.events_config = vec![personalize_api::solution::EventParameters {
            event_type: "watch".into(),
            weight: 0.8,
            event_value_threshold: None,
        }];
        solution.spec.perform_incremental_update = Some(true);
        world
            .expect(&mut solution, "Updating", Some("UpdateSolution"))
            .await;
        let (outcome, changes) = world.sync(&mut solution).await;
        assert!(is_ready(&outcome) && changes.is_empty(), "{outcome:?}");
        assert_eq!(world.fake.calls("UpdateSolution"), 1);
        assert_eq!(world.fake.calls("CreateSolution"), 1, "not replaced");
    }

    #[tokio::test]
    async fn a_new_import_retrains() {
        let mut world = World::new();
        let (mut group, mut solution) = ready_group_and_solution(&mut world).await;
        let import = group
            .spec
            .datasets
            .interactions
            .import
            .as_mut()
            .expect("import");
        import.revision = "2".into();
        world.sync_until_ready(&mut group).await;
        world.put(&group);
        let (outcome, changes) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "Training", "{outcome:?}");
        assert_eq!(changes[0].action, "CreateSolutionVersion");
        assert_eq!(world.fake.calls("CreateSolutionVersion"), 2);
    }

    #[tokio::test]
    async fn adopts_its_own_solution_refuses_a_foreign_one_and_retries_when_throttled() {
        let mut world = World::new();
        let (_, mut solution) = ready_group_and_solution(&mut world).await;
        // The status write was lost: the solution tagged as ours is taken over, not duplicated.
        solution.status = None;
        let (outcome, changes) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "Active", "{outcome:?}");
        assert_eq!(changes[0].action, "AdoptSolution");
        assert_eq!(world.fake.arns(Kind::Solution).len(), 1);
        // Another object's solution of the same name.
        let (_, mut other, ..) = movielens();
        other.metadata.namespace = Some("elsewhere".into());
        other.spec.name = Some(aws_name(&solution, None));
        if let Some(r) = other.spec.dataset_group_ref.as_mut() {
            r.namespace = Some("team".into());
        }
        let (outcome, _) = world.sync(&mut other).await;
        assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
        world
            .fake
            .fail_next("DescribeSolution", "ThrottlingException");
        let (outcome, _) = world.sync(&mut solution).await;
        assert_eq!(outcome.reason(), "Throttled", "{outcome:?}");
    }

    #[tokio::test]
    async fn cleanup_waits_for_its_campaigns_then_stops_training_and_deletes() {
        let mut world = World::with(crate::personalize::fake::Fake::with_steps(2));
        let (mut group, mut solution, campaign, _) = movielens();
        world.sync_until_ready(&mut group).await;
        world.put(&group);
        world.sync(&mut solution).await; // creating
        world.sync(&mut solution).await; // training starts
        world.put(&campaign);
        let (step, _) = world.cleanup(&solution).await.expect("step");
        assert!(
            matches!(&step, Deletion::Waiting { reason: "DependentsExist", message } if message.contains("Campaign team/movielens")),
            "{step:?}"
        );
        let world = World::with(world.fake.clone());
        let version = solution.status.as_ref().map(|s| s.versions.len());
        let steps = world.cleanup_until_gone(&solution).await;
        assert_eq!(
            world.fake.calls("StopSolutionVersionCreation"),
            1,
            "{version:?} {steps:?}"
        );
        assert_eq!(world.fake.calls("DeleteSolution"), 1, "{steps:?}");
        assert!(world.fake.status(&arn_of(&solution)).is_none(), "gone");
    }
}

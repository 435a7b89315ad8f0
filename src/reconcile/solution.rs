//! Reconciles a `Solution`: creates it once its dataset group is Ready (sending
//! `performAutoTraining` explicitly), keeps native auto-training in line through UpdateSolution,
//! trains the first version once the interactions are imported, retrains on the cron schedule or
//! after each new import, records recent versions with their metrics, and promotes versions that
//! pass the gate. Cleanup waits for Campaigns, stops in-flight training, then deletes.
//!
//! The decisions (`training_decision`, `promoted_version`, `passes_gate`) are pure functions,
//! tested below without AWS or Kubernetes.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use aws_sdk_personalize::types::{
    AutoTrainingConfig, SolutionConfig as AwsSolutionConfig, SolutionUpdateConfig,
    TrainingMode as AwsTrainingMode,
};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::controller::Action;
use personalize_api::aws_status::{ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING};
use personalize_api::solution::{Promotion, Retrain, SolutionVersionStatus, TrainingMode};
use personalize_api::{Campaign, DeletionPolicy, Solution, SolutionStatus};

use super::ownership::{may_adopt, name_taken, sibling_arn, tags};
use super::{
    Context, Error, finish, namespace, outcome_of, retain, still_deleting, with_finalizer,
};
use crate::aws::{AwsError, AwsResultExt, ErrorKind, region_of, short_id};
use crate::naming::aws_name;
use crate::outcome::Outcome;

/// Versions kept in status.
pub const HISTORY: usize = 10;

/// The controller's entry point for one Solution.
pub async fn reconcile(obj: Arc<Solution>, ctx: Arc<Context>) -> Result<Action, Error> {
    with_finalizer(obj, &ctx, |o| apply(o, &ctx), |o| cleanup(o, &ctx)).await
}

async fn apply(sol: Arc<Solution>, ctx: &Context) -> Result<Action, Error> {
    let mut status = sol.status.clone().unwrap_or_default();
    let outcome = match sync(&sol, ctx, &mut status).await {
        Ok(outcome) => outcome,
        Err(err) => outcome_of(err)?,
    };
    let ready = matches!(outcome, Outcome::Ready { .. });
    let next_retrain = next_scheduled_retrain(sol.as_ref(), &status, Timestamp::now());
    let action = finish(sol.as_ref(), ctx, status, outcome, true).await?;
    // A Ready solution with a retrain schedule looks again when it comes due, not a resync late.
    Ok(match next_retrain {
        Some(wait) if ready && wait < ctx.timing.resync => Action::requeue(wait),
        _ => action,
    })
}

/// How long until the retrain schedule next comes due after the newest version (at least 1 s),
/// if the spec has a schedule.
fn next_scheduled_retrain(
    sol: &Solution,
    status: &SolutionStatus,
    now: Timestamp,
) -> Option<std::time::Duration> {
    let schedule = sol
        .spec
        .training
        .as_ref()?
        .retrain
        .as_ref()?
        .schedule
        .as_deref()?;
    let since = status.versions.first()?.created.as_deref()?;
    let due = next_occurrence(schedule, Timestamp::from_str(since).ok()?)?;
    let wait = due.duration_since(now);
    Some(
        std::time::Duration::try_from(wait)
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1)),
    )
}

/// What the solution trains on: the dataset group ARN and the revision of its last interactions
/// import (`None` until imported; a raw ARN is assumed to hold data).
struct Data {
    group_arn: String,
    imported: Option<String>,
}

async fn resolve_data(sol: &Solution, ctx: &Context) -> Result<Result<Data, Outcome>, Error> {
    if let Some(arn) = &sol.spec.dataset_group_arn {
        return Ok(Ok(Data {
            group_arn: arn.clone(),
            imported: Some("external".into()),
        }));
    }
    let Some(r) = &sol.spec.dataset_group_ref else {
        return Ok(Err(Outcome::Terminal {
            reason: "NoDatasetGroup",
            message: "spec.datasetGroupRef is missing".into(),
        }));
    };
    let ns = namespace(sol)?;
    let Some(dg) = super::dataset_group::resolve(ctx, r, &ns).await? else {
        return Ok(Err(Outcome::WaitingForReference {
            reason: "DatasetGroupNotFound",
            message: format!(
                "DatasetGroup {}/{} does not exist",
                r.namespace_or(&ns),
                r.name
            ),
        }));
    };
    // The solution can be created as soon as the group exists; training waits for the import.
    let arn = dg.status.as_ref().and_then(|s| s.resource.arn.clone());
    let active = dg
        .status
        .as_ref()
        .and_then(|s| s.resource.status.as_deref())
        == Some(ACTIVE);
    match arn {
        Some(group_arn) if active => Ok(Ok(Data {
            group_arn,
            imported: super::dataset_group::interactions_imported(&dg),
        })),
        _ => Ok(Err(Outcome::WaitingForReference {
            reason: "DatasetGroupNotReady",
            message: format!("DatasetGroup {} is not ACTIVE yet", dg.name_any()),
        })),
    }
}

fn solution_config(sol: &Solution) -> AwsSolutionConfig {
    let mut config = AwsSolutionConfig::builder();
    if let Some(c) = &sol.spec.config {
        config = config
            .set_event_value_threshold(c.event_value_threshold.clone())
            .set_algorithm_hyper_parameters(non_empty(&c.algorithm_hyper_parameters))
            .set_feature_transformation_parameters(non_empty(&c.feature_transformation_parameters));
    }
    if let Some(schedule) = auto_training(sol).1 {
        config = config.auto_training_config(
            AutoTrainingConfig::builder()
                .scheduling_expression(schedule)
                .build(),
        );
    }
    config.build()
}

fn non_empty(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// Native auto-training as the spec wants it: (enabled, schedule). Off unless enabled.
fn auto_training(sol: &Solution) -> (bool, Option<String>) {
    let auto = sol
        .spec
        .training
        .as_ref()
        .and_then(|t| t.auto_training.as_ref());
    match auto {
        Some(a) if a.enabled => (true, a.schedule.clone()),
        _ => (false, None),
    }
}

async fn sync(
    sol: &Solution,
    ctx: &Context,
    status: &mut SolutionStatus,
) -> Result<Outcome, Error> {
    let data = match resolve_data(sol, ctx).await? {
        Ok(data) => data,
        Err(outcome) => return Ok(outcome),
    };
    let client = ctx.aws.personalize(region_of(&data.group_arn));
    let name = aws_name(sol.spec.name.as_deref(), &namespace(sol)?, &sol.name_any());

    // 1. The solution.
    let arn = match status.resource.arn.clone() {
        Some(arn) => arn,
        None => {
            let (auto, _) = auto_training(sol);
            let create = client
                .create_solution()
                .name(&name)
                .dataset_group_arn(&data.group_arn)
                .recipe_arn(sol.spec.recipe_arn())
                .set_event_type(sol.spec.event_type.clone())
                .perform_hpo(sol.spec.perform_hpo)
                .perform_auto_training(auto)
                .solution_config(solution_config(sol))
                .set_tags(Some(tags(sol, &sol.spec.tags)))
                .send()
                .await
                .aws("CreateSolution");
            let arn = match create {
                Ok(out) => {
                    let arn = out.solution_arn().unwrap_or_default().to_owned();
                    ctx.mutated(
                        sol,
                        "CreateSolution",
                        format!("created solution {arn} (auto-training {auto})"),
                    )
                    .await;
                    arn
                }
                Err(err) if err.kind == ErrorKind::AlreadyExists => {
                    let arn = sibling_arn(&data.group_arn, &format!("solution/{name}"));
                    if !may_adopt(&client, sol, &arn).await? {
                        return Ok(Outcome::Terminal {
                            reason: "NameTaken",
                            message: name_taken("solution", &name),
                        });
                    }
                    arn
                }
                Err(err) => return Err(err.into()),
            };
            status.resource.arn = Some(arn.clone());
            super::patch_status(sol, ctx, status).await?;
            arn
        }
    };

    let solution = match client
        .describe_solution()
        .solution_arn(&arn)
        .send()
        .await
        .aws("DescribeSolution")
    {
        Ok(out) => out.solution().cloned(),
        Err(err) if err.is_not_found() => {
            *status = SolutionStatus::default();
            return Ok(Outcome::Progressing {
                reason: "Recreating",
                message: format!(
                    "solution {arn} no longer exists in Personalize; creating it again"
                ),
            });
        }
        Err(err) => return Err(err.into()),
    };
    let state = solution
        .as_ref()
        .and_then(|s| s.status())
        .unwrap_or_default()
        .to_owned();
    status.resource.status = Some(state.clone());
    match state.as_str() {
        ACTIVE => {}
        CREATE_FAILED => {
            return Ok(Outcome::Terminal {
                reason: "CreateFailed",
                message: "Personalize could not create the solution".into(),
            });
        }
        other => {
            return Ok(Outcome::Progressing {
                reason: "Creating",
                message: format!("solution is {other}"),
            });
        }
    }

    // 2. Native auto-training, changed in place.
    if let Some(solution) = &solution {
        let (want_auto, want_schedule) = auto_training(sol);
        let have_auto = solution.perform_auto_training().unwrap_or(true);
        let have_schedule = solution
            .solution_config()
            .and_then(|c| c.auto_training_config())
            .and_then(|a| a.scheduling_expression())
            .map(str::to_owned);
        let updating = solution
            .latest_solution_update()
            .and_then(|u| u.status())
            .is_some_and(|s| s == CREATE_PENDING || s == CREATE_IN_PROGRESS);
        let schedule_differs =
            want_auto && want_schedule.is_some() && want_schedule != have_schedule;
        if !updating && (want_auto != have_auto || schedule_differs) {
            let mut update = SolutionUpdateConfig::builder();
            if let Some(schedule) = &want_schedule {
                update = update.auto_training_config(
                    AutoTrainingConfig::builder()
                        .scheduling_expression(schedule)
                        .build(),
                );
            }
            client
                .update_solution()
                .solution_arn(&arn)
                .perform_auto_training(want_auto)
                .solution_update_config(update.build())
                .send()
                .await
                .aws("UpdateSolution")?;
            ctx.mutated(
                sol,
                "UpdateSolution",
                format!("auto-training set to {want_auto}"),
            )
            .await;
            return Ok(Outcome::Progressing {
                reason: "Updating",
                message: "updating auto-training settings".into(),
            });
        }
        if updating {
            return Ok(Outcome::Progressing {
                reason: "Updating",
                message: "solution update in progress".into(),
            });
        }
    }

    // 3. Versions, newest first, with metrics for the ACTIVE ones. DescribeSolution names the
    // newest version: when that is the one we know, finished, the history has not changed and
    // an idle resync costs that one call.
    let latest = solution.as_ref().and_then(|s| s.latest_solution_version());
    let known_newest = status.versions.first();
    let unchanged = latest.zip(known_newest).is_some_and(|(l, k)| {
        l.solution_version_arn() == Some(k.arn.as_str())
            && l.status() == k.status.as_deref()
            && !in_progress(l.status())
    });
    if !unchanged {
        refresh_versions(&client, &arn, status).await?;
    }
    let latest_active = status
        .versions
        .iter()
        .find(|v| v.status.as_deref() == Some(ACTIVE));
    status.latest_version_arn = latest_active.map(|v| v.arn.clone());
    status.latest_version = latest_active.map(|v| short_id(&v.arn).to_owned());
    status.promoted_version_arn = promoted_version(
        &status.versions,
        status.promoted_version_arn.as_deref(),
        sol.spec.promotion.as_ref(),
    );

    // 4. Training. Versions exist but the import they followed was never recorded (the status
    // write was lost, or the solution was adopted): they count as trained on the current data.
    if status.trained_on_import.is_none() && !status.versions.is_empty() {
        status.trained_on_import = data.imported.clone();
    }
    let retrain = sol.spec.training.as_ref().and_then(|t| t.retrain.as_ref());
    let decision = training_decision(
        &status.versions,
        data.imported.as_deref(),
        status.trained_on_import.as_deref(),
        retrain,
        Timestamp::now(),
    );
    match decision {
        Decision::Train { mode, why } => {
            let out = client
                .create_solution_version()
                .solution_arn(&arn)
                .training_mode(AwsTrainingMode::from(mode.as_str()))
                .send()
                .await
                .aws("CreateSolutionVersion")?;
            let version = out.solution_version_arn().unwrap_or_default().to_owned();
            ctx.mutated(
                sol,
                "CreateSolutionVersion",
                format!("training {} version {version}: {why}", mode.as_str()),
            )
            .await;
            status.trained_on_import = data.imported.clone();
            Ok(Outcome::Progressing {
                reason: "Training",
                message: format!("training version {}: {why}", short_id(&version)),
            })
        }
        Decision::WaitForTraining(version) => Ok(Outcome::Progressing {
            reason: "Training",
            message: format!("training version {}", short_id(&version)),
        }),
        Decision::WaitForData => Ok(Outcome::Progressing {
            reason: "WaitingForData",
            message: "waiting for the dataset group's interactions to be imported".into(),
        }),
        Decision::Idle => match (&status.latest_version_arn, status.versions.first()) {
            (Some(latest), _) => Ok(Outcome::Ready {
                message: format!("solution is ACTIVE; latest version {}", short_id(latest)),
            }),
            (None, Some(failed)) => Ok(Outcome::Terminal {
                reason: "TrainingFailed",
                message: format!(
                    "training of version {} failed: {}",
                    short_id(&failed.arn),
                    failed
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            }),
            (None, None) => Ok(Outcome::Progressing {
                reason: "WaitingForData",
                message: "no version trained yet".into(),
            }),
        },
    }
}

/// Reads the solution's versions, newest first (at most [`HISTORY`]), with the metrics of the
/// ACTIVE ones (fetched once per version), into the status.
async fn refresh_versions(
    client: &aws_sdk_personalize::Client,
    arn: &str,
    status: &mut SolutionStatus,
) -> Result<(), Error> {
    let listed = client
        .list_solution_versions()
        .solution_arn(arn)
        .send()
        .await
        .aws("ListSolutionVersions")?;
    let mut versions: Vec<SolutionVersionStatus> = listed
        .solution_versions()
        .iter()
        .map(|v| SolutionVersionStatus {
            arn: v.solution_version_arn().unwrap_or_default().to_owned(),
            status: v.status().map(str::to_owned),
            training_mode: v.training_mode().map(|m| m.as_str().to_owned()),
            created: v
                .creation_date_time()
                .and_then(|t| {
                    Timestamp::new(t.secs(), t.subsec_nanos().try_into().unwrap_or(0)).ok()
                })
                .map(|t| t.to_string()),
            failure_reason: v.failure_reason().map(str::to_owned),
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
        } else if version.status.as_deref() == Some(ACTIVE) {
            let metrics = client
                .get_solution_metrics()
                .solution_version_arn(&version.arn)
                .send()
                .await
                .aws("GetSolutionMetrics")?;
            version.metrics = metrics
                .metrics()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
                .unwrap_or_default();
        }
    }
    status.versions = versions;
    Ok(())
}

/// Orders versions newest first by creation time. Versions created within the same instant
/// (clock resolution) are ordered by when the operator first saw them: unknown ones first.
pub fn sort_newest_first(versions: &mut [SolutionVersionStatus], known: &[SolutionVersionStatus]) {
    let rank = |v: &SolutionVersionStatus| known.iter().position(|k| k.arn == v.arn).unwrap_or(0);
    let created = |v: &SolutionVersionStatus| {
        v.created
            .as_deref()
            .and_then(|c| Timestamp::from_str(c).ok())
    };
    let is_new = |v: &SolutionVersionStatus| !known.iter().any(|k| k.arn == v.arn);
    versions.sort_by(|a, b| {
        created(b)
            .cmp(&created(a))
            .then_with(|| is_new(b).cmp(&is_new(a)))
            .then_with(|| rank(a).cmp(&rank(b)))
    });
}

/// What to do about training now.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a new version.
    Train {
        /// FULL or UPDATE.
        mode: TrainingMode,
        /// Why, for the event and condition.
        why: &'static str,
    },
    /// A version is being trained; wait for it.
    WaitForTraining(String),
    /// The interactions are not imported yet.
    WaitForData,
    /// Nothing to do.
    Idle,
}

fn in_progress(status: Option<&str>) -> bool {
    matches!(
        status,
        Some(CREATE_PENDING | CREATE_IN_PROGRESS | "CREATE STOPPING")
    )
}

/// Decides whether to train: never while a version is in flight; the first version once data is
/// imported; then after a new import (`retrain.onImport`) or when the cron schedule has come due
/// since the newest version. UPDATE needs an ACTIVE FULL version to update, else FULL is used.
pub fn training_decision(
    versions: &[SolutionVersionStatus],
    imported: Option<&str>,
    trained_on_import: Option<&str>,
    retrain: Option<&Retrain>,
    now: Timestamp,
) -> Decision {
    if let Some(busy) = versions.iter().find(|v| in_progress(v.status.as_deref())) {
        return Decision::WaitForTraining(busy.arn.clone());
    }
    let Some(imported) = imported else {
        return Decision::WaitForData;
    };
    let Some(newest) = versions.first() else {
        return Decision::Train {
            mode: TrainingMode::Full,
            why: "first version",
        };
    };
    let Some(retrain) = retrain else {
        return Decision::Idle;
    };
    let has_full = versions
        .iter()
        .any(|v| v.status.as_deref() == Some(ACTIVE) && v.training_mode.as_deref() == Some("FULL"));
    let mode = if retrain.mode == TrainingMode::Update && has_full {
        TrainingMode::Update
    } else {
        TrainingMode::Full
    };
    if retrain.on_import && trained_on_import != Some(imported) {
        return Decision::Train {
            mode,
            why: "new data was imported",
        };
    }
    if let Some(schedule) = &retrain.schedule {
        let since = newest
            .created
            .as_deref()
            .and_then(|c| Timestamp::from_str(c).ok());
        if let Some(since) = since
            && schedule_due(schedule, since, now)
        {
            return Decision::Train {
                mode,
                why: "the retrain schedule came due",
            };
        }
    }
    Decision::Idle
}

/// Whether a 5-field cron schedule (UTC) has an occurrence after `since` and at or before `now`.
/// An unparsable schedule is never due (admission already checks its shape).
pub fn schedule_due(schedule: &str, since: Timestamp, now: Timestamp) -> bool {
    next_occurrence(schedule, since).is_some_and(|next| next <= now)
}

/// The first occurrence of a 5-field cron schedule (UTC) after `since`; none when unparsable.
pub fn next_occurrence(schedule: &str, since: Timestamp) -> Option<Timestamp> {
    let cron = croner::Cron::from_str(schedule).ok()?;
    let since = since.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
    cron.find_next_occurrence(&since, false)
        .ok()
        .map(|next| next.timestamp())
}

/// Whether a version's metrics pass the gate, given the currently promoted version's metrics.
pub fn passes_gate(
    candidate: &BTreeMap<String, f64>,
    promoted: Option<&BTreeMap<String, f64>>,
    gate: &Promotion,
) -> Result<(), String> {
    let key = gate.metric.as_str();
    let Some(&value) = candidate.get(key) else {
        return Err(format!("no {key} metric"));
    };
    if let Some(minimum) = gate.minimum
        && value < minimum
    {
        return Err(format!("{key} {value:.4} is below the minimum {minimum}"));
    }
    if let (Some(max_regression), Some(current)) =
        (gate.max_regression, promoted.and_then(|m| m.get(key)))
        && value < current - max_regression
    {
        return Err(format!(
            "{key} {value:.4} regresses more than {max_regression} from {current:.4}"
        ));
    }
    Ok(())
}

/// The promoted version: without a gate, the newest ACTIVE one; with a gate, the newest ACTIVE
/// version newer than the current promoted one that passes it (else the current one stays).
pub fn promoted_version(
    versions: &[SolutionVersionStatus],
    current: Option<&str>,
    gate: Option<&Promotion>,
) -> Option<String> {
    let active = versions
        .iter()
        .filter(|v| v.status.as_deref() == Some(ACTIVE));
    let Some(gate) = gate else {
        return active
            .map(|v| v.arn.clone())
            .next()
            .or_else(|| current.map(str::to_owned));
    };
    let current_metrics = current
        .and_then(|c| versions.iter().find(|v| v.arn == c))
        .map(|v| &v.metrics);
    for candidate in active {
        if Some(candidate.arn.as_str()) == current {
            break; // nothing newer passed
        }
        if passes_gate(&candidate.metrics, current_metrics, gate).is_ok() {
            return Some(candidate.arn.clone());
        }
    }
    current.map(str::to_owned)
}

/// Campaign CRs (any namespace) that serve this solution.
async fn dependent_campaigns(sol: &Solution, ctx: &Context) -> Result<Vec<String>, Error> {
    let ns = namespace(sol)?;
    let name = sol.name_any();
    let campaigns = Api::<Campaign>::all(ctx.kube.clone())
        .list(&ListParams::default())
        .await?;
    Ok(campaigns
        .into_iter()
        .filter(|c| {
            let own = c.namespace().unwrap_or_default();
            c.spec
                .solution_ref
                .as_ref()
                .is_some_and(|r| r.name == name && r.namespace_or(&own) == ns)
        })
        .map(|c| {
            format!(
                "Campaign {}/{}",
                c.namespace().unwrap_or_default(),
                c.name_any()
            )
        })
        .collect())
}

async fn cleanup(sol: Arc<Solution>, ctx: &Context) -> Result<Action, Error> {
    if sol.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(retain(sol.as_ref(), ctx, "solution").await);
    }
    let Some(arn) = sol.status.as_ref().and_then(|s| s.resource.arn.clone()) else {
        return Ok(Action::await_change());
    };
    let dependents = dependent_campaigns(&sol, ctx).await?;
    if !dependents.is_empty() {
        let message = format!("waiting for {} to be deleted first", dependents.join(", "));
        return Err(still_deleting(sol.as_ref(), ctx, "DependentsExist", message).await);
    }
    let client = ctx.aws.personalize(region_of(&arn));
    match delete_solution(sol.as_ref(), ctx, &client, &arn).await {
        Ok(None) => Ok(Action::await_change()),
        Ok(Some(message)) => Err(still_deleting(sol.as_ref(), ctx, "Deleting", message).await),
        Err(Error::Aws(err)) if err.kind == ErrorKind::InUse => {
            Err(still_deleting(sol.as_ref(), ctx, "ResourceInUse", err.to_string()).await)
        }
        Err(err) => Err(err),
    }
}

async fn delete_solution(
    sol: &Solution,
    ctx: &Context,
    client: &aws_sdk_personalize::Client,
    arn: &str,
) -> Result<Option<String>, Error> {
    match client
        .describe_solution()
        .solution_arn(arn)
        .send()
        .await
        .aws("DescribeSolution")
    {
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
        Ok(out) => {
            let state = out.solution().and_then(|s| s.status()).unwrap_or_default();
            if state.starts_with("DELETE") {
                return Ok(Some(format!("solution is {state}")));
            }
        }
    }
    let campaigns = match client
        .list_campaigns()
        .solution_arn(arn)
        .send()
        .await
        .aws("ListCampaigns")
    {
        Err(err) if err.is_not_found() => return Ok(None),
        other => other?,
    };
    if !campaigns.campaigns().is_empty() {
        let names: Vec<&str> = campaigns
            .campaigns()
            .iter()
            .filter_map(|c| c.name())
            .collect();
        return Ok(Some(format!(
            "waiting for campaigns {} to be deleted",
            names.join(", ")
        )));
    }
    let versions = client
        .list_solution_versions()
        .solution_arn(arn)
        .send()
        .await
        .aws("ListSolutionVersions")?;
    let mut stopping = Vec::new();
    for v in versions.solution_versions() {
        if in_progress(v.status()) {
            let version = v.solution_version_arn().unwrap_or_default();
            if v.status() != Some("CREATE STOPPING") {
                match client
                    .stop_solution_version_creation()
                    .solution_version_arn(version)
                    .send()
                    .await
                    .aws("StopSolutionVersionCreation")
                {
                    Ok(_) => {
                        ctx.mutated(
                            sol,
                            "StopSolutionVersionCreation",
                            format!("stopping training of {version}"),
                        )
                        .await
                    }
                    Err(AwsError {
                        kind: ErrorKind::NotFound | ErrorKind::InvalidInput,
                        ..
                    }) => {}
                    Err(err) => return Err(err.into()),
                }
            }
            stopping.push(short_id(version).to_owned());
        }
    }
    if !stopping.is_empty() {
        return Ok(Some(format!(
            "waiting for training of versions {} to stop",
            stopping.join(", ")
        )));
    }
    match client
        .delete_solution()
        .solution_arn(arn)
        .send()
        .await
        .aws("DeleteSolution")
    {
        Ok(_) => {
            ctx.mutated(sol, "DeleteSolution", format!("deleting solution {arn}"))
                .await;
            Ok(Some("solution deletion requested".into()))
        }
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use personalize_api::solution::PromotionMetric;

    fn version(
        arn: &str,
        status: &str,
        mode: &str,
        created: &str,
        ndcg: Option<f64>,
    ) -> SolutionVersionStatus {
        SolutionVersionStatus {
            arn: arn.into(),
            status: Some(status.into()),
            training_mode: Some(mode.into()),
            created: Some(created.into()),
            failure_reason: None,
            metrics: ndcg
                .map(|v| {
                    BTreeMap::from([("normalized_discounted_cumulative_gain_at_10".to_owned(), v)])
                })
                .unwrap_or_default(),
        }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::from_str(s).expect("valid timestamp")
    }

    fn retrain(schedule: Option<&str>, on_import: bool, mode: TrainingMode) -> Retrain {
        Retrain {
            schedule: schedule.map(str::to_owned),
            on_import,
            mode,
        }
    }

    const NOW: &str = "2026-11-29T12:00:00Z";

    #[test]
    fn versions_created_in_the_same_second_put_the_newly_seen_one_first() {
        let old = version("zzz", "ACTIVE", "FULL", "2026-11-29T10:00:00Z", None);
        let new = version("aaa", "ACTIVE", "FULL", "2026-11-29T10:00:00Z", None);
        let earlier = version("mmm", "ACTIVE", "FULL", "2026-11-28T10:00:00Z", None);
        let mut listed = vec![earlier.clone(), old.clone(), new.clone()];
        sort_newest_first(&mut listed, &[old.clone(), earlier.clone()]);
        let arns: Vec<&str> = listed.iter().map(|v| v.arn.as_str()).collect();
        assert_eq!(arns, ["aaa", "zzz", "mmm"]);
    }

    #[test]
    fn first_version_waits_for_imported_data_then_trains_full() {
        assert_eq!(
            training_decision(&[], None, None, None, at(NOW)),
            Decision::WaitForData
        );
        assert_eq!(
            training_decision(&[], Some("1"), None, None, at(NOW)),
            Decision::Train {
                mode: TrainingMode::Full,
                why: "first version"
            }
        );
    }

    #[test]
    fn never_trains_while_a_version_is_in_flight() {
        let versions = [version(
            "v2",
            "CREATE IN_PROGRESS",
            "FULL",
            "2026-11-29T11:00:00Z",
            None,
        )];
        let r = retrain(Some("* * * * *"), true, TrainingMode::Full);
        assert_eq!(
            training_decision(&versions, Some("2"), Some("1"), Some(&r), at(NOW)),
            Decision::WaitForTraining("v2".into())
        );
    }

    #[test]
    fn retrains_after_a_new_import_only_when_asked() {
        let versions = [version(
            "v1",
            "ACTIVE",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        let on = retrain(None, true, TrainingMode::Update);
        let off = retrain(None, false, TrainingMode::Full);
        assert_eq!(
            training_decision(&versions, Some("2"), Some("1"), Some(&on), at(NOW)),
            Decision::Train {
                mode: TrainingMode::Update,
                why: "new data was imported"
            }
        );
        assert_eq!(
            training_decision(&versions, Some("2"), Some("2"), Some(&on), at(NOW)),
            Decision::Idle
        );
        assert_eq!(
            training_decision(&versions, Some("2"), Some("1"), Some(&off), at(NOW)),
            Decision::Idle
        );
        assert_eq!(
            training_decision(&versions, Some("2"), Some("1"), None, at(NOW)),
            Decision::Idle
        );
    }

    #[test]
    fn update_mode_falls_back_to_full_without_an_active_full_version() {
        let versions = [version(
            "v1",
            "CREATE FAILED",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        let r = retrain(None, true, TrainingMode::Update);
        assert_eq!(
            training_decision(&versions, Some("2"), Some("1"), Some(&r), at(NOW)),
            Decision::Train {
                mode: TrainingMode::Full,
                why: "new data was imported"
            }
        );
    }

    #[test]
    fn the_cron_schedule_comes_due_once_after_the_newest_version() {
        // Sundays at 03:00 UTC; 2026-11-29 is a Sunday.
        let r = retrain(Some("0 3 * * 0"), false, TrainingMode::Full);
        let before = [version(
            "v1",
            "ACTIVE",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        assert_eq!(
            training_decision(&before, Some("1"), Some("1"), Some(&r), at(NOW)),
            Decision::Train {
                mode: TrainingMode::Full,
                why: "the retrain schedule came due"
            }
        );
        let after = [version(
            "v2",
            "ACTIVE",
            "FULL",
            "2026-11-29T03:30:00Z",
            None,
        )];
        assert_eq!(
            training_decision(&after, Some("1"), Some("1"), Some(&r), at(NOW)),
            Decision::Idle
        );
        assert_eq!(
            next_occurrence("0 3 * * 0", at("2026-11-29T03:30:00Z")),
            Some(at("2026-12-06T03:00:00Z")),
            "the Sunday after"
        );
        assert!(!schedule_due(
            "not a cron",
            at("2026-01-01T00:00:00Z"),
            at(NOW)
        ));
    }

    fn gate(minimum: Option<f64>, max_regression: Option<f64>) -> Promotion {
        Promotion {
            metric: PromotionMetric::NormalizedDiscountedCumulativeGainAt10,
            minimum,
            max_regression,
        }
    }

    #[test]
    fn the_gate_checks_the_minimum_and_the_regression_against_the_promoted_version() {
        let m = |v: f64| {
            BTreeMap::from([("normalized_discounted_cumulative_gain_at_10".to_owned(), v)])
        };
        assert!(passes_gate(&m(0.12), None, &gate(Some(0.1), None)).is_ok());
        assert!(passes_gate(&m(0.08), None, &gate(Some(0.1), None)).is_err());
        assert!(passes_gate(&m(0.11), Some(&m(0.12)), &gate(None, Some(0.02))).is_ok());
        assert!(passes_gate(&m(0.09), Some(&m(0.12)), &gate(None, Some(0.02))).is_err());
        assert!(
            passes_gate(&BTreeMap::new(), None, &gate(None, None)).is_err(),
            "no metrics, no promotion"
        );
    }

    #[test]
    fn promotion_takes_the_newest_passing_version_and_otherwise_keeps_the_current_one() {
        let versions = [
            version("v3", "ACTIVE", "FULL", "2026-11-29T00:00:00Z", Some(0.05)),
            version("v2", "ACTIVE", "FULL", "2026-11-28T00:00:00Z", Some(0.13)),
            version("v1", "ACTIVE", "FULL", "2026-11-27T00:00:00Z", Some(0.12)),
        ];
        assert_eq!(
            promoted_version(&versions, Some("v1"), Some(&gate(Some(0.1), Some(0.02)))),
            Some("v2".into())
        );
        assert_eq!(
            promoted_version(&versions, Some("v2"), Some(&gate(Some(0.1), Some(0.02)))),
            Some("v2".into())
        );
        assert_eq!(
            promoted_version(&versions, None, None),
            Some("v3".into()),
            "no gate: newest ACTIVE"
        );
        let training = [version(
            "v4",
            "CREATE IN_PROGRESS",
            "FULL",
            "2026-11-30T00:00:00Z",
            None,
        )];
        assert_eq!(
            promoted_version(&training, Some("v2"), None),
            Some("v2".into())
        );
    }
}

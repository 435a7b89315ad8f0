//! The job kinds' one algorithm (BatchInferenceJob, BatchSegmentJob, DatasetExportJob,
//! DataDeletionJob): a run is one Personalize job, started once per spec or at each occurrence
//! of a cron schedule, followed until it finishes, and kept in `status.runs` within the history
//! limits. Personalize can neither stop nor delete jobs: a run is never cancelled, and deleting
//! the object leaves its jobs in Personalize.
//!
//! [`next_run`], [`prune`] and [`outcome`] are pure; [`sync_runs`] does the I/O.

use std::str::FromStr;
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use personalize_api::jobs::{ConcurrencyPolicy, JobRun, RunPolicy, RunsStatus};
use personalize_api::{ResourceStatus, aws_status};
use serde::Serialize;

use super::{Env, Error, HasStatus, Managed};
use crate::naming::{child_name, short_hash};
use crate::outcome::Outcome;
use crate::personalize::{JobDetails, Observation, found, region_of};
use crate::reconcile::training::next_occurrence;
use crate::resource::{AwsResource, Pending, Plan, Synced};

/// How far back missed occurrences are caught up.
const CATCH_UP: SignedDuration = SignedDuration::from_hours(31 * 24);

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Pending or in progress.
    InFlight,
    /// ACTIVE (data deletion jobs: COMPLETED).
    Succeeded,
    /// CREATE FAILED (data deletion jobs: FAILED).
    Failed,
}

/// Where a run with this Personalize status stands.
pub fn run_state(status: Option<&str>) -> RunState {
    match status {
        Some(aws_status::ACTIVE | "COMPLETED") => RunState::Succeeded,
        Some(aws_status::CREATE_FAILED | "FAILED") => RunState::Failed,
        _ => RunState::InFlight,
    }
}

/// The plan of a run: done once it finished (succeeded or failed; [`outcome`] tells them
/// apart), wait while it runs. Pure.
pub fn job_plan(noun: &str, observed: &Observation<JobDetails>) -> Plan {
    match run_state(Some(observed.status.as_str())) {
        RunState::InFlight => Plan::wait("Running", format!("{noun} is {}", observed.status)),
        RunState::Succeeded | RunState::Failed => Plan::Done,
    }
}

/// What to do about starting a run now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Start the run of this name (for this schedule occurrence, if scheduled).
    Start {
        /// Its Personalize name.
        name: String,
        /// The occurrence it runs for.
        scheduled: Option<Timestamp>,
    },
    /// The occurrence passes without a run: one is in flight and concurrency is Forbid.
    Skip {
        /// The occurrence.
        scheduled: Timestamp,
        /// The run in flight.
        busy: String,
    },
    /// Nothing to start.
    Idle,
}

/// A run's Personalize name: `<base>-<8 hex digits of the spec>` for a job that runs once,
/// `<base>-<YYYYMMDD-HHMM>` (UTC) for a scheduled occurrence.
pub fn run_name(base: &str, spec_hash: &str, scheduled: Option<Timestamp>) -> String {
    match scheduled {
        Some(at) => child_name(base, &at.strftime("%Y%m%d-%H%M").to_string()),
        None => child_name(base, spec_hash),
    }
}

/// The hash that names a run of a job that runs once: the spec without the fields that only
/// say when and how often (schedule, history, suspend) or label the jobs (tags). `revision`
/// is kept: changing it runs the job again.
pub fn spec_hash(spec: &impl Serialize) -> String {
    let mut value = serde_json::to_value(spec).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        for key in [
            "schedule",
            "suspend",
            "concurrencyPolicy",
            "successfulRunsHistoryLimit",
            "failedRunsHistoryLimit",
            "tags",
        ] {
            fields.remove(key);
        }
    }
    short_hash(&value.to_string())
}

/// The latest occurrence of `schedule` after `since` and at or before `now` (occurrences older
/// than [`CATCH_UP`] are not looked at).
pub fn latest_due(schedule: &str, since: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let since = since.max(now.checked_sub(CATCH_UP).unwrap_or(since));
    let mut latest = None;
    let mut at = since;
    while let Some(next) = next_occurrence(schedule, at) {
        if next > now {
            break;
        }
        latest = Some(next);
        at = next;
    }
    latest
}

/// Decides whether to start a run. Without a schedule: once per spec (`spec_hash`), unless a
/// run of that name is known. With one: at the latest occurrence due since the last one acted
/// on (or since `created`), unless suspended, or skipped while a run is in flight and the
/// policy is Forbid.
pub fn next_run(
    policy: &RunPolicy,
    jobs: &RunsStatus,
    base: &str,
    spec_hash: &str,
    created: Timestamp,
    now: Timestamp,
) -> Next {
    if policy.suspend {
        return Next::Idle;
    }
    let Some(schedule) = &policy.schedule else {
        let name = run_name(base, spec_hash, None);
        return match jobs.runs.iter().any(|r| r.name == name) {
            true => Next::Idle,
            false => Next::Start {
                name,
                scheduled: None,
            },
        };
    };
    let since = jobs
        .last_schedule_time
        .as_deref()
        .and_then(|t| Timestamp::from_str(t).ok())
        .unwrap_or(created);
    let Some(due) = latest_due(schedule, since, now) else {
        return Next::Idle;
    };
    let busy = jobs
        .runs
        .iter()
        .find(|r| run_state(r.status.as_deref()) == RunState::InFlight);
    if let Some(busy) = busy
        && policy.concurrency_policy == ConcurrencyPolicy::Forbid
    {
        return Next::Skip {
            scheduled: due,
            busy: busy.name.clone(),
        };
    }
    let name = run_name(base, spec_hash, Some(due));
    match jobs.runs.iter().any(|r| r.name == name) {
        true => Next::Idle,
        false => Next::Start {
            name,
            scheduled: Some(due),
        },
    }
}

/// Keeps every run in flight, the `current` one (a job that runs once must remember that it
/// ran), and the newest finished runs within the history limits. Runs are newest first.
pub fn prune(runs: &mut Vec<JobRun>, policy: &RunPolicy, current: Option<&str>) {
    let (mut succeeded, mut failed) = (0, 0);
    runs.retain(|run| {
        let keep = |count: &mut u32, limit: u32| {
            *count += 1;
            *count <= limit
        };
        Some(run.name.as_str()) == current
            || match run_state(run.status.as_deref()) {
                RunState::InFlight => true,
                RunState::Succeeded => keep(&mut succeeded, policy.successful_runs_history_limit),
                RunState::Failed => keep(&mut failed, policy.failed_runs_history_limit),
            }
    });
}

/// The outcome of a job kind: Progressing while a run is in flight; Terminal when the newest
/// run failed (a scheduled job still runs at its next occurrence); else Ready.
pub fn outcome(policy: &RunPolicy, jobs: &RunsStatus, noun: &str) -> Outcome {
    let next = jobs.next_schedule_time.as_deref();
    let then = next.map_or(String::new(), |t| format!("; next run at {t}"));
    if let Some(run) = jobs
        .runs
        .iter()
        .find(|r| run_state(r.status.as_deref()) == RunState::InFlight)
    {
        return Outcome::Progressing {
            reason: "Running",
            message: format!(
                "{noun} {} is {}",
                run.name,
                run.status.as_deref().unwrap_or("starting")
            ),
        };
    }
    let scheduled = policy.schedule.is_some();
    match jobs.runs.first() {
        Some(run) if run_state(run.status.as_deref()) == RunState::Failed => Outcome::Terminal {
            reason: "RunFailed",
            message: format!(
                "{noun} {} failed: {}{}",
                run.name,
                run.failure_reason.as_deref().unwrap_or("no reason given"),
                match scheduled {
                    true => then,
                    false => "; fix the cause and change spec.revision to run it again".into(),
                }
            ),
        },
        Some(run) => Outcome::Ready {
            message: format!(
                "{noun} {} finished{}{then}",
                run.name,
                run.output_path
                    .as_deref()
                    .map_or(String::new(), |p| format!("; output under {p}"))
            ),
        },
        None if policy.suspend => Outcome::Ready {
            message: "suspended: no run is started".into(),
        },
        None => Outcome::Ready {
            message: format!("waiting for the first scheduled run{then}"),
        },
    }
}

/// How long until the next scheduled occurrence (scheduled, not suspended jobs).
pub fn until_next(jobs: &RunsStatus, now: Timestamp) -> Option<Duration> {
    let next = Timestamp::from_str(jobs.next_schedule_time.as_deref()?).ok()?;
    let wait = now.duration_until(next);
    Some(Duration::try_from(wait).unwrap_or_default() + Duration::from_secs(1))
}

/// A job kind: its run policy and what one run creates. [`job_kinds!`] makes it [`Managed`]:
/// `sync` is [`sync_job`], `cleanup` leaves the jobs (Personalize cannot delete them), and the
/// object is looked at again at the next schedule occurrence.
pub trait JobKind: Managed {
    /// The create request of a run.
    type Request: AwsResource<Details = JobDetails>;
    /// What a run is called in messages, e.g. "batch inference job".
    const NOUN: &'static str;

    /// The request of the run `name` (for the occurrence `scheduled`, if scheduled) and its
    /// entry in status (where it writes, what it reads).
    fn request(
        &self,
        refs: &Self::Refs,
        name: &str,
        scheduled: Option<Timestamp>,
    ) -> (Self::Request, JobRun);
    /// Records what the references resolved to in `status` (default: nothing).
    fn resolved(&self, _refs: &Self::Refs, _status: &mut Self::Status) {}
}

/// What every job kind's spec and status have: `spec.name`, `spec` with its run policy
/// (`spec.run`), `status.resource` and `status.jobs`. [`job_kinds!`] implements it.
pub trait JobParts: HasStatus {
    /// `spec.name`, the prefix of the runs' names.
    fn name_prefix(&self) -> Option<&str>;
    /// When it runs.
    fn policy(&self) -> &RunPolicy;
    /// [`spec_hash`] of the spec: names the run of a job that runs once.
    fn hash(&self) -> String;
    /// The status blocks a run is reported in.
    fn runs(status: &mut Self::Status) -> (&mut ResourceStatus, &mut RunsStatus);
}

/// A job kind's `sync`: [`sync_runs`] with its policy and requests.
pub async fn sync_job<K: JobKind + JobParts>(
    obj: &K,
    env: &Env<'_>,
    refs: K::Refs,
    status: &mut K::Status,
) -> Result<Outcome, Error> {
    obj.resolved(&refs, status);
    let runs = Runs {
        policy: obj.policy(),
        base: super::aws_name(obj, obj.name_prefix()),
        spec_hash: obj.hash(),
        noun: K::NOUN,
    };
    let (resource, jobs) = K::runs(status);
    let request = |name: &str, scheduled| obj.request(&refs, name, scheduled);
    sync_runs(env, obj, runs, resource, jobs, request).await
}

/// Makes job kinds (`Kind => Status, Request`) what the reconcile loop takes: their status
/// accessors, [`Common`](super::Common) (a job kind's deletion policy is always Retain, since
/// Personalize cannot delete jobs; nothing is published), the plan of a run ([`job_plan`]),
/// [`JobParts`] and [`Managed`] (see [`JobKind`]).
macro_rules! job_kinds {
    ($($k:ty => $s:ty, $req:ty;)*) => {$(
        $crate::reconcile::statuses!($k => $s);

        impl $crate::reconcile::Common for $k {
            const REFERENCES: bool = true;
            fn deletion_policy(&self) -> personalize_api::DeletionPolicy {
                personalize_api::DeletionPolicy::Retain
            }
            fn spec_tags(&self) -> &$crate::personalize::Tags {
                &self.spec.tags
            }
            fn publish(&self) -> Option<&personalize_api::Publish> {
                None
            }
        }

        /// A run: done once it finished.
        impl $crate::resource::AwsResource for $req {
            fn plan(
                &self,
                observed: &$crate::personalize::Observation<$crate::personalize::JobDetails>,
            ) -> $crate::resource::Plan {
                $crate::reconcile::runs::job_plan(
                    <$k as $crate::reconcile::runs::JobKind>::NOUN,
                    observed,
                )
            }
        }

        impl $crate::reconcile::runs::JobParts for $k {
            fn name_prefix(&self) -> Option<&str> {
                self.spec.name.as_deref()
            }
            fn policy(&self) -> &personalize_api::jobs::RunPolicy {
                &self.spec.run
            }
            fn hash(&self) -> String {
                $crate::reconcile::runs::spec_hash(&self.spec)
            }
            fn runs(
                status: &mut <$k as $crate::reconcile::HasStatus>::Status,
            ) -> (&mut personalize_api::ResourceStatus, &mut personalize_api::jobs::RunsStatus) {
                (&mut status.resource, &mut status.jobs)
            }
        }

        impl $crate::reconcile::Managed for $k {
            async fn sync(
                &self,
                env: &$crate::reconcile::Env<'_>,
                refs: <$k as $crate::reconcile::Resolve>::Refs,
                status: &mut <$k as $crate::reconcile::HasStatus>::Status,
            ) -> $crate::reconcile::Decided {
                $crate::reconcile::runs::sync_job(self, env, refs, status).await
            }

            /// Runs stay in Personalize, which cannot delete jobs (the deletion policy of a job
            /// kind is Retain).
            async fn cleanup(
                &self,
                _env: &$crate::reconcile::Env<'_>,
            ) -> Result<$crate::resource::Deletion, $crate::reconcile::Error> {
                Ok($crate::resource::Deletion::Gone)
            }

            /// At the next schedule occurrence.
            fn requeue(
                &self,
                status: &<$k as $crate::reconcile::HasStatus>::Status,
                now: k8s_openapi::jiff::Timestamp,
                _timing: $crate::outcome::Timing,
            ) -> Option<std::time::Duration> {
                $crate::reconcile::runs::until_next(&status.jobs, now)
            }
        }
    )*};
}
pub(crate) use job_kinds;

/// What [`sync_runs`] needs of a job kind.
pub struct Runs<'a> {
    /// `spec` fields about when it runs.
    pub policy: &'a RunPolicy,
    /// Prefix of the runs' names.
    pub base: String,
    /// [`spec_hash`] of the spec.
    pub spec_hash: String,
    /// What the kind calls a run in messages, e.g. "batch inference job".
    pub noun: &'static str,
}

/// Follows the runs in flight, starts the run due now (built by `request`, given its name and,
/// for a scheduled run, the occurrence), prunes the history and reports the newest run in
/// `resource`. `request` also says where the run writes, for status.
pub async fn sync_runs<K, R>(
    env: &Env<'_>,
    obj: &K,
    runs: Runs<'_>,
    resource: &mut ResourceStatus,
    jobs: &mut RunsStatus,
    request: impl Fn(&str, Option<Timestamp>) -> (R, JobRun),
) -> Result<Outcome, Error>
where
    K: Managed,
    R: AwsResource<Details = JobDetails>,
{
    let Runs {
        policy,
        base,
        spec_hash,
        noun,
    } = runs;
    // 1. The runs in flight, as Personalize reports them now.
    for run in jobs
        .runs
        .iter_mut()
        .filter(|r| run_state(r.status.as_deref()) == RunState::InFlight)
    {
        let Some(arn) = run.arn.clone() else {
            continue;
        };
        let api = env.personalize(region_of(&arn));
        match found(R::describe(api.as_ref(), &arn).await)? {
            Some(observed) => record(run, &observed),
            None => {
                run.status = Some(aws_status::CREATE_FAILED.to_owned());
                run.failure_reason = Some("the job no longer exists in Personalize".into());
            }
        }
    }
    // 2. The run due now, if any.
    let created = obj
        .meta()
        .creation_timestamp
        .as_ref()
        .map_or(env.now, |t| t.0);
    let mut terminal = None;
    match next_run(policy, jobs, &base, &spec_hash, created, env.now) {
        Next::Start { name, scheduled } => {
            let (desired, mut run) = request(&name, scheduled);
            run.name = name;
            run.scheduled_time = scheduled.map(|t| t.to_string());
            run.start_time = Some(env.now.to_string());
            let region = desired.anchor().and_then(region_of).map(str::to_owned);
            let mut arn = None;
            let synced = env
                .sync_owned(obj, region.as_deref(), &desired, &mut arn, None)
                .await?;
            run.arn = arn;
            match synced {
                Synced::Done(_, observed) => record(&mut run, &observed),
                Synced::Pending(_, Some(observed)) => record(&mut run, &observed),
                Synced::Pending(Pending::Terminal { reason, message }, None) => {
                    terminal = Some(Outcome::Terminal { reason, message });
                }
                Synced::Pending(Pending::Progressing { reason, message }, None) => {
                    return Ok(Outcome::Progressing { reason, message });
                }
            }
            if terminal.is_none() {
                jobs.runs.insert(0, run);
                if let Some(at) = scheduled {
                    jobs.last_schedule_time = Some(at.to_string());
                }
            }
        }
        Next::Skip { scheduled, busy } => {
            env.changes.record(
                "SkipRun",
                format!("skipped the run due at {scheduled}: {busy} is still running"),
            );
            jobs.last_schedule_time = Some(scheduled.to_string());
        }
        Next::Idle => {}
    }
    // 3. History, the newest run in the shared status, the next occurrence.
    let current = policy
        .schedule
        .is_none()
        .then(|| run_name(&base, &spec_hash, None));
    prune(&mut jobs.runs, policy, current.as_deref());
    if let Some(done) = jobs
        .runs
        .iter()
        .filter(|r| run_state(r.status.as_deref()) == RunState::Succeeded)
        .filter_map(|r| r.completion_time.clone())
        .max()
    {
        jobs.last_successful_time = Some(done);
    }
    let newest = jobs.runs.first();
    resource.arn = newest.and_then(|r| r.arn.clone());
    resource.status = newest.and_then(|r| r.status.clone());
    resource.failure_reason = newest.and_then(|r| r.failure_reason.clone());
    let since = jobs
        .last_schedule_time
        .as_deref()
        .and_then(|t| Timestamp::from_str(t).ok())
        .unwrap_or(created)
        .max(env.now);
    jobs.next_schedule_time = match &policy.schedule {
        Some(schedule) if !policy.suspend => {
            next_occurrence(schedule, since).map(|t| t.to_string())
        }
        _ => None,
    };
    Ok(terminal.unwrap_or_else(|| outcome(policy, jobs, noun)))
}

/// What a Describe says of a run, into it.
fn record(run: &mut JobRun, observed: &Observation<JobDetails>) {
    run.status = Some(observed.status.to_string());
    run.failure_reason = observed.failure_reason.clone();
    run.num_deleted = observed.details.num_deleted.or(run.num_deleted);
    if run_state(run.status.as_deref()) != RunState::InFlight {
        let finished = observed.details.last_updated;
        run.completion_time = finished.map(|t| t.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::from_str(s).expect("timestamp")
    }

    fn run(name: &str, status: &str) -> JobRun {
        JobRun {
            name: name.into(),
            status: Some(status.into()),
            ..JobRun::default()
        }
    }

    fn scheduled(schedule: &str) -> RunPolicy {
        RunPolicy {
            schedule: Some(schedule.into()),
            successful_runs_history_limit: 3,
            failed_runs_history_limit: 1,
            ..RunPolicy::default()
        }
    }

    #[test]
    fn a_job_without_schedule_runs_once_per_spec() {
        let policy = RunPolicy::default();
        let now = at("2026-12-02T10:00:00Z");
        let mut jobs = RunsStatus::default();
        let next = next_run(&policy, &jobs, "ns-job", "abcd1234", now, now);
        assert_eq!(
            next,
            Next::Start {
                name: "ns-job-abcd1234".into(),
                scheduled: None
            }
        );
        jobs.runs.push(run("ns-job-abcd1234", "CREATE FAILED"));
        assert_eq!(
            next_run(&policy, &jobs, "ns-job", "abcd1234", now, now),
            Next::Idle,
            "a failed run is not retried by itself"
        );
        assert!(
            matches!(next_run(&policy, &jobs, "ns-job", "ffff0000", now, now), Next::Start { name, .. } if name == "ns-job-ffff0000"),
            "a new spec runs again"
        );
        let suspended = RunPolicy {
            suspend: true,
            ..policy
        };
        let empty = RunsStatus::default();
        assert_eq!(
            next_run(&suspended, &empty, "ns-job", "x", now, now),
            Next::Idle
        );
    }

    #[test]
    fn the_spec_hash_ignores_when_and_how_often_but_not_what_or_revision() {
        let spec = |schedule: &str, revision: &str, input: &str| {
            serde_json::json!({
                "inputPath": input, "schedule": schedule, "revision": revision,
                "successfulRunsHistoryLimit": 3, "tags": {"a": schedule}
            })
        };
        let base = spec_hash(&spec("0 * * * *", "1", "s3://b/in"));
        assert_eq!(base, spec_hash(&spec("5 * * * *", "1", "s3://b/in")));
        assert_ne!(base, spec_hash(&spec("0 * * * *", "2", "s3://b/in")));
        assert_ne!(base, spec_hash(&spec("0 * * * *", "1", "s3://b/other")));
    }

    #[test]
    fn a_scheduled_job_runs_at_the_latest_occurrence_due_once() {
        let policy = scheduled("*/10 * * * *");
        let created = at("2026-12-02T10:01:00Z");
        let mut jobs = RunsStatus::default();
        assert_eq!(
            next_run(
                &policy,
                &jobs,
                "j",
                "h",
                created,
                at("2026-12-02T10:05:00Z")
            ),
            Next::Idle,
            "nothing due before 10:10"
        );
        // The operator was away from 10:05 to 10:35: one run, for 10:30.
        let now = at("2026-12-02T10:35:00Z");
        let next = next_run(&policy, &jobs, "j", "h", created, now);
        assert_eq!(
            next,
            Next::Start {
                name: "j-20261202-1030".into(),
                scheduled: Some(at("2026-12-02T10:30:00Z"))
            }
        );
        jobs.last_schedule_time = Some("2026-12-02T10:30:00Z".into());
        jobs.runs.push(run("j-20261202-1030", "ACTIVE"));
        assert_eq!(next_run(&policy, &jobs, "j", "h", created, now), Next::Idle);
        let later = at("2026-12-02T10:40:00Z");
        assert!(matches!(
            next_run(&policy, &jobs, "j", "h", created, later),
            Next::Start { name, .. } if name == "j-20261202-1040"
        ));
    }

    #[test]
    fn forbid_skips_an_occurrence_while_a_run_is_in_flight_and_allow_runs_beside_it() {
        let mut policy = scheduled("0 * * * *");
        let jobs = RunsStatus {
            runs: vec![run("j-20261202-1000", "CREATE IN_PROGRESS")],
            last_schedule_time: Some("2026-12-02T10:00:00Z".into()),
            ..RunsStatus::default()
        };
        let (created, now) = (at("2026-12-02T09:00:00Z"), at("2026-12-02T11:00:30Z"));
        assert_eq!(
            next_run(&policy, &jobs, "j", "h", created, now),
            Next::Skip {
                scheduled: at("2026-12-02T11:00:00Z"),
                busy: "j-20261202-1000".into()
            }
        );
        policy.concurrency_policy = ConcurrencyPolicy::Allow;
        assert!(matches!(
            next_run(&policy, &jobs, "j", "h", created, now),
            Next::Start { name, .. } if name == "j-20261202-1100"
        ));
        policy.suspend = true;
        assert_eq!(next_run(&policy, &jobs, "j", "h", created, now), Next::Idle);
    }

    #[test]
    fn missed_occurrences_older_than_the_catch_up_window_are_not_run() {
        let now = at("2026-12-02T10:00:00Z");
        let long_ago = at("2025-01-01T00:00:00Z");
        assert_eq!(
            latest_due("0 0 1 1 *", long_ago, now),
            None,
            "1 January 2026 is more than 31 days back"
        );
        assert_eq!(
            latest_due("* * * * *", long_ago, now),
            Some(now),
            "every minute: the current one, found without walking two years"
        );
    }

    #[test]
    fn history_keeps_runs_in_flight_the_current_one_and_the_newest_finished() {
        let policy = RunPolicy {
            successful_runs_history_limit: 2,
            failed_runs_history_limit: 0,
            ..RunPolicy::default()
        };
        let mut runs = vec![
            run("f", "CREATE IN_PROGRESS"),
            run("e", "ACTIVE"),
            run("d", "CREATE FAILED"),
            run("c", "COMPLETED"),
            run("b", "ACTIVE"),
            run("a", "FAILED"),
        ];
        prune(&mut runs, &policy, Some("a"));
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["f", "e", "c", "a"]);
    }

    #[test]
    fn outcome_follows_the_newest_run() {
        let once = RunPolicy::default();
        let mut jobs = RunsStatus {
            runs: vec![run("j-1", "CREATE IN_PROGRESS")],
            ..RunsStatus::default()
        };
        assert_eq!(outcome(&once, &jobs, "job").reason(), "Running");
        jobs.runs[0] = run("j-1", "ACTIVE");
        jobs.runs[0].output_path = Some("s3://b/out/".into());
        let ready = outcome(&once, &jobs, "job");
        assert!(
            matches!(&ready, Outcome::Ready { message } if message.contains("s3://b/out/")),
            "{ready:?}"
        );
        jobs.runs[0] = run("j-1", "CREATE FAILED");
        jobs.runs[0].failure_reason = Some("no input".into());
        let failed = outcome(&once, &jobs, "job");
        assert_eq!(failed.reason(), "RunFailed");
        assert!(failed.message().contains("no input") && failed.message().contains("revision"));
        let cron = scheduled("0 * * * *");
        jobs.next_schedule_time = Some("2026-12-02T11:00:00Z".into());
        let failed = outcome(&cron, &jobs, "job");
        assert!(
            failed
                .message()
                .contains("next run at 2026-12-02T11:00:00Z"),
            "{failed:?}"
        );
        assert_eq!(
            outcome(&cron, &RunsStatus::default(), "job").reason(),
            "Active",
            "a schedule waiting for its first run is Ready"
        );
    }

    #[test]
    fn data_deletion_statuses_are_understood() {
        assert_eq!(run_state(Some("PENDING")), RunState::InFlight);
        assert_eq!(run_state(Some("IN_PROGRESS")), RunState::InFlight);
        assert_eq!(run_state(Some("COMPLETED")), RunState::Succeeded);
        assert_eq!(run_state(Some("FAILED")), RunState::Failed);
        assert_eq!(run_state(None), RunState::InFlight);
    }
}

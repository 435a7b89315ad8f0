//! `BatchInferenceJob`: the solution version its policy selects and its filter, then runs of
//! CreateBatchInferenceJob, once per spec or on a schedule ([`super::runs`]).

use k8s_openapi::jiff::Timestamp;
use personalize_api::BatchInferenceJob;
use personalize_api::jobs::JobRun;

use super::batch::BatchRefs;
use super::campaign::exploration_and_influence;
use super::runs::{JobKind, job_kinds};
use crate::personalize::NewBatchInferenceJob;

impl JobKind for BatchInferenceJob {
    type Request = NewBatchInferenceJob;
    const NOUN: &'static str = "batch inference job";

    fn request(
        &self,
        refs: &BatchRefs,
        name: &str,
        scheduled: Option<Timestamp>,
    ) -> (NewBatchInferenceJob, JobRun) {
        let spec = &self.spec;
        let source = &spec.source;
        let config = spec.config.clone().unwrap_or_default();
        let (item_exploration, ranking_influence) = exploration_and_influence(
            config.exploration_weight,
            config.exploration_item_age_cut_off,
            config.ranking_influence.as_ref(),
        );
        let batch = (source, spec.num_results, &spec.tags);
        let (job, run) = refs.job(self, batch, name, scheduled);
        let request = NewBatchInferenceJob {
            job,
            item_exploration,
            ranking_influence,
            mode: spec.mode.as_str().to_owned(),
            theme_item_name: spec
                .theme_generation
                .as_ref()
                .map(|t| t.item_name_field.clone()),
        };
        (request, run)
    }
}

job_kinds!(BatchInferenceJob => personalize_api::BatchInferenceJobStatus, NewBatchInferenceJob;);

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use personalize_api::Filter;

    use super::*;
    use crate::outcome::Timing;
    use crate::personalize::fake::Fake;
    use crate::personalize::{Kind, Status};
    use crate::reconcile::Managed;
    use crate::reconcile::testing::{World, arn_of, example, example_in, ready_group_and_solution};

    fn at(s: &str) -> Timestamp {
        Timestamp::from_str(s).expect("timestamp")
    }

    /// A world with the MovieLens group, solution (one version) and genre filter Ready.
    async fn world_with(fake: Fake) -> (World, String) {
        let mut world = World::with(fake);
        let (_, solution) = ready_group_and_solution(&mut world).await;
        let mut filter: Filter = example("20-filter.yaml");
        world.sync_until_ready(&mut filter).await;
        world.put(&filter);
        let version = solution.status.and_then(|s| s.latest_version_arn);
        (world, version.expect("a version"))
    }

    fn job() -> BatchInferenceJob {
        example_in("jobs", "batch-inference-job.yaml")
    }

    fn runs(job: &BatchInferenceJob) -> Vec<JobRun> {
        job.status.clone().unwrap_or_default().jobs.runs
    }

    #[tokio::test]
    async fn runs_once_with_the_selected_version_and_filter_then_costs_nothing() {
        let (world, version) = world_with(Fake::new()).await;
        let mut job = job();
        let changes = world
            .expect(&mut job, "Active", Some("CreateBatchInferenceJob"))
            .await;
        assert_eq!(changes.len(), 1);
        let arn = arn_of(&job);
        let (input, output) = world.fake.job(&arn).expect("a job");
        assert_eq!(input, version, "the Solution's latest version");
        assert_eq!(
            output.as_deref(),
            Some("s3://personalize-demo/batch/top25/")
        );
        let run = &runs(&job)[0];
        assert_eq!(run.status.as_deref(), Some("ACTIVE"));
        assert!(run.completion_time.is_some() && run.scheduled_time.is_none());
        assert!(run.name.starts_with("team-top25-"), "{}", run.name);

        let before = world.fake.total_calls();
        world.sync_times(&mut job, 3).await;
        assert_eq!(
            world.fake.total_calls(),
            before,
            "a finished run is not looked at again"
        );

        // A new spec is a new run; the old one stays in the history.
        job.spec.num_results = Some(10);
        world
            .expect(&mut job, "Active", Some("CreateBatchInferenceJob"))
            .await;
        assert_eq!(runs(&job).len(), 2);
        assert_eq!(world.fake.arns(Kind::BatchInferenceJob).len(), 2);
    }

    #[tokio::test]
    async fn a_run_is_followed_until_it_finishes_and_a_failure_is_terminal() {
        let (world, _) = world_with(Fake::with_steps(2)).await;
        let mut job = job();
        world
            .expect(&mut job, "Running", Some("CreateBatchInferenceJob"))
            .await;
        world.expect(&mut job, "Active", None).await;

        job.spec.run.revision = Some("2".into());
        world
            .expect(&mut job, "Running", Some("CreateBatchInferenceJob"))
            .await;
        world.fake.set_status(&arn_of(&job), Status::CreateFailed);
        let (outcome, _) = world.sync(&mut job).await;
        assert_eq!(outcome.reason(), "RunFailed", "{outcome:?}");
        assert!(outcome.message().contains("the input file does not exist"));
        assert!(outcome.message().contains("spec.revision"));
        let calls = world.fake.calls("CreateBatchInferenceJob");
        world.sync_times(&mut job, 2).await;
        assert_eq!(
            world.fake.calls("CreateBatchInferenceJob"),
            calls,
            "not retried"
        );
    }

    #[tokio::test]
    async fn a_lost_status_write_adopts_the_run_instead_of_starting_another() {
        let (world, _) = world_with(Fake::new()).await;
        let mut job = job();
        world.sync(&mut job).await;
        let arn = arn_of(&job);
        job.status = None;
        world
            .expect(&mut job, "Active", Some("AdoptBatchInferenceJob"))
            .await;
        assert_eq!(arn_of(&job), arn);
        assert_eq!(world.fake.arns(Kind::BatchInferenceJob), [arn]);
    }

    #[tokio::test]
    async fn waits_for_its_filter() {
        let mut world = World::new();
        ready_group_and_solution(&mut world).await;
        let mut job = job();
        let (outcome, _) = world.sync(&mut job).await;
        assert_eq!(outcome.reason(), "FilterNotReady", "{outcome:?}");
        assert_eq!(world.fake.calls("CreateBatchInferenceJob"), 0);
    }

    #[tokio::test]
    async fn a_schedule_runs_each_occurrence_once_under_its_own_output_and_keeps_its_history() {
        let (mut world, _) = world_with(Fake::new()).await;
        let mut job: BatchInferenceJob = example_in("jobs", "batch-inference-nightly.yaml");
        job.spec.run.successful_runs_history_limit = 2;
        job.metadata.creation_timestamp = Some(Time(at("2026-12-01T12:00:00Z")));
        world.now = Some(at("2026-12-01T18:00:00Z"));
        let (outcome, changes) = world.sync(&mut job).await;
        assert!(
            changes.is_empty() && outcome.reason() == "Active",
            "{outcome:?}"
        );
        let status = job.status.clone().unwrap_or_default();
        assert_eq!(
            status.jobs.next_schedule_time.as_deref(),
            Some("2026-12-02T02:00:00Z")
        );
        let timing = Timing {
            poll: std::time::Duration::from_secs(5),
            resync: std::time::Duration::from_secs(600),
        };
        let wait = job.requeue(&status, at("2026-12-01T18:00:00Z"), timing);
        assert_eq!(wait.map(|w| w.as_secs()), Some(8 * 3600 + 1));

        for (day, now) in [
            ("02", "2026-12-02T02:00:05Z"),
            ("03", "2026-12-03T02:01:00Z"),
            ("04", "2026-12-04T02:00:00Z"),
        ] {
            world.now = Some(at(now));
            world
                .expect(&mut job, "Active", Some("CreateBatchInferenceJob"))
                .await;
            let newest = runs(&job)[0].clone();
            assert_eq!(newest.name, format!("team-nightly-email-202612{day}-0200"));
            assert_eq!(
                world.fake.job(&arn_of(&job)).and_then(|j| j.1),
                Some(format!(
                    "s3://personalize-demo/batch/nightly/{}/",
                    newest.name
                ))
            );
            world.expect(&mut job, "Active", None).await;
        }
        assert_eq!(world.fake.calls("CreateBatchInferenceJob"), 3);
        assert_eq!(runs(&job).len(), 2, "successfulRunsHistoryLimit");
        assert_eq!(
            world.fake.arns(Kind::BatchInferenceJob).len(),
            3,
            "Personalize keeps all"
        );

        job.spec.run.suspend = true;
        world.now = Some(at("2026-12-05T02:00:00Z"));
        world.expect(&mut job, "Active", None).await;
        assert_eq!(world.fake.calls("CreateBatchInferenceJob"), 3, "suspended");
    }
}

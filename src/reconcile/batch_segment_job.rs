//! `BatchSegmentJob`: the solution version its policy selects and its filter, then runs of
//! CreateBatchSegmentJob, once per spec or on a schedule ([`super::runs`]).

use k8s_openapi::jiff::Timestamp;
use personalize_api::jobs::JobRun;
use personalize_api::{BatchSegmentJob, BatchSegmentJobStatus};

use super::batch::{BatchRefs, output_path, resolve_batch};
use super::runs::{Runs, job_plan, spec_hash, sync_runs, until_next};
use super::{Decided, Env, Error, Managed, Resolve, aws_name, tags};
use crate::outcome::{Outcome, Timing};
use crate::personalize::{JobDetails, NewBatchSegmentJob, Observation};
use crate::resource::{AwsResource, Deletion, Plan};

/// A run: done once it finished.
impl AwsResource for NewBatchSegmentJob {
    fn plan(&self, observed: &Observation<JobDetails>) -> Plan {
        job_plan("batch segment job", observed)
    }
}

impl Resolve for BatchSegmentJob {
    type Refs = BatchRefs;

    async fn resolve(&self, env: &Env<'_>) -> Result<Result<BatchRefs, Outcome>, Error> {
        let s = &self.spec;
        let version = (
            s.solution_ref.as_ref(),
            s.version_policy,
            s.solution_version_arn.as_ref(),
        );
        resolve_batch(
            env,
            self,
            version,
            (s.filter_ref.as_ref(), s.filter_arn.as_ref()),
        )
        .await
    }
}

impl Managed for BatchSegmentJob {
    async fn sync(
        &self,
        env: &Env<'_>,
        refs: BatchRefs,
        status: &mut BatchSegmentJobStatus,
    ) -> Decided {
        let spec = &self.spec;
        let runs = Runs {
            policy: &spec.run,
            base: aws_name(self, spec.name.as_deref()),
            spec_hash: spec_hash(spec),
            noun: "batch segment job",
        };
        let request = |name: &str, scheduled: Option<Timestamp>| {
            let output = output_path(&spec.output_path, name, scheduled);
            let req = NewBatchSegmentJob {
                name: name.to_owned(),
                solution_version_arn: refs.version.clone(),
                filter_arn: refs.filter.clone(),
                input_path: spec.input_path.clone(),
                output_path: output.clone(),
                output_kms_key_arn: spec.output_kms_key_arn.clone(),
                role_arn: spec.role_arn.clone(),
                num_results: spec.num_results,
                tags: tags(self, &spec.tags),
            };
            let run = JobRun {
                output_path: Some(output),
                solution_version_arn: Some(refs.version.clone()),
                ..JobRun::default()
            };
            (req, run)
        };
        sync_runs(
            env,
            self,
            runs,
            &mut status.resource,
            &mut status.jobs,
            request,
        )
        .await
    }

    /// Runs stay in Personalize, which cannot delete jobs (the deletion policy is Retain).
    async fn cleanup(&self, _env: &Env<'_>) -> Result<Deletion, Error> {
        Ok(Deletion::Gone)
    }

    /// At the next schedule occurrence.
    fn requeue(
        &self,
        status: &BatchSegmentJobStatus,
        now: Timestamp,
        _: Timing,
    ) -> Option<std::time::Duration> {
        until_next(&status.jobs, now)
    }
}

#[cfg(test)]
mod tests {
    use personalize_api::Solution;

    use super::*;
    use crate::reconcile::testing::{World, arn_of, example_in, ready_group_and_solution};

    #[tokio::test]
    async fn runs_on_the_latest_version_of_its_segmentation_solution() {
        let mut world = World::new();
        ready_group_and_solution(&mut world).await;
        let mut solution: Solution = {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/jobs/batch-segment-job.yaml"
            );
            let text = std::fs::read_to_string(path).expect("example");
            let first = text.split("\n---\n").next().unwrap_or_default().to_owned();
            let mut s: Solution = serde_yaml::from_str(&first).expect("solution");
            s.metadata.namespace = Some(crate::reconcile::testing::NS.into());
            s.metadata.uid = Some("uid-affinity".into());
            s
        };
        let mut job: BatchSegmentJob = example_in("jobs", "batch-segment-job.yaml");
        let (outcome, _) = world.sync(&mut job).await;
        assert_eq!(outcome.reason(), "SolutionNotFound", "{outcome:?}");
        world.sync_until_ready(&mut solution).await;
        world.put(&solution);
        world
            .expect(&mut job, "Active", Some("CreateBatchSegmentJob"))
            .await;
        let version = solution.status.and_then(|s| s.latest_version_arn);
        let (input, output) = world.fake.job(&arn_of(&job)).expect("a job");
        assert_eq!(Some(input), version);
        assert_eq!(
            output.as_deref(),
            Some("s3://personalize-demo/batch/audiences/")
        );
    }
}

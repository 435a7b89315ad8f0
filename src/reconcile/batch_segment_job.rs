//! `BatchSegmentJob`: the solution version its policy selects and its filter, then runs of
//! CreateBatchSegmentJob, once per spec or on a schedule ([`super::runs`]).

use k8s_openapi::jiff::Timestamp;
use personalize_api::BatchSegmentJob;
use personalize_api::jobs::JobRun;

use super::batch::BatchRefs;
use super::runs::{JobKind, job_kinds};
use crate::personalize::NewBatchSegmentJob;

impl JobKind for BatchSegmentJob {
    type Request = NewBatchSegmentJob;
    const NOUN: &'static str = "batch segment job";

    fn request(
        &self,
        refs: &BatchRefs,
        name: &str,
        scheduled: Option<Timestamp>,
    ) -> (NewBatchSegmentJob, JobRun) {
        let spec = &self.spec;
        let batch = (&spec.source, spec.num_results, &spec.tags);
        let (job, run) = refs.job(self, batch, name, scheduled);
        (NewBatchSegmentJob(job), run)
    }
}

job_kinds!(BatchSegmentJob => personalize_api::BatchSegmentJobStatus, NewBatchSegmentJob;);

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

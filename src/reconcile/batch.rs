//! What the batch job kinds share: their references (the solution version a policy selects, and
//! an optional filter) and where a run writes.

use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use personalize_api::jobs::{BatchSource, JobRun};

use super::campaign::selected_version;
use super::{Env, Error, namespace, tags, waiting_for};
use crate::outcome::Outcome;
use crate::personalize::{BatchJob, Tags};
use crate::references::HasReady;

/// What a batch job's references resolve to.
#[derive(Clone, Debug)]
pub struct BatchRefs {
    /// The solution version the runs use.
    pub version: String,
    /// The filter, if any.
    pub filter: Option<String>,
}

impl BatchRefs {
    /// What a batch job's run `name` (at `scheduled`, for a scheduled one) sends, and its entry
    /// in status: where it writes and the version it uses.
    pub fn job<K: Resource>(
        &self,
        obj: &K,
        spec: (&BatchSource, Option<i32>, &Tags),
        name: &str,
        scheduled: Option<Timestamp>,
    ) -> (BatchJob, JobRun) {
        let (source, num_results, spec_tags) = spec;
        let output = output_path(&source.output_path, name, scheduled);
        let job = BatchJob {
            name: name.to_owned(),
            solution_version_arn: self.version.clone(),
            filter_arn: self.filter.clone(),
            input_path: source.input_path.clone(),
            output_path: output.clone(),
            output_kms_key_arn: source.output_kms_key_arn.clone(),
            role_arn: source.role_arn.clone(),
            num_results,
            tags: tags(obj, spec_tags),
        };
        let run = JobRun {
            output_path: Some(output),
            solution_version_arn: Some(self.version.clone()),
            ..JobRun::default()
        };
        (job, run)
    }
}

/// Resolves the solution version (reference, policy, pinned ARN) and the filter (reference or
/// ARN) of a batch job.
pub async fn resolve_batch<K: Resource>(
    env: &Env<'_>,
    obj: &K,
    source: &BatchSource,
) -> Result<Result<BatchRefs, Outcome>, Error> {
    let (solution, policy) = (source.solution_ref.as_ref(), source.version_policy);
    let pinned = source.solution_version_arn.as_ref();
    let (filter_ref, filter_arn) = (source.filter_ref.as_ref(), source.filter_arn.as_ref());
    let version = match selected_version(env, obj, solution, policy, pinned).await? {
        Ok(version) => version,
        Err(waiting) => return Ok(Err(waiting)),
    };
    let filter = match (filter_ref, filter_arn) {
        (Some(r), _) => {
            let ns = namespace(obj)?;
            let refs = env.references;
            let found = refs.resolve(&refs.filters, r, &ns).await?;
            let arn = found
                .filter(|f| f.is_ready())
                .and_then(|f| f.status.as_ref()?.resource.arn.clone());
            match arn {
                Some(arn) => Some(arn),
                None => {
                    return Ok(Err(waiting_for(
                        "FilterNotReady",
                        format!("Filter {}/{} is not Ready yet", r.namespace_or(&ns), r.name),
                    )));
                }
            }
        }
        (None, arn) => arn.cloned(),
    };
    Ok(Ok(BatchRefs { version, filter }))
}

/// Resolves batch job kinds (`spec.source`) with [`resolve_batch`].
macro_rules! batch_kinds {
    ($($k:ty),*) => {$(
        impl $crate::reconcile::Resolve for $k {
            type Refs = $crate::reconcile::batch::BatchRefs;

            async fn resolve(
                &self,
                env: &$crate::reconcile::Env<'_>,
            ) -> Result<Result<Self::Refs, $crate::outcome::Outcome>, $crate::reconcile::Error> {
                $crate::reconcile::batch::resolve_batch(env, self, &self.spec.source).await
            }
        }
    )*};
}
batch_kinds!(
    personalize_api::BatchInferenceJob,
    personalize_api::BatchSegmentJob
);

/// Where a run writes: the spec's output path for a job that runs once, `<path>/<run name>/`
/// for a scheduled run (each occurrence keeps its own output).
pub fn output_path(path: &str, run: &str, scheduled: Option<Timestamp>) -> String {
    match scheduled {
        None => path.to_owned(),
        Some(_) => format!("{}/{run}/", path.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_runs_write_under_their_own_prefix() {
        let at = Timestamp::UNIX_EPOCH;
        assert_eq!(output_path("s3://b/out/", "j-1", None), "s3://b/out/");
        assert_eq!(
            output_path("s3://b/out/", "j-1", Some(at)),
            "s3://b/out/j-1/"
        );
        assert_eq!(
            output_path("s3://b/out", "j-1", Some(at)),
            "s3://b/out/j-1/"
        );
    }
}

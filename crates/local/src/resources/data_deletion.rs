//! Data deletion jobs: CreateDataDeletionJob (Describe and List: `resource.rs`), the job driver,
//! and the parsing of the list of users to delete.
//!
//! As AWS documents ("Deleting users and their data with a data deletion job"): the input is a
//! CSV file (or the CSV files under a prefix, at most 100 MB in all) with a single USER_ID
//! column; the job goes PENDING -> IN_PROGRESS -> COMPLETED | FAILED and removes the listed
//! users' interactions (imported and PutEvents), action interactions and Users rows from the
//! dataset group, so that the next solution version no longer knows them and a later export no
//! longer lists them. Solution versions already trained keep what they learnt until a new
//! version replaces them (AWS: "create a new solution version and update campaigns"); the users'
//! live events are gone at once with the rest of their data. `numDeleted` counts the listed
//! users that had data. At most 5 jobs per dataset group may be PENDING.
//! Depends on the store, the wire layer and `objects.rs`; never on the router.

use std::collections::HashSet;

use crate::resources::AppState;
use crate::resources::dataset_group::require_active;
use crate::resources::job::{self, Job, Statuses};
use crate::resources::objects;
use crate::resources::resource::{Created, reserve};
use crate::resources::shapes::CreateDataDeletionJob;
use crate::resources::tags;
use crate::store::model::DataDeletionJob;
use crate::store::{Entry, Store};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

pub const PENDING: &str = "PENDING";
pub const IN_PROGRESS: &str = "IN_PROGRESS";
pub const COMPLETED: &str = "COMPLETED";
pub const FAILED: &str = "FAILED";

/// How many jobs of one dataset group may be PENDING at once.
const MAX_PENDING: usize = 5;
/// The largest total size of a job's input files.
const MAX_INPUT_BYTES: usize = 100 * 1024 * 1024;

pub fn create(
    state: &AppState,
    req: CreateDataDeletionJob,
) -> Result<Created<DataDeletionJob>, ApiError> {
    check_name("jobName", &req.job_name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    objects::check_data_source(&req.data_source)?;
    let (arn, mut store) = reserve::<DataDeletionJob>(state, "data-deletion-job", &req.job_name)?;
    require_active(&store, &req.dataset_group_arn)?;
    let pending = store
        .deletion_jobs
        .values()
        .filter(|j| j.dataset_group_arn == req.dataset_group_arn && j.status == PENDING)
        .count();
    if pending >= MAX_PENDING {
        return Err(ApiError::LimitExceeded(format!(
            "Dataset group {} already has {pending} data deletion jobs PENDING (at most \
             {MAX_PENDING})",
            req.dataset_group_arn
        )));
    }
    let now = store.now();
    let record = Entry::DeletionJob(DataDeletionJob {
        job_name: req.job_name,
        data_deletion_job_arn: arn.clone(),
        dataset_group_arn: req.dataset_group_arn,
        data_source: req.data_source,
        role_arn: req.role_arn,
        status: PENDING.into(),
        num_deleted: None,
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
    });
    Ok(job::launch::<DataDeletionJob>(
        state, store, arn, record, req.tags,
    ))
}

/// How data deletion jobs run (the driver is [`job`]'s).
impl Job for DataDeletionJob {
    /// The users listed, each once.
    type Output = Vec<String>;
    const NAME: &'static str = "data deletion job";
    const STATUSES: Statuses = Statuses {
        pending: PENDING,
        in_progress: IN_PROGRESS,
        done: COMPLETED,
        failed: FAILED,
    };

    /// Reads and parses the job's input: the user ids listed, each once.
    async fn run(state: &AppState, arn: &str) -> Result<Vec<String>, String> {
        let location = {
            let store = state.lock();
            let job = store
                .deletion_jobs
                .get(arn)
                .ok_or("data deletion job vanished")?;
            job.data_source.data_location.clone().unwrap_or_default()
        };
        let files = objects::read(state, &location).await?;
        let total: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
        if total > MAX_INPUT_BYTES {
            return Err(format!(
                "The input at {location} is {total} bytes; data deletion input files may total at \
                 most 100 MB"
            ));
        }
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for (name, bytes) in &files {
            let listed = parse_user_ids(bytes).map_err(|e| {
                if files.len() > 1 {
                    format!("{name}: {e}")
                } else {
                    e
                }
            })?;
            users.extend(listed.into_iter().filter(|u| seen.insert(u.clone())));
        }
        Ok(users)
    }

    /// Removes the users' data with the COMPLETED job, as one entry.
    fn finish(store: &mut Store, arn: &str, job: Entry, users: Vec<String>) {
        let Entry::DeletionJob(job) = job else {
            return;
        };
        store.commit(Entry::UsersDeleted { job, users });
        let deleted = store
            .deletion_jobs
            .get(arn)
            .and_then(|j| j.num_deleted)
            .unwrap_or_default();
        tracing::info!(%arn, deleted, "data deletion job finished");
    }
}

/// The user ids of a data deletion CSV: a header naming the single column USER_ID, then one id
/// per line (blank lines skipped). Errors name the line.
pub fn parse_user_ids(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            return Err(
                "line 1: the file is empty (a header row with a USER_ID column is required)".into(),
            );
        }
        Some(Err(e)) => return Err(format!("line 1: unreadable CSV header: {e}")),
        Some(Ok(h)) => h,
    };
    let names: Vec<&str> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}'))
        .collect();
    if !names.iter().any(|n| n.eq_ignore_ascii_case("USER_ID")) {
        return Err(format!(
            "line 1: the header has no USER_ID column (found {})",
            names.join(",")
        ));
    }
    if names.len() != 1 {
        return Err(format!(
            "line 1: the file must have a single USER_ID column, found {} columns ({})",
            names.len(),
            names.join(",")
        ));
    }
    let mut users = Vec::new();
    for (index, record) in records.enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("line {line}: unreadable CSV: {e}"))?;
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        match fields.as_slice() {
            [] | [""] => continue,
            [user] if user.chars().count() <= 256 => users.push((*user).to_string()),
            [_] => {
                return Err(format!(
                    "line {line}: USER_ID is longer than 256 characters"
                ));
            }
            more => {
                return Err(format!(
                    "line {line}: expected 1 field, found {}",
                    more.len()
                ));
            }
        }
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_user_id_column() {
        assert_eq!(
            parse_user_ids(b"USER_ID\nu1\n\nu2\r\n u3 \n").expect("valid"),
            vec!["u1", "u2", "u3"]
        );
        assert_eq!(
            parse_user_ids("\u{feff}user_id\nu1\n".as_bytes()).expect("BOM, any case"),
            vec!["u1"]
        );
        assert!(parse_user_ids(b"USER_ID\n").expect("no users").is_empty());
    }

    #[test]
    fn refuses_files_without_a_single_user_id_column() {
        let empty = parse_user_ids(b"").expect_err("empty");
        assert!(empty.contains("empty"), "{empty}");
        let other = parse_user_ids(b"ITEM_ID\ni1\n").expect_err("no USER_ID");
        assert!(other.contains("no USER_ID column"), "{other}");
        let two = parse_user_ids(b"USER_ID,ITEM_ID\nu1,i1\n").expect_err("two columns");
        assert!(two.contains("single USER_ID column"), "{two}");
        let row = parse_user_ids(b"USER_ID\nu1\nu2,x\n").expect_err("two fields");
        assert!(row.starts_with("line 3:"), "{row}");
    }
}

//! Dataset export jobs: CreateDatasetExportJob (Describe and List: `resource.rs`), the job
//! driver, and the pure part: which rows an `ingestionMode` selects and the CSV they become.
//!
//! As AWS documents ("Exporting a dataset"): BULK is what dataset import jobs imported, PUT what
//! PutEvents / PutItems / PutUsers added, ALL both (PUT when not given). Records matching exactly
//! on every field are written once; BULK and PUT keep every version of a record imported that
//! way, ALL only the newest per id. The CSV has a header row of the schema's field names;
//! categorical values are joined with `|`, a missing value is an empty cell. It is written to
//! `<path>/<jobName>/part-00000.csv` (AWS does not document its file names). Actions and
//! Action interactions datasets cannot be exported (AWS: "You can't export data in an Action
//! interactions dataset or Actions dataset").
//! Depends on the store, the wire layer and `objects.rs`; never on the router.

use std::collections::HashSet;

use crate::resources::AppState;
use crate::resources::dataset;
use crate::resources::job::{self, Job};
use crate::resources::lifecycle::{ACTIVE, CREATE_PENDING};
use crate::resources::objects::{self, parse_location};
use crate::resources::resource::{Created, get, reserve};
use crate::resources::s3::NewObject;
use crate::resources::schema::{Column, ColumnKind, parse_columns};
use crate::resources::shapes::CreateDatasetExportJob;
use crate::resources::tags;
use crate::store::data::{DatasetRows, FieldValue, InteractionRow, RecordRow};
use crate::store::model::{Dataset, DatasetExportJob};
use crate::store::{Entry, Store};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

/// Which data an export job writes (`ingestionMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Bulk,
    Put,
    All,
}

impl Mode {
    fn parse(mode: &str) -> Option<Mode> {
        Some(match mode {
            "BULK" => Mode::Bulk,
            "PUT" => Mode::Put,
            "ALL" => Mode::All,
            _ => return None,
        })
    }
}

/// The rows an export job writes, copied out of the store.
#[derive(Debug, PartialEq)]
pub enum Selected {
    Interactions(Vec<InteractionRow>),
    Records(Vec<RecordRow>),
}

pub fn create(
    state: &AppState,
    req: CreateDatasetExportJob,
) -> Result<Created<DatasetExportJob>, ApiError> {
    check_name("jobName", &req.job_name)?;
    check_arn("datasetArn", &req.dataset_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    let ingestion_mode = req.ingestion_mode.clone().unwrap_or_else(|| "PUT".into());
    if Mode::parse(&ingestion_mode).is_none() {
        return Err(ApiError::InvalidInput(format!(
            "Invalid ingestionMode {ingestion_mode}: must be BULK, PUT or ALL"
        )));
    }
    let path = &req.job_output.s3_data_destination.path;
    if !path.starts_with("s3://") || parse_location(path).is_err() {
        return Err(ApiError::InvalidInput(format!(
            "jobOutput.s3DataDestination.path {path} must be an s3://bucket/folder path"
        )));
    }
    let (arn, mut store) = reserve::<DatasetExportJob>(state, "dataset-export-job", &req.job_name)?;
    let dataset = get::<Dataset>(&store, &req.dataset_arn)?;
    if dataset.dataset_type == "ACTIONS" || dataset.dataset_type == "ACTION_INTERACTIONS" {
        return Err(ApiError::InvalidInput(format!(
            "Dataset {} is an {} dataset: Actions and Action interactions datasets cannot be \
             exported",
            dataset.dataset_arn, dataset.dataset_type
        )));
    }
    if dataset.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset {} is in status {}, not ACTIVE",
            dataset.dataset_arn, dataset.status
        )));
    }
    let now = store.now();
    let record = Entry::ExportJob(DatasetExportJob {
        job_name: req.job_name,
        dataset_export_job_arn: arn.clone(),
        dataset_arn: req.dataset_arn,
        ingestion_mode,
        role_arn: req.role_arn,
        status: CREATE_PENDING.into(),
        job_output: req.job_output,
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
    });
    Ok(job::launch::<DatasetExportJob>(
        state, store, arn, record, req.tags,
    ))
}

/// How dataset export jobs run (the driver is [`job`]'s).
impl Job for DatasetExportJob {
    /// The `s3://` location written.
    type Output = String;
    const NAME: &'static str = "dataset export job";

    /// Writes the export; returns the `s3://` location written.
    async fn run(state: &AppState, arn: &str) -> Result<String, String> {
        let (selected, columns, id_field, destination, job_name) = {
            let store = state.lock();
            let job = store.export_jobs.get(arn).ok_or("export job vanished")?;
            let (dataset, schema) = dataset::with_schema(&store, &job.dataset_arn)?;
            let mode = Mode::parse(&job.ingestion_mode).ok_or("unknown ingestionMode")?;
            let selected = if dataset.dataset_type == "INTERACTIONS" {
                let bulk = match store.data.get(&dataset.dataset_arn) {
                    Some(DatasetRows::Interactions(rows)) => rows.as_slice(),
                    _ => &[],
                };
                let live: Vec<InteractionRow> = store
                    .live
                    .get(&dataset.dataset_group_arn)
                    .map(|l| l.all().map(|e| e.to_row()).collect())
                    .unwrap_or_default();
                Selected::Interactions(select_interactions(bulk, live, mode))
            } else {
                let current = match store.data.get(&dataset.dataset_arn) {
                    Some(DatasetRows::Items(rows) | DatasetRows::Users(rows)) => rows.as_slice(),
                    _ => &[],
                };
                let replaced = store
                    .replaced
                    .get(&dataset.dataset_arn)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                Selected::Records(select_records(current, replaced, mode))
            };
            let id_field = if dataset.dataset_type == "USERS" {
                "USER_ID"
            } else {
                "ITEM_ID"
            };
            (
                selected,
                parse_columns(&schema.schema)?,
                id_field,
                job.job_output.s3_data_destination.clone(),
                job.job_name.clone(),
            )
        };
        let csv = tokio::task::spawn_blocking(move || to_csv(&columns, id_field, &selected))
            .await
            .map_err(|e| format!("export worker failed: {e}"))??;
        let (bucket, prefix) = parse_location(&destination.path)?;
        let key = output_key(&prefix, &job_name);
        let object = NewObject::csv(&bucket, &key, csv, destination.kms_key_arn.as_deref());
        objects::write(state, object).await?;
        Ok(format!("s3://{bucket}/{key}"))
    }

    fn finish(store: &mut Store, arn: &str, job: Entry, key: String) {
        tracing::info!(%arn, %key, "dataset export job finished");
        store.commit(job);
    }
}

/// The object an export job writes under the destination prefix.
pub fn output_key(prefix: &str, job_name: &str) -> String {
    match prefix.trim_end_matches('/') {
        "" => format!("{job_name}/part-00000.csv"),
        p => format!("{p}/{job_name}/part-00000.csv"),
    }
}

/// The interactions `mode` selects: imported (`bulk`), put (`live`), or both.
pub fn select_interactions(
    bulk: &[InteractionRow],
    live: Vec<InteractionRow>,
    mode: Mode,
) -> Vec<InteractionRow> {
    match mode {
        Mode::Bulk => bulk.to_vec(),
        Mode::Put => live,
        Mode::All => bulk.iter().cloned().chain(live).collect(),
    }
}

/// The records `mode` selects from a dataset's `current` records (the newest per id) and the
/// earlier versions later imports or puts `replaced`: every version imported (BULK) or put
/// (PUT), or the newest per id of either (ALL).
pub fn select_records(current: &[RecordRow], replaced: &[RecordRow], mode: Mode) -> Vec<RecordRow> {
    match mode {
        Mode::Bulk | Mode::Put => {
            let put = mode == Mode::Put;
            replaced
                .iter()
                .chain(current)
                .filter(|r| r.put == put)
                .cloned()
                .collect()
        }
        Mode::All => {
            let ids: HashSet<&str> = current.iter().map(|r| r.id.as_str()).collect();
            // Put records a later FULL import dropped from the dataset: the newest of each.
            let mut older: Vec<&RecordRow> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::new();
            for r in replaced.iter().rev() {
                if !ids.contains(r.id.as_str()) && seen.insert(r.id.as_str()) {
                    older.push(r);
                }
            }
            older.reverse();
            older.into_iter().chain(current).cloned().collect()
        }
    }
}

/// One cell as the CSV writes it: categorical values joined with `|`, integers without a
/// fraction, a missing value empty.
fn cell(column: &Column, value: Option<&FieldValue>) -> String {
    match value {
        None => String::new(),
        Some(FieldValue::Str(s)) => s.clone(),
        Some(FieldValue::List(values)) => values.join("|"),
        Some(FieldValue::Num(n)) => match column.kind {
            ColumnKind::Int | ColumnKind::Long => format!("{}", *n as i64),
            _ => format!("{n}"),
        },
    }
}

/// The CSV of `selected`: a header of the schema's field names, then one line per row, rows
/// matching exactly on every field written once.
pub fn to_csv(columns: &[Column], id_field: &str, selected: &Selected) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| format!("writing the export CSV: {e}");
    writer
        .write_record(columns.iter().map(|c| c.name.as_str()))
        .map_err(fail)?;
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    let mut write = |line: Vec<String>| -> Result<(), String> {
        if seen.contains(&line) {
            return Ok(());
        }
        writer.write_record(&line).map_err(fail)?;
        seen.insert(line);
        Ok(())
    };
    match selected {
        Selected::Interactions(rows) => {
            for r in rows {
                let line = columns
                    .iter()
                    .map(|c| match c.name.as_str() {
                        "USER_ID" => r.user_id.clone(),
                        "ITEM_ID" => r.item_id.clone(),
                        "TIMESTAMP" => r.timestamp.to_string(),
                        "EVENT_TYPE" => r.event_type.clone().unwrap_or_default(),
                        "EVENT_VALUE" => r
                            .event_value
                            .map(|v| cell(c, Some(&FieldValue::Num(v))))
                            .unwrap_or_default(),
                        name => r
                            .extra
                            .as_ref()
                            .and_then(|x| x.get(name).cloned())
                            .unwrap_or_default(),
                    })
                    .collect();
                write(line)?;
            }
        }
        Selected::Records(rows) => {
            for r in rows {
                let line = columns
                    .iter()
                    .map(|c| match c.name.as_str() {
                        name if name == id_field => r.id.clone(),
                        "CREATION_TIMESTAMP" => {
                            r.created.map(|t| t.to_string()).unwrap_or_default()
                        }
                        name => cell(c, r.fields.get(name)),
                    })
                    .collect();
                write(line)?;
            }
        }
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| format!("writing the export CSV: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("export CSV is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn record(id: &str, genre: &[&str], year: f64, put: bool) -> RecordRow {
        RecordRow {
            id: id.into(),
            fields: BTreeMap::from([
                (
                    "GENRES".to_string(),
                    FieldValue::List(genre.iter().map(|g| g.to_string()).collect()),
                ),
                ("YEAR".to_string(), FieldValue::Num(year)),
            ]),
            created: None,
            put,
        }
    }

    #[test]
    fn modes_select_by_how_the_data_came() {
        let bulk = vec![
            InteractionRow::click("u", "a", 1),
            InteractionRow::click("u", "b", 2),
        ];
        let live = vec![InteractionRow::click("v", "c", 3)];
        assert_eq!(select_interactions(&bulk, live.clone(), Mode::Bulk), bulk);
        assert_eq!(select_interactions(&bulk, live.clone(), Mode::Put), live);
        assert_eq!(select_interactions(&bulk, live, Mode::All).len(), 3);

        // i1 imported, then put twice; i2 imported; i3 put, then dropped by a FULL import.
        let current = vec![
            record("i1", &["x"], 3.0, true),
            record("i2", &["y"], 1.0, false),
        ];
        let replaced = vec![
            record("i3", &["z"], 1.0, true),
            record("i1", &["x"], 1.0, false),
            record("i1", &["x"], 2.0, true),
        ];
        let ids = |rows: Vec<RecordRow>| -> Vec<(String, FieldValue)> {
            rows.into_iter()
                .map(|r| (r.id.clone(), r.fields["YEAR"].clone()))
                .collect()
        };
        assert_eq!(
            ids(select_records(&current, &replaced, Mode::Bulk)),
            vec![
                ("i1".into(), FieldValue::Num(1.0)),
                ("i2".into(), FieldValue::Num(1.0))
            ]
        );
        assert_eq!(
            ids(select_records(&current, &replaced, Mode::Put)),
            vec![
                ("i3".into(), FieldValue::Num(1.0)),
                ("i1".into(), FieldValue::Num(2.0)),
                ("i1".into(), FieldValue::Num(3.0))
            ]
        );
        assert_eq!(
            ids(select_records(&current, &replaced, Mode::All)),
            vec![
                ("i3".into(), FieldValue::Num(1.0)),
                ("i1".into(), FieldValue::Num(3.0)),
                ("i2".into(), FieldValue::Num(1.0))
            ]
        );
    }

    #[test]
    fn csv_has_the_schema_header_lists_joined_and_exact_duplicates_once() {
        let columns = parse_columns(
            r#"{"type":"record","name":"Items","fields":[{"name":"ITEM_ID","type":"string"},
            {"name":"GENRES","type":["null","string"],"categorical":true},{"name":"YEAR","type":"int"},
            {"name":"PRICE","type":["null","float"]}]}"#,
        )
        .expect("schema");
        let mut priced = record("i2", &[], 2001.0, false);
        priced.fields.remove("GENRES");
        priced
            .fields
            .insert("PRICE".to_string(), FieldValue::Num(9.5));
        let rows = vec![
            record("i1", &["Comedy", "Drama"], 1995.0, false),
            record("i1", &["Comedy", "Drama"], 1995.0, true),
            priced,
        ];
        let csv = to_csv(&columns, "ITEM_ID", &Selected::Records(rows)).expect("csv");
        assert_eq!(
            csv,
            "ITEM_ID,GENRES,YEAR,PRICE\ni1,Comedy|Drama,1995,\ni2,,2001,9.5\n"
        );
        let interactions = parse_columns(
            r#"{"type":"record","name":"I","fields":[{"name":"USER_ID","type":"string"},
            {"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},
            {"name":"EVENT_VALUE","type":["null","float"]},
            {"name":"DEVICE","type":["null","string"],"categorical":true}]}"#,
        )
        .expect("schema");
        let mut valued = InteractionRow::click("u", "a", 5);
        valued.event_value = Some(2.5);
        valued.extra = Some(Box::new(BTreeMap::from([(
            "DEVICE".to_string(),
            "phone|tv".to_string(),
        )])));
        let csv = to_csv(
            &interactions,
            "ITEM_ID",
            &Selected::Interactions(vec![valued, InteractionRow::click("u, x", "b", 6)]),
        )
        .expect("csv");
        assert_eq!(
            csv,
            "USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE,DEVICE\nu,a,5,2.5,phone|tv\n\"u, x\",b,6,,\n"
        );
    }

    #[test]
    fn output_goes_under_the_job_name() {
        assert_eq!(output_key("out/", "job"), "out/job/part-00000.csv");
        assert_eq!(output_key("", "job"), "job/part-00000.csv");
        assert_eq!(output_key("a/b", "job"), "a/b/job/part-00000.csv");
    }
}

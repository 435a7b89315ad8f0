//! Dataset import jobs: CreateDatasetImportJob (Describe and List: `resource.rs`), the job
//! driver, and CSV parsing against the dataset's schema.
//!
//! `dataLocation` `s3://bucket/key-or-prefix` is read through `objects.rs` (a file, or every
//! `.csv` under a prefix). FULL replaces the dataset's rows, INCREMENTAL appends; the rows and the job's ACTIVE
//! status are journaled as one entry, so a restart either sees both or re-runs the job.
//! Depends on the store, the wire layer and `objects.rs`; never on the router.

use std::collections::BTreeMap;

use crate::resources::AppState;
use crate::resources::dataset;
use crate::resources::job::{self, Job};
use crate::resources::lifecycle::{ACTIVE, CREATE_PENDING};
use crate::resources::metric_attribution::{self, Attributable, Horizon};
use crate::resources::objects;
use crate::resources::objects::parse_location;
use crate::resources::resource::{Created, get, reserve};
use crate::resources::s3::NewObject;
use crate::resources::schema::{Column, ColumnKind, parse_columns};
use crate::resources::shapes::CreateDatasetImportJob;
use crate::resources::tags;
use crate::store::data::{DatasetRows, FieldValue, InteractionRow, RecordRow, Tally};
use crate::store::model::{Dataset, DatasetImportJob, MetricAttribution};
use crate::store::{Entry, Store};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};

pub fn create(
    state: &AppState,
    req: CreateDatasetImportJob,
) -> Result<Created<DatasetImportJob>, ApiError> {
    check_name("jobName", &req.job_name)?;
    check_arn("datasetArn", &req.dataset_arn)?;
    tags::check(req.tags.as_deref().unwrap_or_default())?;
    objects::check_data_source(&req.data_source)?;
    let import_mode = req.import_mode.clone().unwrap_or_else(|| "FULL".into());
    if import_mode != "FULL" && import_mode != "INCREMENTAL" {
        return Err(ApiError::InvalidInput(format!(
            "Invalid importMode {import_mode}: must be FULL or INCREMENTAL"
        )));
    }
    let (arn, mut store) = reserve::<DatasetImportJob>(state, "dataset-import-job", &req.job_name)?;
    let dataset = get::<Dataset>(&store, &req.dataset_arn)?;
    if dataset.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset {} is in status {}, not ACTIVE",
            dataset.dataset_arn, dataset.status
        )));
    }
    if let Some(running) = job::running::<DatasetImportJob>(&store, &req.dataset_arn) {
        return Err(ApiError::InUse(format!(
            "Dataset {} already has an import job in progress: {running}",
            req.dataset_arn
        )));
    }
    if req.publish_attribution_metrics_to_s3 == Some(true) {
        let has_destination = metric_attribution::of_group(&store, &dataset.dataset_group_arn)
            .is_some_and(|m| m.metrics_output_config.s3_data_destination.is_some());
        if !has_destination {
            return Err(ApiError::InvalidInput(format!(
                "publishAttributionMetricsToS3: dataset group {} has no metric attribution with \
                 metricsOutputConfig.s3DataDestination to publish the report to",
                dataset.dataset_group_arn
            )));
        }
    }
    let now = store.now();
    let record = Entry::ImportJob(DatasetImportJob {
        job_name: req.job_name,
        dataset_import_job_arn: arn.clone(),
        dataset_arn: req.dataset_arn,
        data_source: req.data_source,
        role_arn: req.role_arn,
        status: CREATE_PENDING.into(),
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
        import_mode,
        publish_attribution_metrics_to_s3: req.publish_attribution_metrics_to_s3,
    });
    Ok(job::launch::<DatasetImportJob>(
        state, store, arn, record, req.tags,
    ))
}

/// How dataset import jobs run (the driver is [`job`]'s).
impl Job for DatasetImportJob {
    /// The rows read and, when a metric attribution reports on them, its ARN and values for
    /// CloudWatch.
    type Output = (DatasetRows, Option<(String, Vec<Tally>)>);
    const NAME: &'static str = "import job";

    /// Reads the rows, then writes a metric attribution's reports of the imported
    /// interactions: values for CloudWatch (incremental imports) and the S3 report
    /// (publishAttributionMetricsToS3), before the job is ACTIVE.
    async fn run(state: &AppState, arn: &str) -> Result<Self::Output, String> {
        match run(state, arn).await? {
            (rows, Some(sources)) => {
                let tallies = report(state, arn, &rows, &sources).await?;
                Ok((rows, tallies))
            }
            (rows, None) => Ok((rows, None)),
        }
    }

    /// Commits the rows with the ACTIVE job as one entry, then the attributed values.
    fn finish(store: &mut Store, arn: &str, job: Entry, (rows, tallies): Self::Output) {
        let Entry::ImportJob(job) = job else {
            return;
        };
        tracing::info!(%arn, rows = rows.len(), "import job finished");
        let dataset_arn = job.dataset_arn.clone();
        let full = job.import_mode == "FULL";
        store.commit(Entry::ImportApplied {
            job,
            dataset_arn,
            full,
            rows,
        });
        if let Some((attribution, tallies)) = tallies
            && !tallies.is_empty()
            && store.metric_attributions.contains_key(&attribution)
        {
            store.commit(Entry::Attributed {
                arn: attribution,
                tallies,
            });
        }
    }
}

/// The metric attribution that reports on import job `job` and how: values for CloudWatch
/// (incremental imports) and/or the S3 report (`publishAttributionMetricsToS3`). None when
/// nothing is reported: not interactions, no metric attribution, or one created after the job
/// (AWS reports only data imported after the metric attribution was created).
fn reporting(store: &Store, job: &DatasetImportJob) -> Option<(String, bool, bool)> {
    let dataset = store.datasets.get(&job.dataset_arn)?;
    if dataset.dataset_type != "INTERACTIONS" {
        return None;
    }
    let attribution = metric_attribution::of_group(store, &dataset.dataset_group_arn)?;
    if attribution.creation_date_time > job.creation_date_time {
        return None;
    }
    let to_cloudwatch = job.import_mode == "INCREMENTAL";
    let to_s3 = job.publish_attribution_metrics_to_s3 == Some(true);
    (to_cloudwatch || to_s3).then(|| {
        (
            attribution.metric_attribution_arn.clone(),
            to_cloudwatch,
            to_s3,
        )
    })
}

/// Attributes the imported `rows` (`sources`: each row's EVENT_ATTRIBUTION_SOURCE and
/// RECOMMENDATION_ID): writes the S3 report when the job asks for one, and returns the values
/// for CloudWatch when the import is incremental.
async fn report(
    state: &AppState,
    arn: &str,
    rows: &DatasetRows,
    sources: &[RawSource],
) -> Result<Option<(String, Vec<Tally>)>, String> {
    let DatasetRows::Interactions(rows) = rows else {
        return Ok(None);
    };
    let (attribution, cloudwatch, s3) = {
        let store = state.lock();
        let job = store.import_jobs.get(arn).ok_or("import job vanished")?;
        let Some((attribution, to_cloudwatch, to_s3)) = reporting(&store, job) else {
            return Ok(None);
        };
        let ma = get::<MetricAttribution>(&store, &attribution).map_err(|e| e.to_string())?;
        let dg = ma.dataset_group_arn.clone();
        let records: Vec<Attributable<'_>> = rows
            .iter()
            .zip(sources.iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(row, raw)| Attributable {
                event_type: row.event_type.as_deref(),
                item_id: Some(row.item_id.as_str()),
                event_value: row.event_value,
                timestamp: row.timestamp,
                source: metric_attribution::source_of(
                    &store,
                    raw.and_then(|r| r.0.as_deref()),
                    raw.and_then(|r| r.1.as_deref()),
                ),
            })
            .collect();
        let cloudwatch = to_cloudwatch.then(|| {
            metric_attribution::tally(state, &store, &attribution, &dg, &records, Horizon::Recent)
        });
        let s3 = match to_s3 {
            false => None,
            true => {
                let tallies = metric_attribution::tally(
                    state,
                    &store,
                    &attribution,
                    &dg,
                    &records,
                    Horizon::All,
                );
                let path = ma
                    .metrics_output_config
                    .s3_data_destination
                    .as_ref()
                    .map(|d| d.path.clone())
                    .ok_or_else(|| {
                        format!(
                            "publishAttributionMetricsToS3: metric attribution {attribution} has \
                             no metricsOutputConfig.s3DataDestination"
                        )
                    })?;
                let csv = metric_attribution::s3_report(&store, &attribution, &dg, &tallies)?;
                Some((path, job.import_mode.clone(), csv))
            }
        };
        (attribution, cloudwatch, s3)
    };
    if let Some((path, mode, csv)) = s3 {
        let (bucket, prefix) = parse_location(&path)?;
        let key = format!(
            "{}AggregatedAttributionMetrics-{mode}-{}.csv",
            match prefix.trim_end_matches('/') {
                "" => String::new(),
                p => format!("{p}/"),
            },
            metric_attribution::unix_now()
        );
        objects::write(state, NewObject::csv(&bucket, &key, csv, None)).await?;
        tracing::info!(%arn, report = %format!("s3://{bucket}/{key}"), "metric attribution report written");
    }
    Ok(cloudwatch.map(|tallies| (attribution, tallies)))
}

/// An imported interaction's EVENT_ATTRIBUTION_SOURCE and RECOMMENDATION_ID.
type RawSource = (Option<String>, Option<String>);

/// Each data row's EVENT_ATTRIBUTION_SOURCE and RECOMMENDATION_ID cells (None when empty or
/// the file has no such column), blank lines skipped as [`parse_csv`] skips them.
fn raw_sources(bytes: &[u8]) -> Result<Vec<RawSource>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let Some(Ok(header)) = records.next() else {
        return Ok(Vec::new());
    };
    let at = |name: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let (source_at, id_at) = (at("EVENT_ATTRIBUTION_SOURCE"), at("RECOMMENDATION_ID"));
    let mut out = Vec::new();
    for record in records {
        let record = record.map_err(|e| format!("unreadable CSV: {e}"))?;
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
        };
        out.push((cell(source_at), cell(id_at)));
    }
    Ok(out)
}

type Imported = (DatasetRows, Option<Vec<RawSource>>);

async fn run(state: &AppState, arn: &str) -> Result<Imported, String> {
    let (location, dataset_type, columns, attributed) = {
        let store = state.lock();
        let job = store.import_jobs.get(arn).ok_or("import job vanished")?;
        let (dataset, schema) = dataset::with_schema(&store, &job.dataset_arn)?;
        (
            job.data_source.data_location.clone().unwrap_or_default(),
            dataset.dataset_type.clone(),
            parse_columns(&schema.schema)?,
            reporting(&store, job).is_some(),
        )
    };
    let files = objects::read(state, &location).await?;
    tokio::task::spawn_blocking(move || {
        let mut all: Option<DatasetRows> = None;
        let mut sources = attributed.then(Vec::new);
        for (name, bytes) in &files {
            let named = |e: String| {
                if files.len() > 1 {
                    format!("{name}: {e}")
                } else {
                    e
                }
            };
            let rows = parse_csv(bytes, &columns, &dataset_type).map_err(named)?;
            if let Some(sources) = &mut sources {
                sources.extend(raw_sources(bytes).map_err(named)?);
            }
            match &mut all {
                None => all = Some(rows),
                Some(existing) => {
                    // One import's own files: a later file's record wins outright.
                    existing.append(rows);
                }
            }
        }
        all.map(|rows| (rows, sources))
            .ok_or_else(|| format!("no CSV data found at {location}"))
    })
    .await
    .map_err(|e| format!("import worker failed: {e}"))?
}

enum Cell {
    Str(String),
    Num(f64),
}

fn parse_cell(column: &Column, raw: &str) -> Result<Option<Cell>, String> {
    if raw.is_empty() {
        if column.nullable
            || column.kind == ColumnKind::String
                && column.name != "USER_ID"
                && column.name != "ITEM_ID"
                && column.name != "ACTION_ID"
        {
            return Ok(None);
        }
        return Err(format!(
            "column {} is empty but the schema does not allow null",
            column.name
        ));
    }
    Ok(Some(match column.kind {
        ColumnKind::String => Cell::Str(raw.to_string()),
        ColumnKind::Int | ColumnKind::Long => Cell::Num(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| format!("column {}: '{raw}' is not an integer", column.name))?
                as f64,
        ),
        ColumnKind::Float | ColumnKind::Double => {
            let v = raw
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("column {}: '{raw}' is not a number", column.name))?;
            if !v.is_finite() {
                return Err(format!("column {}: '{raw}' is not finite", column.name));
            }
            Cell::Num(v)
        }
        ColumnKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "false" => Cell::Str(raw.trim().to_ascii_lowercase()),
            _ => return Err(format!("column {}: '{raw}' is not a boolean", column.name)),
        },
    }))
}

/// The columns of an interaction row kept in their own members (the others go to `extra`).
const INTERACTION_FIELDS: [&str; 6] = [
    "USER_ID",
    "ITEM_ID",
    "ACTION_ID",
    "TIMESTAMP",
    "EVENT_TYPE",
    "EVENT_VALUE",
];

/// Parses CSV `bytes` whose header must name schema fields (all required ones present).
/// Errors name the 1-based line (the header is line 1) and the reason.
pub fn parse_csv(
    bytes: &[u8],
    columns: &[Column],
    dataset_type: &str,
) -> Result<DatasetRows, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        None => return Err("line 1: the file is empty (a header row is required)".into()),
        Some(Err(e)) => return Err(format!("line 1: unreadable CSV header: {e}")),
        Some(Ok(h)) => h,
    };
    let mut layout: Vec<&Column> = Vec::new();
    for name in header.iter() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let column = columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("line 1: header column {name} is not a field of the dataset's schema")
            })?;
        if layout.iter().any(|c| c.name == column.name) {
            return Err(format!("line 1: header column {name} appears twice"));
        }
        layout.push(column);
    }
    for column in columns {
        if !column.nullable && !layout.iter().any(|c| c.name == column.name) {
            return Err(format!(
                "line 1: header lacks the required schema field {}",
                column.name
            ));
        }
    }
    let mut interactions = Vec::new();
    let mut recs = Vec::new();
    let id_field = match dataset_type {
        "USERS" => "USER_ID",
        "ACTIONS" | "ACTION_INTERACTIONS" => "ACTION_ID",
        _ => "ITEM_ID",
    };
    let interactions_like = dataset_type == "INTERACTIONS" || dataset_type == "ACTION_INTERACTIONS";
    for (index, record) in records.enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("line {line}: unreadable CSV: {e}"))?;
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue;
        }
        if record.len() != layout.len() {
            return Err(format!(
                "line {line}: expected {} fields, found {}",
                layout.len(),
                record.len()
            ));
        }
        let mut cells: BTreeMap<&str, Cell> = BTreeMap::new();
        let mut extra: BTreeMap<String, String> = BTreeMap::new();
        for (column, raw) in layout.iter().zip(record.iter()) {
            if interactions_like
                && !raw.is_empty()
                && !INTERACTION_FIELDS.contains(&column.name.as_str())
            {
                extra.insert(column.name.clone(), raw.to_string());
            }
            if let Some(cell) = parse_cell(column, raw).map_err(|e| format!("line {line}: {e}"))? {
                cells.insert(column.name.as_str(), cell);
            }
        }
        let text = |cells: &mut BTreeMap<&str, Cell>, name: &str| match cells.remove(name) {
            Some(Cell::Str(s)) => Some(s),
            Some(Cell::Num(n)) => Some(n.to_string()),
            None => None,
        };
        let num = |cells: &mut BTreeMap<&str, Cell>, name: &str| match cells.remove(name) {
            Some(Cell::Num(n)) => Some(n),
            _ => None,
        };
        if interactions_like {
            let user_id = text(&mut cells, "USER_ID")
                .ok_or_else(|| format!("line {line}: USER_ID is missing"))?;
            let item_id = text(&mut cells, id_field)
                .ok_or_else(|| format!("line {line}: {id_field} is missing"))?;
            let timestamp = num(&mut cells, "TIMESTAMP")
                .ok_or_else(|| format!("line {line}: TIMESTAMP is missing"))?;
            let event_type = text(&mut cells, "EVENT_TYPE");
            let event_value = num(&mut cells, "EVENT_VALUE");
            interactions.push(InteractionRow {
                user_id,
                item_id,
                timestamp: timestamp as i64,
                event_type,
                event_value,
                extra: (!extra.is_empty()).then(|| Box::new(extra)),
                event_id: None,
            });
        } else {
            let id = text(&mut cells, id_field)
                .ok_or_else(|| format!("line {line}: {id_field} is missing"))?;
            let created = num(&mut cells, "CREATION_TIMESTAMP").map(|n| n as i64);
            let mut fields = BTreeMap::new();
            for (name, cell) in cells {
                let categorical = columns.iter().any(|c| c.name == name && c.categorical);
                let value = match cell {
                    Cell::Num(n) => FieldValue::Num(n),
                    Cell::Str(s) if categorical => {
                        FieldValue::List(s.split('|').map(str::to_string).collect())
                    }
                    Cell::Str(s) => FieldValue::Str(s),
                };
                fields.insert(name.to_string(), value);
            }
            recs.push(RecordRow {
                id,
                fields,
                created,
                put: false,
            });
        }
    }
    Ok(match dataset_type {
        "INTERACTIONS" => DatasetRows::Interactions(interactions),
        "ACTION_INTERACTIONS" => DatasetRows::ActionInteractions(interactions),
        "USERS" => DatasetRows::Users(recs),
        "ACTIONS" => DatasetRows::Actions(recs),
        _ => DatasetRows::Items(recs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interaction_columns() -> Vec<Column> {
        parse_columns(
            r#"{"type":"record","name":"I","fields":[{"name":"USER_ID","type":"string"},
            {"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},
            {"name":"EVENT_TYPE","type":["null","string"]}]}"#,
        )
        .expect("schema")
    }

    #[test]
    fn parses_interactions_and_names_the_bad_line() {
        let columns = interaction_columns();
        let ok = parse_csv(
            b"USER_ID,ITEM_ID,TIMESTAMP\n1,10,100\n2,20,200\n",
            &columns,
            "INTERACTIONS",
        )
        .expect("valid csv");
        assert_eq!(ok.len(), 2);
        let bad = parse_csv(
            b"USER_ID,ITEM_ID,TIMESTAMP\n1,10,100\n2,20,abc\n",
            &columns,
            "INTERACTIONS",
        )
        .expect_err("bad timestamp");
        assert!(bad.starts_with("line 3:"), "{bad}");
        assert!(bad.contains("TIMESTAMP"), "{bad}");
        let short = parse_csv(
            b"USER_ID,ITEM_ID,TIMESTAMP\n1,10\n",
            &columns,
            "INTERACTIONS",
        )
        .expect_err("short row");
        assert!(
            short.contains("line 2") && short.contains("expected 3 fields"),
            "{short}"
        );
        let header = parse_csv(b"USER_ID,ITEM_ID\n1,10\n", &columns, "INTERACTIONS")
            .expect_err("missing column");
        assert!(header.contains("TIMESTAMP"), "{header}");
    }

    #[test]
    fn interactions_keep_their_other_columns_as_written() {
        let columns = parse_columns(
            r#"{"type":"record","name":"I","fields":[{"name":"USER_ID","type":"string"},
            {"name":"ITEM_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},
            {"name":"DEVICE","type":["null","string"],"categorical":true},
            {"name":"IMPRESSION","type":["null","string"]}]}"#,
        )
        .expect("schema");
        let rows = parse_csv(
            b"USER_ID,ITEM_ID,TIMESTAMP,DEVICE,IMPRESSION\n1,10,100,phone|tv,10|11\n2,20,200,,\n",
            &columns,
            "INTERACTIONS",
        )
        .expect("valid");
        let DatasetRows::Interactions(rows) = rows else {
            panic!("interactions expected")
        };
        let extra = rows[0].extra.as_deref().expect("extra columns");
        assert_eq!(extra["DEVICE"], "phone|tv");
        assert_eq!(extra["IMPRESSION"], "10|11");
        assert!(rows[1].extra.is_none(), "empty cells are not kept");
    }

    #[test]
    fn items_keep_categorical_lists_and_numbers() {
        let columns = parse_columns(
            r#"{"type":"record","name":"Items","fields":[{"name":"ITEM_ID","type":"string"},
            {"name":"GENRES","type":"string","categorical":true},{"name":"YEAR","type":"int"}]}"#,
        )
        .expect("schema");
        let rows = parse_csv(
            b"ITEM_ID,GENRES,YEAR\n1,Comedy|Drama,1995\n",
            &columns,
            "ITEMS",
        )
        .expect("valid");
        let DatasetRows::Items(items) = rows else {
            panic!("items expected")
        };
        assert_eq!(
            items[0].fields["GENRES"],
            FieldValue::List(vec!["Comedy".into(), "Drama".into()])
        );
        assert_eq!(items[0].fields["YEAR"], FieldValue::Num(1995.0));
    }
}

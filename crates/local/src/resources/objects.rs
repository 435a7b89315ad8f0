//! `s3://` objects as every job reads and writes them: through the S3 endpoint (`s3.rs`) when one
//! is configured, else in the file-backed store `<data-dir>/s3/<bucket>/<key>`. Reading a
//! location gives one object, or every object under a prefix that the reader keeps (imports:
//! `.csv` files; batch jobs: any object), sorted.
//! Depends on the configuration, `s3.rs`, the store's shapes and the wire layer's errors.

use std::path::PathBuf;

use crate::resources::AppState;
use crate::resources::s3::{self, NewObject};
use crate::store::model::DataSource;
use crate::wire::error::ApiError;

/// Splits `s3://bucket/key` into bucket and key.
pub fn parse_location(location: &str) -> Result<(String, String), String> {
    let rest = location
        .strip_prefix("s3://")
        .ok_or_else(|| format!("dataLocation {location} must start with s3://"))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("dataLocation {location} has no bucket"));
    }
    Ok((bucket.to_string(), key.to_string()))
}

/// Checks the `dataSource` of a Create: `dataLocation` is given and an `s3://` location.
pub fn check_data_source(source: &DataSource) -> Result<(), ApiError> {
    let location = source
        .data_location
        .as_deref()
        .ok_or_else(|| ApiError::InvalidInput("dataSource.dataLocation is required".into()))?;
    parse_location(location).map_err(ApiError::InvalidInput)?;
    Ok(())
}

/// The `.csv` objects at `location` (`s3://bucket/key-or-prefix`): name and content of each.
pub async fn read(state: &AppState, location: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    read_where(state, location, |k| {
        k.to_ascii_lowercase().ends_with(".csv")
    })
    .await
}

/// The objects at `location` whose key `keep` accepts (a single object named exactly is always
/// read): name and content of each.
pub async fn read_where(
    state: &AppState,
    location: &str,
    keep: fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let (bucket, key) = parse_location(location)?;
    match &state.config.s3_endpoint {
        Some(endpoint) => {
            s3::fetch_where(endpoint, &state.config.region, &bucket, &key, keep).await
        }
        None => read_local(
            local_bucket(state, &bucket, "to read s3:// locations from")?,
            &key,
            location,
            keep,
        ),
    }
}

/// Writes `object`; through S3, encrypted with SSE-KMS under its KMS key when it has one (the
/// file-backed store has no KMS: it keeps the bytes as written).
pub async fn write(state: &AppState, object: NewObject<'_>) -> Result<(), String> {
    match &state.config.s3_endpoint {
        Some(endpoint) => s3::put(endpoint, &state.config.region, object).await,
        None => {
            let NewObject {
                bucket, key, body, ..
            } = object;
            let file = local_bucket(state, bucket, "to write s3:// objects to")?.join(key);
            let written = match file.parent() {
                Some(parent) => {
                    std::fs::create_dir_all(parent).and_then(|()| std::fs::write(&file, &body))
                }
                None => std::fs::write(&file, &body),
            };
            written.map_err(|e| format!("writing s3://{bucket}/{key}: {e}"))
        }
    }
}

/// The directory of `bucket` in the file-backed store, `<data-dir>/s3/<bucket>`; without a data
/// directory, an error saying what could not be done (`to read s3:// locations from`).
fn local_bucket(state: &AppState, bucket: &str, to: &str) -> Result<PathBuf, String> {
    let dir = state
        .config
        .data_dir
        .as_ref()
        .ok_or_else(|| format!("no data directory configured {to}"))?;
    Ok(dir.join("s3").join(bucket))
}

/// Reads `<bucket_dir>/<key>`: one file, or every file under a directory whose path `keep`
/// accepts (sorted).
fn read_local(
    bucket_dir: PathBuf,
    key: &str,
    location: &str,
    keep: fn(&str) -> bool,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let path = bucket_dir.join(key.trim_start_matches('/'));
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|e| format!("cannot read {location} ({}): {e}", p.display()))
    };
    if path.is_file() {
        return Ok(vec![(key.to_string(), read(&path)?)]);
    }
    if path.is_dir() {
        let mut files = Vec::new();
        let mut stack = vec![path];
        while let Some(dir) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).map_err(|e| format!("cannot list {location}: {e}"))?;
            for entry in entries.flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if keep(&p.to_string_lossy()) {
                    files.push(p);
                }
            }
        }
        files.sort();
        return files
            .iter()
            .map(|p| Ok((p.display().to_string(), read(p)?)))
            .collect();
    }
    Err(format!(
        "Input data not found at {location} (looked in {})",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_bucket_and_key() {
        assert_eq!(
            parse_location("s3://b/k/x.csv").expect("valid"),
            ("b".into(), "k/x.csv".into())
        );
        assert!(parse_location("http://b/k").is_err());
    }
}

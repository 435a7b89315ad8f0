//! Schemas: CreateSchema, DescribeSchema, ListSchemas, DeleteSchema, and the Avro parsing that
//! tells imports which columns a dataset has.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::AppState;
use crate::dataset_group::check_domain;
use crate::error::ApiError;
use crate::names::{check_arn, check_len, check_name};
use crate::paging::page;
use crate::protocol::Empty;
use crate::store::Entry;

/// The DatasetSchema shape.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSchema {
    pub name: String,
    pub schema_arn: String,
    pub schema: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub domain: Option<String>,
}

/// Value type of a schema column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    String,
    Int,
    Long,
    Float,
    Double,
    Boolean,
}

/// One field of an Avro record schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    pub nullable: bool,
    pub categorical: bool,
}

fn kind_of(name: &str) -> Option<ColumnKind> {
    Some(match name {
        "string" => ColumnKind::String,
        "int" => ColumnKind::Int,
        "long" => ColumnKind::Long,
        "float" => ColumnKind::Float,
        "double" => ColumnKind::Double,
        "boolean" => ColumnKind::Boolean,
        _ => return None,
    })
}

/// Parses an Avro record schema into its columns.
pub fn parse_columns(schema: &str) -> Result<Vec<Column>, String> {
    let value: serde_json::Value =
        serde_json::from_str(schema).map_err(|e| format!("schema is not valid JSON: {e}"))?;
    if value.get("type").and_then(|t| t.as_str()) != Some("record") {
        return Err("schema must be an Avro record (\"type\": \"record\")".into());
    }
    let fields = value
        .get("fields")
        .and_then(|f| f.as_array())
        .ok_or("schema has no \"fields\" array")?;
    let mut columns = Vec::new();
    for field in fields {
        let name = field
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or("a schema field has no name")?;
        let (kind, nullable) = match field.get("type") {
            Some(serde_json::Value::String(t)) => (kind_of(t), false),
            Some(serde_json::Value::Array(types)) => {
                let names: Vec<&str> = types.iter().filter_map(|t| t.as_str()).collect();
                let nullable = names.contains(&"null");
                let kind = names
                    .iter()
                    .find(|n| **n != "null")
                    .and_then(|n| kind_of(n));
                (kind, nullable)
            }
            _ => (None, false),
        };
        let kind = kind.ok_or_else(|| format!("field {name} has an unsupported type"))?;
        if columns.iter().any(|c: &Column| c.name == name) {
            return Err(format!("field {name} appears twice"));
        }
        columns.push(Column {
            name: name.to_string(),
            kind,
            nullable,
            categorical: field
                .get("categorical")
                .and_then(|c| c.as_bool())
                .unwrap_or(false),
        });
    }
    if columns.is_empty() {
        return Err("schema has no fields".into());
    }
    Ok(columns)
}

/// Checks that `columns` has what a dataset of `dataset_type` requires.
pub fn check_for_type(columns: &[Column], dataset_type: &str) -> Result<(), String> {
    let required: &[(&str, &[ColumnKind])] = match dataset_type {
        "INTERACTIONS" => &[
            ("USER_ID", &[ColumnKind::String]),
            ("ITEM_ID", &[ColumnKind::String]),
            ("TIMESTAMP", &[ColumnKind::Long, ColumnKind::Int]),
        ],
        "ITEMS" => &[("ITEM_ID", &[ColumnKind::String])],
        "USERS" => &[("USER_ID", &[ColumnKind::String])],
        _ => &[],
    };
    for (name, kinds) in required {
        match columns.iter().find(|c| c.name == *name) {
            None => {
                return Err(format!("a {dataset_type} schema requires a {name} field"));
            }
            Some(c) if !kinds.contains(&c.kind) => {
                return Err(format!(
                    "field {name} of a {dataset_type} schema has the wrong type"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSchemaRequest {
    pub name: String,
    pub schema: String,
    pub domain: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSchemaResponse {
    pub schema_arn: String,
}

pub fn create(
    state: &AppState,
    req: CreateSchemaRequest,
) -> Result<CreateSchemaResponse, ApiError> {
    check_name("name", &req.name)?;
    check_len("schema", &req.schema, 1, 20000)?;
    check_domain(req.domain.as_deref())?;
    parse_columns(&req.schema)
        .map_err(|e| ApiError::InvalidInput(format!("Invalid schema: {e}")))?;
    let arn = state.arns.make("schema", &req.name);
    let mut store = state.lock();
    if store.schemas.contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Schema {} already exists",
            req.name
        )));
    }
    let now = store.now();
    store.commit(Entry::Schema(DatasetSchema {
        name: req.name,
        schema_arn: arn.clone(),
        schema: req.schema,
        creation_date_time: now,
        last_updated_date_time: now,
        domain: req.domain,
    }));
    Ok(CreateSchemaResponse { schema_arn: arn })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSchemaRequest {
    pub schema_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSchemaResponse {
    pub schema: DatasetSchema,
}

pub fn describe(
    state: &AppState,
    req: DescribeSchemaRequest,
) -> Result<DescribeSchemaResponse, ApiError> {
    check_arn("schemaArn", &req.schema_arn)?;
    let store = state.lock();
    let schema = store
        .schemas
        .get(&req.schema_arn)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&req.schema_arn))?;
    Ok(DescribeSchemaResponse { schema })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSchemasRequest {
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSchemaSummary {
    pub name: String,
    pub schema_arn: String,
    pub creation_date_time: f64,
    pub last_updated_date_time: f64,
    pub domain: Option<String>,
}

#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSchemasResponse {
    pub schemas: Vec<DatasetSchemaSummary>,
    pub next_token: Option<String>,
}

pub fn list(state: &AppState, req: ListSchemasRequest) -> Result<ListSchemasResponse, ApiError> {
    let store = state.lock();
    let mut all: Vec<&DatasetSchema> = store.schemas.values().collect();
    all.sort_by(|a, b| b.creation_date_time.total_cmp(&a.creation_date_time));
    let summaries = all
        .into_iter()
        .map(|s| DatasetSchemaSummary {
            name: s.name.clone(),
            schema_arn: s.schema_arn.clone(),
            creation_date_time: s.creation_date_time,
            last_updated_date_time: s.last_updated_date_time,
            domain: s.domain.clone(),
        })
        .collect();
    let (schemas, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(ListSchemasResponse {
        schemas,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteSchemaRequest {
    pub schema_arn: String,
}

pub fn delete(state: &AppState, req: DeleteSchemaRequest) -> Result<Empty, ApiError> {
    check_arn("schemaArn", &req.schema_arn)?;
    let mut store = state.lock();
    if !store.schemas.contains_key(&req.schema_arn) {
        return Err(ApiError::not_found(&req.schema_arn));
    }
    if let Some(d) = store
        .datasets
        .values()
        .find(|d| d.schema_arn == req.schema_arn)
    {
        return Err(ApiError::InUse(format!(
            "Schema {} is used by dataset {}",
            req.schema_arn, d.dataset_arn
        )));
    }
    store.commit(Entry::Removed {
        arn: req.schema_arn,
    });
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_interactions_schema() {
        let schema = r#"{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema",
            "fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},
            {"name":"EVENT_TYPE","type":["null","string"]},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#;
        let columns = parse_columns(schema).expect("valid schema");
        assert_eq!(columns.len(), 4);
        assert!(columns[2].nullable);
        assert!(check_for_type(&columns, "INTERACTIONS").is_ok());
        assert!(check_for_type(&columns[..2], "INTERACTIONS").is_err());
        assert!(parse_columns("{}").is_err());
        assert!(parse_columns("nope").is_err());
    }
}

//! Schemas: CreateSchema, DeleteSchema (Describe and List: `resource.rs`), and the Avro parsing
//! that tells imports which columns a dataset has.
//! Depends on the store and the wire layer; never on the router.

use crate::resources::AppState;
use crate::resources::dataset_group::check_domain;
use crate::resources::resource::{ByArn, Created, Resource, get, reserve};
use crate::resources::shapes::CreateSchema;
use crate::store::Entry;
use crate::store::model::DatasetSchema;
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len, check_name};

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
        "ACTIONS" => &[("ACTION_ID", &[ColumnKind::String])],
        "ACTION_INTERACTIONS" => &[
            ("USER_ID", &[ColumnKind::String]),
            ("ACTION_ID", &[ColumnKind::String]),
            ("TIMESTAMP", &[ColumnKind::Long, ColumnKind::Int]),
            ("EVENT_TYPE", &[ColumnKind::String]),
        ],
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

pub fn create(state: &AppState, req: CreateSchema) -> Result<Created<DatasetSchema>, ApiError> {
    check_name("name", &req.name)?;
    check_len("schema", &req.schema, 1, 20000)?;
    check_domain(req.domain.as_deref())?;
    parse_columns(&req.schema)
        .map_err(|e| ApiError::InvalidInput(format!("Invalid schema: {e}")))?;
    let (arn, mut store) = reserve::<DatasetSchema>(state, "schema", &req.name)?;
    let now = store.now();
    store.commit(Entry::Schema(DatasetSchema {
        name: req.name,
        schema_arn: arn.clone(),
        schema: req.schema,
        creation_date_time: now,
        last_updated_date_time: now,
        domain: req.domain,
    }));
    Ok(Created::new(arn))
}

pub fn delete(state: &AppState, req: ByArn<DatasetSchema>) -> Result<Empty, ApiError> {
    check_arn(DatasetSchema::ARN_MEMBER, &req.arn)?;
    let mut store = state.lock();
    get::<DatasetSchema>(&store, &req.arn)?;
    if let Some(d) = store.datasets.values().find(|d| d.schema_arn == req.arn) {
        return Err(ApiError::InUse(format!(
            "Schema {} is used by dataset {}",
            req.arn, d.dataset_arn
        )));
    }
    store.commit(Entry::Removed { arn: req.arn });
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

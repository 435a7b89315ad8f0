//! The Next-Best-Action dataset types, Actions and Action_Interactions: created with the
//! schemas Personalize requires (a schema lacking a required field is refused), imported from
//! S3, named `dataset/<group>/ACTIONS` and `.../ACTION_INTERACTIONS`, listed with the group's
//! other datasets; a user-personalization solution still trains on the interactions alone.

use aws_sdk_personalize::Client as ControlPlane;
use aws_sdk_personalize::types::DataSource;
use personalize_local::{Config, Running};

use crate::support::*;

const USER_PERSONALIZATION: &str = "arn:aws:personalize:::recipe/aws-user-personalization";

const ACTIONS_SCHEMA: &str = r#"{"type":"record","name":"Actions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ACTION_ID","type":"string"},{"name":"VALUE","type":["null","float"]}],"version":"1.0"}"#;
const ACTION_INTERACTIONS_SCHEMA: &str = r#"{"type":"record","name":"ActionInteractions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ACTION_ID","type":"string"},{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}],"version":"1.0"}"#;
const WITHOUT_EVENT_TYPE: &str = r#"{"type":"record","name":"ActionInteractions","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"USER_ID","type":"string"},{"name":"ACTION_ID","type":"string"},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}"#;

async fn schema(cp: &ControlPlane, name: &str, schema: &str) -> String {
    cp.create_schema()
        .name(name)
        .schema(schema)
        .send()
        .await
        .expect("CreateSchema")
        .schema_arn
        .expect("schemaArn")
}

/// CreateDataset of `kind` on `schema`, then an import of `key` (written as `csv`), ACTIVE.
async fn dataset_with_data(
    cp: &ControlPlane,
    dir: &std::path::Path,
    group: &str,
    (kind, schema): (&str, &str),
    (key, csv): (&str, &str),
) -> String {
    let dataset = cp
        .create_dataset()
        .name(format!("nba-{}", kind.to_ascii_lowercase()))
        .dataset_group_arn(group)
        .dataset_type(kind)
        .schema_arn(schema)
        .send()
        .await
        .expect("CreateDataset")
        .dataset_arn
        .expect("datasetArn");
    put_object(dir, "nba", key, csv);
    let job = cp
        .create_dataset_import_job()
        .job_name(format!("nba-{}", kind.to_ascii_lowercase()))
        .dataset_arn(&dataset)
        .data_source(
            DataSource::builder()
                .data_location(format!("s3://nba/{key}"))
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetImportJob")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(
        wait_job(cp, Job::Import, &job).await.0,
        "ACTIVE",
        "{kind} imported"
    );
    dataset
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_and_action_interactions_datasets_are_created_and_imported() {
    let dir = temp_dir("action-datasets");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let (group, _, _) = seed_dataset_group(&cp, &dir, "nba").await;

    // A schema without EVENT_TYPE is refused for Action_Interactions.
    let lacking = schema(&cp, "nba-lacking", WITHOUT_EVENT_TYPE).await;
    let refused = cp
        .create_dataset()
        .name("nba-lacking")
        .dataset_group_arn(&group)
        .dataset_type("Action_Interactions")
        .schema_arn(&lacking)
        .send()
        .await;
    let why = "Action_Interactions without EVENT_TYPE";
    assert_eq!(code_of(refused, why), "InvalidInputException");

    let actions_schema = schema(&cp, "nba-actions", ACTIONS_SCHEMA).await;
    let actions = dataset_with_data(
        &cp,
        &dir,
        &group,
        ("Actions", &actions_schema),
        ("actions.csv", "ACTION_ID,VALUE\nsubscribe,9.5\nreview,\n"),
    )
    .await;
    assert!(actions.ends_with("/ACTIONS"), "{actions}");
    let interactions_schema =
        schema(&cp, "nba-action-interactions", ACTION_INTERACTIONS_SCHEMA).await;
    let action_interactions = dataset_with_data(
        &cp,
        &dir,
        &group,
        ("Action_Interactions", &interactions_schema),
        (
            "action-interactions.csv",
            "USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE\nu0,subscribe,1700000000,TAKEN\nu1,review,1700000001,VIEWED\n",
        ),
    )
    .await;
    assert!(
        action_interactions.ends_with("/ACTION_INTERACTIONS"),
        "{action_interactions}"
    );

    // A row without its ACTION_ID fails the import with the line.
    put_object(
        &dir,
        "nba",
        "bad.csv",
        "USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE\nu0,,1,TAKEN\n",
    );
    let job = cp
        .create_dataset_import_job()
        .job_name("nba-bad")
        .dataset_arn(&action_interactions)
        .data_source(
            DataSource::builder()
                .data_location("s3://nba/bad.csv")
                .build(),
        )
        .send()
        .await
        .expect("CreateDatasetImportJob")
        .dataset_import_job_arn
        .expect("arn");
    assert_eq!(wait_job(&cp, Job::Import, &job).await.0, "CREATE FAILED");

    let listed = cp
        .list_datasets()
        .dataset_group_arn(&group)
        .send()
        .await
        .expect("ListDatasets");
    assert_eq!(listed.datasets().len(), 4, "{:?}", listed.datasets());

    // Training user-personalization reads the interactions, not the actions.
    let (_, version) = train(&cp, &group, "nba-up", USER_PERSONALIZATION).await;
    assert!(!version.is_empty());
    server.stop().await.expect("stops");
}

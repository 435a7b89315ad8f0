"""The seed lifecycle, and every other operation of the three official models, against
personalize-local with boto3 (which validates every request against the official service model).
Every operation boto3 completes successfully is recorded from botocore's `after-call` events; the
script ends by asserting that the set equals every operation of the three models as botocore loads
them. Usage:

    boto3_walkthrough.py ENDPOINT_URL S3_INTERACTIONS_LOCATION DATA_DIR STOP_ENDPOINT_URL

DATA_DIR is the server's data dir (its file-backed S3 is DATA_DIR/s3/<bucket>/<key>: inputs are
written and job outputs read there); STOP_ENDPOINT_URL is a second server whose steps take time,
so that a solution version can be stopped while it is being created (its data dir holds the same
interactions object). Exits non-zero on the first
mismatch. Run by the Rust test conformance::boto3."""

import json
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint, location, data_dir, stop_endpoint = sys.argv[1:5]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
cp = boto3.client("personalize", **kw)
ev = boto3.client("personalize-events", **kw)
rt = boto3.client("personalize-runtime", **kw)

# (service, operation) of every call boto3 completed successfully.
called = set()


def record_calls(client):
    service = client.meta.service_model.service_name

    def after_call(http_response, model, **_):
        if http_response.status_code < 300:
            called.add((service, model.name))

    client.meta.events.register("after-call", after_call)
    return client


for client in (cp, ev, rt):
    record_calls(client)


def put_object(bucket_key, text):
    """Writes an object of the server's file-backed S3."""
    path = os.path.join(data_dir, "s3", bucket_key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def object_lines(bucket_key):
    with open(os.path.join(data_dir, "s3", bucket_key)) as f:
        return f.read().splitlines()

ITEMS_SCHEMA = (
    '{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"ITEM_ID","type":"string"},{"name":"GENRES","type":"string","categorical":true}],'
    '"version":"1.0"}'
)
USERS_SCHEMA = (
    '{"type":"record","name":"Users","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"USER_ID","type":"string"},{"name":"SEGMENT","type":"string","categorical":true}],'
    '"version":"1.0"}'
)
ACTIONS_SCHEMA = (
    '{"type":"record","name":"Actions","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"ACTION_ID","type":"string"},{"name":"VALUE","type":["null","float"]},'
    '{"name":"REPEAT_FREQUENCY","type":["null","int"]}],"version":"1.0"}'
)
ACTION_INTERACTIONS_SCHEMA = (
    '{"type":"record","name":"ActionInteractions","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"USER_ID","type":"string"},{"name":"ACTION_ID","type":"string"},'
    '{"name":"TIMESTAMP","type":"long"},{"name":"EVENT_TYPE","type":"string"}],"version":"1.0"}'
)
ROLE = "arn:aws:iam::000000000000:role/personalize"
SCHEMA = (
    '{"type":"record","name":"Interactions","namespace":"com.amazonaws.personalize.schema",'
    '"fields":[{"name":"USER_ID","type":"string"},{"name":"ITEM_ID","type":"string"},'
    '{"name":"EVENT_TYPE","type":"string"},{"name":"TIMESTAMP","type":"long"}],"version":"1.0"}'
)


def wait(describe, key, arn_key, arn, done=("ACTIVE",), timeout=300):
    deadline = time.time() + timeout
    while True:
        status = describe(**{arn_key: arn})[key]["status"]
        if status in done or status.endswith("FAILED"):
            assert status in done, f"{arn}: {status}"
            return
        assert time.time() < deadline, f"{arn} still {status}"
        time.sleep(0.05)


def import_csv(client, dataset, name, bucket_key, text=None):
    """Imports s3://`bucket_key` (first written with `text`, if any) into `dataset`, waiting for
    ACTIVE."""
    if text is not None:
        put_object(bucket_key, text)
    job = client.create_dataset_import_job(
        jobName=name, datasetArn=dataset, dataSource={"dataLocation": f"s3://{bucket_key}"}, roleArn=ROLE
    )["datasetImportJobArn"]
    wait(client.describe_dataset_import_job, "datasetImportJob", "datasetImportJobArn", job, timeout=60)


def new_dataset(client, dg, name, kind, schema_arn):
    arn = client.create_dataset(name=name, datasetGroupArn=dg, datasetType=kind, schemaArn=schema_arn)["datasetArn"]
    wait(client.describe_dataset, "dataset", "datasetArn", arn)
    return arn


def train(client, dg, name, recipe):
    """A solution of `recipe` and an ACTIVE version; (solution, version)."""
    solution = client.create_solution(
        name=name, datasetGroupArn=dg, recipeArn=recipe, performAutoTraining=False
    )["solutionArn"]
    wait(client.describe_solution, "solution", "solutionArn", solution)
    version = client.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    wait(client.describe_solution_version, "solutionVersion", "solutionVersionArn", version)
    return solution, version


def export_put(dataset, name):
    """A dataset export job of the PUT data of `dataset`, waited for; the CSV's lines."""
    job = cp.create_dataset_export_job(
        jobName=name,
        datasetArn=dataset,
        ingestionMode="PUT",
        roleArn=ROLE,
        jobOutput={"s3DataDestination": {"path": f"s3://seed/{name}/"}},
    )["datasetExportJobArn"]
    wait(cp.describe_dataset_export_job, "datasetExportJob", "datasetExportJobArn", job, timeout=60)
    return object_lines(f"seed/{name}/{name}/part-00000.csv")


def expect_error(code, fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return
    raise AssertionError(f"expected {code}")


dg = cp.create_dataset_group(name="py-movies", tags=[{"tagKey": "k", "tagValue": "v"}])["datasetGroupArn"]
wait(cp.describe_dataset_group, "datasetGroup", "datasetGroupArn", dg)
expect_error("ResourceAlreadyExistsException", cp.create_dataset_group, name="py-movies")
assert cp.list_tags_for_resource(resourceArn=dg)["tags"] == [{"tagKey": "k", "tagValue": "v"}]
schema = cp.create_schema(name="py-interactions", schema=SCHEMA)["schemaArn"]
dataset = cp.create_dataset(
    name="py-interactions", datasetGroupArn=dg, datasetType="Interactions", schemaArn=schema
)["datasetArn"]
wait(cp.describe_dataset, "dataset", "datasetArn", dataset)
job = cp.create_dataset_import_job(
    jobName="py-import",
    datasetArn=dataset,
    dataSource={"dataLocation": location},
    roleArn="arn:aws:iam::000000000000:role/personalize",
    importMode="FULL",
)["datasetImportJobArn"]
wait(cp.describe_dataset_import_job, "datasetImportJob", "datasetImportJobArn", job, timeout=60)
jobs = cp.list_dataset_import_jobs(datasetArn=dataset)["datasetImportJobs"]
assert [j["jobName"] for j in jobs] == ["py-import"], jobs

# Export (BULK: the import above) and a data deletion job whose file is not a USER_ID list.
export = cp.create_dataset_export_job(
    jobName="py-export",
    datasetArn=dataset,
    ingestionMode="BULK",
    roleArn="arn:aws:iam::000000000000:role/personalize",
    jobOutput={"s3DataDestination": {"path": "s3://seed/py-export/"}},
)["datasetExportJobArn"]
wait(cp.describe_dataset_export_job, "datasetExportJob", "datasetExportJobArn", export, timeout=60)
exports = cp.list_dataset_export_jobs(datasetArn=dataset)["datasetExportJobs"]
assert [j["jobName"] for j in exports] == ["py-export"], exports
deletion = cp.create_data_deletion_job(
    jobName="py-delete",
    datasetGroupArn=dg,
    dataSource={"dataLocation": location},
    roleArn="arn:aws:iam::000000000000:role/personalize",
)["dataDeletionJobArn"]
wait(cp.describe_data_deletion_job, "dataDeletionJob", "dataDeletionJobArn", deletion, done=("FAILED",))
failed = cp.list_data_deletion_jobs(datasetGroupArn=dg)["dataDeletionJobs"][0]
assert "USER_ID" in failed["failureReason"], failed
recipe = cp.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-user-personalization")["recipe"]
algorithm = cp.describe_algorithm(algorithmArn=recipe["algorithmArn"])["algorithm"]
assert algorithm["defaultHyperParameters"]["hidden_dimension"] == "64", algorithm
ft = cp.describe_feature_transformation(featureTransformationArn=recipe["featureTransformationArn"])
assert ft["featureTransformation"]["status"] == "ACTIVE", ft

solution = cp.create_solution(
    name="py-up",
    datasetGroupArn=dg,
    recipeArn="arn:aws:personalize:::recipe/aws-user-personalization",
    performAutoTraining=False,
)["solutionArn"]
wait(cp.describe_solution, "solution", "solutionArn", solution)
assert cp.describe_solution(solutionArn=solution)["solution"]["performAutoTraining"] is False
version = cp.create_solution_version(solutionArn=solution, trainingMode="FULL")["solutionVersionArn"]
wait(cp.describe_solution_version, "solutionVersion", "solutionVersionArn", version)
metrics = cp.get_solution_metrics(solutionVersionArn=version)["metrics"]
assert "precision_at_10" in metrics, metrics

campaign = cp.create_campaign(
    name="py-campaign",
    solutionVersionArn=version,
    minProvisionedTPS=1,
    campaignConfig={"itemExplorationConfig": {"explorationWeight": "0.0"}},
)["campaignArn"]
wait(cp.describe_campaign, "campaign", "campaignArn", campaign)
tracker = cp.create_event_tracker(name="py-tracker", datasetGroupArn=dg)
wait(cp.describe_event_tracker, "eventTracker", "eventTrackerArn", tracker["eventTrackerArn"])
expect_error("ResourceInUseException", cp.delete_dataset_group, datasetGroupArn=dg)

# A metric attribution: the six operations.
ROLE = "arn:aws:iam::000000000000:role/personalize"
ma = cp.create_metric_attribution(
    name="py-metrics",
    datasetGroupArn=dg,
    metrics=[{"eventType": "click", "metricName": "PY_CLICKS", "expression": "SAMPLECOUNT()"}],
    metricsOutputConfig={"roleArn": ROLE, "s3DataDestination": {"path": "s3://seed/py-reports/"}},
)["metricAttributionArn"]
wait(cp.describe_metric_attribution, "metricAttribution", "metricAttributionArn", ma)
expect_error(
    "ResourceAlreadyExistsException",
    cp.create_metric_attribution,
    name="py-metrics-2",
    datasetGroupArn=dg,
    metrics=[{"eventType": "click", "metricName": "X", "expression": "SAMPLECOUNT()"}],
    metricsOutputConfig={"roleArn": ROLE},
)
described = cp.describe_metric_attribution(metricAttributionArn=ma)["metricAttribution"]
assert described["datasetGroupArn"] == dg and described["status"] == "ACTIVE", described
listed = cp.list_metric_attributions(datasetGroupArn=dg)["metricAttributions"]
assert [m["metricAttributionArn"] for m in listed] == [ma], listed
cp.update_metric_attribution(
    metricAttributionArn=ma,
    addMetrics=[{"eventType": "watch", "metricName": "PY_WATCHES", "expression": "samplecount()"}],
)
names = [m["metricName"] for m in cp.list_metric_attribution_metrics(metricAttributionArn=ma)["metrics"]]
assert names == ["PY_CLICKS", "PY_WATCHES"], names
cp.update_metric_attribution(metricAttributionArn=ma, removeMetrics=["PY_WATCHES"])
page = cp.list_metric_attribution_metrics(metricAttributionArn=ma, maxResults=1)
assert [m["metricName"] for m in page["metrics"]] == ["PY_CLICKS"] and "nextToken" not in page, page

before = rt.get_recommendations(campaignArn=campaign, userId="u0", numResults=10)
assert len(before["itemList"]) == 10 and before["recommendationId"].startswith("RID-"), before
items = [f"i{k * 6 + 3}" for k in range(20)]
for start in range(0, len(items), 10):
    ev.put_events(
        trackingId=tracker["trackingId"],
        userId="u0",
        sessionId="py-session",
        eventList=[
            {
                "eventType": "click",
                "itemId": item,
                "sentAt": 1_800_000_000 + i,
                "properties": '{"k": 1}',
                "recommendationId": before["recommendationId"],
                "metricAttribution": {"eventAttributionSource": "py-walkthrough"},
            }
            for i, item in enumerate(items[start : start + 10])
        ],
    )
after = rt.get_recommendations(campaignArn=campaign, userId="u0", numResults=10)
assert [i["itemId"] for i in before["itemList"]] != [i["itemId"] for i in after["itemList"]]

# The rest of the control plane on this dataset group: lists, schemas, tags, updates.
assert dg in [g["datasetGroupArn"] for g in cp.list_dataset_groups()["datasetGroups"]]
assert cp.describe_schema(schemaArn=schema)["schema"]["schema"] == SCHEMA
assert schema in [x["schemaArn"] for x in cp.list_schemas()["schemas"]]
cp.tag_resource(resourceArn=dg, tags=[{"tagKey": "stage", "tagValue": "test"}])
cp.untag_resource(resourceArn=dg, tagKeys=["k"])
assert cp.list_tags_for_resource(resourceArn=dg)["tags"] == [{"tagKey": "stage", "tagValue": "test"}]
items_schema = cp.create_schema(name="py-items", schema=ITEMS_SCHEMA)["schemaArn"]
items_v2 = cp.create_schema(name="py-items-v2", schema=ITEMS_SCHEMA)["schemaArn"]
users_schema = cp.create_schema(name="py-users", schema=USERS_SCHEMA)["schemaArn"]
items_dataset = new_dataset(cp, dg, "py-items", "Items", items_schema)
users_dataset = new_dataset(cp, dg, "py-users", "Users", users_schema)
listed = cp.list_datasets(datasetGroupArn=dg)["datasets"]
assert sorted(d["datasetType"] for d in listed) == ["INTERACTIONS", "ITEMS", "USERS"], listed
import_csv(cp, items_dataset, "py-items", "seed/py/items.csv", "ITEM_ID,GENRES\n" + "".join(
    f"i{n},genre{n % 6}\n" for n in range(300)
))
cp.update_dataset(datasetArn=items_dataset, schemaArn=items_v2)
assert cp.describe_dataset(datasetArn=items_dataset)["dataset"]["schemaArn"] == items_v2
assert [s["solutionArn"] for s in cp.list_solutions(datasetGroupArn=dg)["solutions"]] == [solution]
assert [v["solutionVersionArn"] for v in cp.list_solution_versions(solutionArn=solution)["solutionVersions"]] == [
    version
]
cp.update_solution(
    solutionArn=solution,
    performAutoTraining=True,
    solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(30 days)"}},
)
assert cp.describe_solution(solutionArn=solution)["solution"]["performAutoTraining"] is True
assert [c["campaignArn"] for c in cp.list_campaigns(solutionArn=solution)["campaigns"]] == [campaign]
cp.update_campaign(campaignArn=campaign, minProvisionedTPS=2)
assert cp.describe_campaign(campaignArn=campaign)["campaign"]["minProvisionedTPS"] == 2
trackers = cp.list_event_trackers(datasetGroupArn=dg)["eventTrackers"]
assert [t["eventTrackerArn"] for t in trackers] == [tracker["eventTrackerArn"]], trackers

# PutItems and PutUsers, seen in exports of the PUT data.
ev.put_items(datasetArn=items_dataset, items=[{"itemId": "i-put", "properties": '{"genres": "genre1"}'}])
ev.put_users(datasetArn=users_dataset, users=[{"userId": "u-put", "properties": '{"segment": "gold"}'}])
assert export_put(items_dataset, "py-items-put") == ["ITEM_ID,GENRES", "i-put,genre1"]
assert export_put(users_dataset, "py-users-put") == ["USER_ID,SEGMENT", "u-put,gold"]

# A filter on item genres.
no_genre0 = cp.create_filter(
    name="py-no-genre0", datasetGroupArn=dg, filterExpression='EXCLUDE ItemID WHERE Items.GENRES IN ("genre0")'
)["filterArn"]
wait(cp.describe_filter, "filter", "filterArn", no_genre0)
assert [f["filterArn"] for f in cp.list_filters(datasetGroupArn=dg)["Filters"]] == [no_genre0]
filtered = rt.get_recommendations(campaignArn=campaign, userId="u0", numResults=25, filterArn=no_genre0)
ids = [i["itemId"] for i in filtered["itemList"]]
assert len(ids) == 25 and all(i.startswith("i") and int(i[1:]) % 6 != 0 for i in ids), ids

# GetPersonalizedRanking on a personalized-ranking campaign: a permutation of the input.
ranking_solution, ranking_version = train(cp, dg, "py-ranking", "arn:aws:personalize:::recipe/aws-personalized-ranking")
ranking = cp.create_campaign(name="py-ranking", solutionVersionArn=ranking_version, minProvisionedTPS=1)["campaignArn"]
wait(cp.describe_campaign, "campaign", "campaignArn", ranking)
inputs = [f"i{n}" for n in range(10)]
ranked = rt.get_personalized_ranking(campaignArn=ranking, userId="u0", inputList=inputs)["personalizedRanking"]
assert sorted(r["itemId"] for r in ranked) == sorted(inputs), ranked

# Batch inference (the UP version) and batch segment (an item-affinity version).
put_object("seed/py-batch/users.json", '{"userId": "u1"}\n{"userId": "u2"}\n')
inference = cp.create_batch_inference_job(
    jobName="py-inference",
    solutionVersionArn=version,
    numResults=5,
    jobInput={"s3DataSource": {"path": "s3://seed/py-batch/users.json"}},
    jobOutput={"s3DataDestination": {"path": "s3://seed/py-inference/"}},
    roleArn=ROLE,
)["batchInferenceJobArn"]
wait(cp.describe_batch_inference_job, "batchInferenceJob", "batchInferenceJobArn", inference, timeout=60)
listed = cp.list_batch_inference_jobs(solutionVersionArn=version)["batchInferenceJobs"]
assert [j["batchInferenceJobArn"] for j in listed] == [inference], listed
lines = [json.loads(line) for line in object_lines("seed/py-inference/users.json.out")]
assert [line["input"]["userId"] for line in lines] == ["u1", "u2"], lines
assert all(len(line["output"]["recommendedItems"]) == 5 for line in lines), lines
affinity_solution, affinity = train(cp, dg, "py-affinity", "arn:aws:personalize:::recipe/aws-item-affinity")
put_object("seed/py-batch/items.json", '{"itemId": "i0"}\n')
segment = cp.create_batch_segment_job(
    jobName="py-segment",
    solutionVersionArn=affinity,
    numResults=10,
    jobInput={"s3DataSource": {"path": "s3://seed/py-batch/items.json"}},
    jobOutput={"s3DataDestination": {"path": "s3://seed/py-segments/"}},
    roleArn=ROLE,
)["batchSegmentJobArn"]
wait(cp.describe_batch_segment_job, "batchSegmentJob", "batchSegmentJobArn", segment, timeout=60)
listed = cp.list_batch_segment_jobs(solutionVersionArn=affinity)["batchSegmentJobs"]
assert [j["batchSegmentJobArn"] for j in listed] == [segment], listed
lines = [json.loads(line) for line in object_lines("seed/py-segments/items.json.out")]
assert len(lines[0]["output"]["recommendedUsers"]) == 10, lines

# Teardown in order.
cp.delete_metric_attribution(metricAttributionArn=ma)
expect_error("ResourceNotFoundException", cp.describe_metric_attribution, metricAttributionArn=ma)
cp.delete_filter(filterArn=no_genre0)
expect_error("ResourceNotFoundException", cp.describe_filter, filterArn=no_genre0)
cp.delete_campaign(campaignArn=campaign)
cp.delete_campaign(campaignArn=ranking)
cp.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
for arn in (solution, ranking_solution, affinity_solution):
    cp.delete_solution(solutionArn=arn)
for arn in (dataset, items_dataset, users_dataset):
    cp.delete_dataset(datasetArn=arn)
for arn in (schema, items_schema, items_v2, users_schema):
    cp.delete_schema(schemaArn=arn)
cp.delete_dataset_group(datasetGroupArn=dg)
expect_error("ResourceNotFoundException", cp.describe_dataset_group, datasetGroupArn=dg)

# A recommender on a VIDEO_ON_DEMAND dataset group (the same interactions, all events used).
vod = cp.create_dataset_group(name="py-vod", domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
wait(cp.describe_dataset_group, "datasetGroup", "datasetGroupArn", vod)
vod_schema = cp.create_schema(name="py-vod-interactions", schema=SCHEMA, domain="VIDEO_ON_DEMAND")["schemaArn"]
vod_dataset = cp.create_dataset(
    name="py-vod-interactions", datasetGroupArn=vod, datasetType="Interactions", schemaArn=vod_schema
)["datasetArn"]
wait(cp.describe_dataset, "dataset", "datasetArn", vod_dataset)
vod_job = cp.create_dataset_import_job(
    jobName="py-vod-import",
    datasetArn=vod_dataset,
    dataSource={"dataLocation": location},
    roleArn="arn:aws:iam::000000000000:role/personalize",
)["datasetImportJobArn"]
wait(cp.describe_dataset_import_job, "datasetImportJob", "datasetImportJobArn", vod_job, timeout=60)
recipes = cp.list_recipes(domain="VIDEO_ON_DEMAND")["recipes"]
assert {"aws-vod-top-picks", "aws-vod-more-like-x"} <= {r["name"] for r in recipes}, recipes
rec = cp.create_recommender(
    name="py-top-picks",
    datasetGroupArn=vod,
    recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks",
    recommenderConfig={"minRecommendationRequestsPerSecond": 1, "itemExplorationConfig": {"explorationWeight": "0"}},
    tags=[{"tagKey": "k", "tagValue": "v"}],
)["recommenderArn"]
wait(cp.describe_recommender, "recommender", "recommenderArn", rec)
listed = cp.list_recommenders(datasetGroupArn=vod)["recommenders"]
assert [r["recommenderArn"] for r in listed] == [rec], listed
picks = rt.get_recommendations(recommenderArn=rec, userId="u0", numResults=5)
assert len(picks["itemList"]) == 5, picks
expect_error("InvalidInputException", rt.get_recommendations, recommenderArn=rec, campaignArn=campaign, userId="u0")
cp.stop_recommender(recommenderArn=rec)
wait(cp.describe_recommender, "recommender", "recommenderArn", rec, done=("INACTIVE",))
cp.start_recommender(recommenderArn=rec)
wait(cp.describe_recommender, "recommender", "recommenderArn", rec)
cp.update_recommender(recommenderArn=rec, recommenderConfig={"minRecommendationRequestsPerSecond": 2})
updated = cp.describe_recommender(recommenderArn=rec)["recommender"]
assert updated["latestRecommenderUpdate"]["status"] == "ACTIVE", updated
assert updated["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 2, updated
expect_error("ResourceInUseException", cp.delete_dataset_group, datasetGroupArn=vod)
cp.delete_recommender(recommenderArn=rec)
expect_error("ResourceNotFoundException", cp.describe_recommender, recommenderArn=rec)

# Next-Best-Action: the seed's item interactions, two actions (app may not be repeated within 30
# days), even users take enroll and view app, odd users the other way round.
now = int(time.time())
nba = cp.create_dataset_group(name="py-nba")["datasetGroupArn"]
wait(cp.describe_dataset_group, "datasetGroup", "datasetGroupArn", nba)
nba_schemas = {
    kind: cp.create_schema(name=f"py-nba-{kind.lower().replace('_', '-')}", schema=text)["schemaArn"]
    for kind, text in (
        ("Interactions", SCHEMA),
        ("Actions", ACTIONS_SCHEMA),
        ("Action_Interactions", ACTION_INTERACTIONS_SCHEMA),
    )
}
nba_datasets = {
    kind: new_dataset(cp, nba, f"py-nba-{kind.lower().replace('_', '-')}", kind, arn)
    for kind, arn in nba_schemas.items()
}
import_csv(cp, nba_datasets["Interactions"], "py-nba-interactions", location[len("s3://") :])
import_csv(cp, nba_datasets["Actions"], "py-nba-actions", "seed/py-nba/actions.csv",
           "ACTION_ID,VALUE,REPEAT_FREQUENCY\nenroll,1.0,\napp,1.0,30\n")
rows = ["USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE"]
for u in range(120):
    taken, viewed = ("enroll", "app") if u % 2 == 0 else ("app", "enroll")
    t = now - 2 * 86400 - u * 3600
    rows += [f"u{u},{taken},{t},Taken", f"u{u},{viewed},{t},Viewed"]
import_csv(cp, nba_datasets["Action_Interactions"], "py-nba-action-interactions", "seed/py-nba/ai.csv",
           "\n".join(rows) + "\n")
nba_tracker = cp.create_event_tracker(name="py-nba-tracker", datasetGroupArn=nba)
wait(cp.describe_event_tracker, "eventTracker", "eventTrackerArn", nba_tracker["eventTrackerArn"])
_, nba_version = train(cp, nba, "py-nba", "arn:aws:personalize:::recipe/aws-next-best-action")
nba_campaign = cp.create_campaign(
    name="py-nba",
    solutionVersionArn=nba_version,
    minProvisionedTPS=1,
    campaignConfig={"itemExplorationConfig": {"explorationWeight": "0"}},
)["campaignArn"]
wait(cp.describe_campaign, "campaign", "campaignArn", nba_campaign)


def actions_for(user):
    answer = rt.get_action_recommendations(campaignArn=nba_campaign, userId=user, numResults=10)
    assert answer["recommendationId"].startswith("RID-"), answer
    return [a["actionId"] for a in answer["actionList"]]


first = actions_for("u0")
assert first[0] == "enroll" and "app" in first, first
ev.put_action_interactions(
    trackingId=nba_tracker["trackingId"],
    actionInteractions=[
        {"actionId": "app", "userId": "u0", "sessionId": "py-nba", "timestamp": now - 60, "eventType": "Taken"}
    ],
)
assert "app" not in actions_for("u0"), "app is not repeated within 30 days"
ev.put_actions(datasetArn=nba_datasets["Actions"], actions=[{"actionId": "newsletter", "properties": '{"value": 3}'}])
assert "newsletter" in actions_for("u0"), "a new action is a candidate at once"

# StopSolutionVersionCreation: on the second server a version is still being created when stopped.
slow = record_calls(boto3.client("personalize", endpoint_url=stop_endpoint, region_name="us-east-1"))
slow_dg = slow.create_dataset_group(name="py-stop")["datasetGroupArn"]
wait(slow.describe_dataset_group, "datasetGroup", "datasetGroupArn", slow_dg)
slow_schema = slow.create_schema(name="py-stop", schema=SCHEMA)["schemaArn"]
slow_dataset = new_dataset(slow, slow_dg, "py-stop", "Interactions", slow_schema)
import_csv(slow, slow_dataset, "py-stop", location[len("s3://") :])
slow_solution = slow.create_solution(
    name="py-stop",
    datasetGroupArn=slow_dg,
    recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
    performAutoTraining=False,
)["solutionArn"]
wait(slow.describe_solution, "solution", "solutionArn", slow_solution)
slow_version = slow.create_solution_version(solutionArn=slow_solution)["solutionVersionArn"]
slow.stop_solution_version_creation(solutionVersionArn=slow_version)
wait(slow.describe_solution_version, "solutionVersion", "solutionVersionArn", slow_version, done=("CREATE STOPPED",))

# Every operation of the three models, as botocore loads them, was called successfully.
expected = {
    (client.meta.service_model.service_name, op)
    for client in (cp, ev, rt)
    for op in client.meta.service_model.operation_names
}
missing = sorted(expected - called)
print(f"boto3 called {len(expected & called)} of {len(expected)} operations")
assert not missing, f"never called successfully: {missing}"
assert len(expected) == 79, f"the three models have {len(expected)} operations, not 79"
print("boto3 walkthrough ok")

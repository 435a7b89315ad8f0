"""The seed lifecycle against personalize-local with boto3 (validates every request against the
official service model). Usage: boto3_walkthrough.py ENDPOINT_URL S3_INTERACTIONS_LOCATION
Exits non-zero on the first mismatch. Run by the Rust test conformance::boto3."""

import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint, location = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
cp = boto3.client("personalize", **kw)
ev = boto3.client("personalize-events", **kw)
rt = boto3.client("personalize-runtime", **kw)

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

# Teardown in order.
cp.delete_metric_attribution(metricAttributionArn=ma)
expect_error("ResourceNotFoundException", cp.describe_metric_attribution, metricAttributionArn=ma)
cp.delete_campaign(campaignArn=campaign)
cp.delete_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])
cp.delete_solution(solutionArn=solution)
cp.delete_dataset(datasetArn=dataset)
cp.delete_schema(schemaArn=schema)
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
print("boto3 walkthrough ok")

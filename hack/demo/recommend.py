#!/usr/bin/env python3
"""The seed walkthrough's last steps, through boto3 against any Personalize endpoint:
recommendations for a user (with titles and genres), then live "watch" clicks on movies of a
genre the user has not watched, then the new recommendations and what changed.

Usage: recommend.py --endpoint URL --campaign-arn ARN --tracking-id ID --data DIR [--user 429]
DIR holds titles.tsv and interactions.csv (hack/data/movielens-csv.py).
"""
import argparse
import collections
import csv
import os
import time

import boto3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--campaign-arn", required=True)
    p.add_argument("--tracking-id", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--user", default="429")
    p.add_argument("--clicks", type=int, default=5)
    a = p.parse_args()

    titles = {}
    with open(os.path.join(a.data, "titles.tsv"), encoding="utf-8") as f:
        for line in f:
            item, title, genres = line.rstrip("\n").split("\t")
            titles[item] = (title, genres.split("|") if genres else [])
    watched = set()
    popularity = collections.Counter()
    with open(os.path.join(a.data, "interactions.csv")) as f:
        for row in csv.DictReader(f):
            popularity[row["ITEM_ID"]] += 1
            if row["USER_ID"] == a.user:
                watched.add(row["ITEM_ID"])

    session = dict(endpoint_url=a.endpoint, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
    runtime = boto3.client("personalize-runtime", **session)
    events = boto3.client("personalize-events", **session)

    def top():
        r = runtime.get_recommendations(campaignArn=a.campaign_arn, userId=a.user, numResults=10)
        return [i["itemId"] for i in r["itemList"]]

    def show(items, title):
        print(f"\n{title}")
        for rank, item in enumerate(items, 1):
            name, genres = titles.get(item, (item, []))
            print(f"  {rank:2}. {name[:45]:45} {'/'.join(genres)}")

    before = top()
    show(before, f"Recommended for user {a.user} (watched {len(watched)} movies):")

    seen_genres = collections.Counter(g for i in watched for g in titles.get(i, ("", []))[1])
    candidates = [g for g in ("Horror", "Documentary", "Western", "Film-Noir", "Musical", "Sci-Fi", "War")
                  if seen_genres[g] <= 1]
    genre = candidates[0] if candidates else "Horror"
    clicked = [i for i, _ in popularity.most_common() if genre in titles.get(i, ("", []))[1] and i not in watched][: a.clicks]
    print(f"\nUser {a.user} now watches {len(clicked)} {genre} movies (PutEvents):")
    now = time.time()
    events.put_events(
        trackingId=a.tracking_id, userId=a.user, sessionId=f"demo-{a.user}",
        eventList=[{"eventType": "watch", "itemId": i, "sentAt": now + k} for k, i in enumerate(clicked)],
    )
    for i in clicked:
        print(f"  - {titles[i][0]}")

    after = top()
    show(after, "Recommended now, with no retraining:")
    new = [i for i in after if i not in before]
    share = sum(genre in titles.get(i, ("", []))[1] for i in after)
    print(f"\n{len(new)} of 10 recommendations changed; {share} of 10 are now {genre} movies.")


if __name__ == "__main__":
    main()

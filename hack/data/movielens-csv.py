#!/usr/bin/env python3
"""Converts MovieLens 100K (recbole's tab-separated files) into Personalize CSVs.

Usage: movielens-csv.py SRC_DIR OUT_DIR
Writes OUT_DIR/interactions.csv (USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP) with two event types, as
Amazon Personalize's own MovieLens walkthroughs build them: a rating of 2 or more is a "click", and
a rating of 4 or more is also a "watch" (1-star ratings are left out),
and OUT_DIR/items.csv (ITEM_ID,GENRES,YEAR; genres joined with "|"), plus OUT_DIR/titles.tsv
(ITEM_ID, title, genres) for printing recommendations. Standard library only.
"""
import csv
import os
import sys


def main(src, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(src, "ml-100k.inter")) as f, open(os.path.join(out, "interactions.csv"), "w", newline="") as o:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        w = csv.writer(o)
        w.writerow(["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"])
        for user, item, rating, ts in rows:
            ts = int(float(ts))
            if float(rating) >= 2:
                w.writerow([user, item, "click", ts])
            if float(rating) >= 4:
                w.writerow([user, item, "watch", ts])
    with open(os.path.join(src, "ml-100k.item"), encoding="latin-1") as f, \
            open(os.path.join(out, "items.csv"), "w", newline="") as o, \
            open(os.path.join(out, "titles.tsv"), "w") as t:
        rows = csv.reader(f, delimiter="\t")
        next(rows)
        w = csv.writer(o)
        w.writerow(["ITEM_ID", "GENRES", "YEAR"])
        for row in rows:
            item, title, year, genres = (row + ["", "", "", ""])[:4]
            genres = "|".join(genres.split())
            w.writerow([item, genres, year if year.isdigit() else ""])
            t.write(f"{item}\t{title}\t{genres}\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Movie titles for the demo's curl walkthrough (standard library only).

  movies.py show DATA [--before FILE] [--genre G]   < getRecommendations JSON
      prints the ranked list with titles and genres; with --before (an earlier answer), marks
      new entries with "+", lists the ones that dropped out and says how many changed.
  movies.py ids < getRecommendations JSON
      prints the item ids on one line (to compare two answers).
  movies.py pick DATA --user U [--count N] [--exclude FILE]
      chooses a genre user U (almost) never watches and prints it, then N of its most
      watched movies that U has not seen (nor recommended in FILE, a getRecommendations
      answer), one `ITEM_ID<TAB>title` per line.

DATA holds titles.tsv and interactions.csv, as written by hack/data/movielens-csv.py.
"""
import argparse
import collections
import csv
import json
import os
import sys

# Genres whose movies are watched by the same people, so a handful of clicks visibly moves a
# user's recommendations towards them (measured on MovieLens 100K), most coherent first.
CANDIDATE_GENRES = ("Animation", "Children's", "Horror", "Western", "Documentary", "Film-Noir", "Musical")
# A genre is "not watched" below this share of the user's history.
RARELY = 0.05


def titles(data):
    out = {}
    with open(os.path.join(data, "titles.tsv"), encoding="utf-8") as f:
        for line in f:
            item, title, genres = line.rstrip("\n").split("\t")
            out[item] = (title, genres.split("|") if genres else [])
    return out


def items_of(answer):
    return [i["itemId"] for i in answer.get("itemList", [])]


def show(a):
    answer = json.load(sys.stdin)
    names = titles(a.data)
    now = items_of(answer)
    before = items_of(json.load(open(a.before))) if a.before else None
    for rank, item in enumerate(now, 1):
        name, genres = names.get(item, (item, []))
        mark = "+" if before is not None and item not in before else " "
        print(f"  {mark}{rank:2}. {name[:48]:48} {'/'.join(genres)}")
    if before is None:
        return
    gone = [i for i in before if i not in now]
    if gone:
        print("   dropped out: " + "; ".join(names.get(i, (i, []))[0] for i in gone))
    summary = f"   {len(now) - len(set(now) & set(before))} of {len(now)} recommendations changed"
    if a.genre:
        share = sum(a.genre in names.get(i, ("", []))[1] for i in now)
        was = sum(a.genre in names.get(i, ("", []))[1] for i in before)
        summary += f"; {a.genre} movies: {was} before, {share} now"
    print(summary + ".")


def ids(_a):
    print(" ".join(items_of(json.load(sys.stdin))))


def pick(a):
    names = titles(a.data)
    watched = set()
    popularity = collections.Counter()
    with open(os.path.join(a.data, "interactions.csv")) as f:
        for row in csv.DictReader(f):
            popularity[row["ITEM_ID"]] += 1
            if row["USER_ID"] == a.user:
                watched.add(row["ITEM_ID"])
    seen = collections.Counter(g for i in watched for g in names.get(i, ("", []))[1])
    rare = [g for g in CANDIDATE_GENRES if seen[g] < RARELY * max(len(watched), 1)]
    genre = rare[0] if rare else min(CANDIDATE_GENRES, key=lambda g: seen[g])
    print(genre)
    shown = set(items_of(json.load(open(a.exclude)))) if a.exclude else set()
    chosen = [i for i, _ in popularity.most_common()
              if genre in names.get(i, ("", []))[1] and i not in watched | shown][: a.count]
    for i in chosen:
        print(f"{i}\t{names[i][0]}")
    print(f"user {a.user} watched {len(watched)} movies, {seen[genre]} of them {genre}",
          file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("show")
    s.add_argument("data")
    s.add_argument("--before")
    s.add_argument("--genre")
    s.set_defaults(run=show)
    i = sub.add_parser("ids")
    i.set_defaults(run=ids)
    k = sub.add_parser("pick")
    k.add_argument("data")
    k.add_argument("--user", required=True)
    k.add_argument("--count", type=int, default=5)
    k.add_argument("--exclude", help="a getRecommendations answer whose items not to pick")
    k.set_defaults(run=pick)
    a = p.parse_args()
    a.run(a)


if __name__ == "__main__":
    main()

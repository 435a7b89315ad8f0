//! MovieLens 100K for the engine's benchmark examples (included with `#[path]`): the RecBole
//! atomic files `hack/data/movielens.sh` downloads, read into per-user sequences and catalog
//! records, the temporal split A of shared/BENCHMARKS.md, and the request the benchmarks send.
// Each example uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use personalize_engine::{Catalog, Exploration, FieldValue, Interaction, RecommendRequest, Record};

/// One user's interactions, (timestamp, item) in time order.
pub type Seq = Vec<(i64, u32)>;

/// An item of the catalog as u.item describes it.
pub struct Movie {
    pub id: u32,
    pub genres: Vec<String>,
    pub year: Option<i64>,
}

pub struct Data {
    pub by_user: BTreeMap<u32, Seq>,
    pub movies: Vec<Movie>,
    /// Catalog records: GENRES (categorical list) and YEAR (a number).
    pub items: Vec<Record>,
    pub users: Vec<Record>,
}

pub fn load(dir: &str) -> Result<Data, String> {
    let read = |name: &str| {
        std::fs::read_to_string(format!("{dir}/{name}")).map_err(|e| format!("{dir}/{name}: {e}"))
    };
    let mut by_user: BTreeMap<u32, Seq> = BTreeMap::new();
    for line in read("ml-100k.inter")?.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let parse = |s: &str| s.parse::<f64>().map_err(|e| format!("{line}: {e}"));
        let (u, i, t) = (
            parse(f[0])? as u32,
            parse(f[1])? as u32,
            parse(f[3])? as i64,
        );
        by_user.entry(u).or_default().push((t, i));
    }
    for seq in by_user.values_mut() {
        seq.sort_unstable();
    }
    let mut movies = Vec::new();
    let mut items = Vec::new();
    for line in read("ml-100k.item")?.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let id: u32 = f[0].parse().map_err(|e| format!("{line}: {e}"))?;
        let genres: Vec<String> = f
            .get(3)
            .map(|g| g.split(' ').map(str::to_owned).collect())
            .unwrap_or_default();
        let year = f.get(2).and_then(|y| y.parse::<i64>().ok());
        let mut r = Record::new(f[0]);
        if f.get(3).is_some() {
            r.fields
                .insert("GENRES".into(), FieldValue::List(genres.clone()));
        }
        if let Some(year) = year {
            r.fields.insert("YEAR".into(), FieldValue::Num(year as f64));
        }
        items.push(r);
        movies.push(Movie { id, genres, year });
    }
    let mut users = Vec::new();
    for line in read("ml-100k.user")?.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let mut r = Record::new(f[0]);
        if let Some(age) = f.get(1).and_then(|a| a.parse::<f64>().ok()) {
            r.fields.insert("AGE".into(), FieldValue::Num(age));
        }
        users.push(r);
    }
    Ok(Data {
        by_user,
        movies,
        items,
        users,
    })
}

/// Split A: the newest ceil(10%) of a sequence is test, the rest train.
pub fn tail_split(seq: &Seq) -> (Seq, Seq) {
    let k = (seq.len() as f64 * 0.1).ceil() as usize;
    let cut = seq.len() - k;
    (seq[..cut].to_vec(), seq[cut..].to_vec())
}

/// A sequence as the engine's interactions (event type "rating").
pub fn interactions(user: u32, seq: &Seq) -> Vec<Interaction> {
    seq.iter()
        .map(|&(t, i)| Interaction::new(&user.to_string(), &i.to_string(), t, "rating"))
        .collect()
}

/// The value following `name` on the command line.
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|p| args.get(p + 1))
        .cloned()
}

/// A GetRecommendations request for `user` without exploration or filter, at time 0.
pub fn request<'a>(
    user: &'a str,
    live: &'a [Interaction],
    n: usize,
    catalog: &'a Catalog,
) -> RecommendRequest<'a> {
    RecommendRequest {
        user_id: Some(user),
        item_id: None,
        live,
        num_results: n,
        filter: None,
        catalog,
        exploration: Exploration::NONE,
        now: 0,
    }
}

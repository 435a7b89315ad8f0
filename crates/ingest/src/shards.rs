//! Shard lineage decisions: which shards to consume now, so parents are drained before their
//! children after a split or merge, and where a shard starts reading; and the one-string form
//! both checkpoint stores keep (`SHARD_END` or a [`Position`]). Pure; no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::position::{ParseError, Position};

/// How a stored checkpoint says the shard is closed and fully processed.
const SHARD_END: &str = "SHARD_END";

/// What ListShards said about a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    pub shard_id: String,
    pub parents: Vec<String>,
}

/// A stored checkpoint of one shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checkpoint {
    /// Everything up to and including the position's sequence number is processed, and so are
    /// the records after it that its bitmap marks.
    At(Position),
    /// The shard is closed and fully processed.
    End,
}

impl Checkpoint {
    /// Reads a stored checkpoint: `SHARD_END`, or a [`Position`] (`<S>` or `<S>+<F>+<hex>`).
    pub fn parse(stored: &str) -> Result<Checkpoint, ParseError> {
        if stored == SHARD_END {
            return Ok(Checkpoint::End);
        }
        Position::parse(stored).map(Checkpoint::At)
    }
}

/// The stored form, read back by [`Checkpoint::parse`].
impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checkpoint::At(position) => position.fmt(f),
            Checkpoint::End => f.write_str(SHARD_END),
        }
    }
}

/// Where reading a shard starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// After the checkpointed sequence number, skipping the records its bitmap marks (if the
    /// first record read is the one the bitmap counted from).
    After(Position),
    /// The oldest record still in the shard (children of drained parents start here).
    TrimHorizon,
    /// The configured initial position (shards with no checkpoint and no known parent).
    Initial,
}

/// Shards to start consuming: not finished, not already running, and every parent that is
/// still listed is finished (a parent no longer listed has expired and cannot hold back its
/// children).
pub fn ready_to_consume(
    shards: &[ShardInfo],
    checkpoints: &BTreeMap<String, Checkpoint>,
    running: &BTreeSet<String>,
) -> Vec<String> {
    let listed: BTreeSet<&str> = shards.iter().map(|s| s.shard_id.as_str()).collect();
    let finished = |id: &str| matches!(checkpoints.get(id), Some(Checkpoint::End));
    shards
        .iter()
        .filter(|s| !finished(&s.shard_id) && !running.contains(&s.shard_id))
        .filter(|s| {
            s.parents
                .iter()
                .all(|p| !listed.contains(p.as_str()) || finished(p))
        })
        .map(|s| s.shard_id.clone())
        .collect()
}

/// Where to start `shard`: after its checkpoint; at the trim horizon when it has a parent we
/// know (its records follow the parent's); else at the configured initial position.
pub fn start_at(
    shard: &ShardInfo,
    checkpoints: &BTreeMap<String, Checkpoint>,
    listed_or_checkpointed_parent: bool,
) -> StartAt {
    match checkpoints.get(&shard.shard_id) {
        Some(Checkpoint::At(position)) => StartAt::After(position.clone()),
        Some(Checkpoint::End) => StartAt::TrimHorizon,
        None if listed_or_checkpointed_parent => StartAt::TrimHorizon,
        None => StartAt::Initial,
    }
}

/// Whether any parent of `shard` is listed or checkpointed (so the shard is a child we follow).
pub fn has_known_parent(
    shard: &ShardInfo,
    shards: &[ShardInfo],
    checkpoints: &BTreeMap<String, Checkpoint>,
) -> bool {
    shard
        .parents
        .iter()
        .any(|p| checkpoints.contains_key(p) || shards.iter().any(|s| &s.shard_id == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parents: &[&str]) -> ShardInfo {
        ShardInfo {
            shard_id: id.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn children_wait_for_their_parents() {
        let shards = vec![shard("p", &[]), shard("c1", &["p"]), shard("c2", &["p"])];
        let mut cps = BTreeMap::new();
        let none = BTreeSet::new();
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["p"]);
        cps.insert("p".to_string(), Checkpoint::At(Position::at("5")));
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["p"]);
        cps.insert("p".to_string(), Checkpoint::End);
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["c1", "c2"]);
        let running: BTreeSet<String> = ["c1".to_string()].into();
        assert_eq!(ready_to_consume(&shards, &cps, &running), vec!["c2"]);
    }

    #[test]
    fn merge_waits_for_both_parents_and_expired_parents_do_not_block() {
        let shards = vec![shard("a", &[]), shard("b", &[]), shard("m", &["a", "b"])];
        let mut cps = BTreeMap::new();
        cps.insert("a".to_string(), Checkpoint::End);
        let none = BTreeSet::new();
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["b"]);
        let trimmed = vec![shard("m", &["a", "b"])];
        assert_eq!(
            ready_to_consume(&trimmed, &BTreeMap::new(), &none),
            vec!["m"]
        );
    }

    #[test]
    fn a_split_then_a_merge_is_followed_one_generation_at_a_time() {
        // p splits into a and b, which later merge into m.
        let shards = vec![
            shard("p", &[]),
            shard("a", &["p"]),
            shard("b", &["p"]),
            shard("m", &["a", "b"]),
        ];
        let none = BTreeSet::new();
        let mut cps = BTreeMap::new();
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["p"]);
        cps.insert("p".to_string(), Checkpoint::End);
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["a", "b"]);
        cps.insert("a".to_string(), Checkpoint::End);
        cps.insert("b".to_string(), Checkpoint::At(Position::at("7")));
        assert_eq!(
            ready_to_consume(&shards, &cps, &none),
            vec!["b"],
            "m waits for b's end"
        );
        cps.insert("b".to_string(), Checkpoint::End);
        assert_eq!(ready_to_consume(&shards, &cps, &none), vec!["m"]);
        assert_eq!(
            start_at(
                &shards[3],
                &cps,
                has_known_parent(&shards[3], &shards, &cps)
            ),
            StartAt::TrimHorizon,
            "a child reads from its first record, whatever the initial position"
        );
    }

    #[test]
    fn start_positions() {
        let shards = vec![shard("p", &[]), shard("c", &["p"])];
        let mut cps = BTreeMap::new();
        assert_eq!(
            start_at(
                &shards[0],
                &cps,
                has_known_parent(&shards[0], &shards, &cps)
            ),
            StartAt::Initial
        );
        assert_eq!(
            start_at(
                &shards[1],
                &cps,
                has_known_parent(&shards[1], &shards, &cps)
            ),
            StartAt::TrimHorizon
        );
        cps.insert("c".to_string(), Checkpoint::At(Position::at("9")));
        assert_eq!(
            start_at(&shards[1], &cps, true),
            StartAt::After(Position::at("9"))
        );
    }

    #[test]
    fn checkpoints_are_stored_as_one_string() {
        for stored in [
            "SHARD_END",
            "49590338271490256608559692538361571095921575989136588898",
            "12+13+0601",
        ] {
            let cp = Checkpoint::parse(stored).expect("parses");
            assert_eq!(cp.to_string(), stored);
        }
        assert_eq!(Checkpoint::parse("SHARD_END"), Ok(Checkpoint::End));
        assert!(matches!(
            Checkpoint::parse("12+13+06x1"),
            Err(ParseError::BitmapDigit { at: 2, found: 'x' })
        ));
    }
}

//! Deterministic event ids: `(shard, sequence number, index)` -> the PutEvents `eventId`, so an
//! event replayed after a crash carries the same id and can be recognised as a duplicate.
//! Pure; no I/O.

/// The event id of the `index`-th event decoded from the record at `sequence_number` of
/// `shard_id`. Kinesis sequence numbers are at most 128 digits and shard ids 128 characters, so
/// the id stays under PutEvents' 256-character limit.
pub fn derive(shard_id: &str, sequence_number: &str, index: usize) -> String {
    format!("{shard_id}:{sequence_number}:{index}")
}

/// The id of the `index`-th copy of an event whose producer chose `event_id` itself
/// (`interactions: N` with an explicit id): the first keeps the id, the others get a suffix.
pub fn derive_from_explicit(event_id: &str, index: usize) -> String {
    if index == 0 {
        event_id.to_owned()
    } else {
        format!("{event_id}:{index}")
    }
}

/// Splits a derived id back into `(shard, sequence number, index)`; None for ids not made by
/// [`derive`]. Used by tests and tools counting replays.
pub fn parse(event_id: &str) -> Option<(&str, &str, usize)> {
    let mut parts = event_id.rsplitn(3, ':');
    let index = parts.next()?.parse().ok()?;
    let sequence_number = parts.next()?;
    let shard_id = parts.next()?;
    Some((shard_id, sequence_number, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_id_and_round_trip() {
        let a = derive("shardId-000000000001", "4959", 2);
        assert_eq!(a, derive("shardId-000000000001", "4959", 2));
        assert_ne!(a, derive("shardId-000000000001", "4959", 3));
        assert_ne!(a, derive("shardId-000000000002", "4959", 2));
        assert_eq!(parse(&a), Some(("shardId-000000000001", "4959", 2)));
        assert_eq!(parse("nonsense"), None);
    }

    #[test]
    fn explicit_ids_get_suffixes_after_the_first() {
        assert_eq!(derive_from_explicit("e1", 0), "e1");
        assert_eq!(derive_from_explicit("e1", 2), "e1:2");
    }

    #[test]
    fn longest_ids_fit_the_limit() {
        let id = derive(&"s".repeat(128), &"9".repeat(120), 999);
        assert!(id.len() <= 256);
    }
}

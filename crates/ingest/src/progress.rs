//! Checkpoint decisions: which sequence number of a shard may be checkpointed. A record's
//! sequence number becomes checkpointable only once it and every record before it are resolved
//! (all its events accepted by PutEvents, or the record written to the dead-letter
//! destination). Pure; no I/O.

use std::collections::VecDeque;

/// A handle on one registered record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

#[derive(Debug)]
struct Pending {
    sequence_number: String,
    remaining: usize,
}

/// In-order progress of one shard's records.
#[derive(Debug, Default)]
pub struct Progress {
    /// Ticket number of `pending[0]`.
    first: u64,
    pending: VecDeque<Pending>,
    /// The last sequence number resolved but not yet handed out by [`Progress::take_checkpoint`].
    ready: Option<String>,
    /// The last sequence number resolved, taken or not.
    resolved: Option<String>,
}

impl Progress {
    /// Registers the next record of the shard, which resolves after `parts` completions (events
    /// sent, or 1 for a dead-lettered record). A record with 0 parts is resolved at once.
    pub fn register(&mut self, sequence_number: &str, parts: usize) -> Ticket {
        let ticket = Ticket(self.first + self.pending.len() as u64);
        self.pending.push_back(Pending {
            sequence_number: sequence_number.to_owned(),
            remaining: parts,
        });
        self.advance();
        ticket
    }

    /// One part of the record behind `ticket` is done.
    pub fn complete(&mut self, ticket: Ticket) {
        if let Some(offset) = ticket.0.checked_sub(self.first)
            && let Some(p) = self.pending.get_mut(offset as usize)
        {
            p.remaining = p.remaining.saturating_sub(1);
        }
        self.advance();
    }

    fn advance(&mut self) {
        while self.pending.front().is_some_and(|p| p.remaining == 0) {
            if let Some(p) = self.pending.pop_front() {
                self.first += 1;
                self.resolved = Some(p.sequence_number.clone());
                self.ready = Some(p.sequence_number);
            }
        }
    }

    /// The sequence number to checkpoint now, if it moved since the last call.
    pub fn take_checkpoint(&mut self) -> Option<String> {
        self.ready.take()
    }

    /// The last sequence number resolved so far (whether or not it was taken): what a final
    /// checkpoint stores, since a taken one may not have been written.
    pub fn resolved(&self) -> Option<&str> {
        self.resolved.as_deref()
    }

    /// Records registered but not resolved yet.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_waits_for_everything_before_it() {
        let mut p = Progress::default();
        let a = p.register("1", 2);
        assert_eq!(p.resolved(), None);
        let b = p.register("2", 1);
        let c = p.register("3", 1);
        p.complete(c);
        p.complete(b);
        assert_eq!(p.take_checkpoint(), None, "record 1 is not done");
        p.complete(a);
        assert_eq!(p.take_checkpoint(), None, "record 1 still has a part left");
        p.complete(a);
        assert_eq!(p.take_checkpoint().as_deref(), Some("3"));
        assert_eq!(p.take_checkpoint(), None);
        assert_eq!(p.resolved(), Some("3"), "taken, still the resolved prefix");
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn zero_part_records_resolve_at_once_but_not_past_pending_ones() {
        let mut p = Progress::default();
        let a = p.register("1", 1);
        p.register("2", 0);
        assert_eq!(p.take_checkpoint(), None);
        p.complete(a);
        assert_eq!(p.take_checkpoint().as_deref(), Some("2"));
        p.register("3", 0);
        assert_eq!(p.take_checkpoint().as_deref(), Some("3"));
    }

    #[test]
    fn stale_tickets_are_ignored() {
        let mut p = Progress::default();
        let a = p.register("1", 1);
        p.complete(a);
        p.complete(a);
        let b = p.register("2", 1);
        assert_eq!(p.take_checkpoint().as_deref(), Some("1"));
        p.complete(b);
        assert_eq!(p.take_checkpoint().as_deref(), Some("2"));
    }
}

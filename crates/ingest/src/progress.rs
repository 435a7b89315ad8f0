//! Checkpoint decisions: which position of a shard may be checkpointed. A record is resolved once
//! all its events are accepted by PutEvents or the record is written to the dead-letter
//! destination. The checkpoint is a [`Position`]: the last record of the resolved prefix (it and
//! every record before it are resolved) and a bitmap of the records after it that are resolved
//! too, so a restart skips them rather than sending them again, provided the first record read
//! after the restart is the one the bitmap counted from (see [`Progress::check_resume`]). Pure;
//! no I/O.

use std::collections::VecDeque;

use crate::position::{self, Bitmap, Mismatch, Position};

/// A handle on one registered record. Ticket `n` is the `n`-th record registered (0-based), that
/// is the record at offset `n` after the position the shard resumed from.
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
    /// The records registered and not yet in the resolved prefix (so `pending[0]`, when there is
    /// one, is never resolved).
    pending: VecDeque<Pending>,
    /// The last record of the resolved prefix: the resume position's sequence number until the
    /// prefix moves, None when the shard started elsewhere and nothing is resolved yet.
    base: Option<String>,
    /// Offsets (after the resume position) resolved before the restart: the records at these
    /// offsets are registered with 0 parts and count as resolved until registered. Emptied when
    /// the first record read is not `resumed_first`.
    resumed: Bitmap,
    /// The position resumed from, whose record `resumed_first` is offset 0 of `resumed`.
    resumed_base: Option<String>,
    /// The record at offset 0 of `resumed` when it was stored (None: not stored).
    resumed_first: Option<String>,
    /// `resumed` was checked against the first record read (see [`Progress::check_resume`]).
    resume_checked: bool,
    /// The position changed since the last [`Progress::take_checkpoint`].
    dirty: bool,
}

impl Progress {
    /// Progress of a shard resuming after `position`: the records read after its sequence
    /// number are registered in shard order, and, once [`Progress::check_resume`] accepted the
    /// first of them, those its bitmap marks are already resolved (see
    /// [`Progress::already_resolved`]).
    pub fn resume(position: Position) -> Progress {
        Progress {
            base: Some(position.sequence_number.clone()),
            resumed_base: Some(position.sequence_number),
            resumed: position.resolved_after,
            resumed_first: position.first_after,
            ..Progress::default()
        }
    }

    /// Called with the sequence number of each window's first record before registering it;
    /// acts on the first record after the resume position only. If that record is not the one
    /// the resumed bitmap counted from, the records after the base are not the ones the bitmap
    /// describes: the bitmap is discarded (every record after the base is sent again) and the
    /// reason returned.
    pub fn check_resume(&mut self, first_read: &str) -> Result<(), Mismatch> {
        if self.resume_checked || self.next_ticket() != 0 {
            return Ok(());
        }
        self.resume_checked = true;
        if self.resumed.is_empty() {
            return Ok(());
        }
        position::check_first_after(self.resumed_first.as_deref(), first_read).inspect_err(|_| {
            self.resumed = Bitmap::default();
            self.resumed_first = None;
        })
    }

    /// Whether the next record to register was resolved before the restart: register it with 0
    /// parts, without sending it. Never before [`Progress::check_resume`] accepted the bitmap.
    pub fn already_resolved(&self) -> bool {
        self.resume_checked && self.resumed.contains(self.next_ticket() as usize)
    }

    /// Records the resume bitmap marks as resolved, registered or not.
    pub fn resumed_resolved(&self) -> usize {
        self.resumed.count()
    }

    fn next_ticket(&self) -> u64 {
        self.first + self.pending.len() as u64
    }

    /// Registers the next record of the shard, which resolves after `parts` completions (events
    /// sent, or 1 for a dead-lettered record). A record with 0 parts is resolved at once.
    pub fn register(&mut self, sequence_number: &str, parts: usize) -> Ticket {
        let ticket = Ticket(self.next_ticket());
        if parts == 0 && !self.resumed.contains(ticket.0 as usize) {
            // Resolved here, not before the restart: the set of resolved records changed.
            self.dirty = true;
        }
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
            && p.remaining > 0
        {
            p.remaining -= 1;
            if p.remaining == 0 {
                self.dirty = true;
            }
        }
        self.advance();
    }

    fn advance(&mut self) {
        while self.pending.front().is_some_and(|p| p.remaining == 0) {
            if let Some(p) = self.pending.pop_front() {
                self.first += 1;
                self.base = Some(p.sequence_number);
                self.dirty = true;
            }
        }
    }

    /// The position to checkpoint now, if it changed since the last call: the resolved prefix
    /// moved, or records after it were resolved.
    pub fn take_checkpoint(&mut self) -> Option<Position> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        self.resolved()
    }

    /// The current position (whether or not it was taken): what a final checkpoint stores,
    /// since a taken one may not have been written. None while no record is resolved and the
    /// shard did not resume from a position. The bitmap's offset 0 is the first pending record.
    /// With none pending, the record after the base is not read yet: if offsets resolved before
    /// the restart are still to be read, the position counts from the resume position instead
    /// (everything registered since is resolved), so they stay skipped after another restart.
    pub fn resolved(&self) -> Option<Position> {
        let base = self.base.as_ref()?;
        let first = self.first as usize;
        let first_after = match self.pending.front() {
            Some(p) => p.sequence_number.clone(),
            None => {
                let mut unread = self.resumed.offsets().skip_while(|t| *t < first).peekable();
                return Some(match (&self.resumed_base, &self.resumed_first) {
                    (Some(resumed_base), Some(resumed_first)) if unread.peek().is_some() => {
                        Position::new(
                            resumed_base.clone(),
                            resumed_first.clone(),
                            Bitmap::from_offsets((0..first).chain(unread)),
                        )
                    }
                    _ => Position::at(base.clone()),
                });
            }
        };
        let registered = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.remaining == 0)
            .map(|(i, _)| i);
        let unregistered = self
            .resumed
            .offsets()
            .skip_while(|t| *t < first + self.pending.len())
            .map(|t| t - first);
        Some(Position::new(
            base.clone(),
            first_after,
            Bitmap::from_offsets(registered.chain(unregistered)),
        ))
    }

    /// Records registered but not resolved yet.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After `seq`, with `offsets` after it resolved, offset 0 being the record `first`.
    fn at(seq: &str, first: &str, offsets: &[usize]) -> Position {
        Position::new(seq, first, Bitmap::from_offsets(offsets.iter().copied()))
    }

    #[test]
    fn checkpoint_waits_for_everything_before_it() {
        let mut p = Progress::default();
        let a = p.register("1", 2);
        assert_eq!(p.resolved(), None);
        let b = p.register("2", 1);
        let c = p.register("3", 1);
        p.complete(c);
        p.complete(b);
        assert_eq!(
            p.take_checkpoint(),
            None,
            "record 1 is not done, and with no base there is nothing to write"
        );
        p.complete(a);
        assert_eq!(p.take_checkpoint(), None, "record 1 still has a part left");
        p.complete(a);
        assert_eq!(p.take_checkpoint(), Some(Position::at("3")));
        assert_eq!(p.take_checkpoint(), None);
        assert_eq!(
            p.resolved(),
            Some(Position::at("3")),
            "taken, still the resolved prefix"
        );
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn zero_part_records_resolve_at_once_but_not_past_pending_ones() {
        let mut p = Progress::default();
        let a = p.register("1", 1);
        p.register("2", 0);
        assert_eq!(p.take_checkpoint(), None);
        p.complete(a);
        assert_eq!(p.take_checkpoint(), Some(Position::at("2")));
        p.register("3", 0);
        assert_eq!(p.take_checkpoint(), Some(Position::at("3")));
    }

    #[test]
    fn stale_tickets_are_ignored() {
        let mut p = Progress::default();
        let a = p.register("1", 1);
        p.complete(a);
        p.complete(a);
        let b = p.register("2", 1);
        assert_eq!(p.take_checkpoint(), Some(Position::at("1")));
        p.complete(b);
        assert_eq!(p.take_checkpoint(), Some(Position::at("2")));
        p.complete(b);
        assert_eq!(p.take_checkpoint(), None, "nothing changed");
    }

    #[test]
    fn scattered_completions_become_a_bitmap() {
        let mut p = Progress::resume(Position::at("10"));
        assert_eq!(p.check_resume("11"), Ok(()), "no bitmap to check");
        let t: Vec<Ticket> = (11..=20).map(|s| p.register(&s.to_string(), 1)).collect();
        assert_eq!(p.take_checkpoint(), None, "nothing resolved yet");
        // Records 12, 13, 15 and 20 (offsets 1, 2, 4, 9) are done; 11 holds the prefix back.
        for i in [1, 2, 4, 9] {
            p.complete(t[i]);
        }
        assert_eq!(p.take_checkpoint(), Some(at("10", "11", &[1, 2, 4, 9])));
        assert_eq!(p.take_checkpoint(), None, "taken, unchanged");
        assert_eq!(p.resolved(), Some(at("10", "11", &[1, 2, 4, 9])));
        p.complete(t[6]);
        assert_eq!(
            p.take_checkpoint(),
            Some(at("10", "11", &[1, 2, 4, 6, 9])),
            "a new completion after the prefix is worth a checkpoint"
        );
    }

    #[test]
    fn the_prefix_moving_shifts_the_base_and_the_bitmap() {
        let mut p = Progress::resume(Position::at("10"));
        let t: Vec<Ticket> = (11..=20).map(|s| p.register(&s.to_string(), 1)).collect();
        for i in [1, 2, 4, 9] {
            p.complete(t[i]);
        }
        p.complete(t[0]);
        // 11, 12 and 13 form the prefix; 14 holds it; 15 and 20 are offsets 1 and 6 after 13.
        assert_eq!(p.take_checkpoint(), Some(at("13", "14", &[1, 6])));
        p.complete(t[3]);
        assert_eq!(p.take_checkpoint(), Some(at("15", "16", &[4])));
        for i in [5, 6, 7, 8] {
            p.complete(t[i]);
        }
        assert_eq!(p.take_checkpoint(), Some(Position::at("20")));
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn without_a_base_bitmaps_wait_for_the_first_resolved_record() {
        let mut p = Progress::default();
        let t: Vec<Ticket> = (1..=4).map(|s| p.register(&s.to_string(), 1)).collect();
        p.complete(t[2]);
        assert_eq!(p.take_checkpoint(), None, "no base to count offsets from");
        assert_eq!(p.resolved(), None);
        p.complete(t[0]);
        assert_eq!(p.take_checkpoint(), Some(at("1", "2", &[1])));
    }

    #[test]
    fn resume_registers_skipped_records_resolved_and_keeps_the_rest_of_the_bitmap() {
        // Before the restart, records at offsets 1, 2 and 5 after "10" were resolved.
        let mut p = Progress::resume(at("10", "11", &[1, 2, 5]));
        assert_eq!(p.resumed_resolved(), 3);
        assert_eq!(
            p.resolved(),
            Some(at("10", "11", &[1, 2, 5])),
            "nothing registered yet: the stored position, whole"
        );
        assert_eq!(p.take_checkpoint(), None, "nothing changed");
        assert_eq!(
            p.check_resume("11"),
            Ok(()),
            "the record the bitmap counted from"
        );
        let mut sent = Vec::new();
        let mut skipped = Vec::new();
        // The first window reads 4 records (offsets 0..4).
        for seq in 11..=14 {
            if p.already_resolved() {
                p.register(&seq.to_string(), 0);
                skipped.push(seq);
            } else {
                sent.push((seq, p.register(&seq.to_string(), 1)));
            }
        }
        assert_eq!(skipped, vec![12, 13]);
        assert_eq!(
            p.take_checkpoint(),
            None,
            "registering what was already resolved changes nothing"
        );
        assert_eq!(p.resolved(), Some(at("10", "11", &[1, 2, 5])));
        assert_eq!(
            p.check_resume("15"),
            Ok(()),
            "later windows are not checked"
        );
        // 11 is sent: the prefix moves over the skipped 12 and 13; offset 5 after "10" (record
        // 16, not read yet) is offset 2 after "13".
        p.complete(sent[0].1);
        assert_eq!(p.take_checkpoint(), Some(at("13", "14", &[2])));
        // The next window reads 15..=17: 16 is skipped.
        assert!(!p.already_resolved());
        let t15 = p.register("15", 1);
        assert!(p.already_resolved());
        p.register("16", 0);
        assert!(!p.already_resolved());
        let t17 = p.register("17", 2);
        assert_eq!(p.take_checkpoint(), None);
        p.complete(t15);
        p.complete(t17);
        p.complete(t17);
        assert_eq!(
            p.take_checkpoint(),
            Some(at("13", "14", &[1, 2, 3])),
            "14 still holds the prefix"
        );
        p.complete(sent[1].1);
        assert_eq!(p.take_checkpoint(), Some(Position::at("17")));
        assert!(!p.already_resolved(), "past the stored bitmap");
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn a_resumed_prefix_moves_over_skipped_records_at_once() {
        let mut p = Progress::resume(at("10", "11", &[0, 1]));
        assert_eq!(p.check_resume("11"), Ok(()));
        for seq in ["11", "12"] {
            assert!(p.already_resolved());
            p.register(seq, 0);
        }
        assert_eq!(p.take_checkpoint(), Some(Position::at("12")));
    }

    #[test]
    fn a_bitmap_whose_first_record_is_not_read_first_is_discarded() {
        // The shard was trimmed past "10" while the consumer was down: the first record read is
        // 57, not 11, so offsets 0 and 1 would be 57 and 58, never resolved.
        let mut p = Progress::resume(at("10", "11", &[0, 1]));
        assert_eq!(
            p.check_resume("57"),
            Err(Mismatch::FirstRecord {
                expected: "11".into(),
                found: "57".into()
            })
        );
        assert_eq!(p.resumed_resolved(), 0);
        assert!(!p.already_resolved(), "57 is sent");
        let a = p.register("57", 1);
        assert_eq!(p.check_resume("57"), Ok(()), "checked once");
        assert!(!p.already_resolved(), "58 is sent");
        let b = p.register("58", 1);
        assert_eq!(p.resolved(), Some(Position::at("10")));
        p.complete(b);
        assert_eq!(p.take_checkpoint(), Some(at("10", "57", &[1])));
        p.complete(a);
        assert_eq!(p.take_checkpoint(), Some(Position::at("58")));
    }

    #[test]
    fn an_unguarded_bitmap_is_discarded_and_nothing_is_skipped_before_the_check() {
        let mut p = Progress::resume(Position::parse("10+03").expect("parses"));
        assert!(!p.already_resolved(), "not checked yet");
        assert_eq!(p.resolved(), Some(Position::at("10")), "not written back");
        assert_eq!(p.check_resume("11"), Err(Mismatch::Unguarded));
        assert!(!p.already_resolved());
    }

    #[test]
    fn with_nothing_pending_unread_resumed_offsets_count_from_the_resume_position() {
        let mut p = Progress::resume(at("10", "11", &[1, 5]));
        assert_eq!(p.check_resume("11"), Ok(()));
        let a = p.register("11", 1);
        assert!(p.already_resolved());
        p.register("12", 0);
        p.complete(a);
        // 16 (offset 5 after "10") is not read, and the record after "12" is not known yet:
        // counted from "10" (whose first record 11 was checked), 11 and 12 are resolved too.
        assert_eq!(p.take_checkpoint(), Some(at("10", "11", &[0, 1, 5])));
        for seq in ["13", "14", "15"] {
            assert!(!p.already_resolved());
            p.register(seq, 1);
        }
        assert!(p.already_resolved(), "still skipped by this run");
        p.register("16", 0);
        assert_eq!(p.resolved(), Some(at("12", "13", &[3])));
    }

    #[test]
    fn with_nothing_pending_and_nothing_unread_the_position_is_the_prefix() {
        let mut p = Progress::resume(at("10", "11", &[1]));
        assert_eq!(p.check_resume("11"), Ok(()));
        let a = p.register("11", 1);
        p.register("12", 0);
        p.complete(a);
        assert_eq!(p.take_checkpoint(), Some(Position::at("12")));
    }
}

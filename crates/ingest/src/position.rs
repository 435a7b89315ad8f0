//! Checkpoint positions of a shard: a base sequence number S (everything up to and including it
//! is resolved) and a bitmap of the records after S that are resolved too, so a restart skips
//! them instead of sending them again. Stored as one string, `<S>` (no bitmap: the format of
//! older releases) or `<S>+<F>+<hex>`, where `<F>` is the sequence number of the record at offset
//! 0 (the first record after S when the bitmap was computed) and `<hex>` is the bitmap in
//! lowercase hex, two digits per byte, bit `i` of the bitmap (the `i`-th record after S, 0-based,
//! in shard order) being bit `i % 8` (least significant first) of byte `i / 8`, trailing zero
//! bytes trimmed. A resume trusts the bitmap only if the first record it reads after S is F
//! ([`check_first_after`]): otherwise the records after S are not the ones the offsets counted
//! (the shard was trimmed past S while the consumer was down, say) and skipping by offset would
//! lose records. `<S>+<hex>` (written by an unreleased build, without F) still parses, with no F:
//! its bitmap is never trusted. Kinesis sequence numbers are decimal digits, so `+` is
//! unambiguous. Pure; no I/O.

use std::fmt;

/// Separates the base sequence number from the bitmap.
const SEPARATOR: char = '+';

/// A set of record offsets after a base, as a bitmap with no trailing zero bytes (so equal sets
/// are equal bitmaps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bitmap(Vec<u8>);

impl Bitmap {
    /// The bitmap of `offsets`.
    pub fn from_offsets(offsets: impl IntoIterator<Item = usize>) -> Bitmap {
        let mut bitmap = Bitmap::default();
        for offset in offsets {
            bitmap.set(offset);
        }
        bitmap
    }

    /// Adds `offset`.
    pub fn set(&mut self, offset: usize) {
        let byte = offset / 8;
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        self.0[byte] |= 1 << (offset % 8);
    }

    /// Whether `offset` is in the set.
    pub fn contains(&self, offset: usize) -> bool {
        self.0
            .get(offset / 8)
            .is_some_and(|b| b & (1 << (offset % 8)) != 0)
    }

    /// How many offsets are in the set.
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One past the highest offset in the set (0 when empty).
    pub fn end(&self) -> usize {
        self.0
            .last()
            .map_or(0, |b| self.0.len() * 8 - b.leading_zeros() as usize)
    }

    /// The offsets in the set, ascending.
    pub fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.end()).filter(|i| self.contains(*i))
    }

    fn parse_hex(hex: &str) -> Result<Bitmap, ParseError> {
        if hex.is_empty() {
            return Err(ParseError::EmptyBitmap);
        }
        if !hex.len().is_multiple_of(2) {
            return Err(ParseError::OddBitmapLength { len: hex.len() });
        }
        let digit = |at: usize| -> Result<u8, ParseError> {
            let c = hex.as_bytes()[at];
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err(ParseError::BitmapDigit {
                    at,
                    // Every byte before `at` is an ASCII digit, so `at` is a char boundary.
                    found: hex
                        .get(at..)
                        .and_then(|s| s.chars().next())
                        .unwrap_or(char::REPLACEMENT_CHARACTER),
                }),
            }
        };
        let mut bytes = (0..hex.len())
            .step_by(2)
            .map(|at| Ok(digit(at)? << 4 | digit(at + 1)?))
            .collect::<Result<Vec<u8>, ParseError>>()?;
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        Ok(Bitmap(bytes))
    }
}

impl fmt::Display for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Where a shard's consumer stands: everything up to and including `sequence_number` is
/// resolved, and so is every record after it whose offset is in `resolved_after`, offsets
/// counting from the record `first_after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub sequence_number: String,
    /// The sequence number of the record at offset 0 of `resolved_after`: what a resume must read
    /// first after `sequence_number` to trust the bitmap. None when the bitmap is empty, or was
    /// stored without it (then it is not written back, and a resume ignores it).
    pub first_after: Option<String>,
    pub resolved_after: Bitmap,
}

/// Why a resume does not trust a stored bitmap: every record after S is sent again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error(
        "the first record read after the checkpoint is {found}, not {expected} as when its bitmap \
         was stored (was the shard trimmed past the checkpoint?)"
    )]
    FirstRecord { expected: String, found: String },
    #[error("the bitmap was stored without the sequence number of the first record after it")]
    Unguarded,
}

/// Whether a bitmap whose offset 0 was the record `expected` (None: not stored) counts the
/// records of a resume whose first record read after the base is `found`.
pub fn check_first_after(expected: Option<&str>, found: &str) -> Result<(), Mismatch> {
    match expected {
        Some(expected) if expected == found => Ok(()),
        Some(expected) => Err(Mismatch::FirstRecord {
            expected: expected.to_owned(),
            found: found.to_owned(),
        }),
        None => Err(Mismatch::Unguarded),
    }
}

/// A stored position that cannot be read back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the sequence number before `+` is empty")]
    EmptySequenceNumber,
    #[error(
        "the sequence number of the first record after the base (between the two `+`) is empty"
    )]
    EmptyFirstAfter,
    #[error("the bitmap after `+` is empty")]
    EmptyBitmap,
    #[error("the bitmap has {len} hex digits, not a whole number of bytes")]
    OddBitmapLength { len: usize },
    #[error("the bitmap has {found:?} at digit {at}, not a lowercase hex digit")]
    BitmapDigit { at: usize, found: char },
}

impl Position {
    /// Right after `sequence_number`, with nothing after it known to be resolved.
    pub fn at(sequence_number: impl Into<String>) -> Position {
        Position {
            sequence_number: sequence_number.into(),
            first_after: None,
            resolved_after: Bitmap::default(),
        }
    }

    /// After `sequence_number`, with the records at `resolved_after`'s offsets counted from
    /// `first_after` resolved too (no F when the bitmap is empty, so equal positions are equal).
    pub fn new(
        sequence_number: impl Into<String>,
        first_after: impl Into<String>,
        resolved_after: Bitmap,
    ) -> Position {
        Position {
            sequence_number: sequence_number.into(),
            first_after: (!resolved_after.is_empty()).then(|| first_after.into()),
            resolved_after,
        }
    }

    /// Reads `<S>`, `<S>+<F>+<hex>`, or `<S>+<hex>` (unreleased, no F: its bitmap is kept to be
    /// reported, but never trusted).
    pub fn parse(stored: &str) -> Result<Position, ParseError> {
        let mut parts = stored.splitn(3, SEPARATOR);
        let sequence_number = parts.next().unwrap_or_default();
        let (first_after, resolved_after) = match (parts.next(), parts.next()) {
            (None, _) => (None, Bitmap::default()),
            (Some(hex), None) => (None, Bitmap::parse_hex(hex)?),
            (Some(first), Some(hex)) => {
                if first.is_empty() {
                    return Err(ParseError::EmptyFirstAfter);
                }
                let bitmap = Bitmap::parse_hex(hex)?;
                ((!bitmap.is_empty()).then(|| first.to_owned()), bitmap)
            }
        };
        if sequence_number.is_empty() {
            return Err(ParseError::EmptySequenceNumber);
        }
        Ok(Position {
            sequence_number: sequence_number.to_owned(),
            first_after,
            resolved_after,
        })
    }
}

/// `<S>`, or `<S>+<F>+<hex>` when some records after S are resolved (a bitmap without F is left
/// out: no resume would trust it).
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sequence_number)?;
        if let Some(first) = &self.first_after
            && !self.resolved_after.is_empty()
        {
            write!(f, "{SEPARATOR}{first}{SEPARATOR}{}", self.resolved_after)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_format_is_a_position_without_bitmap() {
        let p = Position::parse("49590338271490256608559692538361571095921575989136588898")
            .expect("parses");
        assert_eq!(
            p,
            Position::at("49590338271490256608559692538361571095921575989136588898")
        );
        assert_eq!(
            p.to_string(),
            "49590338271490256608559692538361571095921575989136588898",
            "written back in the old format"
        );
    }

    #[test]
    fn bitmap_round_trips_least_significant_bit_first() {
        let p = Position::new("12", "13", Bitmap::from_offsets([1, 2, 8, 23]));
        // Byte 0: bits 1 and 2 -> 0x06; byte 1: bit 0 -> 0x01; byte 2: bit 7 -> 0x80.
        assert_eq!(p.to_string(), "12+13+060180");
        assert_eq!(Position::parse("12+13+060180"), Ok(p.clone()));
        assert_eq!(p.first_after.as_deref(), Some("13"));
        assert_eq!(p.resolved_after.count(), 4);
        assert_eq!(p.resolved_after.end(), 24);
        assert_eq!(
            p.resolved_after.offsets().collect::<Vec<_>>(),
            vec![1, 2, 8, 23]
        );
        assert!(p.resolved_after.contains(8) && !p.resolved_after.contains(9));
    }

    #[test]
    fn trailing_zero_bytes_are_trimmed() {
        let p = Position::parse("7+8+0300").expect("parses");
        assert_eq!(p, Position::new("7", "8", Bitmap::from_offsets([0, 1])));
        assert_eq!(p.to_string(), "7+8+03");
        let empty = Position::parse("7+8+0000").expect("parses");
        assert_eq!(empty, Position::at("7"), "an all-zero bitmap is no bitmap");
        assert_eq!(empty.to_string(), "7");
        assert_eq!(
            Position::new("7", "8", Bitmap::default()),
            Position::at("7")
        );
    }

    #[test]
    fn a_bitmap_without_its_first_record_parses_but_is_not_written_back() {
        // The form of an unreleased build: `<S>+<hex>`.
        let p = Position::parse("12+060180").expect("parses");
        assert_eq!(p.sequence_number, "12");
        assert_eq!(p.first_after, None);
        assert_eq!(p.resolved_after, Bitmap::from_offsets([1, 2, 8, 23]));
        assert_eq!(p.to_string(), "12", "an unguarded bitmap is dropped");
        assert_eq!(
            check_first_after(p.first_after.as_deref(), "13"),
            Err(Mismatch::Unguarded)
        );
    }

    #[test]
    fn a_bitmap_is_trusted_only_when_the_first_record_read_is_its_offset_0() {
        assert_eq!(check_first_after(Some("13"), "13"), Ok(()));
        assert_eq!(
            check_first_after(Some("13"), "57"),
            Err(Mismatch::FirstRecord {
                expected: "13".into(),
                found: "57".into()
            }),
            "the shard was trimmed past S: offsets would name other records"
        );
        assert_eq!(check_first_after(None, "13"), Err(Mismatch::Unguarded));
    }

    #[test]
    fn malformed_positions_are_errors() {
        assert_eq!(Position::parse("+01"), Err(ParseError::EmptySequenceNumber));
        assert_eq!(
            Position::parse("+1+01"),
            Err(ParseError::EmptySequenceNumber)
        );
        assert_eq!(Position::parse(""), Err(ParseError::EmptySequenceNumber));
        assert_eq!(Position::parse("5+"), Err(ParseError::EmptyBitmap));
        assert_eq!(Position::parse("5+6+"), Err(ParseError::EmptyBitmap));
        assert_eq!(Position::parse("5++01"), Err(ParseError::EmptyFirstAfter));
        assert_eq!(
            Position::parse("5+123"),
            Err(ParseError::OddBitmapLength { len: 3 })
        );
        assert_eq!(
            Position::parse("5+6+123"),
            Err(ParseError::OddBitmapLength { len: 3 })
        );
        assert_eq!(
            Position::parse("5+0g"),
            Err(ParseError::BitmapDigit { at: 1, found: 'g' })
        );
        assert_eq!(
            Position::parse("5+6+0A"),
            Err(ParseError::BitmapDigit { at: 1, found: 'A' }),
            "we only write lowercase"
        );
        assert_eq!(
            Position::parse("5+6+01+2"),
            Err(ParseError::BitmapDigit { at: 2, found: '+' })
        );
        assert_eq!(
            Position::parse("5+é"),
            Err(ParseError::BitmapDigit { at: 0, found: 'é' })
        );
    }
}

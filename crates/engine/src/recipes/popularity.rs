//! aws-popularity-count: items ranked by their number of unique users.

use crate::corpus::Sequence;

/// Unique users per item (sequences hold each item once per user).
pub(crate) fn unique_users(n_items: usize, seqs: &[Sequence]) -> Vec<f32> {
    let mut counts = vec![0.0f32; n_items];
    for seq in seqs {
        for &(i, _) in seq {
            counts[i as usize] += 1.0;
        }
    }
    counts
}

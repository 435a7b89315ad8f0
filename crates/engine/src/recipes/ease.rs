//! EASE (Steck 2019): a closed-form item-item linear model, `B = I - P / diag(P)` with
//! `P = (X^T X + lambda I)^-1`. Dense `n x n`: used only when that fits the memory budget.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::{MatMut, MatRef};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::corpus::Sequence;

/// Bytes EASE needs at its peak while fitting `n` items, all f32: the Cholesky factor (the Gram
/// matrix factored in place), the inverse (which becomes the served weights in place) and
/// faer's n x n scratch for the inversion: 3 x 4 n^2.
pub(crate) fn fit_bytes(n: usize) -> u128 {
    12 * (n as u128) * (n as u128)
}

/// The fitted item-item weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ease {
    n: usize,
    /// Row-major `n x n`: row `i` holds what history item `i` adds to every item's score.
    b: Vec<f32>,
}

/// Item-to-users adjacency of the training sequences.
pub(crate) fn item_users(n_items: usize, seqs: &[Sequence]) -> Vec<Vec<u32>> {
    let mut by_item: Vec<Vec<u32>> = vec![Vec::new(); n_items];
    for (u, seq) in seqs.iter().enumerate() {
        for &(i, _) in seq {
            by_item[i as usize].push(u as u32);
        }
    }
    by_item
}

impl Ease {
    pub(crate) fn fit(n: usize, seqs: &[Sequence], lambda: f64) -> Result<Ease, TrainError> {
        let by_item = item_users(n, seqs);
        let stride = n.max(1);
        // Gram matrix X^T X + lambda I, one column per task (integer counts: exact, so the
        // result does not depend on the thread count).
        let mut a = vec![0.0f32; n * n];
        a.par_chunks_mut(stride).enumerate().for_each(|(i, col)| {
            for &u in &by_item[i] {
                for &(j, _) in &seqs[u as usize] {
                    col[j as usize] += 1.0;
                }
            }
            col[i] += lambda as f32;
        });
        let par = faer::get_global_parallelism();
        llt::factor::cholesky_in_place(
            MatMut::from_column_major_slice_mut(&mut a, n, n),
            Default::default(),
            par,
            MemStack::new(&mut MemBuffer::new(
                llt::factor::cholesky_in_place_scratch::<f32>(n, par, Default::default()),
            )),
            Default::default(),
        )
        .map_err(|e| TrainError::Numerical {
            step: "EASE Cholesky factorisation".to_owned(),
            detail: format!("{e:?}"),
        })?;
        // P = (X^T X + lambda I)^-1; faer writes its lower triangle.
        let mut p = vec![0.0f32; n * n];
        llt::inverse::inverse(
            MatMut::from_column_major_slice_mut(&mut p, n, n),
            MatRef::from_column_major_slice(&a, n, n),
            par,
            MemStack::new(&mut MemBuffer::new(llt::inverse::inverse_scratch::<f32>(
                n, par,
            ))),
        );
        drop(a);
        for j in 0..n {
            for i in j + 1..n {
                p[i * n + j] = p[j * n + i];
            }
        }
        let diag: Vec<f32> = (0..n).map(|j| p[j * n + j]).collect();
        // B[i, j] = -P[i, j] / P[j, j], zero diagonal; column i of P (= row i, P is symmetric)
        // becomes row i of B in place.
        p.par_chunks_mut(stride).enumerate().for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if j == i { 0.0 } else { -*v / diag[j] };
            }
        });
        Ok(Ease { n, b: p })
    }

    /// `out[j] += sum_k weights[k] * B[history[k], j]`.
    pub(crate) fn score(&self, history: &[u32], weights: &[f32], out: &mut [f32]) {
        let n = self.n;
        let row = |h: u32| &self.b[h as usize * n..h as usize * n + n];
        let out = &mut out[..n];
        // Four rows per pass over `out`: a quarter of the loads and stores of `out`.
        let mut quads = history.chunks_exact(4).zip(weights.chunks_exact(4));
        for (h, w) in &mut quads {
            let (r0, r1, r2, r3) = (row(h[0]), row(h[1]), row(h[2]), row(h[3]));
            for ((((o, a), b), c), d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                *o += w[0] * a + w[1] * b + w[2] * c + w[3] * d;
            }
        }
        let done = history.len() - history.len() % 4;
        for (&h, &w) in history[done..].iter().zip(&weights[done..]) {
            for (o, &v) in out.iter_mut().zip(row(h)) {
                *o += w * v;
            }
        }
    }
}

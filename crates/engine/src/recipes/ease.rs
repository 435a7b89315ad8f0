//! EASE (Steck 2019): a closed-form item-item linear model, `B = I - P / diag(P)` with
//! `P = (X^T X + lambda I)^-1`. Dense `n x n`: used only when that fits the memory budget.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::traits::pulp::{Arch, Simd, WithSimd};
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

    /// The weights over a new item list: `old_of[j]` is new item `j`'s index here, if any;
    /// rows and columns of new items are zero.
    pub(crate) fn remap(&self, old_of: &[Option<u32>]) -> Ease {
        let n = old_of.len();
        let mut b = vec![0.0f32; n * n];
        b.par_chunks_mut(n.max(1))
            .zip(old_of)
            .for_each(|(row, old_row)| {
                let Some(i) = *old_row else { return };
                let src = &self.b[i as usize * self.n..(i as usize + 1) * self.n];
                for (v, old_col) in row.iter_mut().zip(old_of) {
                    if let Some(j) = *old_col {
                        *v = src[j as usize];
                    }
                }
            });
        Ease { n, b }
    }

    /// `out[j] += sum_k weights[k] * B[history[k], j]`.
    pub(crate) fn score(&self, history: &[u32], weights: &[f32], out: &mut [f32]) {
        Arch::new().dispatch(AddRows {
            b: &self.b,
            n: self.n,
            history,
            weights,
            out,
        });
    }
}

/// The EASE scoring loop, compiled for the widest SIMD the CPU has (AVX2/AVX-512 with FMA,
/// chosen at run time by pulp, which faer already uses) rather than the baseline SSE2: this is
/// the request-time hot loop, memory bound on the rows of `B` it reads.
struct AddRows<'a> {
    b: &'a [f32],
    n: usize,
    history: &'a [u32],
    weights: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for AddRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let AddRows {
            b,
            n,
            history,
            weights,
            out,
        } = self;
        let row = |h: u32| &b[h as usize * n..h as usize * n + n];
        let out = &mut out[..n];
        let (out_v, out_tail) = S::as_mut_simd_f32s(out);
        // Four rows per pass over `out`: a quarter of the loads and stores of `out`.
        let mut quads = history.chunks_exact(4).zip(weights.chunks_exact(4));
        for (h, w) in &mut quads {
            let (r0, r0t) = S::as_simd_f32s(row(h[0]));
            let (r1, r1t) = S::as_simd_f32s(row(h[1]));
            let (r2, r2t) = S::as_simd_f32s(row(h[2]));
            let (r3, r3t) = S::as_simd_f32s(row(h[3]));
            let (w0, w1, w2, w3) = (
                simd.splat_f32s(w[0]),
                simd.splat_f32s(w[1]),
                simd.splat_f32s(w[2]),
                simd.splat_f32s(w[3]),
            );
            for ((((o, &a), &b), &c), &d) in out_v.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                let acc = simd.mul_add_f32s(w0, a, *o);
                let acc = simd.mul_add_f32s(w1, b, acc);
                let acc = simd.mul_add_f32s(w2, c, acc);
                *o = simd.mul_add_f32s(w3, d, acc);
            }
            for ((((o, a), b), c), d) in out_tail.iter_mut().zip(r0t).zip(r1t).zip(r2t).zip(r3t) {
                *o += w[0] * a + w[1] * b + w[2] * c + w[3] * d;
            }
        }
        let done = history.len() - history.len() % 4;
        for (&h, &w) in history[done..].iter().zip(&weights[done..]) {
            let (r, rt) = S::as_simd_f32s(row(h));
            let wv = simd.splat_f32s(w);
            for (o, &v) in out_v.iter_mut().zip(r) {
                *o = simd.mul_add_f32s(wv, v, *o);
            }
            for (o, &v) in out_tail.iter_mut().zip(rt) {
                *o += w * v;
            }
        }
    }
}

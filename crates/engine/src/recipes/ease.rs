//! EASE (Steck 2019): a closed-form item-item linear model, `B = I - P / diag(P)` with
//! `P = (X^T X + lambda I)^-1`. Dense `n x n`: used only when that fits the memory budget.

use std::sync::OnceLock;

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
    /// What requests read: `b` in 8 bits, built on first use (not stored).
    #[serde(skip)]
    served: OnceLock<Quantized>,
}

/// `b` with each row stored as `i8` times a per-row scale (the row's largest magnitude over
/// `i8::MAX`): a quarter of the bytes a request reads. Scoring waits on those bytes (a long
/// history reads hundreds of rows, from memory rather than cache under load), and each weight
/// is off by at most half a step, 1/254 of its row's largest, which leaves rankings as they
/// were (`make bench-quality`: NDCG@10 0.1662 vs 0.1656 with `f32`).
#[derive(Debug, Clone)]
struct Quantized {
    q: Vec<i8>,
    scale: Vec<f32>,
}

impl Quantized {
    fn new(n: usize, b: &[f32]) -> Quantized {
        let mut q = vec![0i8; b.len()];
        let mut scale = vec![0.0f32; n];
        q.par_chunks_mut(n.max(1))
            .zip(b.par_chunks(n.max(1)))
            .zip(scale.par_iter_mut())
            .for_each(|((q, row), scale)| {
                let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                if max > 0.0 && max.is_finite() {
                    *scale = max / f32::from(i8::MAX);
                    for (q, v) in q.iter_mut().zip(row) {
                        *q = (v / *scale).round() as i8;
                    }
                }
            });
        Quantized { q, scale }
    }
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
    fn new(n: usize, b: Vec<f32>) -> Ease {
        Ease {
            n,
            b,
            served: OnceLock::new(),
        }
    }

    /// Fits on `seqs`; with `weights` (`eventsConfig`, see `Algorithm::fit_weighted`) the
    /// user-item matrix `X` holds each interaction's weight instead of 1.
    pub(crate) fn fit(
        n: usize,
        seqs: &[Sequence],
        weights: Option<&[Vec<f32>]>,
        lambda: f64,
    ) -> Result<Ease, TrainError> {
        let by_item = item_users(n, seqs);
        let stride = n.max(1);
        // Gram matrix X^T X + lambda I, one column per task (unweighted: integer counts, exact;
        // weighted: each column summed in one fixed order), so the result does not depend on
        // the thread count.
        let mut a = vec![0.0f32; n * n];
        a.par_chunks_mut(stride)
            .enumerate()
            .for_each(|(i, col)| match weights {
                None => {
                    for &u in &by_item[i] {
                        for &(j, _) in &seqs[u as usize] {
                            col[j as usize] += 1.0;
                        }
                    }
                    col[i] += lambda as f32;
                }
                Some(_) => {
                    for &u in &by_item[i] {
                        let seq = &seqs[u as usize];
                        let at = |k: usize| super::event_weight(weights, u as usize, k);
                        let wi = seq
                            .iter()
                            .position(|&(j, _)| j as usize == i)
                            .map_or(0.0, at);
                        for (k, &(j, _)) in seq.iter().enumerate() {
                            col[j as usize] += wi * at(k);
                        }
                    }
                    col[i] += lambda as f32;
                }
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
        Ok(Ease::new(n, p))
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
        Ease::new(n, b)
    }

    /// `out[j] += sum_k weights[k] * B[history[k], j]`.
    pub(crate) fn score(&self, history: &[u32], weights: &[f32], out: &mut [f32]) {
        let served = self.served.get_or_init(|| Quantized::new(self.n, &self.b));
        // Each row's scale folds into its weight.
        let weights: Vec<f32> = history
            .iter()
            .zip(weights)
            .map(|(&h, &w)| w * served.scale[h as usize])
            .collect();
        Arch::new().dispatch(AddRows {
            q: &served.q,
            n: self.n,
            history,
            weights: &weights,
            out,
        });
    }
}

/// The EASE scoring loop, compiled for the widest SIMD the CPU has (AVX2/AVX-512 with FMA,
/// chosen at run time by pulp, which faer already uses) rather than the baseline SSE2: this is
/// the request-time hot loop. Plain indexed loops: under the dispatched target features the
/// compiler vectorises the i8 to f32 widening and turns `mul_add` into FMA instructions.
struct AddRows<'a> {
    q: &'a [i8],
    n: usize,
    history: &'a [u32],
    weights: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for AddRows<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let AddRows {
            q,
            n,
            history,
            weights,
            out,
        } = self;
        let row = |h: u32| &q[h as usize * n..h as usize * n + n];
        let out = &mut out[..n];
        // Four rows per pass over `out`: a quarter of the loads and stores of `out`.
        let mut quads = history.chunks_exact(4).zip(weights.chunks_exact(4));
        for (h, w) in &mut quads {
            let (r0, r1, r2, r3) = (row(h[0]), row(h[1]), row(h[2]), row(h[3]));
            for j in 0..n {
                let acc = w[0].mul_add(f32::from(r0[j]), out[j]);
                let acc = w[1].mul_add(f32::from(r1[j]), acc);
                let acc = w[2].mul_add(f32::from(r2[j]), acc);
                out[j] = w[3].mul_add(f32::from(r3[j]), acc);
            }
        }
        let done = history.len() - history.len() % 4;
        for (&h, &w) in history[done..].iter().zip(&weights[done..]) {
            let r = row(h);
            for j in 0..n {
                out[j] = w.mul_add(f32::from(r[j]), out[j]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_weights_score_like_the_fitted_ones() {
        // 40 users over 30 items, some items never seen (zero rows).
        let seqs: Vec<Sequence> = (0..40u32)
            .map(|u| {
                (0..8u32)
                    .map(|k| ((u * 7 + k * (1 + u % 3)) % 27, i64::from(k)))
                    .collect()
            })
            .collect();
        let ease = Ease::fit(30, &seqs, None, 5.0).expect("fits");
        let history = [3u32, 28, 11, 5, 20, 0, 17];
        let weights = [0.5f32, 1.0, 0.9, 0.7, 0.3, 1.0, 0.2];
        let mut served = vec![0.0f32; 30];
        ease.score(&history, &weights, &mut served);
        let mut exact = vec![0.0f32; 30];
        for (&h, &w) in history.iter().zip(&weights) {
            for (o, &b) in exact
                .iter_mut()
                .zip(&ease.b[h as usize * 30..(h as usize + 1) * 30])
            {
                *o += w * b;
            }
        }
        let largest = exact.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(largest > 0.0);
        for (s, e) in served.iter().zip(&exact) {
            // Seven rows, each weight off by at most 1/254 of its row's largest.
            assert!((s - e).abs() <= 7.0 / 254.0 * largest, "{s} vs {e}");
        }
        assert_eq!(served[28], exact[28], "an unseen item scores zero in both");
    }
}

//! Implicit ALS (Hu, Koren, Volinsky 2008): user and item factors fitted by alternating least
//! squares with confidence `1 + alpha * w` on observed items. Each row is updated with a few
//! conjugate-gradient steps warm-started from its previous value (Takacs, Pilaszy, Tikk 2011:
//! O(nnz * f) per step instead of O(nnz * f^2)); a request-time fold-in uses the exact solve.
//! Memory is linear in users + items, so it serves catalogs too large for a dense item-item model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::Sequence;
use crate::recipes::SessionItem;
use crate::rng::SplitMix64;

/// iALS settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct IalsParams {
    pub(crate) factors: usize,
    pub(crate) regularization: f64,
    pub(crate) alpha: f64,
    pub(crate) iterations: usize,
    /// Conjugate-gradient steps per row and iteration.
    pub(crate) cg_steps: usize,
    /// Confidence weight of a user's k-th newest item is `0.2 + 0.8 * decay^k`.
    pub(crate) training_recency_decay: f64,
}

/// The fitted item factors (user factors are recomputed from the history at request time).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ials {
    f: usize,
    reg: f64,
    alpha: f64,
    /// Row-major `n_items x f`.
    y: Vec<f32>,
    /// `Y^T Y`, row-major `f x f`.
    yty: Vec<f64>,
}

/// Gram matrix `M^T M` of a row-major `rows x f` matrix. Partial sums over a fixed number of
/// row blocks run in parallel and are added in block order, so the result does not depend on
/// the thread count.
fn gram(m: &[f32], f: usize) -> Vec<f64> {
    const BLOCKS: usize = 32;
    let rows = m.len() / f.max(1);
    let block_rows = rows.div_ceil(BLOCKS).max(1);
    let partials: Vec<Vec<f64>> = m
        .par_chunks(block_rows * f)
        .map(|block| {
            let mut g = vec![0.0f64; f * f];
            let mut row64 = vec![0.0f64; f];
            for row in block.chunks_exact(f) {
                for (d, &v) in row64.iter_mut().zip(row) {
                    *d = f64::from(v);
                }
                for a in 0..f {
                    let ra = row64[a];
                    for (gb, &rb) in g[a * f..a * f + a + 1].iter_mut().zip(&row64[..=a]) {
                        *gb += ra * rb;
                    }
                }
            }
            g
        })
        .collect();
    let mut g = vec![0.0f64; f * f];
    for part in partials {
        for (x, y) in g.iter_mut().zip(part) {
            *x += y;
        }
    }
    for a in 0..f {
        for b in 0..a {
            g[b * f + a] = g[a * f + b];
        }
    }
    g
}

/// Solves one row: `(G + sum (c-1) v v^T + reg I) x = sum c v` over the given (factor vector
/// `v`, weight), `c = 1 + alpha * weight`.
fn solve_row<'a>(
    g: &[f64],
    f: usize,
    reg: f64,
    alpha: f64,
    entries: impl Iterator<Item = (&'a [f32], f32)>,
    out: &mut [f32],
) {
    let mut a = g.to_vec();
    let mut rhs = vec![0.0f64; f];
    for (v, w) in entries {
        let c = 1.0 + alpha * f64::from(w);
        for p in 0..f {
            let vp = f64::from(v[p]);
            rhs[p] += c * vp;
            let ap = &mut a[p * f..p * f + f];
            for q in 0..=p {
                ap[q] += (c - 1.0) * vp * f64::from(v[q]);
            }
        }
    }
    for p in 0..f {
        a[p * f + p] += reg;
    }
    cholesky_solve(&mut a, &mut rhs, f);
    for (o, r) in out.iter_mut().zip(&rhs) {
        *o = *r as f32;
    }
}

/// Dot product with eight independent accumulators, so it compiles to SIMD.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `y += a * x`.
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// Improves `x` towards the solution of the same system as [`solve_row`] with `steps`
/// conjugate-gradient steps, in f32 (`g` is `f x f` and already includes `reg` on its diagonal).
fn cg_row(
    g: &[f32],
    other: &[f32],
    f: usize,
    alpha: f32,
    entries: &[(u32, f32)],
    steps: usize,
    x: &mut [f32],
) {
    let vec_of = |idx: u32| &other[idx as usize * f..idx as usize * f + f];
    // r = b - A x
    let mut r: Vec<f32> = (0..f).map(|a| -dot(&g[a * f..a * f + f], x)).collect();
    for &(idx, w) in entries {
        let c = 1.0 + alpha * w;
        let v = vec_of(idx);
        axpy(c - (c - 1.0) * dot(v, x), v, &mut r);
    }
    let mut p = r.clone();
    let mut rs_old = dot(&r, &r);
    let mut ap = vec![0.0f32; f];
    for _ in 0..steps {
        if rs_old < 1e-12 {
            break;
        }
        for (a, out) in ap.iter_mut().enumerate() {
            *out = dot(&g[a * f..a * f + f], &p);
        }
        for &(idx, w) in entries {
            let v = vec_of(idx);
            axpy(alpha * w * dot(v, &p), v, &mut ap);
        }
        let step = rs_old / dot(&p, &ap);
        axpy(step, &p, x);
        axpy(-step, &ap, &mut r);
        let rs_new = dot(&r, &r);
        let beta = rs_new / rs_old;
        for (pi, ri) in p.iter_mut().zip(&r) {
            *pi = ri + beta * *pi;
        }
        rs_old = rs_new;
    }
}

/// Solves `A x = b` in place for a symmetric positive definite `A` (lower triangle used).
fn cholesky_solve(a: &mut [f64], b: &mut [f64], f: usize) {
    for j in 0..f {
        let mut d = a[j * f + j];
        for k in 0..j {
            d -= a[j * f + k] * a[j * f + k];
        }
        let d = d.max(1e-12).sqrt();
        a[j * f + j] = d;
        for i in j + 1..f {
            let mut s = a[i * f + j];
            for k in 0..j {
                s -= a[i * f + k] * a[j * f + k];
            }
            a[i * f + j] = s / d;
        }
    }
    for i in 0..f {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * f + k] * b[k];
        }
        b[i] = s / a[i * f + i];
    }
    for i in (0..f).rev() {
        let mut s = b[i];
        for k in i + 1..f {
            s -= a[k * f + i] * b[k];
        }
        b[i] = s / a[i * f + i];
    }
}

impl Ials {
    /// The factors over a new item list: `old_of[j]` is new item `j`'s index here, if any;
    /// new items get zero factors (so `Y^T Y` is unchanged).
    pub(crate) fn remap(&self, old_of: &[Option<u32>]) -> Ials {
        let f = self.f;
        let mut y = vec![0.0f32; old_of.len() * f];
        for (row, old) in y.chunks_exact_mut(f.max(1)).zip(old_of) {
            if let Some(i) = *old {
                row.copy_from_slice(&self.y[i as usize * f..(i as usize + 1) * f]);
            }
        }
        Ials {
            f,
            reg: self.reg,
            alpha: self.alpha,
            y,
            yty: self.yty.clone(),
        }
    }

    /// Fits on sequences; `weights[u][k]` is the weight of `seqs[u][k]`.
    pub(crate) fn fit(
        n_items: usize,
        seqs: &[Sequence],
        weights: &[Vec<f32>],
        params: IalsParams,
        seed: u64,
    ) -> Ials {
        let f = params.factors.max(1);
        let mut rng = SplitMix64::new(seed ^ 0x1A15);
        let scale = 0.1 / (f as f64).sqrt();
        let mut y: Vec<f32> = (0..n_items * f)
            .map(|_| ((rng.next_f64() - 0.5) * 2.0 * scale) as f32)
            .collect();
        let mut x = vec![0.0f32; seqs.len() * f];
        // User -> (item, weight) and item -> (user, weight) adjacency.
        let by_user: Vec<Vec<(u32, f32)>> = seqs
            .iter()
            .zip(weights)
            .map(|(seq, w)| seq.iter().zip(w).map(|(&(i, _), &wk)| (i, wk)).collect())
            .collect();
        let mut by_item: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
        for (u, entries) in by_user.iter().enumerate() {
            for &(i, w) in entries {
                by_item[i as usize].push((u as u32, w));
            }
        }
        let with_reg = |g: Vec<f64>| -> Vec<f32> {
            let mut g: Vec<f32> = g.into_iter().map(|v| v as f32).collect();
            for a in 0..f {
                g[a * f + a] += params.regularization as f32;
            }
            g
        };
        let steps = params.cg_steps.max(1);
        for _ in 0..params.iterations {
            let g = with_reg(gram(&y, f));
            x.par_chunks_mut(f).enumerate().for_each(|(u, out)| {
                cg_row(&g, &y, f, params.alpha as f32, &by_user[u], steps, out);
            });
            let g = with_reg(gram(&x, f));
            y.par_chunks_mut(f).enumerate().for_each(|(i, out)| {
                cg_row(&g, &x, f, params.alpha as f32, &by_item[i], steps, out);
            });
        }
        let yty = gram(&y, f);
        Ials {
            f,
            reg: params.regularization,
            alpha: params.alpha,
            y,
            yty,
        }
    }

    /// Item `j`'s factors.
    fn row(&self, j: u32) -> &[f32] {
        &self.y[j as usize * self.f..(j as usize + 1) * self.f]
    }

    /// `out[j] += <x_u, y_j>` where `x_u` is folded in from the weighted history.
    pub(crate) fn score(&self, history: &[u32], weights: &[f32], out: &mut [f32]) {
        let entries = history.iter().zip(weights).map(|(&h, &w)| (self.row(h), w));
        self.add_folded_in(entries, out);
    }

    /// [`Ials::score`] for a session that may hold cold items: a mix is folded in as one
    /// observation whose factors are the weighted sum of its items' factors.
    pub(crate) fn score_session(
        &self,
        session: &[SessionItem<'_>],
        weights: &[f32],
        out: &mut [f32],
    ) {
        let mixes: Vec<Vec<f32>> = session
            .iter()
            .filter_map(|entry| match *entry {
                SessionItem::Item(_) => None,
                SessionItem::Mix { items, weights } => {
                    let mut v = vec![0.0f32; self.f];
                    for (&j, &share) in items.iter().zip(weights) {
                        v.iter_mut()
                            .zip(self.row(j))
                            .for_each(|(x, y)| *x += share * y);
                    }
                    Some(v)
                }
            })
            .collect();
        let mut mixes = mixes.iter();
        let entries = session.iter().zip(weights).filter_map(|(entry, &w)| {
            let v: &[f32] = match *entry {
                SessionItem::Item(i) => self.row(i),
                SessionItem::Mix { .. } => mixes.next()?,
            };
            Some((v, w))
        });
        self.add_folded_in(entries, out);
    }

    /// `out[j] += <x_u, y_j>` for the user folded in from (factor vector, weight) observations.
    fn add_folded_in<'a>(&self, entries: impl Iterator<Item = (&'a [f32], f32)>, out: &mut [f32]) {
        let mut xu = vec![0.0f32; self.f];
        solve_row(&self.yty, self.f, self.reg, self.alpha, entries, &mut xu);
        for (o, yj) in out.iter_mut().zip(self.y.chunks_exact(self.f)) {
            *o += dot(&xu, yj);
        }
    }
}

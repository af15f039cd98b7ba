//! Two principal components by power iteration on the sparse, mean-filled votes, and the
//! projections of participants and statements (docs/opinion.md §4 and §5).
//!
//! Missing cells are filled with their column mean, so after centring they are exactly 0: the
//! centred matrix D has the same sparsity as the votes and `Dᵀ(D v)` costs one pass over them.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::matrix::VoteMatrix;
use super::rng;

/// Rows per parallel work item. Fixed (not derived from the thread count) so that partial sums
/// are always added in the same order and results are bit-identical on any machine.
pub(crate) const ROW_CHUNK: usize = 2048;

/// The reference power iteration stops early once the component moves less than this
/// (max-norm).
const CONVERGED: f64 = 1e-12;

/// The orthogonal iteration stops once both components move less than this (max-norm). Its
/// error is then about this size too, ten thousand times below anything the k-means after it
/// (stopping at centre moves of 0.01) can tell apart. 1e−9 cost a warm update after 1,000 votes
/// twice the passes (11 instead of 6 on the 33k benchmark) and changed no group: the cold, replay
/// and 1 % ARI of every shared Pol.is conversation are the same to three decimals with 1e−6
/// (docs/opinion.md §4).
const RITZ_CONVERGED: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Column means of the observed votes (0 for excluded or unvoted columns).
    pub center: Vec<f64>,
    pub components: [Vec<f64>; 2],
    /// Power iterations used per component.
    pub iterations: [usize; 2],
}

/// `d(i, j) = x_ij − c_j` for kept columns and 0 for excluded ones, as a 3-entry table per
/// column indexed by vote + 1.
fn centred_table(m: &VoteMatrix, center: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0; 3 * m.n_cols()];
    for j in 0..m.n_cols() {
        if !m.excluded[j] {
            for v in 0..3 {
                t[3 * j + v] = (v as f64 - 1.0) - center[j];
            }
        }
    }
    t
}

/// Column means of the observed votes (0 for excluded or unvoted columns), from the counts the
/// matrix keeps.
pub fn column_means(m: &VoteMatrix) -> Vec<f64> {
    m.value_counts()
        .iter()
        .enumerate()
        .map(|(j, &[nd, np, na])| {
            let count = u64::from(nd) + u64::from(np) + u64::from(na);
            if m.excluded[j] || count == 0 {
                0.0
            } else {
                (i64::from(na) - i64::from(nd)) as f64 / count as f64
            }
        })
        .collect()
}

/// A component already found, removed from the data by deflation:
/// `D' = D − (D v)(v)ᵀ / (v·v)`.
struct Deflation<'a> {
    v: &'a [f64],
    dv: &'a [f64],
    vv: f64,
}

/// The centred matrix D in the form the power iteration streams fastest: per vote one `u32`
/// key `3·column + vote + 1` into a per-column table of the three possible centred values.
struct Centred<'a> {
    m: &'a VoteMatrix,
    table: Vec<f64>,
    keys: Vec<u32>,
}

impl<'a> Centred<'a> {
    fn new(m: &'a VoteMatrix, center: &[f64]) -> Self {
        let keys = m
            .cols
            .par_iter()
            .zip(m.values.par_iter())
            .map(|(&c, &x)| 3 * c + (x + 1) as u32)
            .collect();
        Self {
            m,
            table: centred_table(m, center),
            keys,
        }
    }

    fn row_keys(&self, r: usize) -> &[u32] {
        &self.keys[self.m.row_ptr[r]..self.m.row_ptr[r + 1]]
    }

    /// `table[key] · w[column]` for every key: one lookup per vote in the row products.
    fn weighted_table(&self, w: &[f64]) -> Vec<f64> {
        self.table
            .iter()
            .enumerate()
            .map(|(k, t)| t * w[k / 3])
            .collect()
    }
}

/// Four independent partial sums (a fixed pattern, so still deterministic) hide the latency of
/// floating-point addition on long rows.
fn row_dot(keys: &[u32], tw: &[f64]) -> f64 {
    let mut a = [0.0; 4];
    let quads = keys.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        a[0] += tw[q[0] as usize];
        a[1] += tw[q[1] as usize];
        a[2] += tw[q[2] as usize];
        a[3] += tw[q[3] as usize];
    }
    let mut s = (a[0] + a[1]) + (a[2] + a[3]);
    for &k in rest {
        s += tw[k as usize];
    }
    s
}

/// Row-wise `D v` (or `D' v`).
fn apply_rows(d: &Centred, v: &[f64], defl: Option<&Deflation>) -> Vec<f64> {
    let alpha = defl.map_or(0.0, |d| dot(d.v, v) / d.vv);
    let tv = d.weighted_table(v);
    let mut out = vec![0.0; d.m.n_rows()];
    out.par_chunks_mut(ROW_CHUNK)
        .enumerate()
        .for_each(|(chunk, out)| {
            for (k, o) in out.iter_mut().enumerate() {
                let r = chunk * ROW_CHUNK + k;
                let mut s = row_dot(d.row_keys(r), &tv);
                if let Some(d) = defl {
                    s -= d.dv[r] * alpha;
                }
                *o = s;
            }
        });
    out
}

/// `D'ᵀ (D' w)` in one pass over the rows, with per-chunk partial sums added in chunk order.
fn gram_apply(d: &Centred, w: &[f64], defl: Option<&Deflation>) -> Vec<f64> {
    let m = d.m;
    let n_cols = m.n_cols();
    let alpha = defl.map_or(0.0, |d| dot(d.v, w) / d.vv);
    let tw = d.weighted_table(w);
    let n_chunks = m.n_rows().div_ceil(ROW_CHUNK);
    let partials: Vec<(Vec<f64>, f64)> = (0..n_chunks)
        .into_par_iter()
        .map(|chunk| {
            // Sum the row values per key first; the centred value multiplies once per key.
            let mut by_key = vec![0.0; 3 * n_cols];
            let mut beta = 0.0;
            let end = ((chunk + 1) * ROW_CHUNK).min(m.n_rows());
            for r in chunk * ROW_CHUNK..end {
                let keys = d.row_keys(r);
                let mut s = row_dot(keys, &tw);
                if let Some(f) = defl {
                    s -= f.dv[r] * alpha;
                    beta += f.dv[r] * s;
                }
                for &k in keys {
                    by_key[k as usize] += s;
                }
            }
            let acc = (0..n_cols)
                .map(|j| {
                    let t = &d.table[3 * j..3 * j + 3];
                    let b = &by_key[3 * j..3 * j + 3];
                    t[0] * b[0] + t[1] * b[1] + t[2] * b[2]
                })
                .collect();
            (acc, beta)
        })
        .collect();
    let mut out = vec![0.0; n_cols];
    let mut beta = 0.0;
    for (acc, b) in partials {
        for (o, a) in out.iter_mut().zip(acc) {
            *o += a;
        }
        beta += b;
    }
    if let Some(d) = defl {
        for (o, &vj) in out.iter_mut().zip(d.v) {
            *o -= vj * beta / d.vv;
        }
    }
    out
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f64]) -> f64 {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        for x in v.iter_mut() {
            *x /= n;
        }
    }
    n
}

/// Returns the unit component and the iterations used. A matrix without variance (e.g. only
/// passes) has no direction at all: the component is then all zeros, not an arbitrary vector.
fn power_iteration(
    d: &Centred,
    start: Vec<f64>,
    max_iter: usize,
    defl: Option<&Deflation>,
) -> (Vec<f64>, usize) {
    let mut v = start;
    if normalise(&mut v) == 0.0 {
        v.iter_mut().for_each(|x| *x = 1.0);
        normalise(&mut v);
    }
    for it in 1..=max_iter {
        let mut w = gram_apply(d, &v, defl);
        if normalise(&mut w) == 0.0 {
            return (vec![0.0; v.len()], it);
        }
        let moved = w
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = w;
        if moved < CONVERGED {
            return (v, it);
        }
    }
    (v, max_iter)
}

/// A reproducible start vector: each statement's entry depends only on (seed, component,
/// statement id), so adding a statement does not reshuffle the others.
pub fn seeded_start(statements: &[i64], seed: u64, component: u64) -> Vec<f64> {
    statements
        .iter()
        .map(|&s| {
            let mut g = rng::SplitMix64::new(rng::seed_from(&[seed, component, s as u64]));
            2.0 * g.next_f64() - 1.0
        })
        .collect()
}

/// Rows per work item of the block Gram product and the bridging fit: 2,048, or more on very large matrices so
/// that the per-chunk column sums (a few per column each) stay few. Depends only on the input's size,
/// never on the machine, so results stay bit-identical everywhere.
pub(crate) fn pair_chunk(n_rows: usize) -> usize {
    ROW_CHUNK.max(n_rows.div_ceil(64).next_multiple_of(ROW_CHUNK))
}

/// `a − (a·u) u` for a unit vector `u`.
fn orthogonalise(a: &mut [f64], u: &[f64]) {
    let c = dot(a, u);
    for (x, y) in a.iter_mut().zip(u) {
        *x -= c * y;
    }
}

/// Vectors iterated together: the two components and two guard vectors. The guards only speed
/// the two components up (docs/opinion.md §4): with a block of b vectors the k-th Ritz vector's
/// error shrinks by λ_(b+1)/λ_k per pass, so with b = 4 the second component converges with
/// λ₅/λ₂ instead of λ₃/λ₂, which is close to 1 when the conversation has three or more opinion
/// directions of similar weight (90 passes on the national-scale benchmark with b = 2).
const BLOCK: usize = 4;

/// `DᵀD vₖ` for the whole block in one pass over the rows: the weighted tables of the block are
/// interleaved, so a vote reads the block's four weights from one place and adds its row's four
/// sums to one place.
fn gram_apply_block(d: &Centred, v: &[Vec<f64>; BLOCK]) -> [Vec<f64>; BLOCK] {
    let m = d.m;
    let n_cols = m.n_cols();
    let mut tw = vec![0.0; BLOCK * d.table.len()];
    for (key, &t) in d.table.iter().enumerate() {
        for (i, vi) in v.iter().enumerate() {
            tw[BLOCK * key + i] = t * vi[key / 3];
        }
    }
    let chunk_rows = pair_chunk(m.n_rows());
    let n_chunks = m.n_rows().div_ceil(chunk_rows);
    let partials: Vec<Vec<f64>> = (0..n_chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut by_key = vec![0.0; BLOCK * 3 * n_cols];
            let end = ((chunk + 1) * chunk_rows).min(m.n_rows());
            for r in chunk * chunk_rows..end {
                let keys = d.row_keys(r);
                let mut s = [0.0; BLOCK];
                for &k in keys {
                    let t = &tw[BLOCK * k as usize..BLOCK * k as usize + BLOCK];
                    for i in 0..BLOCK {
                        s[i] += t[i];
                    }
                }
                for &k in keys {
                    let b = &mut by_key[BLOCK * k as usize..BLOCK * k as usize + BLOCK];
                    for i in 0..BLOCK {
                        b[i] += s[i];
                    }
                }
            }
            let mut acc = vec![0.0; BLOCK * n_cols];
            for j in 0..n_cols {
                for i in 0..BLOCK {
                    acc[BLOCK * j + i] = (0..3)
                        .map(|x| d.table[3 * j + x] * by_key[BLOCK * (3 * j + x) + i])
                        .sum();
                }
            }
            acc
        })
        .collect();
    let mut out: [Vec<f64>; BLOCK] = std::array::from_fn(|_| vec![0.0; n_cols]);
    for acc in partials {
        for j in 0..n_cols {
            for (i, o) in out.iter_mut().enumerate() {
                o[j] += acc[BLOCK * j + i];
            }
        }
    }
    out
}

/// How many passes' Ritz vectors the Rayleigh–Ritz step searches besides the current block. A
/// third pass back found the components in no fewer passes on the benchmarks.
const HISTORY: usize = 2;

/// A part of a vector left after removing its components along the basis is dropped below this
/// norm (of a unit vector): it adds nothing the basis does not span, and dividing its image by
/// a smaller norm would magnify the image's rounding error past the stopping tolerance.
const DEPENDENT: f64 = 1e-8;

/// A block of Ritz vectors and their images under DᵀD.
type RitzBlock = ([Vec<f64>; BLOCK], [Vec<f64>; BLOCK]);

/// An orthonormal basis of the search space, with the image under DᵀD of each vector.
#[derive(Default)]
struct Space {
    basis: Vec<Vec<f64>>,
    images: Vec<Vec<f64>>,
}

impl Space {
    /// Adds what `x` has outside the basis, with `y = DᵀD·x` transformed alike (DᵀD is linear).
    /// Gram–Schmidt twice, so the basis stays orthonormal to rounding even when `x` is nearly
    /// inside it.
    fn add(&mut self, mut x: Vec<f64>, mut y: Vec<f64>) {
        let norm = dot(&x, &x).sqrt();
        if norm == 0.0 {
            return;
        }
        for _ in 0..2 {
            for (u, au) in self.basis.iter().zip(&self.images) {
                let c = dot(&x, u);
                for ((xe, ue), (ye, aue)) in x.iter_mut().zip(u).zip(y.iter_mut().zip(au)) {
                    *xe -= c * ue;
                    *ye -= c * aue;
                }
            }
        }
        let left = dot(&x, &x).sqrt();
        if left <= DEPENDENT * norm {
            return;
        }
        x.iter_mut().for_each(|e| *e /= left);
        y.iter_mut().for_each(|e| *e /= left);
        self.basis.push(x);
        self.images.push(y);
    }

    /// The [`BLOCK`] Ritz vectors of largest Ritz value (ties by position) and their images;
    /// zero vectors where the space is smaller than the block.
    fn ritz(&self) -> RitzBlock {
        let b = self.basis.len();
        let h = nalgebra::DMatrix::from_fn(b, b, |i, k| {
            0.5 * (dot(&self.basis[i], &self.images[k]) + dot(&self.basis[k], &self.images[i]))
        });
        let eig = nalgebra::SymmetricEigen::new(h);
        let mut order: Vec<usize> = (0..b).collect();
        order.sort_by(|&a, &c| {
            eig.eigenvalues[c]
                .total_cmp(&eig.eigenvalues[a])
                .then(a.cmp(&c))
        });
        let n = self.basis.first().map_or(0, Vec::len);
        let combine = |vectors: &[Vec<f64>], k: usize| -> Vec<f64> {
            let Some(&col) = order.get(k) else {
                return vec![0.0; n];
            };
            (0..n)
                .map(|j| {
                    (0..b)
                        .map(|i| eig.eigenvectors[(i, col)] * vectors[i][j])
                        .sum()
                })
                .collect()
        };
        (
            std::array::from_fn(|k| combine(&self.basis, k)),
            std::array::from_fn(|k| combine(&self.images, k)),
        )
    }
}

/// Both components at once by orthogonal iteration with a Rayleigh–Ritz step (docs/opinion.md
/// §4): `V ← orth(DᵀD·V)` on a block of [`BLOCK`] vectors (the two components and two guards),
/// rotated within its span to the eigenvectors of `Vᵀ·DᵀD·V`. The first component's error then
/// shrinks with λ₅/λ₁ per pass instead of λ₂/λ₁ (plain power iteration), the second's with
/// λ₅/λ₂, and one pass serves the whole block. The Rayleigh–Ritz step also searches the Ritz
/// vectors of the last [`HISTORY`] passes, whose images under DᵀD are known from those passes:
/// the span of a vector, its image and its previous value is what LOBPCG searches, and the error
/// then shrinks by about the square of that rate (a warm start after 1,000 new votes on the 33k
/// benchmark: 6 passes → 4, a cold run 13 → 8). Converges to the same eigenvectors as power
/// iteration with deflation.
pub fn pca(m: &VoteMatrix, starts: [Vec<f64>; 2], max_iter: usize) -> Pca {
    pca_searching(m, starts, max_iter, HISTORY)
}

/// [`pca`] with the Rayleigh–Ritz step searching `history` passes back (0: plain orthogonal
/// iteration, which the tests compare with).
fn pca_searching(m: &VoteMatrix, starts: [Vec<f64>; 2], max_iter: usize, history: usize) -> Pca {
    let center = column_means(m);
    let d = Centred::new(m, &center);
    let n = m.n_cols();
    let [s1, s2] = starts;
    let mut v1 = s1.clone();
    if normalise(&mut v1) == 0.0 {
        v1.iter_mut().for_each(|x| *x = 1.0);
        normalise(&mut v1);
    }
    let mut v2 = s2.clone();
    orthogonalise(&mut v2, &v1);
    if normalise(&mut v2) < 1e-8 {
        // A start parallel to the first: the unit vector least aligned with it instead.
        let j = (0..n).fold(0, |best, j| {
            if v1[j].abs() < v1[best].abs() {
                j
            } else {
                best
            }
        });
        v2 = vec![0.0; n];
        if n > 0 {
            v2[j] = 1.0;
        }
        orthogonalise(&mut v2, &v1);
        if normalise(&mut v2) < 1e-8 {
            v2.iter_mut().for_each(|x| *x = 0.0);
        }
    }
    // The guards start from fixed pseudo-random vectors (they depend on the statement ids
    // only), orthogonal to the components; where nothing is left of one, it stays zero and the
    // block is simply smaller.
    let mut v: [Vec<f64>; BLOCK] = std::array::from_fn(|k| match k {
        0 => v1.clone(),
        1 => v2.clone(),
        _ => seeded_start(&m.statements, GUARD_SEED, k as u64),
    });
    for k in 2..BLOCK {
        let (done, rest) = v.split_at_mut(k);
        for u in done.iter() {
            orthogonalise(&mut rest[0], u);
        }
        if normalise(&mut rest[0]) < 1e-8 {
            rest[0].iter_mut().for_each(|x| *x = 0.0);
        }
    }
    let mut previous = [s1, s2];
    let mut result = [vec![0.0; n], vec![0.0; n]];
    let mut iterations = 0;
    // The Ritz vectors of the passes before and their images under DᵀD, newest first: known
    // without another pass over the votes, they widen the next Rayleigh–Ritz step.
    let mut earlier: Vec<RitzBlock> = Vec::new();
    let (mut last_moved, mut last_rate) = (f64::INFINITY, f64::INFINITY);
    for it in 1..=max_iter.max(1) {
        iterations = it;
        let w = gram_apply_block(&d, &v);
        if w.iter().all(|wk| dot(wk, wk) == 0.0) {
            // No variance at all: no direction (all zeros, not an arbitrary vector).
            result = [vec![0.0; n], vec![0.0; n]];
            break;
        }
        // Rayleigh–Ritz in the span of V and of the earlier Ritz vectors, made orthonormal with
        // their images carried along.
        let mut space = Space::default();
        for (vk, wk) in v.into_iter().zip(w) {
            space.add(vk, wk);
        }
        for (xs, ys) in &earlier {
            for (x, y) in xs.iter().zip(ys) {
                space.add(x.clone(), y.clone());
            }
        }
        let (mut x, mut y) = space.ritz();
        // Keep each component pointing the way of its start (as power iteration does), so
        // warm starts do not flip signs.
        for k in 0..2 {
            if dot(&x[k], &previous[k]) < 0.0 {
                x[k].iter_mut().for_each(|e| *e = -*e);
                y[k].iter_mut().for_each(|e| *e = -*e);
            }
        }
        let moved = (0..2)
            .flat_map(|k| x[k].iter().zip(&previous[k]).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        result = [x[0].clone(), x[1].clone()];
        previous = [x[0].clone(), x[1].clone()];
        // Each move is about `rate` times the one before, so what is still to come adds up to
        // `moved · rate / (1 − rate)`: the components' remaining error. Judged by the slower of
        // the last two rates, and aiming for half the tolerance, since the rates of the first
        // few passes are not steady (docs/opinion.md §4).
        let rate = if last_moved.is_finite() && last_moved > 0.0 {
            moved / last_moved
        } else {
            f64::INFINITY
        };
        let slowest = rate.max(last_rate);
        let remaining = if slowest < 1.0 {
            moved * slowest / (1.0 - slowest)
        } else {
            f64::INFINITY
        };
        if it > 1 && (moved < RITZ_CONVERGED || remaining < RITZ_CONVERGED / 2.0) {
            break;
        }
        (last_moved, last_rate) = (moved, rate);
        // Next basis: the images of the Ritz vectors, orthonormalised in order.
        let mut next = y.clone();
        earlier.insert(0, (x, y));
        earlier.truncate(history);
        let n1 = normalise(&mut next[0]);
        if n1 == 0.0 {
            break;
        }
        for k in 1..BLOCK {
            let (done, rest) = next.split_at_mut(k);
            let y_norm = dot(&rest[0], &rest[0]).sqrt();
            for u in done.iter() {
                orthogonalise(&mut rest[0], u);
            }
            if normalise(&mut rest[0]) <= 1e-12 * y_norm.max(n1) {
                if k == 1 {
                    // Nothing left beside the first direction (rank one): keep the Ritz vector.
                    rest[0] = previous[1].clone();
                    orthogonalise(&mut rest[0], &done[0]);
                    if normalise(&mut rest[0]) < 1e-8 {
                        rest[0].iter_mut().for_each(|x| *x = 0.0);
                    }
                } else {
                    rest[0].iter_mut().for_each(|x| *x = 0.0);
                }
            }
        }
        v = next;
    }
    // Exact zeros where there is no variance: excluded columns, and a second component of
    // rank-one data.
    for (j, _) in m.excluded.iter().enumerate().take(n).filter(|(_, e)| **e) {
        result[0][j] = 0.0;
        result[1][j] = 0.0;
    }
    Pca {
        center,
        components: result,
        iterations: [iterations, iterations],
    }
}

/// Seed of the guard vectors' start (fixed: a snapshot keeps only the two components, so a warm
/// start draws the guards afresh, the same way every time).
const GUARD_SEED: u64 = 0x67_7561_7264;

/// The previous method, kept as the reference the tests compare [`pca`] with: power iteration
/// for the first component, then again on the deflated matrix for the second.
pub fn pca_power_iteration(m: &VoteMatrix, starts: [Vec<f64>; 2], max_iter: usize) -> Pca {
    let center = column_means(m);
    let d = Centred::new(m, &center);
    let [s1, s2] = starts;
    let (pc1, it1) = power_iteration(&d, s1, max_iter, None);
    let dv = apply_rows(&d, &pc1, None);
    let vv = dot(&pc1, &pc1);
    let (pc2, it2) = if vv > 0.0 {
        let defl = Deflation {
            v: &pc1,
            dv: &dv,
            vv,
        };
        power_iteration(&d, s2, max_iter, Some(&defl))
    } else {
        (vec![0.0; m.n_cols()], 0)
    };
    Pca {
        center,
        components: [pc1, pc2],
        iterations: [it1, it2],
    }
}

/// docs/opinion.md §5: `p = Σ_j (x_ij − c_j)·pc[j]` over the cells voted in M, scaled by
/// `sqrt(n_cmts / max(n_votes_i, 1))` so that light voters are not pulled to the centre.
pub fn project_participants(m: &VoteMatrix, pca: &Pca) -> Vec<[f64; 2]> {
    let table = centred_table(m, &pca.center);
    let n_cmts = m.n_cols() as f64;
    let n_excluded = m.n_excluded();
    let [pc1, pc2] = &pca.components;
    let mut out = vec![[0.0; 2]; m.n_rows()];
    out.par_chunks_mut(ROW_CHUNK)
        .enumerate()
        .for_each(|(chunk, out)| {
            for (k, o) in out.iter_mut().enumerate() {
                let (cols, vals) = m.row(chunk * ROW_CHUNK + k);
                let (mut p1, mut p2) = (0.0, 0.0);
                let mut kept = 0usize;
                for (&c, &x) in cols.iter().zip(vals) {
                    let c = c as usize;
                    if !m.excluded[c] {
                        kept += 1;
                        let d = table[3 * c + (x + 1) as usize];
                        p1 += d * pc1[c];
                        p2 += d * pc2[c];
                    }
                }
                // Excluded columns are 0 for everyone in M, so they count as votes here.
                let n_votes = (kept + n_excluded).max(1) as f64;
                let scale = (n_cmts / n_votes).sqrt();
                *o = [p1 * scale, p2 * scale];
            }
        });
    out
}

/// Each statement as a virtual participant who agreed with it alone.
pub fn project_statements(pca: &Pca) -> Vec<[f64; 2]> {
    let n = pca.center.len() as f64;
    let [pc1, pc2] = &pca.components;
    pca.center
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let s = n.sqrt() * (1.0 - c);
            [s * pc1[j], s * pc2[j]]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opinion::{StatementFlags, Vote, VoteValue};
    use std::collections::BTreeMap;

    fn full_matrix(rows: &[[i8; 3]]) -> VoteMatrix {
        let mut votes = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                let value = match x {
                    1 => VoteValue::Agree,
                    -1 => VoteValue::Disagree,
                    _ => VoteValue::Pass,
                };
                votes.push(Vote {
                    participant: i as i64,
                    statement: j as i64,
                    value,
                });
            }
        }
        VoteMatrix::build(&votes, &BTreeMap::<i64, StatementFlags>::new())
    }

    #[test]
    fn pca_on_a_3x3_matches_the_eigenvectors_of_the_covariance() {
        let m = full_matrix(&[[1, 1, -1], [-1, -1, 1], [1, 0, 0]]);
        let starts = [
            seeded_start(&m.statements, 0, 0),
            seeded_start(&m.statements, 0, 1),
        ];
        let p = pca(&m, starts, 100);
        // Column means by hand: (1/3, 0, 0).
        assert!((p.center[0] - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(&p.center[1..], &[0.0, 0.0]);
        // Reference: eigen-decomposition of DᵀD with nalgebra.
        let d = nalgebra::DMatrix::from_row_slice(
            3,
            3,
            &[
                2.0 / 3.0,
                1.0,
                -1.0,
                -4.0 / 3.0,
                -1.0,
                1.0,
                2.0 / 3.0,
                0.0,
                0.0,
            ],
        );
        let eig: nalgebra::SymmetricEigen<f64, nalgebra::Dyn> =
            nalgebra::SymmetricEigen::new(d.transpose() * &d);
        let mut order: Vec<usize> = (0..3).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        for (k, &e) in order.iter().take(2).enumerate() {
            let reference = eig.eigenvectors.column(e);
            let cos: f64 = (0..3).map(|j| reference[j] * p.components[k][j]).sum();
            assert!(
                (cos.abs() - 1.0).abs() < 1e-9,
                "component {k}: |cos| = {}",
                cos.abs()
            );
        }
    }

    #[test]
    fn projection_scales_by_votes_cast_and_statement_projection_uses_centre() {
        // Two statements; participant 0 voted on both, participant 1 only on statement 0.
        let votes = vec![
            Vote {
                participant: 0,
                statement: 0,
                value: VoteValue::Agree,
            },
            Vote {
                participant: 0,
                statement: 1,
                value: VoteValue::Agree,
            },
            Vote {
                participant: 1,
                statement: 0,
                value: VoteValue::Disagree,
            },
        ];
        let m = VoteMatrix::build(&votes, &BTreeMap::new());
        let p = Pca {
            center: vec![0.0, 1.0],
            components: [vec![1.0, 0.0], vec![0.0, 1.0]],
            iterations: [0, 0],
        };
        let proj = project_participants(&m, &p);
        // Participant 0: (1−0)·1 = 1 and (1−1)·1 = 0, scale sqrt(2/2).
        assert_eq!(proj[0], [1.0, 0.0]);
        // Participant 1: (−1)·1, scale sqrt(2/1).
        assert!((proj[1][0] + 2f64.sqrt()).abs() < 1e-15);
        let st = project_statements(&p);
        assert!((st[0][0] - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(st[1], [0.0, 0.0]);
    }

    /// The documented tolerance (docs/opinion.md §4): on a synthetic conversation the
    /// components agree with the previous method's (power iteration with deflation, 100
    /// iterations each) to |cos| ≥ 1 − 1e−9, with the same signs.
    #[test]
    fn orthogonal_iteration_agrees_with_power_iteration_with_deflation() {
        let s = crate::opinion_tools::synthetic::generate(
            &crate::opinion_tools::synthetic::SyntheticParams {
                participants: 2_000,
                statements: 80,
                votes: 50_000,
                groups: 3,
                ..Default::default()
            },
            5,
        );
        let m = VoteMatrix::build(&s.input.votes, &s.input.statements);
        let starts = || {
            [
                seeded_start(&m.statements, 0, 0),
                seeded_start(&m.statements, 0, 1),
            ]
        };
        let new = pca(&m, starts(), 100);
        let old = pca_power_iteration(&m, starts(), 100);
        assert_eq!(new.center, old.center);
        for k in 0..2 {
            let cos = dot(&new.components[k], &old.components[k]);
            assert!(cos > 1.0 - 1e-9, "component {k}: cos = {cos}");
        }
        assert!(new.iterations[0] < old.iterations[0] + old.iterations[1]);
        // Warm from its own result it stops at once.
        let again = pca(&m, new.components.clone(), 100);
        assert!(again.iterations[0] <= 3, "{:?}", again.iterations);
        for k in 0..2 {
            assert!(dot(&again.components[k], &new.components[k]) > 1.0 - 1e-12);
        }
    }

    /// The search space stays orthonormal with each image equal to DᵀD times its vector, and a
    /// vector it already spans adds nothing.
    #[test]
    fn the_search_space_carries_images_along_and_drops_what_it_spans() {
        let a = nalgebra::DMatrix::from_row_slice(
            4,
            4,
            &[
                4.0, 1.0, 0.5, 0.0, //
                1.0, 3.0, 0.2, 0.1, //
                0.5, 0.2, 2.0, 0.3, //
                0.0, 0.1, 0.3, 1.0,
            ],
        );
        let image = |x: &[f64]| -> Vec<f64> {
            (&a * nalgebra::DVector::from_column_slice(x))
                .iter()
                .copied()
                .collect()
        };
        let mut space = Space::default();
        for x in [
            vec![1.0, 2.0, 0.0, -1.0],
            vec![0.5, 1.0, 1.0, 0.0],
            // Inside the span of the two before: nothing to add.
            vec![1.5, 3.0, 1.0, -1.0],
            vec![0.0, 0.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0, 3.0],
        ] {
            let y = image(&x);
            space.add(x, y);
        }
        assert_eq!(space.basis.len(), 3);
        for (i, u) in space.basis.iter().enumerate() {
            for (k, w) in space.basis.iter().enumerate() {
                let expected = if i == k { 1.0 } else { 0.0 };
                assert!((dot(u, w) - expected).abs() < 1e-14, "({i}, {k})");
            }
            let direct = image(u);
            for (p, q) in space.images[i].iter().zip(&direct) {
                assert!((p - q).abs() < 1e-13, "image of basis vector {i}");
            }
        }
        // With the fourth direction the space is everything: the Ritz vectors are A's
        // eigenvectors, largest eigenvalue first, and the images are eigenvalue × vector.
        let y = image(&[1.0, 0.0, 0.0, 0.0]);
        space.add(vec![1.0, 0.0, 0.0, 0.0], y);
        let (x, y) = space.ritz();
        let eig = nalgebra::SymmetricEigen::new(a.clone());
        let mut values: Vec<f64> = eig.eigenvalues.iter().copied().collect();
        values.sort_by(|p, q| q.total_cmp(p));
        for k in 0..BLOCK {
            for (p, q) in y[k].iter().zip(&x[k]) {
                assert!((p - values[k] * q).abs() < 1e-12, "Ritz pair {k}");
            }
        }
    }

    /// Searching the earlier passes' Ritz vectors finds the same components as plain orthogonal
    /// iteration, in fewer passes, cold and warm after new votes.
    #[test]
    fn searching_earlier_passes_finds_the_same_components_in_fewer_passes() {
        let params = crate::opinion_tools::synthetic::SyntheticParams {
            participants: 3_000,
            statements: 120,
            votes: 90_000,
            groups: 4,
            ..Default::default()
        };
        let s = crate::opinion_tools::synthetic::generate(&params, 11);
        let (old_votes, new_votes) = s.input.votes.split_at(s.input.votes.len() - 2_000);
        let before = VoteMatrix::build(old_votes, &s.input.statements);
        let after = VoteMatrix::build(&s.input.votes, &s.input.statements);
        let cold_start = [
            seeded_start(&before.statements, 0, 0),
            seeded_start(&before.statements, 0, 1),
        ];
        let first = pca(&before, cold_start.clone(), 100);
        assert!(!new_votes.is_empty());
        for (m, start) in [(&before, cold_start), (&after, first.components.clone())] {
            let plain = pca_searching(m, start.clone(), 100, 0);
            let wide = pca_searching(m, start, 100, HISTORY);
            for k in 0..2 {
                let cos = dot(&plain.components[k], &wide.components[k]);
                assert!(cos > 1.0 - 1e-9, "component {k}: cos = {cos}");
            }
            assert!(
                wide.iterations[0] < plain.iterations[0],
                "{:?} against {:?}",
                wide.iterations,
                plain.iterations
            );
        }
    }

    #[test]
    fn all_passes_give_zero_components_without_nan() {
        let m = full_matrix(&[[0, 0, 0], [0, 0, 0]]);
        let p = pca(&m, [vec![1.0; 3], vec![1.0; 3]], 100);
        assert!(p.components.iter().flatten().all(|&x| x == 0.0));
        assert!(
            project_participants(&m, &p)
                .iter()
                .flatten()
                .all(|&x| x == 0.0)
        );
    }

    #[test]
    fn excluded_columns_do_not_move_the_components() {
        let mut flags = BTreeMap::new();
        flags.insert(
            2,
            StatementFlags {
                moderated_out: true,
                meta: false,
            },
        );
        let mut m = full_matrix(&[[1, 1, -1], [-1, -1, 1], [1, 0, 1]]);
        m.excluded = m.statements.iter().map(|s| flags.contains_key(s)).collect();
        let p = pca(&m, [vec![1.0; 3], vec![0.5, -1.0, 1.0]], 100);
        assert_eq!(p.center[2], 0.0);
        assert_eq!(p.components[0][2], 0.0);
        assert_eq!(p.components[1][2], 0.0);
    }
}

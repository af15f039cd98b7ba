//! Bridging ranking (docs/opinion.md §18): Community Notes' matrix factorisation on the votes.
//!
//! Every kept vote is a rating `r` (agree 1, pass ½, disagree 0, as Community Notes rates
//! helpful, somewhat helpful, not helpful) modelled as
//!
//! ```text
//! r ≈ μ + i_participant + i_statement + f_participant · f_statement
//! ```
//!
//! with a one-dimensional factor. The factor term soaks up agreement that follows the
//! participants' main opinion axis (one camp agrees, the other does not); what is left in a
//! statement's intercept is agreement that crosses that axis, which is the statement's bridging
//! score. As in Community Notes the intercepts are regularised five times more strongly than the
//! factors (λ = 0.15 against 0.03), so a statement only gets a high intercept when the factor
//! cannot explain its agrees.
//!
//! The fit is alternating least squares: with the statements fixed, each participant's
//! (intercept, factor) is a 2×2 ridge regression with a closed form, and likewise for each
//! statement; then μ is the mean residual. A round is one pass over the votes: a participant's
//! votes go into the statements' sums while its row is in cache, and μ comes from those sums.
//! Rounds stop once the intercepts, the only thing shown, are estimated to be within
//! [`INTERCEPT_TOLERANCE`] of their limit (docs/opinion.md §18). The statement factors start from the first principal
//! component (itself from a seeded start) or from the previous snapshot's fit, so the result is
//! deterministic; sums run over fixed row chunks in a fixed order, so it is bit-identical on any
//! number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::StatementId;
use super::matrix::VoteMatrix;
use super::pca::pair_chunk;

/// Community Notes' regularisation: `l2_lambda` for the factors, five times that for the
/// intercepts.
pub const FACTOR_LAMBDA: f64 = 0.03;
pub const INTERCEPT_LAMBDA: f64 = 0.15;
/// Alternating rounds stop once the statement intercepts are estimated to be within this of
/// their limit (see [`fit_to`]). The report prints scores with three decimals: 1e-6 is 500 times
/// below half a unit of the last one, so a printed score or the order of two listed statements
/// can only change where the three decimals could not tell them apart anyway. The earlier rule
/// (every parameter moving less than 1e-7 in a round) bounded nothing when rounds contract
/// slowly; on the Pol.is exports this rule shows the same top five and scores with fewer rounds.
pub const INTERCEPT_TOLERANCE: f64 = 1e-6;
/// What the rounds aim for, to keep [`INTERCEPT_TOLERANCE`]: after an extrapolation jump the
/// remaining error is spread over parts that shrink at different rates, and the rule's estimate
/// of it fell short by up to 40 % on the Pol.is exports (1.4·10⁻⁶ left on football-concussions
/// when aiming for 10⁻⁶). Aiming for half keeps every intercept there within 0.9·10⁻⁶ of the
/// converged fit (docs/opinion.md §18).
const STOP_AT: f64 = INTERCEPT_TOLERANCE / 2.0;
pub const MAX_ITERATIONS: usize = 500;
/// An intercept move this small is rounding noise: the fit has settled.
const SETTLED: f64 = 1e-12;

/// One statement's fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BridgingStatement {
    pub statement: StatementId,
    /// The bridging score: agreement left after factoring out the opinion axis.
    pub intercept: f64,
    /// Where the statement sits on the opinion axis (its sign is arbitrary).
    pub factor: f64,
    /// Votes it was fitted on (passes included).
    pub ratings: u32,
}

/// The fit: global mean and every statement that is not moderated out or meta and has votes,
/// by ascending statement id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bridging {
    pub mean: f64,
    pub statements: Vec<BridgingStatement>,
    /// Alternating rounds used.
    pub iterations: usize,
    /// Extrapolation jumps taken among them (docs/opinion.md §18).
    #[serde(default)]
    pub jumps: usize,
    /// The estimated contraction rate of the intercepts' moves per round at the end of the fit
    /// (how much of a move is left after one more round), with which a warm fit can judge its
    /// first round; absent in snapshots made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Bridging {
    /// Whether any statement has a factor: a fit without one explains nothing by the opinion
    /// axis, and a later fit cannot start its factors from it (see [`fit`]).
    pub fn has_divide(&self) -> bool {
        self.statements.iter().any(|s| s.factor != 0.0)
    }

    /// Statements by descending bridging score (ties by ascending id).
    pub fn ranked(&self) -> Vec<BridgingStatement> {
        let mut v = self.statements.clone();
        v.sort_by(|a, b| {
            b.intercept
                .total_cmp(&a.intercept)
                .then(a.statement.cmp(&b.statement))
        });
        v
    }

    /// Up to `max` statements with a positive score and at least [`MIN_RATINGS`] votes, best
    /// first: the ones the report lists.
    pub fn top(&self, max: usize) -> Vec<BridgingStatement> {
        self.ranked()
            .into_iter()
            .filter(|s| s.intercept > 0.0 && s.ratings >= MIN_RATINGS)
            .take(max)
            .collect()
    }
}

/// Votes a statement needs before it is listed: as Community Notes scores a note only after
/// five ratings, a statement one person agreed with is not put forward as uniting, however
/// its regularised intercept comes out.
pub const MIN_RATINGS: u32 = 5;

fn rating(vote: i8) -> f64 {
    (f64::from(vote) + 1.0) / 2.0
}

/// Solves the 2×2 ridge system for (intercept, factor) given the sums over one row or column:
/// n ratings, Σf, Σf², Σy, Σy·f of the other side's factor f and the target y.
fn solve(n: f64, sf: f64, sff: f64, sy: f64, syf: f64) -> (f64, f64) {
    let a00 = n + INTERCEPT_LAMBDA;
    let a11 = sff + FACTOR_LAMBDA;
    let det = a00 * a11 - sf * sf;
    if det <= 0.0 {
        return (0.0, 0.0);
    }
    ((a11 * sy - sf * syf) / det, (a00 * syf - sf * sy) / det)
}

/// Fits the model on `m`'s kept columns. `start` is the previous snapshot's fit (warm start);
/// `axis` is the first principal component per column, the cold start of the statement factors.
pub fn fit(m: &VoteMatrix, start: Option<&Bridging>, axis: &[f64]) -> Bridging {
    fit_to(m, start, axis, STOP_AT, MAX_ITERATIONS, true)
}

/// [`fit`] with its own stopping rule: rounds stop once the intercepts are estimated to be
/// within `tolerance` of where further rounds would take them (see [`INTERCEPT_TOLERANCE`]),
/// or after `max_rounds`; `extrapolate` allows the jumps (plain rounds are the tests' reference).
pub fn fit_to(
    m: &VoteMatrix,
    start: Option<&Bridging>,
    axis: &[f64],
    tolerance: f64,
    max_rounds: usize,
    extrapolate: bool,
) -> Bridging {
    let n_cols = m.n_cols();
    let n_rows = m.n_rows();
    let scale = (n_cols as f64).sqrt();
    let mut s_int = vec![0.0; n_cols];
    let mut s_fac: Vec<f64> = (0..n_cols)
        .map(|j| axis.get(j).copied().unwrap_or(0.0) * scale)
        .collect();
    let mut mean = None;
    if let Some(prev) = start {
        // A fit without any divide (every factor 0: its votes had no direction at all) is no
        // start for the factors: from all zeros the rounds keep every factor at 0 whatever the
        // votes are now. Its intercepts and μ still are.
        let factors = prev.has_divide();
        for (j, s) in m.statements.iter().enumerate() {
            if let Ok(i) = prev.statements.binary_search_by_key(s, |b| b.statement) {
                s_int[j] = prev.statements[i].intercept;
                if factors {
                    s_fac[j] = prev.statements[i].factor;
                }
            }
        }
        mean = Some(prev.mean);
    }
    let kept = |c: u32| !m.excluded[c as usize];

    // Per column, fixed for the whole fit: number and sum of ratings in halves (agree counts
    // 2, pass 1), integer sums from the counts the matrix keeps.
    let ratings_per_col: Vec<u32> = m
        .value_counts()
        .iter()
        .map(|c| c[0] + c[1] + c[2])
        .collect();
    let rating_sum_col: Vec<u64> = m
        .value_counts()
        .iter()
        .map(|c| u64::from(c[1]) + 2 * u64::from(c[2]))
        .collect();
    let rated_s: Vec<bool> = (0..n_cols)
        .map(|j| !m.excluded[j] && ratings_per_col[j] > 0)
        .collect();
    let n_kept: u64 = (0..n_cols)
        .filter(|&j| rated_s[j])
        .map(|j| u64::from(ratings_per_col[j]))
        .sum();
    // Σ ratings over kept votes, in halves (agree counts 2, pass 1).
    let halves: u64 = (0..n_cols)
        .filter(|&j| rated_s[j])
        .map(|j| rating_sum_col[j])
        .sum();
    let rating_total = halves as f64 / 2.0;
    let mut mean = mean.unwrap_or(if n_kept == 0 {
        0.0
    } else {
        rating_total / n_kept as f64
    });
    // Kept votes per row, fixed for the whole fit.
    let kept_per_row: Vec<u32> = if m.n_excluded() == 0 {
        (0..n_rows)
            .map(|r| (m.row_ptr[r + 1] - m.row_ptr[r]) as u32)
            .collect()
    } else {
        (0..n_rows)
            .into_par_iter()
            .map(|r| m.row(r).0.iter().filter(|&&c| kept(c)).count() as u32)
            .collect()
    };
    let rated_p: Vec<bool> = kept_per_row.iter().map(|&n| n > 0).collect();
    let chunk_rows = pair_chunk(n_rows);
    let mut p_int = vec![0.0; n_rows];
    let mut p_fac = vec![0.0; n_rows];
    let mut iterations = 0;
    // The rate a warm start inherits: its first round can already stop.
    let known_rate = start
        .and_then(|b| b.rate)
        .filter(|r| (0.0..1.0).contains(r))
        .unwrap_or(f64::INFINITY);
    let (mut last_moved, mut last_rate) = (f64::INFINITY, known_rate);
    // What a round's rate is when the round before it gives none: the inherited rate for the
    // first round, none (∞) for the round after a jump.
    let mut unknown_rate = known_rate;
    // Contraction rates measured since the start or the last jump.
    let mut fresh_rates: Vec<f64> = Vec::new();
    let mut estimate = None;
    let mut jumps = 0;
    while iterations < max_rounds {
        iterations += 1;
        let before = s_int.clone();
        let before_fac = s_fac.clone();
        let before_mean = mean;
        // The statements' side of every participant's sums, per vote key 3·column + vote + 1:
        // [f, f², y, y·f] with y = r − μ − i_s, zero for columns left out. A row's sums are then
        // one lookup and four additions per vote, and come out exactly as computed vote by vote
        // (the same products, added in the same order; a left-out vote adds +0).
        let table: Vec<[f64; 4]> = (0..3 * n_cols)
            .map(|k| {
                let j = k / 3;
                if !rated_s[j] {
                    return [0.0; 4];
                }
                let f = s_fac[j];
                let y = rating((k % 3) as i8 - 1) - mean - s_int[j];
                [f, f * f, y, y * f]
            })
            .collect();
        // One pass over the votes: each participant's (intercept, factor) given the statements,
        // and at once, while its row is in cache, its share of the statements' sums given the
        // new values. Per column, the sums over its raters p of f_p, f_p², i_p, i_p·f_p and
        // r·f_p: the first four are the same for every vote of a row and the fifth is one of
        // three, so a vote costs five additions (the residuals y = r − μ − i_p follow per
        // column below). Columns left out collect sums that are never read. Σ n·i_p per chunk
        // of rows; chunks added in chunk order.
        let partials: Vec<(Vec<[f64; 5]>, f64)> = p_int
            .par_chunks_mut(chunk_rows)
            .zip(p_fac.par_chunks_mut(chunk_rows))
            .enumerate()
            .map(|(chunk, (pi, pf))| {
                let mut acc = vec![[0.0; 5]; n_cols];
                let mut weighted_int = 0.0;
                for k in 0..pi.len() {
                    let row = chunk * chunk_rows + k;
                    let (cols, vals) = m.row(row);
                    let (mut sf, mut sff, mut sy, mut syf) = (0.0, 0.0, 0.0, 0.0);
                    for (&c, &v) in cols.iter().zip(vals) {
                        let t = &table[3 * c as usize + (v + 1) as usize];
                        sf += t[0];
                        sff += t[1];
                        sy += t[2];
                        syf += t[3];
                    }
                    let n = f64::from(kept_per_row[row]);
                    let (i, f) = solve(n, sf, sff, sy, syf);
                    (pi[k], pf[k]) = (i, f);
                    weighted_int += n * i;
                    let add = [f, f * f, i, i * f];
                    let rated_f = [rating(-1) * f, rating(0) * f, rating(1) * f];
                    for (&c, &v) in cols.iter().zip(vals) {
                        let a = &mut acc[c as usize];
                        for x in 0..4 {
                            a[x] += add[x];
                        }
                        a[4] += rated_f[(v + 1) as usize];
                    }
                }
                (acc, weighted_int)
            })
            .collect();
        let mut acc = vec![[0.0; 5]; n_cols];
        let mut weighted_int = 0.0;
        for (part, w) in partials {
            for (s, a) in acc.iter_mut().zip(part) {
                for i in 0..5 {
                    s[i] += a[i];
                }
            }
            weighted_int += w;
        }
        // Per column, with n its votes and R the sum of their ratings:
        // Σy = R − μ·n − Σi_p and Σy·f_p = Σr·f_p − μ·Σf_p − Σi_p·f_p.
        let sums: Vec<[f64; 4]> = (0..n_cols)
            .map(|j| {
                if !rated_s[j] {
                    return [0.0; 4];
                }
                let [f, ff, i, i_f, rf] = acc[j];
                let n = f64::from(ratings_per_col[j]);
                let r = rating_sum_col[j] as f64 / 2.0;
                [f, ff, r - mean * n - i, rf - mean * f - i_f]
            })
            .collect();
        // Statements, given the participants.
        for j in 0..n_cols {
            let [sf, sff, sy, syf] = sums[j];
            (s_int[j], s_fac[j]) = if rated_s[j] {
                solve(f64::from(ratings_per_col[j]), sf, sff, sy, syf)
            } else {
                (0.0, 0.0)
            };
        }
        // μ: the mean residual Σ (r − i_p − i_s − f_p·f_s) / n, from sums already at hand:
        // Σ_votes f_p·f_s = Σ_s f_s · Σ_(p rated s) f_p.
        if n_kept > 0 {
            let mut residual = rating_total - weighted_int;
            for j in (0..n_cols).filter(|&j| rated_s[j]) {
                residual -= f64::from(ratings_per_col[j]) * s_int[j] + s_fac[j] * sums[j][0];
            }
            mean = residual / n_kept as f64;
        }
        rebalance(
            &mut mean,
            (&mut p_int, &mut p_fac, &rated_p),
            (&mut s_int, &mut s_fac, &rated_s),
        );
        // Stopping rule (INTERCEPT_TOLERANCE): the largest intercept move of this round, and
        // the slower of the last two contraction rates.
        let moved = (0..n_cols)
            .filter(|&j| rated_s[j])
            .map(|j| (s_int[j] - before[j]).abs())
            .fold(0.0, f64::max);
        let rate = if last_moved.is_finite() {
            moved / last_moved
        } else {
            unknown_rate
        };
        let slowest = rate.max(last_rate);
        if slowest < 1.0 {
            estimate = Some(slowest);
        }
        if moved < SETTLED || (slowest < 1.0 && moved * slowest / (1.0 - slowest) < tolerance) {
            break;
        }
        (last_moved, last_rate) = (moved, rate);
        if rate.is_finite() {
            fresh_rates.push(rate);
        }
        if let Some(rho) = steady_rate(&fresh_rates).filter(|_| extrapolate) {
            // Extrapolation (docs/opinion.md §18): while the rounds contract at a steady rate
            // ρ, each move is ρ times the one before, so the rounds still to come would add
            // this round's move times ρ + ρ² + … = ρ/(1 − ρ). Take that sum at once. The jump is
            // not trusted to have landed: the rates are measured afresh, and the fit can only
            // stop after two more rounds.
            let ahead = rho / (1.0 - rho);
            for j in (0..n_cols).filter(|&j| rated_s[j]) {
                s_int[j] += ahead * (s_int[j] - before[j]);
                s_fac[j] += ahead * (s_fac[j] - before_fac[j]);
            }
            mean += ahead * (mean - before_mean);
            (last_moved, last_rate, unknown_rate) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
            fresh_rates.clear();
            jumps += 1;
        }
    }
    Bridging {
        mean,
        statements: (0..n_cols)
            .filter(|&j| rated_s[j])
            .map(|j| BridgingStatement {
                statement: m.statements[j],
                intercept: s_int[j],
                factor: s_fac[j],
                ratings: ratings_per_col[j],
            })
            .collect(),
        iterations,
        jumps,
        rate: estimate.or(start.and_then(|b| b.rate)),
    }
}

/// The last three contraction rates, when they are steady enough to extrapolate with: each in
/// [0.3, 0.99] (a faster fit has little to gain, a slower one is too close to 1 for ρ/(1 − ρ) to
/// be trusted) and within 0.02·(1 − ρ) of each other, so the predicted remainder is known to
/// within a few per cent. Returns the slowest of them.
fn steady_rate(rates: &[f64]) -> Option<f64> {
    let last = rates.get(rates.len().checked_sub(3)?..)?;
    let (lo, hi) = last.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| {
        (lo.min(r), hi.max(r))
    });
    (lo >= 0.3 && hi <= 0.99 && hi - lo <= 0.02 * (1.0 - hi)).then_some(hi)
}

/// The model's predictions do not change when the factors are rescaled (`f_p·t`, `f_s/t`), when
/// a constant is added to every participant factor and `c·f_s` taken from each statement
/// intercept (and the other way round), or when a constant moves from the intercepts into μ. Only
/// the regularisation tells these apart, and it is weak against the data, so alternating steps
/// crawl along these directions. Each round therefore jumps to the exact minimum of the
/// regularisation along each of them (closed forms, sums in row and column order); the objective
/// only goes down.
type Side<'a> = (&'a mut Vec<f64>, &'a mut Vec<f64>, &'a [bool]);

fn rebalance(mean: &mut f64, p: Side<'_>, s: Side<'_>) {
    let (p_int, p_fac, p_rated) = p;
    let (s_int, s_fac, s_rated) = s;
    let sum = |v: &[f64], rated: &[bool], f: &dyn Fn(usize) -> f64| -> f64 {
        (0..v.len()).filter(|&i| rated[i]).map(f).sum()
    };
    let n_p = p_rated.iter().filter(|&&r| r).count() as f64;
    let n_s = s_rated.iter().filter(|&&r| r).count() as f64;
    if n_p == 0.0 || n_s == 0.0 {
        return;
    }
    // Scale: minimise λf (t² Σf_p² + Σf_s² / t²).
    let fpp = sum(p_fac, p_rated, &|i| p_fac[i] * p_fac[i]);
    let fss = sum(s_fac, s_rated, &|j| s_fac[j] * s_fac[j]);
    if fpp > 0.0 && fss > 0.0 {
        let t = (fss / fpp).sqrt().sqrt();
        for i in (0..p_fac.len()).filter(|&i| p_rated[i]) {
            p_fac[i] *= t;
        }
        for j in (0..s_fac.len()).filter(|&j| s_rated[j]) {
            s_fac[j] /= t;
        }
    }
    // f_p + c, i_s − c·f_s.
    let num = INTERCEPT_LAMBDA * sum(s_int, s_rated, &|j| s_fac[j] * s_int[j])
        - FACTOR_LAMBDA * sum(p_fac, p_rated, &|i| p_fac[i]);
    let den =
        FACTOR_LAMBDA * n_p + INTERCEPT_LAMBDA * sum(s_fac, s_rated, &|j| s_fac[j] * s_fac[j]);
    let c = num / den;
    for i in (0..p_fac.len()).filter(|&i| p_rated[i]) {
        p_fac[i] += c;
    }
    for j in (0..s_int.len()).filter(|&j| s_rated[j]) {
        s_int[j] -= c * s_fac[j];
    }
    // f_s + d, i_p − d·f_p.
    let num = INTERCEPT_LAMBDA * sum(p_int, p_rated, &|i| p_fac[i] * p_int[i])
        - FACTOR_LAMBDA * sum(s_fac, s_rated, &|j| s_fac[j]);
    let den =
        FACTOR_LAMBDA * n_s + INTERCEPT_LAMBDA * sum(p_fac, p_rated, &|i| p_fac[i] * p_fac[i]);
    let d = num / den;
    for j in (0..s_fac.len()).filter(|&j| s_rated[j]) {
        s_fac[j] += d;
    }
    for i in (0..p_int.len()).filter(|&i| p_rated[i]) {
        p_int[i] -= d * p_fac[i];
    }
    // Intercept means into μ.
    let a = sum(s_int, s_rated, &|j| s_int[j]) / n_s;
    let b = sum(p_int, p_rated, &|i| p_int[i]) / n_p;
    for j in (0..s_int.len()).filter(|&j| s_rated[j]) {
        s_int[j] -= a;
    }
    for i in (0..p_int.len()).filter(|&i| p_rated[i]) {
        p_int[i] -= b;
    }
    *mean += a + b;
}

/// Spearman's rank correlation of two equally long score lists (average ranks for ties).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    fn ranks(x: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_by(|&i, &j| x[i].total_cmp(&x[j]).then(i.cmp(&j)));
        let mut r = vec![0.0; x.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (ra, rb) = (ranks(a), ranks(b));
    pearson(&ra, &rb)
}

/// Kendall's τ-b of two equally long score lists (O(n²): for tests and tools).
pub fn kendall(a: &[f64], b: &[f64]) -> f64 {
    let (mut concordant, mut discordant, mut ties_a, mut ties_b) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            let da = a[i].total_cmp(&a[j]) as i32;
            let db = b[i].total_cmp(&b[j]) as i32;
            match (da, db) {
                (0, 0) => {}
                (0, _) => ties_a += 1.0,
                (_, 0) => ties_b += 1.0,
                _ if da == db => concordant += 1.0,
                _ => discordant += 1.0,
            }
        }
    }
    let d = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)).sqrt();
    if d == 0.0 {
        0.0
    } else {
        (concordant - discordant) / d
    }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.is_empty() {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::opinion::{StatementFlags, Vote, VoteValue};

    fn vote(participant: i64, statement: i64, value: VoteValue) -> Vote {
        Vote {
            participant,
            statement,
            value,
        }
    }

    /// Camp A (participants 0..30) and camp B (30..40) split on statements 10..16; statement 1
    /// is agreed by 8 of each camp (16 agrees), statement 2 by all of A and disagreed by all of
    /// B (30 agrees), statement 3 is disagreed by everybody.
    fn two_camps() -> Vec<Vote> {
        use VoteValue::{Agree, Disagree};
        let mut votes = Vec::new();
        for p in 0..40 {
            let a = p < 30;
            for s in 10..16 {
                let pro_a = s < 13;
                votes.push(vote(p, s, if a == pro_a { Agree } else { Disagree }));
            }
            if (0..8).contains(&p) || (30..38).contains(&p) {
                votes.push(vote(p, 1, Agree));
            }
            votes.push(vote(p, 2, if a { Agree } else { Disagree }));
            votes.push(vote(p, 3, Disagree));
        }
        votes
    }

    fn fit_votes(votes: &[Vote], flags: &BTreeMap<StatementId, StatementFlags>) -> Bridging {
        let m = VoteMatrix::build(votes, flags);
        let pca = crate::opinion::pca::pca(
            &m,
            [
                crate::opinion::pca::seeded_start(&m.statements, 0, 0),
                crate::opinion::pca::seeded_start(&m.statements, 0, 1),
            ],
            100,
        );
        fit(&m, None, &pca.components[0])
    }

    fn score(b: &Bridging, s: StatementId) -> f64 {
        b.statements
            .iter()
            .find(|x| x.statement == s)
            .map(|x| x.intercept)
            .unwrap_or(f64::NAN)
    }

    #[test]
    fn a_statement_both_camps_agree_with_outranks_one_camp_with_more_agrees() {
        let b = fit_votes(&two_camps(), &BTreeMap::new());
        let (across, one_camp, nobody) = (score(&b, 1), score(&b, 2), score(&b, 3));
        assert!(
            across > one_camp,
            "across camps {across} vs one camp {one_camp}"
        );
        assert!(one_camp > nobody, "one camp {one_camp} vs nobody {nobody}");
        assert_eq!(b.ranked()[0].statement, 1, "{:?}", b.ranked());
        assert_eq!(b.top(5).first().map(|s| s.statement), Some(1));
        assert!(
            b.top(5)
                .iter()
                .all(|s| s.intercept > 0.0 && s.statement != 3)
        );
        // The camp statement is explained by the factor: its factor is far from 0, the bridging
        // statement's close to it.
        let factor = |s| {
            b.statements
                .iter()
                .find(|x| x.statement == s)
                .unwrap()
                .factor
        };
        assert!(factor(2).abs() > 3.0 * factor(1).abs(), "{b:?}");
        assert!(b.iterations < MAX_ITERATIONS, "did not converge: {b:?}");
    }

    #[test]
    fn a_statement_with_too_few_votes_is_scored_but_not_listed() {
        // One participant of each camp agrees with statement 4: its intercept may come out
        // positive, but two votes do not make it something that unites.
        let mut votes = two_camps();
        votes.push(vote(0, 4, VoteValue::Agree));
        votes.push(vote(30, 4, VoteValue::Agree));
        let b = fit_votes(&votes, &BTreeMap::new());
        assert!(
            b.statements
                .iter()
                .any(|s| s.statement == 4 && s.ratings == 2)
        );
        assert!(b.top(5).iter().all(|s| s.statement != 4), "{:?}", b.top(5));
        assert_eq!(b.top(5).first().map(|s| s.statement), Some(1));
    }

    #[test]
    fn moderated_statements_are_left_out_and_the_fit_is_reproducible() {
        let mut flags = BTreeMap::new();
        flags.insert(
            1,
            StatementFlags {
                moderated_out: true,
                meta: false,
            },
        );
        let votes = two_camps();
        let b = fit_votes(&votes, &flags);
        assert!(b.statements.iter().all(|s| s.statement != 1));
        assert_eq!(b.statements.len(), 8);
        let again = fit_votes(&votes, &flags);
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            serde_json::to_string(&again).unwrap()
        );
        // A warm start from its own result stays put within the tolerance.
        let m = VoteMatrix::build(&votes, &flags);
        let warm = fit(&m, Some(&b), &[]);
        assert!(warm.iterations <= 2, "{}", warm.iterations);
        for (x, y) in b.statements.iter().zip(&warm.statements) {
            assert!((x.intercept - y.intercept).abs() < 1e-5);
        }
    }

    /// Three camps of 120, 90 and 60 participants voting on 40 of 60 statements each: per
    /// statement a random agree probability for each camp, so some statements split the camps,
    /// some unite them and many are in between (close scores, small gaps in the ranking).
    fn three_camps(seed: u64, participants: i64) -> Vec<Vote> {
        let mut g = crate::opinion::rng::SplitMix64::new(seed);
        let agree: Vec<[f64; 3]> = (0..60)
            .map(|_| [g.next_f64(), g.next_f64(), g.next_f64()])
            .collect();
        let mut votes = Vec::new();
        for p in 0..participants {
            let camp = match p % 9 {
                0..=3 => 0,
                4..=6 => 1,
                _ => 2,
            };
            for s in 0..60i64 {
                if g.below(3) == 0 {
                    continue;
                }
                let x = g.next_f64();
                let value = if x < agree[s as usize][camp] {
                    VoteValue::Agree
                } else if x < agree[s as usize][camp] + 0.1 {
                    VoteValue::Pass
                } else {
                    VoteValue::Disagree
                };
                votes.push(vote(p, s, value));
            }
        }
        votes
    }

    fn axis(m: &VoteMatrix) -> Vec<f64> {
        let starts = [
            crate::opinion::pca::seeded_start(&m.statements, 0, 0),
            crate::opinion::pca::seeded_start(&m.statements, 0, 1),
        ];
        let [pc1, _] = crate::opinion::pca::pca(m, starts, 100).components;
        pc1
    }

    /// What the report shows of a fit: the listed statements and their scores as printed.
    fn shown(b: &Bridging) -> Vec<(StatementId, String)> {
        b.top(5)
            .iter()
            .map(|s| (s.statement, format!("{:.3}", s.intercept)))
            .collect()
    }

    fn largest_difference(a: &Bridging, b: &Bridging) -> f64 {
        assert_eq!(a.statements.len(), b.statements.len());
        a.statements
            .iter()
            .zip(&b.statements)
            .map(|(x, y)| {
                assert_eq!(x.statement, y.statement);
                (x.intercept - y.intercept).abs()
            })
            .fold(0.0, f64::max)
    }

    /// The stopping rule ends the rounds early, but not so early that what is shown differs
    /// from a fit run until nothing moves.
    #[test]
    fn the_stopping_rule_shows_what_a_fit_to_convergence_shows() {
        let cases = [
            two_camps(),
            three_camps(1, 270),
            three_camps(2, 270),
            three_camps(3, 540),
        ];
        for (case, votes) in cases.iter().enumerate() {
            let m = VoteMatrix::build(votes, &BTreeMap::new());
            let pc1 = axis(&m);
            let b = fit(&m, None, &pc1);
            let tight = fit_to(&m, None, &pc1, 1e-13, 100_000, false);
            assert_eq!(shown(&b), shown(&tight), "case {case}");
            let d = largest_difference(&b, &tight);
            assert!(d < INTERCEPT_TOLERANCE, "case {case}: {d:e}");
            assert!(
                b.iterations < tight.iterations,
                "case {case}: {} rounds, to convergence {}",
                b.iterations,
                tight.iterations
            );
        }
    }

    /// The extrapolation jumps reach the same answer in fewer rounds where rounds contract
    /// slowly, and never show anything else.
    #[test]
    fn extrapolation_saves_rounds_and_changes_nothing_shown() {
        let (mut jumped, mut plain_rounds, mut rounds) = (0, 0, 0);
        for (seed, participants) in [(1, 270), (3, 540), (6, 540)] {
            let votes = three_camps(seed, participants);
            let m = VoteMatrix::build(&votes, &BTreeMap::new());
            let pc1 = axis(&m);
            let b = fit(&m, None, &pc1);
            let plain = fit_to(&m, None, &pc1, STOP_AT, MAX_ITERATIONS, false);
            let tight = fit_to(&m, None, &pc1, 1e-13, 100_000, false);
            assert_eq!(plain.jumps, 0);
            assert_eq!(shown(&b), shown(&plain), "seed {seed}");
            assert!(
                largest_difference(&b, &tight) < INTERCEPT_TOLERANCE,
                "seed {seed}"
            );
            jumped += usize::from(b.jumps > 0);
            (plain_rounds, rounds) = (plain_rounds + plain.iterations, rounds + b.iterations);
        }
        assert!(jumped >= 2, "only {jumped} of 3 fits extrapolated");
        assert!(
            2 * rounds < plain_rounds + plain_rounds / 2,
            "{rounds} rounds with jumps, {plain_rounds} without"
        );
    }

    /// A warm fit after new votes starts from the previous fit and needs fewer rounds than a
    /// cold one, and ends as close to the converged fit as a cold one does.
    #[test]
    fn a_warm_fit_after_new_votes_stays_within_the_tolerance() {
        for seed in [4, 5] {
            let votes = three_camps(seed, 540);
            let old = &votes[..votes.len() - 300];
            let m_old = VoteMatrix::build(old, &BTreeMap::new());
            let before = fit(&m_old, None, &axis(&m_old));
            let m = VoteMatrix::build(&votes, &BTreeMap::new());
            let pc1 = axis(&m);
            let cold = fit(&m, None, &pc1);
            let warm = fit(&m, Some(&before), &pc1);
            let tight = fit_to(&m, None, &pc1, 1e-13, 100_000, false);
            assert_eq!(shown(&warm), shown(&tight), "seed {seed}");
            let d = largest_difference(&warm, &tight);
            assert!(d < INTERCEPT_TOLERANCE, "seed {seed}: {d:e}");
            assert!(
                warm.iterations < cold.iterations,
                "seed {seed}: warm {} rounds, cold {}",
                warm.iterations,
                cold.iterations
            );
            // Again on the same votes: the inherited rate lets the first round stop.
            let again = fit(&m, Some(&warm), &pc1);
            assert!(again.iterations <= 2, "{}", again.iterations);
            assert!(largest_difference(&again, &tight) < INTERCEPT_TOLERANCE);
        }
    }

    #[test]
    fn no_votes_give_an_empty_fit() {
        let b = fit_votes(&[], &BTreeMap::new());
        assert!(b.statements.is_empty());
        assert!(b.top(5).is_empty());
    }

    #[test]
    fn rank_correlations_of_known_orders() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&a, &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!((kendall(&a, &[1.0, 2.0, 4.0, 3.0]) - 4.0 / 6.0).abs() < 1e-12);
        assert!((kendall(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }
}

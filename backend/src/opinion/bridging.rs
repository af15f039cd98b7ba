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
//! statement; then μ is the mean residual. The statement factors start from the first principal
//! component (itself from a seeded start) or from the previous snapshot's fit, so the result is
//! deterministic; sums run over fixed row chunks in a fixed order, so it is bit-identical on any
//! number of threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::StatementId;
use super::matrix::VoteMatrix;
use super::pca::ROW_CHUNK;

/// Community Notes' regularisation: `l2_lambda` for the factors, five times that for the
/// intercepts.
pub const FACTOR_LAMBDA: f64 = 0.03;
pub const INTERCEPT_LAMBDA: f64 = 0.15;
/// Alternating rounds stop when no statement parameter and not μ moved by more than this.
pub const TOLERANCE: f64 = 1e-7;
pub const MAX_ITERATIONS: usize = 500;

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
}

impl Bridging {
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
    let n_cols = m.n_cols();
    let scale = (n_cols as f64).sqrt();
    let mut s_int = vec![0.0; n_cols];
    let mut s_fac: Vec<f64> = (0..n_cols)
        .map(|j| axis.get(j).copied().unwrap_or(0.0) * scale)
        .collect();
    let mut mean = None;
    if let Some(prev) = start {
        for (j, s) in m.statements.iter().enumerate() {
            if let Ok(i) = prev.statements.binary_search_by_key(s, |b| b.statement) {
                s_int[j] = prev.statements[i].intercept;
                s_fac[j] = prev.statements[i].factor;
            }
        }
        mean = Some(prev.mean);
    }
    let chunks = m.n_rows().div_ceil(ROW_CHUNK);
    let kept = |c: u32| !m.excluded[c as usize];

    // Per column: count and sum of ratings, by chunk then in order (deterministic).
    let ratings_per_col: Vec<u32> = {
        let mut n = vec![0u32; n_cols];
        for &c in &m.cols {
            n[c as usize] += 1;
        }
        n
    };
    let mut mean = mean.unwrap_or_else(|| {
        let (sum, n) = m
            .cols
            .iter()
            .zip(&m.values)
            .filter(|(c, _)| kept(**c))
            .fold((0.0, 0usize), |(s, n), (_, &v)| (s + rating(v), n + 1));
        if n == 0 { 0.0 } else { sum / n as f64 }
    });
    let rated_p: Vec<bool> = (0..m.n_rows())
        .map(|r| m.row(r).0.iter().any(|&c| kept(c)))
        .collect();
    let mut p_int = vec![0.0; m.n_rows()];
    let mut p_fac = vec![0.0; m.n_rows()];
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        // Participants, given the statements.
        p_int
            .par_chunks_mut(ROW_CHUNK)
            .zip(p_fac.par_chunks_mut(ROW_CHUNK))
            .enumerate()
            .for_each(|(chunk, (pi, pf))| {
                for k in 0..pi.len() {
                    let (cols, vals) = m.row(chunk * ROW_CHUNK + k);
                    let (mut n, mut sf, mut sff, mut sy, mut syf) = (0.0, 0.0, 0.0, 0.0, 0.0);
                    for (&c, &v) in cols.iter().zip(vals) {
                        if !kept(c) {
                            continue;
                        }
                        let c = c as usize;
                        let f = s_fac[c];
                        let y = rating(v) - mean - s_int[c];
                        n += 1.0;
                        sf += f;
                        sff += f * f;
                        sy += y;
                        syf += y * f;
                    }
                    (pi[k], pf[k]) = solve(n, sf, sff, sy, syf);
                }
            });
        // Statements, given the participants: five sums per column, per chunk, added in order.
        let partials: Vec<Vec<[f64; 5]>> = (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let mut acc = vec![[0.0; 5]; n_cols];
                let end = ((chunk + 1) * ROW_CHUNK).min(m.n_rows());
                for r in chunk * ROW_CHUNK..end {
                    let (cols, vals) = m.row(r);
                    let (pi, f) = (p_int[r], p_fac[r]);
                    for (&c, &v) in cols.iter().zip(vals) {
                        if !kept(c) {
                            continue;
                        }
                        let y = rating(v) - mean - pi;
                        let a = &mut acc[c as usize];
                        a[0] += 1.0;
                        a[1] += f;
                        a[2] += f * f;
                        a[3] += y;
                        a[4] += y * f;
                    }
                }
                acc
            })
            .collect();
        let mut sums = vec![[0.0; 5]; n_cols];
        for acc in partials {
            for (s, a) in sums.iter_mut().zip(acc) {
                for i in 0..5 {
                    s[i] += a[i];
                }
            }
        }
        let mut moved: f64 = 0.0;
        for j in 0..n_cols {
            let [n, sf, sff, sy, syf] = sums[j];
            let (i, f) = if n > 0.0 {
                solve(n, sf, sff, sy, syf)
            } else {
                (0.0, 0.0)
            };
            moved = moved.max((i - s_int[j]).abs()).max((f - s_fac[j]).abs());
            s_int[j] = i;
            s_fac[j] = f;
        }
        // μ: the mean residual, by chunk then in order.
        let residuals: Vec<(f64, usize)> = (0..chunks)
            .into_par_iter()
            .map(|chunk| {
                let end = ((chunk + 1) * ROW_CHUNK).min(m.n_rows());
                let (mut s, mut n) = (0.0, 0usize);
                for r in chunk * ROW_CHUNK..end {
                    let (cols, vals) = m.row(r);
                    for (&c, &v) in cols.iter().zip(vals) {
                        if kept(c) {
                            let c = c as usize;
                            s += rating(v) - p_int[r] - s_int[c] - p_fac[r] * s_fac[c];
                            n += 1;
                        }
                    }
                }
                (s, n)
            })
            .collect();
        let (s, n) = residuals
            .into_iter()
            .fold((0.0, 0), |(a, b), (s, n)| (a + s, b + n));
        let new_mean = if n == 0 { 0.0 } else { s / n as f64 };
        moved = moved.max((new_mean - mean).abs());
        mean = new_mean;
        let before: Vec<(f64, f64)> = s_int.iter().copied().zip(s_fac.iter().copied()).collect();
        let rated_s: Vec<bool> = (0..n_cols)
            .map(|j| !m.excluded[j] && ratings_per_col[j] > 0)
            .collect();
        rebalance(
            &mut mean,
            (&mut p_int, &mut p_fac, &rated_p),
            (&mut s_int, &mut s_fac, &rated_s),
        );
        for (j, (i, f)) in before.into_iter().enumerate() {
            moved = moved.max((s_int[j] - i).abs()).max((s_fac[j] - f).abs());
        }
        if moved < TOLERANCE {
            break;
        }
    }
    Bridging {
        mean,
        statements: (0..n_cols)
            .filter(|&j| !m.excluded[j] && ratings_per_col[j] > 0)
            .map(|j| BridgingStatement {
                statement: m.statements[j],
                intercept: s_int[j],
                factor: s_fac[j],
                ratings: ratings_per_col[j],
            })
            .collect(),
        iterations,
    }
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

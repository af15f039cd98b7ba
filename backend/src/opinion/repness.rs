//! Representative statements of a group (docs/opinion.md §8): what the group agrees or
//! disagrees with more than everyone else, with Pol.is's add-one smoothing and z-tests.

use serde::{Deserialize, Serialize};

use super::StatementId;

/// Vote counts over some set of participants for one statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Agrees.
    pub na: u32,
    /// Disagrees.
    pub nd: u32,
    /// Non-missing votes, passes included.
    pub ns: u32,
}

impl Counts {
    /// From the cells holding disagree, pass and agree (indexed by vote + 1, as
    /// [`super::VoteMatrix::value_counts`] keeps them).
    pub fn from_values([nd, np, na]: [u32; 3]) -> Counts {
        Counts {
            na,
            nd,
            ns: nd + np + na,
        }
    }

    pub fn minus(self, other: Counts) -> Counts {
        Counts {
            na: self.na.saturating_sub(other.na),
            nd: self.nd.saturating_sub(other.nd),
            ns: self.ns.saturating_sub(other.ns),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Agree,
    Disagree,
}

/// One-proportion test with +1 on both inputs: `2·sqrt(n+1)·((succ+1)/(n+1) − 0.5)`.
pub fn prop_test(succ: u32, n: u32) -> f64 {
    let (succ, n) = (f64::from(succ) + 1.0, f64::from(n) + 1.0);
    2.0 * n.sqrt() * (succ / n - 0.5)
}

/// Two-proportion z-test with +1 on all four inputs; 0 when the pooled proportion is 1.
pub fn two_prop_test(succ_in: u32, n_in: u32, succ_out: u32, n_out: u32) -> f64 {
    let (s1, n1) = (f64::from(succ_in) + 1.0, f64::from(n_in) + 1.0);
    let (s2, n2) = (f64::from(succ_out) + 1.0, f64::from(n_out) + 1.0);
    let pi1 = s1 / n1;
    let pi2 = s2 / n2;
    let pi_hat = (s1 + s2) / (n1 + n2);
    if pi_hat >= 1.0 {
        return 0.0;
    }
    let denom = (pi_hat * (1.0 - pi_hat) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if denom > 0.0 {
        (pi1 - pi2) / denom
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RepStats {
    pub pa: f64,
    pub pd: f64,
    pub pat: f64,
    pub pdt: f64,
    pub ra: f64,
    pub rd: f64,
    pub rat: f64,
    pub rdt: f64,
}

pub fn rep_stats(group: Counts, rest: Counts) -> RepStats {
    let ns2 = f64::from(group.ns) + 2.0;
    let pa = (f64::from(group.na) + 1.0) / ns2;
    let pd = (f64::from(group.nd) + 1.0) / ns2;
    let rest_ns2 = f64::from(rest.ns) + 2.0;
    RepStats {
        pa,
        pd,
        pat: prop_test(group.na, group.ns),
        pdt: prop_test(group.nd, group.ns),
        ra: pa / ((f64::from(rest.na) + 1.0) / rest_ns2),
        rd: pd / ((f64::from(rest.nd) + 1.0) / rest_ns2),
        rat: two_prop_test(group.na, group.ns, rest.na, rest.ns),
        rdt: two_prop_test(group.nd, group.ns, rest.nd, rest.ns),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Representative {
    pub statement: StatementId,
    pub direction: Direction,
    /// Counts within the group.
    pub counts: Counts,
    #[serde(flatten)]
    pub stats: RepStats,
}

impl Representative {
    fn metric(&self) -> f64 {
        let s = &self.stats;
        match self.direction {
            Direction::Agree => s.ra * s.rat * s.pa * s.pat,
            Direction::Disagree => s.rd * s.rdt * s.pd * s.pdt,
        }
    }
}

/// A candidate statement for a group, in ascending statement order.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pub statement: StatementId,
    pub counts: Counts,
    pub stats: RepStats,
}

fn beats_best_agree(c: &Candidate, best: Option<&Candidate>, z: f64) -> bool {
    let s = &c.stats;
    if c.counts.na == 0 && c.counts.nd == 0 {
        return false;
    }
    match best {
        Some(b) => {
            let bs = &b.stats;
            if bs.ra > 1.0 {
                s.ra * s.rat * s.pa * s.pat > bs.ra * bs.rat * bs.pa * bs.pat
            } else {
                s.pa * s.pat > bs.pa * bs.pat
            }
        }
        None => s.pat > z || (s.ra > 1.0 && s.pa > 0.5),
    }
}

fn rep(c: &Candidate, direction: Direction) -> Representative {
    Representative {
        statement: c.statement,
        direction,
        counts: c.counts,
        stats: c.stats,
    }
}

fn natural_direction(c: &Candidate) -> Direction {
    if c.stats.rat > c.stats.rdt {
        Direction::Agree
    } else {
        Direction::Disagree
    }
}

/// Pol.is's selection: significant statements ranked by repness·test·probability·test, the best
/// agree statement first, at most `max`, agrees before disagrees.
pub fn select(candidates: &[Candidate], max: usize, z: f64) -> Vec<Representative> {
    let mut best_agree: Option<&Candidate> = None;
    let mut best_by_test: Option<&Candidate> = None;
    let mut sufficient: Vec<Representative> = Vec::new();
    for c in candidates {
        let s = &c.stats;
        if (s.rat > z && s.pat > z) || (s.rdt > z && s.pdt > z) {
            sufficient.push(rep(c, natural_direction(c)));
        }
        if beats_best_agree(c, best_agree, z) {
            best_agree = Some(c);
        }
        let better = best_by_test.is_none_or(|b| s.rat.max(s.rdt) > b.stats.rat.max(b.stats.rdt));
        if better {
            best_by_test = Some(c);
        }
    }
    if sufficient.is_empty() {
        return match (best_agree, best_by_test) {
            (Some(b), _) => vec![rep(b, Direction::Agree)],
            (None, Some(b)) => vec![rep(b, natural_direction(b))],
            (None, None) => Vec::new(),
        };
    }
    sufficient.sort_by(|a, b| b.metric().total_cmp(&a.metric()));
    if let Some(b) = best_agree {
        sufficient.retain(|r| r.statement != b.statement);
        sufficient.insert(0, rep(b, Direction::Agree));
    }
    sufficient.truncate(max);
    let (mut agrees, disagrees): (Vec<_>, Vec<_>) = sufficient
        .into_iter()
        .partition(|r| r.direction == Direction::Agree);
    agrees.extend(disagrees);
    agrees
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z90: f64 = 1.2816;

    fn cand(statement: i64, group: Counts, rest: Counts) -> Candidate {
        Candidate {
            statement,
            counts: group,
            stats: rep_stats(group, rest),
        }
    }

    #[test]
    fn tests_match_hand_computation() {
        // na=8 of ns=10: 2·sqrt(11)·(9/11 − 0.5) = 7·sqrt(11)/11.
        assert!((prop_test(8, 10) - 7.0 * 11f64.sqrt() / 11.0).abs() < 1e-12);
        // Group 8/10, rest 2/10: π1 = π2' = 9/11 vs 3/11, π̂ = 12/22.
        let pi_hat: f64 = 12.0 / 22.0;
        let z = (9.0 / 11.0 - 3.0 / 11.0) / (pi_hat * (1.0 - pi_hat) * (2.0 / 11.0)).sqrt();
        assert!((two_prop_test(8, 10, 2, 10) - z).abs() < 1e-12);
        assert_eq!(two_prop_test(5, 10, 5, 10), 0.0);
        let s = rep_stats(
            Counts {
                na: 8,
                nd: 1,
                ns: 10,
            },
            Counts {
                na: 2,
                nd: 7,
                ns: 10,
            },
        );
        assert!((s.pa - 9.0 / 12.0).abs() < 1e-15);
        assert!((s.pd - 2.0 / 12.0).abs() < 1e-15);
        assert!((s.ra - (9.0 / 12.0) / (3.0 / 12.0)).abs() < 1e-12);
        assert!((s.rd - (2.0 / 12.0) / (8.0 / 12.0)).abs() < 1e-12);
        assert!(s.rdt < 0.0);
    }

    #[test]
    fn empty_counts_give_finite_neutral_values() {
        let s = rep_stats(Counts::default(), Counts::default());
        assert_eq!((s.pa, s.pd, s.ra, s.rd), (0.5, 0.5, 1.0, 1.0));
        assert_eq!((s.pat, s.rat), (1.0, 0.0));
        assert!(
            [s.pa, s.pd, s.pat, s.pdt, s.ra, s.rd, s.rat, s.rdt]
                .iter()
                .all(|x| x.is_finite())
        );
    }

    #[test]
    fn pooled_proportion_of_one_is_not_significant() {
        // Cannot happen with +1 smoothing unless both sides are all-success; guard anyway.
        assert_eq!(
            two_prop_test(u32::MAX - 1, u32::MAX - 1, u32::MAX - 1, u32::MAX - 1),
            0.0
        );
    }

    #[test]
    fn selection_puts_best_agree_first_and_agrees_before_disagrees() {
        let rest = Counts {
            na: 10,
            nd: 10,
            ns: 30,
        };
        let candidates = vec![
            // Strong disagree.
            cand(
                1,
                Counts {
                    na: 0,
                    nd: 20,
                    ns: 20,
                },
                rest,
            ),
            // Strong agree.
            cand(
                2,
                Counts {
                    na: 19,
                    nd: 0,
                    ns: 20,
                },
                rest,
            ),
            // Weaker agree.
            cand(
                3,
                Counts {
                    na: 15,
                    nd: 2,
                    ns: 20,
                },
                rest,
            ),
            // Nothing special.
            cand(
                4,
                Counts {
                    na: 5,
                    nd: 5,
                    ns: 20,
                },
                rest,
            ),
        ];
        let r = select(&candidates, 5, Z90);
        let got: Vec<(i64, Direction)> = r.iter().map(|r| (r.statement, r.direction)).collect();
        assert_eq!(
            got,
            vec![
                (2, Direction::Agree),
                (3, Direction::Agree),
                (1, Direction::Disagree)
            ]
        );
        assert_eq!(select(&candidates, 1, Z90).len(), 1);
    }

    #[test]
    fn without_sufficient_statements_fall_back_to_best_agree_then_best_test() {
        let rest = Counts {
            na: 10,
            nd: 10,
            ns: 20,
        };
        // Slightly more agreement than the rest, not significant: ra > 1 and pa > 0.5.
        let mild = cand(
            7,
            Counts {
                na: 2,
                nd: 1,
                ns: 3,
            },
            rest,
        );
        let r = select(&[mild], 5, Z90);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].statement, r[0].direction), (7, Direction::Agree));
        // Only passes in the group: no best agree; the highest max(rat, rdt) is returned.
        let a = cand(
            1,
            Counts {
                na: 0,
                nd: 0,
                ns: 2,
            },
            Counts {
                na: 9,
                nd: 0,
                ns: 10,
            },
        );
        let b = cand(
            2,
            Counts {
                na: 0,
                nd: 0,
                ns: 2,
            },
            Counts {
                na: 0,
                nd: 0,
                ns: 20,
            },
        );
        let r = select(&[a, b], 5, Z90);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].statement, 2);
        assert!(select(&[], 5, Z90).is_empty());
    }
}

//! Statements most participants agree (or disagree) with, overall and across groups
//! (docs/opinion.md §9 and §10).

use serde::{Deserialize, Serialize};

use super::StatementId;
use super::repness::{Counts, prop_test};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsensusStatement {
    pub statement: StatementId,
    /// pa (or pd): (n_success + 1) / (n_seen + 2).
    pub p: f64,
    /// pat (or pdt).
    pub p_test: f64,
    pub counts: Counts,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consensus {
    pub agree: Vec<ConsensusStatement>,
    pub disagree: Vec<ConsensusStatement>,
}

fn top(
    counts: &[(StatementId, Counts)],
    success: fn(&Counts) -> u32,
    max: usize,
    z: f64,
) -> Vec<ConsensusStatement> {
    let mut out: Vec<ConsensusStatement> = counts
        .iter()
        .filter_map(|&(statement, c)| {
            let n = success(&c);
            let p = (f64::from(n) + 1.0) / (f64::from(c.ns) + 2.0);
            let p_test = prop_test(n, c.ns);
            (p > 0.5 && p_test > z).then_some(ConsensusStatement {
                statement,
                p,
                p_test,
                counts: c,
            })
        })
        .collect();
    // Stable: equal scores keep ascending statement order.
    out.sort_by(|a, b| (b.p * b.p_test).total_cmp(&(a.p * a.p_test)));
    out.truncate(max);
    out
}

/// `counts`: per listable statement (ascending id), over all participants' rows of M.
pub fn consensus(counts: &[(StatementId, Counts)], max: usize, z: f64) -> Consensus {
    Consensus {
        agree: top(counts, |c| c.na, max, z),
        disagree: top(counts, |c| c.nd, max, z),
    }
}

/// `Π_g (A_g + 1) / (S_g + 2)`: high only if every group tends to agree.
pub fn group_informed_consensus(per_group: impl IntoIterator<Item = Counts>) -> f64 {
    per_group
        .into_iter()
        .map(|c| (f64::from(c.na) + 1.0) / (f64::from(c.ns) + 2.0))
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consensus_keeps_significant_majorities_ranked_by_p_times_test() {
        let counts = vec![
            (
                1,
                Counts {
                    na: 9,
                    nd: 0,
                    ns: 10,
                },
            ),
            (
                2,
                Counts {
                    na: 30,
                    nd: 1,
                    ns: 32,
                },
            ),
            (
                3,
                Counts {
                    na: 5,
                    nd: 5,
                    ns: 10,
                },
            ),
            (
                4,
                Counts {
                    na: 0,
                    nd: 8,
                    ns: 10,
                },
            ),
            (
                5,
                Counts {
                    na: 1,
                    nd: 0,
                    ns: 1,
                },
            ),
        ];
        let c = consensus(&counts, 5, 1.2816);
        let agree: Vec<i64> = c.agree.iter().map(|s| s.statement).collect();
        let disagree: Vec<i64> = c.disagree.iter().map(|s| s.statement).collect();
        // pa·pat: #2 = 31/34·2·sqrt(33)·(31/33−0.5) ≈ 4.60; #1 = 10/12·2·sqrt(11)·(10/11−0.5) ≈ 2.26;
        // #5: pa = 2/3, pat = 2·sqrt(2)·(1 − 0.5) ≈ 1.41 > 1.2816 → 0.94.
        assert_eq!(agree, vec![2, 1, 5]);
        assert_eq!(disagree, vec![4]);
        assert!((c.agree[1].p - 10.0 / 12.0).abs() < 1e-15);
        assert_eq!(consensus(&counts, 1, 1.2816).agree.len(), 1);
        assert_eq!(consensus(&[], 5, 1.2816), Consensus::default());
    }

    #[test]
    fn group_informed_consensus_is_the_product_over_groups() {
        let g = [
            Counts {
                na: 3,
                nd: 0,
                ns: 4,
            },
            Counts {
                na: 0,
                nd: 1,
                ns: 1,
            },
        ];
        assert!((group_informed_consensus(g) - (4.0 / 6.0) * (1.0 / 3.0)).abs() < 1e-15);
        assert_eq!(group_informed_consensus([]), 1.0);
    }
}

//! Which statement to show next (docs/opinion.md §11): new, divisive and agreeable statements
//! first.

use std::collections::BTreeMap;

use super::rng::{SplitMix64, seed_from};
use super::{ParticipantId, StatementId};

/// `A`, `D`, `S`: agrees, disagrees and all votes summed over groups; `extremity` = ‖proj_j‖.
pub fn priority(agree: u32, disagree: u32, seen: u32, extremity: f64) -> f64 {
    let (a, d, s) = (f64::from(agree), f64::from(disagree), f64::from(seen));
    let p = (s - a - d).max(0.0);
    let importance = (1.0 - (p + 1.0) / (s + 2.0)) * (extremity + 1.0) * (a + 1.0) / (s + 2.0);
    // New statements get up to 9× their importance so that they collect votes quickly.
    let novelty = 1.0 + 8.0 * 2f64.powf(-s / 5.0);
    (importance * novelty).powi(2)
}

/// Draws one statement the participant has not voted on, with probability proportional to its
/// priority. The draw is seeded by (participant, votes cast so far): a reload shows the same
/// statement, and the next vote moves on.
pub fn next_statement(
    priorities: &BTreeMap<StatementId, f64>,
    has_voted: impl Fn(StatementId) -> bool,
    participant: ParticipantId,
    votes_cast: u64,
) -> Option<StatementId> {
    let open: Vec<(StatementId, f64)> = priorities
        .iter()
        .filter(|(s, _)| !has_voted(**s))
        .map(|(&s, &p)| (s, if p.is_finite() && p > 0.0 { p } else { 0.0 }))
        .collect();
    let last = open.last()?.0;
    let total: f64 = open.iter().map(|(_, p)| p).sum();
    let mut rng = SplitMix64::new(seed_from(&[participant as u64, votes_cast]));
    if total <= 0.0 {
        return Some(open[rng.below(open.len() as u64) as usize].0);
    }
    let mut target = rng.next_f64() * total;
    for &(s, p) in &open {
        if target < p {
            return Some(s);
        }
        target -= p;
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_matches_hand_computation() {
        // A=6, D=2, S=10 (P=2), E=0.5: importance = (1 − 3/12)·1.5·7/12 = 0.65625,
        // novelty = 1 + 8·2^(−2) = 3, priority = (0.65625·3)² = 3.8759765625.
        assert!((priority(6, 2, 10, 0.5) - 3.875_976_562_5).abs() < 1e-12);
        // A brand-new statement: importance = ½·1·½, novelty 9 → (2.25)².
        assert_eq!(priority(0, 0, 0, 0.0), 5.0625);
        // All passes: importance shrinks but stays positive.
        let all_pass = priority(0, 0, 20, 0.0);
        assert!(all_pass > 0.0 && all_pass < priority(10, 10, 20, 0.0));
    }

    #[test]
    fn next_statement_is_reproducible_and_skips_voted_ones() {
        let mut pr = BTreeMap::new();
        pr.insert(1, 1.0);
        pr.insert(2, 100.0);
        pr.insert(3, 1.0);
        let a = next_statement(&pr, |s| s == 2, 42, 3);
        assert_eq!(a, next_statement(&pr, |s| s == 2, 42, 3));
        assert!(matches!(a, Some(1) | Some(3)));
        assert_eq!(next_statement(&pr, |_| true, 42, 3), None);
        assert_eq!(next_statement(&BTreeMap::new(), |_| false, 1, 0), None);
    }

    #[test]
    fn next_statement_follows_priorities() {
        let mut pr = BTreeMap::new();
        pr.insert(1, 1.0);
        pr.insert(2, 9.0);
        let twos = (0..10_000u64)
            .filter(|&n| next_statement(&pr, |_| false, 7, n) == Some(2))
            .count();
        // Expected 9,000; the binomial standard deviation is 30.
        assert!((8_850..=9_150).contains(&twos), "{twos}");
    }

    #[test]
    fn zero_priorities_still_serve_a_statement() {
        let mut pr = BTreeMap::new();
        pr.insert(5, 0.0);
        assert_eq!(next_statement(&pr, |_| false, 1, 1), Some(5));
    }
}

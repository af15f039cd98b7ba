//! Which statements a report may call uniting, dividing or representative (docs/opinion.md §8
//! and §9): the Pol.is rule, a one-tailed z-test at 90 % on agree/disagree proportions with the
//! +1/+2 prior, plus a minimum number of votes. The prior alone lets a single agree pass the
//! test (`prop_test(1, 1)` ≈ 1.41 > 1.28), so the minimum is what keeps a statement written
//! minutes ago out of the lists.

use super::StatementId;
use super::repness::{Counts, Direction, prop_test, two_prop_test};

/// Fewest votes (passes included) on a statement, per group where groups are compared, before
/// a report lists it.
pub const MIN_VOTES: u32 = 5;

fn success(c: Counts, direction: Direction) -> u32 {
    match direction {
        Direction::Agree => c.na,
        Direction::Disagree => c.nd,
    }
}

/// Smoothed share `(succ + 1) / (n + 2)`.
fn smoothed(c: Counts, direction: Direction) -> f64 {
    (f64::from(success(c, direction)) + 1.0) / (f64::from(c.ns) + 2.0)
}

/// A significant majority of `c` votes `direction`: enough votes, smoothed share above one
/// half and the one-proportion test above `z`.
pub fn significant_majority(c: Counts, direction: Direction, z: f64) -> bool {
    c.ns >= MIN_VOTES && smoothed(c, direction) > 0.5 && prop_test(success(c, direction), c.ns) > z
}

/// A uniting statement: everyone together passes the majority test in `direction`, and no
/// group (with any votes) leans the other way.
pub fn uniting(overall: Counts, groups: &[Counts], direction: Direction, z: f64) -> bool {
    significant_majority(overall, direction, z)
        && groups
            .iter()
            .filter(|g| g.ns > 0)
            .all(|&g| smoothed(g, direction) > 0.5)
}

/// The most and least agreeing of `groups` (indices), if their agree shares differ
/// significantly: both have enough votes and the two-proportion test of the higher against
/// the lower is above `z`.
pub fn dividing(groups: &[Counts], z: f64) -> Option<(usize, usize)> {
    let eligible: Vec<(usize, Counts)> = groups
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| c.ns >= MIN_VOTES)
        .collect();
    let share = |c: Counts| smoothed(c, Direction::Agree);
    let high = eligible
        .iter()
        .copied()
        .max_by(|a, b| share(a.1).total_cmp(&share(b.1)).then(b.0.cmp(&a.0)))?;
    let low = eligible
        .iter()
        .copied()
        .min_by(|a, b| share(a.1).total_cmp(&share(b.1)).then(a.0.cmp(&b.0)))?;
    if high.0 == low.0 {
        return None;
    }
    (two_prop_test(high.1.na, high.1.ns, low.1.na, low.1.ns) > z).then_some((high.0, low.0))
}

/// A representative statement of a group is shown only if the group's own majority and its
/// difference from everyone else are both significant.
pub fn representative(group: Counts, rest: Counts, direction: Direction, z: f64) -> bool {
    significant_majority(group, direction, z)
        && two_prop_test(
            success(group, direction),
            group.ns,
            success(rest, direction),
            rest.ns,
        ) > z
}

/// Statements sorted by score, best first, ties by ascending id: a stable order for lists.
pub fn rank(mut scored: Vec<(StatementId, f64)>) -> Vec<(StatementId, f64)> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: f64 = 1.2816;

    fn c(na: u32, nd: u32, ns: u32) -> Counts {
        Counts { na, nd, ns }
    }

    #[test]
    fn one_vote_is_never_uniting_although_the_prior_alone_passes_the_test() {
        assert!(prop_test(1, 1) > Z, "the z-test alone would let it through");
        assert!(!uniting(c(1, 0, 1), &[c(1, 0, 1)], Direction::Agree, Z));
        assert!(!uniting(c(0, 1, 1), &[c(0, 1, 1)], Direction::Disagree, Z));
        assert!(!uniting(c(0, 1, 1), &[], Direction::Agree, Z));
    }

    #[test]
    fn a_clear_majority_with_enough_votes_unites() {
        assert!(uniting(
            c(18, 1, 20),
            &[c(9, 0, 10), c(9, 1, 10)],
            Direction::Agree,
            Z
        ));
        // Same overall numbers, but one group leans against: not uniting.
        assert!(!uniting(
            c(18, 1, 20),
            &[c(15, 0, 15), c(3, 1, 5), c(0, 4, 5)],
            Direction::Agree,
            Z
        ));
        // A bare majority is not significant.
        assert!(!uniting(c(6, 4, 10), &[], Direction::Agree, Z));
    }

    #[test]
    fn dividing_needs_a_significant_gap_between_groups_with_enough_votes() {
        assert_eq!(dividing(&[c(9, 1, 10), c(1, 9, 10)], Z), Some((0, 1)));
        assert_eq!(dividing(&[c(1, 9, 10), c(9, 1, 10)], Z), Some((1, 0)));
        // 100 % against 0 %, but one vote each: not enough to say.
        assert_eq!(dividing(&[c(1, 0, 1), c(0, 1, 1)], Z), None);
        // Small difference.
        assert_eq!(dividing(&[c(6, 4, 10), c(5, 5, 10)], Z), None);
        assert_eq!(dividing(&[c(6, 4, 10)], Z), None);
    }

    #[test]
    fn representative_needs_own_majority_and_difference() {
        assert!(representative(
            c(9, 1, 10),
            c(2, 8, 10),
            Direction::Agree,
            Z
        ));
        // The group agrees, but so does everyone else.
        assert!(!representative(
            c(9, 1, 10),
            c(9, 1, 10),
            Direction::Agree,
            Z
        ));
        assert!(!representative(
            c(2, 0, 2),
            c(0, 9, 10),
            Direction::Agree,
            Z
        ));
    }

    #[test]
    fn rank_is_by_score_then_id() {
        assert_eq!(
            rank(vec![(3, 0.5), (1, 0.5), (2, 0.9)]),
            vec![(2, 0.9), (1, 0.5), (3, 0.5)]
        );
    }
}

//! Adjusted Rand index (Hubert & Arabie 1985), to compare our groups with Pol.is's.

use std::collections::BTreeMap;

fn pairs(n: u64) -> f64 {
    (n as f64) * (n.saturating_sub(1) as f64) / 2.0
}

/// ARI of two labelings of the same items (`labels[i] = (a, b)`): 1 for identical partitions
/// (up to renaming), about 0 for independent ones. Two one-cluster partitions count as
/// identical; fewer than two items give 1.
pub fn adjusted_rand_index(labels: &[(u64, u64)]) -> f64 {
    let mut table: BTreeMap<(u64, u64), u64> = BTreeMap::new();
    let mut rows: BTreeMap<u64, u64> = BTreeMap::new();
    let mut cols: BTreeMap<u64, u64> = BTreeMap::new();
    for &(a, b) in labels {
        *table.entry((a, b)).or_default() += 1;
        *rows.entry(a).or_default() += 1;
        *cols.entry(b).or_default() += 1;
    }
    let index: f64 = table.values().map(|&n| pairs(n)).sum();
    let sum_a: f64 = rows.values().map(|&n| pairs(n)).sum();
    let sum_b: f64 = cols.values().map(|&n| pairs(n)).sum();
    let total = pairs(labels.len() as u64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sum_a * sum_b / total;
    let max = (sum_a + sum_b) / 2.0;
    if max == expected {
        return if index == max { 1.0 } else { 0.0 };
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partitions_score_one_whatever_the_names() {
        let l = [(0, 5), (0, 5), (1, 7), (1, 7), (2, 9)];
        assert!((adjusted_rand_index(&l) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn matches_hand_computed_example() {
        // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: contingency [[2,1,0],[0,1,2]].
        // index = 1+0+0+0+0+1 = 2; Σa = 3+3 = 6; Σb = 1+1+1 = 3; total = 15;
        // expected = 18/15 = 1.2; max = 4.5 → (2 − 1.2)/(4.5 − 1.2) = 0.8/3.3.
        let l = [(0, 0), (0, 0), (0, 1), (1, 1), (1, 2), (1, 2)];
        assert!((adjusted_rand_index(&l) - 0.8 / 3.3).abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(adjusted_rand_index(&[]), 1.0);
        assert_eq!(adjusted_rand_index(&[(1, 2)]), 1.0);
        assert_eq!(adjusted_rand_index(&[(1, 2), (1, 2)]), 1.0);
        // One cluster against all singletons.
        assert_eq!(adjusted_rand_index(&[(0, 0), (0, 1), (0, 2)]), 0.0);
    }
}

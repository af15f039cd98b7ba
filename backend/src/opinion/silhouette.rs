//! Silhouette of a grouping of base clusters, over distances between base-cluster centres
//! (docs/opinion.md §7).

use super::kmeans::dist;

/// `s = (b − a) / max(a, b)` per base cluster, 0 for a group of one; `labels[i]` is the group
/// of base cluster `i`.
pub fn silhouette_values(centres: &[[f64; 2]], labels: &[usize]) -> Vec<f64> {
    let n_groups = labels.iter().max().map_or(0, |m| m + 1);
    let sizes = {
        let mut s = vec![0usize; n_groups];
        for &l in labels {
            s[l] += 1;
        }
        s
    };
    (0..centres.len())
        .map(|i| {
            let own = labels[i];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let mut sum = vec![0.0; n_groups];
            for j in 0..centres.len() {
                if j != i {
                    sum[labels[j]] += dist(centres[i], centres[j]);
                }
            }
            let a = sum[own] / (sizes[own] - 1) as f64;
            let b = (0..n_groups)
                .filter(|&g| g != own && sizes[g] > 0)
                .map(|g| sum[g] / sizes[g] as f64)
                .fold(f64::INFINITY, f64::min);
            if !b.is_finite() {
                return 0.0;
            }
            let m = a.max(b);
            if m > 0.0 { (b - a) / m } else { 0.0 }
        })
        .collect()
}

/// Unweighted mean over base clusters. A grouping with fewer than two non-empty groups has no
/// silhouette; it scores −1 so that it is never preferred over a real split.
pub fn silhouette(centres: &[[f64; 2]], labels: &[usize]) -> f64 {
    let mut groups: Vec<usize> = labels.to_vec();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() < 2 {
        return -1.0;
    }
    let v = silhouette_values(centres, labels);
    v.iter().sum::<f64>() / v.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silhouette_matches_hand_computation() {
        // Group 0: points 0 and 1 (distance 1); group 1: points 4 and 6 on a line.
        let c = [[0.0, 0.0], [1.0, 0.0], [4.0, 0.0], [6.0, 0.0]];
        let labels = [0, 0, 1, 1];
        let s = silhouette_values(&c, &labels);
        // Point 0: a = 1, b = (4+6)/2 = 5 → 0.8.  Point 1: a = 1, b = (3+5)/2 = 4 → 0.75.
        // Point 4: a = 2, b = (4+3)/2 = 3.5 → 1.5/3.5.  Point 6: a = 2, b = 5.5 → 3.5/5.5.
        let expected = [0.8, 0.75, 1.5 / 3.5, 3.5 / 5.5];
        for (x, e) in s.iter().zip(expected) {
            assert!((x - e).abs() < 1e-12, "{x} vs {e}");
        }
        let mean = expected.iter().sum::<f64>() / 4.0;
        assert!((silhouette(&c, &labels) - mean).abs() < 1e-12);
    }

    #[test]
    fn singletons_score_zero_and_one_group_scores_minus_one() {
        let c = [[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]];
        let s = silhouette_values(&c, &[0, 0, 1]);
        assert_eq!(s[2], 0.0);
        assert_eq!(silhouette(&c, &[0, 0, 0]), -1.0);
        assert_eq!(silhouette(&[], &[]), -1.0);
    }

    #[test]
    fn identical_centres_do_not_divide_by_zero() {
        let c = [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]];
        assert_eq!(silhouette(&c, &[0, 0, 1, 1]), 0.0);
    }
}

//! How stable are the opinion groups? Draw the clustered participants again with replacement
//! (a bootstrap resample), group the drawn ones anew with k-means on their map positions from
//! a random start, match the new groups to the old ones so that as many as possible keep
//! their group, and count who did. A group whose members mostly land together again is not an
//! accident of who happened to take part.
//!
//! Pure and deterministic: the same points, groups and seed always give the same figures.

use serde::{Deserialize, Serialize};

use super::kmeans::{self, Seed};
use super::rng::{SplitMix64, seed_from};

/// Resamples per stability figure: enough for a figure to move by a few points at most
/// between seeds, few enough to compute with the report.
pub const RESAMPLES: usize = 20;
const ITERATIONS: usize = 50;
const THRESHOLD: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStability {
    /// Index of the group.
    pub group: usize,
    /// Times a member of the group was drawn, over all resamples.
    pub drawn: u64,
    /// Of those, times the member landed in the same group again.
    pub same: u64,
}

impl GroupStability {
    /// Share landing in the same group, 0 ..= 1 (0 when never drawn).
    pub fn share(&self) -> f64 {
        if self.drawn == 0 {
            0.0
        } else {
            self.same as f64 / self.drawn as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    pub seed: u64,
    pub resamples: usize,
    pub groups: Vec<GroupStability>,
}

/// `points[i]` is a clustered participant's map position and `groups[i]` its group (below `k`).
pub fn stability(
    points: &[[f64; 2]],
    groups: &[usize],
    k: usize,
    seed: u64,
    resamples: usize,
) -> Stability {
    let mut out: Vec<GroupStability> = (0..k)
        .map(|group| GroupStability {
            group,
            drawn: 0,
            same: 0,
        })
        .collect();
    let n = points.len().min(groups.len());
    if n > 0 && k >= 2 {
        for r in 0..resamples {
            let mut rng = SplitMix64::new(seed_from(&[seed, r as u64]));
            // Multiplicity of each participant in this resample, and the draw order, which
            // gives the random start of k-means.
            let mut weight = vec![0.0f64; n];
            let mut order: Vec<usize> = Vec::with_capacity(n);
            for _ in 0..n {
                let i = rng.below(n as u64) as usize;
                if weight[i] == 0.0 {
                    order.push(i);
                }
                weight[i] += 1.0;
            }
            let drawn_points: Vec<[f64; 2]> = order.iter().map(|&i| points[i]).collect();
            let drawn_weights: Vec<f64> = order.iter().map(|&i| weight[i]).collect();
            let seeds = spread_start(&drawn_points, k);
            let (clusters, _) = kmeans::kmeans(
                &drawn_points,
                Some(&drawn_weights),
                seeds,
                ITERATIONS,
                THRESHOLD,
            );
            // overlap[c][g]: drawn members of new cluster c that were in old group g.
            let mut overlap = vec![vec![0u64; k]; clusters.len()];
            for (c, cluster) in clusters.iter().enumerate() {
                for &p in &cluster.members {
                    let g = groups[order[p]];
                    if g < k {
                        overlap[c][g] += 1;
                    }
                }
            }
            let matched = best_matching(&overlap, k);
            for &i in &order {
                if let Some(o) = out.get_mut(groups[i]) {
                    o.drawn += 1;
                }
            }
            for (c, g) in matched.iter().enumerate() {
                if let Some(g) = *g {
                    out[g].same += overlap[c][g];
                }
            }
        }
    }
    Stability {
        seed,
        resamples,
        groups: out,
    }
}

/// Start centres spread out over the drawn points: the first drawn point, then each time the
/// point farthest from the centres chosen so far (ties to the earliest drawn). A start from
/// the first few drawn points could put two centres in one tight cloud and report a split
/// that is only a poor start; the draw order still makes each resample's start its own.
fn spread_start(points: &[[f64; 2]], k: usize) -> Vec<Seed> {
    let mut seeds: Vec<Seed> = Vec::new();
    let Some(&first) = points.first() else {
        return seeds;
    };
    seeds.push(Seed {
        id: 0,
        center: first,
    });
    let mut nearest: Vec<f64> = points.iter().map(|&p| kmeans::dist(p, first)).collect();
    while seeds.len() < k {
        let Some((i, &d)) = nearest
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        else {
            break;
        };
        if d <= 0.0 {
            // Fewer distinct points than groups.
            break;
        }
        let c = points[i];
        seeds.push(Seed {
            id: seeds.len() as u32,
            center: c,
        });
        for (n, &p) in nearest.iter_mut().zip(points) {
            *n = n.min(kmeans::dist(p, c));
        }
    }
    seeds
}

/// The one-to-one assignment of new clusters to old groups with the largest total overlap
/// (exhaustive: there are at most a handful of groups). Ties go to the first found.
fn best_matching(overlap: &[Vec<u64>], k: usize) -> Vec<Option<usize>> {
    fn search(
        c: usize,
        overlap: &[Vec<u64>],
        used: &mut Vec<bool>,
        current: &mut Vec<Option<usize>>,
        total: u64,
        best: &mut (u64, Vec<Option<usize>>),
    ) {
        if c == overlap.len() {
            if total > best.0 || best.1.is_empty() {
                *best = (total, current.clone());
            }
            return;
        }
        for g in 0..used.len() {
            if !used[g] {
                used[g] = true;
                current.push(Some(g));
                search(c + 1, overlap, used, current, total + overlap[c][g], best);
                current.pop();
                used[g] = false;
            }
        }
        // More clusters than groups cannot happen (k-means never adds clusters), but a
        // cluster may stay unmatched when groups run out.
        if used.iter().all(|&u| u) {
            current.push(None);
            search(c + 1, overlap, used, current, total, best);
            current.pop();
        }
    }
    let mut best = (0, Vec::new());
    search(
        0,
        overlap,
        &mut vec![false; k],
        &mut Vec::new(),
        0,
        &mut best,
    );
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tight, far-apart clouds and one diffuse blob between two others.
    fn clouds() -> (Vec<[f64; 2]>, Vec<usize>) {
        let mut rng = SplitMix64::new(7);
        let mut points = Vec::new();
        let mut groups = Vec::new();
        for (g, centre) in [[-10.0, 0.0], [10.0, 0.0]].iter().enumerate() {
            for _ in 0..60 {
                points.push([
                    centre[0] + rng.next_f64() - 0.5,
                    centre[1] + rng.next_f64() - 0.5,
                ]);
                groups.push(g);
            }
        }
        (points, groups)
    }

    #[test]
    fn well_separated_groups_are_fully_stable() {
        let (points, groups) = clouds();
        let s = stability(&points, &groups, 2, 42, RESAMPLES);
        assert_eq!(s.groups.len(), 2);
        for g in &s.groups {
            assert!(g.drawn > 0);
            assert_eq!(g.same, g.drawn, "group {} moved", g.group);
            assert!((g.share() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn groups_cut_through_one_cloud_are_unstable() {
        // One uniform blob split at random into two "groups": no resample can recover that.
        let mut rng = SplitMix64::new(3);
        let points: Vec<[f64; 2]> = (0..200).map(|_| [rng.next_f64(), rng.next_f64()]).collect();
        let groups: Vec<usize> = (0..200).map(|i| i % 2).collect();
        let s = stability(&points, &groups, 2, 42, RESAMPLES);
        for g in &s.groups {
            assert!(
                g.share() < 0.7,
                "group {} looked stable: {}",
                g.group,
                g.share()
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_figures_and_another_seed_may_not() {
        let mut rng = SplitMix64::new(11);
        let points: Vec<[f64; 2]> = (0..150)
            .map(|i| {
                let shift = if i % 3 == 0 { 1.0 } else { 0.0 };
                [rng.next_f64() + shift, rng.next_f64()]
            })
            .collect();
        let groups: Vec<usize> = points.iter().map(|p| usize::from(p[0] > 0.9)).collect();
        let a = stability(&points, &groups, 2, 5, RESAMPLES);
        let b = stability(&points, &groups, 2, 5, RESAMPLES);
        assert_eq!(a, b);
        assert_eq!(a.seed, 5);
        assert_eq!(a.resamples, RESAMPLES);
        let total: u64 = a.groups.iter().map(|g| g.drawn).sum();
        // Each resample draws every index at most once as "drawn" (unique participants).
        assert!(total <= (150 * RESAMPLES) as u64);
        assert!(total > 0);
    }

    #[test]
    fn one_group_or_nobody_gives_no_figures() {
        let s = stability(&[[0.0, 0.0]], &[0], 1, 1, RESAMPLES);
        assert_eq!(s.groups[0].drawn, 0);
        let s = stability(&[], &[], 2, 1, RESAMPLES);
        assert!(s.groups.iter().all(|g| g.drawn == 0));
    }

    #[test]
    fn matching_is_one_to_one_and_maximal() {
        let overlap = vec![vec![5, 6], vec![1, 9]];
        assert_eq!(best_matching(&overlap, 2), vec![Some(0), Some(1)]);
        let overlap = vec![vec![9, 1], vec![8, 0]];
        assert_eq!(best_matching(&overlap, 2), vec![Some(0), Some(1)]);
    }
}

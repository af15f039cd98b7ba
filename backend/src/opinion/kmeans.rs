//! Weighted k-means on 2-D points (docs/opinion.md §6 and §7): base clusters of participants,
//! and groups of base clusters. Deterministic: ties go to the lowest cluster id or point index,
//! and parallel partial sums are added in a fixed chunk order.

use std::collections::HashSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Points per parallel work item; fixed so that sums never depend on the thread count.
const POINT_CHUNK: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    pub id: u32,
    pub center: [f64; 2],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: u32,
    pub center: [f64; 2],
    /// Indices into the clustered points, ascending.
    pub members: Vec<usize>,
}

pub(crate) fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Squared distance from the coordinate differences (never via |a|²+|b|²−2a·b, which loses
/// small distances to cancellation); only used to compare.
fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    dx * dx + dy * dy
}

fn key(p: [f64; 2]) -> (u64, u64) {
    // + 0.0 turns −0.0 into 0.0 so that equal points have equal keys.
    ((p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits())
}

/// Number of distinct points, counting no further than `cap`.
pub fn distinct_points(points: &[[f64; 2]], cap: usize) -> usize {
    let mut seen = HashSet::new();
    for &p in points {
        if seen.len() >= cap {
            break;
        }
        seen.insert(key(p));
    }
    seen.len()
}

/// First run: the first `k` distinct points in order, ids 0, 1, …
pub fn cold_start(points: &[[f64; 2]], k: usize) -> Vec<Seed> {
    let mut seen = HashSet::new();
    let mut seeds = Vec::new();
    for &p in points {
        if seeds.len() >= k {
            break;
        }
        if seen.insert(key(p)) {
            seeds.push(Seed {
                id: seeds.len() as u32,
                center: p,
            });
        }
    }
    seeds
}

/// Later runs: previous clusters (id, surviving member indices) recentred on the members'
/// current positions; empty ones dropped, identical centres merged, then the point farthest
/// from its nearest centre split off until there are `min(k, distinct points)` clusters.
pub fn warm_start(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    previous: &[(u32, Vec<usize>)],
    k: usize,
) -> Vec<Seed> {
    let mut previous: Vec<&(u32, Vec<usize>)> = previous.iter().collect();
    previous.sort_by_key(|(id, _)| *id);
    let mut seeds: Vec<Seed> = Vec::new();
    let mut centres_seen = HashSet::new();
    for (id, members) in previous {
        let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
        for &i in members {
            let w = weights.map_or(1.0, |w| w[i]);
            sx += w * points[i][0];
            sy += w * points[i][1];
            sw += w;
        }
        if sw <= 0.0 {
            continue;
        }
        let center = [sx / sw, sy / sw];
        if centres_seen.insert(key(center)) && seeds.len() < k {
            seeds.push(Seed { id: *id, center });
        }
    }
    let target = k.min(distinct_points(points, k));
    if seeds.len() >= target {
        return seeds;
    }
    let mut nearest: Vec<f64> = points
        .iter()
        .map(|&p| {
            seeds
                .iter()
                .map(|s| dist2(p, s.center))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    while seeds.len() < target {
        let mut far = 0;
        for (i, &d) in nearest.iter().enumerate() {
            if d > nearest[far] {
                far = i;
            }
        }
        if nearest.get(far).is_none_or(|&d| d <= 0.0) {
            break;
        }
        let mut id = 0;
        while seeds.iter().any(|s| s.id == id) {
            id += 1;
        }
        let center = points[far];
        seeds.push(Seed { id, center });
        for (n, &p) in nearest.iter_mut().zip(points) {
            *n = n.min(dist2(p, center));
        }
    }
    seeds
}

/// One Lloyd step: assign every point to its nearest centre (lowest index on ties) and return
/// the weighted sums (x, y, weight) per centre.
fn assign(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    centres: &[[f64; 2]],
    labels: &mut [u32],
) -> Vec<[f64; 3]> {
    let partials: Vec<Vec<[f64; 3]>> = labels
        .par_chunks_mut(POINT_CHUNK)
        .enumerate()
        .map(|(chunk, labels)| {
            let mut acc = vec![[0.0; 3]; centres.len()];
            for (k, label) in labels.iter_mut().enumerate() {
                let i = chunk * POINT_CHUNK + k;
                let p = points[i];
                let mut best = 0;
                let mut best_d = f64::INFINITY;
                for (c, &centre) in centres.iter().enumerate() {
                    let d = dist2(p, centre);
                    if d < best_d {
                        best_d = d;
                        best = c;
                    }
                }
                *label = best as u32;
                let w = weights.map_or(1.0, |w| w[i]);
                acc[best][0] += w * p[0];
                acc[best][1] += w * p[1];
                acc[best][2] += w;
            }
            acc
        })
        .collect();
    let mut sums = vec![[0.0; 3]; centres.len()];
    for acc in partials {
        for (s, a) in sums.iter_mut().zip(acc) {
            s[0] += a[0];
            s[1] += a[1];
            s[2] += a[2];
        }
    }
    sums
}

/// Runs up to `max_iter` Lloyd steps; stops once no cluster emptied and every centre moved less
/// than `threshold`. Clusters that lose all members disappear. Returns clusters by id and the
/// number of steps taken.
pub fn kmeans(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    mut seeds: Vec<Seed>,
    max_iter: usize,
    threshold: f64,
) -> (Vec<Cluster>, usize) {
    seeds.sort_by_key(|s| s.id);
    if points.is_empty() || seeds.is_empty() {
        return (Vec::new(), 0);
    }
    let mut labels = vec![0u32; points.len()];
    let mut steps = 0;
    loop {
        let centres: Vec<[f64; 2]> = seeds.iter().map(|s| s.center).collect();
        let sums = assign(points, weights, &centres, &mut labels);
        steps += 1;
        let mut next = Vec::with_capacity(seeds.len());
        let mut converged = true;
        let mut relabel = vec![u32::MAX; seeds.len()];
        for (c, (seed, s)) in seeds.iter().zip(&sums).enumerate() {
            if s[2] > 0.0 {
                let center = [s[0] / s[2], s[1] / s[2]];
                if dist(center, seed.center) >= threshold {
                    converged = false;
                }
                relabel[c] = next.len() as u32;
                next.push(Seed {
                    id: seed.id,
                    center,
                });
            } else {
                converged = false;
            }
        }
        for l in labels.iter_mut() {
            *l = relabel[*l as usize];
        }
        seeds = next;
        if converged || steps >= max_iter {
            break;
        }
    }
    let mut clusters: Vec<Cluster> = seeds
        .iter()
        .map(|s| Cluster {
            id: s.id,
            center: s.center,
            members: Vec::new(),
        })
        .collect();
    for (i, &l) in labels.iter().enumerate() {
        clusters[l as usize].members.push(i);
    }
    (clusters, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_start_takes_first_distinct_points_in_order() {
        let pts = [[0.0, 0.0], [-0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 0.0]];
        let seeds = cold_start(&pts, 2);
        assert_eq!(
            seeds,
            vec![
                Seed {
                    id: 0,
                    center: [0.0, 0.0]
                },
                Seed {
                    id: 1,
                    center: [1.0, 1.0]
                }
            ]
        );
        assert_eq!(distinct_points(&pts, 10), 3);
    }

    #[test]
    fn two_obvious_clusters_are_found_with_mean_centres() {
        let pts = [[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0], [0.0, 0.5]];
        let (clusters, steps) = kmeans(&pts, None, cold_start(&pts, 2), 100, 0.01);
        // Both seeds start in the left blob; Lloyd steps move one to the right blob.
        assert!(steps <= 100);
        assert_eq!(clusters.len(), 2);
        let left = clusters
            .iter()
            .find(|c| c.members.contains(&0))
            .map(|c| c.members.clone());
        assert_eq!(left, Some(vec![0, 1, 4]));
        let right = clusters.iter().find(|c| c.members.contains(&2));
        assert_eq!(right.map(|c| c.center), Some([10.0, 0.5]));
    }

    #[test]
    fn weights_pull_the_centre() {
        let pts = [[0.0, 0.0], [3.0, 0.0]];
        let seeds = vec![Seed {
            id: 7,
            center: [1.0, 0.0],
        }];
        let (clusters, _) = kmeans(&pts, Some(&[2.0, 1.0]), seeds, 20, 0.01);
        assert_eq!(clusters[0].center, [1.0, 0.0]);
        assert_eq!(clusters[0].id, 7);
    }

    #[test]
    fn warm_start_drops_empty_merges_identical_and_splits_farthest() {
        let pts = [[0.0, 0.0], [0.0, 0.0], [5.0, 0.0], [1.0, 0.0]];
        let previous = vec![(3, vec![0]), (1, vec![1]), (2, vec![])];
        let seeds = warm_start(&pts, None, &previous, 3);
        // Clusters 1 and 3 have the same centre: 1 (lower id) survives. Then the farthest
        // point (5,0) and after it (1,0) are split off with the smallest unused ids.
        assert_eq!(
            seeds,
            vec![
                Seed {
                    id: 1,
                    center: [0.0, 0.0]
                },
                Seed {
                    id: 0,
                    center: [5.0, 0.0]
                },
                Seed {
                    id: 2,
                    center: [1.0, 0.0]
                }
            ]
        );
    }

    #[test]
    fn empty_inputs_give_no_clusters() {
        assert_eq!(kmeans(&[], None, vec![], 10, 0.01).0, vec![]);
        assert_eq!(warm_start(&[], None, &[], 5), vec![]);
        assert_eq!(cold_start(&[], 5), vec![]);
    }

    #[test]
    fn a_cluster_that_loses_all_members_disappears() {
        let pts = [[0.0, 0.0], [0.1, 0.0]];
        let seeds = vec![
            Seed {
                id: 0,
                center: [0.0, 0.0],
            },
            Seed {
                id: 1,
                center: [9.0, 9.0],
            },
        ];
        let (clusters, _) = kmeans(&pts, None, seeds, 10, 0.01);
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].members, vec![0, 1]);
    }
}

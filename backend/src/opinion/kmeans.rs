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

/// Allowance for rounding in the distance bounds: a bound is widened by this share, and by
/// this share of the largest coordinate, each time it is set or carried over. A computed
/// distance is off by a few units in the last place of the coordinates, so without it rounding
/// could let a point skip a centre it is (to within rounding) as close to as its own; with it,
/// such points are simply measured afresh.
const SLACK: f64 = 1e-10;

/// Per point, an upper bound on the distance to its assigned centre and a lower bound on the
/// distance to every other centre (Hamerly's bounds). A point whose upper bound is below its
/// lower bound, or below half the distance from its centre to the nearest other centre, is
/// strictly nearest to its centre: the scan over all centres would assign it there again
/// (there is no tie to break), so it is not scanned.
struct Bounds {
    upper: Vec<f64>,
    lower: Vec<f64>,
    /// The largest coordinate of any point or centre, the scale of the rounding.
    scale: f64,
}

/// One Lloyd step: assign every point to its nearest centre (lowest index on ties) and return
/// the weighted sums (x, y, weight) per centre, point by point in order as a full scan would.
/// `moved[c]` is how far centre `c` moved since the last step (`None`: the first step, which
/// scans every point and sets the bounds).
fn assign(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    centres: &[[f64; 2]],
    moved: Option<&[f64]>,
    labels: &mut [u32],
    bounds: &mut Bounds,
) -> Vec<[f64; 3]> {
    let tiny = SLACK * bounds.scale;
    // The largest move of any centre, and of any centre but the one that moved most: a point's
    // other centres moved at most the first, or the second if its own centre is that one.
    let (mut max_moved, mut runner_up, mut mover) = (0.0f64, 0.0f64, usize::MAX);
    for (c, &d) in moved.unwrap_or(&[]).iter().enumerate() {
        if d > max_moved {
            (runner_up, max_moved, mover) = (max_moved, d, c);
        } else if d > runner_up {
            runner_up = d;
        }
    }
    // Half the distance from each centre to its nearest other centre.
    let half_gap: Vec<f64> = centres
        .iter()
        .enumerate()
        .map(|(c, &a)| {
            let nearest = centres
                .iter()
                .enumerate()
                .filter(|&(o, _)| o != c)
                .map(|(_, &b)| dist(a, b))
                .fold(f64::INFINITY, f64::min);
            0.5 * nearest * (1.0 - SLACK) - tiny
        })
        .collect();
    let partials: Vec<Vec<[f64; 3]>> = labels
        .par_chunks_mut(POINT_CHUNK)
        .zip(bounds.upper.par_chunks_mut(POINT_CHUNK))
        .zip(bounds.lower.par_chunks_mut(POINT_CHUNK))
        .enumerate()
        .map(|(chunk, ((labels, upper), lower))| {
            let mut acc = vec![[0.0; 3]; centres.len()];
            for (k, label) in labels.iter_mut().enumerate() {
                let i = chunk * POINT_CHUNK + k;
                let p = points[i];
                let mut best = *label as usize;
                match moved {
                    None => {
                        // The first step: the nearest centre only. Its lower bound starts at 0
                        // (no bound), so the next step keeps the point only by the half-gap
                        // test, and a point that fails it gets its real lower bound from the
                        // full scan below.
                        let mut best_d = f64::INFINITY;
                        best = 0;
                        for (c, &centre) in centres.iter().enumerate() {
                            let d = dist2(p, centre);
                            if d < best_d {
                                best_d = d;
                                best = c;
                            }
                        }
                        upper[k] = best_d.sqrt() * (1.0 + SLACK) + tiny;
                        lower[k] = 0.0;
                        *label = best as u32;
                    }
                    Some(moved) => {
                        upper[k] = (upper[k] + moved[best]) * (1.0 + SLACK) + tiny;
                        let others_moved = if best == mover { runner_up } else { max_moved };
                        lower[k] = (lower[k] - others_moved) * (1.0 - SLACK) - tiny;
                        let bound = lower[k].max(half_gap[best]);
                        let keep = upper[k] < bound || {
                            upper[k] = dist(p, centres[best]) * (1.0 + SLACK) + tiny;
                            upper[k] < bound
                        };
                        if !keep {
                            let (mut best_d, mut second_d) = (f64::INFINITY, f64::INFINITY);
                            best = 0;
                            for (c, &centre) in centres.iter().enumerate() {
                                let d = dist2(p, centre);
                                if d < best_d {
                                    second_d = best_d;
                                    best_d = d;
                                    best = c;
                                } else if d < second_d {
                                    second_d = d;
                                }
                            }
                            upper[k] = best_d.sqrt() * (1.0 + SLACK) + tiny;
                            lower[k] = second_d.sqrt() * (1.0 - SLACK) - tiny;
                            *label = best as u32;
                        }
                    }
                }
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
    let scale = points
        .iter()
        .chain(seeds.iter().map(|s| &s.center))
        .flat_map(|p| [p[0].abs(), p[1].abs()])
        .fold(0.0, f64::max);
    let mut bounds = Bounds {
        upper: vec![0.0; points.len()],
        lower: vec![0.0; points.len()],
        scale,
    };
    let mut moved: Option<Vec<f64>> = None;
    let mut steps = 0;
    loop {
        let centres: Vec<[f64; 2]> = seeds.iter().map(|s| s.center).collect();
        let sums = assign(
            points,
            weights,
            &centres,
            moved.as_deref(),
            &mut labels,
            &mut bounds,
        );
        steps += 1;
        let mut next = Vec::with_capacity(seeds.len());
        let mut next_moved = Vec::with_capacity(seeds.len());
        let mut converged = true;
        let mut relabel = vec![u32::MAX; seeds.len()];
        for (c, (seed, s)) in seeds.iter().zip(&sums).enumerate() {
            if s[2] > 0.0 {
                let center = [s[0] / s[2], s[1] / s[2]];
                let step = dist(center, seed.center);
                if step >= threshold {
                    converged = false;
                }
                relabel[c] = next.len() as u32;
                next.push(Seed {
                    id: seed.id,
                    center,
                });
                next_moved.push(step);
            } else {
                // A cluster without members: no point's bounds refer to it, and a lower bound
                // over the other centres stays one over fewer of them.
                converged = false;
            }
        }
        for l in labels.iter_mut() {
            *l = relabel[*l as usize];
        }
        seeds = next;
        moved = Some(next_moved);
        if converged || steps >= max_iter {
            break;
        }
    }
    (clusters(&seeds, labels.iter().map(|&l| l as usize)), steps)
}

/// The clusters of `seeds`, with point `i` a member of the one at the `i`-th label's index.
fn clusters(seeds: &[Seed], labels: impl Iterator<Item = usize>) -> Vec<Cluster> {
    let mut clusters: Vec<Cluster> = seeds
        .iter()
        .map(|s| Cluster {
            id: s.id,
            center: s.center,
            members: Vec::new(),
        })
        .collect();
    for (i, l) in labels.enumerate() {
        clusters[l].members.push(i);
    }
    clusters
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

    /// Lloyd's steps as they were before the bounds: every point measured against every centre
    /// in every step. The reference the bounded steps must match bit for bit.
    fn kmeans_scanning_everything(
        points: &[[f64; 2]],
        weights: Option<&[f64]>,
        mut seeds: Vec<Seed>,
        max_iter: usize,
        threshold: f64,
    ) -> (Vec<Cluster>, usize) {
        seeds.sort_by_key(|s| s.id);
        let mut labels = vec![0usize; points.len()];
        let mut steps = 0;
        loop {
            let mut sums = vec![[0.0; 3]; seeds.len()];
            // The same chunked order of additions as `assign`.
            let mut partials = Vec::new();
            for range in (0..points.len())
                .step_by(POINT_CHUNK)
                .map(|s| s..(s + POINT_CHUNK).min(points.len()))
            {
                let mut acc = vec![[0.0; 3]; seeds.len()];
                for i in range {
                    let (mut best, mut best_d) = (0, f64::INFINITY);
                    for (c, s) in seeds.iter().enumerate() {
                        let d = dist2(points[i], s.center);
                        if d < best_d {
                            (best, best_d) = (c, d);
                        }
                    }
                    labels[i] = best;
                    let w = weights.map_or(1.0, |w| w[i]);
                    acc[best][0] += w * points[i][0];
                    acc[best][1] += w * points[i][1];
                    acc[best][2] += w;
                }
                partials.push(acc);
            }
            for acc in partials {
                for (s, a) in sums.iter_mut().zip(acc) {
                    for x in 0..3 {
                        s[x] += a[x];
                    }
                }
            }
            steps += 1;
            let mut next = Vec::new();
            let mut converged = true;
            let mut relabel = vec![usize::MAX; seeds.len()];
            for (c, (seed, s)) in seeds.iter().zip(&sums).enumerate() {
                if s[2] > 0.0 {
                    let center = [s[0] / s[2], s[1] / s[2]];
                    if dist(center, seed.center) >= threshold {
                        converged = false;
                    }
                    relabel[c] = next.len();
                    next.push(Seed {
                        id: seed.id,
                        center,
                    });
                } else {
                    converged = false;
                }
            }
            for l in labels.iter_mut() {
                *l = relabel[*l];
            }
            seeds = next;
            if converged || steps >= max_iter {
                break;
            }
        }
        (clusters(&seeds, labels.into_iter()), steps)
    }

    /// Skipping the points whose bounds show they keep their centre changes nothing: the same
    /// clusters, centres to the last bit and steps as measuring every point against every
    /// centre, on clouds with many clusters, on weighted points, and on a grid of whole numbers
    /// where a point is often exactly as far from two centres (the tie goes to the lower index).
    #[test]
    fn skipping_points_by_their_bounds_gives_what_scanning_every_centre_gives() {
        use crate::opinion::rng::SplitMix64;
        let mut rng = SplitMix64::new(7);
        let mut unit = move || rng.next_f64();
        let clouds: Vec<[f64; 2]> = (0..9000)
            .map(|i| {
                let c = (i % 6) as f64;
                [3.0 * c + unit() - 0.5, c * c - 10.0 * unit()]
            })
            .collect();
        let weights: Vec<f64> = (0..clouds.len()).map(|i| 1.0 + (i % 4) as f64).collect();
        let grid: Vec<[f64; 2]> = (0..4000)
            .map(|i| [f64::from(i % 40), f64::from((i / 40) % 7)])
            .collect();
        // (points, weights, k, threshold)
        type Case<'a> = (&'a [[f64; 2]], Option<&'a [f64]>, usize, f64);
        let cases: Vec<Case> = vec![
            (&clouds, None, 100, 0.01),
            (&clouds, Some(&weights), 40, 1e-9),
            (&clouds, None, 3, 1e-6),
            (&grid, None, 100, 0.01),
            (&grid, None, 5, 1e-9),
        ];
        for (n, (points, weights, k, threshold)) in cases.into_iter().enumerate() {
            let seeds = cold_start(points, k);
            let bounded = kmeans(points, weights, seeds.clone(), 100, threshold);
            let scanned = kmeans_scanning_everything(points, weights, seeds, 100, threshold);
            assert!(bounded.1 > 2, "case {n}: only {} steps", bounded.1);
            assert_eq!(bounded, scanned, "case {n}");
        }
    }
}

//! Seeded synthetic conversations: latent opinion groups, each participant votes on a random
//! subset of statements. Used by the benchmark, the tests and (later) the demo conversation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::opinion::rng::{SplitMix64, seed_from};
use crate::opinion::{Input, StatementFlags, Vote, VoteValue};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticParams {
    pub participants: usize,
    pub statements: usize,
    /// Target number of votes; the result is within a few percent of it (capped by
    /// participants × statements).
    pub votes: usize,
    /// Latent opinion groups (at least 1).
    pub groups: usize,
    /// Share of votes that are passes.
    pub pass_rate: f64,
    /// How strongly a group's stance decides a vote (0 = coin flips, 1 = fully decided).
    pub polarisation: f64,
    /// Share of statements moderated out.
    pub moderated_fraction: f64,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        Self {
            participants: 500,
            statements: 60,
            votes: 15_000,
            groups: 3,
            pass_rate: 0.15,
            polarisation: 0.8,
            moderated_fraction: 0.05,
        }
    }
}

/// A synthetic conversation, plus each participant's latent group (index = participant id).
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub input: Input,
    pub latent_group: Vec<usize>,
}

/// Participants have ids 0..participants and statements 0..statements. The same params and
/// seed always give the same conversation.
pub fn generate(params: &SyntheticParams, seed: u64) -> Synthetic {
    let mut votes = Vec::with_capacity(params.votes + params.votes / 16);
    let streamed = generate_into(params, seed, &mut |vs| votes.extend_from_slice(vs));
    let vote_high_water_mark = votes.len() as u64;
    Synthetic {
        input: Input {
            votes,
            statements: streamed.statements,
            vote_high_water_mark,
        },
        latent_group: streamed.latent_group,
    }
}

/// A synthetic conversation whose votes went to a sink instead of into memory.
#[derive(Debug, Clone)]
pub struct Streamed {
    pub statements: BTreeMap<i64, StatementFlags>,
    pub latent_group: Vec<usize>,
    pub votes: usize,
}

/// [`generate`] without holding the votes: `sink` receives each participant's votes in turn
/// (the same votes in the same order as `generate`'s list), e.g. to stream them into a
/// [`crate::opinion::MatrixBuilder`] at national scale.
pub fn generate_into(
    params: &SyntheticParams,
    seed: u64,
    sink: &mut dyn FnMut(&[Vote]),
) -> Streamed {
    let n_groups = params.groups.max(1);
    let n_st = params.statements;
    let mut rng = SplitMix64::new(seed_from(&[seed, 0x5791]));

    // Unequal group sizes, as in real conversations.
    let weights: Vec<f64> = (0..n_groups).map(|_| 0.3 + rng.next_f64()).collect();
    let total_w: f64 = weights.iter().sum();
    // stance[g][j] in [−1, 1]: how much group g leans towards agreeing with statement j.
    let stance: Vec<Vec<f64>> = (0..n_groups)
        .map(|_| (0..n_st).map(|_| 2.0 * rng.next_f64() - 1.0).collect())
        .collect();

    let mut statements = BTreeMap::new();
    for j in 0..n_st {
        let moderated_out = rng.next_f64() < params.moderated_fraction;
        statements.insert(
            j as i64,
            StatementFlags {
                moderated_out,
                meta: false,
            },
        );
    }

    let mean_votes = if params.participants == 0 {
        0.0
    } else {
        params.votes as f64 / params.participants as f64
    };
    let mut order: Vec<usize> = (0..n_st).collect();
    let mut votes = Vec::with_capacity(n_st);
    let mut total = 0;
    let mut latent_group = Vec::with_capacity(params.participants);
    for p in 0..params.participants {
        let mut target = rng.next_f64() * total_w;
        let mut g = 0;
        while g + 1 < n_groups && target >= weights[g] {
            target -= weights[g];
            g += 1;
        }
        latent_group.push(g);
        // Skewed participation: from 0.2× to 1.8× the mean, uniformly.
        let n =
            ((mean_votes * (0.2 + 1.6 * rng.next_f64())).round() as usize).clamp(1, n_st.max(1));
        let n = n.min(n_st);
        // Partial Fisher–Yates: the first n entries become a uniform random subset.
        for i in 0..n {
            let k = i + rng.below((n_st - i) as u64) as usize;
            order.swap(i, k);
        }
        votes.clear();
        for &j in &order[..n] {
            let value = if rng.next_f64() < params.pass_rate {
                VoteValue::Pass
            } else if rng.next_f64() < 0.5 * (1.0 + params.polarisation * stance[g][j]) {
                VoteValue::Agree
            } else {
                VoteValue::Disagree
            };
            votes.push(Vote {
                participant: p as i64,
                statement: j as i64,
                value,
            });
        }
        total += votes.len();
        sink(&votes);
    }
    Streamed {
        statements,
        latent_group,
        votes: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_reproducible_and_near_the_target_size() {
        let params = SyntheticParams::default();
        let a = generate(&params, 7);
        let b = generate(&params, 7);
        assert_eq!(a.input, b.input);
        assert_eq!(a.latent_group, b.latent_group);
        assert_ne!(a.input.votes, generate(&params, 8).input.votes);
        let n = a.input.votes.len() as f64;
        assert!((n / params.votes as f64 - 1.0).abs() < 0.1, "{n} votes");
        assert_eq!(a.latent_group.len(), params.participants);
    }

    #[test]
    fn a_participant_votes_at_most_once_per_statement() {
        let s = generate(
            &SyntheticParams {
                votes: 40_000,
                ..Default::default()
            },
            1,
        );
        let mut cells: Vec<(i64, i64)> = s
            .input
            .votes
            .iter()
            .map(|v| (v.participant, v.statement))
            .collect();
        let before = cells.len();
        cells.sort_unstable();
        cells.dedup();
        assert_eq!(cells.len(), before);
    }

    #[test]
    fn empty_conversation() {
        let s = generate(
            &SyntheticParams {
                participants: 0,
                statements: 0,
                votes: 0,
                ..Default::default()
            },
            1,
        );
        assert!(s.input.votes.is_empty());
    }
}

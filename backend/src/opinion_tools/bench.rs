//! `samskab opinion bench`: per-phase times and peak memory on seeded synthetic conversations.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Instant;

use super::synthetic::{SyntheticParams, generate_into};
use crate::opinion::{Incremental, MatrixBuilder, Params, Phase, Vote};

/// Votes held back from the cold run and added before the second warm update.
pub const NEW_VOTES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSize {
    /// 33,422 participants × 783 statements, ~2.0M votes.
    A,
    /// 100,000 participants × 5,000 statements, ~10M votes.
    B,
    /// 1,000,000 participants × 10,000 statements, ~50M votes (national scale).
    C,
    All,
}

pub fn size_params(name: char) -> SyntheticParams {
    match name {
        'a' => SyntheticParams {
            participants: 33_422,
            statements: 783,
            votes: 2_000_000,
            groups: 3,
            ..Default::default()
        },
        'b' => SyntheticParams {
            participants: 100_000,
            statements: 5_000,
            votes: 10_000_000,
            groups: 4,
            ..Default::default()
        },
        _ => SyntheticParams {
            participants: 1_000_000,
            statements: 10_000,
            votes: 50_000_000,
            groups: 4,
            ..Default::default()
        },
    }
}

/// Peak resident set size of this process in kB (Linux), from /proc/self/status.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system, all threads) of this process in seconds, from /proc/self/stat.
/// Reported beside wall time because the machine may be shared: CPU time shows the work done,
/// wall time what a user waits. Linux's USER_HZ is 100 on all mainstream architectures.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Runs `f`, timing the phases it reports; `extra` is wall time spent before (counted in the
/// total). Returns the snapshot and the total wall time.
fn timed_run(
    out: &mut String,
    label: &str,
    extra: f64,
    f: impl FnOnce(&mut dyn FnMut(Phase)) -> crate::opinion::Snapshot,
) -> (crate::opinion::Snapshot, f64) {
    let start = Instant::now();
    let cpu_start = cpu_seconds().unwrap_or(0.0);
    let mut last = (start, cpu_start);
    let mut phases: Vec<(Phase, f64, f64)> = Vec::new();
    let snapshot = f(&mut |phase| {
        let now = (Instant::now(), cpu_seconds().unwrap_or(0.0));
        phases.push((phase, (now.0 - last.0).as_secs_f64(), now.1 - last.1));
        last = now;
    });
    let total = start.elapsed().as_secs_f64() + extra;
    let cpu = cpu_seconds().unwrap_or(0.0) - cpu_start;
    let _ = writeln!(out, "  {label}: {total:.3} s wall, {cpu:.2} s CPU");
    if extra > 0.0 {
        let _ = writeln!(
            out,
            "    {:<15} {:>8.3} s wall (votes streamed into the matrix builder as generated)",
            "matrix input", extra
        );
    }
    for (phase, secs, cpu) in phases {
        let _ = writeln!(
            out,
            "    {:<15} {:>8.3} s wall {:>7.2} s CPU",
            phase.name(),
            secs,
            cpu
        );
    }
    (snapshot, total)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// One run of one size: its human-readable report and the two times the warm-after ratio is made
/// of.
pub struct BenchRun {
    pub report: String,
    pub cold_secs: f64,
    pub after_secs: f64,
}

/// Runs one size and returns a human-readable report: a cold run on all votes but the last
/// [`NEW_VOTES`], a warm update with no new votes, and a warm update after adding the last
/// [`NEW_VOTES`] votes to the matrix in place (as the production recompute can).
pub fn bench_one(name: char, seed: u64) -> BenchRun {
    let params = size_params(name);
    let mut out = String::new();
    let t = Instant::now();
    // The votes go straight into the matrix builder (8 bytes a vote) instead of a vote list;
    // the last NEW_VOTES are held back for the incremental update.
    let mut builder = MatrixBuilder::with_capacity(params.votes + params.votes / 16);
    let mut held: VecDeque<Vote> = VecDeque::with_capacity(2 * NEW_VOTES);
    let mut push_secs = 0.0;
    let streamed = generate_into(&params, seed, &mut |votes| {
        held.extend(votes.iter().copied());
        let excess = held.len().saturating_sub(NEW_VOTES);
        if excess > 0 {
            let start = Instant::now();
            builder.extend(held.drain(..excess));
            push_secs += start.elapsed().as_secs_f64();
        }
    });
    let new_votes: Vec<Vote> = held.into_iter().collect();
    let _ = writeln!(
        out,
        "({name}) {} participants × {} statements, {} votes (generated in {:.2} s, {} threads, load average {})",
        params.participants,
        params.statements,
        streamed.votes,
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads(),
        load_average()
    );
    let engine = Params {
        seed,
        ..Params::default()
    };
    let statements = streamed.statements.clone();
    let old_votes = (streamed.votes - new_votes.len()) as u64;
    let mut live: Option<Incremental> = None;
    let (cold, cold_secs) = timed_run(&mut out, "cold run", push_secs, |obs| {
        let l = live.insert(Incremental::from_builder(builder, statements, None));
        obs(Phase::Matrix);
        l.update_observed(old_votes, &engine, obs)
    });
    let Some(mut live) = live else {
        return BenchRun {
            report: out,
            cold_secs,
            after_secs: f64::NAN,
        };
    };
    let (warm, warm_secs) = timed_run(&mut out, "warm update, no new votes", 0.0, |obs| {
        live.update_observed(old_votes, &engine, obs)
    });
    let label = format!("warm update after {} new votes", new_votes.len());
    let (after, after_secs) = timed_run(&mut out, &label, 0.0, |obs| {
        live.add_votes(&new_votes, &streamed.statements);
        obs(Phase::Matrix);
        live.update_observed(streamed.votes as u64, &engine, obs)
    });
    let _ = writeln!(
        out,
        "  warm/cold: no new votes {:.1} %, after {} votes {:.1} % (PCA iterations cold {:?}, warm {:?}, after {:?}; bridging rounds cold {}, warm {}, after {})",
        100.0 * warm_secs / cold_secs,
        new_votes.len(),
        100.0 * after_secs / cold_secs,
        cold.receipt.pca_iterations,
        warm.receipt.pca_iterations,
        after.receipt.pca_iterations,
        cold.bridging.iterations,
        warm.bridging.iterations,
        after.bridging.iterations,
    );
    let labels: Vec<(u64, u64)> = cold
        .participants
        .iter()
        .filter_map(|(&p, r)| Some((r.group? as u64, streamed.latent_group[p as usize] as u64)))
        .collect();
    let _ = writeln!(
        out,
        "  groups: k = {} (warm k = {}, after new votes k = {}), ARI against the latent groups {:.3}, in-conv {}",
        cold.k,
        warm.k,
        after.k,
        super::ari::adjusted_rand_index(&labels),
        cold.receipt.counts.in_conv
    );
    let _ = writeln!(
        out,
        "  peak RSS so far (VmHWM): {}",
        peak_rss_kb().map_or("unknown".to_owned(), |kb| format!(
            "{:.0} MB",
            kb as f64 / 1024.0
        ))
    );
    BenchRun {
        report: out,
        cold_secs,
        after_secs,
    }
}

/// The medians (with the range) of several runs of one size, so that a figure does not rest
/// on one run of a machine whose neighbours come and go.
pub fn summary(name: char, runs: &[BenchRun]) -> String {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
    fn range(v: &[f64]) -> (f64, f64) {
        v.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            })
    }
    let cold: Vec<f64> = runs.iter().map(|r| r.cold_secs).collect();
    let after: Vec<f64> = runs.iter().map(|r| r.after_secs).collect();
    let ratio: Vec<f64> = runs
        .iter()
        .map(|r| 100.0 * r.after_secs / r.cold_secs)
        .collect();
    let (c0, c1) = range(&cold);
    let (a0, a1) = range(&after);
    let (r0, r1) = range(&ratio);
    format!(
        "({name}) median of {} runs: cold run {:.3} s ({c0:.3}–{c1:.3}), warm update after {NEW_VOTES} new votes {:.3} s ({a0:.3}–{a1:.3}), warm/cold {:.1} % ({r0:.1}–{r1:.1})\n",
        runs.len(),
        median(cold.clone()),
        median(after.clone()),
        median(ratio.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cold_secs: f64, after_secs: f64) -> BenchRun {
        BenchRun {
            report: String::new(),
            cold_secs,
            after_secs,
        }
    }

    #[test]
    fn the_summary_gives_medians_and_ranges() {
        let odd = summary('a', &[run(0.3, 0.06), run(0.2, 0.05), run(0.25, 0.02)]);
        assert_eq!(
            odd,
            "(a) median of 3 runs: cold run 0.250 s (0.200–0.300), warm update after 1000 new votes 0.050 s (0.020–0.060), warm/cold 20.0 % (8.0–25.0)\n"
        );
        // An even number of runs: the mean of the middle two.
        let even = summary('c', &[run(10.0, 2.0), run(12.0, 3.0)]);
        assert!(
            even.starts_with(
                "(c) median of 2 runs: cold run 11.000 s (10.000–12.000), warm update after 1000 new votes 2.500 s (2.000–3.000), warm/cold 22.5 % (20.0–25.0)"
            ),
            "{even}"
        );
    }
}

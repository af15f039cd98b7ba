//! `samskab opinion bench`: per-phase times and peak memory on seeded synthetic conversations.

use std::fmt::Write as _;
use std::time::Instant;

use super::synthetic::{SyntheticParams, generate};
use crate::opinion::{Params, Phase, analyze_observed};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSize {
    /// 33,422 participants × 783 statements, ~2.0M votes.
    A,
    /// 100,000 participants × 5,000 statements, ~10M votes.
    B,
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
        _ => SyntheticParams {
            participants: 100_000,
            statements: 5_000,
            votes: 10_000_000,
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

fn timed_run(
    out: &mut String,
    label: &str,
    f: impl FnOnce(&mut dyn FnMut(Phase)) -> crate::opinion::Snapshot,
) -> crate::opinion::Snapshot {
    let start = Instant::now();
    let cpu_start = cpu_seconds().unwrap_or(0.0);
    let mut last = (start, cpu_start);
    let mut phases: Vec<(Phase, f64, f64)> = Vec::new();
    let snapshot = f(&mut |phase| {
        let now = (Instant::now(), cpu_seconds().unwrap_or(0.0));
        phases.push((phase, (now.0 - last.0).as_secs_f64(), now.1 - last.1));
        last = now;
    });
    let total = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(0.0) - cpu_start;
    let _ = writeln!(out, "  {label}: {total:.3} s wall, {cpu:.2} s CPU");
    for (phase, secs, cpu) in phases {
        let _ = writeln!(
            out,
            "    {:<15} {:>8.3} s wall {:>7.2} s CPU",
            phase.name(),
            secs,
            cpu
        );
    }
    snapshot
}

/// Runs one size and returns a human-readable report.
pub fn bench_one(name: char, seed: u64) -> String {
    let params = size_params(name);
    let mut out = String::new();
    let t = Instant::now();
    let synthetic = generate(&params, seed);
    let _ = writeln!(
        out,
        "({name}) {} participants × {} statements, {} votes (generated in {:.2} s, {} threads)",
        params.participants,
        params.statements,
        synthetic.input.votes.len(),
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let engine = Params {
        seed,
        ..Params::default()
    };
    let cold = timed_run(&mut out, "cold run", |obs| {
        analyze_observed(&synthetic.input, None, &engine, obs)
    });
    let warm = timed_run(&mut out, "warm update, same votes", |obs| {
        analyze_observed(&synthetic.input, Some(&cold.state), &engine, obs)
    });
    let labels: Vec<(u64, u64)> = cold
        .participants
        .iter()
        .filter_map(|(&p, r)| Some((r.group? as u64, synthetic.latent_group[p as usize] as u64)))
        .collect();
    let _ = writeln!(
        out,
        "  groups: k = {} (warm k = {}), ARI against the latent groups {:.3}, in-conv {}",
        cold.k,
        warm.k,
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
    out
}

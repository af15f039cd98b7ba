//! `samskab opinion …`: run the engine on a Pol.is openData export, or benchmark it.

use std::io::Write;
use std::process::ExitCode;

use super::bench::BenchSize;
use crate::opinion::Params;

#[derive(Debug, clap::Subcommand)]
pub enum OpinionCommand {
    /// Analyse a Pol.is openData export and print the snapshot as JSON.
    Analyze {
        /// Folder with participants-votes.csv and comments.csv (and votes.csv for --replay).
        #[arg(long)]
        polis_export: std::path::PathBuf,
        /// Replay votes.csv in time order with periodic warm-started updates.
        #[arg(long)]
        replay: bool,
        /// Seed for the first PCA start vector.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Compare with Pol.is's groups on every export under a folder (cold and replayed) and print
    /// the adjusted Rand index table.
    Compare {
        /// Folder holding one subfolder per Pol.is openData export.
        #[arg(long)]
        polis_data: std::path::PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Benchmark the engine on seeded synthetic conversations.
    Bench {
        /// a: 33,422 × 783 with ~2.0M votes; b: 100,000 × 5,000 with ~10M votes;
        /// c: 1,000,000 × 10,000 with ~50M votes.
        #[arg(long, value_enum, default_value = "all")]
        size: BenchSize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Run each size this many times and end with the medians.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
    },
    /// Write a seeded synthetic conversation as a Pol.is openData export (for
    /// `samskab import polis`; the load benchmark's data). Defaults: 33,422 × 783, ~2.0M votes.
    Synthetic {
        /// Folder to write comments.csv, votes.csv and participants-votes.csv into.
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 33_422)]
        participants: usize,
        #[arg(long, default_value_t = 783)]
        statements: usize,
        #[arg(long, default_value_t = 2_000_000)]
        votes: usize,
        #[arg(long, default_value_t = 3)]
        groups: usize,
        /// The votes are spread over this many days up to now.
        #[arg(long, default_value_t = 28)]
        days: u32,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub fn run(command: OpinionCommand) -> ExitCode {
    match command {
        OpinionCommand::Analyze {
            polis_export,
            replay,
            seed,
        } => {
            let params = Params {
                seed,
                ..Params::default()
            };
            // Without a replay the votes stream from the CSV into the engine's matrix (national
            // scale); a replay needs votes.csv in time order, so it reads the export whole.
            let report = if replay {
                super::polis::analyze_export(&polis_export, replay, &params)
            } else {
                super::polis_stream::analyze_export(&polis_export, &params)
            };
            let report = match report {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let json = match serde_json::to_string_pretty(&report) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("error: cannot encode the report: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{json}").is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        OpinionCommand::Compare { polis_data, seed } => {
            let params = Params {
                seed,
                ..Params::default()
            };
            match super::polis::ari_table(&polis_data, &params) {
                Ok(rows) => {
                    print!("{}", super::polis::format_table(&rows));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        OpinionCommand::Bench { size, seed, repeat } => {
            let sizes: &[char] = match size {
                BenchSize::A => &['a'],
                BenchSize::B => &['b'],
                BenchSize::C => &['c'],
                BenchSize::All => &['a', 'b', 'c'],
            };
            for &s in sizes {
                let mut runs = Vec::new();
                for _ in 0..repeat {
                    let run = super::bench::bench_one(s, seed);
                    print!("{}", run.report);
                    runs.push(run);
                }
                if runs.len() > 1 {
                    print!("{}", super::bench::summary(s, &runs));
                }
            }
            ExitCode::SUCCESS
        }
        OpinionCommand::Synthetic {
            out,
            participants,
            statements,
            votes,
            groups,
            days,
            seed,
        } => {
            let params = super::synthetic::SyntheticParams {
                participants,
                statements,
                votes,
                groups,
                ..Default::default()
            };
            let end_ms = chrono::Utc::now().timestamp_millis();
            match super::synthetic_export::write(&params, seed, &out, end_ms, days) {
                Ok(w) => {
                    println!(
                        "wrote {} statements, {} participants, {} votes to {}",
                        w.statements,
                        w.participants,
                        w.votes,
                        out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

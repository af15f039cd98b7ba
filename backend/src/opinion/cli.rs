//! `samskab opinion …`: run the engine on a Pol.is openData export, or benchmark it.

use std::process::ExitCode;

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
    /// Benchmark the engine on seeded synthetic conversations.
    Bench,
}

pub fn run(command: OpinionCommand) -> ExitCode {
    let _ = command;
    eprintln!("not implemented yet");
    ExitCode::from(2)
}

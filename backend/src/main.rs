use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "samskab", version, about = "Citizen co-creation and deliberation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Opinion engine tools.
    Opinion {
        #[command(subcommand)]
        command: samskab::opinion::cli::OpinionCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Opinion { command } => samskab::opinion::cli::run(command),
    }
}

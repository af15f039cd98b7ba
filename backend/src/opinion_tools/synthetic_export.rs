//! `samskab opinion synthetic`: write a seeded synthetic conversation as a Pol.is openData export
//! (comments.csv, votes.csv with times, and a participants-votes.csv header), so that
//! `samskab import polis` loads it into a consultation like a real export. The load benchmark
//! (`tests/load/run`) uses it to get a big conversation without shipping data.

use std::path::Path;

use super::synthetic::{SyntheticParams, generate};
use crate::open_csv::{Cell, CsvWriter};

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub statements: usize,
    pub participants: usize,
    pub votes: usize,
}

/// Write the export into `dir` (created if missing). Votes are spread evenly over the `days`
/// days before `end_ms` (Unix milliseconds), in the generator's order, so the report has a
/// history to count per day.
pub fn write(
    params: &SyntheticParams,
    seed: u64,
    dir: &Path,
    end_ms: i64,
    days: u32,
) -> anyhow::Result<Written> {
    let synthetic = generate(params, seed);
    let input = &synthetic.input;
    std::fs::create_dir_all(dir)?;

    let mut comments = CsvWriter::new();
    comments.row(vec![
        Cell::name("timestamp"),
        Cell::name("comment-id"),
        Cell::name("moderated"),
        Cell::name("is-meta"),
        Cell::name("comment-body"),
    ])?;
    let span_ms = i64::from(days.max(1)) * 86_400_000;
    let start_ms = end_ms - span_ms;
    for (&number, flags) in &input.statements {
        comments.row(vec![
            Cell::int(start_ms),
            Cell::int(number),
            Cell::int(if flags.moderated_out { -1 } else { 1 }),
            Cell::name(if flags.meta { "true" } else { "false" }),
            Cell::text(&format!(
                "Udsagn nummer {number}: kommunen bør prioritere dette område."
            )),
        ])?;
    }
    std::fs::write(dir.join("comments.csv"), comments.finish()?)?;

    // The import takes participants from votes.csv when it is there; the matrix file must
    // exist but may be empty.
    let mut matrix = CsvWriter::new();
    matrix.row(vec![Cell::name("participant"), Cell::name("group-id")])?;
    std::fs::write(dir.join("participants-votes.csv"), matrix.finish()?)?;

    let mut votes = CsvWriter::new();
    votes.row(vec![
        Cell::name("timestamp"),
        Cell::name("comment-id"),
        Cell::name("voter-id"),
        Cell::name("vote"),
    ])?;
    let n = i64::try_from(input.votes.len().max(1))?;
    for (i, v) in input.votes.iter().enumerate() {
        let i = i64::try_from(i)?;
        votes.row(vec![
            Cell::int(start_ms + i * span_ms / n),
            Cell::int(v.statement),
            Cell::int(v.participant),
            Cell::int(v.value as i64),
        ])?;
    }
    std::fs::write(dir.join("votes.csv"), votes.finish()?)?;
    let participants = input
        .votes
        .iter()
        .map(|v| v.participant)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    Ok(Written {
        statements: input.statements.len(),
        participants,
        votes: input.votes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opinion_tools::polis;

    #[test]
    fn the_export_reads_back_as_the_generated_conversation() {
        let dir = std::env::temp_dir().join(format!("samskab-synth-{}", std::process::id()));
        let params = SyntheticParams::default();
        let written = write(&params, 7, &dir, 1_800_000_000_000, 10).expect("writes");
        let export = polis::read_export(&dir, true).expect("reads back");
        let history = export.history.expect("votes.csv");
        let generated = generate(&params, 7).input;
        assert_eq!(written.votes, generated.votes.len());
        assert_eq!(history.len(), generated.votes.len());
        assert_eq!(export.input.statements, generated.statements);
        assert!(history.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert_eq!(history[0].vote, generated.votes[0]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! `samskab opinion analyze` without `--replay` at national scale: participants-votes.csv is
//! read row by row and its votes go straight into the engine's matrix builder (8 bytes a vote),
//! never into a vote list. The snapshot is the same as [`polis::analyze_export`]'s.

use std::path::Path;

use super::polis::{self, PolisError, PolisExport, Report};
use crate::opinion::{Input, MatrixBuilder, MatrixInput, Params, analyze_matrix};

/// Runs the engine cold on the export in `dir` (comments.csv and participants-votes.csv).
pub fn analyze_export(dir: &Path, params: &Params) -> Result<Report, PolisError> {
    let comments = dir.join("comments.csv");
    let statements = polis::read_comments(&comments, polis::open(&comments)?)?;
    let path = dir.join("participants-votes.csv");
    let mut builder = MatrixBuilder::new();
    let (participants, polis_groups) =
        polis::read_matrix_rows(&path, polis::open(&path)?, |v| builder.push(v))?;
    let vote_rows = builder.vote_rows();
    let matrix = builder.finish(&statements);
    let meta = MatrixInput {
        statements: &statements,
        vote_high_water_mark: vote_rows as u64,
        vote_rows,
    };
    let snapshot = analyze_matrix(&matrix, &meta, None, params);
    drop(matrix);
    let export = PolisExport {
        input: Input {
            votes: Vec::new(),
            statements,
            vote_high_water_mark: vote_rows as u64,
        },
        participants,
        polis_groups,
        history: None,
    };
    Ok(polis::report(&snapshot, &export, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed analysis equals the one that reads the votes into a list, on every shared
    /// Pol.is conversation found (and on a small hand-written export).
    #[test]
    fn streaming_gives_the_same_report_as_reading_whole() {
        let dir = std::env::temp_dir().join(format!("samskab-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("comments.csv"),
            "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n\
             1,x,0,1,1,0,1,A\n1,x,1,1,1,0,1,B\n1,x,2,1,0,1,-1,C\n",
        )
        .unwrap();
        let mut pv =
            String::from("participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1,2\n");
        for p in 0..40 {
            let v = |j: i64| ["-1", "0", "1", ""][((p * 7 + j * 3) % 4) as usize];
            pv.push_str(&format!(
                "{p},{},3,3,1,1,{},{},{}\n",
                p % 2,
                v(0),
                v(1),
                v(2)
            ));
        }
        std::fs::write(dir.join("participants-votes.csv"), pv).unwrap();
        let mut dirs = vec![dir.clone()];
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/polis-opendata");
        if let Ok(entries) = std::fs::read_dir(&shared) {
            let mut found: Vec<_> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("participants-votes.csv").is_file())
                .collect();
            found.sort();
            dirs.extend(found.into_iter().take(3));
        }
        let params = Params::default();
        for d in dirs {
            let streamed = serde_json::to_string(&analyze_export(&d, &params).unwrap()).unwrap();
            let whole =
                serde_json::to_string(&polis::analyze_export(&d, false, &params).unwrap()).unwrap();
            assert!(streamed == whole, "{} differs", d.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

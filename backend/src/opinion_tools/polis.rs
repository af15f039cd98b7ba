//! Reading a Pol.is openData export (participants-votes.csv, comments.csv, votes.csv), running
//! the engine on it cold or by replaying its history, and comparing with Pol.is's own groups.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::opinion::{
    Incremental, Input, Params, ParticipantId, Snapshot, StatementFlags, StatementId, Vote,
    VoteValue,
};

#[derive(Debug, thiserror::Error)]
pub enum PolisError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed CSV in {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: missing column `{column}`")]
    MissingColumn { path: PathBuf, column: &'static str },
    #[error("{path}, line {line}, column `{column}`: unexpected value `{value}` ({expected})")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        expected: &'static str,
    },
}

/// A vote from votes.csv with its time (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedVote {
    pub timestamp: i64,
    pub vote: Vote,
}

#[derive(Debug, Clone)]
pub struct PolisExport {
    /// The final vote matrix from participants-votes.csv, with moderation from comments.csv.
    pub input: Input,
    /// Every participant row of participants-votes.csv, in file order.
    pub participants: Vec<ParticipantId>,
    /// Pol.is's `group-id` (None = not clustered by Pol.is).
    pub polis_groups: BTreeMap<ParticipantId, Option<u64>>,
    /// votes.csv in time order (ties in file order), when asked for and present.
    pub history: Option<Vec<TimedVote>>,
}

pub(super) fn open(path: &Path) -> Result<csv::Reader<std::fs::File>, PolisError> {
    let file = std::fs::File::open(path).map_err(|source| PolisError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(reader(file))
}

fn reader<R: std::io::Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(false).from_reader(input)
}

fn column(
    headers: &csv::StringRecord,
    path: &Path,
    name: &'static str,
) -> Result<usize, PolisError> {
    headers
        .iter()
        .position(|h| h.trim() == name)
        .ok_or(PolisError::MissingColumn {
            path: path.to_owned(),
            column: name,
        })
}

struct Cell<'a> {
    path: &'a Path,
    line: u64,
}

impl Cell<'_> {
    fn bad(&self, column: &str, value: &str, expected: &'static str) -> PolisError {
        PolisError::BadValue {
            path: self.path.to_owned(),
            line: self.line,
            column: column.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }

    fn int(&self, record: &csv::StringRecord, idx: usize, name: &str) -> Result<i64, PolisError> {
        let raw = record.get(idx).unwrap_or("").trim();
        raw.parse().map_err(|_| self.bad(name, raw, "an integer"))
    }

    fn vote(&self, raw: &str, name: &str) -> Result<VoteValue, PolisError> {
        let raw = raw.trim();
        raw.parse::<i64>()
            .ok()
            .and_then(VoteValue::from_i64)
            .ok_or_else(|| self.bad(name, raw, "-1, 0 or 1"))
    }
}

fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// Reads `dir`; `with_history` also reads votes.csv (an error if it is missing).
pub fn read_export(dir: &Path, with_history: bool) -> Result<PolisExport, PolisError> {
    let comments = dir.join("comments.csv");
    let statements = read_comments(&comments, open(&comments)?)?;
    let path = dir.join("participants-votes.csv");
    let mut export = read_matrix(&path, open(&path)?, statements)?;
    if with_history {
        let votes = dir.join("votes.csv");
        export.history = Some(read_votes(&votes, open(&votes)?)?);
    }
    Ok(export)
}

/// The same from the files' contents; `dir` only names the files in errors,
/// `votes` is votes.csv when there is one.
pub fn parse_export(
    dir: &Path,
    comments: &[u8],
    participants_votes: &[u8],
    votes: Option<&[u8]>,
) -> Result<PolisExport, PolisError> {
    let statements = read_comments(&dir.join("comments.csv"), reader(comments))?;
    let mut export = read_matrix(
        &dir.join("participants-votes.csv"),
        reader(participants_votes),
        statements,
    )?;
    if let Some(votes) = votes {
        export.history = Some(read_votes(&dir.join("votes.csv"), reader(votes))?);
    }
    Ok(export)
}

fn read_matrix<R: std::io::Read>(
    path: &Path,
    reader: csv::Reader<R>,
    statements: BTreeMap<StatementId, StatementFlags>,
) -> Result<PolisExport, PolisError> {
    let mut votes = Vec::new();
    let (participants, polis_groups) = read_matrix_rows(path, reader, |v| votes.push(v))?;
    let vote_high_water_mark = votes.len() as u64;
    Ok(PolisExport {
        input: Input {
            votes,
            statements,
            vote_high_water_mark,
        },
        participants,
        polis_groups,
        history: None,
    })
}

/// Pol.is's group of each participant (`None`: not clustered by Pol.is).
pub(super) type PolisGroups = BTreeMap<ParticipantId, Option<u64>>;

/// Reads participants-votes.csv row by row into one record buffer, handing each vote to `vote`
/// as it is read (a vote list here, the matrix builder at national scale, see `polis_stream`).
/// Returns the participants in file order and Pol.is's group of each.
pub(super) fn read_matrix_rows<R: std::io::Read>(
    path: &Path,
    mut reader: csv::Reader<R>,
    mut vote: impl FnMut(Vote),
) -> Result<(Vec<ParticipantId>, PolisGroups), PolisError> {
    let path = path.to_owned();
    let csv_error = |source| PolisError::Csv {
        path: path.clone(),
        source,
    };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let participant_col = column(&headers, &path, "participant")?;
    let group_col = column(&headers, &path, "group-id")?;
    // Statement columns are the ones named by a comment id.
    let statement_cols: Vec<(usize, StatementId)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.trim().parse::<StatementId>().ok().map(|s| (i, s)))
        .collect();
    let mut participants = Vec::new();
    let mut polis_groups = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let cell = Cell {
            path: &path,
            line: line_of(&record),
        };
        let participant = cell.int(&record, participant_col, "participant")?;
        let group = match record.get(group_col).unwrap_or("").trim() {
            "" => None,
            g => Some(
                g.parse::<u64>()
                    .map_err(|_| cell.bad("group-id", g, "a group number or blank"))?,
            ),
        };
        participants.push(participant);
        polis_groups.insert(participant, group);
        for &(i, statement) in &statement_cols {
            let raw = record.get(i).unwrap_or("");
            if raw.trim().is_empty() {
                continue;
            }
            vote(Vote {
                participant,
                statement,
                value: cell.vote(raw, &headers[i])?,
            });
        }
    }
    Ok((participants, polis_groups))
}

pub(super) fn read_comments<R: std::io::Read>(
    path: &Path,
    mut reader: csv::Reader<R>,
) -> Result<BTreeMap<StatementId, StatementFlags>, PolisError> {
    let headers = reader
        .headers()
        .map_err(|source| PolisError::Csv {
            path: path.to_owned(),
            source,
        })?
        .clone();
    let id_col = column(&headers, path, "comment-id")?;
    let moderated_col = column(&headers, path, "moderated")?;
    let meta_col = headers.iter().position(|h| h.trim() == "is-meta");
    let mut out = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|source| PolisError::Csv {
            path: path.to_owned(),
            source,
        })?;
        let cell = Cell {
            path,
            line: line_of(&record),
        };
        let id = cell.int(&record, id_col, "comment-id")?;
        let moderated = cell.int(&record, moderated_col, "moderated")?;
        if !(-1..=1).contains(&moderated) {
            return Err(cell.bad("moderated", &moderated.to_string(), "-1, 0 or 1"));
        }
        let meta = match meta_col.map(|c| record.get(c).unwrap_or("").trim()) {
            None | Some("") | Some("false") | Some("FALSE") | Some("0") => false,
            Some("true") | Some("TRUE") | Some("1") => true,
            Some(other) => return Err(cell.bad("is-meta", other, "true or false")),
        };
        out.insert(
            id,
            StatementFlags {
                moderated_out: moderated == -1,
                meta,
            },
        );
    }
    Ok(out)
}

fn read_votes<R: std::io::Read>(
    path: &Path,
    mut reader: csv::Reader<R>,
) -> Result<Vec<TimedVote>, PolisError> {
    let headers = reader
        .headers()
        .map_err(|source| PolisError::Csv {
            path: path.to_owned(),
            source,
        })?
        .clone();
    let time_col = column(&headers, path, "timestamp")?;
    let statement_col = column(&headers, path, "comment-id")?;
    let voter_col = column(&headers, path, "voter-id")?;
    let vote_col = column(&headers, path, "vote")?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|source| PolisError::Csv {
            path: path.to_owned(),
            source,
        })?;
        let cell = Cell {
            path,
            line: line_of(&record),
        };
        let timestamp = cell.int(&record, time_col, "timestamp")?;
        let statement = cell.int(&record, statement_col, "comment-id")?;
        let participant = cell.int(&record, voter_col, "voter-id")?;
        let value = cell.vote(record.get(vote_col).unwrap_or(""), "vote")?;
        out.push(TimedVote {
            timestamp,
            vote: Vote {
                participant,
                statement,
                value,
            },
        });
    }
    out.sort_by_key(|v| v.timestamp);
    Ok(out)
}

/// Pol.is's math worker polls the votes table every second (`polismath.poller`, default
/// `:polling-interval 1000`) and runs one conversation update on everything the poll found
/// (`polismath.conv-man`: the conversation actor takes every queued batch and calls
/// `conv/conv-update` once). The replay follows that cadence from the votes' timestamps: one
/// warm-started update per second of the epoch in which votes arrived (docs/opinion.md §15).
pub const POLL_INTERVAL_MS: i64 = crate::opinion::UPDATE_INTERVAL_MS as i64;

/// Replay cadence of earlier versions: an update after every `update_every(n)` votes (about a
/// hundred updates per conversation). Kept so the table can show both.
pub fn update_every(total_votes: usize) -> usize {
    (total_votes / 100).max(25)
}

/// Runs the engine over the export's vote history at Pol.is's cadence ([`POLL_INTERVAL_MS`]);
/// returns the last snapshot and the number of updates. `None` when the export was read without
/// history.
pub fn replay(export: &PolisExport, params: &Params) -> Option<(Snapshot, usize)> {
    let history = export.history.as_ref()?;
    Some(replay_polls(
        history,
        &export.input.statements,
        params,
        POLL_INTERVAL_MS,
    ))
}

/// Replays `history` (in time order) with one warm-started update per poll: the votes whose
/// timestamps fall in the same `interval_ms` window of the epoch form one batch.
pub fn replay_polls(
    history: &[TimedVote],
    statements: &BTreeMap<StatementId, StatementFlags>,
    params: &Params,
    interval_ms: i64,
) -> (Snapshot, usize) {
    let interval = interval_ms.max(1);
    let ends = history
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0].timestamp.div_euclid(interval) != w[1].timestamp.div_euclid(interval))
        .map(|(i, _)| i + 1);
    replay_batches(history, statements, params, ends)
}

/// Replays `history` with a warm-started update after every `step` votes and at the end.
pub fn replay_every(
    history: &[TimedVote],
    statements: &BTreeMap<StatementId, StatementFlags>,
    params: &Params,
    step: usize,
) -> (Snapshot, usize) {
    let step = step.max(1);
    let ends = (1..history.len()).filter(move |i| i % step == 0);
    replay_batches(history, statements, params, ends)
}

/// One warm-started update after each batch: `ends` are the (increasing) positions in `history`
/// where a batch ends; the last batch always ends with the history.
fn replay_batches(
    history: &[TimedVote],
    statements: &BTreeMap<StatementId, StatementFlags>,
    params: &Params,
    ends: impl Iterator<Item = usize>,
) -> (Snapshot, usize) {
    // The matrix is kept and updated in place between polls (`Incremental` gives exactly the
    // snapshot a warm `analyze` of all votes so far gives), so a replay with tens of thousands
    // of updates does not re-sort the whole history each time.
    let empty = Input {
        votes: Vec::new(),
        statements: statements.clone(),
        vote_high_water_mark: 0,
    };
    let mut conversation = Incremental::new(&empty, None);
    let mut last = None;
    let mut updates = 0;
    let mut batch: Vec<Vote> = Vec::new();
    let mut from = 0;
    for end in ends.chain(std::iter::once(history.len())) {
        if end <= from || end > history.len() {
            continue;
        }
        batch.clear();
        batch.extend(history[from..end].iter().map(|tv| tv.vote));
        from = end;
        conversation.add_votes(&batch, statements);
        last = Some(conversation.update(end as u64, params));
        updates += 1;
    }
    match last {
        Some(s) => (s, updates),
        None => (crate::opinion::analyze(&empty, None, params), 1),
    }
}

/// How our groups compare with Pol.is's over participants both clustered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub ari: f64,
    pub both_clustered: usize,
    pub k: usize,
    pub polis_k: usize,
}

pub fn compare(snapshot: &Snapshot, export: &PolisExport) -> Comparison {
    let labels: Vec<(u64, u64)> = export
        .polis_groups
        .iter()
        .filter_map(|(p, polis)| {
            let ours = snapshot.participants.get(p)?.group?;
            Some((ours as u64, (*polis)?))
        })
        .collect();
    let mut polis: Vec<u64> = export.polis_groups.values().flatten().copied().collect();
    polis.sort_unstable();
    polis.dedup();
    Comparison {
        ari: super::ari::adjusted_rand_index(&labels),
        both_clustered: labels.len(),
        k: snapshot.k,
        polis_k: polis.len(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportEntry {
    pub statement: String,
    pub direction: crate::opinion::Direction,
    pub pa: f64,
    pub pat: f64,
    pub ra: f64,
    pub rat: f64,
    pub pd: f64,
    pub pdt: f64,
    pub rd: f64,
    pub rdt: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportGroup {
    pub id: usize,
    pub members: usize,
    pub representative: Vec<ReportEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportConsensus {
    pub agree: Vec<String>,
    pub disagree: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportReceipt {
    pub input_sha256: String,
    pub seed: u64,
    pub params: Params,
    pub silhouette: BTreeMap<usize, f64>,
    pub best_k: Option<usize>,
    pub chosen_k: Option<usize>,
    pub counts: crate::opinion::InputCounts,
    pub vote_high_water_mark: u64,
    pub updates: usize,
}

/// The command line's JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub k: usize,
    pub participants: BTreeMap<ParticipantId, Option<usize>>,
    pub groups: Vec<ReportGroup>,
    pub consensus: ReportConsensus,
    pub group_informed_consensus: BTreeMap<StatementId, f64>,
    pub priorities: BTreeMap<StatementId, f64>,
    pub receipt: ReportReceipt,
    pub comparison_with_polis: Comparison,
}

pub fn report(snapshot: &Snapshot, export: &PolisExport, updates: usize) -> Report {
    let participants = export
        .participants
        .iter()
        .map(|p| (*p, snapshot.participants.get(p).and_then(|r| r.group)))
        .collect();
    let groups = snapshot
        .groups
        .iter()
        .map(|g| ReportGroup {
            id: g.id,
            members: g.members,
            representative: g
                .representative
                .iter()
                .map(|r| ReportEntry {
                    statement: r.statement.to_string(),
                    direction: r.direction,
                    pa: r.stats.pa,
                    pat: r.stats.pat,
                    ra: r.stats.ra,
                    rat: r.stats.rat,
                    pd: r.stats.pd,
                    pdt: r.stats.pdt,
                    rd: r.stats.rd,
                    rdt: r.stats.rdt,
                })
                .collect(),
        })
        .collect();
    let ids = |v: &[crate::opinion::ConsensusStatement]| {
        v.iter().map(|c| c.statement.to_string()).collect()
    };
    let r = &snapshot.receipt;
    Report {
        k: snapshot.k,
        participants,
        groups,
        consensus: ReportConsensus {
            agree: ids(&snapshot.consensus.agree),
            disagree: ids(&snapshot.consensus.disagree),
        },
        group_informed_consensus: snapshot.group_informed_consensus.clone(),
        priorities: snapshot.priorities.clone(),
        receipt: ReportReceipt {
            input_sha256: r.input_sha256.clone(),
            seed: r.seed,
            params: r.params.clone(),
            silhouette: r.silhouette.clone(),
            best_k: r.best_k,
            chosen_k: r.chosen_k,
            counts: r.counts.clone(),
            vote_high_water_mark: r.vote_high_water_mark,
            updates,
        },
        comparison_with_polis: compare(snapshot, export),
    }
}

/// Runs `analyze --polis-export DIR [--replay]` and returns the report.
pub fn analyze_export(
    dir: &Path,
    replay_history: bool,
    params: &Params,
) -> Result<Report, PolisError> {
    let export = read_export(dir, replay_history)?;
    let (snapshot, updates) = match replay(&export, params) {
        Some(r) if replay_history => r,
        _ => (crate::opinion::analyze(&export.input, None, params), 1),
    };
    Ok(report(&snapshot, &export, updates))
}

/// One conversation's agreement with Pol.is, cold and (when votes.csv exists) replayed.
#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub conversation: String,
    pub cold: Comparison,
    pub cold_silhouette: BTreeMap<usize, f64>,
    /// At Pol.is's cadence (one update per poll second).
    pub replay: Option<Comparison>,
    pub replay_updates: usize,
    /// At the earlier fixed cadence (an update every 1 % of the votes).
    pub replay_fixed: Option<Comparison>,
}

/// Runs every export folder under `data_dir` (sorted by name) cold and, where votes.csv exists,
/// replayed at both cadences.
pub fn ari_table(data_dir: &Path, params: &Params) -> Result<Vec<TableRow>, PolisError> {
    ari_table_with(data_dir, params, true)
}

/// [`ari_table`], with the replay at Pol.is's cadence only when `polls` is set: it runs one
/// update per second of votes (~125,000 over the shared conversations, minutes even in a
/// release build), which an unoptimised test build cannot afford.
pub fn ari_table_with(
    data_dir: &Path,
    params: &Params,
    polls: bool,
) -> Result<Vec<TableRow>, PolisError> {
    let entries = std::fs::read_dir(data_dir).map_err(|source| PolisError::Io {
        path: data_dir.to_owned(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("participants-votes.csv").is_file())
        .collect();
    dirs.sort();
    let mut rows = Vec::new();
    for dir in dirs {
        let has_history = dir.join("votes.csv").is_file();
        let export = read_export(&dir, has_history)?;
        let cold = crate::opinion::analyze(&export.input, None, params);
        let replayed = if polls { replay(&export, params) } else { None };
        let (replay, replay_updates) = match replayed {
            Some((snapshot, updates)) => (Some(compare(&snapshot, &export)), updates),
            None => (None, 0),
        };
        let replay_fixed = export.history.as_ref().map(|h| {
            let (snapshot, _) =
                replay_every(h, &export.input.statements, params, update_every(h.len()));
            compare(&snapshot, &export)
        });
        rows.push(TableRow {
            conversation: dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            cold: compare(&cold, &export),
            cold_silhouette: cold.receipt.silhouette.clone(),
            replay,
            replay_updates,
            replay_fixed,
        });
    }
    Ok(rows)
}

/// The table as aligned text.
pub fn format_table(rows: &[TableRow]) -> String {
    let mut out = format!(
        "{:<34} {:>6} | {:>4} {:>7} {:>5} | {:>4} {:>7} {:>5} {:>7} | {:>4} {:>7}\n",
        "", "Pol.is", "cold", "", "", "replay", "(polls)", "", "", "1 %", ""
    );
    out.push_str(&format!(
        "{:<34} {:>6} | {:>4} {:>7} {:>5} | {:>4} {:>7} {:>5} {:>7} | {:>4} {:>7}\n",
        "conversation", "k", "k", "ARI", "n", "k", "ARI", "n", "updates", "k", "ARI"
    ));
    for r in rows {
        let replay = match &r.replay {
            Some(c) => format!(
                "{:>4} {:>7.3} {:>5} {:>7}",
                c.k, c.ari, c.both_clustered, r.replay_updates
            ),
            None => format!("{:>4} {:>7} {:>5} {:>7}", "-", "-", "-", "-"),
        };
        let fixed = match &r.replay_fixed {
            Some(c) => format!("{:>4} {:>7.3}", c.k, c.ari),
            None => format!("{:>4} {:>7}", "-", "-"),
        };
        out.push_str(&format!(
            "{:<34} {:>6} | {:>4} {:>7.3} {:>5} | {replay} | {fixed}\n",
            r.conversation, r.cold.polis_k, r.cold.k, r.cold.ari, r.cold.both_clustered
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) {
        std::fs::write(dir.join(name), body).unwrap();
    }

    const COMMENTS: &str = "timestamp,comment-id,author-id,agrees,disagrees,moderated,is-meta,comment-body\n\
        1,0,0,1,0,1,false,a\n2,1,0,1,0,-1,false,b\n3,2,0,1,0,0,true,\"c, with comma\"\n";

    #[test]
    fn reads_votes_groups_and_moderation() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "comments.csv", COMMENTS);
        write(
            dir.path(),
            "participants-votes.csv",
            "participant,xid,group-id,n-comments,n-votes,n-agree,n-disagree,0,1,2\n\
             5,,1,0,2,1,1,1,-1,\n7,,,0,1,0,0,,,0\n",
        );
        write(
            dir.path(),
            "votes.csv",
            "timestamp,datetime,comment-id,voter-id,vote\n20,x,0,5,1\n10,x,1,5,-1\n",
        );
        let e = read_export(dir.path(), true).unwrap();
        assert_eq!(e.participants, vec![5, 7]);
        assert_eq!(e.polis_groups.get(&5), Some(&Some(1)));
        assert_eq!(e.polis_groups.get(&7), Some(&None));
        assert_eq!(
            e.input.votes,
            vec![
                Vote {
                    participant: 5,
                    statement: 0,
                    value: VoteValue::Agree
                },
                Vote {
                    participant: 5,
                    statement: 1,
                    value: VoteValue::Disagree
                },
                Vote {
                    participant: 7,
                    statement: 2,
                    value: VoteValue::Pass
                },
            ]
        );
        assert_eq!(
            e.input.statements.get(&1),
            Some(&StatementFlags {
                moderated_out: true,
                meta: false
            })
        );
        assert_eq!(
            e.input.statements.get(&2),
            Some(&StatementFlags {
                moderated_out: false,
                meta: true
            })
        );
        let h = e.history.unwrap();
        assert_eq!(
            h.iter().map(|v| v.timestamp).collect::<Vec<_>>(),
            vec![10, 20]
        );
    }

    #[test]
    fn replay_runs_one_update_per_poll_second() {
        let tv = |timestamp, participant, statement| TimedVote {
            timestamp,
            vote: Vote {
                participant,
                statement,
                value: VoteValue::Agree,
            },
        };
        // Seconds 0, 0, 1, 1, 5 and 5: three polls find votes.
        let history = vec![
            tv(100, 1, 0),
            tv(999, 2, 0),
            tv(1000, 1, 1),
            tv(1999, 3, 0),
            tv(5000, 2, 1),
            tv(5001, 3, 1),
        ];
        let statements = BTreeMap::new();
        let params = Params::default();
        let (last, updates) = replay_polls(&history, &statements, &params, POLL_INTERVAL_MS);
        assert_eq!(updates, 3);
        assert_eq!(last.receipt.vote_high_water_mark, 6);
        assert_eq!(last.receipt.counts.votes, 6);
        assert!(last.receipt.warm_start);
        // A longer poll interval merges the first two seconds.
        assert_eq!(replay_polls(&history, &statements, &params, 2000).1, 2);
        // The fixed cadence of earlier versions: every 4 votes and at the end.
        assert_eq!(replay_every(&history, &statements, &params, 4).1, 2);
    }

    #[test]
    fn unknown_vote_values_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "comments.csv", COMMENTS);
        write(
            dir.path(),
            "participants-votes.csv",
            "participant,group-id,0\n1,,2\n",
        );
        let err = read_export(dir.path(), false).unwrap_err();
        assert!(
            matches!(err, PolisError::BadValue { ref value, .. } if value == "2"),
            "{err}"
        );
        assert!(matches!(
            read_export(dir.path(), true),
            Err(PolisError::BadValue { .. })
        ));
        write(
            dir.path(),
            "participants-votes.csv",
            "participant,group-id,0\n1,,1\n",
        );
        assert!(matches!(
            read_export(dir.path(), true),
            Err(PolisError::Io { .. })
        ));
        assert!(matches!(
            read_export(&dir.path().join("nope"), false),
            Err(PolisError::Io { .. })
        ));
    }

    #[test]
    fn ragged_rows_and_missing_columns_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "comments.csv", COMMENTS);
        write(
            dir.path(),
            "participants-votes.csv",
            "participant,group-id,0\n1,,1,1\n",
        );
        assert!(matches!(
            read_export(dir.path(), false),
            Err(PolisError::Csv { .. })
        ));
        write(
            dir.path(),
            "participants-votes.csv",
            "who,group-id,0\n1,,1\n",
        );
        assert!(matches!(
            read_export(dir.path(), false),
            Err(PolisError::MissingColumn {
                column: "participant",
                ..
            })
        ));
    }
}

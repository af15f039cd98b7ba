//! The sparse vote matrix R (docs/opinion.md §2) in compressed rows, with Pol.is's row and
//! column order.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use super::{ParticipantId, StatementFlags, StatementId, Vote};

/// Multiply-shift hashing for integer ids: several times faster than SipHash on millions of
/// lookups, and the maps are never iterated, so their order cannot leak into results.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = super::rng::mix(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = super::rng::mix(n);
    }
}

pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Participants × statements, latest vote per cell, missing cells absent.
#[derive(Debug, Clone)]
pub struct VoteMatrix {
    /// Row order: first appearance scanning statements by ascending id, voters by ascending id.
    pub participants: Vec<ParticipantId>,
    /// Column order: ascending statement id; only statements with at least one vote.
    pub statements: Vec<StatementId>,
    /// Moderated out or meta: these columns are 0 for every participant in M.
    pub excluded: Vec<bool>,
    pub row_ptr: Vec<usize>,
    pub cols: Vec<u32>,
    pub values: Vec<i8>,
    pub(crate) row_of: IdMap<ParticipantId, u32>,
    /// SHA-256 of each row's content (participant id, then its cells as statement id and
    /// value), for the receipt's input hash: kept with the rows so that an update re-hashes only
    /// the rows it touched.
    pub(crate) row_digests: Vec<[u8; 32]>,
    /// Per column, the cells holding disagree, pass and agree (indexed by vote + 1): kept with
    /// the rows, so that the column means, the bridging fit's per-statement totals and the
    /// all-participants counts need no pass over the votes, and an update adjusts them for the
    /// rows it touched only.
    pub(crate) value_counts: Vec<[u32; 3]>,
    /// Rows by ascending participant id (the receipt's and the participants' order), kept with
    /// the rows so that an update does not sort them again.
    pub(crate) rows_by_id: Vec<u32>,
}

/// Rows sorted by participant id.
fn sorted_rows(participants: &[ParticipantId]) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..participants.len() as u32).collect();
    rows.par_sort_unstable_by_key(|&r| participants[r as usize]);
    rows
}

/// Per column, the cells by value (see [`VoteMatrix::value_counts`]), in one parallel pass;
/// integer sums, so the chunking cannot change them.
fn all_value_counts(cols: &[u32], values: &[i8], n_cols: usize) -> Vec<[u32; 3]> {
    const CHUNK: usize = 1 << 16;
    let add = |mut acc: Vec<[u32; 3]>, (c, v): (&[u32], &[i8])| {
        for (&c, &v) in c.iter().zip(v) {
            acc[c as usize][(v + 1) as usize] += 1;
        }
        acc
    };
    cols.par_chunks(CHUNK)
        .zip(values.par_chunks(CHUNK))
        .fold(|| vec![[0u32; 3]; n_cols], add)
        .reduce(|| vec![[0u32; 3]; n_cols], add_value_counts)
}

/// `a + b` cell by cell: how partial counts by value (per column, or per group and column) are
/// combined.
pub(crate) fn add_value_counts(mut a: Vec<[u32; 3]>, b: Vec<[u32; 3]>) -> Vec<[u32; 3]> {
    for (x, y) in a.iter_mut().zip(b) {
        for k in 0..3 {
            x[k] += y[k];
        }
    }
    a
}

/// The digest of one row: participant id, number of cells, then (statement id, value) per cell
/// by ascending statement id, integers as little-endian bytes.
fn row_digest(
    participant: ParticipantId,
    cols: &[u32],
    values: &[i8],
    statements: &[StatementId],
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut buf = Vec::with_capacity(16 + 9 * cols.len());
    buf.extend_from_slice(&participant.to_le_bytes());
    buf.extend_from_slice(&(cols.len() as u64).to_le_bytes());
    for (&c, &x) in cols.iter().zip(values) {
        buf.extend_from_slice(&statements[c as usize].to_le_bytes());
        buf.push(x as u8);
    }
    Sha256::digest(&buf).into()
}

fn all_row_digests(
    participants: &[ParticipantId],
    row_ptr: &[usize],
    cols: &[u32],
    values: &[i8],
    statements: &[StatementId],
) -> Vec<[u8; 32]> {
    (0..participants.len())
        .into_par_iter()
        .map(|r| {
            let range = row_ptr[r]..row_ptr[r + 1];
            row_digest(
                participants[r],
                &cols[range.clone()],
                &values[range],
                statements,
            )
        })
        .collect()
}

/// Builds a [`VoteMatrix`] from votes streamed in one at a time, so a caller never needs the
/// whole vote list in memory: 8 bytes per vote while collecting (a participant index and a
/// statement index with the value), instead of a 24-byte [`Vote`] plus the builder's own copy.
/// The result is exactly [`VoteMatrix::build`]'s for the same votes in the same order.
#[derive(Debug, Default, Clone)]
pub struct MatrixBuilder {
    statement_of: IdMap<StatementId, u32>,
    statement_ids: Vec<StatementId>,
    participant_of: IdMap<ParticipantId, u32>,
    participant_ids: Vec<ParticipantId>,
    /// Lowest statement id each participant voted on (the row order's first key).
    min_statement: Vec<StatementId>,
    vote_participant: Vec<u32>,
    /// `statement index << 2 | (value + 1)`.
    vote_key: Vec<u32>,
}

impl MatrixBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(votes: usize) -> Self {
        Self {
            vote_participant: Vec::with_capacity(votes),
            vote_key: Vec::with_capacity(votes),
            ..Self::default()
        }
    }

    /// Rows of input so far (duplicate cells included).
    pub fn vote_rows(&self) -> usize {
        self.vote_participant.len()
    }

    pub fn push(&mut self, v: Vote) {
        let statement = match self.statement_of.get(&v.statement) {
            Some(&s) => s,
            None => {
                let s = self.statement_ids.len() as u32;
                self.statement_ids.push(v.statement);
                self.statement_of.insert(v.statement, s);
                s
            }
        };
        let p = match self.participant_of.get(&v.participant) {
            Some(&p) => p,
            None => {
                let p = self.participant_ids.len() as u32;
                self.participant_ids.push(v.participant);
                self.min_statement.push(v.statement);
                self.participant_of.insert(v.participant, p);
                p
            }
        };
        let m = &mut self.min_statement[p as usize];
        *m = (*m).min(v.statement);
        self.vote_participant.push(p);
        self.vote_key
            .push((statement << 2) | (v.value as i8 + 1) as u32);
    }

    pub fn finish(self, flags: &BTreeMap<StatementId, StatementFlags>) -> VoteMatrix {
        let Self {
            statement_of,
            statement_ids,
            participant_of,
            participant_ids,
            min_statement,
            vote_participant,
            vote_key,
        } = self;
        drop(statement_of);
        drop(participant_of);
        let mut statements = statement_ids.clone();
        statements.sort_unstable();
        let mut col_of_statement = vec![0u32; statement_ids.len()];
        for (i, s) in statement_ids.iter().enumerate() {
            col_of_statement[i] = statements.binary_search(s).unwrap_or(0) as u32;
        }

        // Columns ascend with statement ids, so the lowest statement id gives the lowest column.
        let mut order: Vec<u32> = (0..participant_ids.len() as u32).collect();
        order.par_sort_unstable_by_key(|&p| {
            (min_statement[p as usize], participant_ids[p as usize])
        });
        let mut row_of_prov = vec![0u32; order.len()];
        for (row, &p) in order.iter().enumerate() {
            row_of_prov[p as usize] = row as u32;
        }
        let participants: Vec<ParticipantId> =
            order.iter().map(|&p| participant_ids[p as usize]).collect();
        drop(order);
        drop(participant_ids);
        drop(min_statement);

        // Counting sort into rows; each entry packs (column, position in row, value) so that an
        // unstable sort still keeps the last vote of a duplicated cell last.
        let n_rows = participants.len();
        let mut row_ptr = vec![0usize; n_rows + 1];
        for &p in &vote_participant {
            row_ptr[row_of_prov[p as usize] as usize + 1] += 1;
        }
        for r in 0..n_rows {
            row_ptr[r + 1] += row_ptr[r];
        }
        let mut fill = row_ptr.clone();
        let mut packed = vec![0u64; vote_participant.len()];
        for (&p, &key) in vote_participant.iter().zip(&vote_key) {
            let row = row_of_prov[p as usize] as usize;
            let pos = fill[row] - row_ptr[row];
            let col = col_of_statement[(key >> 2) as usize];
            packed[fill[row]] =
                (u64::from(col) << 32) | ((pos as u64 & 0xFF_FFFF) << 8) | u64::from(key & 3);
            fill[row] += 1;
        }
        drop(fill);
        drop(vote_participant);
        drop(vote_key);

        let mut segments: Vec<&mut [u64]> = Vec::with_capacity(n_rows);
        let mut rest: &mut [u64] = &mut packed;
        for r in 0..n_rows {
            let (head, tail) = rest.split_at_mut(row_ptr[r + 1] - row_ptr[r]);
            segments.push(head);
            rest = tail;
        }
        let kept: Vec<usize> = segments
            .into_par_iter()
            .map(|seg| {
                seg.sort_unstable();
                // Keep the last entry of each column run, compacting in place.
                let mut out = 0;
                for i in 0..seg.len() {
                    let last_of_run = i + 1 == seg.len() || (seg[i + 1] >> 32) != (seg[i] >> 32);
                    if last_of_run {
                        seg[out] = seg[i];
                        out += 1;
                    }
                }
                out
            })
            .collect();

        let nnz: usize = kept.iter().sum();
        let mut cols = Vec::with_capacity(nnz);
        let mut values = Vec::with_capacity(nnz);
        let mut new_ptr = Vec::with_capacity(n_rows + 1);
        new_ptr.push(0);
        for r in 0..n_rows {
            for &e in &packed[row_ptr[r]..row_ptr[r] + kept[r]] {
                cols.push((e >> 32) as u32);
                values.push((e & 0xFF) as i8 - 1);
            }
            new_ptr.push(cols.len());
        }
        drop(packed);

        let excluded = excluded_columns(&statements, flags);
        let row_of = participants
            .iter()
            .enumerate()
            .map(|(r, &p)| (p, r as u32))
            .collect();
        let row_digests = all_row_digests(&participants, &new_ptr, &cols, &values, &statements);
        let value_counts = all_value_counts(&cols, &values, statements.len());
        let rows_by_id = sorted_rows(&participants);
        VoteMatrix {
            participants,
            statements,
            excluded,
            row_ptr: new_ptr,
            cols,
            values,
            row_of,
            row_digests,
            value_counts,
            rows_by_id,
        }
    }
}

impl Extend<Vote> for MatrixBuilder {
    fn extend<I: IntoIterator<Item = Vote>>(&mut self, iter: I) {
        for v in iter {
            self.push(v);
        }
    }
}

fn excluded_columns(
    statements: &[StatementId],
    flags: &BTreeMap<StatementId, StatementFlags>,
) -> Vec<bool> {
    statements
        .iter()
        .map(|s| flags.get(s).is_some_and(|f| f.moderated_out || f.meta))
        .collect()
}

impl VoteMatrix {
    /// Builds R from a list of votes. When a (participant, statement) pair occurs more than
    /// once, the later entry in `votes` wins, so callers may pass an append-only history.
    pub fn build(votes: &[Vote], flags: &BTreeMap<StatementId, StatementFlags>) -> Self {
        let mut builder = MatrixBuilder::with_capacity(votes.len());
        builder.extend(votes.iter().copied());
        builder.finish(flags)
    }

    /// Adds votes cast since the matrix was built and applies the current statement flags:
    /// afterwards the matrix equals `build(old votes ++ votes, flags)` exactly (same rows, row
    /// order, columns and cells), at the cost of one copy of the cells instead of hashing and
    /// sorting every vote again. A later vote on a cell replaces the earlier one.
    pub fn apply(&mut self, votes: &[Vote], flags: &BTreeMap<StatementId, StatementFlags>) {
        // New statements: columns stay in ascending id order, so old columns move up
        // monotonically and every row stays sorted.
        let mut new_statements: Vec<StatementId> = votes
            .iter()
            .map(|v| v.statement)
            .filter(|s| self.statements.binary_search(s).is_err())
            .collect();
        new_statements.sort_unstable();
        new_statements.dedup();
        if !new_statements.is_empty() {
            let mut merged = Vec::with_capacity(self.statements.len() + new_statements.len());
            merged.extend_from_slice(&self.statements);
            merged.extend_from_slice(&new_statements);
            merged.sort_unstable();
            let remap: Vec<u32> = self
                .statements
                .iter()
                .map(|s| merged.binary_search(s).unwrap_or(0) as u32)
                .collect();
            self.cols
                .par_iter_mut()
                .for_each(|c| *c = remap[*c as usize]);
            let mut value_counts = vec![[0u32; 3]; merged.len()];
            for (old, &new) in remap.iter().enumerate() {
                value_counts[new as usize] = self.value_counts[old];
            }
            self.value_counts = value_counts;
            self.statements = merged;
        }
        self.excluded = excluded_columns(&self.statements, flags);
        if votes.is_empty() {
            return;
        }

        // The new cells per target row (existing rows first, then new participants in
        // first-seen order), latest vote per cell.
        let n_old = self.n_rows();
        let mut new_ids: Vec<ParticipantId> = Vec::new();
        let mut new_index: IdMap<ParticipantId, u32> = IdMap::default();
        let mut cells: Vec<(u32, u32, u32, i8)> = Vec::with_capacity(votes.len());
        for (seq, v) in votes.iter().enumerate() {
            let target = match self.row_of.get(&v.participant) {
                Some(&r) => r,
                None => *new_index.entry(v.participant).or_insert_with(|| {
                    new_ids.push(v.participant);
                    (n_old + new_ids.len() - 1) as u32
                }),
            };
            let col = self.statements.binary_search(&v.statement).unwrap_or(0) as u32;
            cells.push((target, col, seq as u32, v.value as i8));
        }
        cells.sort_unstable();
        let mut latest: Vec<(u32, u32, i8)> = Vec::with_capacity(cells.len());
        for (i, &(t, c, _, x)) in cells.iter().enumerate() {
            let last_of_run = i + 1 == cells.len() || (cells[i + 1].0, cells[i + 1].1) != (t, c);
            if last_of_run {
                latest.push((t, c, x));
            }
        }
        drop(cells);

        // Merge the touched rows with their new cells.
        let mut touched: Vec<(u32, Vec<u32>, Vec<i8>)> = Vec::new();
        let mut i = 0;
        while i < latest.len() {
            let t = latest[i].0;
            let mut j = i;
            while j < latest.len() && latest[j].0 == t {
                j += 1;
            }
            let (old_cols, old_vals): (&[u32], &[i8]) = if (t as usize) < n_old {
                self.row(t as usize)
            } else {
                (&[], &[])
            };
            let mut cols = Vec::with_capacity(old_cols.len() + j - i);
            let mut vals = Vec::with_capacity(old_cols.len() + j - i);
            let (mut a, mut b) = (0, i);
            while a < old_cols.len() || b < j {
                if b == j || (a < old_cols.len() && old_cols[a] < latest[b].1) {
                    cols.push(old_cols[a]);
                    vals.push(old_vals[a]);
                    a += 1;
                } else {
                    if a < old_cols.len() && old_cols[a] == latest[b].1 {
                        a += 1;
                    }
                    cols.push(latest[b].1);
                    vals.push(latest[b].2);
                    b += 1;
                }
            }
            touched.push((t, cols, vals));
            i = j;
        }
        drop(latest);
        for (t, cols, vals) in &touched {
            let t = *t as usize;
            if t < n_old {
                let old = self.row_ptr[t]..self.row_ptr[t + 1];
                for (&c, &v) in self.cols[old.clone()].iter().zip(&self.values[old]) {
                    self.value_counts[c as usize][(v + 1) as usize] -= 1;
                }
            }
            for (&c, &v) in cols.iter().zip(vals) {
                self.value_counts[c as usize][(v + 1) as usize] += 1;
            }
        }

        // Row order (§2): by lowest column, then participant id. Rows whose lowest column did
        // not change keep their relative order; the others are sorted and merged in.
        let id_of = |t: u32| -> ParticipantId {
            if (t as usize) < n_old {
                self.participants[t as usize]
            } else {
                new_ids[t as usize - n_old]
            }
        };
        let mut merged_of_row: IdMap<u32, usize> = IdMap::default();
        let mut moved: Vec<(u32, ParticipantId, u32)> = Vec::new();
        for (k, (t, cols, _)) in touched.iter().enumerate() {
            merged_of_row.insert(*t, k);
            let old_first = if (*t as usize) < n_old {
                self.row(*t as usize).0.first().copied()
            } else {
                None
            };
            if old_first != cols.first().copied() {
                moved.push((cols[0], id_of(*t), *t));
            }
        }
        moved.sort_unstable();
        let first_col = |r: usize| self.cols[self.row_ptr[r]];
        let mut order: Vec<u32> = Vec::with_capacity(n_old + new_ids.len());
        let is_moved: Vec<u32> = {
            let mut v: Vec<u32> = moved
                .iter()
                .map(|m| m.2)
                .filter(|&t| (t as usize) < n_old)
                .collect();
            v.sort_unstable();
            v
        };
        let mut mi = 0;
        for r in 0..n_old {
            if is_moved.binary_search(&(r as u32)).is_ok() {
                continue;
            }
            let key = (first_col(r), self.participants[r]);
            while mi < moved.len() && (moved[mi].0, moved[mi].1) < key {
                order.push(moved[mi].2);
                mi += 1;
            }
            order.push(r as u32);
        }
        order.extend(moved[mi..].iter().map(|m| m.2));

        let nnz = self.nnz()
            + touched
                .iter()
                .map(|(t, c, _)| {
                    c.len()
                        - if (*t as usize) < n_old {
                            self.row_ptr[*t as usize + 1] - self.row_ptr[*t as usize]
                        } else {
                            0
                        }
                })
                .sum::<usize>();
        let mut cols = Vec::with_capacity(nnz);
        let mut values = Vec::with_capacity(nnz);
        let mut row_ptr = Vec::with_capacity(order.len() + 1);
        let mut row_digests = Vec::with_capacity(order.len());
        row_ptr.push(0);
        for &t in &order {
            match merged_of_row.get(&t) {
                Some(&k) => {
                    cols.extend_from_slice(&touched[k].1);
                    values.extend_from_slice(&touched[k].2);
                    row_digests.push(row_digest(
                        id_of(t),
                        &touched[k].1,
                        &touched[k].2,
                        &self.statements,
                    ));
                }
                None => {
                    let (c, v) = self.row(t as usize);
                    cols.extend_from_slice(c);
                    values.extend_from_slice(v);
                    row_digests.push(self.row_digests[t as usize]);
                }
            }
            row_ptr.push(cols.len());
        }
        self.row_digests = row_digests;
        let reordered = order.iter().enumerate().any(|(r, &t)| r as u32 != t);
        self.rows_by_id = if reordered || !new_ids.is_empty() {
            // The old rows keep their order by id at their new places; the new participants
            // (sorted by id) are merged in.
            let mut row_of_target = vec![0u32; order.len()];
            for (r, &t) in order.iter().enumerate() {
                row_of_target[t as usize] = r as u32;
            }
            let mut new_rows: Vec<(ParticipantId, u32)> = new_ids
                .iter()
                .enumerate()
                .map(|(k, &id)| (id, row_of_target[n_old + k]))
                .collect();
            new_rows.sort_unstable();
            let mut merged = Vec::with_capacity(order.len());
            let mut next = new_rows.iter().peekable();
            for &t in &self.rows_by_id {
                let id = self.participants[t as usize];
                while let Some(&&(new_id, row)) = next.peek() {
                    if new_id > id {
                        break;
                    }
                    merged.push(row);
                    next.next();
                }
                merged.push(row_of_target[t as usize]);
            }
            merged.extend(next.map(|&(_, row)| row));
            merged
        } else {
            std::mem::take(&mut self.rows_by_id)
        };
        let participants: Vec<ParticipantId> = order.iter().map(|&t| id_of(t)).collect();
        if reordered {
            self.row_of = participants
                .iter()
                .enumerate()
                .map(|(r, &p)| (p, r as u32))
                .collect();
        } else {
            for (k, &p) in new_ids.iter().enumerate() {
                self.row_of.insert(p, (n_old + k) as u32);
            }
        }
        self.participants = participants;
        self.cols = cols;
        self.values = values;
        self.row_ptr = row_ptr;
    }

    /// Per column, the cells holding disagree, pass and agree (indexed by vote + 1).
    pub fn value_counts(&self) -> &[[u32; 3]] {
        &self.value_counts
    }

    pub fn n_rows(&self) -> usize {
        self.participants.len()
    }

    pub fn n_cols(&self) -> usize {
        self.statements.len()
    }

    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    pub fn row(&self, r: usize) -> (&[u32], &[i8]) {
        let range = self.row_ptr[r]..self.row_ptr[r + 1];
        (&self.cols[range.clone()], &self.values[range])
    }

    pub fn row_index(&self, participant: ParticipantId) -> Option<usize> {
        self.row_of.get(&participant).map(|&r| r as usize)
    }

    pub fn n_excluded(&self) -> usize {
        self.excluded.iter().filter(|&&e| e).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opinion::VoteValue::{Agree, Disagree, Pass};

    fn vote(p: i64, s: i64, value: crate::opinion::VoteValue) -> Vote {
        Vote {
            participant: p,
            statement: s,
            value,
        }
    }

    #[test]
    fn rows_follow_first_appearance_by_statement_then_participant_id() {
        // Participant 9 votes on statement 1 only; 5 and 7 first appear on statement 2.
        let votes = vec![
            vote(7, 2, Agree),
            vote(9, 1, Disagree),
            vote(5, 2, Pass),
            vote(5, 3, Agree),
            vote(9, 3, Agree),
        ];
        let m = VoteMatrix::build(&votes, &BTreeMap::new());
        assert_eq!(m.statements, vec![1, 2, 3]);
        assert_eq!(m.participants, vec![9, 5, 7]);
        assert_eq!(m.row(0), (&[0u32, 2][..], &[-1i8, 1][..]));
        assert_eq!(m.row(1), (&[1u32, 2][..], &[0i8, 1][..]));
        assert_eq!(m.row(2), (&[1u32][..], &[1i8][..]));
        assert_eq!(m.row_index(7), Some(2));
        assert_eq!(m.row_index(8), None);
    }

    #[test]
    fn later_vote_on_same_cell_wins() {
        let votes = vec![vote(1, 1, Agree), vote(1, 2, Pass), vote(1, 1, Disagree)];
        let m = VoteMatrix::build(&votes, &BTreeMap::new());
        assert_eq!(m.nnz(), 2);
        assert_eq!(m.row(0), (&[0u32, 1][..], &[-1i8, 0][..]));
        // The superseded agree is not counted: per column [disagree, pass, agree].
        assert_eq!(m.value_counts(), &[[1, 0, 0], [0, 1, 0]]);
    }

    #[test]
    fn value_counts_follow_changed_votes_and_new_statements() {
        let mut m = VoteMatrix::build(
            &[vote(1, 5, Agree), vote(2, 5, Agree), vote(2, 7, Pass)],
            &BTreeMap::new(),
        );
        assert_eq!(m.value_counts(), &[[0, 0, 2], [0, 1, 0]]);
        // Participant 2 changes its mind on 5; a new statement 6 lands between 5 and 7.
        m.apply(
            &[
                vote(2, 5, Disagree),
                vote(3, 6, Agree),
                vote(1, 7, Disagree),
            ],
            &BTreeMap::new(),
        );
        assert_eq!(m.value_counts(), &[[1, 0, 1], [0, 0, 1], [1, 1, 0]]);
    }

    #[test]
    fn moderated_and_meta_statements_are_excluded_columns() {
        let mut flags = BTreeMap::new();
        flags.insert(
            2,
            StatementFlags {
                moderated_out: true,
                meta: false,
            },
        );
        flags.insert(
            3,
            StatementFlags {
                moderated_out: false,
                meta: true,
            },
        );
        let votes = vec![vote(1, 1, Agree), vote(1, 2, Agree), vote(1, 3, Agree)];
        let m = VoteMatrix::build(&votes, &flags);
        assert_eq!(m.excluded, vec![false, true, true]);
        assert_eq!(m.n_excluded(), 2);
    }

    fn same(a: &VoteMatrix, b: &VoteMatrix) {
        assert_eq!(a.participants, b.participants);
        assert_eq!(a.statements, b.statements);
        assert_eq!(a.excluded, b.excluded);
        assert_eq!(a.row_ptr, b.row_ptr);
        assert_eq!(a.cols, b.cols);
        assert_eq!(a.values, b.values);
        assert_eq!(a.row_digests, b.row_digests);
        assert_eq!(a.value_counts, b.value_counts);
        assert_eq!(a.rows_by_id, b.rows_by_id);
        for (r, &p) in a.participants.iter().enumerate() {
            assert_eq!(b.row_index(p), Some(r));
        }
        assert_eq!(a.row_of.len(), b.row_of.len());
    }

    /// Random votes with repeats, new participants, new statements (also below the old ids,
    /// which reorders rows) and changed votes.
    fn random_votes(seed: u64, n: usize, participants: u64, statements: u64) -> Vec<Vote> {
        let mut g = crate::opinion::rng::SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let value = match g.below(3) {
                    0 => Disagree,
                    1 => Pass,
                    _ => Agree,
                };
                vote(
                    g.below(participants) as i64,
                    g.below(statements) as i64 * 3,
                    value,
                )
            })
            .collect()
    }

    #[test]
    fn apply_gives_the_matrix_a_full_rebuild_gives() {
        for seed in 0..40u64 {
            let all = random_votes(seed, 400 + 13 * seed as usize, 60, 25);
            let split = (seed as usize * 37) % all.len();
            let mut flags = BTreeMap::new();
            flags.insert(
                (seed as i64 % 25) * 3,
                StatementFlags {
                    moderated_out: true,
                    meta: false,
                },
            );
            let mut m = VoteMatrix::build(&all[..split], &BTreeMap::new());
            // In several steps, the last one empty (only the flags change).
            let mid = split + (all.len() - split) / 2;
            m.apply(&all[split..mid], &BTreeMap::new());
            m.apply(&all[mid..], &BTreeMap::new());
            m.apply(&[], &flags);
            same(&m, &VoteMatrix::build(&all, &flags));
        }
    }

    #[test]
    fn apply_places_new_and_moved_rows_in_polis_order() {
        let mut m = VoteMatrix::build(&[vote(5, 10, Agree), vote(3, 20, Agree)], &BTreeMap::new());
        assert_eq!(m.participants, vec![5, 3]);
        // 3 now votes on statement 1 (a new, lower column), 9 arrives on statement 20, and 5
        // changes its vote.
        m.apply(
            &[
                vote(9, 20, Pass),
                vote(3, 1, Disagree),
                vote(5, 10, Disagree),
            ],
            &BTreeMap::new(),
        );
        assert_eq!(m.statements, vec![1, 10, 20]);
        assert_eq!(m.participants, vec![3, 5, 9]);
        assert_eq!(m.row(0), (&[0u32, 2][..], &[-1i8, 1][..]));
        assert_eq!(m.row(1), (&[1u32][..], &[-1i8][..]));
        assert_eq!(m.row(2), (&[2u32][..], &[0i8][..]));
        assert_eq!(m.row_index(9), Some(2));
    }

    #[test]
    fn the_streaming_builder_counts_rows_and_matches_build() {
        let votes = random_votes(7, 500, 40, 30);
        let mut b = MatrixBuilder::new();
        b.extend(votes.iter().copied());
        assert_eq!(b.vote_rows(), 500);
        same(
            &b.finish(&BTreeMap::new()),
            &VoteMatrix::build(&votes, &BTreeMap::new()),
        );
    }

    #[test]
    fn empty_input_gives_empty_matrix() {
        let m = VoteMatrix::build(&[], &BTreeMap::new());
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (0, 0, 0));
        assert_eq!(m.row_ptr, vec![0]);
    }
}

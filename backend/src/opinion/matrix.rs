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
}

impl VoteMatrix {
    /// Builds R from a list of votes. When a (participant, statement) pair occurs more than
    /// once, the later entry in `votes` wins, so callers may pass an append-only history.
    pub fn build(votes: &[Vote], flags: &BTreeMap<StatementId, StatementFlags>) -> Self {
        let mut statements: Vec<StatementId> = {
            let mut seen: IdMap<StatementId, ()> = IdMap::default();
            for v in votes {
                seen.insert(v.statement, ());
            }
            seen.into_keys().collect()
        };
        statements.sort_unstable();
        let col_of: IdMap<StatementId, u32> = statements
            .iter()
            .enumerate()
            .map(|(c, &s)| (s, c as u32))
            .collect();

        // Participants in first-seen input order, with the lowest column each voted on.
        let mut provisional: IdMap<ParticipantId, u32> = IdMap::default();
        let mut first_ids: Vec<ParticipantId> = Vec::new();
        let mut min_col: Vec<u32> = Vec::new();
        let mut vote_prov: Vec<u32> = Vec::with_capacity(votes.len());
        let mut vote_col: Vec<u32> = Vec::with_capacity(votes.len());
        for v in votes {
            let col = col_of.get(&v.statement).copied().unwrap_or(0);
            let p = *provisional.entry(v.participant).or_insert_with(|| {
                first_ids.push(v.participant);
                min_col.push(u32::MAX);
                (first_ids.len() - 1) as u32
            });
            let m = &mut min_col[p as usize];
            *m = (*m).min(col);
            vote_prov.push(p);
            vote_col.push(col);
        }
        drop(provisional);

        let mut order: Vec<u32> = (0..first_ids.len() as u32).collect();
        order.par_sort_unstable_by_key(|&p| (min_col[p as usize], first_ids[p as usize]));
        let mut row_of_prov = vec![0u32; order.len()];
        for (row, &p) in order.iter().enumerate() {
            row_of_prov[p as usize] = row as u32;
        }
        let participants: Vec<ParticipantId> =
            order.iter().map(|&p| first_ids[p as usize]).collect();
        drop(order);
        drop(first_ids);
        drop(min_col);

        // Counting sort into rows; each entry packs (column, position in row, value) so that an
        // unstable sort still keeps the last vote of a duplicated cell last.
        let n_rows = participants.len();
        let mut row_ptr = vec![0usize; n_rows + 1];
        for &p in &vote_prov {
            row_ptr[row_of_prov[p as usize] as usize + 1] += 1;
        }
        for r in 0..n_rows {
            row_ptr[r + 1] += row_ptr[r];
        }
        let mut fill = row_ptr.clone();
        let mut packed = vec![0u64; votes.len()];
        for (i, v) in votes.iter().enumerate() {
            let row = row_of_prov[vote_prov[i] as usize] as usize;
            let pos = fill[row] - row_ptr[row];
            packed[fill[row]] = (u64::from(vote_col[i]) << 32)
                | ((pos as u64 & 0xFF_FFFF) << 8)
                | (v.value as i8 + 1) as u64;
            fill[row] += 1;
        }
        drop(fill);
        drop(vote_prov);
        drop(vote_col);

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

        let excluded = statements
            .iter()
            .map(|s| flags.get(s).is_some_and(|f| f.moderated_out || f.meta))
            .collect();
        let row_of = participants
            .iter()
            .enumerate()
            .map(|(r, &p)| (p, r as u32))
            .collect();
        Self {
            participants,
            statements,
            excluded,
            row_ptr: new_ptr,
            cols,
            values,
            row_of,
        }
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

    #[test]
    fn empty_input_gives_empty_matrix() {
        let m = VoteMatrix::build(&[], &BTreeMap::new());
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (0, 0, 0));
        assert_eq!(m.row_ptr, vec![0]);
    }
}

//! A conversation kept in memory between updates: the vote matrix, updated in place as votes
//! arrive, and the last snapshot's state. An update after a few new votes then costs a fraction
//! of a cold run (no re-hashing and re-sorting of every vote, warm-started PCA and k-means),
//! and gives exactly the snapshot [`super::update`] gives on the full vote list.

use std::collections::BTreeMap;

use super::matrix::MatrixBuilder;
use super::{
    Input, MatrixInput, Params, Phase, Snapshot, State, StatementFlags, StatementId, Vote,
    VoteMatrix, analyze_matrix_observed,
};

#[derive(Debug, Clone)]
pub struct Incremental {
    matrix: VoteMatrix,
    statements: BTreeMap<StatementId, StatementFlags>,
    vote_rows: usize,
    state: Option<State>,
}

impl Incremental {
    /// Starts from the votes so far and the state of the last snapshot (`None`: the next
    /// update is a cold run).
    pub fn new(input: &Input, state: Option<State>) -> Self {
        Self {
            matrix: VoteMatrix::build(&input.votes, &input.statements),
            statements: input.statements.clone(),
            vote_rows: input.votes.len(),
            state,
        }
    }

    /// Starts from votes streamed into a builder (large conversations: no vote list in memory).
    pub fn from_builder(
        builder: MatrixBuilder,
        statements: BTreeMap<StatementId, StatementFlags>,
        state: Option<State>,
    ) -> Self {
        let vote_rows = builder.vote_rows();
        Self {
            matrix: builder.finish(&statements),
            statements,
            vote_rows,
            state,
        }
    }

    /// Adds votes cast since the last call (in the order they were cast; a later vote on the
    /// same cell wins) and takes the current statement flags.
    pub fn add_votes(
        &mut self,
        votes: &[Vote],
        statements: &BTreeMap<StatementId, StatementFlags>,
    ) {
        self.matrix.apply(votes, statements);
        if &self.statements != statements {
            self.statements = statements.clone();
        }
        self.vote_rows += votes.len();
    }

    /// A snapshot of the votes so far, warm-started from the last one; its state is kept for
    /// the next update.
    pub fn update(&mut self, vote_high_water_mark: u64, params: &Params) -> Snapshot {
        self.update_observed(vote_high_water_mark, params, &mut |_| {})
    }

    /// [`Self::update`], calling `observer` after each phase.
    pub fn update_observed(
        &mut self,
        vote_high_water_mark: u64,
        params: &Params,
        observer: &mut dyn FnMut(Phase),
    ) -> Snapshot {
        let meta = MatrixInput {
            statements: &self.statements,
            vote_high_water_mark,
            vote_rows: self.vote_rows,
        };
        let snapshot =
            analyze_matrix_observed(&self.matrix, &meta, self.state.as_ref(), params, observer);
        self.state = Some(snapshot.state.clone());
        snapshot
    }

    pub fn matrix(&self) -> &VoteMatrix {
        &self.matrix
    }

    pub fn state(&self) -> Option<&State> {
        self.state.as_ref()
    }

    /// Rows of input so far, duplicates included.
    pub fn vote_rows(&self) -> usize {
        self.vote_rows
    }
}

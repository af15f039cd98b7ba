//! The opinion engine: a pure function from votes to opinion groups (see docs/opinion.md).
//! No database, HTTP, clock or global RNG in here: the same input and previous state always give
//! byte-identical snapshots, which is what makes a snapshot's "math receipt" checkable.
//!
//! Call [`analyze`] with the current votes, the statement flags and the [`State`] of the
//! previous snapshot (`None` on the first run); store the returned [`Snapshot`] and pass its
//! `state` to the next call.

pub mod bridging;
pub mod consensus;
pub mod incremental;
pub mod kmeans;
pub mod matrix;
pub mod pca;
pub mod priority;
pub mod repness;
pub mod rng;
pub mod significance;
pub mod silhouette;
pub mod stability;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use consensus::{Consensus, ConsensusStatement};
pub use incremental::Incremental;
pub use matrix::{MatrixBuilder, VoteMatrix};
pub use priority::next_statement;
pub use repness::{Counts, Direction, RepStats, Representative};

/// How often Pol.is's math worker looks for new votes and runs one warm update per conversation
/// on what it found (`polismath.poller`, `:polling-interval` 1000 ms): the cadence of the Pol.is
/// replay and the default of the service's background recompute (docs/opinion.md §14, §15). The
/// engine never reads a clock; this only tells its callers how often to call it.
pub const UPDATE_INTERVAL_MS: u64 = 1000;

pub type ParticipantId = i64;
pub type StatementId = i64;

/// Samskab's sign convention: agree = +1, disagree = −1, pass = 0 (Pol.is's database is the
/// opposite; its openData CSVs are like ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i8)]
pub enum VoteValue {
    Disagree = -1,
    Pass = 0,
    Agree = 1,
}

impl VoteValue {
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            -1 => Some(Self::Disagree),
            0 => Some(Self::Pass),
            1 => Some(Self::Agree),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub participant: ParticipantId,
    pub statement: StatementId,
    pub value: VoteValue,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementFlags {
    /// Rejected by moderation: zeroed in the math, never listed, never served.
    pub moderated_out: bool,
    /// About the conversation rather than an opinion: zeroed in the math, never listed, served
    /// with a fixed priority.
    pub meta: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Current votes. A repeated (participant, statement) pair is allowed; the later one wins.
    pub votes: Vec<Vote>,
    /// Every known statement with its flags, including statements nobody voted on yet (they
    /// get a routing priority). Statements with votes but missing here count as unflagged.
    pub statements: BTreeMap<StatementId, StatementFlags>,
    /// The caller's marker of the newest vote included (e.g. the largest vote row id); echoed
    /// in the receipt so a snapshot says which votes it saw.
    pub vote_high_water_mark: u64,
}

/// Every tunable number, recorded in each snapshot's receipt (docs/opinion.md §17).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Seed of the first PCA start vectors.
    pub seed: u64,
    pub pca_iterations: usize,
    /// A participant is clustered after min(this, number of statements) votes.
    pub min_votes_in_conv: usize,
    /// Top voters are added until at least this many participants are clustered.
    pub min_in_conv: usize,
    pub base_k: usize,
    pub base_iterations: usize,
    /// k-means stops once every centre moved less than this.
    pub move_threshold: f64,
    pub max_group_k: usize,
    pub group_iterations: usize,
    /// The shown k switches after the same best k won this many updates in a row.
    pub k_smoothing_updates: u32,
    /// One-sided z for 90% significance.
    pub significance_z: f64,
    pub max_representative: usize,
    pub max_consensus: usize,
    pub meta_priority: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            seed: 0,
            pca_iterations: 100,
            min_votes_in_conv: 7,
            min_in_conv: 15,
            base_k: 100,
            base_iterations: 100,
            move_threshold: 0.01,
            max_group_k: 5,
            group_iterations: 20,
            k_smoothing_updates: 4,
            significance_z: 1.2816,
            max_representative: 5,
            max_consensus: 5,
            meta_priority: 49.0,
        }
    }
}

/// What the next update starts from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Once clustered, always clustered. Ascending.
    pub in_conv: Vec<ParticipantId>,
    pub pca: Option<PcaState>,
    pub base_clusters: Vec<ClusterState<ParticipantId>>,
    /// Per candidate k, the groups as lists of base-cluster ids.
    pub group_clusterings: BTreeMap<usize, Vec<ClusterState<u32>>>,
    pub k_smoother: KSmoother,
    /// The groups shown, by label, as lists of base-cluster ids: the next update gives each of
    /// its groups the label of the old group it shares most participants with.
    #[serde(default)]
    pub group_labels: Vec<ClusterState<u32>>,
    /// The bridging fit the next one starts from (absent in snapshots made before it existed).
    #[serde(default)]
    pub bridging: Option<bridging::Bridging>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaState {
    pub statements: Vec<StatementId>,
    pub components: [Vec<f64>; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterState<M> {
    pub id: u32,
    pub members: Vec<M>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KSmoother {
    /// Best k of the last update and how many updates in a row it has been best.
    pub last_k: Option<usize>,
    pub last_k_count: u32,
    /// The k shown.
    pub smoothed_k: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub receipt: Receipt,
    /// Number of groups shown (0 when nobody is clustered, 1 when there is no split yet).
    pub k: usize,
    pub participants: BTreeMap<ParticipantId, ParticipantResult>,
    pub statements: BTreeMap<StatementId, StatementResult>,
    pub base_clusters: Vec<BaseCluster>,
    pub groups: Vec<Group>,
    pub consensus: Consensus,
    /// Per voted statement; empty when there are no groups.
    pub group_informed_consensus: BTreeMap<StatementId, f64>,
    /// Per servable statement (not moderated out), including ones without votes.
    pub priorities: BTreeMap<StatementId, f64>,
    /// Community Notes' bridging ranking (docs/opinion.md §18); empty in snapshots made before
    /// it existed.
    #[serde(default)]
    pub bridging: bridging::Bridging,
    pub state: State,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantResult {
    /// Index into `Snapshot::groups`; `None` when not clustered.
    pub group: Option<usize>,
    pub base_cluster: Option<u32>,
    pub projection: [f64; 2],
    pub votes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementResult {
    /// Moderated out or meta: zero in the math.
    pub excluded: bool,
    /// Column mean of the observed votes.
    pub center: f64,
    pub components: [f64; 2],
    pub projection: [f64; 2],
    pub extremity: f64,
    /// Over all participants.
    pub counts: Counts,
    /// Per group, clustered participants only.
    pub group_counts: Vec<Counts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseCluster {
    pub id: u32,
    pub center: [f64; 2],
    pub members: Vec<ParticipantId>,
    pub group: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Position in `Snapshot::groups`.
    pub id: usize,
    /// Stable id of the underlying k-means cluster across warm-started updates.
    pub cluster_id: u32,
    /// Stable across updates, also when the number of groups changes: a group keeps the label
    /// of the previous update's group it shares most participants with (see [`match_labels`]);
    /// groups are listed by label.
    #[serde(default)]
    pub label: u32,
    pub center: [f64; 2],
    pub base_clusters: Vec<u32>,
    pub members: usize,
    pub representative: Vec<Representative>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub engine: String,
    pub input_sha256: String,
    pub seed: u64,
    pub params: Params,
    pub counts: InputCounts,
    pub vote_high_water_mark: u64,
    pub warm_start: bool,
    pub pca_iterations: [usize; 2],
    pub base_iterations: usize,
    /// Silhouette per candidate k.
    pub silhouette: BTreeMap<usize, f64>,
    /// Best k of this update, and the k shown after smoothing.
    pub best_k: Option<usize>,
    pub chosen_k: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputCounts {
    /// Rows of input, before keeping only the latest vote per cell.
    pub vote_rows: usize,
    pub votes: usize,
    pub participants: usize,
    /// Statement columns (statements with at least one vote), excluded ones included.
    pub statements: usize,
    pub excluded_statements: usize,
    pub in_conv: usize,
    pub base_clusters: usize,
}

/// Engine phases, reported to an observer as each one completes (the benchmark times them; the
/// engine itself never reads a clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Matrix,
    InConv,
    Pca,
    Projection,
    BaseClusters,
    Groups,
    VoteCounts,
    Representative,
    Consensus,
    Priorities,
    Receipt,
    /// The wait for the bridging fit, which runs beside the phases before it.
    Bridging,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Matrix => "matrix",
            Phase::InConv => "in-conv",
            Phase::Pca => "pca",
            Phase::Projection => "projection",
            Phase::Bridging => "bridging",
            Phase::BaseClusters => "base clusters",
            Phase::Groups => "groups",
            Phase::VoteCounts => "vote counts",
            Phase::Representative => "representative",
            Phase::Consensus => "consensus",
            Phase::Priorities => "priorities",
            Phase::Receipt => "receipt",
        }
    }
}

/// Computes a snapshot from the current votes; `previous` is the `state` of the last snapshot
/// of the same conversation (`None` for a first, cold run).
pub fn analyze(input: &Input, previous: Option<&State>, params: &Params) -> Snapshot {
    analyze_observed(input, previous, params, &mut |_| {})
}

/// A first run, without history: seeded PCA start, k-means from the first distinct points.
pub fn cold_run(input: &Input, params: &Params) -> Snapshot {
    analyze(input, None, params)
}

/// A later run, warm-started from the previous snapshot's state.
pub fn update(input: &Input, previous: &State, params: &Params) -> Snapshot {
    analyze(input, Some(previous), params)
}

/// [`analyze`], calling `observer` after each phase.
pub fn analyze_observed(
    input: &Input,
    previous: Option<&State>,
    params: &Params,
    observer: &mut dyn FnMut(Phase),
) -> Snapshot {
    let m = VoteMatrix::build(&input.votes, &input.statements);
    observer(Phase::Matrix);
    let meta = MatrixInput {
        statements: &input.statements,
        vote_high_water_mark: input.vote_high_water_mark,
        vote_rows: input.votes.len(),
    };
    analyze_matrix_observed(&m, &meta, previous, params, observer)
}

/// What [`analyze_matrix`] needs besides the vote matrix: the fields of [`Input`] other than
/// the votes, and how many vote rows the matrix was built from (duplicates included).
#[derive(Debug, Clone, Copy)]
pub struct MatrixInput<'a> {
    pub statements: &'a BTreeMap<StatementId, StatementFlags>,
    pub vote_high_water_mark: u64,
    pub vote_rows: usize,
}

/// [`analyze`] on a vote matrix the caller already holds (built with [`VoteMatrix::build`] or a
/// [`matrix::MatrixBuilder`], kept up to date with [`VoteMatrix::apply`]). The matrix's
/// excluded columns must follow `meta.statements` (`build` and `apply` take care of that). Gives
/// the same snapshot as [`analyze`] on the votes the matrix holds.
pub fn analyze_matrix(
    m: &VoteMatrix,
    meta: &MatrixInput,
    previous: Option<&State>,
    params: &Params,
) -> Snapshot {
    analyze_matrix_observed(m, meta, previous, params, &mut |_| {})
}

/// [`analyze_matrix`], calling `observer` after each phase (the matrix phase is the caller's).
pub fn analyze_matrix_observed(
    m: &VoteMatrix,
    meta: &MatrixInput,
    previous: Option<&State>,
    params: &Params,
    observer: &mut dyn FnMut(Phase),
) -> Snapshot {
    let mut fitted = None;
    // The scope ends once the fit it started has.
    let mut snapshot = rayon::in_place_scope(|scope| {
        analyze_beside_fit(scope, &mut fitted, m, meta, previous, params, observer)
    });
    // The scope started the fit, so it is there; were it not, it is fitted here, after the rest.
    let bridging = fitted.unwrap_or_else(|| {
        let axis = snapshot
            .state
            .pca
            .as_ref()
            .map_or(&[][..], |p| &p.components[0][..]);
        bridging::fit(m, previous.and_then(|p| p.bridging.as_ref()), axis)
    });
    snapshot.state.bridging = Some(bridging.clone());
    snapshot.bridging = bridging;
    observer(Phase::Bridging);
    snapshot
}

/// [`analyze_matrix_observed`] but the bridging fit, which it starts as a job of its own in
/// `scope` (on the caller's thread pool), to be put into `fitted`: nothing else reads the fit, so
/// it runs beside the rest of the analysis and fills the cores the other phases leave idle in their
/// serial steps. Its result does not depend on that: the fit's sums run over fixed chunks in a
/// fixed order on any number of threads. The snapshot returned has an empty fit.
fn analyze_beside_fit<'scope>(
    scope: &rayon::Scope<'scope>,
    fitted: &'scope mut Option<bridging::Bridging>,
    m: &'scope VoteMatrix,
    meta: &MatrixInput,
    previous: Option<&'scope State>,
    params: &Params,
    observer: &mut dyn FnMut(Phase),
) -> Snapshot {
    let in_conv = in_conv_rows(m, previous, params);
    observer(Phase::InConv);

    // A warm fit starts from the previous fit and needs no components of today's: it starts at
    // once, beside the PCA. A cold one, or one whose previous fit found no divide, starts its
    // factors from today's first component, after the PCA.
    let prior = previous.and_then(|p| p.bridging.as_ref());
    let early_axis = prior
        .filter(|fit| fit.has_divide())
        .map(|_| previous_axis(m, previous));
    let mut out = Some(fitted);
    let mut start_fit = |axis: Vec<f64>| {
        if let Some(out) = out.take() {
            scope.spawn(move |_| *out = Some(bridging::fit(m, prior, &axis)));
        }
    };
    if let Some(axis) = early_axis {
        start_fit(axis);
    }

    let starts = start_vectors(m, previous, params.seed);
    let pca = pca::pca(m, starts, params.pca_iterations);
    observer(Phase::Pca);

    start_fit(pca.components[0].clone());

    let projections = pca::project_participants(m, &pca);
    let statement_projections = pca::project_statements(&pca);
    observer(Phase::Projection);

    let in_rows: Vec<usize> = (0..m.n_rows()).filter(|&r| in_conv[r]).collect();
    let points: Vec<[f64; 2]> = in_rows.iter().map(|&r| projections[r]).collect();
    let mut point_of_row = vec![u32::MAX; m.n_rows()];
    for (p, &r) in in_rows.iter().enumerate() {
        point_of_row[r] = p as u32;
    }
    let previous_base: Option<Vec<(u32, Vec<usize>)>> =
        previous.filter(|p| !p.base_clusters.is_empty()).map(|p| {
            p.base_clusters
                .iter()
                .map(|c| {
                    let members = c
                        .members
                        .iter()
                        .filter_map(|&pid| m.row_index(pid))
                        .map(|r| point_of_row[r])
                        .filter(|&pt| pt != u32::MAX)
                        .map(|pt| pt as usize)
                        .collect();
                    (c.id, members)
                })
                .collect()
        });
    let warm_start = previous_base.is_some();
    let seeds = match &previous_base {
        Some(prev) => kmeans::warm_start(&points, None, prev, params.base_k),
        None => kmeans::cold_start(&points, params.base_k),
    };
    let (base, base_iterations) = kmeans::kmeans(
        &points,
        None,
        seeds,
        params.base_iterations,
        params.move_threshold,
    );
    observer(Phase::BaseClusters);

    // Participants per (previous base cluster id), as current points, for the label matching.
    let previous_members: Vec<(u32, Vec<usize>)> = previous_base.unwrap_or_default();
    let grouping = choose_groups(&base, previous, &previous_members, points.len(), params);
    observer(Phase::Groups);

    let n_groups = grouping.groups.len();
    let mut group_of_row: Vec<Option<usize>> = vec![None; m.n_rows()];
    // Index into `base`, per row.
    let mut base_of_row: Vec<Option<usize>> = vec![None; m.n_rows()];
    for (b, cluster) in base.iter().enumerate() {
        for &pt in &cluster.members {
            group_of_row[in_rows[pt]] = grouping.group_of_base[b];
            base_of_row[in_rows[pt]] = Some(b);
        }
    }
    let counts = vote_counts(m, &group_of_row, n_groups);
    observer(Phase::VoteCounts);

    let n_cols = m.n_cols();
    let group_count = |g: usize, j: usize| counts[g * n_cols + j];
    let all_count = |j: usize| counts[n_groups * n_cols + j];
    let clustered_count = |j: usize| {
        (0..n_groups).fold(Counts::default(), |acc, g| {
            let c = group_count(g, j);
            Counts {
                na: acc.na + c.na,
                nd: acc.nd + c.nd,
                ns: acc.ns + c.ns,
            }
        })
    };
    let listable: Vec<usize> = (0..n_cols).filter(|&j| !m.excluded[j]).collect();
    let representative: Vec<Vec<Representative>> = (0..n_groups)
        .map(|g| {
            let candidates: Vec<repness::Candidate> = listable
                .iter()
                .map(|&j| {
                    let own = group_count(g, j);
                    let rest = clustered_count(j).minus(own);
                    repness::Candidate {
                        statement: m.statements[j],
                        counts: own,
                        stats: repness::rep_stats(own, rest),
                    }
                })
                .collect();
            repness::select(
                &candidates,
                params.max_representative,
                params.significance_z,
            )
        })
        .collect();
    observer(Phase::Representative);

    let overall: Vec<(StatementId, Counts)> = listable
        .iter()
        .map(|&j| (m.statements[j], all_count(j)))
        .collect();
    let consensus = consensus::consensus(&overall, params.max_consensus, params.significance_z);
    let group_informed_consensus: BTreeMap<StatementId, f64> = if n_groups == 0 {
        BTreeMap::new()
    } else {
        (0..n_cols)
            .map(|j| {
                let gic =
                    consensus::group_informed_consensus((0..n_groups).map(|g| group_count(g, j)));
                (m.statements[j], gic)
            })
            .collect()
    };
    observer(Phase::Consensus);

    let extremity: Vec<f64> = statement_projections
        .iter()
        .map(|p| (p[0] * p[0] + p[1] * p[1]).sqrt())
        .collect();
    let mut servable: BTreeSet<StatementId> = m.statements.iter().copied().collect();
    servable.extend(meta.statements.keys().copied());
    let priorities: BTreeMap<StatementId, f64> = servable
        .into_iter()
        .filter_map(|s| {
            let flags = meta.statements.get(&s).copied().unwrap_or_default();
            if flags.moderated_out {
                return None;
            }
            if flags.meta {
                return Some((s, params.meta_priority));
            }
            let p = match m.statements.binary_search(&s) {
                Ok(j) => {
                    let c = clustered_count(j);
                    priority::priority(c.na, c.nd, c.ns, extremity[j])
                }
                Err(_) => priority::priority(0, 0, 0, 0.0),
            };
            Some((s, p))
        })
        .collect();
    observer(Phase::Priorities);

    let groups: Vec<Group> = grouping
        .groups
        .iter()
        .enumerate()
        .zip(representative)
        .map(|((g, gc), representative)| Group {
            id: g,
            cluster_id: gc.id,
            label: grouping.labels[g],
            center: gc.center,
            base_clusters: gc.members.iter().map(|&b| base[b].id).collect(),
            members: gc.members.iter().map(|&b| base[b].members.len()).sum(),
            representative,
        })
        .collect();
    // Rows by ascending participant id (kept with the matrix): the order of the base clusters'
    // members, the in-conversation list and the participants' map, which then need no sorting
    // of their own, and of the input hash.
    let rows_by_id = &m.rows_by_id;
    let mut members: Vec<Vec<ParticipantId>> = base
        .iter()
        .map(|c| Vec::with_capacity(c.members.len()))
        .collect();
    for &r in rows_by_id {
        if let Some(b) = base_of_row[r as usize] {
            members[b].push(m.participants[r as usize]);
        }
    }
    let base_clusters: Vec<BaseCluster> = base
        .iter()
        .zip(members)
        .enumerate()
        .map(|(b, (c, members))| BaseCluster {
            id: c.id,
            center: c.center,
            members,
            group: grouping.group_of_base[b],
        })
        .collect();
    let participants: BTreeMap<ParticipantId, ParticipantResult> = rows_by_id
        .iter()
        .map(|&r| {
            let r = r as usize;
            let result = ParticipantResult {
                group: group_of_row[r],
                base_cluster: base_of_row[r].map(|b| base[b].id),
                projection: projections[r],
                votes: (m.row_ptr[r + 1] - m.row_ptr[r]) as u32,
            };
            (m.participants[r], result)
        })
        .collect();
    let statements: BTreeMap<StatementId, StatementResult> = (0..n_cols)
        .map(|j| {
            let result = StatementResult {
                excluded: m.excluded[j],
                center: pca.center[j],
                components: [pca.components[0][j], pca.components[1][j]],
                projection: statement_projections[j],
                extremity: extremity[j],
                counts: all_count(j),
                group_counts: (0..n_groups).map(|g| group_count(g, j)).collect(),
            };
            (m.statements[j], result)
        })
        .collect();

    let in_conv_ids: Vec<ParticipantId> = rows_by_id
        .iter()
        .map(|&r| r as usize)
        .filter(|&r| in_conv[r])
        .map(|r| m.participants[r])
        .collect();
    let state = State {
        in_conv: in_conv_ids,
        pca: Some(PcaState {
            statements: m.statements.clone(),
            components: pca.components.clone(),
        }),
        base_clusters: base_clusters
            .iter()
            .map(|b| ClusterState {
                id: b.id,
                members: b.members.clone(),
            })
            .collect(),
        group_clusterings: grouping.state,
        k_smoother: grouping.smoother,
        group_labels: grouping
            .groups
            .iter()
            .zip(&grouping.labels)
            .map(|(gc, &label)| ClusterState {
                id: label,
                members: gc.members.iter().map(|&b| base[b].id).collect(),
            })
            .collect(),
        bridging: None,
    };
    let receipt = Receipt {
        engine: format!("samskab-opinion/{}", env!("CARGO_PKG_VERSION")),
        input_sha256: input_hash(m, meta, rows_by_id),
        seed: params.seed,
        params: params.clone(),
        counts: InputCounts {
            vote_rows: meta.vote_rows,
            votes: m.nnz(),
            participants: m.n_rows(),
            statements: n_cols,
            excluded_statements: m.n_excluded(),
            in_conv: in_rows.len(),
            base_clusters: base.len(),
        },
        vote_high_water_mark: meta.vote_high_water_mark,
        warm_start,
        pca_iterations: pca.iterations,
        base_iterations,
        silhouette: grouping.silhouette,
        best_k: grouping.best_k,
        chosen_k: grouping.chosen_k,
    };
    observer(Phase::Receipt);
    Snapshot {
        receipt,
        k: n_groups,
        participants,
        statements,
        base_clusters,
        groups,
        consensus,
        group_informed_consensus,
        priorities,
        bridging: bridging::Bridging::default(),
        state,
    }
}

/// docs/opinion.md §3: enough votes, or clustered before; topped up with the heaviest voters
/// to 15.
fn in_conv_rows(m: &VoteMatrix, previous: Option<&State>, params: &Params) -> Vec<bool> {
    let count = |r: usize| m.row_ptr[r + 1] - m.row_ptr[r];
    let threshold = params.min_votes_in_conv.min(m.n_cols());
    let mut in_conv: Vec<bool> = (0..m.n_rows()).map(|r| count(r) >= threshold).collect();
    if let Some(prev) = previous {
        for &p in &prev.in_conv {
            if let Some(r) = m.row_index(p) {
                in_conv[r] = true;
            }
        }
    }
    let n_in = in_conv.iter().filter(|&&b| b).count();
    if n_in < params.min_in_conv {
        let mut rest: Vec<usize> = (0..m.n_rows()).filter(|&r| !in_conv[r]).collect();
        rest.sort_by_key(|&r| (std::cmp::Reverse(count(r)), r));
        for r in rest.into_iter().take(params.min_in_conv - n_in) {
            in_conv[r] = true;
        }
    }
    in_conv
}

/// The previous first component aligned to today's statements, 0 for statements new since (and
/// everywhere without previous components): where a warm bridging fit starts the factors of the
/// statements its previous fit did not have.
fn previous_axis(m: &VoteMatrix, previous: Option<&State>) -> Vec<f64> {
    let prev = previous.and_then(|p| p.pca.as_ref());
    m.statements
        .iter()
        .map(|s| {
            prev.and_then(|p| {
                let i = p.statements.binary_search(s).ok()?;
                p.components[0].get(i).copied()
            })
            .unwrap_or(0.0)
        })
        .collect()
}

/// The previous components aligned to today's statements (new statements start at 1), or a
/// seeded vector on a first run.
fn start_vectors(m: &VoteMatrix, previous: Option<&State>, seed: u64) -> [Vec<f64>; 2] {
    match previous.and_then(|p| p.pca.as_ref()) {
        Some(prev) => {
            let align = |k: usize| -> Vec<f64> {
                m.statements
                    .iter()
                    .map(|s| match prev.statements.binary_search(s) {
                        Ok(i) => prev.components[k].get(i).copied().unwrap_or(1.0),
                        Err(_) => 1.0,
                    })
                    .collect()
            };
            [align(0), align(1)]
        }
        None => [
            pca::seeded_start(&m.statements, seed, 0),
            pca::seeded_start(&m.statements, seed, 1),
        ],
    }
}

struct Grouping {
    /// Groups shown, as clusters over base-cluster indices, ordered by label.
    groups: Vec<kmeans::Cluster>,
    labels: Vec<u32>,
    group_of_base: Vec<Option<usize>>,
    silhouette: BTreeMap<usize, f64>,
    best_k: Option<usize>,
    chosen_k: Option<usize>,
    state: BTreeMap<usize, Vec<ClusterState<u32>>>,
    smoother: KSmoother,
}

/// docs/opinion.md §7: weighted k-means of the base clusters for each candidate k, silhouette
/// choice, smoothing.
fn choose_groups(
    base: &[kmeans::Cluster],
    previous: Option<&State>,
    previous_members: &[(u32, Vec<usize>)],
    n_points: usize,
    params: &Params,
) -> Grouping {
    let centres: Vec<[f64; 2]> = base.iter().map(|c| c.center).collect();
    let weights: Vec<f64> = base.iter().map(|c| c.members.len() as f64).collect();
    let index_of_id: BTreeMap<u32, usize> =
        base.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let max_k = params.max_group_k.min(2 + base.len() / 12).min(base.len());

    let mut clusterings: BTreeMap<usize, Vec<kmeans::Cluster>> = BTreeMap::new();
    let mut silhouette = BTreeMap::new();
    for k in 2..=max_k {
        let seeds = match previous.and_then(|p| p.group_clusterings.get(&k)) {
            Some(prev) => {
                let prev: Vec<(u32, Vec<usize>)> = prev
                    .iter()
                    .map(|c| {
                        (
                            c.id,
                            c.members
                                .iter()
                                .filter_map(|b| index_of_id.get(b).copied())
                                .collect(),
                        )
                    })
                    .collect();
                kmeans::warm_start(&centres, Some(&weights), &prev, k)
            }
            None => kmeans::cold_start(&centres, k),
        };
        let (clusters, _) = kmeans::kmeans(
            &centres,
            Some(&weights),
            seeds,
            params.group_iterations,
            params.move_threshold,
        );
        let mut labels = vec![0usize; base.len()];
        for (g, c) in clusters.iter().enumerate() {
            for &b in &c.members {
                labels[b] = g;
            }
        }
        silhouette.insert(k, silhouette::silhouette(&centres, &labels));
        clusterings.insert(k, clusters);
    }

    // Highest silhouette; the smaller k on a tie.
    let best_k = silhouette
        .iter()
        .fold(None, |best: Option<(usize, f64)>, (&k, &s)| match best {
            Some((_, bs)) if bs >= s => best,
            _ => Some((k, s)),
        })
        .map(|(k, _)| k);
    let prev_smoother = previous.map(|p| p.k_smoother.clone()).unwrap_or_default();
    let (chosen_k, smoother) = match best_k {
        Some(best) => {
            let count = if prev_smoother.last_k == Some(best) {
                prev_smoother.last_k_count + 1
            } else {
                1
            };
            let chosen = if count >= params.k_smoothing_updates {
                best
            } else {
                prev_smoother
                    .smoothed_k
                    .filter(|k| clusterings.contains_key(k))
                    .unwrap_or(best)
            };
            (
                Some(chosen),
                KSmoother {
                    last_k: Some(best),
                    last_k_count: count,
                    smoothed_k: Some(chosen),
                },
            )
        }
        None => (None, prev_smoother),
    };

    let groups: Vec<kmeans::Cluster> = match chosen_k.and_then(|k| clusterings.get(&k)) {
        Some(c) => c.clone(),
        // Fewer than two base clusters: everyone clustered forms one group.
        None if !base.is_empty() => {
            let center = base.first().map_or([0.0; 2], |b| b.center);
            vec![kmeans::Cluster {
                id: 0,
                center,
                members: (0..base.len()).collect(),
            }]
        }
        None => Vec::new(),
    };
    // Labels: overlap (in participants) between each new group and each previous label.
    let labels = match previous.filter(|p| !p.group_labels.is_empty()) {
        Some(prev) => {
            let mut new_group_of_point = vec![u32::MAX; n_points];
            for (g, c) in groups.iter().enumerate() {
                for &b in &c.members {
                    for &pt in &base[b].members {
                        new_group_of_point[pt] = g as u32;
                    }
                }
            }
            let label_of_base: BTreeMap<u32, u32> = prev
                .group_labels
                .iter()
                .flat_map(|l| l.members.iter().map(move |&b| (b, l.id)))
                .collect();
            let mut overlap: BTreeMap<(usize, u32), u64> = BTreeMap::new();
            for (id, members) in previous_members {
                let Some(&label) = label_of_base.get(id) else {
                    continue;
                };
                for &pt in members {
                    if let Some(&g) = new_group_of_point.get(pt).filter(|&&g| g != u32::MAX) {
                        *overlap.entry((g as usize, label)).or_default() += 1;
                    }
                }
            }
            let triples: Vec<(usize, u32, u64)> =
                overlap.into_iter().map(|((g, l), n)| (g, l, n)).collect();
            match_labels(groups.len(), &triples)
        }
        None => (0..groups.len() as u32).collect(),
    };
    let mut by_label: Vec<usize> = (0..groups.len()).collect();
    by_label.sort_by_key(|&g| labels[g]);
    let groups: Vec<kmeans::Cluster> = by_label.iter().map(|&g| groups[g].clone()).collect();
    let labels: Vec<u32> = by_label.iter().map(|&g| labels[g]).collect();

    let mut group_of_base = vec![None; base.len()];
    for (g, c) in groups.iter().enumerate() {
        for &b in &c.members {
            group_of_base[b] = Some(g);
        }
    }
    // Like Pol.is (`:group-clusterings` is rebuilt from the current range of k), a k that drops
    // out of the range forgets its clustering and starts cold when it comes back.
    let mut state: BTreeMap<usize, Vec<ClusterState<u32>>> = BTreeMap::new();
    for (k, clusters) in &clusterings {
        let cs = clusters
            .iter()
            .map(|c| ClusterState {
                id: c.id,
                members: c.members.iter().map(|&b| base[b].id).collect(),
            })
            .collect();
        state.insert(*k, cs);
    }
    Grouping {
        groups,
        labels,
        group_of_base,
        silhouette,
        best_k,
        chosen_k,
        state,
        smoother,
    }
}

/// Labels for `n_groups` new groups from `overlap` = (new group, previous label, participants
/// in both): greedily, the pair sharing most participants first (ties: lower label, then lower
/// group), each label and group used once; groups left over take the smallest labels not given
/// out, in group order. Deterministic, and optimal for the usual case of one clear successor per
/// group (with at most 5 groups the greedy and the best assignment rarely differ, and a
/// label follows the bulk of its members either way).
pub fn match_labels(n_groups: usize, overlap: &[(usize, u32, u64)]) -> Vec<u32> {
    let mut pairs: Vec<(usize, u32, u64)> = overlap
        .iter()
        .copied()
        .filter(|&(g, _, n)| g < n_groups && n > 0)
        .collect();
    pairs.sort_by_key(|&(g, l, n)| (std::cmp::Reverse(n), l, g));
    let mut labels: Vec<Option<u32>> = vec![None; n_groups];
    let mut taken: BTreeSet<u32> = BTreeSet::new();
    for (g, l, _) in pairs {
        if labels[g].is_none() && !taken.contains(&l) {
            labels[g] = Some(l);
            taken.insert(l);
        }
    }
    let mut next = 0;
    labels
        .into_iter()
        .map(|l| {
            l.unwrap_or_else(|| {
                while taken.contains(&next) {
                    next += 1;
                }
                taken.insert(next);
                next
            })
        })
        .collect()
}

/// Per (group, statement) counts from R over clustered participants, followed by one block over
/// all participants: `n_groups + 1` blocks of `n_cols`.
fn vote_counts(m: &VoteMatrix, group_of_row: &[Option<usize>], n_groups: usize) -> Vec<Counts> {
    let n_cols = m.n_cols();
    // Per group and column, the cells by value: one increment per vote of a clustered
    // participant. The all-participants block is the matrix's own per-column counts.
    let size = n_groups * n_cols;
    let chunks = m.n_rows().div_ceil(pca::ROW_CHUNK);
    // Integer sums: the reduction order cannot change them, so partial counts are folded per
    // thread instead of kept per chunk (at national scale that is hundreds of MB less).
    let add_into = |mut acc: Vec<[u32; 3]>, chunk: usize| {
        let end = ((chunk + 1) * pca::ROW_CHUNK).min(m.n_rows());
        let start = chunk * pca::ROW_CHUNK;
        for (r, group) in group_of_row.iter().enumerate().take(end).skip(start) {
            let Some(g) = *group else {
                continue;
            };
            let block = &mut acc[g * n_cols..(g + 1) * n_cols];
            let (cols, vals) = m.row(r);
            for (&c, &x) in cols.iter().zip(vals) {
                block[c as usize][(x + 1) as usize] += 1;
            }
        }
        acc
    };
    let groups = (0..chunks)
        .into_par_iter()
        .fold(|| vec![[0u32; 3]; size], add_into)
        .reduce(|| vec![[0u32; 3]; size], matrix::add_value_counts);
    groups
        .into_iter()
        .chain(m.value_counts().iter().copied())
        .map(Counts::from_values)
        .collect()
}

/// SHA-256 of a canonical encoding of what the engine saw: per participant by ascending id, the
/// SHA-256 of its latest vote per statement (kept with the matrix, so an update re-hashes only
/// the rows it changed), then the statement flags and the high-water mark. The order of the
/// input list and superseded duplicate votes do not change it.
fn input_hash(m: &VoteMatrix, input: &MatrixInput, rows_by_id: &[u32]) -> String {
    let mut h = Sha256::new();
    h.update(b"samskab-opinion-input/2\n");
    h.update((rows_by_id.len() as u64).to_le_bytes());
    let mut buf = Vec::with_capacity(32 * rows_by_id.len());
    for &r in rows_by_id {
        buf.extend_from_slice(&m.row_digests[r as usize]);
    }
    h.update(&buf);
    h.update((input.statements.len() as u64).to_le_bytes());
    for (s, f) in input.statements {
        h.update(s.to_le_bytes());
        h.update([u8::from(f.moderated_out) | (u8::from(f.meta) << 1)]);
    }
    h.update(input.vote_high_water_mark.to_le_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests;

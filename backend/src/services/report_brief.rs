//! The brief at the top of a report, the part a councillor reads in two minutes: how many took
//! part and how, the opinion groups with a label, a sentence and a stability figure, the
//! statements that unite and divide most, and who is over- or under-represented. Also the
//! cross-tabs of groups by age band, residence and channel.
//!
//! Only statements that pass the significance rule of `opinion::significance` are listed, and
//! groups or cells with fewer people than the minimum are withheld, as in the rest of the report.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::entities::{consultation, participant, statement};
use crate::errors::AppError;
use crate::opinion::significance::{self, MIN_VOTES};
use crate::opinion::stability;
use crate::opinion::{Counts, Direction, Snapshot};

use super::population::{self, AGE_BANDS};

/// Who took part against the population, as the report's age table has it (the report passes
/// it in, so this module does not depend on the report's loading).
#[derive(Debug, Clone, Default)]
pub struct Turnout {
    pub participants: u64,
    pub verified: u64,
    pub has_population: bool,
    /// (band, share of participants, share of residents), in percent; `None` when withheld or
    /// unknown.
    pub bands: Vec<(String, Option<u32>, Option<u32>)>,
}

/// How many statements the brief lists as uniting and as dividing.
pub const TOP: usize = 3;
/// A participant share this many percentage points above (below) the population share makes an
/// age band over- (under-) represented.
pub const REPRESENTATION_GAP: u32 = 5;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Brief {
    pub participants: u64,
    pub voters: u64,
    /// Participants per way of taking part (online, assisted, paper), largest first.
    pub channels: Vec<ChannelCount>,
    /// Participants placed in opinion groups.
    pub clustered: usize,
    pub groups: Vec<BriefGroup>,
    pub uniting: Vec<UnitingStatement>,
    pub dividing: Vec<DividingStatement>,
    pub representation: Representation,
    /// Fewest votes before a statement is listed, and the one-tailed z of the test.
    pub min_votes: u32,
    pub significance_z: f64,
    /// `None` without at least two groups.
    pub stability: Option<StabilityReceipt>,
    pub crosstabs: Vec<CrossTab>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelCount {
    /// online, assisted or paper
    pub channel: String,
    pub participants: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BriefGroup {
    pub id: usize,
    pub name: String,
    pub withheld: bool,
    pub members: Option<usize>,
    /// Share of the participants in groups, in percent.
    pub share_percent: Option<f64>,
    /// Share of members landing in the same group when participants are resampled, in percent.
    pub stability_percent: Option<f64>,
    /// The group's most representative statements that pass the significance rule, best first.
    pub statements: Vec<GroupStatement>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupStatement {
    pub number: i64,
    pub text: String,
    /// agree or disagree
    pub direction: String,
    /// Share of the group voting that way, in percent.
    pub percent: f64,
    /// Votes of the group on the statement.
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitingStatement {
    pub number: i64,
    pub text: String,
    /// agree or disagree: what unites
    pub direction: String,
    /// Share of everyone who voted on it voting that way, in percent.
    pub percent: f64,
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DividingStatement {
    pub number: i64,
    pub text: String,
    /// The group agreeing most and the one agreeing least.
    pub high: GroupShare,
    pub low: GroupShare,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupShare {
    pub group: String,
    pub agree_percent: f64,
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Representation {
    pub participants: u64,
    /// Participants whose age and municipality are known (MitID).
    pub verified: u64,
    pub has_population: bool,
    /// Age bands (e.g. 25-34) more / less present among participants than among residents.
    pub over: Vec<String>,
    pub under: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StabilityReceipt {
    pub seed: u64,
    pub resamples: usize,
    pub groups: Vec<GroupStabilityRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupStabilityRow {
    pub group: String,
    pub drawn: u64,
    pub same: u64,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrossTab {
    /// age, residence or channel
    pub dimension: String,
    /// The shown groups' names, in column order.
    pub groups: Vec<String>,
    pub rows: Vec<CrossTabRow>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CrossTabRow {
    /// An age band (25-34), in / outside / unknown, or a channel.
    pub category: String,
    /// Participants per shown group; `None` when withheld (fewer than the minimum, not zero).
    pub cells: Vec<Option<u64>>,
}

/// How the participants of `c` took part (online, assisted or paper), from
/// `participants.channel`; this is the one place that reads it. Returns how
/// many took part each way, and the channel of each participant who did not
/// take part online (most of a big conversation is online).
pub async fn channels(
    db: &DatabaseConnection,
    c: &consultation::Model,
) -> Result<(BTreeMap<String, u64>, HashMap<i64, String>), AppError> {
    let counts: Vec<(crate::domain::channel::Channel, i64)> = participant::Entity::find()
        .select_only()
        .column(participant::Column::Channel)
        .column_as(participant::Column::Id.count(), "n")
        .filter(participant::Column::ConsultationId.eq(c.id))
        .group_by(participant::Column::Channel)
        .into_tuple()
        .all(db)
        .await?;
    let mut mix: BTreeMap<String, u64> = BTreeMap::new();
    for (channel, n) in counts {
        *mix.entry(channel.as_str().to_owned()).or_default() += u64::try_from(n).unwrap_or(0);
    }
    let offline: Vec<(i64, crate::domain::channel::Channel)> = participant::Entity::find()
        .select_only()
        .column(participant::Column::Id)
        .column(participant::Column::Channel)
        .filter(participant::Column::ConsultationId.eq(c.id))
        .filter(participant::Column::Channel.ne(crate::domain::channel::Channel::Online))
        .into_tuple()
        .all(db)
        .await?;
    Ok((
        mix,
        offline
            .into_iter()
            .map(|(id, channel)| (id, channel.as_str().to_owned()))
            .collect(),
    ))
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn success(c: Counts, d: Direction) -> u32 {
    match d {
        Direction::Agree => c.na,
        Direction::Disagree => c.nd,
    }
}

fn direction_name(d: Direction) -> String {
    match d {
        Direction::Agree => "agree".into(),
        Direction::Disagree => "disagree".into(),
    }
}

fn guarded(n: u64, min: usize) -> Option<u64> {
    (n == 0 || n >= min as u64).then_some(n)
}

/// Over- and under-represented age bands, from the report's age table.
pub fn representation(who: &Turnout) -> Representation {
    let mut over = Vec::new();
    let mut under = Vec::new();
    if who.has_population {
        for (band, participants_percent, population_percent) in &who.bands {
            // A withheld band is neither: saying so would reveal something about it.
            if let (Some(p), Some(pop)) = (participants_percent, population_percent) {
                if *p >= pop + REPRESENTATION_GAP {
                    over.push(band.clone());
                } else if p + REPRESENTATION_GAP <= *pop {
                    under.push(band.clone());
                }
            }
        }
    }
    Representation {
        participants: who.participants,
        verified: who.verified,
        has_population: who.has_population,
        over,
        under,
    }
}

/// Everything in the brief that comes from the snapshot (pure: groups, statements, stability).
pub fn from_snapshot(
    snap: &Snapshot,
    statements: &[statement::Model],
    min_group_size: usize,
    stab: Option<stability::Stability>,
) -> (
    Vec<BriefGroup>,
    Vec<UnitingStatement>,
    Vec<DividingStatement>,
    Option<StabilityReceipt>,
) {
    let z = snap.receipt.params.significance_z;
    let text: HashMap<i64, &str> = statements
        .iter()
        .map(|s| (s.number, s.body.as_str()))
        .collect();
    let text_of = |n: i64| text.get(&n).copied().unwrap_or_default().to_owned();
    let shown: Vec<usize> = snap
        .groups
        .iter()
        .filter(|g| g.members >= min_group_size)
        .map(|g| g.id)
        .collect();
    let clustered: usize = snap.groups.iter().map(|g| g.members).sum();

    // Computed once with the snapshot (services::opinion_history), not on every load.
    let stab = stab.filter(|_| snap.groups.len() >= 2);

    let groups = snap
        .groups
        .iter()
        .map(|g| {
            let name = super::snapshots::group_name(g.id);
            if !shown.contains(&g.id) {
                return BriefGroup {
                    id: g.id,
                    name,
                    withheld: true,
                    members: None,
                    share_percent: None,
                    stability_percent: None,
                    statements: Vec::new(),
                };
            }
            let statements = g
                .representative
                .iter()
                .filter_map(|r| {
                    let s = snap.statements.get(&r.statement)?;
                    let own = s.group_counts.get(g.id).copied().unwrap_or_default();
                    let rest = s
                        .group_counts
                        .iter()
                        .enumerate()
                        .filter(|(o, _)| *o != g.id)
                        .fold(Counts::default(), |acc, (_, c)| Counts {
                            na: acc.na + c.na,
                            nd: acc.nd + c.nd,
                            ns: acc.ns + c.ns,
                        });
                    significance::representative(own, rest, r.direction, z).then(|| {
                        GroupStatement {
                            number: r.statement,
                            text: text_of(r.statement),
                            direction: direction_name(r.direction),
                            percent: percent(
                                u64::from(success(own, r.direction)),
                                u64::from(own.ns),
                            ),
                            votes: own.ns,
                        }
                    })
                })
                .take(2)
                .collect();
            BriefGroup {
                id: g.id,
                name,
                withheld: false,
                members: Some(g.members),
                share_percent: Some(percent(g.members as u64, clustered as u64)),
                stability_percent: stab
                    .as_ref()
                    .and_then(|s| s.groups.get(g.id))
                    .filter(|s| s.drawn > 0)
                    .map(|s| s.share() * 100.0),
                statements,
            }
        })
        .collect();

    // Uniting: significant overall and no shown group leaning the other way; ranked by the
    // product of the shown groups' smoothed shares, so every group has to be on board.
    let mut uniting: Vec<(f64, UnitingStatement)> = Vec::new();
    for (number, s) in &snap.statements {
        if s.excluded {
            continue;
        }
        let per_group: Vec<Counts> = shown
            .iter()
            .filter_map(|&g| s.group_counts.get(g).copied())
            .collect();
        for d in [Direction::Agree, Direction::Disagree] {
            if significance::uniting(s.counts, &per_group, d, z) {
                let score: f64 = per_group
                    .iter()
                    .map(|c| (f64::from(success(*c, d)) + 1.0) / (f64::from(c.ns) + 2.0))
                    .product::<f64>()
                    * ((f64::from(success(s.counts, d)) + 1.0) / (f64::from(s.counts.ns) + 2.0));
                uniting.push((
                    score,
                    UnitingStatement {
                        number: *number,
                        text: text_of(*number),
                        direction: direction_name(d),
                        percent: percent(u64::from(success(s.counts, d)), u64::from(s.counts.ns)),
                        votes: s.counts.ns,
                    },
                ));
            }
        }
    }
    uniting.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.number.cmp(&b.1.number)));
    let uniting = uniting.into_iter().take(TOP).map(|(_, u)| u).collect();

    let mut dividing: Vec<(f64, DividingStatement)> = Vec::new();
    if shown.len() >= 2 {
        for (number, s) in &snap.statements {
            if s.excluded {
                continue;
            }
            let per_group: Vec<Counts> = shown
                .iter()
                .map(|&g| s.group_counts.get(g).copied().unwrap_or_default())
                .collect();
            if let Some((hi, lo)) = significance::dividing(&per_group, z) {
                let share = |i: usize| GroupShare {
                    group: super::snapshots::group_name(shown[i]),
                    agree_percent: percent(u64::from(per_group[i].na), u64::from(per_group[i].ns)),
                    votes: per_group[i].ns,
                };
                let (high, low) = (share(hi), share(lo));
                dividing.push((
                    high.agree_percent - low.agree_percent,
                    DividingStatement {
                        number: *number,
                        text: text_of(*number),
                        high,
                        low,
                    },
                ));
            }
        }
    }
    dividing.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.number.cmp(&b.1.number)));
    let dividing = dividing.into_iter().take(TOP).map(|(_, d)| d).collect();

    let stability = stab.map(|s| StabilityReceipt {
        seed: s.seed,
        resamples: s.resamples,
        groups: s
            .groups
            .iter()
            .filter(|g| shown.contains(&g.group))
            .map(|g| GroupStabilityRow {
                group: super::snapshots::group_name(g.group),
                drawn: g.drawn,
                same: g.same,
                percent: g.share() * 100.0,
            })
            .collect(),
    });
    (groups, uniting, dividing, stability)
}

/// The brief of `c`, from its latest snapshot (if any) with its stored stability, and the
/// report's participation figures.
#[allow(clippy::too_many_arguments)]
pub async fn build(
    db: &DatabaseConnection,
    c: &consultation::Model,
    snap: Option<&Snapshot>,
    stab: Option<stability::Stability>,
    statements: &[statement::Model],
    who: &Turnout,
    voters: u64,
    min_group_size: usize,
) -> Result<Brief, AppError> {
    let (mix, channel_of) = channels(db, c).await?;
    let mut channel_counts: Vec<ChannelCount> = mix
        .into_iter()
        .map(|(channel, participants)| ChannelCount {
            channel,
            participants,
        })
        .collect();
    channel_counts.sort_by_key(|c| std::cmp::Reverse(c.participants));
    let (groups, uniting, dividing, stability) = match snap {
        Some(s) => from_snapshot(s, statements, min_group_size, stab),
        None => (Vec::new(), Vec::new(), Vec::new(), None),
    };
    let crosstabs = match snap {
        Some(s) => crosstabs(db, c, s, &channel_of, min_group_size).await?,
        None => Vec::new(),
    };
    Ok(Brief {
        participants: who.participants,
        voters,
        channels: channel_counts,
        clustered: snap.map_or(0, |s| s.groups.iter().map(|g| g.members).sum()),
        groups,
        uniting,
        dividing,
        representation: representation(who),
        min_votes: MIN_VOTES,
        significance_z: snap.map_or(crate::opinion::Params::default().significance_z, |s| {
            s.receipt.params.significance_z
        }),
        stability,
        crosstabs,
    })
}

/// Opinion groups by age band, by residence and by channel. Only shown groups get a column,
/// and a cell with fewer people than the minimum (but not zero) is withheld.
async fn crosstabs(
    db: &DatabaseConnection,
    c: &consultation::Model,
    snap: &Snapshot,
    channel_of: &HashMap<i64, String>,
    min: usize,
) -> Result<Vec<CrossTab>, AppError> {
    let shown: Vec<usize> = snap
        .groups
        .iter()
        .filter(|g| g.members >= min)
        .map(|g| g.id)
        .collect();
    if shown.is_empty() {
        return Ok(Vec::new());
    }
    let (_, facts) = super::participant_facts::verified_participants(db, c).await?;
    let home = population::for_report(db, c.municipality_code.as_deref())
        .await?
        .map(|(code, _)| code);
    let column: HashMap<usize, usize> = shown.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    let mut age: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut residence: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut channel: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let bump = |m: &mut BTreeMap<String, Vec<u64>>, key: &str, col: usize| {
        m.entry(key.to_owned())
            .or_insert_with(|| vec![0; shown.len()])[col] += 1;
    };
    for (pid, result) in &snap.participants {
        let Some(col) = result.group.and_then(|g| column.get(&g).copied()) else {
            continue;
        };
        let f = facts.get(pid);
        let band = f.and_then(|f| f.age_band).unwrap_or("unknown");
        bump(&mut age, band, col);
        let place = match (f.and_then(|f| f.municipality.as_ref()), &home) {
            (None, _) => "unknown",
            (Some(m), Some(h)) if m == h => "inside",
            (Some(_), _) => "outside",
        };
        bump(&mut residence, place, col);
        let ch = channel_of.get(pid).map_or("online", String::as_str);
        bump(&mut channel, ch, col);
    }
    let names: Vec<String> = shown
        .iter()
        .map(|&g| super::snapshots::group_name(g))
        .collect();
    let table = |dimension: &str, order: &[&str], counts: &BTreeMap<String, Vec<u64>>| {
        let mut keys: Vec<String> = order.iter().map(|s| (*s).to_owned()).collect();
        keys.extend(
            counts
                .keys()
                .filter(|k| !order.contains(&k.as_str()))
                .cloned(),
        );
        CrossTab {
            dimension: dimension.to_owned(),
            groups: names.clone(),
            rows: keys
                .into_iter()
                .map(|k| CrossTabRow {
                    cells: counts.get(&k).map_or_else(
                        || vec![Some(0); shown.len()],
                        |v| v.iter().map(|&n| guarded(n, min)).collect(),
                    ),
                    category: k,
                })
                .collect(),
        }
    };
    let mut bands: Vec<&str> = AGE_BANDS.iter().map(|(b, _, _)| *b).collect();
    bands.push("unknown");
    Ok(vec![
        table("age", &bands, &age),
        table("residence", &["inside", "outside", "unknown"], &residence),
        table("channel", &["online", "assisted", "paper"], &channel),
    ])
}

//! Engine-level tests: whole snapshots on small, degenerate and synthetic inputs.

use super::*;
use crate::opinion_tools::synthetic::{SyntheticParams, generate};

fn v(participant: i64, statement: i64, value: i8) -> Vote {
    let value = VoteValue::from_i64(i64::from(value)).unwrap();
    Vote {
        participant,
        statement,
        value,
    }
}

fn input(votes: Vec<Vote>) -> Input {
    Input {
        votes,
        ..Input::default()
    }
}

fn json(s: &Snapshot) -> String {
    serde_json::to_string(s).unwrap()
}

fn all_floats_finite(s: &Snapshot) -> bool {
    // serde_json writes non-finite floats as null; no field of a snapshot is ever null-valued
    // except optional group/k fields, which are integers.
    let value: serde_json::Value = serde_json::from_str(&json(s)).unwrap();
    fn walk(v: &serde_json::Value, path: &str) -> bool {
        match v {
            serde_json::Value::Null => [
                "group",
                "best_k",
                "chosen_k",
                "base_cluster",
                "last_k",
                "smoothed_k",
                "pca",
            ]
            .iter()
            .any(|f| path.ends_with(f)),
            serde_json::Value::Array(a) => a.iter().all(|x| walk(x, path)),
            serde_json::Value::Object(o) => o.iter().all(|(k, x)| walk(x, &format!("{path}.{k}"))),
            serde_json::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
            _ => true,
        }
    }
    walk(&value, "")
}

#[test]
fn no_votes_give_an_empty_snapshot_with_priorities_for_known_statements() {
    let mut i = input(vec![]);
    i.statements.insert(1, StatementFlags::default());
    i.statements.insert(
        2,
        StatementFlags {
            moderated_out: true,
            meta: false,
        },
    );
    i.statements.insert(
        3,
        StatementFlags {
            moderated_out: false,
            meta: true,
        },
    );
    let s = analyze(&i, None, &Params::default());
    assert_eq!(s.k, 0);
    assert!(s.participants.is_empty() && s.groups.is_empty() && s.base_clusters.is_empty());
    assert!(s.group_informed_consensus.is_empty());
    assert_eq!(s.priorities.get(&1), Some(&5.0625));
    assert_eq!(s.priorities.get(&2), None);
    assert_eq!(s.priorities.get(&3), Some(&49.0));
    assert!(all_floats_finite(&s));
    // A warm update from that empty state works too.
    let again = analyze(&i, Some(&s.state), &Params::default());
    assert_eq!(
        json(&again),
        json(&analyze(&i, Some(&s.state), &Params::default()))
    );
}

#[test]
fn one_participant_forms_one_group() {
    let s = analyze(
        &input(vec![v(1, 1, 1), v(1, 2, -1)]),
        None,
        &Params::default(),
    );
    assert_eq!(s.k, 1);
    assert_eq!(s.participants.get(&1).and_then(|p| p.group), Some(0));
    assert_eq!(s.groups[0].members, 1);
    assert!(s.receipt.silhouette.is_empty());
    assert!(all_floats_finite(&s));
}

#[test]
fn one_statement_clusters_everyone_who_voted() {
    let votes: Vec<Vote> = (0..30)
        .map(|p| v(p, 7, if p % 3 == 0 { -1 } else { 1 }))
        .collect();
    let s = analyze(&input(votes), None, &Params::default());
    // min(7, n_cmts) = 1 vote suffices; two distinct positions → two base clusters → k = 2.
    assert_eq!(s.receipt.counts.in_conv, 30);
    assert_eq!(s.base_clusters.len(), 2);
    assert_eq!(s.k, 2);
    let g0 = s.participants.get(&0).and_then(|p| p.group);
    let g1 = s.participants.get(&1).and_then(|p| p.group);
    assert_ne!(g0, g1);
    assert_eq!(s.participants.get(&3).and_then(|p| p.group), g0);
    assert!(all_floats_finite(&s));
}

#[test]
fn all_passes_and_all_moderated_give_one_group_and_no_lists() {
    let passes: Vec<Vote> = (0..20)
        .flat_map(|p| (0..8).map(move |st| v(p, st, 0)))
        .collect();
    let s = analyze(&input(passes.clone()), None, &Params::default());
    assert_eq!(s.k, 1);
    assert!(s.consensus.agree.is_empty() && s.consensus.disagree.is_empty());
    assert!(all_floats_finite(&s));

    let mut moderated = input(
        (0..20)
            .flat_map(|p| (0..8).map(move |st| v(p, st, if p < 10 { 1 } else { -1 })))
            .collect(),
    );
    for st in 0..8 {
        moderated.statements.insert(
            st,
            StatementFlags {
                moderated_out: true,
                meta: false,
            },
        );
    }
    let s = analyze(&moderated, None, &Params::default());
    // Moderated columns are 0 for everyone: no variance, everyone at the origin.
    assert_eq!(s.k, 1);
    assert!(s.groups[0].representative.is_empty());
    assert!(s.consensus.agree.is_empty() && s.priorities.is_empty());
    assert_eq!(s.group_informed_consensus.len(), 8);
    assert!(all_floats_finite(&s));
}

#[test]
fn in_conv_needs_seven_votes_is_sticky_and_is_topped_up_to_fifteen() {
    // 20 participants with 7 votes, one with 3, one with 1.
    let mut votes: Vec<Vote> = (0..20)
        .flat_map(|p| {
            (0..10)
                .filter(move |s| (s + p) % 10 < 7)
                .map(move |s| v(p, s, 1))
        })
        .collect();
    votes.extend((0..3).map(|s| v(100, s, -1)));
    votes.push(v(101, 0, 1));
    let s = analyze(&input(votes.clone()), None, &Params::default());
    assert_eq!(s.receipt.counts.in_conv, 20);
    assert_eq!(s.participants.get(&100).and_then(|p| p.group), None);

    // Only 10 heavy voters: the top voters 100 then 101 are added, up to... all 12 (< 15).
    let few: Vec<Vote> = votes
        .iter()
        .copied()
        .filter(|x| x.participant >= 10)
        .collect();
    let s2 = analyze(&input(few.clone()), None, &Params::default());
    assert_eq!(s2.receipt.counts.in_conv, 12);

    // Once in, always in: participant 100 stays clustered in a later update.
    let mut st = s.state.clone();
    st.in_conv.push(100);
    st.in_conv.sort_unstable();
    let s3 = analyze(&input(votes), Some(&st), &Params::default());
    assert!(s3.participants.get(&100).and_then(|p| p.group).is_some());
}

fn three_camps() -> Synthetic3 {
    let params = SyntheticParams {
        participants: 300,
        statements: 40,
        votes: 9_000,
        groups: 3,
        polarisation: 0.95,
        ..Default::default()
    };
    let s = generate(&params, 11);
    Synthetic3 {
        input: s.input,
        latent: s.latent_group,
    }
}

struct Synthetic3 {
    input: Input,
    latent: Vec<usize>,
}

#[test]
fn synthetic_latent_groups_are_recovered() {
    let s = three_camps();
    let snap = analyze(&s.input, None, &Params::default());
    let labels: Vec<(u64, u64)> = snap
        .participants
        .iter()
        .filter_map(|(&p, r)| Some((r.group? as u64, s.latent[p as usize] as u64)))
        .collect();
    let ari = crate::opinion_tools::ari::adjusted_rand_index(&labels);
    assert!(ari > 0.8, "ARI {ari}, k = {}", snap.k);
    assert!(snap.groups.iter().all(|g| !g.representative.is_empty()));
    assert!(all_floats_finite(&snap));
}

#[test]
fn same_input_gives_byte_identical_snapshots_whatever_the_vote_order() {
    let s = three_camps();
    let a = json(&analyze(&s.input, None, &Params::default()));
    let b = json(&analyze(&s.input, None, &Params::default()));
    assert!(a == b, "two runs differ");
    let mut shuffled = s.input.clone();
    shuffled.votes.reverse();
    assert!(
        a == json(&analyze(&shuffled, None, &Params::default())),
        "vote order mattered"
    );
    let other_seed = analyze(
        &s.input,
        None,
        &Params {
            seed: 1,
            ..Params::default()
        },
    );
    assert!(a != json(&other_seed), "the seed is not recorded");
}

#[test]
fn warm_update_without_new_votes_keeps_the_groups() {
    let s = three_camps();
    let cold = analyze(&s.input, None, &Params::default());
    let warm = analyze(&s.input, Some(&cold.state), &Params::default());
    assert!(warm.receipt.warm_start);
    let groups = |snap: &Snapshot| -> Vec<(i64, Option<usize>)> {
        snap.participants
            .iter()
            .map(|(&p, r)| (p, r.group))
            .collect()
    };
    assert_eq!(groups(&cold), groups(&warm));
    assert_eq!(cold.receipt.input_sha256, warm.receipt.input_sha256);
    // And the warm path is deterministic too.
    assert!(json(&warm) == json(&analyze(&s.input, Some(&cold.state), &Params::default())));
}

/// The votes on statements below `n` only: the conversation before the later statements came.
fn before_statement(all: &Input, n: StatementId) -> Input {
    input(
        all.votes
            .iter()
            .copied()
            .filter(|v| v.statement < n)
            .collect(),
    )
}

#[test]
fn warm_update_takes_new_votes_and_statements() {
    let s = three_camps();
    let first = analyze(&before_statement(&s.input, 30), None, &Params::default());
    let second = analyze(&s.input, Some(&first.state), &Params::default());
    assert_eq!(second.statements.len(), 40);
    assert!(second.k >= 2);
    assert!(all_floats_finite(&second));
}

/// The bridging intercepts of two fits of the same votes agree within `tolerance`, and so do the
/// top five as the report prints them.
fn same_bridging(a: &bridging::Bridging, b: &bridging::Bridging, tolerance: f64) {
    assert_eq!(a.statements.len(), b.statements.len());
    for (x, y) in a.statements.iter().zip(&b.statements) {
        assert_eq!(x.statement, y.statement);
        assert!(
            (x.intercept - y.intercept).abs() < tolerance,
            "statement {}: {} against {}",
            x.statement,
            x.intercept,
            y.intercept
        );
    }
    let printed = |f: &bridging::Bridging| -> Vec<(StatementId, String)> {
        f.top(5)
            .iter()
            .map(|s| (s.statement, format!("{:.3}", s.intercept)))
            .collect()
    };
    assert_eq!(printed(a), printed(b));
}

#[test]
fn a_warm_bridging_fit_with_new_statements_ends_where_a_cold_one_does() {
    // The warm fit starts beside the principal components, the statements new since the last
    // run from the last run's first component (0 for the new ones).
    let s = three_camps();
    let first = analyze(&before_statement(&s.input, 30), None, &Params::default());
    let warm = analyze(&s.input, Some(&first.state), &Params::default());
    let cold = analyze(&s.input, None, &Params::default());
    let new_ones =
        |f: &bridging::Bridging| f.statements.iter().filter(|s| s.statement >= 30).count();
    assert_eq!(new_ones(&warm.bridging), new_ones(&cold.bridging));
    same_bridging(&warm.bridging, &cold.bridging, 1e-5);
    assert_eq!(warm.state.bridging.as_ref(), Some(&warm.bridging));
}

#[test]
fn a_warm_bridging_fit_after_a_run_without_any_direction_still_finds_the_divide() {
    // Only passes: no principal component, every factor of the fit 0.
    let passes: Vec<Vote> = (0..20)
        .flat_map(|p| (0..8).map(move |st| v(p, st, 0)))
        .collect();
    let first = analyze(&input(passes), None, &Params::default());
    assert!(first.bridging.statements.iter().all(|s| s.factor == 0.0));
    // Then the same people take sides. Starting the factors from the old fit would keep every
    // one at 0; the fit takes today's first component instead.
    let sides: Vec<Vote> = (0..20)
        .flat_map(|p| (0..8).map(move |st| v(p, st, if (p < 10) == (st < 4) { 1 } else { -1 })))
        .collect();
    let warm = analyze(
        &input(sides.clone()),
        Some(&first.state),
        &Params::default(),
    );
    let cold = analyze(&input(sides), None, &Params::default());
    assert!(
        warm.bridging
            .statements
            .iter()
            .all(|s| s.factor.abs() > 0.1)
    );
    same_bridging(&warm.bridging, &cold.bridging, 1e-5);
}

#[test]
fn k_switches_only_after_four_wins_in_a_row() {
    let s = three_camps();
    let cold = analyze(&s.input, None, &Params::default());
    let best = cold.receipt.best_k.unwrap();
    let other = if best == 2 { 3 } else { 2 };
    let mut state = cold.state.clone();
    state.k_smoother = KSmoother {
        last_k: Some(other),
        last_k_count: 9,
        smoothed_k: Some(other),
    };
    let mut shown = Vec::new();
    for _ in 0..5 {
        let snap = analyze(&s.input, Some(&state), &Params::default());
        assert_eq!(snap.receipt.best_k, Some(best));
        shown.push(snap.receipt.chosen_k.unwrap());
        state = snap.state;
    }
    assert_eq!(shown, vec![other, other, other, best, best]);
}

#[test]
fn priorities_follow_the_formula_and_flags() {
    let s = three_camps();
    let mut i = s.input.clone();
    i.statements.insert(100, StatementFlags::default());
    i.statements.insert(
        0,
        StatementFlags {
            moderated_out: false,
            meta: true,
        },
    );
    let snap = analyze(&i, None, &Params::default());
    assert_eq!(snap.priorities.get(&0), Some(&49.0));
    assert_eq!(snap.priorities.get(&100), Some(&5.0625));
    let (id, st) = snap.statements.iter().find(|(_, st)| !st.excluded).unwrap();
    let c = st
        .group_counts
        .iter()
        .fold(Counts::default(), |a, g| Counts {
            na: a.na + g.na,
            nd: a.nd + g.nd,
            ns: a.ns + g.ns,
        });
    let expected = priority::priority(c.na, c.nd, c.ns, st.extremity);
    assert_eq!(snap.priorities.get(id), Some(&expected));
    for (id, st) in &snap.statements {
        if i.statements.get(id).is_some_and(|f| f.moderated_out) {
            assert!(st.excluded);
            assert_eq!(snap.priorities.get(id), None);
        }
    }
}

#[test]
fn snapshot_round_trips_through_json() {
    let s = three_camps();
    let snap = analyze(&s.input, None, &Params::default());
    let back: Snapshot = serde_json::from_str(&json(&snap)).unwrap();
    assert!(back == snap, "the snapshot changed in a JSON round trip");
    // A state read back from storage warm-starts exactly like the in-memory one.
    let a = analyze(&s.input, Some(&snap.state), &Params::default());
    let b = analyze(&s.input, Some(&back.state), &Params::default());
    assert!(json(&a) == json(&b));
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    // More rows than one parallel chunk, so partial sums are really split and merged.
    let params = SyntheticParams {
        participants: 5_000,
        statements: 30,
        votes: 60_000,
        ..Default::default()
    };
    let s = generate(&params, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| json(&analyze(&s.input, None, &Params::default())))
    };
    let one = run(1);
    assert!(one == run(2), "1 vs 2 threads");
    assert!(one == run(3), "1 vs 3 threads");
}

#[test]
fn an_incremental_update_equals_a_warm_update_on_the_full_vote_list() {
    let s = three_camps();
    let mut votes = s.input.votes.clone();
    // Later votes that change earlier ones, and a new statement.
    votes.extend((0..40).map(|p| v(p, 3, 1)));
    votes.extend((0..25).map(|p| v(p * 3, 40, -1)));
    let (old, new) = votes.split_at(votes.len() - 1_000);
    let params = Params::default();
    let first = Input {
        votes: old.to_vec(),
        statements: s.input.statements.clone(),
        vote_high_water_mark: 1,
    };
    let cold = analyze(&first, None, &params);
    let mut live = Incremental::new(&first, Some(cold.state.clone()));
    live.add_votes(&new[..400], &s.input.statements);
    live.add_votes(&new[400..], &s.input.statements);
    let incremental = live.update(2, &params);
    let full = Input {
        votes: votes.clone(),
        statements: s.input.statements.clone(),
        vote_high_water_mark: 2,
    };
    let reference = analyze(&full, Some(&cold.state), &params);
    assert!(
        json(&incremental) == json(&reference),
        "the incremental path differs"
    );
    assert_eq!(live.state(), Some(&incremental.state));
    assert_eq!(live.vote_rows(), votes.len());
    // And an Incremental without a state starts cold, like `analyze(…, None, …)`.
    let mut fresh = Incremental::new(&full, None);
    assert!(json(&fresh.update(2, &params)) == json(&analyze(&full, None, &params)));
}

#[test]
fn match_labels_follows_the_largest_overlaps() {
    // New group 0 is mostly old label 2, group 1 mostly old label 0; group 2 is new.
    let overlap = [(0, 2, 50), (0, 0, 10), (1, 0, 40), (1, 2, 5), (2, 2, 30)];
    assert_eq!(match_labels(3, &overlap), vec![2, 0, 1]);
    // Ties go to the lower label, then the lower group; no overlap gives fresh labels in order.
    assert_eq!(
        match_labels(2, &[(0, 1, 5), (1, 1, 5), (1, 3, 5)]),
        vec![1, 3]
    );
    assert_eq!(match_labels(3, &[]), vec![0, 1, 2]);
    // A merge: two new groups share one old label; the larger overlap keeps it.
    assert_eq!(match_labels(2, &[(0, 4, 9), (1, 4, 10)]), vec![0, 4]);
}

#[test]
fn group_labels_stay_with_their_members_across_updates_and_k_changes() {
    let s = three_camps();
    let params = Params::default();
    let cold = analyze(&s.input, None, &params);
    assert_eq!(
        cold.groups.iter().map(|g| g.label).collect::<Vec<_>>(),
        (0..cold.k as u32).collect::<Vec<_>>()
    );
    // Force a shown k of 2 first, then let the smoother move to the best k.
    let best = cold.receipt.best_k.unwrap();
    let other = if best == 2 { 3 } else { 2 };
    let mut state = cold.state.clone();
    state.k_smoother = KSmoother {
        last_k: Some(other),
        last_k_count: 9,
        smoothed_k: Some(other),
    };
    state.group_labels.clear();
    let mut previous: Option<Snapshot> = None;
    for _ in 0..5 {
        let snap = analyze(&s.input, Some(&state), &params);
        let labels: Vec<u32> = snap.groups.iter().map(|g| g.label).collect();
        let mut sorted = labels.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, labels, "groups are listed by distinct labels");
        if let Some(prev) = &previous {
            // Every label kept names a group holding most of that label's old members.
            for g in &snap.groups {
                let Some(old) = prev.groups.iter().find(|o| o.label == g.label) else {
                    continue;
                };
                let members = |snap: &Snapshot, id: usize| -> BTreeSet<i64> {
                    snap.participants
                        .iter()
                        .filter(|(_, r)| r.group == Some(id))
                        .map(|(&p, _)| p)
                        .collect()
                };
                let (a, b) = (members(prev, old.id), members(&snap, g.id));
                let shared = a.intersection(&b).count();
                assert!(
                    2 * shared > a.len().min(b.len()),
                    "label {} moved to other participants",
                    g.label
                );
            }
            if prev.k == snap.k {
                assert_eq!(
                    prev.groups
                        .iter()
                        .map(|g| (g.label, g.members))
                        .collect::<Vec<_>>(),
                    snap.groups
                        .iter()
                        .map(|g| (g.label, g.members))
                        .collect::<Vec<_>>()
                );
            }
        }
        state = snap.state.clone();
        previous = Some(snap);
    }
}

/// Measurement aid for the bridging fit's stopping rule (not run by default): on every Pol.is
/// export under `SAMSKAB_POLIS_DATA` (default `../shared/data/polis-opendata`), prints per
/// conversation the rounds, the listed top five with their printed scores and the rank
/// correlations with the group-informed consensus, cold and at the end of a replay with an
/// update every 500 votes; with `BRIDGING_DUMP` set, writes every intercept there.
#[test]
#[ignore = "measurement aid: needs the Pol.is openData and prints figures"]
fn bridging_figures_on_real_conversations() {
    use crate::opinion_tools::polis;
    let root = std::env::var_os("SAMSKAB_POLIS_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/data/polis-opendata")
        });
    let dump = std::env::var_os("BRIDGING_DUMP").map(std::path::PathBuf::from);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("Pol.is openData missing at {}: {e}", root.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().join("participants-votes.csv").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let line = |name: &str, kind: &str, s: &Snapshot| -> String {
        let (mut b, mut g) = (Vec::new(), Vec::new());
        for x in &s.bridging.statements {
            if let Some(gic) = s.group_informed_consensus.get(&x.statement) {
                b.push(x.intercept);
                g.push(*gic);
            }
        }
        let top: Vec<String> = s
            .bridging
            .top(5)
            .iter()
            .map(|x| format!("{}:{:.3}", x.statement, x.intercept))
            .collect();
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
            let text: String = s
                .bridging
                .statements
                .iter()
                .map(|x| format!("{} {:e} {:e}\n", x.statement, x.intercept, x.factor))
                .collect();
            std::fs::write(dir.join(format!("{name}.{kind}")), text).unwrap();
        }
        format!(
            "{name:<34} {kind:<5} rounds {:>3} Spearman {:>6.3} Kendall {:>6.3} top {}\n",
            s.bridging.iterations,
            bridging::spearman(&b, &g),
            bridging::kendall(&b, &g),
            top.join(" ")
        )
    };
    let mut out = String::new();
    for name in &names {
        let dir = root.join(name);
        let e = polis::read_export(&dir, dir.join("votes.csv").is_file()).unwrap();
        let params = Params::default();
        let cold = analyze(&e.input, None, &params);
        out.push_str(&line(name, "cold", &cold));
        if let Some(h) = &e.history {
            let (warm, _) = polis::replay_every(h, &e.input.statements, &params, 500);
            out.push_str(&line(name, "warm", &warm));
        }
    }
    eprint!("{out}");
}

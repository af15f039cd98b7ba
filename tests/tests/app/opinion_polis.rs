//! The opinion engine on real Pol.is openData exports (CC BY 4.0, The Computational Democracy
//! Project; see shared/data/polis-opendata/README.md), compared with Pol.is's own groups.
//!
//! The data lives beside the repository (`../shared/data/polis-opendata`), never inside it;
//! `SAMSKAB_POLIS_DATA` overrides the location. Without it these tests say so and pass; see
//! `samskab_tests::polis_data`.

// Helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;

use samskab::opinion::{Params, analyze, consensus};
use samskab::opinion_tools::polis::{self, PolisExport};
use samskab_tests::{PolisData, polis_data};

/// Writes straight to the process's stderr: unlike `eprintln!`, this is not captured by the test
/// harness, so the figures show in every `cargo test` run, not only with `--nocapture`.
fn report(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn export(data: &PolisData, name: &str, history: bool) -> PolisExport {
    polis::read_export(&data.export(name), history)
        .unwrap_or_else(|e| panic!("reading the Pol.is export {name}: {e:#}"))
}

#[test]
fn cold_runs_match_polis_groups_on_vtaiwan_bg2050_and_biodiversity() {
    let Some(data) = polis_data("cold_runs_match_polis_groups_on_vtaiwan_bg2050_and_biodiversity")
    else {
        return;
    };
    let mut failures = Vec::new();
    for name in [
        "vtaiwan.uberx",
        "bg2050-volunteers",
        "scoop-hivemind.biodiversity",
    ] {
        let e = export(&data, name, false);
        let snapshot = analyze(&e.input, None, &Params::default());
        let c = polis::compare(&snapshot, &e);
        report(&format!(
            "{name}: cold ARI {:.3} over {} participants, k = {} (Pol.is {})\n",
            c.ari, c.both_clustered, c.k, c.polis_k
        ));
        if !(c.ari >= 0.9 && c.both_clustered > 100) {
            failures.push(format!(
                "{name}: ARI {:.3} over {}",
                c.ari, c.both_clustered
            ));
        }
    }
    assert!(failures.is_empty(), "below ARI 0.9: {failures:?}");
}

/// Prints the agreement with Pol.is for every export, cold and replayed from votes.csv. Only
/// the three conversations above have a threshold; the others are reported (older Pol.is
/// versions and update history decide their groups, see docs/opinion.md §15).
#[test]
fn ari_table_for_every_conversation() {
    let Some(data) = polis_data("ari_table_for_every_conversation") else {
        return;
    };
    // The replay at Pol.is's cadence is `samskab opinion compare`'s (release build); here the
    // fixed cadence, and the poll cadence on the smallest history below.
    let rows = polis::ari_table_with(data.root(), &Params::default(), false).unwrap();
    report(&format!(
        "\nAdjusted Rand index against Pol.is's group-id (n = participants both clustered)\n{}",
        polis::format_table(&rows)
    ));
    assert!(rows.len() >= 9, "only {} exports found", rows.len());
    for r in &rows {
        let all = std::iter::once(&r.cold).chain(r.replay_fixed.as_ref());
        for c in all {
            assert!(
                (-1.0..=1.0).contains(&c.ari),
                "{}: ARI {}",
                r.conversation,
                c.ari
            );
            assert!(
                c.both_clustered > 0 && c.k >= 1,
                "{}: nobody clustered",
                r.conversation
            );
        }
    }
    assert!(rows.iter().filter(|r| r.replay_fixed.is_some()).count() >= 8);
}

/// The replay at Pol.is's cadence (one warm update per second that has votes) on the shortest
/// shared history: one update per distinct second, and a clustering Pol.is's can be compared with.
#[test]
fn replay_at_polis_cadence_updates_once_per_second_with_votes() {
    let Some(data) = polis_data("replay_at_polis_cadence_updates_once_per_second_with_votes")
    else {
        return;
    };
    let e = export(&data, "london.youth.policing", true);
    let history = e
        .history
        .as_ref()
        .expect("london.youth.policing has votes.csv");
    let mut seconds: Vec<i64> = history
        .iter()
        .map(|v| v.timestamp.div_euclid(polis::POLL_INTERVAL_MS))
        .collect();
    seconds.dedup();
    let (snapshot, updates) = polis::replay(&e, &Params::default()).unwrap();
    assert_eq!(updates, seconds.len(), "one update per poll with new votes");
    let c = polis::compare(&snapshot, &e);
    report(&format!(
        "london.youth.policing replayed in {updates} polls: k {} ARI {:.3} (n = {})",
        c.k, c.ari, c.both_clustered
    ));
    assert!(c.both_clustered > 0 && (-1.0..=1.0).contains(&c.ari));
}

#[test]
fn same_export_twice_gives_byte_identical_json() {
    let Some(data) = polis_data("same_export_twice_gives_byte_identical_json") else {
        return;
    };
    let dir = data.export("bg2050-volunteers");
    let run = || {
        serde_json::to_string(&polis::analyze_export(&dir, false, &Params::default()).unwrap())
            .unwrap()
    };
    let a = run();
    assert!(a == run(), "two runs differ");
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(
        v["receipt"]["input_sha256"].as_str().map(str::len),
        Some(64)
    );
    assert_eq!(v["k"], 2);
}

#[test]
fn warm_update_without_new_votes_keeps_polis_groups() {
    let Some(data) = polis_data("warm_update_without_new_votes_keeps_polis_groups") else {
        return;
    };
    let e = export(&data, "vtaiwan.uberx", false);
    let cold = analyze(&e.input, None, &Params::default());
    let warm = analyze(&e.input, Some(&cold.state), &Params::default());
    let groups = |s: &samskab::opinion::Snapshot| -> Vec<(i64, Option<usize>)> {
        s.participants.iter().map(|(&p, r)| (p, r.group)).collect()
    };
    assert_eq!(groups(&cold), groups(&warm));
    assert!(warm.receipt.warm_start);
}

/// Pol.is exports its group-informed consensus per comment; with Pol.is's own groups our
/// formula must reproduce it.
#[test]
fn group_informed_consensus_formula_reproduces_polis_values() {
    let Some(data) = polis_data("group_informed_consensus_formula_reproduces_polis_values") else {
        return;
    };
    let dir = data.export("bg2050-volunteers");
    let e = export(&data, "bg2050-volunteers", false);
    let groups: Vec<u64> = {
        let mut g: Vec<u64> = e.polis_groups.values().flatten().copied().collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let mut counts: BTreeMap<(i64, u64), samskab::opinion::Counts> = BTreeMap::new();
    for v in &e.input.votes {
        if let Some(Some(g)) = e.polis_groups.get(&v.participant) {
            let c = counts.entry((v.statement, *g)).or_default();
            c.ns += 1;
            if v.value == samskab::opinion::VoteValue::Agree {
                c.na += 1;
            }
        }
    }
    let mut reader = csv::Reader::from_path(dir.join("comments.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let id = headers.iter().position(|h| h == "comment-id").unwrap();
    let gic = headers
        .iter()
        .position(|h| h == "group-informed-consensus")
        .unwrap();
    let mut checked = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let statement: i64 = record[id].parse().unwrap();
        let expected: f64 = record[gic].parse().unwrap();
        let ours = consensus::group_informed_consensus(
            groups
                .iter()
                .map(|g| counts.get(&(statement, *g)).copied().unwrap_or_default()),
        );
        assert!(
            (ours - expected).abs() < 1e-12,
            "comment {statement}: {ours} vs {expected}"
        );
        checked += 1;
    }
    assert_eq!(checked, 371);
}

/// The bridging ranking (Community Notes' intercepts, docs/opinion.md §18) against the
/// group-informed consensus on every real conversation: both reward agreement from every side,
/// so over the statements they share they must rank alike. The rank correlations are printed.
#[test]
fn bridging_ranking_agrees_with_group_informed_consensus_on_real_conversations() {
    let Some(data) =
        polis_data("bridging_ranking_agrees_with_group_informed_consensus_on_real_conversations")
    else {
        return;
    };
    use samskab::opinion::bridging::{kendall, spearman};
    let mut names: Vec<String> = std::fs::read_dir(data.root())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("participants-votes.csv").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "only {} exports found", names.len());
    let mut text = String::from(
        "\nBridging intercept vs group-informed consensus (rank correlation over shared statements)\n",
    );
    let mut rhos = Vec::new();
    for name in &names {
        let e = export(&data, name, false);
        let s = analyze(&e.input, None, &Params::default());
        let (mut b, mut g) = (Vec::new(), Vec::new());
        for x in &s.bridging.statements {
            if let Some(gic) = s.group_informed_consensus.get(&x.statement) {
                b.push(x.intercept);
                g.push(*gic);
            }
        }
        let (rho, tau) = (spearman(&b, &g), kendall(&b, &g));
        text.push_str(&format!(
            "{name:<34} statements {:>4}  Spearman {rho:>6.3}  Kendall {tau:>6.3}  rounds {}\n",
            b.len(),
            s.bridging.iterations
        ));
        assert!(b.len() >= 20, "{name}: only {} statements ranked", b.len());
        assert!(
            s.bridging.iterations < samskab::opinion::bridging::MAX_ITERATIONS,
            "{name}: the fit did not converge"
        );
        rhos.push((name.clone(), rho));
    }
    report(&text);
    for (name, rho) in &rhos {
        assert!(*rho > 0.0, "{name}: Spearman {rho:.3} is not positive");
    }
}

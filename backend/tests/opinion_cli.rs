//! `samskab opinion …` as a user runs it: JSON on stdout, and exit code 2 with a message on bad
//! input, never a panic.

// Helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn samskab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_samskab"))
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
}

const COMMENTS: &str = "timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n\
    1,0,0,0,0,1,a\n2,1,0,0,0,1,b\n3,2,0,0,0,-1,c\n";

fn export_with(participants_votes: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "comments.csv", COMMENTS);
    write(dir.path(), "participants-votes.csv", participants_votes);
    dir
}

fn assert_clean_failure(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn analyze_prints_one_json_document_with_groups_and_receipt() {
    let mut csv =
        String::from("participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1,2\n");
    for p in 0..20 {
        let (a, b) = if p % 2 == 0 { ("1", "-1") } else { ("-1", "1") };
        csv.push_str(&format!("{p},,0,3,1,1,{a},{b},1\n"));
    }
    let dir = export_with(&csv);
    let path = dir.path().to_str().unwrap();
    let out = samskab(&["opinion", "analyze", "--polis-export", path, "--seed", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["k"], 2);
    assert_eq!(v["receipt"]["seed"], 3);
    assert_ne!(v["participants"]["0"], v["participants"]["1"]);
    assert_eq!(v["participants"]["0"], v["participants"]["2"]);
    // Statement 2 is moderated out: never served.
    assert!(v["priorities"].get("2").is_none());
    assert_eq!(v["groups"].as_array().map(Vec::len), Some(2));
    // Same input, same bytes.
    let again = samskab(&["opinion", "analyze", "--polis-export", path, "--seed", "3"]);
    assert!(again.stdout == out.stdout);
}

#[test]
fn missing_export_folder_exits_with_code_2() {
    let out = samskab(&[
        "opinion",
        "analyze",
        "--polis-export",
        "/nonexistent/samskab-export",
    ]);
    assert_clean_failure(&out, "cannot read");
}

#[test]
fn malformed_csv_exits_with_code_2() {
    let dir = export_with("participant,group-id,0,1\n1,,1\n2,,1,1,1\n");
    let out = samskab(&[
        "opinion",
        "analyze",
        "--polis-export",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "malformed CSV");
}

#[test]
fn unknown_vote_value_exits_with_code_2() {
    let dir = export_with("participant,group-id,0,1\n1,,1,agree\n");
    let out = samskab(&[
        "opinion",
        "analyze",
        "--polis-export",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "unexpected value `agree`");
}

#[test]
fn replay_without_votes_csv_exits_with_code_2() {
    let dir = export_with("participant,group-id,0,1\n1,,1,1\n");
    let out = samskab(&[
        "opinion",
        "analyze",
        "--replay",
        "--polis-export",
        dir.path().to_str().unwrap(),
    ]);
    assert_clean_failure(&out, "votes.csv");
}

#[test]
fn replay_runs_warm_updates_over_votes_csv() {
    let dir = export_with("participant,group-id,0,1\n1,0,1,-1\n2,1,-1,1\n");
    let mut votes = String::from("timestamp,datetime,comment-id,voter-id,vote\n");
    for (t, (s, p, x)) in [(0, 1, 1), (1, 1, -1), (0, 2, -1), (1, 2, 1)]
        .iter()
        .enumerate()
    {
        votes.push_str(&format!("{t},x,{s},{p},{x}\n"));
    }
    write(dir.path(), "votes.csv", &votes);
    let out = samskab(&[
        "opinion",
        "analyze",
        "--replay",
        "--polis-export",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["receipt"]["updates"], 1);
    assert_eq!(v["receipt"]["vote_high_water_mark"], 4);
}

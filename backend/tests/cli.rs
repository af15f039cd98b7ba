//! The `samskab` binary as an operator uses it: configuration layering,
//! `migrate`, `admin create`, `serve`.

// Helpers outside #[test] functions may panic too: a failed setup is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_samskab");

fn samskab(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    // Run from an unrelated directory with nothing but environment variables.
    cmd.current_dir(dir)
        .env_remove("SAMSKAB_DATABASE_URL")
        .env_remove("SAMSKAB_BIND")
        .env_remove("SAMSKAB_CONFIG")
        .env("SAMSKAB_DATA_DIR", dir.join("state"))
        .env("SAMSKAB_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    Some(out)
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(port: u16) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(res) = http_get(port, "/readyz")
            && res.starts_with("HTTP/1.1 200")
        {
            return res;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server on port {port} never became ready");
}

#[test]
fn migrate_creates_the_sqlite_database_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = samskab(dir.path()).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("state/samskab.db").exists());
}

#[test]
fn admin_create_reads_the_password_from_stdin_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let run = |password: &str| {
        let mut child = samskab(dir.path())
            .args([
                "admin",
                "create",
                "--email",
                "Chef@Aarhus.dk",
                "--display-name",
                "Chefen",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let short = run("kort");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10"));

    let ok = run("et meget langt kodeord");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("administrator chef@aarhus.dk created"));

    let again = run("et meget langt kodeord");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn environment_overrides_the_config_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file_port = free_port();
    let env_port = free_port();
    let config = dir.path().join("samskab.toml");
    std::fs::write(
        &config,
        format!("bind = \"127.0.0.1:{file_port}\"\ncookie_secure = false\n"),
    )
    .unwrap();

    // The file decides the port.
    let server = Server(
        samskab(dir.path())
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = wait_ready(file_port);
    assert!(ready.contains("\"status\":\"ready\""));
    drop(server);

    // SAMSKAB_BIND beats the file.
    let _server = Server(
        samskab(dir.path())
            .env("SAMSKAB_CONFIG", &config)
            .env("SAMSKAB_BIND", format!("127.0.0.1:{env_port}"))
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(env_port);
    assert!(
        http_get(file_port, "/healthz").is_none(),
        "the file's port is not used"
    );
    // The generated session key is kept in the data dir for the next start.
    assert!(dir.path().join("state/session.key").exists());
}

#[test]
fn invalid_configuration_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = samskab(dir.path())
        .env("SAMSKAB_SESSION_KEY", "dG9vIHNob3J0")
        .arg("migrate")
        .output()
        .unwrap();
    // migrate does not need the session key; serve does.
    assert!(out.status.success());
    let out = samskab(dir.path())
        .env("SAMSKAB_SESSION_KEY", "dG9vIHNob3J0")
        .env("SAMSKAB_BIND", format!("127.0.0.1:{}", free_port()))
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 64 bytes"));

    let out = samskab(dir.path())
        .args(["serve", "--config", "/does/not/exist.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("configuration"));
}

/// A base64 session key of 64 bytes (for these tests only).
const PRODUCTION_KEY: &str =
    "BwoNEBMWGRwfIiUoKy4xNDc6PUBDRklMT1JVWFteYWRnam1wc3Z5fH+ChYiLjpGUl5qdoKOmqayvsrW4u77BxA==";

/// `serve` in production with everything production needs set.
fn production(dir: &std::path::Path, port: u16) -> Command {
    let mut cmd = samskab(dir);
    cmd.env("SAMSKAB_ENVIRONMENT", "production")
        .env("SAMSKAB_PUBLIC_URL", "https://samskab.aarhus.example")
        .env("SAMSKAB_SESSION_KEY", PRODUCTION_KEY)
        .env("SAMSKAB_MAIL__SMTP_URL", "smtp://127.0.0.1:2525")
        .env("SAMSKAB_PRIVACY__CONTROLLER", "Aarhus Kommune")
        .env(
            "SAMSKAB_PRIVACY__CONTROLLER_CONTACT",
            "Rådhuspladsen 2, 8000 Aarhus C",
        )
        .env("SAMSKAB_PRIVACY__DPO_NAME", "Databeskyttelsesrådgiveren")
        .env("SAMSKAB_PRIVACY__DPO_EMAIL", "dpo@aarhus.example")
        .env("SAMSKAB_BIND", format!("127.0.0.1:{port}"))
        .env_remove("SAMSKAB_COOKIE_SECURE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Run a command that should stop by itself; kill it after 30 s (a server
/// that started although it should not have) and fail.
fn run_to_exit(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr);
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started instead of refusing to");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What is wrong, how to make it so, and what the error must say.
type Case = (&'static str, fn(&mut Command), &'static str);

#[test]
fn production_refuses_to_start_with_development_fallbacks() {
    let cases: [Case; 8] = [
        (
            "no data protection officer",
            |c| {
                c.env_remove("SAMSKAB_PRIVACY__DPO_EMAIL");
            },
            "SAMSKAB_PRIVACY__DPO_EMAIL is not set",
        ),
        (
            "no SMTP server",
            |c| {
                c.env_remove("SAMSKAB_MAIL__SMTP_URL");
            },
            "SAMSKAB_MAIL__SMTP_URL is not set",
        ),
        (
            "plain http",
            |c| {
                c.env("SAMSKAB_PUBLIC_URL", "http://samskab.aarhus.example");
            },
            "SAMSKAB_PUBLIC_URL must be an https:// URL",
        ),
        (
            "no public URL",
            |c| {
                c.env_remove("SAMSKAB_PUBLIC_URL");
            },
            "SAMSKAB_PUBLIC_URL must be an https:// URL",
        ),
        (
            "no session key",
            |c| {
                c.env_remove("SAMSKAB_SESSION_KEY");
            },
            "SAMSKAB_SESSION_KEY is not set",
        ),
        (
            "an empty session key",
            |c| {
                c.env("SAMSKAB_SESSION_KEY", "");
            },
            "SAMSKAB_SESSION_KEY is not set",
        ),
        (
            "demo mode",
            |c| {
                c.arg("--demo");
            },
            "--demo is refused in production",
        ),
        (
            "an unknown environment",
            |c| {
                c.env("SAMSKAB_ENVIRONMENT", "prod");
            },
            "SAMSKAB_ENVIRONMENT must be `development` or `production`",
        ),
    ];
    for (case, change, message) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = production(dir.path(), free_port());
        cmd.arg("serve");
        change(&mut cmd);
        let (code, stderr) = run_to_exit(cmd);
        assert_eq!(code, Some(1), "{case}: exit status; {stderr}");
        assert!(stderr.contains(message), "{case}: {stderr}");
        assert!(
            !dir.path().join("state").exists(),
            "{case}: refused before touching the data dir"
        );
    }

    // Everything wrong at once: every problem is named in one go.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = production(dir.path(), free_port());
    cmd.env_remove("SAMSKAB_MAIL__SMTP_URL")
        .env_remove("SAMSKAB_PUBLIC_URL")
        .env_remove("SAMSKAB_SESSION_KEY")
        .args(["serve", "--demo"]);
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(1));
    for name in [
        "SAMSKAB_MAIL__SMTP_URL",
        "SAMSKAB_PUBLIC_URL",
        "SAMSKAB_SESSION_KEY",
        "--demo",
    ] {
        assert!(stderr.contains(name), "{name} named: {stderr}");
    }
    assert!(!stderr.contains(PRODUCTION_KEY));
}

#[test]
fn production_starts_when_everything_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = production(dir.path(), port);
    cmd.arg("serve");
    let _server = Server(cmd.spawn().unwrap());
    wait_ready(port);
    // Development (the default) still runs without any of it.
    let dev_port = free_port();
    let _dev = Server(
        samskab(dir.path())
            .env_remove("SAMSKAB_ENVIRONMENT")
            .env_remove("SAMSKAB_MAIL__SMTP_URL")
            .env_remove("SAMSKAB_PUBLIC_URL")
            .env_remove("SAMSKAB_SESSION_KEY")
            .env("SAMSKAB_DATA_DIR", dir.path().join("dev"))
            .env("SAMSKAB_BIND", format!("127.0.0.1:{dev_port}"))
            .args(["serve", "--demo"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(dev_port);
}

/// The round trip as a researcher does it: download the published demo
/// consultation's open data from a running server, run `samskab opinion
/// analyze` on the folder, and get exactly the groups the report shows (the
/// `group-id` column, which is the final snapshot stored at closing).
#[test]
fn the_opinion_cli_reproduces_the_published_groups_from_the_served_export() {
    const SLUG: &str = "aeldres-hverdag-mad-faellesskab-og-hjaelp";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = Server(
        samskab(dir.path())
            .env("SAMSKAB_BIND", format!("127.0.0.1:{port}"))
            .args(["serve", "--demo"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port);
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    for f in [
        "comments.csv",
        "votes.csv",
        "participants-votes.csv",
        "summary.csv",
    ] {
        // Anonymous: the consultation is published, so its data is open.
        let res = http_get(port, &format!("/consultations/{SLUG}/export/{f}")).unwrap();
        assert!(res.starts_with("HTTP/1.1 200"), "{f}: {res:.200}");
        let (_, body) = res.split_once("\r\n\r\n").unwrap();
        std::fs::write(export.join(f), body).unwrap();
    }

    let out = Command::new(BIN)
        .args(["opinion", "analyze", "--polis-export"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let analysed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let mut rows = csv::Reader::from_path(export.join("participants-votes.csv")).unwrap();
    let header = rows.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (participant, group) = (column("participant"), column("group-id"));
    let mut published = std::collections::BTreeMap::new();
    for row in rows.records() {
        let row = row.unwrap();
        let g = &row[group];
        published.insert(
            row[participant].to_owned(),
            (!g.is_empty()).then(|| g.parse::<u64>().unwrap()),
        );
    }
    let groups: std::collections::BTreeSet<_> = published.values().flatten().collect();
    assert!(groups.len() >= 2, "the demo report has groups: {groups:?}");
    assert_eq!(analysed["k"].as_u64(), Some(groups.len() as u64));
    for (p, g) in &published {
        assert_eq!(
            analysed["participants"][p].as_u64(),
            *g,
            "participant {p} is in the same group"
        );
    }
}

/// `samskab --version`: the release and the commit it was built from, so an
/// operator can tell which build runs where.
#[test]
fn version_names_the_release_and_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = samskab(dir.path()).arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        line.trim_end(),
        format!(
            "samskab {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            samskab::build_info::COMMIT
        )
    );
    // Built in this checkout without an override: it is the checked-out commit.
    if std::env::var_os("SAMSKAB_GIT_COMMIT").is_none() {
        let head = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        if head.status.success() {
            let head = String::from_utf8(head.stdout).unwrap();
            assert!(line.contains(head.trim()), "{line}");
        }
    }
}

/// `import polis --create` (trials, the load benchmark) makes an open consultation and fills
/// its conversation from a Pol.is export, here one of the engine's synthetic ones.
#[test]
fn import_polis_creates_the_consultation_and_imports_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    let out = Command::new(BIN)
        .args([
            "opinion",
            "synthetic",
            "--participants",
            "40",
            "--statements",
            "8",
        ])
        .args(["--votes", "200", "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = samskab(dir.path())
        .args(["import", "polis"])
        .arg(&export)
        .args([
            "--consultation",
            "proeve-samtale",
            "--create",
            "Prøve på en samtale",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("imported 8 statements"), "{printed}");
    assert!(
        printed.contains("opinion snapshot stored (warm)"),
        "{printed}"
    );
}

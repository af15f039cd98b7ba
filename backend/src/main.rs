use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use samskab::auth::{Role, password};
use samskab::configuration::Settings;
use samskab::i18n::Locale;
use samskab::services::{demo, polis_import, snapshots, users};
use samskab::startup::{Application, BuildOptions};

/// mimalloc instead of glibc's malloc: a request allocates and frees many small
/// objects (headers, query parameters, template values) on whichever worker
/// thread runs it, and a profile of the voting page under load put about a
/// fifth of the server's CPU in glibc's `malloc`/`free` (`_int_malloc`,
/// `malloc_consolidate`). mimalloc's per-thread free lists make those cheap.
/// Only the binary sets it: the library and its tests keep the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "samskab",
    version = samskab::build_info::VERSION_LINE,
    about = "Citizen co-creation and deliberation"
)]
struct Cli {
    /// Configuration file (TOML); environment variables SAMSKAB_* override it.
    #[arg(long, global = true, env = "SAMSKAB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (applies migrations first).
    Serve {
        /// Load Danish demo content and demo users (never in production).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the SQLite database to PATH while the server
    /// may run. PostgreSQL: use pg_dump (see deploy/README.md).
    Backup {
        /// The new file (must not exist).
        path: PathBuf,
    },
    /// Check a (restored) database: migrations, votes against their history,
    /// opinion snapshots; print every table's row count and the vote history digest.
    Verify,
    /// Copy every row from one database to another, empty one (SQLite to
    /// PostgreSQL) and check both sides. Stop Samskab first.
    MigrateData {
        /// The database to copy from, e.g. sqlite:///var/lib/samskab/samskab.db
        #[arg(long)]
        from: String,
        /// The empty database to copy to, e.g. postgres://samskab@db/samskab
        #[arg(long)]
        to: String,
    },
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load conversations from other tools.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Load benchmark helpers (see tests/load/run).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Opinion engine tools.
    Opinion {
        #[command(subcommand)]
        command: samskab::opinion_tools::cli::OpinionCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load a Pol.is openData export (comments.csv, votes.csv or
    /// participants-votes.csv) into a consultation and compute its groups.
    Polis {
        /// Folder of the export.
        dir: PathBuf,
        /// Address (slug) of the consultation to load it into.
        #[arg(long)]
        consultation: String,
        /// Create the consultation first, open, with a conversation anyone may vote in, and
        /// with this title (for benchmarks and trials; without it the consultation must exist).
        #[arg(long)]
        create: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Insert single rows into a scratch table with N concurrent connections and print the
    /// rate and latency (the database's raw INSERT rate, beside the vote POST rate).
    Insert {
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator (the first one, typically). The password is read
    /// from standard input so it never appears in the shell history.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Opinion { command } = cli.command {
        return samskab::opinion_tools::cli::run(command);
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("samskab: {e:#}");
            return ExitCode::from(2);
        }
    };
    samskab::telemetry::init(&settings.log, &settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("samskab: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { demo } => serve(settings, demo).await,
            Command::Migrate => {
                let db = samskab::db::connect(&settings).await?;
                samskab::db::migrate(&db).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Backup { path } => {
                let db = samskab::db::connect(&settings).await?;
                samskab::backup::sqlite(&db, &path).await?;
                println!("backup written to {}", path.display());
                Ok(())
            }
            Command::Verify => verify(settings).await,
            Command::MigrateData { from, to } => migrate_data(&from, &to).await,
            Command::Admin {
                command:
                    AdminCommand::Create {
                        email,
                        display_name,
                    },
            } => create_admin(settings, &email, &display_name).await,
            Command::Import {
                command:
                    ImportCommand::Polis {
                        dir,
                        consultation,
                        create,
                    },
            } => import_polis(settings, &dir, &consultation, create.as_deref()).await,
            Command::Bench {
                command:
                    BenchCommand::Insert {
                        concurrency,
                        seconds,
                    },
            } => {
                let db = samskab::db::connect(&settings).await?;
                samskab::db::migrate(&db).await?;
                let r = samskab::insert_bench::run(&db, concurrency, seconds).await?;
                println!(
                    "raw INSERT c={}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} rows)",
                    r.concurrency, r.per_second, r.p50_ms, r.p99_ms, r.inserts
                );
                Ok(())
            }
            Command::Opinion { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samskab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let is_postgres = settings.is_postgres();
    let options = BuildOptions {
        demo,
        ..Default::default()
    };
    let app = Application::build(settings.clone(), options).await?;
    let host = settings
        .bind
        .rsplit_once(':')
        .map_or("127.0.0.1", |(h, _)| h);
    let database = if is_postgres { "PostgreSQL" } else { "SQLite" };
    if settings.log_format.eq_ignore_ascii_case("json") {
        // Log collectors read stdout too: JSON only, and no demo addresses.
        tracing::info!(address = %format!("http://{host}:{}", app.port()), database, "Samskab is running");
        if demo {
            tracing::warn!("demo mode: demo accounts with a published password exist (see README)");
        }
    } else {
        println!(
            "Samskab is running on http://{host}:{} ({database})",
            app.port()
        );
    }
    if demo && !settings.log_format.eq_ignore_ascii_case("json") {
        println!(
            "Demo mode: these demo accounts exist, all with the password \"{}\" (demo only):",
            demo::DEMO_PASSWORD
        );
        for (email, _, role) in demo::DEMO_USERS {
            println!("  {email:<24} {}", role.as_str());
        }
    }
    if settings
        .session_key
        .as_ref()
        .is_some_and(|k| k.expose_secret().is_empty())
    {
        tracing::warn!("SAMSKAB_SESSION_KEY is empty");
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate_data(from: &str, to: &str) -> anyhow::Result<()> {
    let source = sea_orm::Database::connect(from)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to --from: {e}"))?;
    let target = sea_orm::Database::connect(to)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to --to: {e}"))?;
    let moved = samskab::migrate_data::run(&source, &target).await?;
    for (table, rows) in &moved.target.tables {
        println!("{table:<32} {rows}");
    }
    println!("vote history digest {}", moved.target.vote_history_digest);
    println!("every row copied; both databases verified");
    Ok(())
}

async fn verify(settings: Settings) -> anyhow::Result<()> {
    let db = samskab::db::connect(&settings).await?;
    let report = samskab::backup::verify(&db).await?;
    for (table, rows) in &report.tables {
        println!("{table:<32} {rows}");
    }
    println!("vote history digest {}", report.vote_history_digest);
    println!(
        "final opinion snapshots reproduced {} (not comparable: {})",
        report.final_snapshots_reproduced, report.final_snapshots_not_comparable
    );
    if report.problems.is_empty() {
        println!("ok");
        Ok(())
    } else {
        for p in &report.problems {
            eprintln!("problem: {p}");
        }
        anyhow::bail!("{} problems found", report.problems.len())
    }
}

async fn import_polis(
    settings: Settings,
    dir: &Path,
    slug: &str,
    create: Option<&str>,
) -> anyhow::Result<()> {
    let db = samskab::db::connect(&settings).await?;
    samskab::db::migrate(&db).await?;
    if let Some(title) = create {
        polis_import::create_open_consultation(&db, slug, title).await?;
    }
    let summary = polis_import::import(&db, slug, dir).await?;
    println!(
        "imported {} statements, {} participants, {} votes ({} in the history) into {slug}",
        summary.statements, summary.participants, summary.votes, summary.history
    );
    let c = samskab::services::consultations::find_by_slug(&db, slug)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("consultation {slug} disappeared"))?;
    let kind = if matches!(
        c.status,
        samskab::domain::ConsultationStatus::Open | samskab::domain::ConsultationStatus::Draft
    ) {
        snapshots::Kind::Warm
    } else {
        snapshots::Kind::Final
    };
    snapshots::recompute(&db, c.id, kind, snapshots::LockMode::Wait)
        .await
        .map_err(|e| anyhow::anyhow!("computing the opinion groups: {e}"))?;
    println!("opinion snapshot stored ({})", kind.as_str());
    Ok(())
}

async fn create_admin(settings: Settings, email: &str, display_name: &str) -> anyhow::Result<()> {
    let email = users::parse_email(email).map_err(|k| anyhow::anyhow!("invalid email ({k})"))?;
    let display_name = users::parse_display_name(display_name)
        .map_err(|k| anyhow::anyhow!("invalid display name ({k})"))?;
    eprintln!(
        "Password for {email} (at least {} characters), then Enter:",
        users::PASSWORD_MIN
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        pw.chars().count() >= users::PASSWORD_MIN,
        "the password must have at least {} characters",
        users::PASSWORD_MIN
    );
    let db = samskab::db::connect(&settings).await?;
    samskab::db::migrate(&db).await?;
    anyhow::ensure!(
        users::find_by_email(&db, &email)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .is_none(),
        "an account with {email} exists already"
    );
    let hash = password::hash_blocking(pw).await?;
    let user = users::create(
        &db,
        &display_name,
        &email,
        &hash,
        Role::Admin,
        Locale::Da,
        true,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("administrator {} created (id {})", email, user.id);
    Ok(())
}

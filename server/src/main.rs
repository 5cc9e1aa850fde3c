//! The `hallway` binary: parse the configuration, set up logging, run until Ctrl-C or
//! SIGTERM.

use anyhow::Context;
use clap::Parser;
use hallway::access::TokenRole;
use hallway::clock::now_secs;
use hallway::config::{Command, Config, InviteArgs, LinkArgs, LogFormat, PrintLinks};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    init_logging(config.log_format);
    // Each connection is a file descriptor; many systems start processes with a soft limit
    // of 1024 but allow far more. Take what the hard limit allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open file limit"),
        Err(err) => tracing::warn!(%err, "cannot raise the open file limit"),
    }

    match &config.command {
        Some(Command::Link(args)) => return print_link(&config, args),
        Some(Command::Invite(args)) => return write_invitations(&config, args),
        Some(Command::Health) => {
            let addr = hallway::cli::local_addr(config.bind, config.port);
            if let Err(err) = hallway::cli::health(addr) {
                eprintln!("unhealthy: {err}");
                std::process::exit(1);
            }
            println!("healthy");
            return Ok(());
        }
        Some(Command::Room(command)) => {
            let shared = hallway::server::shared(&config).context("opening the room store")?;
            let catalogue =
                hallway::catalogue::Catalogue::new(shared.store.clone(), config.room_defaults(""));
            print!("{}", hallway::cli::room_command(&catalogue, command)?);
            return Ok(());
        }
        None => {}
    }

    // Listen for SIGTERM before saying where we listen: a supervisor (or a test) may send
    // it the moment it reads the banner.
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let mut server = hallway::start(config.clone())
        .await
        .context("starting the server")?;
    let addr = server.local_addr;
    let shown = if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    print!("{}", banner(&config, &server));
    if let Some(metrics) = server.metrics_addr {
        println!("Metrics: http://{metrics}/metrics");
    }
    // The "listening on" line comes last: scripts and tests wait for it.
    println!(
        "Hallway {} is listening on http://{shown}",
        env!("CARGO_PKG_VERSION")
    );

    tokio::select! {
        result = server.wait() => result.context("serving")?,
        () = stop_signal(
            #[cfg(unix)]
            &mut terminate,
        ) => {
            tracing::info!("shutting down");
            server.shutdown().await.context("shutting down")?;
        }
    }
    Ok(())
}

/// What the organiser needs at start: each room's link for participants and, on an
/// interactive terminal (never into a log), its host link. Both from `public_base`, like
/// `hallway link`'s.
fn banner(config: &Config, server: &hallway::RunningServer) -> String {
    use std::io::IsTerminal;
    let base = config.public_base(server.local_addr.port());
    let show_hosts = match config.print_links {
        PrintLinks::Always => true,
        PrintLinks::Never => false,
        PrintLinks::Auto => config.log_format == LogFormat::Text && std::io::stdout().is_terminal(),
    };
    let mut out = String::new();
    for room in &config.rooms {
        out.push_str(&format!(
            "Room {room}: participants join at {base}/r/{room}\n"
        ));
        if config.oidc.oidc_issuer.is_some() {
            out.push_str(&format!(
                "  Hosts sign in at {base}/r/{room}/host (with the identity provider)\n"
            ));
        }
        if show_hosts {
            let host = server
                .tokens
                .mint(room, TokenRole::Host, None, now_secs() + 30 * 24 * 3600);
            out.push_str(&format!(
                "  Host link for {room} (gives host rights for 30 days; keep it private): {base}/r/{room}#token={host}\n"
            ));
        }
    }
    if !show_hosts {
        out.push_str(
            "Host links are not printed into logs; make one with: hallway link --role host --room <room>\n",
        );
    }
    out
}

/// `hallway link`: prints a signed link, using the same secret as the server.
fn print_link(config: &Config, args: &LinkArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.name {
        hallway::room::model::DisplayName::parse(name).context("--name")?;
    }
    // The line as it will show (trimmed; blank is none, and leaves the person's own).
    let profile = args
        .profile
        .as_deref()
        .map(hallway::room::model::ProfileLine::parse)
        .transpose()
        .context("--profile")?
        .flatten();
    if !hallway::rooms::is_valid_slug(&args.room) {
        anyhow::bail!("--room: room slugs are 1 to 64 characters of a-z, 0-9 and -");
    }
    let tokens = hallway::server::shared(config)
        .context("loading the secret")?
        .tokens;
    let expires = now_secs() + args.valid_hours.saturating_mul(3600);
    let token = tokens.mint_fixed(
        &args.room,
        args.role,
        args.name.as_deref(),
        profile.as_ref().map(|l| l.as_str()),
        expires,
    );
    println!(
        "{}/r/{}#token={token}",
        config.public_base(config.port),
        args.room
    );
    Ok(())
}

/// `hallway invite`: a personal link for every attendee of a CSV list.
fn write_invitations(config: &Config, args: &InviteArgs) -> anyhow::Result<()> {
    if !hallway::rooms::is_valid_slug(&args.room) {
        anyhow::bail!("--room: room slugs are 1 to 64 characters of a-z, 0-9 and -");
    }
    let tokens = hallway::server::shared(config)
        .context("loading the secret")?
        .tokens;
    let input = std::fs::File::open(&args.csv)
        .with_context(|| format!("opening {}", args.csv.display()))?;
    let expires = now_secs() + args.valid_hours.saturating_mul(3600);
    let base = config.public_base(config.port);
    let written = match &args.out {
        Some(path) => {
            let output = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            hallway::invitations::write_invitations(
                input,
                output,
                &tokens,
                &base,
                &args.room,
                expires,
                &args.profile_columns,
            )?
        }
        None => hallway::invitations::write_invitations(
            input,
            std::io::stdout().lock(),
            &tokens,
            &base,
            &args.room,
            expires,
            &args.profile_columns,
        )?,
    };
    // Say which columns became the profile line, so that a list whose organisation column
    // went unrecognised is noticed before the links go out.
    let lines = if written.profile_columns.is_empty() {
        "no profile lines (no organisation or topics column found; see --profile-column)".to_owned()
    } else {
        format!("profile lines from {}", written.profile_columns.join(" + "))
    };
    eprintln!(
        "{} invitations for {}; {lines}",
        written.invitations, args.room
    );
    Ok(())
}

fn init_logging(format: LogFormat) {
    let asked = std::env::var("HALLWAY_LOG").unwrap_or_else(|_| "info".into());
    // The WebRTC stack warns about every unsupported DTLS extension and early packet; its
    // own messages are only errors unless HALLWAY_LOG names its crates.
    let quiet = "rtc=error,rtc_dtls=error,rtc_ice=error,rtc_srtp=error,rtc_sctp=error,rtc_interceptor=error";
    let mut directives = if asked.contains("rtc") {
        asked.clone()
    } else {
        format!("{asked},{quiet}")
    };
    // The TURN crate logs every client mistake (a bad password, a repeated Allocate whose
    // answer was lost: normal in use) as an ERROR per datagram; the server's TURN gate
    // logs those at debug level, rate-limited, instead.
    if !asked.contains("turn") {
        directives.push_str(",turn=off");
    }
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to standard error; standard output carries only the start-up banner.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn stop_signal(#[cfg(unix)] terminate: &mut tokio::signal::unix::Signal) {
    let ctrl_c = async {
        // If the handler cannot be installed we simply never stop on Ctrl-C.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        terminate.recv().await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

//! `hallway-bench`: runs one benchmark scenario and prints its figures, one per line.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};
use hallway_bench::Report;
use hallway_bench::scenario::{cluster, idle, relay, room, sfu};

/// Load generator and benchmarks for Hallway.
#[derive(Debug, Parser)]
#[command(name = "hallway-bench")]
struct Cli {
    /// The hallway binary to start (default: the one next to this program).
    #[arg(long, global = true)]
    server: Option<PathBuf>,
    /// Also print the figures as one JSON document.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// 1,500 participants in one room.
    #[command(name = "room-1500")]
    Room1500 {
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// 10,000 participants in one room, every page showing a laptop's screen of the floor.
    #[command(name = "room-10000")]
    Room10000 {
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// 5,000 participants in one room.
    #[command(name = "room-5000")]
    Room5000 {
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// 5,000 participants in one room, spread over the nodes of a cluster (Redis and the
    /// nodes are started on this machine).
    #[command(name = "room-5000-cluster")]
    Room5000Cluster {
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
    },
    /// Any number of participants in one room, spread over the nodes of a cluster.
    #[command(name = "room-cluster")]
    RoomCluster {
        /// Participants.
        #[arg(long)]
        clients: usize,
        /// Nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// A big room's owner's CPU against the number of people relayed to it from other
    /// nodes (one participant joins through the owner, all others through entry nodes).
    #[command(name = "cluster-fanout")]
    ClusterFanout {
        /// Participants to try, in order (a fresh cluster for each).
        #[arg(long, value_delimiter = ',', default_values_t = [1000, 2000, 3000, 4000, 5000])]
        steps: Vec<usize>,
        /// Entry nodes.
        #[arg(long, default_value_t = 1)]
        entry_nodes: usize,
        /// Measured seconds per step.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Any number of participants in one room.
    Room {
        /// Participants.
        #[arg(long)]
        clients: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Every page says it shows a laptop's screen of the floor (`view`).
        #[arg(long)]
        views: bool,
    },
    /// Participants who all walk, measured without and then with clients that stop
    /// reading: whether slow consumers cost the others anything.
    #[command(name = "slow-consumer")]
    SlowConsumer {
        /// Participants who walk and read.
        #[arg(long, default_value_t = 200)]
        clients: usize,
        /// Participants who never read.
        #[arg(long, default_value_t = 10)]
        stuck: usize,
        /// Measured seconds per run.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// 20,000 idle connections: memory per connection.
    #[command(name = "idle-20k")]
    Idle20k,
    /// Any number of idle connections.
    Idle {
        /// Connections.
        #[arg(long)]
        connections: usize,
    },
    /// Holds a share of the idle connections for `idle` (started by it, not by hand).
    #[command(name = "idle-worker", hide = true)]
    IdleWorker {
        /// The server.
        #[arg(long)]
        addr: std::net::SocketAddr,
        /// Number of the first connection.
        #[arg(long)]
        first: usize,
        /// Connections to hold.
        #[arg(long)]
        connections: usize,
        /// Rooms to spread them over.
        #[arg(long, value_delimiter = ',')]
        rooms: Vec<String>,
    },
    /// One publisher at 1.5 Mbps through the SFU to a growing number of listeners.
    Sfu {
        /// Listener counts to try, in order (stops at the first over 1% loss).
        #[arg(long, value_delimiter = ',', default_values_t = sfu::SfuOptions::new().steps)]
        steps: Vec<usize>,
        /// Measured seconds per step.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The publisher's camera in three layers (320 × 180, 640 × 360, 1280 × 720);
        /// a third of the listeners show it small, a third middle-sized, a third large.
        #[arg(long)]
        simulcast: bool,
    },
    /// Pairs exchanging signalling, against Hallway and the PeerJS server.
    Relay {
        /// Pairs of clients.
        #[arg(long, default_value_t = 1000)]
        pairs: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Scenario::IdleWorker {
        addr,
        first,
        connections,
        rooms,
    } = &cli.scenario
    {
        return idle::worker(*addr, *first, *connections, rooms);
    }
    let binary = match cli.server {
        Some(path) => path,
        None => hallway_bench::spawn::default_hallway_binary()?,
    };
    let room = |name: &str, clients: usize, seconds: u64, views: bool| {
        let mut opts = room::RoomOptions::new(clients);
        opts.duration = Duration::from_secs(seconds);
        opts.view = views.then_some(room::LAPTOP_VIEW);
        room::run(&binary, name, &opts).map(|r| vec![r])
    };
    let cluster = |name: &str, clients: usize, nodes: usize, seconds: u64| {
        let mut opts = room::RoomOptions::new(clients);
        opts.duration = Duration::from_secs(seconds);
        cluster::run(&binary, name, &opts, nodes).map(|r| vec![r])
    };
    let reports: Vec<Report> = match cli.scenario {
        Scenario::Room5000Cluster { seconds, nodes } => {
            cluster("room-5000-cluster", 5000, nodes, seconds)?
        }
        Scenario::RoomCluster {
            clients,
            nodes,
            seconds,
        } => cluster(&format!("room-{clients}-cluster"), clients, nodes, seconds)?,
        Scenario::ClusterFanout {
            steps,
            entry_nodes,
            seconds,
        } => cluster::fanout(&binary, &steps, entry_nodes, Duration::from_secs(seconds))?,
        Scenario::Room1500 { seconds } => room("room-1500", 1500, seconds, false)?,
        Scenario::Room5000 { seconds } => room("room-5000", 5000, seconds, false)?,
        Scenario::Room10000 { seconds } => room("room-10000", 10_000, seconds, true)?,
        Scenario::Room {
            clients,
            seconds,
            views,
        } => room(&format!("room-{clients}"), clients, seconds, views)?,
        Scenario::SlowConsumer {
            clients,
            stuck,
            seconds,
        } => {
            let mut opts = room::RoomOptions::new(clients);
            opts.duration = Duration::from_secs(seconds);
            room::slow_consumer(&binary, opts, stuck)?
        }
        Scenario::Idle20k => vec![idle::run(&binary, "idle-20k", 20_000)?],
        Scenario::Idle { connections } => vec![idle::run(
            &binary,
            &format!("idle-{connections}"),
            connections,
        )?],
        Scenario::IdleWorker { .. } => unreachable!("handled above"),
        Scenario::Sfu {
            steps,
            seconds,
            simulcast,
        } => {
            let mut opts = sfu::SfuOptions::new();
            opts.steps = steps;
            opts.simulcast = simulcast;
            opts.duration = Duration::from_secs(seconds);
            sfu::run(&binary, &opts)?
        }
        Scenario::Relay { pairs, seconds } => {
            let mut opts = relay::RelayOptions::new(pairs);
            opts.duration = Duration::from_secs(seconds);
            relay::run(&binary, &opts)?
        }
    };
    for report in &reports {
        print!("{}", report.to_lines());
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

//! `room-N-cluster`: the `room-N` scenario against a cluster: Redis and several `hallway`
//! nodes on this machine, participants spread evenly over the nodes (the first node a
//! participant comes through owns the room; the others relay to it). Besides `room-N`'s
//! figures it prints the move→seen time between participants on different nodes and
//! Redis's CPU.
//!
//! `cluster-fanout`: how a big room's owner's work grows with the people relayed to it.
//! One participant joins through the owner, everyone else through entry nodes, each page
//! showing a laptop's screen of the floor; for each step (1,000 to 5,000 people) the
//! owner's CPU and the entry nodes' are printed apart.

use std::path::Path;

use anyhow::Result;

use super::room::{self, Floor, LAPTOP_VIEW, RoomOptions, Servers};
use crate::report::Report;
use crate::{procstat, spawn};

/// Runs `room-N` on `nodes` nodes sharing one Redis.
pub fn run(binary: &Path, name: &str, opts: &RoomOptions, nodes: usize) -> Result<Report> {
    let people = opts.clients + opts.churners + opts.stuck;
    // Every participant holds a socket here and one on its node, and a relayed one
    // nothing more on the owner (it is tunnelled through Redis).
    procstat::raise_fd_limit(people as u64 * 2 + 1024);
    let floor = Floor::for_people(people);
    let redis = spawn::redis()?;
    let url = format!("redis://{}/", redis.addr);
    let mut env = room::room_env(people, floor, opts.tick_hz);
    env.push(("HALLWAY_REDIS_URL", url));
    let nodes: Vec<spawn::Target> = (0..nodes.max(1))
        .map(|_| spawn::hallway(binary, &env))
        .collect::<Result<_>>()?;
    let servers = Servers {
        addrs: nodes.iter().map(|n| n.addr).collect(),
        pids: nodes.iter().map(spawn::Target::pid).collect(),
        redis_pid: Some(redis.pid()),
    };
    let report = room::run_on(servers, name, opts, floor)?;
    drop(nodes);
    drop(redis);
    Ok(report)
}

/// Runs `cluster-fanout`: for each number of participants in `steps`, a fresh cluster of
/// Redis, an owner and `entry_nodes` nodes relaying everyone but one to it.
pub fn fanout(
    binary: &Path,
    steps: &[usize],
    entry_nodes: usize,
    duration: std::time::Duration,
) -> Result<Vec<Report>> {
    let mut reports = Vec::new();
    for &people in steps {
        let mut opts = RoomOptions::new(people);
        opts.duration = duration;
        opts.view = Some(LAPTOP_VIEW);
        opts.relayed = true;
        // Churners would join through the owner too: the step is about relayed people.
        opts.churners = 0;
        let report = run(
            binary,
            &format!("cluster-fanout-{people}"),
            &opts,
            1 + entry_nodes.max(1),
        )?;
        // As it goes (a full run takes minutes); all again at the end.
        eprintln!("{}", report.to_lines());
        reports.push(report);
    }
    Ok(reports)
}

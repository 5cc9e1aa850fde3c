//! A tiny run of every benchmark scenario, so that the load generator does not rot. The
//! figures are printed (run with `--nocapture` to see them), never asserted: performance is
//! judged by the real benchmarks in `docs/benchmarks.md`. What is asserted is that each
//! scenario measured something.

use std::time::Duration;

use anyhow::Result;
use hallway_bench::scenario::{cluster, idle, relay, room, sfu};
use hallway_tests::process::binary_path;

#[test]
fn room_scenario_runs() -> Result<()> {
    let mut opts = room::RoomOptions::new(40);
    opts.duration = Duration::from_secs(3);
    opts.warmup = Duration::from_millis(500);
    let report = room::run(&binary_path()?, "room-40", &opts)?;
    print!("{}", report.to_lines());
    assert!(
        report.get("move_seen_samples").is_some_and(|n| n > 0.0),
        "no move was seen"
    );
    assert!(report.get("delivered_per_s").is_some_and(|n| n > 0.0));
    Ok(())
}

#[test]
fn cluster_scenario_runs() -> Result<()> {
    let mut opts = room::RoomOptions::new(60);
    opts.duration = Duration::from_secs(3);
    opts.warmup = Duration::from_millis(500);
    let report = cluster::run(&binary_path()?, "room-60-cluster", &opts, 3)?;
    print!("{}", report.to_lines());
    assert!(
        report
            .get("move_seen_cross_node_samples")
            .is_some_and(|n| n > 0.0),
        "no move was seen across nodes"
    );
    assert!(report.get("redis_cpu").is_some());
    Ok(())
}

#[test]
fn slow_consumer_scenario_runs() -> Result<()> {
    let mut opts = room::RoomOptions::new(30);
    opts.duration = Duration::from_secs(3);
    opts.warmup = Duration::from_millis(500);
    let reports = room::slow_consumer(&binary_path()?, opts, 2)?;
    for report in &reports {
        print!("{}", report.to_lines());
    }
    assert!(
        reports[2]
            .get("move_seen_p99_ratio")
            .is_some_and(f64::is_finite),
        "no comparison"
    );
    Ok(())
}

#[test]
fn idle_scenario_runs() -> Result<()> {
    let report = idle::run(&binary_path()?, "idle-200", 200)?;
    print!("{}", report.to_lines());
    assert!(
        report
            .get("rss_per_connection")
            .is_some_and(|kib| kib > 0.0)
    );
    Ok(())
}

#[test]
fn relay_scenario_runs_against_hallway_and_peerjs() -> Result<()> {
    let mut opts = relay::RelayOptions::new(10);
    opts.duration = Duration::from_secs(2);
    opts.warmup = Duration::from_millis(300);
    let reports = relay::run(&binary_path()?, &opts)?;
    for report in &reports {
        print!("{}", report.to_lines());
    }
    assert!(
        reports[0].get("throughput").is_some_and(|n| n > 0.0),
        "nothing relayed by hallway"
    );
    assert!(
        reports[1].get("throughput").is_some_and(|n| n > 0.0),
        "nothing relayed by peerjs"
    );
    Ok(())
}

#[test]
fn sfu_scenario_runs() -> Result<()> {
    let mut opts = sfu::SfuOptions::new();
    opts.steps = vec![3];
    opts.duration = Duration::from_secs(2);
    let reports = sfu::run(&binary_path()?, &opts)?;
    for report in &reports {
        print!("{}", report.to_lines());
    }
    assert!(
        reports[0].get("forwarded").is_some_and(|mbps| mbps > 0.0),
        "nothing was forwarded"
    );
    Ok(())
}

/// The camera in three layers: each of three listeners, telling a small, a middle-sized
/// and no view, receives the layer that fits (known by its keyframes' size).
#[test]
fn sfu_scenario_with_simulcast_gives_each_listener_its_layer() -> Result<()> {
    let mut opts = sfu::SfuOptions::new();
    opts.steps = vec![3];
    opts.duration = Duration::from_secs(5);
    opts.simulcast = true;
    let reports = sfu::run(&binary_path()?, &opts)?;
    for report in &reports {
        print!("{}", report.to_lines());
    }
    for size in ["320x180", "640x360", "1280x720"] {
        assert_eq!(
            reports[0].get(&format!("receiving_{size}")),
            Some(1.0),
            "one listener receives {size}"
        );
    }
    Ok(())
}

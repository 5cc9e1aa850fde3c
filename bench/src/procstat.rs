//! What a process costs, read from `/proc`: CPU seconds and resident memory.

use std::io;

/// Clock ticks per second in `/proc/<pid>/stat` (USER_HZ, 100 on every Linux we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system) a process has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces; fields after its closing parenthesis are fixed.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("odd stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3 of stat, utime 14 and stime 15, so 11 and 12 here.
    let parse = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .ok_or_else(|| io::Error::other("odd stat"))
    };
    Ok((parse(11)? + parse(12)?) / TICKS_PER_SECOND)
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`, ...).
pub fn status_kib(pid: u32, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .ok_or_else(|| io::Error::other(format!("no {field} in status")))
}

/// Resident memory now, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    status_kib(pid, "VmRSS")
}

/// Peak resident memory, in KiB.
pub fn peak_rss_kib(pid: u32) -> io::Result<u64> {
    status_kib(pid, "VmHWM")
}

/// Raises this process's open-file limit as far as it may go (child processes inherit it).
pub fn raise_fd_limit(want: u64) -> u64 {
    use rlimit::Resource;
    // As root the hard limit can be raised too; otherwise take the hard limit.
    if let Ok((_, hard)) = Resource::NOFILE.get() {
        if hard < want {
            let _ = Resource::NOFILE.set(want, want);
        }
    }
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_figures() {
        let me = std::process::id();
        assert!(cpu_seconds(me).expect("cpu") >= 0.0);
        assert!(rss_kib(me).expect("rss") > 0);
        assert!(peak_rss_kib(me).expect("hwm") >= rss_kib(me).expect("rss") / 2);
    }
}

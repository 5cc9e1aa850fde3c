//! The organiser summary: aggregate figures of a room's day, for its hosts. Counters, two
//! bounded histograms and a bounded time series; no names, no ids, no pairs, so that it
//! may be written down (an operator's choice, `--keep-summary`) without keeping anything
//! about a person.
//!
//! Pure: the room notes what it sees with the time passed in
//! ([`crate::room::Room::note_summary`]); nothing here reads a clock.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most samples kept: past this, neighbours merge and the spacing doubles, so that the
/// whole day fits in a bounded series (six hours at one a minute, a day at one every four).
pub(crate) const MAX_SAMPLES: usize = 360;

/// Durations are counted to the second below [`EXACT_UNTIL_S`], in buckets of
/// [`FINE_STEP_S`] up to [`FINE_UNTIL_S`] and of a minute after; the longest counted is
/// [`LONGEST_S`] (longer ones count as that long). This keeps the histogram below 1 600
/// entries however long the room runs.
const EXACT_UNTIL_S: u64 = 60;
const FINE_STEP_S: u64 = 10;
const FINE_UNTIL_S: u64 = 600;
const LONGEST_S: u64 = 24 * 60 * 60;

/// The largest circle size counted (a room's circles are at most 64; see the settings).
const LARGEST_SIZE: u32 = 1024;

/// One point of the chart: how many people were in the room and in circles at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// When, in milliseconds since the Unix epoch.
    pub at: u64,
    /// People in the room.
    pub participants: u32,
    /// People in a circle.
    pub in_circles: u32,
}

/// A circle open now, as the summary follows it (by the room's circle id, in memory only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCircle {
    /// When it was first noted.
    pub since: u64,
    /// The most members it had at once.
    pub largest: u32,
}

/// The summary's figures at a moment: what hosts are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// When.
    pub at: u64,
    /// People in the room now.
    pub participants: u32,
    /// People in a circle now.
    pub in_circles: u32,
    /// Circles open now.
    pub circles: u32,
    /// Median largest size of the circles, ended and open.
    pub median_circle_size: Option<u32>,
    /// Median time circles lasted (open ones so far), in seconds.
    pub median_circle_s: Option<u64>,
    /// The running figures.
    pub summary: Summary,
}

/// The aggregates, as they can be written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Since when the figures run.
    pub since: u64,
    /// The most people in the room at once, and when that was first reached.
    pub peak: u32,
    /// When the peak was first reached.
    pub peak_at: u64,
    /// People who came in (each participant once).
    pub arrived: u32,
    /// Of them, those who were in at least one circle.
    pub circled: u32,
    /// Circles formed.
    pub circles_formed: u32,
    /// Circles that have ended, by their largest size: size → how many.
    pub sizes: BTreeMap<u32, u32>,
    /// Circles that have ended, by how long they lasted (the bucket's start, in seconds)
    /// → how many.
    pub durations: BTreeMap<u64, u32>,
    /// The chart, oldest first, at most [`MAX_SAMPLES`].
    pub samples: Vec<Sample>,
    /// Milliseconds between samples now (the configured spacing, doubled per merge).
    pub every_ms: u64,
}

impl Summary {
    /// Figures starting at `now_ms`, a sample every `every_ms`.
    pub fn new(now_ms: u64, every_ms: u64) -> Summary {
        Summary {
            since: now_ms,
            peak: 0,
            peak_at: now_ms,
            arrived: 0,
            circled: 0,
            circles_formed: 0,
            sizes: BTreeMap::new(),
            durations: BTreeMap::new(),
            samples: Vec::new(),
            every_ms: every_ms.max(1000),
        }
    }

    /// Figures taken up again (kept on disk, or in a cluster's room state) with a
    /// spacing of at least `every_ms`; a damaged record's series is cut to the cap.
    pub fn resumed(mut self, every_ms: u64) -> Summary {
        self.every_ms = self.every_ms.max(every_ms).max(1000);
        self.samples.truncate(MAX_SAMPLES);
        self
    }

    /// Notes how many people are in the room and in circles at `now_ms`: the peak, and a
    /// sample when one is due.
    pub fn note_people(&mut self, now_ms: u64, participants: u32, in_circles: u32) {
        if participants > self.peak {
            self.peak = participants;
            self.peak_at = now_ms;
        }
        let due = self
            .samples
            .last()
            .is_none_or(|last| now_ms >= last.at.saturating_add(self.every_ms));
        if due {
            self.samples.push(Sample {
                at: now_ms,
                participants,
                in_circles,
            });
            if self.samples.len() > MAX_SAMPLES {
                self.halve();
            }
        }
    }

    /// Merges neighbouring samples (keeping the first of each pair) and doubles the
    /// spacing: the series stays bounded and still covers the whole day.
    fn halve(&mut self) {
        let mut k = 0;
        self.samples.retain(|_| {
            k += 1;
            k % 2 == 1
        });
        self.every_ms = self.every_ms.saturating_mul(2);
    }

    /// Counts a circle that has ended: its largest size and how long it lasted.
    pub fn circle_ended(&mut self, circle: OpenCircle, now_ms: u64) {
        *self
            .sizes
            .entry(circle.largest.min(LARGEST_SIZE))
            .or_default() += 1;
        let lasted = now_ms.saturating_sub(circle.since) / 1000;
        *self.durations.entry(duration_bucket(lasted)).or_default() += 1;
    }

    /// The median of the circles' largest sizes, the ended ones and those `open` now.
    pub fn median_size<'a>(&self, open: impl Iterator<Item = &'a OpenCircle>) -> Option<u32> {
        let mut all = self.sizes.clone();
        for circle in open {
            *all.entry(circle.largest.min(LARGEST_SIZE)).or_default() += 1;
        }
        median(&all)
    }

    /// The median of how long circles lasted, in seconds: the ended ones by their
    /// bucket, and those `open` now with their time so far.
    pub fn median_duration_s<'a>(
        &self,
        open: impl Iterator<Item = &'a OpenCircle>,
        now_ms: u64,
    ) -> Option<u64> {
        let mut all = self.durations.clone();
        for circle in open {
            let so_far = now_ms.saturating_sub(circle.since) / 1000;
            *all.entry(duration_bucket(so_far)).or_default() += 1;
        }
        median(&all)
    }
}

/// The bucket a duration (seconds) is counted in: the second for the first minute,
/// ten-second steps up to ten minutes, whole minutes after, at most a day.
fn duration_bucket(seconds: u64) -> u64 {
    let seconds = seconds.min(LONGEST_S);
    if seconds < EXACT_UNTIL_S {
        seconds
    } else if seconds < FINE_UNTIL_S {
        seconds - seconds % FINE_STEP_S
    } else {
        seconds - seconds % 60
    }
}

/// The lower median of a histogram (value → count): the value at rank ⌈n/2⌉.
fn median<T: Copy>(histogram: &BTreeMap<T, u32>) -> Option<T> {
    let n: u64 = histogram.values().map(|&c| u64::from(c)).sum();
    if n == 0 {
        return None;
    }
    let rank = n.div_ceil(2);
    let mut seen = 0u64;
    for (&value, &count) in histogram {
        seen += u64::from(count);
        if seen >= rank {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_stays_bounded_and_covers_the_whole_day() {
        let mut summary = Summary::new(0, 60_000);
        // Two days at one note a second.
        for s in 0..(2 * 24 * 3600u64) {
            summary.note_people(s * 1000, (s % 50) as u32, 0);
        }
        assert!(summary.samples.len() <= MAX_SAMPLES);
        assert!(summary.samples.len() > MAX_SAMPLES / 2);
        assert_eq!(summary.samples[0].at, 0);
        let last = summary.samples.last().expect("samples").at;
        assert!(last >= 2 * 24 * 3600 * 1000 - summary.every_ms);
        assert_eq!(summary.peak, 49);
        // Still in order.
        assert!(summary.samples.windows(2).all(|w| w[0].at < w[1].at));
    }

    #[test]
    fn a_sample_a_minute() {
        let mut summary = Summary::new(0, 60_000);
        for s in 0..=180u64 {
            summary.note_people(s * 1000, 3, 2);
        }
        let at: Vec<u64> = summary.samples.iter().map(|s| s.at).collect();
        assert_eq!(at, vec![0, 60_000, 120_000, 180_000]);
    }

    #[test]
    fn medians_of_sizes_and_durations_count_open_circles_so_far() {
        let mut summary = Summary::new(0, 60_000);
        assert_eq!(summary.median_size([].iter()), None);
        assert_eq!(summary.median_duration_s([].iter(), 0), None);
        for (largest, lasted_s) in [(2, 30), (2, 65), (3, 300), (5, 1500)] {
            summary.circle_ended(OpenCircle { since: 0, largest }, lasted_s * 1000);
        }
        // Ended: sizes 2 2 3 5, durations 30 60 300 1500 (buckets).
        assert_eq!(summary.median_size([].iter()), Some(2));
        assert_eq!(summary.median_duration_s([].iter(), 0), Some(60));
        let open = [OpenCircle {
            since: 1_000_000,
            largest: 4,
        }];
        // With an open circle of 4 for 1000 s so far: 2 2 3 4 5 and 30 60 300 1000 1500.
        assert_eq!(summary.median_size(open.iter()), Some(3));
        assert_eq!(summary.median_duration_s(open.iter(), 2_000_000), Some(300));
    }

    #[test]
    fn durations_are_bucketed_and_capped() {
        assert_eq!(duration_bucket(0), 0);
        assert_eq!(duration_bucket(59), 59);
        assert_eq!(duration_bucket(65), 60);
        assert_eq!(duration_bucket(599), 590);
        assert_eq!(duration_bucket(659), 600);
        assert_eq!(duration_bucket(10 * 24 * 3600), 24 * 3600);
    }

    #[test]
    fn taken_up_again_it_keeps_its_figures_and_cap() {
        let mut summary = Summary::new(5, 60_000);
        summary.arrived = 7;
        summary.samples = vec![
            Sample {
                at: 1,
                participants: 1,
                in_circles: 0
            };
            MAX_SAMPLES + 40
        ];
        let json = serde_json::to_string(&summary).expect("writes");
        let back: Summary = serde_json::from_str(&json).expect("reads");
        let back = back.resumed(1000);
        assert_eq!(back.arrived, 7);
        assert_eq!(back.since, 5);
        assert_eq!(back.every_ms, 60_000);
        assert_eq!(back.samples.len(), MAX_SAMPLES);
    }
}

//! The figures a scenario measured: printed one per line, optionally as JSON.

use serde::Serialize;

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What was measured, e.g. `move_seen_p99`.
    pub name: String,
    /// The value (NaN when nothing was measured).
    pub value: f64,
    /// Unit, e.g. `ms`.
    pub unit: String,
}

/// Everything a scenario run measured.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The figures, in the order measured.
    pub figures: Vec<Figure>,
}

impl Report {
    /// An empty report for a scenario.
    pub fn new(scenario: &str) -> Report {
        Report {
            scenario: scenario.to_owned(),
            figures: Vec::new(),
        }
    }

    /// Adds a figure; `None` (nothing measured) is recorded as NaN.
    pub fn add(&mut self, name: &str, value: impl Into<Option<f64>>, unit: &str) {
        self.figures.push(Figure {
            name: name.to_owned(),
            value: value.into().unwrap_or(f64::NAN),
            unit: unit.to_owned(),
        });
    }

    /// A figure by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }

    /// One line per figure: `scenario name: value unit`.
    pub fn to_lines(&self) -> String {
        let mut out = String::new();
        for f in &self.figures {
            let value = if f.value.is_nan() {
                "n/a".to_owned()
            } else if f.value.abs() >= 100.0 || f.value.fract() == 0.0 {
                format!("{:.0}", f.value)
            } else {
                format!("{:.2}", f.value)
            };
            out.push_str(&format!(
                "{} {}: {} {}\n",
                self.scenario, f.name, value, f.unit
            ));
        }
        out
    }
}

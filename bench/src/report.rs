//! Latency samples, the machine they were taken on, and the sections of
//! `docs/benchmarks.md`, each scenario replacing only its own.

use std::{path::Path, time::Duration};

/// One scenario's results as Markdown, between its markers in the file.
pub struct Section {
    pub name: &'static str,
    pub markdown: String,
    /// What missed the scenario's goal; the command fails when any did.
    pub problems: Vec<String>,
}

/// Latencies of one variant, in the order they were taken.
#[derive(Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, took: Duration) {
        self.0.push(took);
    }

    /// The `p`-th percentile (0–100), nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    /// The `p`th percentile in milliseconds, or "none" where nothing was
    /// measured (a delivery nobody heard has no delay of 0).
    pub fn ms_at(&self, p: f64) -> String {
        if self.0.is_empty() {
            "none".to_string()
        } else {
            ms(self.percentile(p))
        }
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// What the figures were measured on.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".to_string());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("PRETTY_NAME="))
                .map(|l| {
                    l.trim_start_matches("PRETTY_NAME=")
                        .trim_matches('"')
                        .to_string()
                })
        })
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {memory}, {os}")
}

/// Replaces the section between `<!-- <name>:begin -->` and
/// `<!-- <name>:end -->` in `path` (appended when absent).
pub fn write_section(path: &Path, section: &Section) -> anyhow::Result<()> {
    let begin = format!("<!-- {}:begin -->", section.name);
    let end = format!("<!-- {}:end -->", section.name);
    let block = format!("{begin}\n{}\n{end}", section.markdown.trim_end());
    let current = std::fs::read_to_string(path).unwrap_or_else(|_| {
        "# Benchmarks\n\nFigures from `scripts/bench` on release builds: each one beside its \
         baseline, measured in the same run. Each scenario rewrites its own section.\n"
            .to_string()
    });
    let updated = match (current.find(&begin), current.find(&end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!(
                "{}{block}{}",
                &current[..start],
                &current[stop + end.len()..]
            )
        }
        _ => format!("{}\n\n{block}\n", current.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut samples = Samples::default();
        for ms in [5, 1, 4, 2, 3] {
            samples.push(Duration::from_millis(ms));
        }
        assert_eq!(samples.median(), Duration::from_millis(3));
        assert_eq!(samples.percentile(100.0), Duration::from_millis(5));
        assert_eq!(samples.percentile(1.0), Duration::from_millis(1));
        assert_eq!(samples.ms_at(50.0), "3.00");
        assert_eq!(Samples::default().ms_at(50.0), "none");
    }

    #[test]
    fn a_section_replaces_only_itself() {
        let path = std::env::temp_dir().join(format!("bench-{}.md", uuid::Uuid::new_v4()));
        std::fs::write(
            &path,
            "# B\n\n<!-- other:begin -->\nkeep\n<!-- other:end -->\n",
        )
        .unwrap();
        let section = |text: &str| Section {
            name: "dashboard",
            markdown: text.to_string(),
            problems: Vec::new(),
        };
        write_section(&path, &section("first")).unwrap();
        write_section(&path, &section("second")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(text.contains("keep"));
        assert!(text.contains("second") && !text.contains("first"));
    }
}

//! What Linux tells of a process in `/proc`: its CPU time and its resident
//! memory. PostgreSQL is counted as all its processes together (one per
//! connection, plus its background workers).

use anyhow::Context;
use salesync_tests::OwnBroker;

/// Linux counts CPU time in USER_HZ, 100 per second on every platform it
/// exposes to user space this way.
pub const TICKS_PER_SECOND: f64 = 100.0;

/// The user and system CPU time a process has used, in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    stat_ticks(&stat).with_context(|| format!("/proc/{pid}/stat"))
}

/// The CPU time every process named `postgres` has used, in clock ticks.
/// Backends that ended meanwhile are not counted: the benchmarks hold their
/// connections in pools.
pub fn postgres_ticks() -> anyhow::Result<u64> {
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc")? {
        let name = entry?.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // A process may end between listing and reading.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", name.to_string_lossy()))
        else {
            continue;
        };
        if stat.contains("(postgres)") {
            ticks += stat_ticks(&stat)?;
        }
    }
    Ok(ticks)
}

fn stat_ticks(stat: &str) -> anyhow::Result<u64> {
    // The command name may hold spaces; the fields after it do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the name: state is field 3 of the file, utime 14 and stime 15.
    let field = |n: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(n - 3)
            .with_context(|| format!("no field {n}"))?
            .parse()?)
    };
    Ok(field(14)? + field(15)?)
}

/// `VmRSS` of a process, in MiB.
pub fn resident_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .context("no VmRSS")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// Where one process of the system reads its CPU time.
enum CpuOf {
    Process(u32),
    Postgres,
}

/// Every process the benchmarks run: each subgraph, the router, the broker
/// and PostgreSQL.
pub struct SystemCpu(Vec<(&'static str, CpuOf)>);

impl SystemCpu {
    pub fn new(processes: &[(&'static str, u32)], broker: &OwnBroker) -> anyhow::Result<Self> {
        let broker = broker.pid().context("the broker is not running")?;
        let mut all: Vec<(&'static str, CpuOf)> = processes
            .iter()
            .map(|(name, pid)| (*name, CpuOf::Process(*pid)))
            .collect();
        all.push(("broker", CpuOf::Process(broker)));
        all.push(("PostgreSQL", CpuOf::Postgres));
        Ok(SystemCpu(all))
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(name, _)| *name)
    }

    /// The CPU time of each process so far, in clock ticks, in [`Self::names`]' order.
    pub fn read(&self) -> anyhow::Result<Vec<u64>> {
        self.0
            .iter()
            .map(|(name, of)| {
                match of {
                    CpuOf::Process(pid) => cpu_ticks(*pid),
                    CpuOf::Postgres => postgres_ticks(),
                }
                .with_context(|| format!("the CPU time of {name}"))
            })
            .collect()
    }
}

/// The CPU time of each process of the system over spans of a run (a row of
/// a benchmark, a minute of the soak), to tell which process a call costs.
pub struct CpuSpans {
    system: SystemCpu,
    last: Vec<u64>,
    /// Ticks per process, one entry per span.
    spans: Vec<Vec<u64>>,
}

impl CpuSpans {
    pub fn new(system: SystemCpu) -> anyhow::Result<Self> {
        let last = system.read()?;
        Ok(CpuSpans {
            system,
            last,
            spans: Vec::new(),
        })
    }

    /// Starts counting from now: the time since the last reading goes to
    /// no span (setting up between rows, say).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.last = self.system.read()?;
        Ok(())
    }

    /// Adds the time since the last reading to `span`.
    pub fn add_to(&mut self, span: usize) -> anyhow::Result<()> {
        let now = self.system.read()?;
        self.spans
            .resize(self.spans.len().max(span + 1), vec![0; now.len()]);
        for (i, ticks) in now.iter().enumerate() {
            // A backend that ended takes its time with it: never negative.
            self.spans[span][i] += ticks.saturating_sub(self.last[i]);
        }
        self.last = now;
        Ok(())
    }

    /// Adds a span of what each process used in `span` beyond `base` (a
    /// span of the same length with nothing happening, say); returns its
    /// number.
    pub fn beyond(&mut self, span: usize, base: usize) -> usize {
        let empty = vec![0; self.last.len()];
        let of = |n: usize| self.spans.get(n).unwrap_or(&empty);
        let beyond = of(span)
            .iter()
            .zip(of(base))
            .map(|(ticks, base)| ticks.saturating_sub(*base))
            .collect();
        self.spans.push(beyond);
        self.spans.len() - 1
    }

    /// The CPU time of every process in `span`, in clock ticks.
    pub fn total(&self, span: usize) -> u64 {
        self.spans.get(span).map_or(0, |s| s.iter().sum())
    }

    /// CPU ms per call of each process (a row each, and one for all of
    /// them) in each span (a column each, headed by its label, with the
    /// calls it made).
    pub fn table(&self, columns: &[(String, usize)]) -> String {
        let names: Vec<&str> = self.system.names().collect();
        per_call_table(&names, &self.spans, columns)
    }
}

fn per_call_table(names: &[&str], spans: &[Vec<u64>], columns: &[(String, usize)]) -> String {
    let shown = spans.len().min(columns.len());
    let mut table = String::from("| process |");
    for (label, _) in &columns[..shown] {
        table.push_str(&format!(" {label} |"));
    }
    table.push_str(&format!("\n|---|{}\n", "---|".repeat(shown)));
    let mut row = |name: &str, ticks: &dyn Fn(&[u64]) -> u64| {
        table.push_str(&format!("| {name} |"));
        for (span, (_, calls)) in spans.iter().zip(columns) {
            table.push_str(&format!(" {:.2} |", ms_per_call(ticks(span), *calls)));
        }
        table.push('\n');
    };
    for (i, name) in names.iter().enumerate() {
        row(name, &|span| span[i]);
    }
    row("all", &|span| span.iter().sum());
    table
}

/// Milliseconds of CPU per call.
pub fn ms_per_call(ticks: u64, calls: usize) -> f64 {
    ticks as f64 / TICKS_PER_SECOND * 1000.0 / calls.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(resident_mib(me).expect("memory") > 0.0);
        let before = cpu_ticks(me).expect("ticks");
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(100) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        assert!(
            cpu_ticks(me).expect("ticks") > before,
            "100 ms of work counted"
        );
    }

    #[test]
    fn the_table_shows_each_process_per_call_in_each_span() {
        let spans = vec![vec![10, 30], vec![4, 0]];
        let columns = [("minute 1".to_string(), 100), ("minute 2".to_string(), 20)];
        assert_eq!(
            per_call_table(&["order", "broker"], &spans, &columns),
            "| process | minute 1 | minute 2 |\n|---|---|---|\n\
             | order | 1.00 | 2.00 |\n\
             | broker | 3.00 | 0.00 |\n\
             | all | 4.00 | 2.00 |\n"
        );
    }

    #[test]
    fn fields_are_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "42 (tokio (x) y) S 1 2 3 4 5 6 7 8 9 10 110 7 0 0";
        assert_eq!(stat_ticks(stat).expect("fields"), 117);
    }
}

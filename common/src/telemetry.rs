//! One place that sets up `tracing`: JSON for log collectors, pretty for
//! people. `RUST_LOG` filters; the default keeps SQL and HTTP internals quiet.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber, and a panic hook that logs the panic
/// through it (as JSON in production) before the default report. Safe to
/// call more than once (tests, the one-process launcher): only the first
/// call takes effect.
pub fn init(format: LogFormat) {
    init_with_default(
        format,
        "info,sqlx=warn,sea_orm=warn,hyper=warn,tower_http=warn",
    );
}

/// [`init`] with another filter for when `RUST_LOG` is unset (a command
/// whose output is a progress bar keeps to warnings).
pub fn init_with_default(format: LogFormat, default_filter: &str) {
    static PANIC_HOOK: std::sync::Once = std::sync::Once::new();
    PANIC_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(ToString::to_string);
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let thread = std::thread::current().name().map(str::to_string);
            tracing::error!(?location, ?thread, %message, "panic");
            default(info);
        }));
    });
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
}

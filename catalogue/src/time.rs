//! Times as people in the Netherlands read them.

/// `at` (Unix seconds) in Dutch local time (Europe/Amsterdam), as `format` (strftime) says;
/// empty when it cannot be shown.
pub fn local_time(at: i64, format: &str) -> String {
    jiff::Timestamp::from_second(at)
        .ok()
        .and_then(|ts| {
            jiff::tz::TimeZone::get("Europe/Amsterdam")
                .ok()
                .map(|tz| ts.to_zoned(tz).strftime(format).to_string())
        })
        .unwrap_or_default()
}

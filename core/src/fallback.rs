//! Fallbacks and graceful degrade.
//!
//! Options are tried in order (the primary model, then a backup, ...); the first that works
//! answers, and every step down the ladder is counted and put in the trace: a fallback is never
//! silent. When every option fails the run does not crash: it returns [`SAFE_MESSAGE`] and says
//! `degraded: true`.

/// What a run says when nothing worked.
pub const SAFE_MESSAGE: &str = "Service unavailable, please try again later.";

/// Tries `options` in order and returns the index and value of the first that succeeds, or
/// every error, in order, when none does.
pub fn first_ok<T, E>(
    options: impl IntoIterator<Item = impl FnOnce() -> Result<T, E>>,
) -> Result<(usize, T), Vec<E>> {
    let mut errors = Vec::new();
    for (i, option) in options.into_iter().enumerate() {
        match option() {
            Ok(v) => return Ok((i, v)),
            Err(e) => errors.push(e),
        }
    }
    Err(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backup_answers_when_the_primary_fails() {
        let options: Vec<Box<dyn FnOnce() -> Result<&'static str, &'static str>>> =
            vec![Box::new(|| Err("primary down")), Box::new(|| Ok("backup"))];
        assert_eq!(first_ok(options), Ok((1, "backup")));
    }

    #[test]
    fn all_failing_returns_every_error_in_order() {
        let options: Vec<Box<dyn FnOnce() -> Result<u8, u8>>> =
            vec![Box::new(|| Err(1)), Box::new(|| Err(2))];
        assert_eq!(first_ok(options), Err(vec![1, 2]));
    }
}

//! zxcvbn's estimate of a new password, with its advice as keys the window translates.

use arca_cryptor::Password;

use crate::dto::Strength;

/// A zxcvbn feedback item as a camelCase key (`StraightRow` → `straightRow`).
fn key(debug: String) -> String {
    let mut chars = debug.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => debug,
    }
}

pub fn estimate(password: &Password, context: &[&str]) -> Strength {
    let entropy = zxcvbn::zxcvbn(password.expose_for_strength_meter(), context);
    let feedback = entropy.feedback();
    Strength {
        score: u8::from(entropy.score()),
        acceptable: u8::from(entropy.score()) >= arca_safe::MIN_SCORE,
        warning: feedback
            .and_then(|feedback| feedback.warning())
            .map(|warning| key(format!("{warning:?}"))),
        suggestions: feedback
            .map(|feedback| {
                feedback
                    .suggestions()
                    .iter()
                    .map(|suggestion| key(format!("{suggestion:?}")))
                    .collect()
            })
            .unwrap_or_default(),
        crack_seconds: match entropy.crack_times().offline_fast_hashing_1e10_per_second() {
            zxcvbn::time_estimates::CrackTimeSeconds::Float(seconds) => seconds,
            zxcvbn::time_estimates::CrackTimeSeconds::Integer(seconds) => seconds as f64,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_comes_as_keys() {
        let weak = estimate(&Password::new("password1".into()), &[]);
        assert!(!weak.acceptable);
        assert!(weak.warning.is_some() || !weak.suggestions.is_empty());
        for key in weak.warning.iter().chain(&weak.suggestions) {
            assert!(key.chars().next().is_some_and(char::is_lowercase), "{key}");
            assert!(!key.contains(' '), "{key}");
        }
        assert!(
            estimate(
                &Password::new("violet-granite-orbit-2049-ketch".into()),
                &[]
            )
            .acceptable
        );
    }
}

//! How strong a new password is: zxcvbn's score and its advice, shown wherever a password is
//! chosen.

use arca_cryptor::Password;

/// The score below which a new Safe Password needs an explicit confirmation.
pub const MIN_SCORE: u8 = 3;

/// zxcvbn's estimate of a password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Strength {
    /// 0 (guessed at once) to 4 (very unguessable).
    pub score: u8,
    /// Why it is weak, if it is.
    pub warning: Option<String>,
    /// How to make it stronger.
    pub suggestions: Vec<String>,
    /// Offline attack time (10 billion guesses a second), for people.
    pub crack_time: String,
}

impl Strength {
    /// Whether the score reaches [`MIN_SCORE`].
    pub fn is_acceptable(&self) -> bool {
        self.score >= MIN_SCORE
    }
}

/// Estimates `password`'s strength; `context` holds words the user is known to use (the Safe's
/// name, …), which make a password weaker.
pub fn password_strength(password: &Password, context: &[&str]) -> Strength {
    let entropy = zxcvbn::zxcvbn(password.expose_for_strength_meter(), context);
    let feedback = entropy.feedback();
    Strength {
        score: u8::from(entropy.score()),
        warning: feedback
            .and_then(|feedback| feedback.warning())
            .map(|warning| warning.to_string()),
        suggestions: feedback
            .map(|feedback| {
                feedback
                    .suggestions()
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        crack_time: entropy
            .crack_times()
            .offline_fast_hashing_1e10_per_second()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_strong_passwords() {
        let weak = password_strength(&Password::new("password1".into()), &[]);
        assert!(!weak.is_acceptable());
        assert!(weak.warning.is_some() || !weak.suggestions.is_empty());
        let strong = password_strength(
            &Password::new("violet-granite-orbit-2049-ketch".into()),
            &[],
        );
        assert!(strong.is_acceptable(), "{strong:?}");
        let named = password_strength(&Password::new("holidayphotos".into()), &["HolidayPhotos"]);
        assert!(named.score <= 1);
    }
}

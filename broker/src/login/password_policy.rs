//! The rule for every password someone chooses (staff and parents), after OWASP ASVS 2.1 and
//! NIST SP 800-63B: at least [`MIN_CHARS`] characters, at most [`MAX_CHARS`] (counted as
//! characters, not bytes), no composition rules, and no password that an offline strength
//! estimate (zxcvbn) finds guessable in about 10⁸ guesses or fewer (a score below 3).
//!
//! zxcvbn knows English words, names and common passwords. Leerpoort adds what makes a Dutch
//! school's passwords guessable: the person's own names, e-mail address and school name, and a
//! short list of common Dutch words and passwords ([`DUTCH_WORDS`]: "welkom", "wachtwoord",
//! school words, months and days). zxcvbn also sees them with capitals, digits and
//! substitutions around them, so "Welkom2026!" is refused.

use zxcvbn::feedback::{Suggestion, Warning};
use zxcvbn::matching::patterns::MatchPattern;
use zxcvbn::Score;

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// Longest password accepted, in characters (a passphrase fits easily).
pub const MAX_CHARS: usize = 128;
/// The lowest zxcvbn score accepted: 3 means "more than about 10⁸ guesses".
pub const MIN_SCORE: u8 = 3;

/// Common Dutch words and passwords, and words every school uses. zxcvbn treats them as a
/// dictionary of their own, the first ones as the most likely.
pub const DUTCH_WORDS: &[&str] = &[
    "welkom",
    "wachtwoord",
    "geheim",
    "hallo",
    "school",
    "basisschool",
    "leerkracht",
    "leerling",
    "meester",
    "juf",
    "juffrouw",
    "klas",
    "groep",
    "directeur",
    "schooljaar",
    "rooster",
    "vakantie",
    "zomer",
    "winter",
    "lente",
    "herfst",
    "voorjaar",
    "najaar",
    "leerpoort",
    "basispoort",
    "inloggen",
    "thuis",
    "ouders",
    "kinderen",
    "familie",
    "liefde",
    "schatje",
    "prinses",
    "voetbal",
    "oranje",
    "nederland",
    "holland",
    "amsterdam",
    "rotterdam",
    "utrecht",
    "feyenoord",
    "ajax",
    "konijn",
    "hond",
    "poes",
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "sinterklaas",
    "kerstmis",
];

/// Why a password is refused, and what zxcvbn's feedback says (as [`Advice`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password must be at least {MIN_CHARS} characters long")]
    TooShort,
    #[error("a password may be at most {MAX_CHARS} characters long")]
    TooLong,
    #[error("this password is too easy to guess: {}", english(.0))]
    Guessable(Vec<Advice>),
}

impl WeakPassword {
    /// The advice to show with the refusal (empty for the length rules).
    pub fn advice(&self) -> &[Advice] {
        match self {
            Self::Guessable(a) => a,
            _ => &[],
        }
    }
}

fn english(advice: &[Advice]) -> String {
    advice
        .iter()
        .map(|a| a.english())
        .collect::<Vec<_>>()
        .join(" ")
}

/// zxcvbn's feedback, grouped into a few sentences the catalogue has in Dutch and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// The person's own name, e-mail address or school name.
    Personal,
    /// A word from [`DUTCH_WORDS`].
    CommonDutchWord,
    /// A (nearly) common password.
    CommonPassword,
    /// A single word or a name.
    SingleWord,
    /// Keyboard rows, sequences like abc or 1234, repeats.
    Pattern,
    /// Years and dates.
    Dates,
    /// Always last: how to make a strong one.
    UseWords,
}

impl Advice {
    /// The sentence in the catalogue's language `t`.
    pub fn text(self, t: &'static catalogue::Texts) -> &'static str {
        match self {
            Self::Personal => t.password_advice_personal,
            Self::CommonDutchWord => t.password_advice_dutch_word,
            Self::CommonPassword => t.password_advice_common,
            Self::SingleWord => t.password_advice_word,
            Self::Pattern => t.password_advice_pattern,
            Self::Dates => t.password_advice_dates,
            Self::UseWords => t.password_advice_use_words,
        }
    }

    /// The sentence in English, for messages to operators.
    pub fn english(self) -> &'static str {
        self.text(&catalogue::EN)
    }
}

/// What the strength meter shows: zxcvbn's score (0–4), whether the password would be
/// accepted, and the advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strength {
    pub score: u8,
    pub acceptable: bool,
    pub problem: Option<WeakPassword>,
}

/// Words that make a password guessable for this person: names, the e-mail address (whole,
/// its local part and the domain's labels) and the school's name, split into words of three
/// letters or more, in lower case.
pub fn personal_hints<'a>(parts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: &str| {
        let w = w.trim().to_lowercase();
        if w.chars().count() >= 3 && !out.contains(&w) {
            out.push(w);
        }
    };
    for part in parts {
        push(part);
        for word in part.split(|c: char| !c.is_alphanumeric()) {
            push(word);
        }
    }
    out
}

fn score_of(score: Score) -> u8 {
    match score {
        Score::Zero => 0,
        Score::One => 1,
        Score::Two => 2,
        Score::Three => 3,
        _ => 4,
    }
}

/// The password in lower case with every personal word and common Dutch word of four letters
/// or more replaced by one character, and whether each kind was found.
fn without_known_words(password: &str, personal: &[String]) -> (String, bool, bool) {
    let mut rest = password.to_lowercase();
    let long_enough = |w: &str| w.chars().count() >= 4;
    let mut words: Vec<&str> = personal
        .iter()
        .map(String::as_str)
        .filter(|w| long_enough(w))
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut personal_hit = false;
    for w in words {
        if rest.contains(w) {
            rest = rest.replace(w, "*");
            personal_hit = true;
        }
    }
    let mut dutch_hit = false;
    for w in DUTCH_WORDS.iter().filter(|w| long_enough(w)) {
        if rest.contains(w) {
            rest = rest.replace(w, "*");
            dutch_hit = true;
        }
    }
    if !personal_hit && !dutch_hit {
        return (password.to_string(), false, false);
    }
    (rest, personal_hit, dutch_hit)
}

/// Check a new password against the rule; `personal` from [`personal_hints`].
pub fn check(password: &str, personal: &[String]) -> Result<(), WeakPassword> {
    match estimate(password, personal).problem {
        None => Ok(()),
        Some(p) => Err(p),
    }
}

/// Estimate a password's strength (what [`check`] decides, with the score for a meter).
pub fn estimate(password: &str, personal: &[String]) -> Strength {
    let n = password.chars().count();
    if n > MAX_CHARS {
        // Not estimated: zxcvbn's cost grows with the length.
        return Strength {
            score: 4,
            acceptable: false,
            problem: Some(WeakPassword::TooLong),
        };
    }
    let mut inputs: Vec<&str> = personal.iter().map(String::as_str).collect();
    inputs.extend_from_slice(DUTCH_WORDS);
    let entropy = zxcvbn::zxcvbn(password, &inputs);
    // zxcvbn may price a name between separators as random characters; an attacker who
    // targets this person tries their names first. So the password also counts as only as
    // strong as what is left with those words taken out.
    let (reduced, personal_hit, dutch_hit) = without_known_words(password, personal);
    let reduced_entropy = (reduced != password).then(|| zxcvbn::zxcvbn(&reduced, &inputs));
    let score =
        score_of(entropy.score()).min(reduced_entropy.as_ref().map_or(4, |e| score_of(e.score())));
    if n < MIN_CHARS {
        return Strength {
            score: score.min(2),
            acceptable: false,
            problem: Some(WeakPassword::TooShort),
        };
    }
    if score >= MIN_SCORE {
        return Strength {
            score,
            acceptable: true,
            problem: None,
        };
    }
    let mut advice = Vec::new();
    let mut add = |a: Advice| {
        if !advice.contains(&a) {
            advice.push(a);
        }
    };
    if reduced_entropy
        .as_ref()
        .is_some_and(|e| score_of(e.score()) < MIN_SCORE)
    {
        if personal_hit {
            add(Advice::Personal);
        }
        if dutch_hit {
            add(Advice::CommonDutchWord);
        }
    }
    for m in entropy.sequence() {
        if let MatchPattern::Dictionary(d) = &m.pattern {
            if personal.contains(&d.matched_word) {
                add(Advice::Personal);
            } else if DUTCH_WORDS.contains(&d.matched_word.as_str()) {
                add(Advice::CommonDutchWord);
            }
        }
    }
    let feedback = entropy
        .feedback()
        .or_else(|| reduced_entropy.as_ref().and_then(|e| e.feedback()));
    if let Some(w) = feedback.and_then(|f| f.warning()) {
        add(match w {
            Warning::ThisIsATop10Password
            | Warning::ThisIsATop100Password
            | Warning::ThisIsACommonPassword
            | Warning::ThisIsSimilarToACommonlyUsedPassword => Advice::CommonPassword,
            Warning::AWordByItselfIsEasyToGuess
            | Warning::NamesAndSurnamesByThemselvesAreEasyToGuess
            | Warning::CommonNamesAndSurnamesAreEasyToGuess => Advice::SingleWord,
            Warning::RecentYearsAreEasyToGuess | Warning::DatesAreOftenEasyToGuess => Advice::Dates,
            _ => Advice::Pattern,
        });
    }
    for s in feedback.map(|f| f.suggestions()).unwrap_or(&[]) {
        match s {
            Suggestion::AvoidRecentYears
            | Suggestion::AvoidYearsThatAreAssociatedWithYou
            | Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => add(Advice::Dates),
            Suggestion::AvoidSequences
            | Suggestion::AvoidRepeatedWordsAndCharacters
            | Suggestion::UseALongerKeyboardPatternWithMoreTurns => add(Advice::Pattern),
            _ => {}
        }
    }
    add(Advice::UseWords);
    Strength {
        score,
        acceptable: false,
        problem: Some(WeakPassword::Guessable(advice)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn anna() -> Vec<String> {
        personal_hints([
            "Anna",
            "de Vries",
            "anna.devries@regenboog.example",
            "Basisschool De Regenboog",
        ])
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check("kort", &[]), Err(WeakPassword::TooShort));
        // Nine characters, eighteen bytes: too short.
        assert_eq!(check("ééééééééé", &[]), Err(WeakPassword::TooShort));
        // 128 characters of 2 bytes each are allowed...
        let long: String = "é".repeat(60) + &"zq7".repeat(22) + "xy";
        assert_eq!(long.chars().count(), 128);
        assert_eq!(check(&long, &[]), Ok(()));
        // ...129 are not.
        assert_eq!(check(&format!("{long}!"), &[]), Err(WeakPassword::TooLong));
    }

    #[test]
    fn no_composition_rules() {
        // Only lower-case letters, no digit: a passphrase is fine.
        assert_eq!(check("paarse giraf fietst langzaam", &anna()), Ok(()));
        assert_eq!(check("paarse-giraf-fietst", &anna()), Ok(()));
    }

    #[test]
    fn common_dutch_passwords_are_refused() {
        for weak in [
            "Welkom2026!",
            "Wachtwoord123",
            "welkom01welkom",
            "Maandag2026",
            "Schooljaar2026!",
            "1234567890",
            "qwertyuiop",
            "Password2026",
        ] {
            let e = check(weak, &[]).unwrap_err();
            assert!(matches!(e, WeakPassword::Guessable(_)), "{weak}: {e:?}");
        }
        match check("Welkom2026!", &[]) {
            Err(WeakPassword::Guessable(a)) => {
                assert!(a.contains(&Advice::CommonDutchWord), "{a:?}");
                assert_eq!(a.last(), Some(&Advice::UseWords));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_persons_own_names_and_school_are_refused() {
        // Without the hints this would pass; with them it is a name, a school and a year.
        let p = "Regenboog.Anna2026";
        assert_eq!(check(p, &[]), Ok(()), "zxcvbn alone lets it pass");
        match check(p, &anna()) {
            Err(WeakPassword::Guessable(a)) => assert!(a.contains(&Advice::Personal), "{a:?}"),
            other => panic!("{other:?}"),
        }
        assert!(check("Devries-Anna-2026", &anna()).is_err());
        assert!(check("Anna-Regenboog-2026", &anna()).is_err());
        // A passphrase that merely contains a name stays fine.
        assert_eq!(
            check("anna fietst naar de markt in zwolle", &anna()),
            Ok(())
        );
    }

    #[test]
    fn the_english_message_carries_the_advice() {
        let e = check("Welkom2026!", &[]).unwrap_err().to_string();
        assert!(e.starts_with("this password is too easy to guess: "), "{e}");
        assert!(e.contains("Dutch"), "{e}");
    }

    #[test]
    fn the_estimate_gives_a_score_for_the_meter() {
        let weak = estimate("welkom", &[]);
        assert!(!weak.acceptable);
        assert!(weak.score <= 1);
        let strong = estimate("paarse giraf fietst langzaam", &[]);
        assert!(strong.acceptable);
        assert!(strong.score >= MIN_SCORE);
    }
}

//! CSAT on solved tickets (policies.md §10), Zendesk style: the requester
//! rates a solved ticket `good` or `bad`, or gives the 1–5 variant, with a
//! comment. A row is `offered` from the moment the ticket is solved until
//! the requester answers.
//!
//! Decision: a 1–5 rating maps onto Zendesk's two answers as 4–5 → `good`
//! and 1–3 → `bad`. Zendesk clients only know good/bad, and CSAT is
//! conventionally the "top-two-box" share (answers of 4 or 5 out of all
//! answers), so a neutral 3 must not count as satisfied; mapping it to
//! `bad` keeps `good / (good + bad)` equal to that CSAT. The raw 1–5 value is
//! stored too, so a finer reading (or the risk model) loses nothing.

use crate::{ParseError, string_enum};

string_enum! {
    /// A satisfaction rating's score, as Zendesk spells it.
    Score, "satisfaction score" {
        Offered => "offered",
        Good => "good",
        Bad => "bad",
    }
}

/// The score a 1–5 rating counts as (4–5 good, 1–3 bad).
pub fn score_of_rating(rating: i64) -> Result<Score, ParseError> {
    match rating {
        4..=5 => Ok(Score::Good),
        1..=3 => Ok(Score::Bad),
        _ => Err(ParseError::new(format!(
            "{rating} is not a rating from 1 to 5"
        ))),
    }
}

/// The score of an answer: the score given, the rating's, or both when
/// they agree. `offered` is not an answer.
pub fn answer(score: Option<Score>, rating: Option<i64>) -> Result<Score, ParseError> {
    let from_rating = rating.map(score_of_rating).transpose()?;
    match (score, from_rating) {
        (Some(Score::Offered), _) => Err(ParseError::new(
            "score must be good or bad; offered is set by Steward",
        )),
        (Some(s), Some(r)) if s != r => Err(ParseError::new(format!(
            "score {s} contradicts rating {} (4-5 is good, 1-3 is bad)",
            rating.unwrap_or_default()
        ))),
        (Some(s), _) => Ok(s),
        (None, Some(r)) => Ok(r),
        (None, None) => Err(ParseError::new(
            "score (good or bad) or rating (1-5) is required",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_map_top_two_box() {
        assert_eq!(score_of_rating(5), Ok(Score::Good));
        assert_eq!(score_of_rating(4), Ok(Score::Good));
        assert_eq!(score_of_rating(3), Ok(Score::Bad));
        assert_eq!(score_of_rating(1), Ok(Score::Bad));
        assert!(score_of_rating(0).is_err());
        assert!(score_of_rating(6).is_err());
        assert_eq!(answer(Some(Score::Good), None), Ok(Score::Good));
        assert_eq!(answer(None, Some(2)), Ok(Score::Bad));
        assert_eq!(answer(Some(Score::Good), Some(5)), Ok(Score::Good));
        assert!(answer(Some(Score::Good), Some(2)).is_err());
        assert!(answer(Some(Score::Offered), None).is_err());
        assert!(answer(None, None).is_err());
    }
}

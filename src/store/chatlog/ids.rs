//! Conversation ids: short and sortable. Nine Crockford base32 digits of the creation
//! time in milliseconds (fixed width, so text order is time order) and three random
//! ones, lower case: `01kb2x7h3q9mz`-style, 12 characters.

const DIGITS: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const TIME_DIGITS: usize = 9;
const RANDOM_DIGITS: usize = 3;

/// A new id for a conversation created at `unix_ms`.
pub fn new_id(unix_ms: i64) -> String {
    encode(unix_ms, fastrand::u32(..1 << (5 * RANDOM_DIGITS)))
}

fn encode(unix_ms: i64, random: u32) -> String {
    let mut id = String::with_capacity(TIME_DIGITS + RANDOM_DIGITS);
    let time = u64::try_from(unix_ms).unwrap_or(0);
    for i in (0..TIME_DIGITS).rev() {
        id.push(digit(time >> (5 * i)));
    }
    for i in (0..RANDOM_DIGITS).rev() {
        id.push(digit(u64::from(random) >> (5 * i)));
    }
    id
}

fn digit(value: u64) -> char {
    char::from(DIGITS[(value & 31) as usize])
}

/// What a user typed as an id or the start of one, normalised (trimmed, lower case);
/// `None` when it cannot be part of an id.
pub fn normalise(typed: &str) -> Option<String> {
    let typed = typed.trim().to_ascii_lowercase();
    let valid = !typed.is_empty()
        && typed.len() <= TIME_DIGITS + RANDOM_DIGITS
        && typed.bytes().all(|b| DIGITS.contains(&b));
    valid.then_some(typed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twelve_characters_in_time_order() {
        let early = encode(1_700_000_000_000, 31);
        let later = encode(1_700_000_000_001, 0);
        assert_eq!(early.len(), 12);
        assert!(early < later, "{early} {later}");
        assert_eq!(
            normalise(&format!(" {} ", early.to_uppercase())),
            Some(early)
        );
        assert_eq!(normalise(""), None);
        assert_eq!(normalise("abc/"), None);
        assert_eq!(normalise("u"), None, "not a Crockford digit");
    }

    proptest::proptest! {
        #[test]
        fn text_order_is_time_order(a in 0i64..(1 << 45), b in 0i64..(1 << 45), r in 0u32..4096) {
            let (x, y) = (encode(a, r), encode(b, r));
            proptest::prop_assert_eq!(a.cmp(&b), x.cmp(&y));
            proptest::prop_assert_eq!(normalise(&x), Some(x.clone()));
        }

        #[test]
        fn any_typed_text_is_normalised_or_refused(text in "\\PC{0,20}") {
            if let Some(id) = normalise(&text) {
                proptest::prop_assert!(id.len() <= 12);
            }
        }
    }
}

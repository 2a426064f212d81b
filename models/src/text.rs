//! Normalisation: one form of a message to match words against, whatever the keyboard.

/// Lower-cases, folds `ё` into `е`, turns punctuation and symbols into spaces and
/// collapses runs of white space, so "Қазақша!" and "  қазақша " compare equal.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars().flat_map(char::to_lowercase) {
        let ch = if ch == 'ё' { 'е' } else { ch };
        if ch.is_alphanumeric() || ch == '/' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(ch);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_case_yo_punctuation_and_spaces() {
        assert_eq!(normalize("  Қазақша!! "), "қазақша");
        assert_eq!(normalize("Всё,   ХОРОШО..."), "все хорошо");
        assert_eq!(normalize("🙂🙂🙂"), "");
        assert_eq!(normalize("/Start"), "/start");
    }
}

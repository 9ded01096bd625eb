//! Filling in a text's placeholders.

/// `pattern` with every `{key}` of `values` replaced by its value, in one pass: what a value
/// holds is never read for placeholders itself, and braces that name no key stay as they are.
pub(crate) fn fill(pattern: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(pattern.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, &after[close + 1..]))
        });
        match value {
            Some((v, next)) => {
                out.push_str(v);
                rest = next;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn every_placeholder_once_values_left_alone() {
        assert_eq!(
            fill("{a} en {b}, {a}!", &[("a", "x"), ("b", "{a}")]),
            "x en {a}, x!"
        );
        assert_eq!(fill("{onbekend} {a", &[("a", "x")]), "{onbekend} {a");
        assert_eq!(fill("‘{a}’ é", &[("a", "ü")]), "‘ü’ é");
        assert_eq!(fill("", &[]), "");
    }
}

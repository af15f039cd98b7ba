//! LIX (læsbarhedsindeks, Björnsson 1968), the usual Danish readability measure: words per
//! sentence plus the percentage of long words (more than six letters). Below 25 reads like a
//! children's book, 35–44 like a newspaper, 55 and up like academic prose. Samskab keeps its
//! Danish citizen-facing messages at 40 or below (checked by the test below, which prints the
//! figures with `cargo test -p samskab --lib readability -- --nocapture`).

/// Counts of one text, to be added up over many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub words: usize,
    pub long_words: usize,
    pub sentences: usize,
}

impl Counts {
    pub fn plus(self, o: Counts) -> Counts {
        Counts {
            words: self.words + o.words,
            long_words: self.long_words + o.long_words,
            sentences: self.sentences + o.sentences,
        }
    }

    pub fn lix(self) -> f64 {
        if self.words == 0 {
            return 0.0;
        }
        self.words as f64 / self.sentences.max(1) as f64
            + 100.0 * self.long_words as f64 / self.words as f64
    }
}

/// Counts of one message. `{placeholders}` are left out; a message without a full stop (a
/// label, a heading) is one sentence, as it stands on its own on the page.
pub fn counts(text: &str) -> Counts {
    let mut cleaned = String::with_capacity(text.len());
    let mut in_placeholder = false;
    for ch in text.chars() {
        match ch {
            '{' => in_placeholder = true,
            '}' => in_placeholder = false,
            _ if !in_placeholder => cleaned.push(ch),
            _ => {}
        }
    }
    let words: Vec<&str> = cleaned
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| w.chars().any(char::is_alphabetic))
        .collect();
    let long_words = words
        .iter()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() > 6)
        .count();
    let mut sentences = 0;
    let chars: Vec<char> = cleaned.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?' | ':')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
            && !chars
                .get(i + 1)
                .is_some_and(|n| matches!(n, '.' | '!' | '?'))
        {
            sentences += 1;
        }
    }
    Counts {
        words: words.len(),
        long_words,
        sentences: if words.is_empty() {
            0
        } else {
            sentences.max(1)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sections of the catalogue only council staff read.
    const STAFF_ONLY: [&str; 6] = [
        "staff",
        "staff_ideas",
        "moderation_page",
        "admin",
        "population",
        "roles",
    ];

    fn collect(value: &serde_json::Value, out: &mut Counts) {
        match value {
            serde_json::Value::String(s) => {
                let read = crate::messages::as_read(crate::i18n::Locale::Da, s);
                *out = out.plus(counts(&read));
            }
            serde_json::Value::Object(map) => map.values().for_each(|v| collect(v, out)),
            _ => {}
        }
    }

    #[test]
    fn lix_of_a_known_text() {
        // 11 words, 2 sentences, 2 long words ("Kommunen", "borgerne").
        let c = counts("Kommunen vil høre borgerne. Sig din mening om parken i dag.");
        assert_eq!(
            c,
            Counts {
                words: 11,
                long_words: 2,
                sentences: 2
            }
        );
        assert!((c.lix() - (5.5 + 100.0 * 2.0 / 11.0)).abs() < 1e-9);
        // Placeholders are not words; a label is one sentence.
        assert_eq!(counts("{n} deltagere").words, 1);
        assert_eq!(counts("Gruppe").sentences, 1);
        assert_eq!(counts("").sentences, 0);
    }

    #[test]
    fn danish_citizen_messages_read_easily() {
        let file = samskab_frontend::Locales::get("da.json").expect("da.json");
        let catalogue: serde_json::Value = serde_json::from_slice(&file.data).expect("JSON");
        let mut total = Counts::default();
        let sections = catalogue.as_object().expect("an object");
        for (name, section) in sections {
            if STAFF_ONLY.contains(&name.as_str()) {
                continue;
            }
            let mut c = Counts::default();
            collect(section, &mut c);
            println!("LIX {name:<16} {:5.1} ({} words)", c.lix(), c.words);
            total = total.plus(c);
        }
        println!(
            "LIX of the Danish citizen-facing messages: {:.1}",
            total.lix()
        );
        assert!(total.words > 1000, "the catalogue was read");
        assert!(total.lix() <= 40.0, "LIX {:.1} is above 40", total.lix());
    }
}

//! A search matched in the process the way SQLite's FTS5 index matches it
//! (see [`super::unicode61`]), so that a page can be found by reading the
//! chats' own texts ([`super::walk`]) with the answer the index gives.
//!
//! A search word is quoted and prefixed in the FTS5 query (`"word"*`):
//! FTS5 tokenizes it as it tokenizes texts and matches its tokens as a
//! phrase whose last token may be the start of a longer one.

use super::unicode61::{normalize, tokens};

/// Words every one of which a text must hold.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Each word's tokens after a space each, as [`normalize`] writes a
    /// text: " hello wor" is found in " hello world" at a token's start,
    /// its last token as a prefix.
    phrases: Vec<String>,
}

impl Matcher {
    /// A matcher for `words`, or none when a word has no token (FTS5's
    /// answer to an empty phrase is then left to FTS5).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut phrases = Vec::new();
        for word in words {
            let tokens = tokens(word);
            if tokens.is_empty() {
                return None;
            }
            phrases.push(tokens.iter().map(|token| format!(" {token}")).collect());
        }
        Some(Self { phrases })
    }

    /// Whether `text` holds every word.
    pub fn matches(&self, text: &str) -> bool {
        let mut normalized = String::with_capacity(text.len() + 16);
        normalize(text, &mut normalized);
        self.phrases
            .iter()
            .all(|phrase| normalized.contains(phrase.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(words: &[&str]) -> Matcher {
        Matcher::new(words.iter().copied()).expect("every word has a token")
    }

    #[test]
    fn words_are_prefixes_of_tokens_in_any_case() {
        let refund = matcher(&["REFUND"]);
        assert!(refund.matches("Refunded, thanks"));
        assert!(refund.matches("no-refund-here"));
        assert!(!refund.matches("prerefund, refun"));
        assert!(matcher(&["olá", "问题"]).matches("Olá! 问题很多"));
        assert!(!matcher(&["refund", "order"]).matches("refund only"));
    }

    #[test]
    fn separators_inside_a_word_make_a_phrase() {
        // Devanagari vowel signs separate tokens in FTS5 (Rust counts
        // them as letters, so they stay inside a search word): "हिन्दी"
        // is the phrase "ह न द*".
        let phrase = matcher(&["हिन्दी"]);
        assert!(phrase.matches("हिन्दी में"));
        assert!(phrase.matches("ह-न-दो"));
        assert!(!phrase.matches("ह-न-x द"));
        assert_eq!(Matcher::new(["\u{93e}"]).map(|m| m.phrases), None);
    }

    /// The matcher against FTS5 itself, on texts where tokenizing is
    /// subtle: every word of every text searched both ways, alone and in
    /// pairs, must select the same texts.
    #[tokio::test]
    async fn agrees_with_sqlite_fts5() {
        use sea_orm::{ConnectionTrait, Database, Statement};

        const TEXTS: &[&str] = &[
            "İstanbul'da kargo",
            "Straße STRASSE straße",
            "ΣΊΣΥΦΟΣ σίσυφος Ǆemal ǅemal",
            "hello_world e-mail can't naïve nai\u{308}ve",
            "x² ①② ٣٤ Ⅻ ＡＢＣ ﬁle",
            "हिन्दी में सहायता",
            "\u{E000}abc def\u{E001}",
            "日本語のテキスト 问题很多",
            "emoji😀refund ⚡order",
            "Conversation #42-b: refund for order 1234",
            "hmm🤔refund 😀order µ-ſ ς",
        ];
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE VIRTUAL TABLE t USING fts5(body, \
             tokenize = 'unicode61 remove_diacritics 0')",
        )
        .await
        .unwrap();
        for (i, text) in TEXTS.iter().enumerate() {
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "INSERT INTO t (rowid, body) VALUES (?, ?)",
                [(i as i64).into(), (*text).into()],
            ))
            .await
            .unwrap();
        }
        let words: Vec<&str> = TEXTS
            .iter()
            .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
            .filter(|word| !word.is_empty())
            .collect();
        let mut searches: Vec<Vec<&str>> = words.iter().map(|w| vec![*w]).collect();
        for pair in words.windows(2) {
            searches.push(pair.to_vec());
        }
        for prefix in [
            "μ", "s", "σ", "hmm🤔r", "ist", "STRA", "σί", "ǆ", "nai", "ⅻ", "ａ", "हि", "日本",
            "emo", "conv",
        ] {
            searches.push(vec![prefix]);
        }
        for search in searches {
            let Some(matcher) = Matcher::new(search.iter().copied()) else {
                continue;
            };
            let query = search
                .iter()
                .map(|word| format!("\"{word}\"*"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    "SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid",
                    [query.clone().into()],
                ))
                .await
                .unwrap();
            let fts: Vec<i64> = rows
                .iter()
                .map(|row| row.try_get_by_index(0).unwrap())
                .collect();
            let ours: Vec<i64> = (0..TEXTS.len() as i64)
                .filter(|i| matcher.matches(TEXTS[*i as usize]))
                .collect();
            assert_eq!(ours, fts, "{query}");
        }
    }
}

//! Word search over chats: which chats have every word of a search in their
//! title or in one of their messages.
//!
//! A word is a run of letters and digits, matched as the start of a word
//! in the text, in any case ("refund" finds "Refunded"). The indexes are
//! those of the `search_chats` migration: PostgreSQL full-text search with
//! the `simple` configuration over one table of every title and message,
//! SQLite FTS5. On SQLite a page is first looked for by reading the
//! chats in order and matching their texts here ([`walk`], [`words`],
//! [`unicode61`]), which FTS5 cannot do cheaply for a common word.

mod unicode61;
mod unicode61_tables;
mod walk;
mod words;

pub use walk::walk;

use sea_orm::{DbBackend, sea_query::Expr};

use crate::error::{AppError, AppResult};

/// Longest search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Most words a search may hold: each is one more index lookup.
pub const MAX_SEARCH_WORDS: usize = 10;

/// A search as the client wrote it; [`Search::check`] says whether it can
/// run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search(String);

impl Search {
    /// The search in `text`, or none when it is blank (as an omitted one).
    pub fn new(text: String) -> Option<Self> {
        (!text.trim().is_empty()).then_some(Self(text))
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        self.0
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
    }

    /// The search as the process matches it, as SQLite's index does; none
    /// when a word is one only the index can judge.
    fn matcher(&self) -> Option<words::Matcher> {
        words::Matcher::new(self.words())
    }

    /// Refuses a search too long, with too many words or with none.
    pub fn check(&self, field: &str) -> AppResult<()> {
        let chars = self.0.chars().count();
        if chars > MAX_SEARCH_CHARS {
            return Err(AppError::invalid(
                field.to_owned(),
                format!("at most {MAX_SEARCH_CHARS} characters, got {chars}"),
            ));
        }
        match self.words().count() {
            0 => Err(AppError::invalid(
                field.to_owned(),
                "must hold a word: letters or digits",
            )),
            n if n > MAX_SEARCH_WORDS => Err(AppError::invalid(
                field.to_owned(),
                format!("at most {MAX_SEARCH_WORDS} words, got {n}"),
            )),
            _ => Ok(()),
        }
    }

    /// `chats.id` is one of the chats whose title, or one of whose
    /// messages, holds every word. The words are letters and digits only,
    /// so neither query syntax can see an operator or a quote in them (nor
    /// SQL a quote, on PostgreSQL where the query is a literal).
    pub fn condition(&self, backend: DbBackend) -> Expr {
        match backend {
            DbBackend::Postgres => {
                let query = self
                    .words()
                    .map(|word| format!("{word}:*"))
                    .collect::<Vec<_>>()
                    .join(" & ");
                // The query is a literal, not a bind parameter: the
                // gateway's connections plan each statement once,
                // generically, and a generic plan cannot tell a word in
                // every chat (walk the newest chats, probe each) from a
                // word in three (read the index, fetch three). A literal
                // makes each search its own statement, planned knowing its
                // words.
                Expr::cust(format!(
                    r#""chats"."id" IN (SELECT "chat_id" FROM "chat_search"
                        WHERE "words" @@ to_tsquery('simple', '{query}'))"#
                ))
            }
            _ => {
                let query = self
                    .words()
                    .map(|word| format!("\"{word}\"*"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                Expr::cust_with_values(
                    r#""chats"."id" IN (
                        SELECT "chat_id" FROM "chat_title_search" WHERE "chat_title_search" MATCH ?
                        UNION ALL
                        SELECT "chat_id" FROM "message_search" WHERE "message_search" MATCH ?)"#,
                    [query.clone(), query],
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(text: &str) -> Search {
        Search::new(text.to_owned()).expect("not blank")
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let search = search("  Refund, order #42-b! olá 问题 ");
        let words: Vec<_> = search.words().collect();
        assert_eq!(words, ["Refund", "order", "42", "b", "olá", "问题"]);
    }

    #[test]
    fn blank_is_no_search_and_bad_searches_name_the_field() {
        assert_eq!(Search::new(" \t".into()), None);
        let error = search("!!! ...").check("filter.search").unwrap_err();
        assert!(format!("{error:?}").contains("filter.search"), "{error:?}");
        assert!(search(&"word ".repeat(11)).check("f").is_err());
        assert!(search(&"a".repeat(201)).check("f").is_err());
        assert!(search(&"a".repeat(200)).check("f").is_ok());
    }

    #[test]
    fn operators_and_quotes_never_reach_the_query() {
        let sql = |backend| {
            let expr = search(r#"a" OR b:* & !c 'd' NEAR(e)"#).condition(backend);
            format!("{expr:?}")
        };
        let postgres = sql(DbBackend::Postgres);
        assert!(
            postgres.contains("'a:* & OR:* & b:* & c:* & d:* & NEAR:* & e:*'"),
            "{postgres}"
        );
        let sqlite = sql(DbBackend::Sqlite);
        assert!(
            sqlite.contains(
                r#"\"a\"* AND \"OR\"* AND \"b\"* AND \"c\"* AND \"d\"* AND \"NEAR\"* AND \"e\"*"#
            ),
            "{sqlite}"
        );
    }
}

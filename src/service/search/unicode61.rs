//! SQLite's FTS5 `unicode61` tokenizer, with `remove_diacritics 0` (as the
//! `search_chats` migration builds the index), written again in Rust from
//! `fts5_tokenize.c` and `fts5_unicode2.c`, over the same tables
//! ([`super::unicode61_tables`]).
//!
//! A token starts at a letter, a number or a private-use character
//! (general categories L*, N*, Co) or any character Unicode 6.1 had not
//! assigned (newer emoji among them); it goes on through those and the
//! combining diacritics; every other character separates tokens. Each
//! character is case-folded by Unicode 6.1's simple folding.

use super::unicode61_tables::{BLOCK, DATA, FOLD, FOLD_OFFSETS, MAP};

/// The categories that make tokens, by the tables' numbering: 0 (not in
/// the tables), L* (5-9), N* (13-15) and Co (31).
const TOKEN_CATEGORIES: u32 = 1 | 0b11111 << 5 | 0b111 << 13 | 1 << 31;

/// The general category of `c`, numbered as the tables number them.
fn category(c: u32) -> u32 {
    if c >= 1 << 20 {
        return 0;
    }
    let plane = (c >> 16) as usize;
    let runs = usize::from(BLOCK[plane])..usize::from(BLOCK[plane + 1]);
    let key = c & 0xFFFF;
    let before = MAP[runs.clone()].partition_point(|start| u32::from(*start) <= key);
    let Some(run) = before.checked_sub(1).map(|i| runs.start + i) else {
        return 0;
    };
    let start = u32::from(MAP[run]);
    if key >= start + u32::from(DATA[run] >> 5) {
        return 0;
    }
    match u32::from(DATA[run] & 0x1F) {
        // Upper and lower case in turn.
        30 if (key - start) & 1 == 1 => 5,
        30 => 9,
        category => category,
    }
}

/// Whether `c` starts or continues a token.
fn is_token_char(c: char) -> bool {
    if c.is_ascii() {
        // What the tables say of ASCII, without the search.
        return c.is_ascii_alphanumeric();
    }
    TOKEN_CATEGORIES & 1 << category(c as u32) != 0
}

/// Whether `c` is a combining diacritic: it continues a token but does
/// not start one.
fn is_diacritic(c: char) -> bool {
    const LOW: u32 = 0x0802_9FDF;
    const HIGH: u32 = 0x0003_61F8;
    match c as u32 {
        c @ 768..800 => LOW & 1 << (c - 768) != 0,
        c @ 800..=817 => HIGH & 1 << (c - 800) != 0,
        _ => false,
    }
}

/// `c` case-folded.
fn fold(c: char) -> char {
    let code = c as u32;
    let folded = match code {
        0..128 => return c.to_ascii_lowercase(),
        128..65536 => {
            let rule = FOLD.partition_point(|(first, _, _)| u32::from(*first) <= code) - 1;
            let (first, flags, length) = FOLD[rule];
            let (first, flags) = (u32::from(first), u32::from(flags));
            let applies = code < first + u32::from(length) && flags & 1 & (first ^ code) == 0;
            if !applies {
                return c;
            }
            (code + u32::from(FOLD_OFFSETS[(flags >> 1) as usize])) & 0xFFFF
        }
        66560..66600 => code + 40,
        _ => return c,
    };
    char::from_u32(folded).unwrap_or(c)
}

/// Writes `text`'s tokens, folded, into `out`, each after a space
/// (" refund for order"): a phrase of whole tokens is then a substring
/// that starts after a space and ends before one.
pub fn normalize(text: &str, out: &mut String) {
    out.clear();
    let mut in_token = false;
    for c in text.chars() {
        // SQLite reads U+FFFE and U+FFFF as U+FFFD (a symbol).
        let c = if c as u32 & !1 == 0xFFFE {
            '\u{FFFD}'
        } else {
            c
        };
        if is_token_char(c) || (in_token && is_diacritic(c)) {
            if !in_token {
                out.push(' ');
                in_token = true;
            }
            out.push(fold(c));
        } else {
            in_token = false;
        }
    }
}

/// The tokens of `text`, folded, in order.
pub fn tokens(text: &str) -> Vec<String> {
    let mut normalized = String::new();
    normalize(text, &mut normalized);
    normalized.split(' ').skip(1).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database, Statement};

    use super::*;

    /// Every character, between two letters, tokenized here and by the
    /// SQLite the gateway links (planes 0-3 whole, a sample of the rest):
    /// the same tokens, folded the same way.
    #[tokio::test]
    async fn every_character_tokenizes_as_sqlite_does() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        let backend = db.get_database_backend();
        for sql in [
            "CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 0')",
            "CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')",
        ] {
            db.execute_unprepared(sql).await.unwrap();
        }
        let characters: Vec<char> = (1..0x40000)
            .chain((0x40000..=0x10FFFF).step_by(257))
            .chain([0x10FFFD])
            .filter_map(char::from_u32)
            .collect();
        let documents: Vec<String> = characters
            .chunks(2_000)
            .map(|chunk| chunk.iter().map(|c| format!("x{c}x ")).collect())
            .collect();
        for (i, document) in documents.iter().enumerate() {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO t (rowid, body) VALUES (?, ?)",
                [(i as i64).into(), document.as_str().into()],
            ))
            .await
            .unwrap();
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT doc, offset, term FROM v ORDER BY doc, offset",
            ))
            .await
            .unwrap();
        let mut theirs: Vec<Vec<String>> = vec![Vec::new(); documents.len()];
        for row in rows {
            let doc: i64 = row.try_get_by_index(0).unwrap();
            theirs[doc as usize].push(row.try_get_by_index(2).unwrap());
        }
        for (document, theirs) in documents.iter().zip(theirs) {
            let ours = tokens(document);
            if ours != theirs {
                let at = ours.iter().zip(&theirs).position(|(a, b)| a != b);
                let at = at.unwrap_or(ours.len().min(theirs.len()));
                panic!(
                    "tokens differ from #{at}: ours {:?}, SQLite's {:?}",
                    ours.get(at..at + 3),
                    theirs.get(at..at + 3)
                );
            }
        }
    }
}

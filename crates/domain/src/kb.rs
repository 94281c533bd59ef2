//! Knowledge base (policies.md §17): the pure rules behind articles.
//!
//! * **Who reads what** (§8): admins write; the staff roles §8 grants "KB
//!   read" (CSMs, agents) and viewers ("read everything") read every
//!   article, drafts included; contractors (§8 gives them no KB right beyond
//!   what customers have), end users and anonymous visitors read published
//!   articles only ([`reads_drafts`], [`writes`]).
//! * **Input**: an article's title ([`ArticleTitle`]: required, at most 255
//!   characters), body ([`ArticleBody`]: Markdown, at most 100 KB) and tags
//!   ([`Tags`]: at most 20 short lower-case labels) are parsed once at the
//!   edge.
//! * **Rendering**: bodies are Markdown rendered to HTML by
//!   [`render_markdown`], which never lets HTML through: raw HTML in the
//!   source comes out escaped, as text, and links or images whose URL has a
//!   scheme other than `http`, `https`, `mailto` or `tel` (`javascript:`,
//!   `data:`, `vbscript:` ...) point at `#` instead. So an article body is
//!   safe to put in a page as it is, whoever wrote it.
//! * **Search**: [`search_terms`] turns what a reader typed into the words
//!   both full-text engines look for (English stop words dropped, as
//!   PostgreSQL's `english` configuration does, so the two databases agree);
//!   [`snippet`] cuts the excerpt shown under a hit, HTML-escaped, with the
//!   matching words in `<em>`.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use crate::{ParseError, Role, string_enum};

string_enum! {
    /// Whether customers can read an article.
    ArticleStatus, "article status" {
        Draft => "draft",
        Published => "published",
    }
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 255;
/// Largest body (Markdown source), in bytes.
pub const MAX_BODY_BYTES: usize = 100 * 1024;
/// Most tags on one article.
pub const MAX_TAGS: usize = 20;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 50;
/// Most words a search looks for; the rest of a long query is ignored.
pub const MAX_SEARCH_TERMS: usize = 12;

/// Whether a role reads draft articles (everyone reads published ones).
pub fn reads_drafts(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Viewer | Role::Csm | Role::Agent)
}

/// Whether a role creates, edits, publishes and deletes articles.
pub fn writes(role: Role) -> bool {
    role == Role::Admin
}

/// An article title: trimmed, not empty, at most [`MAX_TITLE_CHARS`]
/// characters, no control characters (a title is one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleTitle(String);

impl ArticleTitle {
    pub fn parse(s: &str) -> Result<ArticleTitle, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("cannot be blank"));
        }
        if s.chars().count() > MAX_TITLE_CHARS {
            return Err(ParseError::new(format!(
                "is too long (at most {MAX_TITLE_CHARS} characters)"
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new(
                "must be one line without control characters",
            ));
        }
        Ok(ArticleTitle(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An article body in Markdown: at most [`MAX_BODY_BYTES`], no NUL. It may
/// be empty (a draft just started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleBody(String);

impl ArticleBody {
    pub fn parse(s: &str) -> Result<ArticleBody, ParseError> {
        if s.len() > MAX_BODY_BYTES {
            return Err(ParseError::new(format!(
                "is too long (at most {} KB of Markdown)",
                MAX_BODY_BYTES / 1024
            )));
        }
        if s.contains('\0') {
            return Err(ParseError::new("must not contain NUL characters"));
        }
        Ok(ArticleBody(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An article's tags (Zendesk's `label_names`): each trimmed and
/// lower-cased, 1 to [`MAX_TAG_CHARS`] characters of letters, digits and
/// `-_.:`; duplicates dropped, order kept; at most [`MAX_TAGS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<String>);

impl Tags {
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Tags, ParseError> {
        let mut out: Vec<String> = Vec::new();
        for raw in items {
            let tag = raw.as_ref().trim().to_lowercase();
            if tag.is_empty() {
                return Err(ParseError::new("tags cannot be blank"));
            }
            if tag.chars().count() > MAX_TAG_CHARS {
                return Err(ParseError::new(format!(
                    "{tag} is too long (at most {MAX_TAG_CHARS} characters)"
                )));
            }
            if !tag
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.:".contains(c))
            {
                return Err(ParseError::new(format!(
                    "{tag} is not a valid tag (letters, digits and - _ . : only)"
                )));
            }
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        if out.len() > MAX_TAGS {
            return Err(ParseError::new(format!("at most {MAX_TAGS} tags")));
        }
        Ok(Tags(out))
    }

    /// Tags as stored: separated by single spaces.
    pub fn to_stored(&self) -> String {
        self.0.join(" ")
    }

    /// Tags read back from [`Tags::to_stored`].
    pub fn from_stored(s: &str) -> Tags {
        Tags(s.split_whitespace().map(str::to_string).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// Markdown extensions articles may use beyond CommonMark.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a link or image URL may be followed as it is: relative URLs and
/// fragments, and the schemes `http`, `https`, `mailto` and `tel`.
///
/// Browsers ignore ASCII whitespace and control characters inside a URL
/// (`java\tscript:` runs), so they are removed before looking for the
/// scheme; anything that still has a scheme outside the list is refused.
/// An allow-list, because the deny-list (`javascript:`, `vbscript:`,
/// `data:`, ...) is not one anybody can keep complete.
pub fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_control() && !c.is_ascii_whitespace())
        .collect();
    let Some(colon) = cleaned.find(':') else {
        return true; // no scheme: relative
    };
    let before = &cleaned[..colon];
    if before.contains(['/', '?', '#']) {
        return true; // the colon is in the path, query or fragment
    }
    matches!(
        before.to_ascii_lowercase().as_str(),
        "http" | "https" | "mailto" | "tel"
    )
}

/// Renders an article's Markdown to HTML that is safe to embed.
///
/// Raw HTML (blocks and inline tags) is turned into text, so it shows
/// escaped instead of running; an HTML block becomes a paragraph of that
/// text. Links and images with an unsafe URL ([`is_safe_url`]) point at
/// `#`. Everything else is CommonMark plus tables, strikethrough and task
/// lists, rendered by pulldown-cmark (which escapes text and attributes).
pub fn render_markdown(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !is_safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !is_safe_url(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() + markdown.len() / 4);
    html::push_html(&mut out, events);
    out
}

/// The text a reader sees, without Markdown syntax: paragraphs, list items,
/// headings and table cells separated by spaces; raw HTML kept as the text
/// it renders to.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let gap = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule | Event::End(_) => gap(&mut out),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// English stop words: PostgreSQL's `english` configuration drops these
/// (the Snowball list), so they are dropped from every query to make
/// SQLite's FTS5 answer the same.
const STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
];

/// The words of a search: lower-cased runs of letters and digits, English
/// stop words dropped, duplicates dropped, at most [`MAX_SEARCH_TERMS`].
/// Every term must match (in the title or the body) for an article to be a
/// hit; an empty list means the query had nothing to look for.
pub fn search_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if STOP_WORDS.contains(&word.as_str()) || terms.contains(&word) {
            continue;
        }
        terms.push(word);
        if terms.len() == MAX_SEARCH_TERMS {
            break;
        }
    }
    terms
}

/// Whether `word` (lower-cased) looks like a match for `term`: both full-text
/// engines stem, so "configure" finds "configuration"; this approximates
/// that for highlighting with a shared prefix of at least five characters
/// (or the whole of a shorter term).
fn highlights(word: &str, term: &str) -> bool {
    let common = word
        .chars()
        .zip(term.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let term_len = term.chars().count();
    common == term_len || common >= 5.min(term_len)
}

fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// An excerpt of an article's text of about `max_chars` characters around
/// the first word matching one of `terms` (the start of the text when none
/// does), HTML-escaped, with matching words wrapped in `<em>` — the shape
/// of Zendesk's search `snippet`.
pub fn snippet(markdown: &str, terms: &[String], max_chars: usize) -> String {
    let text = plain_text(markdown);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let matches = |w: &str| {
        let w = w
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        !w.is_empty() && terms.iter().any(|t| highlights(&w, t))
    };
    let first = words.iter().position(|w| matches(w)).unwrap_or(0);
    // A few words of context before the first match.
    let mut start = first.saturating_sub(6);
    let mut len = 0;
    let mut end = start;
    while end < words.len() && len + words[end].chars().count() < max_chars {
        len += words[end].chars().count() + 1;
        end += 1;
    }
    if end == start && end < words.len() {
        end += 1; // one very long word still shows
    }
    // Room left at the end: show more of what comes before.
    while start > 0 && end == words.len() && len + words[start - 1].chars().count() < max_chars {
        start -= 1;
        len += words[start].chars().count() + 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    for (i, w) in words[start..end].iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if matches(w) {
            out.push_str("<em>");
            escape_html(w, &mut out);
            out.push_str("</em>");
        } else {
            escape_html(w, &mut out);
        }
    }
    if end < words.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        let html = render_markdown("# Title\n\nSome *emphasis* and `code`.\n\n- one\n- two\n");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>emphasis</em>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<li>one</li>"));
        let table = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            table.contains("<table>") && table.contains("<td>2</td>"),
            "{table}"
        );
        assert!(render_markdown("~~old~~").contains("<del>old</del>"));
        assert!(
            render_markdown("[docs](https://example.com/a?b=1)")
                .contains(r#"<a href="https://example.com/a?b=1">docs</a>"#)
        );
        assert!(render_markdown("[rel](/hc/articles/3)").contains(r#"href="/hc/articles/3""#));
        assert!(
            render_markdown("[mail](mailto:help@example.com)")
                .contains(r#"href="mailto:help@example.com""#)
        );
    }

    #[test]
    fn raw_html_is_escaped_never_passed_through() {
        let block = render_markdown("<script>alert('x')</script>\n\nafter");
        assert!(!block.contains("<script"), "{block}");
        assert!(block.contains("&lt;script&gt;"), "{block}");
        assert!(block.contains("<p>after</p>"));
        let inline = render_markdown("Click <img src=x onerror=alert(1)> here <b>bold</b>");
        assert!(!inline.contains("<img"), "{inline}");
        assert!(!inline.contains("<b>"), "{inline}");
        assert!(
            inline.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{inline}"
        );
        let div = render_markdown("<div onclick=\"steal()\">\n*text*\n</div>");
        assert!(!div.contains("<div"), "{div}");
        let comment = render_markdown("<!-- hidden --><iframe src=\"https://evil\"></iframe>");
        assert!(
            !comment.contains("<iframe") && !comment.contains("<!--"),
            "{comment}"
        );
        // Code keeps its text, escaped.
        let code = render_markdown("```\n<script>x</script>\n```");
        assert!(code.contains("&lt;script&gt;"), "{code}");
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](  javascript:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x](&#106;avascript:alert(1))",
            "[x](vbscript:msgbox)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<javascript:alert(1)>",
            "[x][r]\n\n[r]: javascript:alert(1)",
            "![img](javascript:alert(1))",
        ] {
            let html = render_markdown(md);
            // Every URL attribute is "#" (an autolink's text may still
            // read "javascript:...", which is harmless).
            let urls: Vec<&str> = [" href=\"", " src=\""]
                .iter()
                .flat_map(|attr| html.split(attr).skip(1))
                .filter_map(|rest| rest.split('"').next())
                .collect();
            assert!(!urls.is_empty(), "{md} -> {html}");
            assert!(urls.iter().all(|u| *u == "#"), "{md} -> {html}");
        }
        assert!(is_safe_url("https://example.com"));
        assert!(is_safe_url("//example.com/x"));
        assert!(is_safe_url("#section"));
        assert!(is_safe_url("page?x=a:b"));
        assert!(is_safe_url("tel:+15551234"));
        assert!(!is_safe_url("file:///etc/passwd"));
        assert!(!is_safe_url(" \u{1}javascript:x"));
    }

    #[test]
    fn titles_bodies_and_tags_are_checked() {
        assert_eq!(ArticleTitle::parse("  Hi  ").unwrap().as_str(), "Hi");
        assert!(ArticleTitle::parse(" ").is_err());
        assert!(ArticleTitle::parse(&"x".repeat(255)).is_ok());
        assert!(ArticleTitle::parse(&"x".repeat(256)).is_err());
        assert!(
            ArticleTitle::parse(&"é".repeat(255)).is_ok(),
            "characters, not bytes"
        );
        assert!(ArticleTitle::parse("two\nlines").is_err());
        assert!(ArticleBody::parse("").is_ok());
        assert!(ArticleBody::parse(&"x".repeat(MAX_BODY_BYTES)).is_ok());
        assert!(ArticleBody::parse(&"x".repeat(MAX_BODY_BYTES + 1)).is_err());
        assert!(ArticleBody::parse("a\0b").is_err());
        let tags = Tags::parse(&["SLA", " sla ", "api-tokens", "v2.1"]).unwrap();
        assert_eq!(tags.as_slice(), ["sla", "api-tokens", "v2.1"]);
        assert_eq!(Tags::from_stored(&tags.to_stored()), tags);
        assert!(Tags::parse(&["two words"]).is_err());
        assert!(Tags::parse(&[""]).is_err());
        assert!(Tags::parse(&["<b>"]).is_err());
        assert!(Tags::parse(&["x".repeat(51)]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
        assert!(Tags::parse(&many[..20]).is_ok());
        assert_eq!(
            ArticleStatus::parse("Published").unwrap(),
            ArticleStatus::Published
        );
    }

    #[test]
    fn roles() {
        assert!(writes(Role::Admin));
        for r in [
            Role::Csm,
            Role::Agent,
            Role::Viewer,
            Role::Contractor,
            Role::EndUser,
        ] {
            assert!(!writes(r), "{r}");
        }
        assert!(reads_drafts(Role::Agent) && reads_drafts(Role::Csm) && reads_drafts(Role::Viewer));
        assert!(!reads_drafts(Role::EndUser) && !reads_drafts(Role::Contractor));
    }

    #[test]
    fn search_terms_drop_stop_words_and_punctuation() {
        assert_eq!(
            search_terms("How do I reset my API-token?"),
            vec!["reset", "api", "token"]
        );
        assert_eq!(search_terms("SLA sla Sla"), vec!["sla"]);
        assert!(search_terms("the and of ?!").is_empty());
        assert_eq!(search_terms("\"quoted\" OR *"), vec!["quoted"]);
        assert_eq!(search_terms(&"w ".repeat(50)).len(), 1);
        let long: String = (0..30).map(|i| format!("w{i} ")).collect();
        assert_eq!(search_terms(&long).len(), MAX_SEARCH_TERMS);
    }

    #[test]
    fn snippets_highlight_and_escape() {
        let md = "# Tokens\n\nUse an <b>API</b> token to call the API. Tokens are created by admins \
                  from the command line and shown once.";
        let s = snippet(md, &["token".to_string()], 200);
        assert!(s.contains("<em>Tokens</em>"), "{s}");
        assert!(s.contains("<em>token</em>"), "{s}");
        assert!(s.contains("&lt;b&gt;API&lt;/b&gt;"), "{s}");
        assert!(!s.contains("<b>"));
        let short = snippet(&"word ".repeat(100), &["nothing".to_string()], 50);
        assert!(
            short.chars().count() <= 52 && short.ends_with('…'),
            "{short}"
        );
        let later = snippet(
            &format!("{} needle {}", "hay ".repeat(60), "hay ".repeat(60)),
            &["needle".to_string()],
            60,
        );
        assert!(
            later.starts_with('…') && later.contains("<em>needle</em>"),
            "{later}"
        );
        assert_eq!(snippet("", &[], 100), "");
        assert_eq!(plain_text("# A\n\nb *c*\n\n- d\n- e"), "A b c d e");
    }
}

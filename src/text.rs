//! Texts that many findings share: a large report says the same few words thousands of
//! times (one rule's message on every listener, one service's context on each of its
//! findings), and holds each once.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::Serialize;

/// A text: words of pflint's own, or words made at run time, held alone or shared by
/// every holder. Two texts are equal when their words are.
#[derive(Clone)]
pub enum Text {
    /// Words of pflint's own.
    Static(&'static str),
    /// Words made at run time for one holder (no count of holders to keep).
    Owned(Box<str>),
    /// Words made at run time, shared (see [`Interner`]).
    Shared(Arc<str>),
}

impl Text {
    /// The words.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(text) => text,
            Text::Owned(text) => text,
            Text::Shared(text) => text,
        }
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl From<&'static str> for Text {
    fn from(text: &'static str) -> Text {
        Text::Static(text)
    }
}

impl From<String> for Text {
    /// The words, in an allocation of their length (a formatted text has room to grow).
    fn from(text: String) -> Text {
        Text::Owned(text.into_boxed_str())
    }
}

impl From<Cow<'static, str>> for Text {
    fn from(text: Cow<'static, str>) -> Text {
        match text {
            Cow::Borrowed(text) => Text::Static(text),
            Cow::Owned(text) => text.into(),
        }
    }
}

/// The texts made so far, each once: a text made again is the one kept. For words that
/// repeat (rule messages, services' names and contexts); a text said once costs a slot.
#[derive(Default)]
pub struct Interner {
    kept: foldhash::HashSet<Text>,
}

impl Interner {
    /// `text`, shared with every equal text made before.
    pub fn text(&mut self, text: String) -> Text {
        if let Some(kept) = self.kept.get(text.as_str()) {
            return kept.clone();
        }
        let text = Text::Shared(text.into());
        self.kept.insert(text.clone());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{Interner, Text};

    #[test]
    fn equal_texts_are_one_whatever_their_kind_and_an_interned_text_is_kept_once() {
        assert_eq!(Text::from("a b"), Text::from("a b".to_owned()));
        let mut interner = Interner::default();
        let (first, again) = (interner.text("x".repeat(3)), interner.text("xxx".into()));
        let (Text::Shared(first), Text::Shared(again)) = (first, again) else {
            panic!("made texts are shared");
        };
        assert!(std::sync::Arc::ptr_eq(&first, &again));
        assert_eq!(interner.kept.len(), 1);
    }
}

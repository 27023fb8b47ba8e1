//! The type of a setting's value: how it is read from the config file and from text
//! (command line, environment), how `config set` writes it, and how
//! `config show --json` shows it. A new type is one variant and its arm in each method.

use toml_edit::Value as Toml;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string: ids, names, URLs, credentials.
    Text,
    /// A TOML boolean. As text, `true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`
    /// are accepted (older versions wrote `"false"` as a string).
    Bool,
    /// A time limit: a duration string (`30s`, `2m`, `1m30s`) or a number of seconds,
    /// also as a TOML integer or float (see `timeout::parse`).
    Duration,
}

impl Kind {
    /// What a value must be, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Bool => "true or false",
            Kind::Duration => "a duration such as \"30s\" or a number of seconds",
        }
    }

    /// Text from the command line, the environment or a TOML string, in the form
    /// settings keep (`"true"`/`"false"` for booleans). `Err` describes what was found.
    pub fn parse(self, text: &str) -> Result<String, String> {
        match self {
            Kind::Text => Ok(text.to_string()),
            Kind::Bool => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok("true".to_string()),
                "false" | "no" | "off" | "0" => Ok("false".to_string()),
                _ => Err(format!("`{text}`")),
            },
            Kind::Duration => match crate::config::timeout::parse(text) {
                Ok(_) => Ok(text.trim().to_string()),
                Err(_) => Err(format!("`{text}`")),
            },
        }
    }

    /// An entry of the config file, as [`Kind::parse`] gives it.
    pub fn parse_item(self, item: &toml_edit::Item) -> Result<String, String> {
        match item.as_value() {
            Some(value) => self.parse_value(value),
            None => Err(format!("a {}", item.type_name())),
        }
    }

    fn parse_value(self, value: &Toml) -> Result<String, String> {
        match (self, value) {
            (_, Toml::String(text)) => self.parse(text.value()),
            (Kind::Bool, Toml::Boolean(flag)) => Ok(flag.value().to_string()),
            (Kind::Duration, Toml::Integer(secs)) => self.parse(&secs.value().to_string()),
            (Kind::Duration, Toml::Float(secs)) => self.parse(&secs.value().to_string()),
            (_, other) => Err(format!(
                "the {} {}",
                other.type_name(),
                other.to_string().trim()
            )),
        }
    }

    /// How `config set` writes a value [`Kind::parse`] accepted.
    pub fn to_toml(self, text: &str) -> Toml {
        match self {
            Kind::Text | Kind::Duration => Toml::from(text),
            Kind::Bool => Toml::from(text == "true"),
        }
    }

    /// A value [`Kind::parse`] accepted, typed for structured output.
    pub fn to_json(self, text: &str) -> serde_json::Value {
        match self {
            Kind::Text | Kind::Duration => serde_json::Value::from(text),
            Kind::Bool => serde_json::Value::Bool(text == "true"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Toml {
        text.parse().expect("a TOML value")
    }

    #[test]
    fn booleans_from_toml_and_text() {
        assert_eq!(Kind::Bool.parse_value(&toml("false")), Ok("false".into()));
        assert_eq!(Kind::Bool.parse_value(&toml("\"Off\"")), Ok("false".into()));
        assert_eq!(Kind::Bool.parse("YES"), Ok("true".into()));
        assert_eq!(Kind::Bool.to_toml("false").to_string(), "false");
        assert_eq!(Kind::Bool.to_json("true"), serde_json::Value::Bool(true));
    }

    #[test]
    fn durations_from_toml_numbers_and_text() {
        let d = Kind::Duration;
        assert_eq!(d.parse_value(&toml("30")), Ok("30".into()));
        assert_eq!(d.parse_value(&toml("0.5")), Ok("0.5".into()));
        assert_eq!(d.parse_value(&toml("\"2m\"")), Ok("2m".into()));
        assert!(d.parse_value(&toml("true")).is_err());
        assert!(d.parse_value(&toml("-3")).is_err());
        assert!(d.parse("soon").is_err());
    }

    #[test]
    fn wrong_types_say_what_was_found() {
        assert_eq!(
            Kind::Bool.parse_value(&toml("3")),
            Err("the integer 3".to_string())
        );
        assert_eq!(Kind::Bool.parse("maybe"), Err("`maybe`".to_string()));
        assert_eq!(
            Kind::Text.parse_value(&toml("12345")),
            Err("the integer 12345".to_string())
        );
        assert_eq!(
            Kind::Text.parse_value(&toml("[1, 2]")),
            Err("the array [1, 2]".to_string())
        );
        assert_eq!(Kind::Text.parse_value(&toml("\"x\"")), Ok("x".into()));
    }

    proptest::proptest! {
        /// Whatever text `config set` accepts is read back from the file as it was
        /// normalised, and no text makes a parser panic.
        #[test]
        fn written_values_read_back(text in "\\PC*", kind in 0..3usize) {
            let kind = [Kind::Text, Kind::Bool, Kind::Duration][kind];
            if let Ok(normal) = kind.parse(&text) {
                let mut doc = toml_edit::DocumentMut::new();
                doc.insert("k", toml_edit::Item::Value(kind.to_toml(&normal)));
                let reread: toml_edit::DocumentMut = doc.to_string().parse().expect("reparses");
                let item = reread.get("k").expect("key");
                proptest::prop_assert_eq!(kind.parse_item(item), Ok(normal));
            }
        }

        #[test]
        fn any_toml_value_is_read_or_refused(text in "\\PC{0,40}") {
            if let Ok(value) = text.parse::<Toml>() {
                let _ = Kind::Bool.parse_value(&value);
                let _ = Kind::Text.parse_value(&value);
            }
        }
    }
}

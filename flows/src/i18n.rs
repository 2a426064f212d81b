//! Every user-facing text, in Kazakh and Russian, from the Fluent files in `locales/`.
//!
//! The files are compiled into the binary, so a deployment cannot lose them. A test
//! checks that both languages have the same message ids with the same variables.

use crate::duty::Duty;
use crate::screen::{Arg, Msg, OutButton, Outgoing, Screen};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use qamqor_models::Lang;

macro_rules! locale_files {
    ($($name:literal),* $(,)?) => {
        /// (file name, Kazakh source, Russian source) for every flow's texts.
        pub const FILES: &[(&str, &str, &str)] = &[$(
            (
                $name,
                include_str!(concat!("../../locales/kk/", $name, ".ftl")),
                include_str!(concat!("../../locales/ru/", $name, ".ftl")),
            ),
        )*];
    };
}

locale_files!["onboarding", "menu", "privacy", "input", "safety", "staff", "services"];

/// Both languages' texts, ready to render.
pub struct Texts {
    kk: FluentBundle<FluentResource>,
    ru: FluentBundle<FluentResource>,
    /// Variables every text may use, from configuration: see [`Duty::text_args`].
    globals: Vec<(&'static str, String)>,
}

impl Texts {
    /// Parses the embedded Fluent files. Fails only if a file in the repository is broken.
    pub fn load(duty: &Duty) -> anyhow::Result<Texts> {
        Ok(Texts { kk: bundle(Lang::Kk)?, ru: bundle(Lang::Ru)?, globals: duty.text_args() })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
        }
    }

    /// Renders one message. A missing id is a bug, not a user's fault: it is logged and
    /// the id shown, and the conversation goes on.
    pub fn render(&self, lang: Lang, msg: &Msg) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(msg.id).and_then(|m| m.value()) else {
            tracing::error!(id = msg.id, lang = lang.code(), "missing Fluent message");
            return msg.id.to_string();
        };
        let mut args = FluentArgs::new();
        for (name, value) in &self.globals {
            args.set(*name, value.clone());
        }
        for (name, value) in &msg.args {
            match value {
                Arg::Text(text) => args.set(*name, text.clone()),
                Arg::Msg(inner) => args.set(*name, self.render(lang, inner)),
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(id = msg.id, lang = lang.code(), ?errors, "Fluent formatting failed");
        }
        text.into_owned()
    }

    /// Renders a screen in `lang`, or in both languages when `lang` is unknown or the
    /// screen is bilingual (Kazakh first, the state language).
    pub fn outgoing(&self, lang: Option<Lang>, screen: &Screen) -> Outgoing {
        let langs: &[Lang] = match lang {
            Some(lang) if !screen.bilingual => &[lang],
            Some(Lang::Ru) => &[Lang::Ru, Lang::Kk],
            _ => &Lang::ALL,
        };
        let text = langs
            .iter()
            .map(|&l| screen.parts.iter().map(|p| self.render(l, p)).collect::<Vec<_>>().join("\n\n"))
            .collect::<Vec<_>>()
            .join("\n\n");
        let label_lang = lang.unwrap_or(Lang::ALL[0]);
        let buttons = screen
            .buttons
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| OutButton {
                        label: self.render(label_lang, &b.label),
                        data: b.action.encode(),
                        short: self.short(label_lang, &b.label),
                    })
                    .collect()
            })
            .collect();
        let list_button = self.render(label_lang, &Msg::new("list-button"));
        Outgoing { text, buttons, list_button, ..Outgoing::default() }
    }

    /// A label's short form, where its Fluent message has one (`.short`).
    fn short(&self, lang: Lang, msg: &Msg) -> Option<String> {
        let bundle = self.bundle(lang);
        let pattern = bundle.get_message(msg.id)?.get_attribute("short")?.value();
        let mut errors = Vec::new();
        Some(bundle.format_pattern(pattern, None, &mut errors).into_owned())
    }
}

fn bundle(lang: Lang) -> anyhow::Result<FluentBundle<FluentResource>> {
    let id: unic_langid::LanguageIdentifier = lang.code().parse()?;
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Telegram and WhatsApp show the bidi isolation marks as stray characters.
    bundle.set_use_isolating(false);
    for (name, kk, ru) in FILES {
        let source = match lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
        };
        let resource = FluentResource::try_new(source.to_string())
            .map_err(|(_, e)| anyhow::anyhow!("locales/{}/{name}.ftl: {e:?}", lang.code()))?;
        bundle.add_resource(resource).map_err(|e| anyhow::anyhow!("locales/{}/{name}.ftl: {e:?}", lang.code()))?;
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;
    use std::collections::{BTreeMap, BTreeSet};

    /// Message id → the variables it uses, for one Fluent source.
    fn signature(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(source).expect("Fluent file parses");
        let mut out = BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                out.insert(m.id.name.to_string(), vars);
            }
        }
        out
    }

    fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let ast::PatternElement::Placeable { expression } = el {
                expression_vars(expression, vars);
            }
        }
    }

    fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(i) => inline_vars(i, vars),
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, vars);
                for v in variants {
                    pattern_vars(&v.value, vars);
                }
            }
        }
    }

    fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                vars.insert(id.name.to_string());
            }
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
            _ => {}
        }
    }

    #[test]
    fn both_languages_have_the_same_ids_and_variables() {
        for (name, kk, ru) in FILES {
            let (kk, ru) = (signature(kk), signature(ru));
            assert!(!kk.is_empty(), "{name}.ftl is empty");
            let kk_ids: BTreeSet<_> = kk.keys().collect();
            let ru_ids: BTreeSet<_> = ru.keys().collect();
            assert_eq!(kk_ids, ru_ids, "{name}.ftl: ids differ between kk and ru");
            for (id, vars) in &kk {
                assert_eq!(Some(vars), ru.get(id), "{name}.ftl: {id} has other variables in ru");
            }
        }
    }

    /// Every kebab-case string literal in the code of `flows` (outside its tests), except a
    /// catalogue id turned into a String, names a message of the Fluent files, in both
    /// languages: a typo would show a parent the raw id.
    #[test]
    fn every_id_the_code_uses_exists() {
        let ids: BTreeSet<String> = FILES.iter().flat_map(|(_, kk, _)| signature(kk).into_keys()).collect();
        let is_id = |s: &str| {
            s.contains('-')
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        let mut used = BTreeSet::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                let code = source.split("#[cfg(test)]").next().unwrap_or_default();
                let mut rest = code;
                while let Some(start) = rest.find('"') {
                    let after = &rest[start + 1..];
                    let Some(end) = after.find('"') else { break };
                    let literal = &after[..end];
                    if is_id(literal) && !after[end + 1..].starts_with(".into()") {
                        used.insert((path.file_name().unwrap().to_string_lossy().to_string(), literal.to_string()));
                    }
                    rest = &after[end + 1..];
                }
            }
        }
        assert!(used.len() > 50, "the scan found too few ids: {used:?}");
        let missing: Vec<_> = used.iter().filter(|(_, id)| !ids.contains(id)).collect();
        assert!(missing.is_empty(), "ids the code uses but no Fluent file has: {missing:?}");
    }

    #[test]
    fn every_locale_file_on_disk_is_compiled_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../locales");
        for lang in ["kk", "ru"] {
            let mut on_disk: Vec<String> = std::fs::read_dir(root.join(lang))
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".ftl").map(str::to_string))
                .collect();
            on_disk.sort();
            let mut embedded: Vec<String> = FILES.iter().map(|(n, _, _)| n.to_string()).collect();
            embedded.sort();
            assert_eq!(on_disk, embedded, "locales/{lang}");
        }
    }

    #[test]
    fn short_labels_fit_a_whatsapp_button() {
        for (name, kk, ru) in FILES {
            for source in [kk, ru] {
                let resource = fluent_syntax::parser::parse(*source).expect("Fluent file parses");
                for entry in resource.body {
                    let ast::Entry::Message(m) = entry else { continue };
                    for attribute in m.attributes.iter().filter(|a| a.id.name == "short") {
                        let text: String = attribute
                            .value
                            .elements
                            .iter()
                            .map(|e| match e {
                                ast::PatternElement::TextElement { value } => *value,
                                _ => "",
                            })
                            .collect();
                        assert!(text.chars().count() <= 20, "{name}.ftl: {}.short is over 20 characters", m.id.name);
                    }
                }
            }
        }
    }

    #[test]
    fn texts_load_and_render_without_isolation_marks() {
        let texts = Texts::load(&Duty::default()).unwrap();
        let kk = texts.render(Lang::Kk, &Msg::new("lang-button-kk"));
        assert_eq!(kk, "Қазақша");
        let ru = texts.render(Lang::Ru, &Msg::new("mydata-consent-given").text("at", "22.11.2026 10:00"));
        assert!(ru.contains("22.11.2026 10:00") && !ru.contains('\u{2068}'), "{ru}");
    }
}

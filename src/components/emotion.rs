use yew::prelude::*;

use crate::announce::capitalised;
use crate::artwork::{self, NO_FACE};
use crate::state::Report;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The analysed live frame or photo; `None` while a photo is being analysed.
    pub report: Option<Report>,
    /// The labels and their emoji, in the order of the probabilities (empty until the models are loaded).
    pub labels: Vec<String>,
    pub emoji: Vec<String>,
}

/// The main face's emoji, label, confidence and one bar per emotion (`#emotion`, a stable test hook).
#[function_component]
pub fn EmotionPanel(props: &Props) -> Html {
    let faces = props.report.as_ref().map_or(0, |r| r.faces.len());
    let main = props.report.as_ref().and_then(Report::main_face);
    let (data_emotion, confidence) = match main {
        Some(f) => (f.label.clone(), f.confidence.clamp(0.0, 1.0)),
        None => ("none".to_string(), 0.0),
    };
    let uncertain = main.is_some_and(|f| f.uncertain);
    let big = main.map_or(NO_FACE, artwork::of_face);
    let words = match main {
        None => "No face".to_string(),
        Some(f) if f.uncertain => format!("Not sure (maybe {})", f.label),
        Some(f) => capitalised(&f.label),
    };
    let bars = props.labels.iter().enumerate().map(|(i, label)| {
        let p = main.and_then(|f| f.probabilities.get(i).copied()).unwrap_or(0.0).clamp(0.0, 1.0);
        let id = format!("bar-{label}");
        let top = main.is_some_and(|f| f.top == i);
        let emoji = props.emoji.get(i).map_or("", String::as_str);
        html! {
            <li class={classes!("bar", top.then_some("bar-top"))}>
                { picture(label, "bar-emoji", false, emoji) }
                <label class="bar-label" for={id.clone()}>{ label.clone() }</label>
                <meter id={id} min="0" max="1" low="0.34" high="0.67" optimum="1" value={format!("{p:.3}")}></meter>
                <span class="bar-value">{ format!("{:.0}%", p * 100.0) }</span>
            </li>
        }
    });
    html! {
        <section id="emotion" class={classes!("emotion", uncertain.then_some("uncertain"), main.is_none().then_some("empty"))}
            aria-labelledby="emotion-title"
            data-emotion={data_emotion}
            data-confidence={format!("{confidence:.3}")}
            data-faces={faces.to_string()}
            data-uncertain={uncertain.to_string()}>
            <h2 id="emotion-title" class="visually-hidden">{ "Your emotion" }</h2>
            <div class="big-emoji" aria-hidden="true">
                { picture(big, "big-picture", true, main.map_or("", |f| f.emoji.as_str())) }
            </div>
            <p class="emotion-label">{ words }</p>
            <p class="emotion-meta">
                if main.is_some() { { format!("{:.0}% sure", confidence * 100.0) } } else { { "\u{00a0}" } }
                if faces > 1 { { format!(" · {faces} faces") } }
            </p>
            <ul class="bars" aria-label="All seven emotions">{ for bars }</ul>
        </section>
    }
}

/// The emoji picture called `name` (compiled in, from a `data:` URL: no request), or the text `emoji` for a name
/// without a picture. `described`: its alt text says what it shows ("happy", "not sure"); else it is decorative
/// (alt=""), its label written beside it.
fn picture(name: &str, class: &'static str, described: bool, emoji: &str) -> Html {
    match (artwork::data_url(name), artwork::find(name)) {
        (Some(url), Some(art)) => {
            let alt = if described {
                art.words()
            } else {
                String::new()
            };
            html! { <img class={class} src={url} alt={alt} width="64" height="64" /> }
        }
        _ => html! { <span class={class} aria-hidden="true">{ emoji.to_string() }</span> },
    }
}

//! The HTML part as a real browser lays it out: headless Chromium opens the
//! digest, a small script measures it, and the test reads the measures.
//!
//! Chromium is installed by the README's test command (Debian package
//! `chromium`). Without it these tests fail and say how to install it: they
//! never pass without having looked.

use crate::common;

use std::fs;
use std::process::Command;

use common::browser::chromium;
use common::{breves, tempdir};
use serde_json::Value;

/// Measures the page once loaded. With `strip_styles`, every `<style>`
/// element is removed first, so only the inlined `style` attributes remain,
/// as in a mail client that drops `<style>`.
const PROBE: &str = r##"
<script>
window.addEventListener('load', () => {
  const strip = document.documentElement.dataset.strip === 'yes';
  if (strip) document.querySelectorAll('style').forEach(s => s.remove());
  const q = s => document.querySelector(s);
  const all = s => Array.from(document.querySelectorAll(s));
  const px = (el, prop) => parseFloat(getComputedStyle(el)[prop]);
  const anchors = all('a[href^="#"]').map(a => a.getAttribute('href').slice(1));
  const result = {
    viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    container: q('table.container')?.getBoundingClientRect().width ?? null,
    preheaderHeight: q('.preheader')?.getBoundingClientRect().height ?? null,
    preheaderDisplay: q('.preheader') && getComputedStyle(q('.preheader')).display,
    sections: all('h2.section-title').map(h => h.id),
    articleTitles: all('h3.article-title').length,
    smallestText: Math.min(...all('p, li').filter(e => e.closest('.preheader') === null).map(e => px(e, 'fontSize'))),
    highlightBackground: getComputedStyle(q('.highlight')).backgroundColor,
    mastheadBackground: getComputedStyle(q('.masthead')).backgroundColor,
    brokenAnchors: anchors.filter(id => !document.getElementById(id)),
    anchors: anchors.length,
    lang: document.documentElement.lang,
    hiddenHeadings: all('h1, h2, h3').filter(h => h.getBoundingClientRect().height === 0).length,
    scripts: all('script').length,
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
  };
  // WCAG contrast: of every text against the background behind it, and of
  // every visible border (a decorative rule) against the background on
  // either side of it.
  const rgba = c => (c.match(/[\d.]+/g) || []).map(Number);
  const luminance = c => {
    const [r, g, b] = rgba(c).slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const alpha = rgba(c)[3];
      if (c && (alpha === undefined || alpha > 0)) return c;
    }
    return result.dark ? 'rgb(0, 0, 0)' : 'rgb(255, 255, 255)';
  };
  const name = el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
  const visible = el => el.getClientRects().length > 0 && el.closest('.preheader') === null;
  let text = { ratio: 99, element: '' };
  for (const el of all('body *')) {
    if (!visible(el) || el.id === 'breves-result') continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = contrast(getComputedStyle(el).color, background(el));
    if (r < text.ratio) text = { ratio: r, element: name(el), text: el.textContent.trim().slice(0, 40) };
  }
  let rule = { ratio: 99, element: '' };
  for (const el of all('body *')) {
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
      if (parseFloat(style['border' + side + 'Width']) === 0 || style['border' + side + 'Style'] === 'none') continue;
      const color = style['border' + side + 'Color'];
      const r = Math.min(contrast(color, background(el)), contrast(color, background(el.parentElement)));
      if (r < rule.ratio) rule = { ratio: r, element: name(el) + ' ' + side.toLowerCase() };
    }
  }
  result.lowestText = text;
  result.lowestRule = rule;
  const pre = document.createElement('pre');
  pre.id = 'breves-result';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>
"##;

/// Opens `html` at `width` pixels and returns the probe's measures.
fn measure(html: &str, width: u32, strip_styles: bool) -> Value {
    measure_in(html, width, strip_styles, false)
}

/// The same, in the light scheme or the dark one.
fn measure_in(html: &str, width: u32, strip_styles: bool, dark: bool) -> Value {
    let dir = tempdir();
    let page = html
        .replacen(
            "<html ",
            if strip_styles {
                "<html data-strip=\"yes\" "
            } else {
                "<html data-strip=\"no\" "
            },
            1,
        )
        .replace("</body>", &format!("{PROBE}</body>"));
    let file = dir.path().join("digest.html");
    fs::write(&file, page).expect("write the page");
    let profile = dir.path().join("profile");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            if dark {
                "--force-dark-mode"
            } else {
                "--no-default-browser-check"
            },
            "--virtual-time-budget=3000",
            &format!("--window-size={width},900"),
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
        ])
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom.find("<pre id=\"breves-result\">").unwrap_or_else(|| {
        panic!(
            "no measures from Chromium: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let json = &dom[start + "<pre id=\"breves-result\">".len()..];
    let json = &json[..json.find("</pre>").expect("end of measures")];
    serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&"))
        .expect("JSON measures")
}

fn preview_html(issue: &str, interests: &str) -> String {
    let dir = tempdir();
    let run = breves([
        "preview",
        issue,
        "--interests",
        interests,
        "--out",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(run.ok(), "{run:?}");
    let html = fs::read_dir(dir.path())
        .expect("files")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .expect("an .html file");
    fs::read_to_string(html).expect("html")
}

#[test]
fn desktop_layout_is_600_pixels_and_complete() {
    let html = preview_html(common::ISSUE, "");
    let m = measure(&html, 1000, false);
    assert_eq!(m["container"], 600.0, "{m}");
    assert!(m["scrollWidth"].as_f64() <= m["viewport"].as_f64(), "{m}");
    assert_eq!(m["lang"], "fr");
    assert_eq!(
        m["sections"],
        serde_json::json!([
            "economie-numerique",
            "donnees-ia",
            "cybersecurite",
            "spatial",
            "nouvelles-technologies",
            "ecosysteme-tech"
        ])
    );
    assert_eq!(m["articleTitles"], 16, "{m}");
    assert_eq!(
        m["brokenAnchors"],
        serde_json::json!([]),
        "every sommaire link lands"
    );
    assert!(m["anchors"].as_u64() > Some(20), "{m}");
    assert_eq!(m["hiddenHeadings"], 0, "{m}");
    assert_eq!(m["preheaderHeight"], 0.0, "the preheader is hidden: {m}");
    assert!(m["smallestText"].as_f64() >= Some(13.0), "{m}");
}

#[test]
fn phone_layout_shrinks_without_sideways_scrolling() {
    let html = preview_html(common::SMALL_ISSUE, "");
    // Headless Chromium keeps windows at least 500 pixels wide: still a
    // phone for the stylesheet, whose small-screen rules start below 620.
    let m = measure(&html, 375, false);
    let viewport = m["viewport"].as_f64().expect("viewport");
    assert!(viewport < 620.0, "{m}");
    assert_eq!(
        m["container"].as_f64(),
        Some(viewport),
        "full width on a phone: {m}"
    );
    assert!(
        m["scrollWidth"].as_f64() <= m["viewport"].as_f64(),
        "nothing sticks out sideways on a phone: {m}"
    );
    assert!(m["smallestText"].as_f64() >= Some(13.0), "{m}");
}

#[test]
fn styles_hold_without_the_style_element() {
    // Mail clients that drop <style> still see the design: it is inlined.
    let html = preview_html(common::ISSUE, "spatial");
    let m = measure(&html, 1000, true);
    assert_eq!(m["container"], 600.0, "{m}");
    assert_eq!(m["highlightBackground"], "rgb(243, 243, 253)", "{m}");
    assert_eq!(m["mastheadBackground"], "rgb(0, 0, 145)", "{m}");
    assert_eq!(m["preheaderDisplay"], "none", "{m}");
    assert_eq!(m["sections"], serde_json::json!(["spatial"]));
    assert_eq!(m["scripts"], 1, "only the probe's own script runs");
}

#[test]
fn typed_html_never_becomes_markup() {
    let html = preview_html(common::SMALL_ISSUE, "");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "no javascript: link");
    let m = measure(&html, 1000, false);
    assert_eq!(m["scripts"], 1, "the typed <script> is text: {m}");
}

#[test]
fn every_text_and_rule_stands_out_in_light_and_dark() {
    // WCAG: 4.5:1 for text, 3:1 for what is not text (the rules: the
    // highlight's left border, the underline of section titles, the
    // footer's top border, quotes' borders).
    let html = preview_html(common::ISSUE, "");
    let small = preview_html(common::SMALL_ISSUE, "");
    for dark in [false, true] {
        for page in [&html, &small] {
            let m = measure_in(page, 1000, false, dark);
            assert_eq!(m["dark"], dark, "{m}");
            let text = m["lowestText"]["ratio"].as_f64().expect("a ratio");
            let rule = m["lowestRule"]["ratio"].as_f64().expect("a ratio");
            assert!(
                text >= 4.5,
                "dark {dark}: text at {text:.2}:1, {}",
                m["lowestText"]
            );
            assert!(
                rule >= 3.0,
                "dark {dark}: a rule at {rule:.2}:1, {}",
                m["lowestRule"]
            );
        }
    }
}

#[test]
fn a_phone_without_the_style_element_reads_it_all_without_scrolling_sideways() {
    // Gmail drops <style> for accounts it does not host: no media query,
    // only the inlined styles. Still full width, nothing sticking out,
    // nothing too small to read.
    let html = preview_html(common::ISSUE, "");
    let m = measure(&html, 375, true);
    let viewport = m["viewport"].as_f64().expect("viewport");
    assert!(viewport < 620.0, "{m}");
    assert_eq!(m["container"].as_f64(), Some(viewport), "{m}");
    assert!(
        m["scrollWidth"].as_f64() <= m["viewport"].as_f64(),
        "nothing sticks out sideways: {m}"
    );
    assert!(m["smallestText"].as_f64() >= Some(13.0), "{m}");
    assert!(m["lowestText"]["ratio"].as_f64() >= Some(4.5), "{m}");
}

#[test]
fn an_archive_page_reads_on_a_phone_and_a_desk_in_light_and_dark() {
    let site = tempdir();
    crate::archive::build(site.path());
    let page =
        fs::read_to_string(site.path().join("bnru68-260226-260403/index.html")).expect("the page");
    for (width, dark) in [(375, false), (375, true), (1200, false), (1200, true)] {
        let m = measure_in(&page, width, false, dark);
        assert_eq!(m["dark"], dark, "{m}");
        assert!(
            m["scrollWidth"].as_f64() <= m["viewport"].as_f64(),
            "nothing sticks out sideways at {width}: {m}"
        );
        assert_eq!(m["sections"].as_array().map(Vec::len), Some(6), "{m}");
        assert_eq!(m["brokenAnchors"], serde_json::json!([]), "{m}");
        // The sommaire's 23 links and each section's way back to it.
        assert_eq!(m["anchors"], 23 + 6, "{m}");
        assert_eq!(m["scripts"], 1, "only the probe's own script: {m}");
        assert!(m["smallestText"].as_f64() >= Some(13.0), "{m}");
        assert!(m["lowestText"]["ratio"].as_f64() >= Some(4.5), "{m}");
        assert!(m["lowestRule"]["ratio"].as_f64() >= Some(3.0), "{m}");
    }
}

#[test]
fn the_images_of_an_eml_show_as_a_mail_program_resolves_their_content_ids() {
    use base64::Engine as _;
    use mail_parser::MimeHeaders;
    let dir = tempdir();
    common::send(
        "tests/fixtures/images/issue.toml",
        "tests/fixtures/images/list.toml",
        dir.path(),
    );
    let bytes = fs::read(dir.path().join("zoe_at_example.org.eml")).expect("Zoé's digest");
    let message = common::parse(&bytes);
    let mut html = message.body_html(0).expect("html").into_owned();
    // As a mail program does: each `cid:` is the part of that Content-ID.
    let mut parts = 0;
    for part in &message.parts {
        let (Some(cid), Some(ct)) = (part.content_id(), part.content_type()) else {
            continue;
        };
        let data = format!(
            "data:{}/{};base64,{}",
            ct.ctype(),
            ct.subtype().unwrap_or_default(),
            base64::engine::general_purpose::STANDARD.encode(part.contents())
        );
        html = html.replace(&format!("\"cid:{cid}\""), &format!("\"{data}\""));
        parts += 1;
    }
    assert_eq!(parts, 3);
    assert!(!html.contains("cid:"), "every reference has its part");
    let probe = r#"<script>
window.addEventListener('load', () => {
  const shown = Array.from(document.images).map(i => ({
    alt: i.alt, complete: i.complete, natural: i.naturalWidth, width: i.getBoundingClientRect().width }));
  const pre = document.createElement('pre');
  pre.id = 'breves-images';
  pre.textContent = JSON.stringify(shown);
  document.body.appendChild(pre);
});
</script>"#;
    for width in [1000, 375] {
        let page = dir.path().join(format!("images-{width}.html"));
        fs::write(&page, html.replace("</body>", &format!("{probe}</body>"))).expect("written");
        let output = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--virtual-time-budget=3000",
                "--dump-dom",
            ])
            .arg(format!("--window-size={width},900"))
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join(format!("profile-{width}")).display()
            ))
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("Chromium runs");
        let dom = String::from_utf8_lossy(&output.stdout);
        let start = dom
            .find("<pre id=\"breves-images\">")
            .expect("the probe's result")
            + "<pre id=\"breves-images\">".len();
        let json = &dom[start..start + dom[start..].find("</pre>").expect("end")];
        let shown: Value =
            serde_json::from_str(&json.replace("&quot;", "\"").replace("&amp;", "&"))
                .expect("json");
        let shown = shown.as_array().expect("images");
        assert_eq!(shown.len(), 4, "{shown:?}");
        for image in shown {
            assert_eq!(image["complete"], true, "{image}");
            assert!(image["natural"].as_u64() > Some(0), "decoded: {image}");
            assert!(image["width"].as_f64() <= Some(480.0), "{image}");
            assert!(
                !image["alt"].as_str().unwrap_or_default().is_empty(),
                "{image}"
            );
        }
    }
}

"""Scripts that tell whether the focus shows where it lands, for the end-to-end tests."""

# The focus ring of static/style.css, or any other that a person can see.
FOCUS_SHOWN = """e => { const style = getComputedStyle(e);
    return e.matches(":focus-visible") && style.outlineStyle !== "none"
           && parseFloat(style.outlineWidth) > 0; }"""


# The contrast of the focused element's outline with the background it is drawn on (the outline
# stands 2 px outside the element: its parent's), which WCAG 1.4.11 wants at 3:1 at least.
FOCUS_CONTRAST = """e => {
    const rgba = c => c.match(/[\\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    let under = "rgb(255, 255, 255)";
    for (let p = e.parentElement; p; p = p.parentElement) {
        const color = getComputedStyle(p).backgroundColor;
        if (rgba(color).length < 4 || rgba(color)[3] > 0) { under = color; break; }
    }
    const [a, b] = [luminance(rgba(getComputedStyle(e).outlineColor)), luminance(rgba(under))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""

# Every element of the page a keyboard can reach whose focus does not show, or shows too faintly,
# each with what is wrong. Run it after a press of Tab, so that the browser shows the focus of
# what a script focuses as it would show a keyboard's.
FAINT_FOCUS = (
    """() => { const shown = """
    + FOCUS_SHOWN
    + """, contrast = """
    + FOCUS_CONTRAST
    + """;
    const faint = [];
    const reachable = "a[href], button, input:not([type=hidden]), select, textarea, summary,"
        + " [tabindex='0']";
    for (const e of document.querySelectorAll(reachable)) {
        e.focus();
        if (document.activeElement !== e) continue;  // hidden, or not focusable after all
        const what = e.outerHTML.slice(0, 90);
        if (!shown(e)) faint.push(`${what}: no focus ring`);
        else if (contrast(e) < 3) faint.push(`${what}: ${contrast(e).toFixed(2)}:1`);
    }
    document.activeElement.blur();
    return faint; }"""
)

/**
 * The portal's stylesheet. Theme it by overriding the custom properties in a stylesheet of your own
 * (`portalRoutes({ stylesheets })`); every color pair below meets WCAG AA contrast (4.5:1) on its background.
 */
export const PORTAL_CSS = `:root {
  --wp-font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --wp-mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  --wp-bg: #f6f7f9;
  --wp-surface: #ffffff;
  --wp-fg: #1b1f24;
  --wp-muted: #57606a;
  --wp-border: #8c959f;
  --wp-accent: #0b5cad;
  --wp-accent-fg: #ffffff;
  --wp-danger: #b3261e;
  --wp-danger-fg: #ffffff;
  --wp-ok: #116329;
  --wp-warn: #7a4d00;
  --wp-focus: #1f6feb;
  --wp-code-bg: #eef1f4;
  --wp-radius: 6px;
  --wp-gap: 1rem;
  --wp-max-width: 60rem;
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root {
    --wp-bg: #0d1117;
    --wp-surface: #161b22;
    --wp-fg: #e6edf3;
    --wp-muted: #a0aab4;
    --wp-border: #6e7681;
    --wp-accent: #4493f8;
    --wp-accent-fg: #0d1117;
    --wp-danger: #f47067;
    --wp-danger-fg: #0d1117;
    --wp-ok: #57ab5a;
    --wp-warn: #d29922;
    --wp-focus: #79c0ff;
    --wp-code-bg: #1f2630;
    color-scheme: dark;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-family: var(--wp-font); background: var(--wp-bg); color: var(--wp-fg); line-height: 1.5; }
body { margin: 0; }
h1, h2, h3 { line-height: 1.25; margin: 0; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.25rem; }
h3 { font-size: 1.05rem; }
p { margin: 0.25rem 0; }
code, .wp-mono, .wp-pre, .wp-where { font-family: var(--wp-mono); font-size: 0.875rem; }
code { background: var(--wp-code-bg); padding: 0 0.25em; border-radius: 3px; overflow-wrap: anywhere; }
a { color: var(--wp-accent); }

:focus-visible { outline: 3px solid var(--wp-focus); outline-offset: 2px; }
.wp-skip { position: absolute; left: 0.5rem; top: -3rem; background: var(--wp-surface); padding: 0.5rem; z-index: 10; }
.wp-skip:focus { top: 0.5rem; }
.wp-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.wp-header { background: var(--wp-surface); border-bottom: 1px solid var(--wp-border); padding: 0.75rem 0; }
.wp-header h1 { max-width: var(--wp-max-width); margin: 0 auto; padding: 0 var(--wp-gap); }
.wp-main { max-width: var(--wp-max-width); margin: 0 auto; padding: var(--wp-gap); }
.wp-main:focus, h2[tabindex="-1"]:focus { outline: none; }
.wp-bar { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; justify-content: space-between; margin: 0.5rem 0 1rem; }
.wp-muted { color: var(--wp-muted); }
.wp-status:empty { display: none; }
.wp-status { padding: 0.5rem 0.75rem; border-left: 4px solid var(--wp-ok); background: var(--wp-surface); margin: 0 0 1rem; }
.wp-alert { padding: 0.5rem 0.75rem; border-left: 4px solid var(--wp-danger); background: var(--wp-surface); margin: 0 0 1rem; }

button, .wp-button {
  font: inherit; display: inline-flex; align-items: center; justify-content: center; gap: 0.35rem;
  min-height: 2.5rem; padding: 0.4rem 0.9rem; border-radius: var(--wp-radius);
  border: 1px solid var(--wp-border); background: var(--wp-surface); color: var(--wp-fg);
  text-decoration: none; cursor: pointer;
}
button:hover, .wp-button:hover { border-color: var(--wp-fg); }
button:disabled { opacity: 0.6; cursor: progress; }
.wp-primary { background: var(--wp-accent); border-color: var(--wp-accent); color: var(--wp-accent-fg); }
.wp-danger { background: var(--wp-danger); border-color: var(--wp-danger); color: var(--wp-danger-fg); }
.wp-primary:hover, .wp-danger:hover { border-color: var(--wp-fg); }

input, textarea, select {
  font: inherit; color: var(--wp-fg); background: var(--wp-surface); width: 100%;
  border: 1px solid var(--wp-border); border-radius: var(--wp-radius); padding: 0.45rem 0.6rem; min-height: 2.5rem;
}
textarea { resize: vertical; tab-size: 2; }
input[type="checkbox"] { width: 1.25rem; height: 1.25rem; min-height: 0; margin: 0; accent-color: var(--wp-accent); }
[aria-invalid="true"] { border-color: var(--wp-danger); box-shadow: 0 0 0 1px var(--wp-danger); }

.wp-form, .wp-panel { background: var(--wp-surface); border: 1px solid var(--wp-border); border-radius: var(--wp-radius); padding: var(--wp-gap); margin-bottom: var(--wp-gap); }
.wp-field { margin: 0 0 1.1rem; border: 0; padding: 0; min-width: 0; }
.wp-field > label, .wp-label, legend { display: block; font-weight: 600; margin-bottom: 0.25rem; padding: 0; }
.wp-check { display: flex; align-items: center; gap: 0.5rem; }
.wp-check > label { margin: 0; }
.wp-row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-top: 0.5rem; }
.wp-row > input { flex: 1 1 12rem; width: auto; }
.wp-actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.5rem; }
.wp-error { color: var(--wp-danger); margin-top: 0.35rem; }
.wp-error p { margin: 0; }
.wp-where { margin: 0.35rem 0; padding: 0.5rem; background: var(--wp-code-bg); color: var(--wp-fg); border-radius: var(--wp-radius); overflow-x: auto; }
.wp-pre { margin: 0; padding: 0.75rem; background: var(--wp-code-bg); border-radius: var(--wp-radius); white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24rem; overflow: auto; }
.wp-secret { border-color: var(--wp-warn); border-width: 2px; }

.wp-events-list { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 0.15rem 1rem; max-height: 16rem; overflow: auto; margin-top: 0.5rem; padding: 0.25rem; border: 1px solid var(--wp-border); border-radius: var(--wp-radius); }
.wp-events-list:empty { display: none; }
.wp-selected { font-size: 0.9rem; overflow-wrap: anywhere; }
.wp-event { display: flex; gap: 0.5rem; align-items: flex-start; padding: 0.2rem 0; font-weight: 400; }
.wp-event input { margin-top: 0.15rem; flex: none; }
.wp-event small { display: block; color: var(--wp-muted); }

.wp-headers { display: grid; gap: 0.5rem; margin-bottom: 0.5rem; }
.wp-header-row { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr) auto; gap: 0.5rem; align-items: center; }

.wp-cards, .wp-log { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.75rem; }
.wp-card { background: var(--wp-surface); border: 1px solid var(--wp-border); border-radius: var(--wp-radius); padding: 0.75rem var(--wp-gap); display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 0.5rem 1rem; align-items: center; }
.wp-card h3 { font-size: 1.05rem; overflow-wrap: anywhere; }
.wp-card-stats { font-size: 0.8125rem; overflow-wrap: anywhere; }
.wp-card-url { font-family: var(--wp-mono); font-size: 0.875rem; color: var(--wp-muted); overflow-wrap: anywhere; }
.wp-card-side { display: flex; flex-direction: column; align-items: flex-end; gap: 0.35rem; }
.wp-badge { display: inline-block; font-size: 0.8rem; font-weight: 600; padding: 0.05rem 0.5rem; border-radius: 999px; border: 1px solid currentColor; }
.wp-badge-ok { color: var(--wp-ok); }
.wp-badge-failed, .wp-badge-disabled { color: var(--wp-danger); }
.wp-badge-failing { color: var(--wp-warn); }
.wp-badge-off { color: var(--wp-muted); }

.wp-switch { display: inline-flex; align-items: center; gap: 0.5rem; min-height: 2.5rem; padding: 0.25rem 0.6rem; }
.wp-switch-track { width: 2.5rem; height: 1.4rem; border-radius: 999px; background: var(--wp-border); position: relative; flex: none; }
.wp-switch-track::after { content: ""; position: absolute; top: 0.2rem; left: 0.2rem; width: 1rem; height: 1rem; border-radius: 50%; background: var(--wp-surface); transition: transform 0.15s; }
.wp-switch[aria-checked="true"] .wp-switch-track { background: var(--wp-ok); }
.wp-switch[aria-checked="true"] .wp-switch-track::after { transform: translateX(1.1rem); }
@media (prefers-reduced-motion: reduce) { .wp-switch-track::after { transition: none; } }

.wp-log > li { border: 1px solid var(--wp-border); border-radius: var(--wp-radius); padding: 0.5rem 0.75rem; }
.wp-log-head { display: flex; flex-wrap: wrap; gap: 0.35rem 0.75rem; align-items: center; }
.wp-log-head > button { margin-left: auto; }
.wp-log details { margin-top: 0.35rem; }
.wp-log summary { cursor: pointer; padding: 0.25rem 0; }
.wp-log h4 { font-size: 0.9rem; margin: 0.5rem 0 0.25rem; }
.wp-recover { margin-bottom: 0.75rem; }
.wp-filter { margin: 0 0 0.75rem; }
.wp-filter label { font-weight: 600; }
.wp-filter select { width: auto; }
.wp-more { margin-top: 0.75rem; }
.wp-recover label { font-weight: 600; }
.wp-recover input { flex: 1 1 14rem; }

.wp-dialog { border: 1px solid var(--wp-border); border-radius: var(--wp-radius); background: var(--wp-surface); color: var(--wp-fg); padding: var(--wp-gap); max-width: min(28rem, calc(100vw - 2rem)); }
.wp-dialog::backdrop { background: rgb(0 0 0 / 0.5); }
.wp-dialog h2 { margin-bottom: 0.5rem; }

@media (max-width: 40rem) {
  :root { --wp-gap: 0.75rem; }
  .wp-card { grid-template-columns: minmax(0, 1fr); }
  .wp-card-side { flex-direction: row; flex-wrap: wrap; align-items: center; justify-content: space-between; }
  .wp-header-row { grid-template-columns: minmax(0, 1fr) auto; }
  .wp-header-name { grid-column: 1 / -1; }
  .wp-headers { gap: 1rem; }
  .wp-actions > button { flex: 1 1 auto; }
}
`;

/**
 * The self-contained HTML page shell (inline CSS only) shared by both reports.
 */
import { escapeHtml } from "./format.ts"

const css = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1040px; color: #1d232a; background: #fff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; }
.meta { color: #57606a; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; }
th, td { border: 1px solid #d8dee4; padding: 3px 8px; text-align: left; }
th { background: #f3f5f7; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.headline { display: flex; gap: 16px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid #d8dee4; border-radius: 6px; padding: 10px 14px; min-width: 180px; background: #f8fafc; }
.card b { display: block; font-size: 22px; }
svg { display: block; margin: 8px 0 20px; }
svg .chart-title { font-weight: 600; font-size: 14px; fill: #1d232a; }
svg .label, svg .value, svg .legend { font-size: 11px; fill: #1d232a; }
svg .axis { stroke: #57606a; stroke-width: 1; }
`

/** Wraps body HTML into a complete page. */
export const htmlPage = (title: string, body: string): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>
${body}
</body>
</html>
`

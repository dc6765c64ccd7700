// The page Caddy answers with while an app is in maintenance, when the app ships none of its own.
// Plain HTML, no external assets (nothing else is served meanwhile).

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const DEFAULT_MAINTENANCE_MESSAGE = 'We are doing some maintenance. Please try again in a few minutes.';

export function renderMaintenancePage(message = DEFAULT_MAINTENANCE_MESSAGE): string {
  const text = escapeHtml(message);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Down for maintenance</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222;line-height:1.5}h1{font-size:1.5rem}</style>
</head>
<body>
<h1>Down for maintenance</h1>
<p>${text.replace(/\n/g, '<br>\n')}</p>
</body>
</html>
`;
}

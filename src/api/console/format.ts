// How times, durations, sizes and commands are written on the page. Pure, so the wording is
// tested once and the same everywhere.

// "2026-11-25T21:04:05.123456789Z" → "2026-11-25 21:04:05" in UTC: the journal's times are UTC
// and an operator comparing them with logs wants UTC too.
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}

// Milliseconds since the epoch, or NaN. Date.parse copes with nanoseconds in the browsers
// the console targets, but cutting them to milliseconds keeps it certain.
export function parseTime(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
}

function spell(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86400);
  const hours = Math.floor((totalSeconds % 86400) / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

// The wait left before a review expires, counted down each second: "4m 12s left", "expired".
export function formatWaitLeft(expiresIso: string, nowMs: number): string {
  const expiresMs = parseTime(expiresIso);
  if (Number.isNaN(expiresMs)) return '';
  const secondsLeft = Math.floor((expiresMs - nowMs) / 1000);
  if (secondsLeft <= 0) return 'expired';
  return `${spell(secondsLeft)} left`;
}

// How long ago something started: "3m 5s", for a live session's age.
export function formatAge(sinceIso: string, nowMs: number): string {
  const sinceMs = parseTime(sinceIso);
  if (Number.isNaN(sinceMs)) return '';
  return spell(Math.max(0, Math.floor((nowMs - sinceMs) / 1000)));
}

// A statement's duration in microseconds: "412 µs", "3.2 ms", "1.50 s".
export function formatDurationUs(microseconds: number | undefined): string {
  if (microseconds === undefined) return '';
  if (microseconds < 1000) return `${microseconds} µs`;
  if (microseconds < 1_000_000) return `${(microseconds / 1000).toFixed(1)} ms`;
  if (microseconds < 60_000_000) return `${(microseconds / 1_000_000).toFixed(2)} s`;
  return spell(Math.floor(microseconds / 1_000_000));
}

// Access durations arrive in seconds: "30m 0s" reads oddly, so whole units drop the zero.
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  return spell(seconds).replace(/ 0[smh]$/, '');
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// A command on one table line: whitespace runs (newlines included) become one space, and a
// long one ends with an ellipsis; the detail page has it whole.
export function oneLine(command: string | undefined, maxLength = 100): string {
  if (!command) return '';
  const flat = command.replace(/\s+/g, ' ').trim();
  return flat.length <= maxLength ? flat : `${flat.slice(0, maxLength - 1)}…`;
}

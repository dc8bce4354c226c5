export function when(iso: string | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

export function num(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return String(Math.round(value * 1000) / 1000);
}

export function minutes(value: number): string {
  return value >= 60 ? `${Math.floor(value / 60)} h ${value % 60} min` : `${value} min`;
}

export function seriesName(f: { eventSource: string; eventName: string; errorCode?: string }): string {
  return `${f.eventSource.replace(/\.amazonaws\.com$/, '')} ${f.eventName}${f.errorCode ? ` (${f.errorCode})` : ''}`;
}

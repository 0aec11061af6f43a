/** Wall-clock fields of an instant in a zone. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

export function localTime(timezone: string, ms: number): LocalTime {
  const fields: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(ms)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year!,
    month: fields.month!,
    day: fields.day!,
    hour: fields.hour!,
    minute: fields.minute!,
    second: fields.second!,
  };
}

/** How far the zone's clocks are ahead of UTC at that instant (whole seconds). */
export function zoneOffsetMs(at: number, timezone: string): number {
  const t = localTime(timezone, at);
  const shown = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return shown - Math.floor(at / 1000) * 1000;
}

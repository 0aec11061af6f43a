/** The short line a chat may show while a tool step runs ("searching the web…"). */

const MAX_SUBJECT_CHARS = 60;

function subject(argumentsJson: string, key: string): string | undefined {
  try {
    const args = JSON.parse(argumentsJson) as Record<string, unknown>;
    const value = args[key];
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    const oneLine = value.replace(/\s+/g, ' ').trim();
    const base = key === 'path' ? (oneLine.split('/').filter(Boolean).pop() ?? oneLine) : oneLine;
    return base.length > MAX_SUBJECT_CHARS ? `${base.slice(0, MAX_SUBJECT_CHARS - 1)}…` : base;
  } catch {
    return undefined;
  }
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

export function progressLine(tool: string, argumentsJson: string): string {
  switch (tool) {
    case 'web_fetch': {
      const host = hostOf(subject(argumentsJson, 'url'));
      return host ? `reading ${host}…` : 'searching the web…';
    }
    case 'read_file': {
      const name = subject(argumentsJson, 'path');
      return name ? `reading ${name}…` : 'reading a file…';
    }
    case 'write_file': {
      const name = subject(argumentsJson, 'path');
      return name ? `writing ${name}…` : 'writing a file…';
    }
    case 'list_files':
      return 'looking through my files…';
    case 'shell':
      return 'running a command…';
    case 'send_message':
      return 'sending a message…';
    case 'schedule_task':
    case 'list_tasks':
    case 'cancel_task':
      return 'checking the schedule…';
    default:
      return 'working…';
  }
}
